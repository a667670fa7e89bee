from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role
from accounts.services import user_create
from sebenzai.common.errors import DomainError


class Command(BaseCommand):
    help = "Create a requester account (requesters cannot sign themselves up)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default="")

    def handle(self, *args, **options):
        try:
            user = user_create(
                username=options["username"],
                password=options["password"],
                email=options["email"],
                role=Role.REQUESTER,
            )
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from exc
        self.stdout.write(f"Requester {user.username} created.")
