from django.contrib import admin

from .models import ConsensusResult, WorkerSkill


@admin.register(ConsensusResult)
class ConsensusResultAdmin(admin.ModelAdmin):
    list_display = ["task", "decision", "confidence", "method", "answers", "version", "updated_at"]
    list_filter = ["decision", "method"]
    readonly_fields = [
        "task",
        "label",
        "confidence",
        "method",
        "decision",
        "contributors",
        "answers",
        "version",
        "updated_at",
    ]
    list_select_related = ["task"]


@admin.register(WorkerSkill)
class WorkerSkillAdmin(admin.ModelAdmin):
    list_display = [
        "worker",
        "project",
        "accuracy_display",
        "gold_correct",
        "gold_total",
        "agreed",
        "disagreed",
        "updated_at",
    ]
    list_filter = ["project"]
    search_fields = ["worker__username"]
    list_select_related = ["worker", "project"]

    @admin.display(description="accuracy")
    def accuracy_display(self, skill: WorkerSkill) -> str:
        return f"{skill.accuracy:.3f}"
