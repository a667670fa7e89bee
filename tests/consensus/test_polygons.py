"""Polygon fusion: pixel vote and medoid by hand, degenerate cases, validity, properties."""

import math

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consensus.algorithms.geometry import as_polygons
from consensus.algorithms.polygons import (
    fuse_polygons,
    medoid_polygon,
    simple_polygon,
    vote_polygon,
)
from consensus.algorithms.simulate import MIXES, make_crowd, simulate_polygons

LABELS3 = ["road", "car", "tree"]


def rect(x1: float, y1: float, x2: float, y2: float) -> np.ndarray:
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], dtype=float)


def answer(*shapes: tuple[np.ndarray, str]) -> tuple[list[np.ndarray], list[str]]:
    return [s for s, _ in shapes], [n for _, n in shapes]


def region(points: list[list[float]]) -> shapely.Polygon:
    return shapely.Polygon(points)


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# Three strips along x: A = [0, 2], B = [1, 3], C = [0.5, 2.5], all with y in [0, 1].
# IoU(A, C) = IoU(B, C) = 1.5 / 2.5 = 0.6 (so all three cluster), IoU(A, B) = 1/3.
# Coverage: [0, .5) 1, [.5, 1) 2, [1, 2] 3, (2, 2.5] 2, (2.5, 3] 1 worker.
A, B, C = rect(0, 0, 2, 1), rect(1, 0, 3, 1), rect(0.5, 0, 2.5, 1)


def test_the_pixel_vote_keeps_what_half_the_weight_covers():
    result = fuse_polygons(
        [answer((A, "road")), answer((B, "road")), answer((C, "road"))], [0.8] * 3, LABELS3
    )
    assert len(result.objects) == 1
    fused = region(result.objects[0].points)
    assert fused.is_valid
    assert fused.equals(shapely.box(0.5, 0, 2.5, 1))  # covered by ≥ 2 of 3
    assert result.objects[0].support == [0, 1, 2]
    assert result.objects[0].existence == pytest.approx(sigmoid(3 * math.log(4)))
    # members' IoU with the fused strip: A and B 1.5/2.5, C 1
    assert result.objects[0].mean_iou == pytest.approx((0.6 + 0.6 + 1) / 3)
    assert result.agreement == [1.0, 1.0, 1.0]


def test_a_worker_weighing_more_than_the_rest_together_decides_the_outline():
    # w = logit 0.99 = 4.6 against 2 · logit 0.6 = 0.81: only faces A covers reach half.
    result = fuse_polygons(
        [answer((A, "road")), answer((B, "road")), answer((C, "road"))],
        [0.99, 0.6, 0.6],
        LABELS3,
    )
    assert region(result.objects[0].points).equals(shapely.box(0, 0, 2, 1))


def test_the_medoid_is_the_member_most_like_the_others():
    # Σ_j IoU(P_i, P_j): A 1 + 1/3 + 0.6, B the same, C 1 + 0.6 + 0.6: the middle strip.
    result = fuse_polygons(
        [answer((A, "road")), answer((B, "road")), answer((C, "road"))],
        [0.8] * 3,
        LABELS3,
        method="medoid",
    )
    assert region(result.objects[0].points).equals(shapely.box(0.5, 0, 2.5, 1))
    geoms = as_polygons([A, B, C])
    assert medoid_polygon(geoms, np.array([1.0, 1.0, 1.0])).equals(geoms[2])
    assert medoid_polygon(geoms, np.array([10.0, 1.0, 1.0])).equals(geoms[0])


def test_vote_polygon_of_one_member_is_that_member():
    geoms = as_polygons([A])
    assert vote_polygon(geoms, np.array([1.0])).equals(geoms[0])


def test_a_split_vote_keeps_the_largest_part_and_no_holes():
    two_parts = shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(5, 0, 8, 1)])
    assert simple_polygon(two_parts).equals(shapely.box(5, 0, 8, 1))
    holed = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2), (1, 2)]])
    assert simple_polygon(holed).equals(shapely.box(0, 0, 4, 4))
    assert simple_polygon(shapely.Polygon()) is None


def test_one_wrong_label_is_outvoted():
    result = fuse_polygons(
        [answer((A, "road")), answer((C, "road")), answer((B, "car"))], [0.8] * 3, LABELS3
    )
    assert [o.label for o in result.objects] == ["road"]
    assert result.agreement == [1.0, 1.0, 0.0]


def test_spammer_polygons_are_dropped():
    spam = answer(
        (rect(50, 50, 60, 60), "car"), (rect(0, 20, 5, 30), "tree"), (rect(0.1, 0, 2, 1), "car")
    )
    result = fuse_polygons(
        [answer((A, "road")), spam, answer((A + [0.1, 0], "road"))], [0.95, 0.1, 0.95], LABELS3
    )
    assert [o.label for o in result.objects] == ["road"]
    assert result.weights[1] == 0.0
    assert result.agreement[1] == 0.0


def test_invalid_input_polygons_are_repaired_not_raised_on():
    bow_tie = np.array([[0, 0], [10, 10], [10, 0], [0, 10]], dtype=float)
    result = fuse_polygons(
        [answer((bow_tie, "road")), answer((bow_tie, "road"))], [0.8, 0.8], LABELS3
    )
    assert len(result.objects) == 1
    fused = region(result.objects[0].points)
    assert fused.is_valid
    assert fused.area == pytest.approx(25)  # one triangle of the repaired bow-tie


# --- degenerate cases -------------------------------------------------------------------------


def test_no_workers_gives_no_objects_and_no_confidence():
    result = fuse_polygons([], [], LABELS3)
    assert result.objects == []
    assert result.confidence == 0.0


def test_everyone_agreeing_there_is_nothing_is_a_confident_empty_answer():
    result = fuse_polygons([answer(), answer()], [0.8, 0.8], LABELS3)
    assert result.objects == []
    assert result.agreement == [1.0, 1.0]
    assert result.confidence == pytest.approx(sigmoid(2 * math.log(4)))  # 16/17


def test_one_answer_is_taken_as_it_is():
    result = fuse_polygons([answer((A, "tree"))], [0.8], LABELS3)
    assert region(result.objects[0].points).equals(shapely.box(0, 0, 2, 1))
    assert result.objects[0].confidence == pytest.approx(0.64)
    assert result.confidence == pytest.approx(0.64)


def test_every_worker_disagreeing_sends_the_task_to_review():
    result = fuse_polygons(
        [answer((rect(0, 0, 1, 1), "road")), answer((rect(5, 5, 6, 6), "road"))],
        [0.8, 0.8],
        LABELS3,
        quorum=0.6,
    )
    assert result.objects == []
    assert result.confidence == 0.0


def test_polygons_without_area_are_ignored():
    flat = np.array([[0, 0], [1, 1], [2, 2]], dtype=float)
    result = fuse_polygons(
        [answer((A, "road"), (flat, "car")), answer((A, "road"))], [0.8, 0.8], LABELS3
    )
    assert [o.label for o in result.objects] == ["road"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: fuse_polygons([answer()], [], LABELS3), "accuracies"),
        (lambda: fuse_polygons([([A], [])], [0.8], LABELS3), "labels"),
        (lambda: fuse_polygons([answer((A, "bus"))], [0.8], LABELS3), "bus"),
        (lambda: fuse_polygons([answer()], [0.8], LABELS3, quorum=-1), "quorum"),
    ],
)
def test_programming_errors_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- properties -------------------------------------------------------------------------------


def test_every_fused_outline_on_the_simulator_is_one_valid_simple_polygon():
    crowd = make_crowd(MIXES["adversarial"], 10, seed=1)
    for image in simulate_polygons(15, crowd, workers_per_image=5, max_objects=6, seed=2):
        for method in ("vote", "medoid"):
            result = fuse_polygons(
                [(a.shapes, a.labels) for a in image.answers],
                [0.9, 0.7, 0.6, 0.95, 0.3][: len(image.answers)],
                ["car", "bus", "person", "bicycle", "dog"],
                method=method,
            )
            for o in result.objects:
                shape = region(o.points)
                assert shape.geom_type == "Polygon"
                assert shape.is_valid
                assert shape.area > 0
                assert not shape.interiors


corner = st.integers(0, 8).map(float)
square = st.tuples(corner, corner, st.sampled_from([2.0, 3.0, 4.0])).map(
    lambda t: rect(t[0], t[1], t[0] + t[2], t[1] + t[2])
)
worker_answer = st.lists(st.tuples(square, st.sampled_from(LABELS3)), max_size=3)
crowds = st.lists(
    st.tuples(worker_answer, st.sampled_from([0.3, 0.7, 0.9])), min_size=1, max_size=4
)


@given(crowds, st.randoms(use_true_random=False))
@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
def test_fusion_does_not_depend_on_the_order_of_the_workers(crowd, random):
    answers = [answer(*drawn) for drawn, _ in crowd]
    accuracies = [p for _, p in crowd]
    order = list(range(len(crowd)))
    random.shuffle(order)
    base = fuse_polygons(answers, accuracies, LABELS3)
    shuffled = fuse_polygons([answers[i] for i in order], [accuracies[i] for i in order], LABELS3)
    new_index = {old: new for new, old in enumerate(order)}
    assert len(shuffled.objects) == len(base.objects)
    for a, b in zip(shuffled.objects, base.objects, strict=True):
        assert a.label == b.label
        assert a.confidence == b.confidence
        assert region(a.points).equals(region(b.points))
        assert a.support == sorted(new_index[i] for i in b.support)
    assert shuffled.confidence == base.confidence
    assert shuffled.agreement == [base.agreement[i] for i in order]
