"""Accounts: a profile for each, with the role that says whether it labels or commissions work.

The profile's table was made by the workers app and keeps its name (``db_table``);
accounts/migrations/0001 only takes it over in Django's state."""

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    WORKER = "worker"
    REQUESTER = "requester"


class WorkerProfile(models.Model):
    """Every account has one; ``role`` says whether it labels or commissions work.
    Admins are Django staff whatever their role."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.WORKER)
    daily_target = models.PositiveIntegerField(default=50)
    created_at = models.DateTimeField(auto_now_add=True)
    # The name as a reader sees it (accounts/usernames.py): unique, so no account can pass for
    # another with look-alike letters. Empty for accounts made outside user_create.
    name_skeleton = models.CharField(max_length=300, unique=True, null=True, blank=True)
    # An account of the crowd simulator (a development tool): never on the public leaderboard.
    simulated = models.BooleanField(default=False)

    class Meta:
        db_table = "workers_workerprofile"

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"
