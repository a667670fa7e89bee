"""WorkerProfile moved to the accounts app: only Django's state changes here; the table stays as
it is and accounts/migrations/0001 takes it over under its old name."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('workers', '0006_points_review_decision'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(
                    name='WorkerProfile',
                ),
            ],
        ),
    ]
