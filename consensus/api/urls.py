"""Staff-only API under /api/v1/staff/: dashboards' figures, the review queue, worker blocks,
scoring retries of quarantined tasks, and the health of the database, cache and broker."""

from django.urls import path

from . import views as staff

urlpatterns = [
    path("projects/<uuid:project_id>/dashboard/", staff.dashboard, name="staff-dashboard"),
    path("projects/<uuid:project_id>/review/", staff.queue, name="staff-review-queue"),
    path("projects/<uuid:project_id>/workers/", staff.workers, name="staff-workers"),
    path(
        "projects/<uuid:project_id>/workers/<int:worker_id>/block/",
        staff.block,
        name="staff-worker-block",
    ),
    path("tasks/<uuid:task_id>/review/", staff.review, name="staff-task-review"),
    path(
        "tasks/<uuid:task_id>/scoring/retry/",
        staff.scoring_retry,
        name="staff-task-scoring-retry",
    ),
    path("health/", staff.health, name="staff-health"),
]
