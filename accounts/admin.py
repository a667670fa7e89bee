from django.contrib import admin

from .models import WorkerProfile


@admin.register(WorkerProfile)
class WorkerProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "daily_target", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username"]
