from django.apps import AppConfig


class PredictionsConfig(AppConfig):
    name = "predictions"

    def ready(self) -> None:
        # Register the model jobs in every process, web included, so that a job enqueued by
        # name (in eager mode, run in-process) is always known.
        from . import tasks  # noqa: F401
