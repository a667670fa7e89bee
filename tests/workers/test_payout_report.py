"""``manage.py payout_report``: one CSV row per worker for a period; bad input exits non-zero
with one readable line."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.workers.helpers import answer, pay
from workers.models import PointsReason
from workers.payout import PayoutRow, payout_write_csv

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def report(*args: str) -> list[dict]:
    out = io.StringIO()
    call_command("payout_report", *args, stdout=out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_the_report_counts_answers_and_accepted_ones_in_the_period_and_points_made_visible(
    worker_clients, make_project
):
    # given worker 0 answering twice in the period (one accepted, paid in the period) and
    # once before it (paid inside it), and worker 1 answering once after it
    project = make_project(images=4)
    w0, w1 = worker_clients[:2]
    accepted = answer(w0, project, {"label": "car"}, at=DAY)
    answer(w0, project, {"label": "car"}, at=DAY + timedelta(days=1))
    early = answer(w0, project, {"label": "car"}, at=DAY - timedelta(days=5))
    answer(w1, project, {"label": "car"}, at=DAY + timedelta(days=20))
    pay(accepted, 10, visible_at=DAY + timedelta(hours=2))
    pay(early, 7, visible_at=DAY)
    pay(early, -2, visible_at=DAY + timedelta(days=1), reason=PointsReason.REVIEW_DEBIT)
    # when the report covers 10 to 12 November
    rows = report("--from", "2026-11-10", "--to", "2026-11-12")
    # then
    assert rows == [{"worker": w0.user.username, "answers": "2", "accepted": "1", "points": "15"}]


def test_the_crowd_simulators_accounts_are_never_on_the_report(worker_clients, make_project):
    project = make_project(images=2)
    real, bot = worker_clients[:2]
    bot.user.profile.simulated = True
    bot.user.profile.save(update_fields=["simulated"])
    for client in (real, bot):
        pay(answer(client, project, {"label": "car"}, at=DAY), 10, visible_at=DAY)
    rows = report("--from", "2026-11-10", "--to", "2026-11-10")
    assert [row["worker"] for row in rows] == [real.user.username]


def test_consecutive_periods_pay_each_ledger_row_once(worker_client, make_project):
    project = make_project(images=2)
    first = answer(worker_client, project, {"label": "car"}, at=DAY)
    pay(first, 10, visible_at=DAY + timedelta(days=1, hours=10))  # decided on the 11th
    split = [
        report("--from", "2026-11-10", "--to", "2026-11-10"),
        report("--from", "2026-11-11", "--to", "2026-11-11"),
    ]
    assert [rows[0]["points"] for rows in split] == ["0", "10"]
    assert [rows[0]["answers"] for rows in split] == ["1", "0"]


def test_an_empty_period_has_the_header_only():
    out = io.StringIO()
    call_command("payout_report", "--from", "2020-01-01", "--to", "2020-01-31", stdout=out)
    assert out.getvalue() == "worker,answers,accepted,points\n"


def test_usernames_that_a_spreadsheet_would_run_are_quoted():
    out = io.StringIO()
    payout_write_csv([PayoutRow("=cmd", 1, 1, 5), PayoutRow("+1", 0, 0, 0)], out)
    assert out.getvalue().splitlines()[1:] == ["'=cmd,1,1,5", "'+1,0,0,0"]


def test_the_report_can_be_written_to_a_file(tmp_path):
    target = tmp_path / "payout.csv"
    call_command(
        "payout_report", "--from", "2026-11-01", "--to", "2026-11-30", "--output", str(target)
    )
    assert target.read_text().startswith("worker,answers,accepted,points")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["--from", "2026-13-01", "--to", "2026-12-31"],
            "--from: expected a date written YYYY-MM-DD",
        ),
        (["--from", "2026-11-01", "--to", "yesterday"], "--to: expected a date"),
        (["--from", "2026-11-30", "--to", "2026-11-01"], "is before --from"),
    ],
)
def test_bad_input_exits_non_zero_with_one_readable_line(args, says):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    done = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", "payout_report", *args],
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert says in lines[0]
    assert done.stdout == ""
