"""``manage.py refresh_catalogs``: the workers' catalogs brought up to date with the sources
(both domains, every language but English, what `makemessages` should not read left out), then
compiled. New entries come out empty: translate them in locale/<lang>/LC_MESSAGES/*.po and run
it again; tests/i18n fails until every entry is translated."""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

# The staff's pages and scripts are not translated (they are not worker-facing); the rest is
# tests, data and build output.
CATALOG_IGNORE = [
    "tests/*",
    "benchmarks/*",
    "var/*",
    "node_modules/*",
    "docs/*",
    "examples/*",
    "deploy/*",
    ".venv/*",
    "frontend/static/frontend/staff/*",
    "frontend/templates/frontend/staff/*",
    "frontend/staff/*",
]


class Command(BaseCommand):
    help = "Update locale/*/LC_MESSAGES/{django,djangojs}.po from the sources and compile them."

    def handle(self, *args, **options):
        languages = [code for code, _ in settings.LANGUAGES if code != "en"]
        for domain in ("django", "djangojs"):
            call_command(
                "makemessages",
                locale=languages,
                domain=domain,
                ignore_patterns=CATALOG_IGNORE,
                no_obsolete=True,
                add_location="file",
                verbosity=0,
            )
        call_command("compilemessages", locale=languages, ignore_patterns=[".venv"], verbosity=0)
        self.stdout.write(f"catalogs refreshed and compiled: {', '.join(languages)}")
