from django.apps import AppConfig


class ConsensusConfig(AppConfig):
    name = "consensus"

    def ready(self) -> None:
        # Register this app's Celery tasks in every process, web included, so that a task
        # enqueued by name (in eager mode, run in-process) is always known.
        from . import tasks  # noqa: F401
