"""The append-only points ledger: what workers earn for their answers."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class PointsReason(models.TextChoices):
    ACCEPTED = "accepted"  # the answer agreed with the accepted consensus
    GOLD_CORRECT = "gold_correct"
    # An admin's review decision settled (or reopened) the task differently: the difference
    # between what the answer held and what it now earns, paid or taken back once per decision.
    REVIEW_CREDIT = "review_credit"
    REVIEW_DEBIT = "review_debit"


class PointsEntry(models.Model):
    """Never updated or deleted; a worker's balance is the sum of their rows.

    One row per (annotation, reason), except review adjustments that name their decision: one
    per (annotation, reason, review decision), since each decision pays its own difference.
    Either way a retried job or decision pays nothing more (the inserts ignore conflicts)."""

    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="points"
    )
    annotation = models.ForeignKey(
        "annotations.Annotation", on_delete=models.PROTECT, related_name="points"
    )
    reason = models.CharField(max_length=20, choices=PointsReason.choices)
    points = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Points count in totals from this moment. Gold awards are shown after a random delay, so a
    # worker cannot tell a gold task by points appearing right after their answer.
    visible_at = models.DateTimeField(default=timezone.now)
    # The id of the consensus ReviewDecision a review adjustment pays, and null on every other
    # row. A plain id, not a foreign key: the ledger does not depend on the consensus app.
    review_decision = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["annotation", "reason"],
                condition=models.Q(review_decision__isnull=True),
                name="one_award_per_reason",
            ),
            models.UniqueConstraint(
                fields=["annotation", "reason", "review_decision"],
                condition=models.Q(review_decision__isnull=False),
                name="one_review_award_per_decision",
            ),
        ]
        indexes = [models.Index(fields=["worker", "created_at"], name="points_worker_idx")]

    def __str__(self) -> str:
        return f"{self.worker_id} {self.reason} {self.points:+d}"
