"""The export models moved to the exports app: only Django's state changes here; the tables stay
as they are and exports/migrations/0001 takes them over under their old names."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('annotations', '0007_gold_slots_recount'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='webhookdelivery',
                    name='export',
                ),
                migrations.RemoveField(
                    model_name='projectwebhook',
                    name='project',
                ),
                migrations.RemoveField(
                    model_name='webhookdelivery',
                    name='webhook',
                ),
                migrations.DeleteModel(
                    name='Export',
                ),
                migrations.DeleteModel(
                    name='ProjectWebhook',
                ),
                migrations.DeleteModel(
                    name='WebhookDelivery',
                ),
            ],
        ),
    ]
