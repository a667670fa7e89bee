"""``manage.py demo_images --kind classification --count 6 --out samples [--zip frames.zip]``:
pictures from the demo's generator (``devtools/demo.py``) to try an upload with, and the truth
each was drawn with (``truth.json``, by file name), e.g. to set gold answers."""

from __future__ import annotations

import json
import random
import zipfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from devtools.demo import GENERATORS, distinct_images

MAX_COUNT = 1000
TRUTH = "truth.json"


class Command(BaseCommand):
    help = (
        "Write PNGs drawn by the demo's generator, with their truth in truth.json (and, with "
        "--zip, a zip of the PNGs), for trying uploads."
    )

    def add_arguments(self, parser):
        # Checked in handle() rather than by argparse, so a mistake is one CommandError line.
        parser.add_argument("--kind", default="classification", help=" | ".join(GENERATORS))
        parser.add_argument("--count", default="6", help=f"how many images, 1 to {MAX_COUNT}")
        parser.add_argument("--out", help="folder to write the PNGs and truth.json to")
        parser.add_argument("--zip", dest="zip_path", help="also write a zip of the PNGs here")
        parser.add_argument("--seed", default="0", help="another seed, other pictures")

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        usage_error = parser.error

        def error(message):  # an unknown option: one line, not the whole usage
            if not parser.called_from_command_line:
                usage_error(message)
            parser.exit(2, f"CommandError: {message} (see --help)\n")

        parser.error = error
        return parser

    def handle(self, *args, **options):
        kind, count, seed, out, zip_path = _checked(options)
        generate = GENERATORS[kind]
        rng = random.Random(f"{kind}-{seed}")  # noqa: S311 - demo pictures
        drawn = distinct_images(generate, rng, count)
        images = [
            (f"{kind}-{i:03d}.png", content, truth) for i, (content, truth) in enumerate(drawn)
        ]
        try:
            out.mkdir(parents=True, exist_ok=True)
            for name, content, _ in images:
                (out / name).write_bytes(content)
            truths = {name: truth for name, _, truth in images}
            (out / TRUTH).write_text(json.dumps(truths, indent=1) + "\n", encoding="utf-8")
            if zip_path is not None:
                with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as archive:
                    for name, content, _ in images:
                        archive.writestr(name, content)
        except OSError as exc:
            raise CommandError(f"could not write: {exc.strerror or exc} ({exc.filename})") from exc
        self.stdout.write(
            f"Wrote {len(images)} {kind} images to {out}/ and their truth to {out / TRUTH}"
        )
        if zip_path is not None:
            self.stdout.write(f"Wrote {zip_path} ({zip_path.stat().st_size:,} bytes)")


def _checked(options) -> tuple[str, int, str, Path, Path | None]:
    kind = options["kind"]
    if kind not in GENERATORS:
        raise CommandError(f"--kind: expected one of {', '.join(GENERATORS)}, got {kind!r}.")
    raw = str(options["count"])
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_COUNT:
        raise CommandError(f"--count: expected a whole number from 1 to {MAX_COUNT}, got {raw!r}.")
    if not options["out"]:
        raise CommandError("--out: give the folder to write the images to.")
    out = Path(options["out"])
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out: {out} exists and is not a folder.")
    zip_path = Path(options["zip_path"]) if options["zip_path"] else None
    if zip_path is not None:
        if zip_path.suffix.lower() != ".zip":
            raise CommandError(
                f"--zip: expected a file name ending in .zip, got {str(zip_path)!r}."
            )
        if zip_path.is_dir():
            raise CommandError(f"--zip: {zip_path} is a folder.")
        if not zip_path.absolute().parent.is_dir():
            raise CommandError(f"--zip: the folder {zip_path.absolute().parent} does not exist.")
    return kind, int(raw), str(options["seed"]), out, zip_path
