from celery import shared_task

from .exports import tasks as _export_tasks  # noqa: F401 - registers exports.* tasks
from .services.assignments import leases_expire


@shared_task(name="annotations.expire_leases", acks_late=True)
def expire_leases_task() -> int:
    return leases_expire()
