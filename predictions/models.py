"""A model version of a project, its predictions on the project's tasks, and the ONNX file that
makes them here when the requester uploaded one."""

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
    # Its gold record per class it predicted (classification, moderation): {class: [right,
    # graded]}, so a model that confuses one class weighs less when it says that class.
    class_record = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="one_model_name_per_project")
        ]

    def __str__(self) -> str:
        return self.name


class Prediction(TimeStampedModel):
    """A model's answer for a task, with a score on the class or each shape.

    ``gold_grade`` is set once the prediction on a gold task is graded (moving the model's
    skill as a person's gold answer does), ``agreement`` once the task it voted on, or was
    audited on, is accepted (only an audit moves its skill: consensus/services.py)."""

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


class OnnxModelState(models.TextChoices):
    PENDING = "pending"  # stored and checked at upload; no worker has loaded it yet
    READY = "ready"  # a worker loaded it: it runs on the project's new tasks
    FAILED = "failed"  # a worker could not load it (last_error says why); it is not run again


class OnnxModel(TimeStampedModel):
    """An uploaded ONNX file that makes its model version's predictions here (predictions/runs.py).

    ``spec`` holds the ModelSpec's fields as the requester declared them (task, input_size,
    class_labels, score_threshold, iou_threshold, mean, std). The file is stored by content as
    ``models/<sha256>.onnx``, under MEDIA_ROOT or in the object store (predictions/model_files.py),
    and read back only if its digest still matches. ``running_until`` is the lease of the one job running it: a second job
    (the beat's, a redelivery) finds it held and leaves, so batches never run twice at once."""

    version = models.OneToOneField(ModelVersion, on_delete=models.CASCADE, related_name="onnx")
    spec = models.JSONField()
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    state = models.CharField(
        max_length=10, choices=OnnxModelState.choices, default=OnnxModelState.PENDING
    )
    last_error = models.CharField(max_length=500, blank=True, default="")
    running_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.version} (ONNX)"


class OnnxRunFailure(TimeStampedModel):
    """A task the model could not predict (its image unreadable, the run failed, or the output
    not a valid answer for the task): counted, and not tried again by this model. The unique
    constraint keeps a retried batch from counting it twice."""

    model = models.ForeignKey(OnnxModel, on_delete=models.CASCADE, related_name="failures")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="onnx_failures")
    code = models.CharField(max_length=40)
    message = models.CharField(max_length=500)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "task"], name="one_onnx_failure_per_task")
        ]

    def __str__(self) -> str:
        return f"{self.model} failed on {self.task_id}: {self.code}"
