"""Exports and webhook deliveries in the admin: read, never edited."""

from django.contrib import admin

from .models import Export, ProjectWebhook, WebhookDelivery


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ["project", "version", "format", "state", "size", "requested_by", "finished_at"]
    list_filter = ["format", "state"]
    search_fields = ["project__name", "sha256"]
    readonly_fields = [field.name for field in Export._meta.fields]  # a snapshot is never edited
    list_select_related = ["project", "requested_by"]


@admin.register(ProjectWebhook)
class ProjectWebhookAdmin(admin.ModelAdmin):
    list_display = ["project", "url", "updated_at"]
    search_fields = ["project__name", "url"]
    exclude = ["secret"]  # the signing secret is shown once to the owner, never here


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["webhook", "event", "state", "attempts", "last_status", "delivered_at"]
    list_filter = ["state", "event"]
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]
    list_select_related = ["webhook__project"]
