"""The crowd simulator is a development tool: it never writes invented labels into a project of
uploaded images, and its accounts stay off the public leaderboard."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import WorkerProfile
from annotations.models import Annotation
from tests.consensus.test_dashboard import with_known_truth
from workers.selectors import leaderboard

pytestmark = pytest.mark.django_db


def test_the_simulator_refuses_a_project_of_uploaded_images(make_project):
    project = make_project(images=4)
    with pytest.raises(CommandError, match="no known answer"):
        call_command("simulate_crowd", str(project.pk), workers=3, stdout=StringIO())
    assert not Annotation.objects.exists()
    assert not WorkerProfile.objects.filter(simulated=True).exists()


def test_simulated_workers_are_never_on_the_leaderboard(
    make_project, django_capture_on_commit_callbacks
):
    project = make_project(images=6, acceptance_threshold=0.5)
    with_known_truth(project)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("simulate_crowd", str(project.pk), workers=5, stdout=StringIO())
    assert WorkerProfile.objects.filter(simulated=True).count() == 5
    assert Annotation.objects.exists()
    assert leaderboard(period="all") == []
