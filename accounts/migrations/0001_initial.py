"""WorkerProfile, taken over from the workers app: its table exists (made by workers/migrations/
0001-0006) and keeps its name, so nothing is done to the database."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('workers', '0007_profile_to_accounts'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='WorkerProfile',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('role', models.CharField(choices=[('worker', 'Worker'), ('requester', 'Requester')], default='worker', max_length=10)),
                        ('daily_target', models.PositiveIntegerField(default=50)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('name_skeleton', models.CharField(blank=True, max_length=300, null=True, unique=True)),
                        ('simulated', models.BooleanField(default=False)),
                        ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='profile', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'workers_workerprofile',
                    },
                ),
            ],
        ),
    ]
