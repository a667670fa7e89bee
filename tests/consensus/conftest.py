"""Fixtures of the review tests: a task in review, and one the crowd accepted."""

import pytest

from tests.consensus.test_review import accepted_task, disputed_task


@pytest.fixture
def disputed(make_project, worker_clients, django_capture_on_commit_callbacks):
    """car, car, taxi in review: nobody graded, nobody paid."""
    return disputed_task(make_project, worker_clients, django_capture_on_commit_callbacks)


@pytest.fixture
def accepted(make_project, worker_clients, django_capture_on_commit_callbacks):
    """car, car, taxi accepted as car by the crowd: the car workers paid 10 each."""
    return accepted_task(make_project, worker_clients, django_capture_on_commit_callbacks)
