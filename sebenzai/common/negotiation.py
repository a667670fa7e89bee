from django.http import Http404
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.settings import api_settings

from .errors import DomainError


class StrictContentNegotiation(DefaultContentNegotiation):
    """An unknown ``?format=`` is bad input (400 naming it), not a missing object (DRF's 404)."""

    def filter_renderers(self, renderers, format):  # noqa: A002 - DRF's signature
        try:
            return super().filter_renderers(renderers, format)
        except Http404 as exc:
            allowed = ", ".join(sorted({r.format for r in renderers}))
            raise DomainError(
                code="invalid_choice",
                field=api_settings.URL_FORMAT_OVERRIDE,
                message=f"Unknown format; expected one of: {allowed}.",
            ) from exc
