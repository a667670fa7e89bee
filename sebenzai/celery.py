"""The Celery application; its configuration lives in settings under the CELERY_ namespace."""

import os
import sys
from pathlib import Path

from celery import Celery

from sebenzai.observability.jobs import signals_connect

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sebenzai.settings")
if Path(sys.argv[0]).name == "celery":  # a worker or beat, not a web process importing the app
    from sebenzai.startup import settings_or_exit

    settings_or_exit()

app = Celery("sebenzai")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Request ids into the jobs a request causes, the workers' JSON logs, failed jobs counted.
signals_connect()
