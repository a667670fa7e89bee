"""What the fusion of one task counts: one ballot per independent piece of evidence.

Each person's answer is a ballot, and so is each credible model's vote, except under
pre-labelling: answers that kept the task's proposal unchanged, and the vote of the model the
proposal came from, are one and the same evidence, so they are one ballot, weighted as the
surest of them. Keeping a proposal is then never worth more than the proposal was.
"""

from __future__ import annotations

from dataclasses import dataclass

from annotations.models import Annotation, Task
from annotations.payloads import answers_same
from predictions.payloads import proposal_of

from .model_votes import ModelVote
from .models import WorkerSkill


@dataclass(frozen=True)
class Ballot:
    payload: dict
    accuracy: float
    answers: tuple[Annotation, ...] = ()  # the people's answers it stands for
    votes: tuple[ModelVote, ...] = ()  # the models' votes it stands for

    @property
    def echo(self) -> bool:
        """A proposal kept unchanged, counted once with the model that made it."""
        return len(self.answers) + len(self.votes) > 1 or any(a.kept_proposal for a in self.answers)


def ballots_make(
    task: Task,
    annotations: list[Annotation],
    votes: list[ModelVote],
    skills: dict[int, WorkerSkill],
) -> list[Ballot]:
    """People's ballots in answer order, the proposal's (if any answer kept it), then the other
    models' votes."""
    kept = [a for a in annotations if a.kept_proposal]
    echoed = [
        v for v in votes if kept and answers_same(proposal_of(v.prediction.payload), task.proposal)
    ]
    ballots = [
        Ballot(a.payload, skills[a.worker_id].accuracy, answers=(a,))
        for a in annotations
        if not a.kept_proposal
    ]
    if kept:
        surest = max([skills[a.worker_id].accuracy for a in kept] + [v.accuracy for v in echoed])
        ballots.append(Ballot(kept[0].payload, surest, answers=tuple(kept), votes=tuple(echoed)))
    ballots += [Ballot(v.payload, v.accuracy, votes=(v,)) for v in votes if v not in echoed]
    return ballots
