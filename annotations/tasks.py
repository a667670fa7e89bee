from celery import shared_task

from sebenzai import jobs

from .services.assignments import leases_expire


@shared_task(name=jobs.EXPIRE_LEASES, acks_late=True)
def expire_leases_task() -> int:
    return leases_expire()
