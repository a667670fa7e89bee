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
