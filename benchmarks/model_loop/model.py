"""The simulated model: a prediction, with scores, for one image whose truth is known.

"good" is calibrated by construction: for each answer it draws a score s ~ Beta(8.5, 1.5)
(mean 0.85) and is then right with probability s, so P(right | score = s) = s and it is right
85 % of the time on average. Its scores discriminate only moderately (mean 0.86 when right,
0.77 when wrong; the tenth it doubts most is wrong about 38 % of the time): a conservative
setting for ordering work by the model's doubt.

- classification: right is the true class; wrong is another class, uniformly;
- boxes: each true object gets a box scored s; right is the true class with every edge off by
  N(0, 3 % of the side) (IoU with the truth about 0.9); wrong is, half the time, the same tight
  box with another class and otherwise a box shifted by 60 % of its size (IoU under 0.3: a miss
  and a false box at once). Besides, a spurious box (0.3 per image) of a random class, scored
  ~ Beta(2, 8) (mean 0.2, so mostly under the project's MODEL_MIN_SCORE and out of its vote).

"useless" ignores the image: a uniformly random class, or one to three random boxes of random
classes, each with a uniform random score.

"sure" gives the truth itself, scored 0.95: a model credible in every run, for timing its vote.

Pure Python: truths and labels in, payloads (as posted to predictions_store) out.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

GOOD_SCORE = (8.5, 1.5)  # Beta parameters of the good model's score: mean 0.85
SPURIOUS_SCORE = (2.0, 8.0)
SPURIOUS_RATE = 0.3  # spurious boxes per image, for the good model
EDGE_JITTER = 0.03  # of the side, per edge, for a right box
SHIFT = 0.6  # of the size, for a misplaced box
SURE = 0.95


def prediction_make(
    *,
    kind: str,
    quality: str,
    truth: dict,
    labels: Sequence[str],
    size: tuple[int, int],
    rng: random.Random,
) -> dict:
    """The model's payload for one image (``quality`` "good", "useless" or "sure")."""
    if quality == "sure" and kind == "classification":
        return {**truth, "score": SURE}
    if quality == "sure":
        return {"boxes": [{**b, "score": SURE} for b in truth["boxes"]]}
    if kind == "classification":
        return _class_prediction(quality, truth["label"], labels, rng)
    if quality == "useless":
        return {
            "boxes": [
                _random_box(labels, size, rng, rng.random()) for _ in range(rng.randint(1, 3))
            ]
        }
    return {"boxes": _good_boxes(truth["boxes"], labels, size, rng)}


def _class_prediction(quality: str, true: str, labels: Sequence[str], rng: random.Random) -> dict:
    if quality == "useless":
        return {"label": rng.choice(labels), "score": round(rng.random(), 4)}
    score = rng.betavariate(*GOOD_SCORE)
    label = true if rng.random() < score else rng.choice([x for x in labels if x != true])
    return {"label": label, "score": round(score, 4)}


def _good_boxes(
    truth: list[dict], labels: Sequence[str], size: tuple[int, int], rng: random.Random
) -> list[dict]:
    boxes = []
    for item in truth:
        score = rng.betavariate(*GOOD_SCORE)
        x, y, w, h = item["bbox"]
        label = item["label"]
        if rng.random() >= score:  # wrong: another class, or the box in the wrong place
            if rng.random() < 0.5:
                label = rng.choice([x for x in labels if x != label])
            else:
                x += rng.choice((-1, 1)) * SHIFT * w
                y += rng.choice((-1, 1)) * SHIFT * h
        corners = [
            v + rng.gauss(0, EDGE_JITTER * s)
            for v, s in zip((x, y, x + w, y + h), (w, h, w, h), strict=True)
        ]
        boxes.append({"label": label, "bbox": _inside(corners, size), "score": round(score, 4)})
    if rng.random() < SPURIOUS_RATE:
        boxes.append(_random_box(labels, size, rng, rng.betavariate(*SPURIOUS_SCORE)))
    return boxes


def _random_box(
    labels: Sequence[str], size: tuple[int, int], rng: random.Random, score: float
) -> dict:
    width, height = size
    w, h = rng.uniform(20, width / 2), rng.uniform(20, height / 2)
    x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
    return {
        "label": rng.choice(labels),
        "bbox": _inside([x, y, x + w, y + h], size),
        "score": round(score, 4),
    }


def _inside(corners: list[float], size: tuple[int, int]) -> list[float]:
    """[x1, y1, x2, y2] clipped into the image, at least 2 px a side, as [x, y, w, h]."""
    width, height = size
    x1 = min(max(corners[0], 0.0), width - 2.0)
    y1 = min(max(corners[1], 0.0), height - 2.0)
    x2 = min(max(corners[2], x1 + 2.0), float(width))
    y2 = min(max(corners[3], y1 + 2.0), float(height))
    return [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)]
