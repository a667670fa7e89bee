"""Starting a long-running process (gunicorn's master, a Celery worker or beat): the settings are
read once, up front, so a configuration mistake stops it with one line naming the variable, as
``manage.py`` does, instead of a traceback from every worker that tries to boot."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured


def settings_or_exit() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sebenzai.settings")
    from django.conf import settings

    try:
        settings.INSTALLED_APPS  # noqa: B018 - reading one setting loads (and checks) them all
    except ImproperlyConfigured as exc:
        raise SystemExit(f"error: {exc}") from None
