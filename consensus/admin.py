"""Admin: consensus results and skills are read-only audit records; review decisions too (they
are made on the review page, which re-grades agreement and points; editing a row here would not)."""

from django.contrib import admin

from .models import ConsensusResult, CopyingSignal, ReviewDecision, WorkerSkill


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ConsensusResult)
class ConsensusResultAdmin(ReadOnlyAdmin):
    list_display = ["task", "decision", "confidence", "method", "answers", "version", "updated_at"]
    list_filter = ["decision", "method", "task__project", "task__state"]
    search_fields = ["task__id", "task__original_name"]
    date_hierarchy = "updated_at"
    list_select_related = ["task"]


@admin.register(WorkerSkill)
class WorkerSkillAdmin(ReadOnlyAdmin):
    list_display = [
        "worker",
        "project",
        "accuracy_display",
        "alpha",
        "beta",
        "gold_correct",
        "gold_total",
        "agreed",
        "disagreed",
        "updated_at",
    ]
    list_filter = ["project"]
    search_fields = ["worker__username"]
    list_select_related = ["worker", "project"]

    @admin.display(description="accuracy", ordering="alpha")
    def accuracy_display(self, skill: WorkerSkill) -> str:
        return f"{skill.accuracy:.3f}"


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(ReadOnlyAdmin):
    list_display = ["task", "action", "reviewer", "replaced_state", "created_at"]
    list_filter = ["action", "replaced_state", "task__project"]
    search_fields = ["task__id", "task__original_name", "reviewer__username"]
    date_hierarchy = "created_at"
    list_select_related = ["task", "reviewer"]


@admin.register(CopyingSignal)
class CopyingSignalAdmin(ReadOnlyAdmin):
    list_display = ["worker", "partner", "project", "shared", "unusual", "twins", "updated_at"]
    list_filter = ["project"]
    search_fields = ["worker__username", "partner__username"]
    list_select_related = ["worker", "partner", "project"]
