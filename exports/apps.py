from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "exports"

    def ready(self) -> None:
        # Register the export and webhook jobs in every process, web included, so that a job
        # enqueued by name (in eager mode, run in-process) is always known.
        from . import tasks  # noqa: F401
