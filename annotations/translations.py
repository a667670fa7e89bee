"""A project's words in a worker's language: the instructions and label titles the requester gave
for that language (``Project.translations``), each falling back to the original on its own.

Label *names* never change: answers, gold and consensus use them; a title is only what is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Project


@dataclass(frozen=True)
class ProjectText:
    instructions: str
    labels: list[dict]  # each label as stored, plus "title"


def project_text(project: Project, language: str | None) -> ProjectText:
    """The project's instructions and labels for ``language`` ("fr", "pt-br" → "pt"), with the
    original wherever that language has no wording (or no language is active)."""
    given = _translation_for(project.translations or {}, language)
    titles = given.get("labels") or {}
    labels = [
        {**label, "title": titles.get(label["name"]) or label["name"]} for label in project.labels
    ]
    return ProjectText(
        instructions=given.get("instructions") or project.instructions, labels=labels
    )


def _translation_for(translations: dict, language: str | None) -> dict:
    if not language:
        return {}
    code = language.lower()
    return translations.get(code) or translations.get(code.split("-")[0]) or {}
