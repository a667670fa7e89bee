from rest_framework import exceptions, pagination

from .errors import DomainError


class CursorPagination(pagination.CursorPagination):
    """Cursor pages: stable under inserts and no count query on large tables."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("-created_at", "-id")

    def decode_cursor(self, request):
        # DRF answers a mangled cursor with 404, as if the project were missing: it is bad input.
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as exc:
            raise DomainError(
                code="invalid_cursor",
                field=self.cursor_query_param,
                message="Invalid cursor; use the next or previous link of a page.",
            ) from exc
