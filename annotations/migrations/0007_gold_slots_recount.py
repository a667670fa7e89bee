"""Gold tasks now hold their slots like any task (a lease given back frees one). Before, a gold
lease that expired or was skipped kept its slot, so a gold task's counter could exceed what it
holds: recount it as live leases plus submitted answers, or it might never be served again."""

from django.db import migrations
from django.db.models import Count, Q


def recount_gold_slots(apps, schema_editor):
    Task = apps.get_model("annotations", "Task")
    held = Q(assignments__state__in=["leased", "submitted"])
    for task in Task.objects.filter(is_gold=True).annotate(held=Count("assignments", filter=held)):
        if task.slots_taken != task.held:
            Task.objects.filter(pk=task.pk).update(slots_taken=task.held)


class Migration(migrations.Migration):
    dependencies = [("annotations", "0006_annotation_score_started_at")]

    operations = [migrations.RunPython(recount_gold_slots, migrations.RunPython.noop)]
