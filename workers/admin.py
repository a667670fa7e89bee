from django.contrib import admin

from .models import PointsEntry


@admin.register(PointsEntry)
class PointsEntryAdmin(admin.ModelAdmin):
    """The ledger is append-only: the admin may read it, never edit it."""

    list_display = ["worker", "reason", "points", "annotation", "created_at"]
    list_filter = ["reason"]
    search_fields = ["worker__username"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False
