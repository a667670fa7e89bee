"""Reads the workers' pages need that belong to no single app's selectors."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, QuerySet

from annotations.models import Project, ProjectBlock, ProjectStatus


def projects_open_for_work(*, user: AbstractBaseUser) -> QuerySet[Project]:
    """Active projects the worker is not barred from, newest first."""
    blocked = ProjectBlock.objects.filter(project=OuterRef("pk"), worker=user)
    return (
        Project.objects.filter(status=ProjectStatus.ACTIVE)
        .filter(~Exists(blocked))
        .order_by("-created_at")
    )
