"""``manage.py payout_report --from 2026-11-01 --to 2026-11-30 [--output file.csv]``"""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from workers.payout import payout_rows, payout_write_csv


def parse_day(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{option}: expected a date written YYYY-MM-DD, got {value!r}.") from exc


class Command(BaseCommand):
    help = "CSV of worker, answers, accepted, points for a period of whole days (both included)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
        parser.add_argument("--output", help="write here instead of standard output")

    def handle(self, *args, **options):
        start, end = parse_day("--from", options["start"]), parse_day("--to", options["end"])
        if end < start:
            raise CommandError(f"--to ({end}) is before --from ({start}).")
        rows = payout_rows(start=start, end=end)
        if options["output"]:
            with open(options["output"], "w", newline="", encoding="utf-8") as out:
                payout_write_csv(rows, out)
        else:
            payout_write_csv(rows, self.stdout)
