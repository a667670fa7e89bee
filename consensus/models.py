"""The current consensus of each task and each worker's estimated skill in a project."""

from django.conf import settings
from django.db import models

from annotations.models import Project, Task


class Decision(models.TextChoices):
    ACCEPT = "accept"
    MORE = "more"  # ask for one more answer
    REVIEW = "review"
    WAIT = "wait"  # not enough answers yet


class ConsensusResult(models.Model):
    """One row per task, rewritten on every scoring; ``version`` counts the rewrites."""

    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="consensus")
    label = models.JSONField(null=True)
    confidence = models.FloatField()
    method = models.CharField(max_length=40)
    decision = models.CharField(max_length=10, choices=Decision.choices)
    contributors = models.JSONField(default=list, help_text='[{"annotation", "worker", "weight"}]')
    answers = models.PositiveIntegerField()
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.task_id}: {self.decision} ({self.confidence:.2f})"


class WorkerSkill(models.Model):
    """Beta posterior over a worker's accuracy in one project.

    ``alpha``/``beta`` include the prior; gold grades add a strong count, agreement a weak one."""

    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="skills"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="skills")
    alpha = models.FloatField()
    beta = models.FloatField()
    gold_correct = models.PositiveIntegerField(default=0)
    gold_total = models.PositiveIntegerField(default=0)
    agreed = models.PositiveIntegerField(default=0)
    disagreed = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["worker", "project"], name="one_skill_per_worker_project"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.worker_id}@{self.project_id}: {self.accuracy:.2f}"

    @property
    def accuracy(self) -> float:
        return self.alpha / (self.alpha + self.beta)


class ReviewAction(models.TextChoices):
    ACCEPT_FUSED = "accept_fused"
    PICK = "pick"  # one worker's answer becomes the label
    EDIT = "edit"  # the admin's own shapes or class
    REJECT = "reject"  # the image is unusable: no label


class ReviewDecision(models.Model):
    """An admin's settlement of a task: who, when, what it decided and what it replaced.

    Append-only; the task's accepted label is the decision's ``label``."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="review_decisions")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_decisions"
    )
    action = models.CharField(max_length=20, choices=ReviewAction.choices)
    label = models.JSONField(null=True, blank=True)
    picked_annotation = models.ForeignKey(
        "annotations.Annotation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    replaced_state = models.CharField(max_length=10)
    replaced_label = models.JSONField(null=True, blank=True)
    replaced_confidence = models.FloatField(null=True, blank=True)
    version = models.PositiveIntegerField(help_text="The ConsensusResult version decided upon.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            # One settlement per task: the points ledger holds one review credit or debit per
            # answer, so a second settlement could not be paid exactly.
            models.UniqueConstraint(fields=["task"], name="one_review_decision_per_task"),
        ]

    def __str__(self) -> str:
        return f"{self.task_id}: {self.action} by {self.reviewer_id}"


class CopyingSignal(models.Model):
    """Two workers of a project whose answers look copied (``algorithms.collusion``), as the
    last batch re-score found them: evidence for an admin, never a ban by itself. One row per
    pair, ``worker`` the lower id; rewritten only when the evidence moves."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="copying_signals")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    shared = models.PositiveIntegerField(help_text="Tasks both answered.")
    unusual = models.PositiveIntegerField(help_text="Shared tasks where one gave a lone answer.")
    twins = models.PositiveIntegerField(help_text="Unusual tasks where their answers matched.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "worker", "partner"], name="one_copying_signal_per_pair"
            ),
            models.CheckConstraint(
                condition=models.Q(worker__lt=models.F("partner")), name="copying_pair_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.worker_id}~{self.partner_id}@{self.project_id}: {self.twins}/{self.unusual}"
