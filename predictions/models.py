"""A model version of a project, and its predictions on the project's tasks."""

from django.conf import settings
from django.db import models

from annotations.models import Project, Task
from sebenzai.common.models import TimeStampedModel

MAX_MODEL_NAME = 100


class ModelVersion(TimeStampedModel):
    """One version of one model, named ``name@version`` as its owner posts it.

    ``voter`` is the account the model votes as in consensus: a disabled account (it cannot sign
    in) whose WorkerSkill in the project is the model's measured skill, so the model is weighed,
    graded on gold and shown on the dashboards exactly like a person, and never paid."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="model_versions")
    name = models.CharField(max_length=MAX_MODEL_NAME)
    voter = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="model_version"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="one_model_name_per_project")
        ]

    def __str__(self) -> str:
        return self.name


class Prediction(TimeStampedModel):
    """A model's answer for a task, with a score on the class or each shape.

    ``gold_grade`` is set once the prediction on a gold task is graded, ``agreement`` once the
    task it voted on is accepted; each moves the model's skill once, as for a person's answer."""

    model = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="predictions")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="predictions")
    payload = models.JSONField()
    top_score = models.FloatField()  # the class's score, or the highest shape score (1 if none)
    gold_grade = models.FloatField(null=True, blank=True)
    agreement = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "task"], name="one_prediction_per_model_task")
        ]

    def __str__(self) -> str:
        return f"{self.model} on {self.task_id}"
