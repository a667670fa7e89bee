from django.contrib import admin

from .models import Annotation, Assignment, Project, ProjectBlock, Task


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "status",
        "owner",
        "redundancy_min",
        "redundancy_max",
        "acceptance_threshold",
        "created_at",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["name", "owner__username"]
    readonly_fields = ["id", "created_at"]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "project",
        "state",
        "is_gold",
        "answers_count",
        "target_redundancy",
        "confidence",
        "created_at",
    ]
    list_filter = ["state", "is_gold", "project__kind", "project"]
    search_fields = ["id", "sha256", "original_name"]
    readonly_fields = [
        "id",
        "sha256",
        "image",
        "width",
        "height",
        "image_format",
        "slots_taken",
        "answers_count",
        "created_at",
        "decided_at",
    ]
    list_select_related = ["project"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["id", "task", "worker", "state", "expires_at", "finished_at"]
    list_filter = ["state"]
    search_fields = ["worker__username", "task__id"]
    readonly_fields = ["id", "task", "worker", "created_at", "finished_at"]
    list_select_related = ["task", "worker"]


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "task",
        "worker",
        "score_state",
        "agreement",
        "gold_grade",
        "duration_ms",
        "created_at",
    ]
    list_filter = ["score_state", "task__project__kind"]
    search_fields = ["worker__username", "task__id"]
    readonly_fields = ["id", "assignment", "task", "worker", "payload", "duration_ms", "created_at"]
    list_select_related = ["task", "worker"]


@admin.register(ProjectBlock)
class ProjectBlockAdmin(admin.ModelAdmin):
    list_display = ["worker", "project", "blocked_by", "reason", "created_at"]
    list_filter = ["project"]
    search_fields = ["worker__username", "project__name"]
    readonly_fields = ["created_at"]
    list_select_related = ["worker", "project", "blocked_by"]
