"""A seeded crowd simulator for box and polygon annotation, with the truth known. Pure numpy.

An image holds 0..max_objects objects with labels; boxes are log-uniform in size, polygons are
star-shaped around a centre (vertices at increasing angles, so always simple). A worker model
redraws each object it does not miss:

- box: every edge moves by N(0, jitter · side);
- polygon: the worker clicks near the true vertices (skipping some, adding some on edges), each
  click off by N(0, jitter) relative to the radius, the whole shape shifted by N(0, jitter · r/2).

Worker kinds: good (small jitter), sloppy (large jitter, misses, spurious shapes), lazy (only the
biggest object), confuser (right shapes, wrong class half the time) and spammer (random shapes
and labels). Each worker's jitter is its kind's times a log-normal factor, so no two are alike.
Coordinates are rounded to 0.01 px like validated payloads, and shapes stay inside the image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

LABELS = ("car", "bus", "person", "bicycle", "dog")


@dataclass(frozen=True)
class WorkerModel:
    kind: str
    jitter: float  # displacement std, as a fraction of the object's side (box) or radius (polygon)
    miss: float  # probability of skipping an object
    confusion: float  # probability of a wrong (uniformly drawn) label
    extra: float  # expected number of spurious shapes per image
    only_biggest: bool = False
    random: bool = False  # a spammer: shapes and labels unrelated to the image


KINDS: dict[str, WorkerModel] = {
    "good": WorkerModel("good", jitter=0.03, miss=0.03, confusion=0.02, extra=0.1),
    "sloppy": WorkerModel("sloppy", jitter=0.12, miss=0.25, confusion=0.1, extra=0.8),
    "lazy": WorkerModel(
        "lazy", jitter=0.05, miss=0.0, confusion=0.02, extra=0.0, only_biggest=True
    ),
    "confuser": WorkerModel("confuser", jitter=0.04, miss=0.05, confusion=0.5, extra=0.1),
    "spammer": WorkerModel("spammer", jitter=0.0, miss=1.0, confusion=1.0, extra=4.0, random=True),
}

MIXES: dict[str, dict[str, float]] = {
    "mostly-good": {"good": 0.7, "sloppy": 0.2, "spammer": 0.1},
    "mixed": {"good": 0.3, "sloppy": 0.25, "lazy": 0.15, "confuser": 0.15, "spammer": 0.15},
    "adversarial": {"good": 0.2, "sloppy": 0.2, "lazy": 0.2, "confuser": 0.2, "spammer": 0.2},
}


@dataclass(frozen=True)
class Answer:
    worker: int
    shapes: np.ndarray | list[np.ndarray]  # (n, 4) xywh boxes, or n (m, 2) polygons
    labels: list[str]


@dataclass(frozen=True)
class SimImage:
    width: int
    height: int
    truth: np.ndarray | list[np.ndarray]
    truth_labels: list[str]
    answers: list[Answer]


def make_crowd(mix: Mapping[str, float], n_workers: int, seed: int = 0) -> list[WorkerModel]:
    """n_workers models in the proportions of ``mix`` (largest remainder), jitter varied per worker."""
    rng = np.random.default_rng(seed)
    kinds = list(mix)
    share = np.array([mix[k] for k in kinds], dtype=float)
    raw = share / share.sum() * n_workers
    counts = np.floor(raw).astype(int)
    counts[np.argsort(counts - raw)[: n_workers - counts.sum()]] += 1
    crowd = []
    for kind, count in zip(kinds, counts, strict=True):
        base = KINDS[kind]
        for _ in range(count):
            factor = float(rng.lognormal(0.0, 0.25))
            crowd.append(
                WorkerModel(
                    base.kind,
                    base.jitter * factor,
                    base.miss,
                    base.confusion,
                    base.extra,
                    base.only_biggest,
                    base.random,
                )
            )
    return [crowd[i] for i in rng.permutation(len(crowd))]


def _labels_drawn(
    rng: np.random.Generator, truth: np.ndarray, confusion: float, k: int
) -> np.ndarray:
    """Truth label indices, each replaced by a different uniform label with probability confusion."""
    wrong = rng.random(len(truth)) < confusion
    shift = rng.integers(1, max(k, 2), size=len(truth))
    return np.where(wrong & (k > 1), (truth + shift) % k, truth)


def _random_boxes(rng: np.random.Generator, n: int, width: int, height: int) -> np.ndarray:
    """n xywh boxes, sides log-uniform in 4%..40% of the image, fully inside it."""
    side = np.exp(rng.uniform(np.log(0.04), np.log(0.4), size=(n, 2))) * (width, height)
    corner = rng.uniform(0, 1, size=(n, 2)) * ((width, height) - side)
    return np.concatenate([corner, side], axis=1)


def _jitter_boxes(
    rng: np.random.Generator, boxes: np.ndarray, jitter: np.ndarray, width: int, height: int
) -> np.ndarray:
    """(k, n, 4) redrawn boxes: each edge of box j moves by N(0, jitter_i · side_j) for worker
    i, then the box is clipped into the image with at least 1 px of width and height."""
    side = np.concatenate([boxes[:, 2:], boxes[:, 2:]], axis=1)  # (n, 4): w, h, w, h
    corners = np.concatenate([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], axis=1)
    noise = rng.normal(size=(len(jitter), *boxes.shape)) * jitter[:, None, None] * side
    moved = corners + noise
    lo = np.minimum(moved[..., :2], moved[..., 2:])
    hi = np.maximum(moved[..., :2], moved[..., 2:])
    lo = np.clip(lo, 0, (width - 1, height - 1))
    hi = np.maximum(np.clip(hi, 1, (width, height)), lo + 1)
    return np.round(np.concatenate([lo, hi - lo], axis=-1), 2)


def _picks(
    rng: np.random.Generator, models: Sequence[WorkerModel], areas: np.ndarray
) -> np.ndarray:
    """(k, n) mask of the true objects each of the k workers draws."""
    miss = np.array([m.miss for m in models])
    drawn = rng.random((len(models), len(areas))) >= miss[:, None]
    if len(areas):
        lazy = np.array([m.only_biggest for m in models], dtype=bool)
        drawn[lazy] = np.arange(len(areas)) == np.argmax(areas)
    drawn[np.array([m.random for m in models], dtype=bool)] = False
    return drawn


def _pick_objects(rng: np.random.Generator, model: WorkerModel, areas: np.ndarray) -> np.ndarray:
    if model.random or not len(areas):
        return np.zeros(0, dtype=np.intp)
    if model.only_biggest:
        return np.array([int(np.argmax(areas))])
    return np.flatnonzero(rng.random(len(areas)) >= model.miss)


def _crowd_for_image(
    rng: np.random.Generator, n_crowd: int, per_image: int | tuple[int, int]
) -> np.ndarray:
    lo, hi = (per_image, per_image) if isinstance(per_image, int) else per_image
    k = min(int(rng.integers(lo, hi + 1)), n_crowd)
    return np.sort(rng.choice(n_crowd, size=k, replace=False))


def simulate_boxes(
    n_images: int,
    crowd: Sequence[WorkerModel],
    *,
    workers_per_image: int | tuple[int, int] = 5,
    max_objects: int = 20,
    labels: Sequence[str] = LABELS,
    width: int = 640,
    height: int = 480,
    seed: int = 0,
) -> list[SimImage]:
    """Images with 0..max_objects true boxes, each answered by ``workers_per_image`` workers
    drawn without replacement from ``crowd`` (a (lo, hi) pair: a uniform count per image)."""
    rng = np.random.default_rng(seed)
    k = len(labels)
    images = []
    for _ in range(n_images):
        truth = np.round(
            _random_boxes(rng, int(rng.integers(0, max_objects + 1)), width, height), 2
        )
        truth_lab = rng.integers(0, k, size=len(truth))
        who = _crowd_for_image(rng, len(crowd), workers_per_image).tolist()
        models = [crowd[w] for w in who]
        drawn = _picks(rng, models, truth[:, 2] * truth[:, 3])
        redrawn = _jitter_boxes(rng, truth, np.array([m.jitter for m in models]), width, height)
        confusion = np.array([m.confusion for m in models])[:, None]
        wrong = (rng.random(drawn.shape) < confusion) & (k > 1)
        shifted = (truth_lab + rng.integers(1, max(k, 2), size=drawn.shape)) % k
        drawn_lab = np.where(wrong, shifted, truth_lab)
        n_extra = rng.poisson([m.extra for m in models])
        extra = np.round(_random_boxes(rng, int(n_extra.sum()), width, height), 2)
        extra_lab = rng.integers(0, k, size=len(extra))
        cut = np.concatenate([[0], np.cumsum(n_extra)]).tolist()
        answers = []
        for i, w in enumerate(who):
            shapes = np.concatenate([redrawn[i][drawn[i]], extra[cut[i] : cut[i + 1]]])
            names = np.concatenate([drawn_lab[i][drawn[i]], extra_lab[cut[i] : cut[i + 1]]])
            order = rng.permutation(len(shapes))
            answers.append(Answer(w, shapes[order], [labels[j] for j in names[order].tolist()]))
        images.append(SimImage(width, height, truth, [labels[i] for i in truth_lab], answers))
    return images


@dataclass(frozen=True)
class _Star:
    centre: np.ndarray  # (2,)
    angles: np.ndarray  # (k,) increasing in [0, 2π)
    radii: np.ndarray  # (k,)

    def points(self) -> np.ndarray:
        points: np.ndarray = self.centre + self.radii[:, None] * np.stack(
            [np.cos(self.angles), np.sin(self.angles)], axis=1
        )
        return points

    def radius_at(self, phi: np.ndarray) -> np.ndarray:
        """Distance from the centre to the outline along the ray at angle phi."""
        p = self.points() - self.centre
        k = len(self.angles)
        j = (np.searchsorted(self.angles, phi % (2 * np.pi), side="right") - 1) % k
        a, b = p[j], p[(j + 1) % k]
        d = b - a
        u = np.stack([np.cos(phi), np.sin(phi)], axis=1)
        radius: np.ndarray = (a[:, 0] * d[:, 1] - a[:, 1] * d[:, 0]) / (
            u[:, 0] * d[:, 1] - u[:, 1] * d[:, 0]
        )
        return radius

    @property
    def area(self) -> float:
        x, y = self.points().T
        return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _sorted_angles(rng: np.random.Generator, n: int) -> np.ndarray:
    """n increasing angles in [0, 2π), each gap at least a fifth of the largest."""
    gaps = rng.uniform(0.2, 1.0, size=n)
    start = rng.uniform(0, 2 * np.pi)
    return np.sort((start + np.cumsum(gaps / gaps.sum()) * 2 * np.pi) % (2 * np.pi))


MAX_RADIAL = 1.6  # a worker's radial factor is capped so every drawn shape stays in the image


def _random_star(rng: np.random.Generator, width: int, height: int) -> _Star:
    r = float(np.exp(rng.uniform(np.log(0.04), np.log(0.16)))) * min(width, height)
    margin = 1.3 * MAX_RADIAL * r + 2
    centre = rng.uniform((margin, margin), (width - margin, height - margin))
    k = int(rng.integers(6, 15))
    return _Star(centre, _sorted_angles(rng, k), r * rng.uniform(0.6, 1.3, size=k))


def _redraw(rng: np.random.Generator, star: _Star, jitter: float) -> np.ndarray:
    """A worker's polygon of the star. They click near each true vertex, skipping one with
    probability min(0.3, 2·jitter) and adding a click on an edge with probability 0.2; each click
    moves by a relative radial N(0, jitter) and an angular N(0, jitter) (about jitter · radius
    sideways), and the whole shape shifts by N(0, jitter · radius / 2). Clicks are kept in angle
    order around the centre, so the polygon stays simple."""
    k = len(star.angles)
    keep = rng.random(k) >= min(0.3, 2 * jitter)
    if keep.sum() < 3:
        keep[rng.choice(k, size=3, replace=False)] = True
    following = np.roll(star.angles, -1) + np.where(np.arange(k) == k - 1, 2 * np.pi, 0.0)
    middle = ((star.angles + following) / 2)[rng.random(k) < 0.2]
    phi = np.concatenate([star.angles[keep], middle])
    rho = np.concatenate([star.radii[keep], star.radius_at(middle)])
    phi = (phi + rng.normal(0, jitter, size=len(phi))) % (2 * np.pi)
    rho = rho * np.clip(1 + rng.normal(0, jitter, size=len(rho)), 0.3, MAX_RADIAL)
    order = np.argsort(phi)
    radius = float(star.radii.mean())
    shift = np.clip(rng.normal(0, jitter * radius / 2, size=2), -0.2 * radius, 0.2 * radius)
    unit = np.stack([np.cos(phi[order]), np.sin(phi[order])], axis=1)
    polygon: np.ndarray = np.round(star.centre + shift + rho[order, None] * unit, 2)
    return polygon


def simulate_polygons(
    n_images: int,
    crowd: Sequence[WorkerModel],
    *,
    workers_per_image: int | tuple[int, int] = 5,
    max_objects: int = 10,
    labels: Sequence[str] = LABELS,
    width: int = 640,
    height: int = 480,
    seed: int = 0,
) -> list[SimImage]:
    """Like ``simulate_boxes`` with star-shaped polygons; ``truth`` is a list of (k, 2) arrays."""
    rng = np.random.default_rng(seed)
    k = len(labels)
    images = []
    for _ in range(n_images):
        stars = [
            _random_star(rng, width, height) for _ in range(int(rng.integers(0, max_objects + 1)))
        ]
        truth_lab = rng.integers(0, k, size=len(stars))
        answers = []
        for w in _crowd_for_image(rng, len(crowd), workers_per_image).tolist():
            model = crowd[w]
            pick = _pick_objects(rng, model, np.array([s.area for s in stars]))
            drawn = [_redraw(rng, stars[i], model.jitter) for i in pick.tolist()]
            lab = _labels_drawn(rng, truth_lab[pick], model.confusion, k).tolist()
            n_extra = int(rng.poisson(model.extra))
            drawn += [_redraw(rng, _random_star(rng, width, height), 0.0) for _ in range(n_extra)]
            lab += rng.integers(0, k, n_extra).tolist()
            order = rng.permutation(len(drawn)).tolist()
            answers.append(Answer(w, [drawn[i] for i in order], [labels[lab[i]] for i in order]))
        truth = [np.round(s.points(), 2) for s in stars]
        images.append(SimImage(width, height, truth, [labels[i] for i in truth_lab], answers))
    return images


def comb_polygon(
    teeth: int, points: int = 1000, duty: float = 0.8, size: float = 1000.0
) -> np.ndarray:
    """A hostile but valid simple polygon in [0, size]²: a comb, a spine along the bottom (a
    tenth of the height) and ``teeth`` teeth up to the top, each ``duty`` of its pitch wide, the
    long edges subdivided to about ``points`` points. A comb and its transpose cross at every
    tooth: the overlay has a face per crossing (tests and benchmarks of the fusion's bound)."""
    pitch, spine = size / teeth, 0.1 * size
    extra = max(0, (points - 3 - 4 * teeth) // (2 * teeth))
    rise = np.linspace(spine, size, extra + 2)[1:-1]
    out = [(0.0, 0.0), (size, 0.0), (size, spine)]
    for k in reversed(range(teeth)):
        x0, x1 = (k + (1 - duty) / 2) * pitch, (k + (1 + duty) / 2) * pitch
        out += [(x1, spine), *((x1, y) for y in rise), (x1, size), (x0, size)]
        out += [*((x0, y) for y in rise[::-1]), (x0, spine)]
    out.append((0.0, spine))
    return np.array(out)
