"""The current consensus of each task, each worker's estimated skill in a project, and the
admins' review decisions."""

from django.conf import settings
from django.db import models

from annotations.models import Project, Task

# ConsensusResult.method of a task an admin settled starts with this; batch re-scoring leaves
# such a task's label and confidence alone. A reopened task gets the crowd's method back.
REVIEWED_METHOD_PREFIX = "review"


def reviewed_method(action: str) -> str:
    """The ConsensusResult.method recording that an admin settled the task by ``action``."""
    return f"{REVIEWED_METHOD_PREFIX}_{action}"


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
    REOPEN = "reopen"  # undo: back to review, the workers' standing as the crowd left it


class ReviewDecision(models.Model):
    """An admin's decision on a task: who, when, what it decided and what it replaced.

    Append-only history: the newest decision of a task (highest ``version``) is in force, and
    ``supersedes`` links it to the one it replaced. Each decision is taken on, and bumps, the
    task's consensus version, so one task has at most one decision per version: two admins
    deciding on the same page store one decision between them.

    ``consensus_method`` and ``consensus_agreements`` keep what the crowd's consensus had set
    before any review (the result's method; each counted answer's agreement, null when the
    crowd had graded none), carried from decision to decision until a reopen restores them."""

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
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    replaced_state = models.CharField(max_length=10)
    replaced_label = models.JSONField(null=True, blank=True)
    replaced_confidence = models.FloatField(null=True, blank=True)
    consensus_method = models.CharField(max_length=40, blank=True)
    consensus_agreements = models.JSONField(
        default=dict, blank=True, help_text='{"<annotation id>": agreement or null}'
    )
    version = models.PositiveIntegerField(help_text="The ConsensusResult version decided upon.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["task", "version"], name="one_review_decision_per_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id}: {self.action} by {self.reviewer_id}"

    @property
    def settles(self) -> bool:
        """In force, this decision settles the task (anything but a reopen does)."""
        return self.action != ReviewAction.REOPEN


class CopyingSignal(models.Model):
    """Two workers of a project whose answers look copied (``algorithms.copying``), as the
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
