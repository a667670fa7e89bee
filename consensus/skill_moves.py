"""How one graded observation moves a skill row, the same for a person and a model: a gold
grade, or an agreement with an accepted label (added, or taken back when a label is settled
again)."""

from __future__ import annotations

from .algorithms.skill import AGREEMENT_WEIGHT, GOLD_WEIGHT, BetaSkill
from .models import WorkerSkill

# An answer earns points, and counts as agreeing, when it matches the consensus at least this well
# (1 or 0 for classes; F1 of the shapes for boxes and polygons). Points scale with the match.
AGREEMENT_PASS = 0.5
GOLD_PASS = 0.5


def gold_observe(skill: WorkerSkill, grade: float) -> None:
    """One graded gold answer (or a model's gold prediction)."""
    updated = BetaSkill(skill.alpha, skill.beta).observe(grade, GOLD_WEIGHT)
    skill.alpha, skill.beta = updated.alpha, updated.beta
    skill.gold_total += 1
    skill.gold_correct += int(grade >= GOLD_PASS)


def agreement_count(skill: WorkerSkill, agreement: float, sign: int = 1) -> None:
    """Add (sign 1) or take back (sign -1) one agreement observation."""
    weight = sign * AGREEMENT_WEIGHT
    skill.alpha += weight * agreement
    skill.beta += weight * (1.0 - agreement)
    skill.agreed += sign * int(agreement >= AGREEMENT_PASS)
    skill.disagreed += sign * int(agreement < AGREEMENT_PASS)
