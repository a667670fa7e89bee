"""The Celery application; its configuration lives in settings under the CELERY_ namespace."""

import os

from celery import Celery

from sebenzai.observability.jobs import signals_connect

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sebenzai.settings")

app = Celery("sebenzai")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Request ids into the jobs a request causes, the workers' JSON logs, failed jobs counted.
signals_connect()
