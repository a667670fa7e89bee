from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Cursor pages: stable under inserts and no count query on large tables."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("-created_at", "-id")
