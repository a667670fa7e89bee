import random

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Role
from accounts.services import user_create
from annotations.models import Project, ProjectStatus
from annotations.services.gold import gold_set
from annotations.services.intake import IncomingFile, tasks_create_from_files
from annotations.services.projects import project_create
from devtools.demo import GENERATORS, LABELS, distinct_images

User = get_user_model()
REQUESTER, WORKERS, ADMIN = "demo-requester", ("amara", "kofi", "thandi"), "admin"
PASSWORD = "sebenzai-demo"  # noqa: S105 - the demo's published password
INSTRUCTIONS = {
    "classification": "Which vehicle is in the picture? Taxis are yellow, buses long and green, trucks big and brown.",
    "bbox": "Draw a tight box around every vehicle and pick its type.",
    "polygon": "Outline every pothole and road sign.",
    "moderation": "Is this image safe to show? If not, tick every category that applies.",
}


class Command(BaseCommand):
    help = "Create demo accounts and one active project of each kind with generated images (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--images", type=int, default=40)

    def handle(self, *args, **options):
        if User.objects.filter(username=REQUESTER).exists():
            self.stdout.write("Demo data already present.")
            return
        with transaction.atomic():
            requester = user_create(username=REQUESTER, password=PASSWORD, role=Role.REQUESTER)
            for name in WORKERS:
                user_create(username=name, password=PASSWORD, role=Role.WORKER)
            User.objects.create_superuser(ADMIN, "", PASSWORD)
            for kind, generate in GENERATORS.items():
                _project(requester, kind, generate, options["images"])
        self.stdout.write(
            f"Demo data created: requester {REQUESTER}, workers {', '.join(WORKERS)}, admin {ADMIN}; password {PASSWORD}"
        )
        for project in Project.objects.filter(owner__username=REQUESTER).order_by("name"):
            gold = project.tasks.filter(is_gold=True).count()
            self.stdout.write(
                f"  {project.name}: {project.tasks.count()} images ({gold} of them gold tasks)"
            )


def _project(requester, kind: str, generate, count: int) -> Project:
    data = {
        "name": f"Demo {kind}",
        "kind": kind,
        "labels": LABELS[kind],
        "instructions": INSTRUCTIONS[kind],
        "redundancy_min": 3,
        "redundancy_max": 5,
        "acceptance_threshold": 0.9,
        "gold_ratio": 0.1,
    }
    project = project_create(owner=requester, data=data)
    images = distinct_images(generate, random.Random(kind), count)  # noqa: S311 - demo pictures
    files = (
        IncomingFile(f"images[{i}]", f"{kind}-{i:03d}.png", lambda b=b: b)
        for i, (b, _) in enumerate(images)
    )
    tasks_create_from_files(project=project, files=files)
    by_name = {t.original_name: t for t in project.tasks.all()}
    for i, (_, truth) in enumerate(images):
        task = by_name.get(f"{kind}-{i:03d}.png")
        if task is not None:
            task.metadata = {"synthetic_truth": truth, "camera": "demo-cam-1"}
            task.save(update_fields=["metadata"])
    gold = [
        {"task": by_name[f"{kind}-{i:03d}.png"].pk, "answer": truth}
        for i, (_, truth) in enumerate(images[:4])
        if f"{kind}-{i:03d}.png" in by_name
    ]
    gold_set(project=project, items=gold)
    project.status = ProjectStatus.ACTIVE
    project.save(update_fields=["status"])
    return project
