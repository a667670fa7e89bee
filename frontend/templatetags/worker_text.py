"""Template filters for words the worker pages show from codes (frontend/worker/texts.py)."""

from django import template

from frontend.worker.texts import kind_name as _kind_name

register = template.Library()


@register.filter
def kind_name(kind: str) -> str:
    """A project kind's name in the worker's language: ``{{ project.kind|kind_name }}``."""
    return _kind_name(kind)
