"""The export models, taken over from the annotations app: their tables exist (made by
annotations/migrations/0002) and keep their names, so nothing is done to the database."""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('annotations', '0008_exports_own_app'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Export',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('version', models.PositiveIntegerField()),
                        ('format', models.CharField(choices=[('coco', 'Coco'), ('yolo', 'Yolo'), ('voc', 'Voc'), ('csv', 'Csv'), ('jsonl', 'Jsonl'), ('imagefolder', 'Imagefolder')], max_length=12)),
                        ('options', models.JSONField()),
                        ('state', models.CharField(choices=[('pending', 'Pending'), ('running', 'Running'), ('ready', 'Ready'), ('failed', 'Failed')], default='pending', max_length=10)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('counts', models.JSONField(blank=True, default=dict)),
                        ('size', models.PositiveBigIntegerField(blank=True, null=True)),
                        ('sha256', models.CharField(blank=True, default='', max_length=64)),
                        ('manifest_sha256', models.CharField(blank=True, default='', max_length=64)),
                        ('error_code', models.CharField(blank=True, default='', max_length=50)),
                        ('error_message', models.CharField(blank=True, default='', max_length=300)),
                        ('download_url', models.CharField(blank=True, default='', max_length=500)),
                        ('project', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='exports', to='annotations.project')),
                        ('requested_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'annotations_export',
                    },
                ),
                migrations.CreateModel(
                    name='ProjectWebhook',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('url', models.CharField(max_length=2000)),
                        ('secret', models.CharField(max_length=64)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('project', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='webhook', to='annotations.project')),
                    ],
                    options={
                        'db_table': 'annotations_projectwebhook',
                    },
                ),
                migrations.CreateModel(
                    name='WebhookDelivery',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('event', models.CharField(default='export.ready', max_length=30)),
                        ('payload', models.JSONField()),
                        ('state', models.CharField(choices=[('pending', 'Pending'), ('delivered', 'Delivered'), ('failed', 'Failed')], default='pending', max_length=10)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('next_attempt_at', models.DateTimeField()),
                        ('last_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('last_error', models.CharField(blank=True, default='', max_length=200)),
                        ('delivered_at', models.DateTimeField(blank=True, null=True)),
                        ('export', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='exports.export')),
                        ('webhook', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='exports.projectwebhook')),
                    ],
                    options={
                        'db_table': 'annotations_webhookdelivery',
                    },
                ),
                migrations.AddIndex(
                    model_name='export',
                    index=models.Index(condition=models.Q(('state__in', ['pending', 'running'])), fields=['created_at'], name='export_unfinished_idx'),
                ),
                migrations.AddConstraint(
                    model_name='export',
                    constraint=models.UniqueConstraint(fields=('project', 'version'), name='one_export_per_version'),
                ),
                migrations.AddIndex(
                    model_name='webhookdelivery',
                    index=models.Index(condition=models.Q(('state', 'pending')), fields=['next_attempt_at'], name='delivery_pending_idx'),
                ),
                migrations.AddConstraint(
                    model_name='webhookdelivery',
                    constraint=models.UniqueConstraint(fields=('webhook', 'export', 'event'), name='one_delivery_per_event'),
                ),
            ],
        ),
    ]
