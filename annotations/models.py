"""Projects, tasks (one image each), assignments (leases) and annotations (submitted answers)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from sebenzai.common.models import TimeStampedModel


class ProjectKind(models.TextChoices):
    CLASSIFICATION = "classification"
    BBOX = "bbox"
    POLYGON = "polygon"
    MODERATION = "moderation"


class TaskOrder(models.TextChoices):
    """Which open task a worker gets next. ``model_doubt``: the tasks a model is least sure of
    first (Task.model_doubt), so a limited budget of people goes where the model is wrong."""

    NEAREST_COMPLETION = "nearest_completion"
    MODEL_DOUBT = "model_doubt"


class ProjectStatus(models.TextChoices):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    DONE = "done"


class Project(TimeStampedModel):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="projects"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=ProjectKind.choices)
    labels = models.JSONField(default=list, help_text='[{"name": "car", "color": "#e6194b"}, ...]')
    instructions = models.TextField(blank=True, default="")
    # The requester's wording per worker language, each part optional; the original is the
    # fallback (annotations/translations.py): {"fr": {"instructions": "...", "labels": {"car": "voiture"}}}
    translations = models.JSONField(default=dict, blank=True)
    redundancy_min = models.PositiveSmallIntegerField(default=3)
    redundancy_max = models.PositiveSmallIntegerField(default=5)
    acceptance_threshold = models.FloatField(default=0.9)
    iou_threshold = models.FloatField(default=0.5)
    gold_ratio = models.FloatField(default=0.1)
    points_per_task = models.PositiveIntegerField(default=10)
    # Moderation protects the people doing it: at most this many tasks per worker per day (None: no cap).
    moderation_daily_cap = models.PositiveIntegerField(null=True, blank=True)
    task_order = models.CharField(
        max_length=20, choices=TaskOrder.choices, default=TaskOrder.NEAREST_COMPLETION
    )
    # Accept a credible model's sure prediction without people; this share of those tasks
    # still goes to people as an audit of the model (consensus/model_votes.py).
    model_auto_accept = models.BooleanField(default=False)
    model_audit_share = models.FloatField(default=0.05)
    # Pre-labelling: the worker's tool opens with a model's prediction (Task.proposal) to edit.
    prelabel = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=ProjectStatus.choices, default=ProjectStatus.DRAFT
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(redundancy_min__gte=1) & Q(redundancy_max__gte=F("redundancy_min")),
                name="project_redundancy_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def label_names(self) -> list[str]:
        return [label["name"] for label in self.labels]


class TaskState(models.TextChoices):
    OPEN = "open"
    ACCEPTED = "accepted"
    REVIEW = "review"
    REJECTED = "rejected"


class Task(TimeStampedModel):
    """One image to label. ``slots_taken`` counts live leases plus submitted answers, so the
    next-task query can find open slots without a subquery; it only moves under the row lock."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    image = models.CharField(max_length=200, help_text="Path under MEDIA_ROOT, named by sha256.")
    sha256 = models.CharField(max_length=64)
    image_format = models.CharField(max_length=10)
    original_name = models.CharField(max_length=255, blank=True, default="")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    metadata = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=TaskState.choices, default=TaskState.OPEN)
    target_redundancy = models.PositiveSmallIntegerField()
    slots_taken = models.PositiveIntegerField(default=0)
    answers_count = models.PositiveIntegerField(default=0)
    accepted_label = models.JSONField(null=True, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    is_gold = models.BooleanField(default=False)
    gold_answer = models.JSONField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # How unsure the models that predicted this task are, in [0, 1] (predictions set it through
    # task_states.tasks_doubt_set); None: no model has predicted it.
    model_doubt = models.FloatField(null=True, blank=True)
    # Auto-accept: True for a task drawn as an audit of the model (people decide it without the
    # model's vote), False for one the model was let decide; None: neither came up.
    model_audit = models.BooleanField(null=True, blank=True)
    accepted_by_model = models.BooleanField(default=False)
    # Pre-labelling: the latest model version's prediction, less its scores and the shapes it is
    # not sure of, as the worker's tool opens with it (set through task_states.tasks_propose).
    proposal = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "sha256"], name="one_task_per_image"),
            models.CheckConstraint(
                condition=Q(is_gold=True) | Q(slots_taken__lte=F("target_redundancy")),
                name="task_slots_within_target",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "state", "is_gold"], name="task_pick_idx"),
            # Serves the next-task query in its own order: open slots first, then age.
            models.Index(
                F("project"),
                F("target_redundancy") - F("slots_taken"),
                F("created_at"),
                F("id"),
                condition=Q(state="open", is_gold=False),
                name="task_open_slots_idx",
            ),
            # "Has every task of the project a proposal?" is asked on each lease of a
            # pre-labelled project: this answers it without reading the tasks that have one.
            models.Index(
                fields=["project"], condition=Q(proposal__isnull=True), name="task_no_proposal_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}:{self.sha256[:12]}"


class AssignmentState(models.TextChoices):
    LEASED = "leased"
    SUBMITTED = "submitted"
    EXPIRED = "expired"
    SKIPPED = "skipped"


class Assignment(TimeStampedModel):
    """A lease of a task to a worker. A worker never holds two assignments of one task."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="assignments")
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    state = models.CharField(
        max_length=10, choices=AssignmentState.choices, default=AssignmentState.LEASED
    )
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # The lease showed the task's proposal (pre-labelling), so an answer equal to it kept it.
    proposal_shown = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["task", "worker"], name="one_assignment_per_worker_task"
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(state="leased"), name="assignment_live_lease_idx"
            ),
            models.Index(fields=["worker", "state"], name="assignment_worker_state_idx"),
        ]


class ScoreState(models.TextChoices):
    PENDING = "pending"
    SCORED = "scored"
    FAILED = "failed"


class Annotation(TimeStampedModel):
    """A submitted answer. ``score_state`` is the outbox: pending rows are (re)enqueued by a sweeper."""

    assignment = models.OneToOneField(
        Assignment, on_delete=models.CASCADE, related_name="annotation"
    )
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="annotations")
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotations"
    )
    payload = models.JSONField()
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    agreement = models.FloatField(null=True, blank=True)
    gold_grade = models.FloatField(null=True, blank=True)
    # The answer is the proposal it was shown, unchanged: not independent of the model's vote.
    kept_proposal = models.BooleanField(default=False)
    score_state = models.CharField(
        max_length=10, choices=ScoreState.choices, default=ScoreState.PENDING
    )
    score_attempts = models.PositiveSmallIntegerField(default=0)
    # When the latest scoring attempt began: a lease on the attempt, so the sweeper never sends a
    # second job while one may still be running (it cannot outlive the Celery hard time limit).
    score_started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(score_state="pending"),
                name="annotation_pending_idx",
            ),
            models.Index(fields=["worker", "created_at"], name="annotation_worker_idx"),
        ]


class ProjectBlock(models.Model):
    """A worker barred from a project, by an admin or automatically (``blocked_by`` empty, the
    rule in ``reason``): they get no more of its tasks, and their answers there no longer count
    in its consensus."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="blocks")
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_blocks"
    )
    blocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="The admin who blocked; empty for an automatic suspension.",
    )
    reason = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "worker"], name="one_block_per_worker"),
        ]

    def __str__(self) -> str:
        return f"{self.worker_id} blocked from {self.project_id}"
