from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Avg, Count

from annotations.models import Project, ProjectStatus, TaskState
from annotations.simulation import crowd_create, crowd_run, truth_for


class Command(BaseCommand):
    help = "Let simulated workers of mixed skill (good, sloppy, spammers) answer a project's tasks."

    def add_arguments(self, parser):
        parser.add_argument("project", help="project id, or its exact name")
        parser.add_argument("--workers", type=int, default=10)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **options):
        project = _find(options["project"])
        if project.status != ProjectStatus.ACTIVE:
            raise CommandError(
                f"project: {project.name} is {project.status}; only an active project takes answers."
            )
        if not 1 <= options["workers"] <= 1000:
            raise CommandError("--workers: give a number from 1 to 1000.")
        crowd = crowd_create(project=project, size=options["workers"], seed=options["seed"])
        answered = crowd_run(project=project, crowd=crowd, seed=options["seed"])
        self.stdout.write(f"Answers by profile: {dict(answered)}")
        self._report(project, crowd)

    def _report(self, project, crowd):
        tasks = project.tasks.filter(is_gold=False)
        states = dict(tasks.values_list("state").annotate(n=Count("id")))
        self.stdout.write(f"Tasks by state: {states}")
        accepted = list(tasks.filter(state=TaskState.ACCEPTED).select_related("project"))
        if accepted and project.kind in ("classification", "moderation"):
            key = "label" if project.kind == "classification" else "verdict"
            right = sum(t.accepted_label[key] == truth_for(t)[key] for t in accepted)
            self.stdout.write(f"Accepted labels matching the truth: {right}/{len(accepted)}")
        skills = project.skills.filter(worker__in=[m.user for m in crowd])
        by_user = {s.worker_id: s.accuracy for s in skills}
        for profile in ("good", "sloppy", "spammer"):
            values = [
                by_user[m.user.pk] for m in crowd if m.profile == profile and m.user.pk in by_user
            ]
            if values:
                self.stdout.write(
                    f"  {profile:8s} workers: {len(values)}, mean estimated accuracy {sum(values) / len(values):.3f}"
                )
        mean = tasks.filter(confidence__isnull=False).aggregate(m=Avg("confidence"))["m"]
        if mean is not None:
            self.stdout.write(f"Mean confidence of decided tasks: {mean:.3f}")


def _find(ref: str) -> Project:
    try:
        return Project.objects.get(pk=ref)
    except (Project.DoesNotExist, ValidationError):
        project = Project.objects.filter(name=ref).first()
    if project is None:
        raise CommandError(f"project: no project with id or name {ref!r}.")
    return project
