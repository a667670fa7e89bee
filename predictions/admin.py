from django.contrib import admin

from .models import ModelVersion, OnnxModel, Prediction


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "created_at"]
    search_fields = ["name", "project__name"]
    readonly_fields = ["voter"]


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ["model", "task", "top_score", "gold_grade", "agreement", "created_at"]
    readonly_fields = [field.name for field in Prediction._meta.fields]  # as posted, never edited
    list_select_related = ["model"]


@admin.register(OnnxModel)
class OnnxModelAdmin(admin.ModelAdmin):
    list_display = ["version", "state", "size", "created_at"]
    list_filter = ["state"]
    readonly_fields = [field.name for field in OnnxModel._meta.fields]  # a file as uploaded
