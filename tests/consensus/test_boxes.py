"""Box fusion: hand-made answers with hand-computed results, degenerate cases, properties."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consensus.algorithms.boxes import fuse_boxes, fuse_boxes_many
from consensus.algorithms.clusters import crowd_weights
from consensus.algorithms.simulate import LABELS, MIXES, make_crowd, simulate_boxes
from consensus.algorithms.skill import BetaSkill

LABELS3 = ["car", "bus", "person"]


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def answer(*boxes: tuple[list[float], str]) -> tuple[np.ndarray, list[str]]:
    return np.array([b for b, _ in boxes], dtype=float).reshape(-1, 4), [n for _, n in boxes]


# --- weights ----------------------------------------------------------------------------------


def test_weights_are_log_odds_above_chance_and_never_negative():
    w, lam = crowd_weights([0.5, 0.8, 0.1, 1.0, math.nan], n_labels=3)
    assert w[:3] == pytest.approx([0.0, math.log(4), 0.0])  # chance and a spammer weigh 0
    assert math.isfinite(w[3])  # p = 1 is clipped
    assert w[4] == 0.0  # an unknown accuracy counts as chance
    # λ = log((K-1) p / (1-p)): the classification vote's weight, floored at 0
    assert lam[:3] == pytest.approx([math.log(2), math.log(8), 0.0])


def test_separate_label_accuracies_only_change_the_label_weights():
    w, lam = crowd_weights([0.9, 0.9], 3, label_accuracies=[0.9, 1 / 3])
    assert w[0] == w[1]
    assert lam[1] == pytest.approx(0.0)  # a worker at chance on labels does not vote


# --- hand-made fusions ------------------------------------------------------------------------


def test_three_agreeing_workers_by_hand():
    answers = [
        answer(([0, 0, 10, 10], "car")),
        answer(([2, 0, 10, 10], "car")),
        answer(([1, 0, 10, 10], "car")),
    ]
    result = fuse_boxes(answers, [0.8, 0.8, 0.8], LABELS3)
    w = math.log(4)  # logit 0.8
    existence = sigmoid(3 * w)  # 64/65
    label = 8**3 / (8**3 + 2)  # λ = log((3-1)·4) = log 8 each; two other labels score 0
    assert len(result.objects) == 1
    obj = result.objects[0]
    assert obj.label == "car"
    assert obj.bbox == pytest.approx([1, 0, 10, 10])  # equal weights: the plain mean of edges
    assert obj.existence == pytest.approx(64 / 65)
    assert obj.existence == pytest.approx(existence)
    assert obj.label_confidence == pytest.approx(label)
    assert obj.confidence == pytest.approx(existence * label)
    assert obj.support == [0, 1, 2]
    # members' IoU with [1, 0, 10, 10]: 90/110, 90/110, 1
    assert obj.mean_iou == pytest.approx((2 * 90 / 110 + 1) / 3)
    assert result.agreement == [1.0, 1.0, 1.0]
    assert result.weights == pytest.approx([w, w, w])
    assert result.confidence == pytest.approx(existence * label)  # the least certain decision


def test_edges_are_averaged_with_squared_weights():
    answers = [answer(([0, 0, 10, 10], "car")), answer(([1, 2, 10, 10], "car"))]  # IoU 72/128
    result = fuse_boxes(answers, [0.9, 0.6], LABELS3)
    w = [math.log(9), math.log(1.5)]
    share = w[1] ** 2 / (w[0] ** 2 + w[1] ** 2)
    assert result.objects[0].bbox == pytest.approx([share, 2 * share, 10, 10])


def test_the_median_option_takes_the_weighted_median_edge():
    answers = [answer(([x, 0, 10, 10], "car")) for x in (0, 1, 7)]
    result = fuse_boxes(answers, [0.8, 0.8, 0.8], LABELS3, coordinates="median", iou_threshold=0.2)
    assert result.objects[0].bbox == pytest.approx([1, 0, 10, 10])  # the outlier at 7 is ignored


def test_one_wrong_label_is_outvoted_not_split_into_another_object():
    answers = [
        answer(([0, 0, 10, 10], "car")),
        answer(([1, 1, 10, 10], "car")),
        answer(([0, 1, 10, 10], "bus")),
    ]
    result = fuse_boxes(answers, [0.8, 0.8, 0.8], LABELS3)
    assert [o.label for o in result.objects] == ["car"]
    # car scores 2 log 8, bus log 8, person 0: P(car) = 64 / (64 + 8 + 1)
    assert result.objects[0].label_confidence == pytest.approx(64 / 73)
    assert result.objects[0].support == [0, 1, 2]
    assert result.agreement == [1.0, 1.0, 0.0]  # the bus worker's box is not a hit


BROWN, YELLOW = [120, 80, 90, 60], [300, 100, 70, 50]  # two vehicles of one street picture


@pytest.mark.parametrize(
    ("brown", "yellow"),
    [
        (["car"] * 4 + ["bus"] * 3, ["car"] * 7),  # the class split on one vehicle
        (["car"] * 4 + ["bus"] * 3, ["car"] * 4 + ["bus"] * 3),  # on both, the same workers
        (["car"] * 4 + ["bus"] * 3, ["bus"] * 4 + ["car"] * 3),  # on both, crossed
    ],
)
def test_objects_the_crowd_agrees_on_survive_a_class_split_with_the_voted_class(brown, yellow):
    # seven new workers (the prior's accuracy, as scoring passes it) each draw both vehicles at
    # close places, and split 4/3 on the class
    prior = BetaSkill().accuracy
    answers = [
        answer(([120 + k % 3, 80 + k % 2, 90, 60], b), ([300 - k % 2, 100 + k % 3, 70, 50], y))
        for k, (b, y) in enumerate(zip(brown, yellow, strict=True))
    ]
    result = fuse_boxes(answers, [prior] * 7, LABELS3)
    by_place = sorted(result.objects, key=lambda o: o.bbox[0])
    assert [o.label for o in by_place] == [brown[0], yellow[0]]  # the 4-vote class
    assert all(o.support == list(range(7)) and o.existence > 0.999 for o in by_place)
    unanimous = fuse_boxes([answer((BROWN, "car"))] * 7, [prior] * 7, LABELS3)
    split = by_place[0].label_confidence
    assert split < unanimous.objects[0].label_confidence
    # λ = log 8 each: P(car) = 8⁴ / (8⁴ + 8³ + 1)
    assert split == pytest.approx(8**4 / (8**4 + 8**3 + 1))


def test_objects_each_drawn_by_a_minority_of_the_crowd_leave_an_empty_result_with_no_confidence():
    # five workers, three vehicles, and each worker drew only one of them: no vehicle reaches
    # the quorum (half of everyone's weight), so all are dropped, whatever their class
    third = [420, 90, 60, 40]
    drawn = [BROWN, BROWN, YELLOW, YELLOW, third]
    answers = [answer((box, "car")) for box in drawn]
    result = fuse_boxes(answers, [BetaSkill().accuracy] * 5, LABELS3)
    assert result.objects == []
    assert result.agreement == [0.0] * 5
    assert result.confidence == 0.0


def test_a_worker_known_for_wrong_labels_is_outvoted_even_when_alone_against_one():
    answers = [answer(([0, 0, 10, 10], "car")), answer(([0, 0, 10, 10], "bus"))]
    result = fuse_boxes(answers, [0.9, 0.9], LABELS3, label_accuracies=[0.95, 0.4])
    assert [o.label for o in result.objects] == ["car"]


def test_spammer_boxes_are_dropped_and_do_not_move_the_fused_boxes():
    truth = [[10, 10, 20, 20], [100, 50, 40, 30]]
    good_a = answer((truth[0], "car"), (truth[1], "person"))
    good_b = answer(([12, 10, 20, 20], "car"), ([100, 52, 40, 30], "person"))
    spam = answer(
        ([11, 11, 20, 20], "bus"),  # on top of a real object, with the wrong label
        ([300, 300, 50, 50], "car"),
        ([200, 10, 10, 90], "person"),
        ([400, 100, 30, 30], "bus"),
    )
    result = fuse_boxes([good_a, spam, good_b], [0.95, 0.1, 0.95], LABELS3)
    assert result.weights[1] == 0.0
    assert sorted((o.label, tuple(round(v, 6) for v in o.bbox)) for o in result.objects) == [
        ("car", (11.0, 10.0, 20.0, 20.0)),  # the mean of the two good workers only
        ("person", (100.0, 51.0, 40.0, 30.0)),
    ]
    assert result.agreement[1] == 0.0
    assert result.agreement[0] == result.agreement[2] == 1.0


def test_a_cluster_holds_at_most_one_box_per_worker():
    # Worker 0 drew the same object twice; the second box cannot join the cluster.
    answers = [
        answer(([0, 0, 10, 10], "car"), ([0.5, 0, 10, 10], "car")),
        answer(([0, 0, 10, 10], "car")),
    ]
    result = fuse_boxes(answers, [0.8, 0.8], LABELS3)
    assert all(len(set(o.support)) == len(o.support) for o in result.objects)
    # the duplicate is a cluster of worker 0 alone: exactly half the weight, so quorum 0.5 keeps it
    assert len(result.objects) == 2
    assert len(fuse_boxes(answers, [0.8, 0.8], LABELS3, quorum=0.6).objects) == 1


def test_the_quorum_is_a_share_of_everyone_who_answered():
    answers = [answer(([0, 0, 10, 10], "car")), answer(), answer()]
    assert fuse_boxes(answers, [0.8, 0.8, 0.8], LABELS3).objects == []  # 1/3 < 1/2
    kept = fuse_boxes(answers, [0.8, 0.8, 0.8], LABELS3, quorum=1 / 3).objects
    assert len(kept) == 1
    assert kept[0].existence == pytest.approx(sigmoid(-math.log(4)))  # σ(w - 2w) = 0.2


def test_hungarian_matching_gives_the_same_answer_on_a_clear_case():
    answers = [
        answer(([0, 0, 10, 10], "car"), ([50, 50, 10, 10], "bus")),
        answer(([50, 51, 10, 10], "bus"), ([1, 0, 10, 10], "car")),
    ]
    greedy = fuse_boxes(answers, [0.8, 0.9], LABELS3)
    hungarian = fuse_boxes(answers, [0.8, 0.9], LABELS3, matching="hungarian")
    assert greedy == hungarian


# --- degenerate cases -------------------------------------------------------------------------


def test_no_workers_gives_no_objects_and_no_confidence():
    result = fuse_boxes([], [], LABELS3)
    assert result.objects == []
    assert result.confidence == 0.0
    assert result.agreement == []
    assert result.weights == []


def test_everyone_agreeing_there_is_nothing_is_a_confident_empty_answer():
    result = fuse_boxes([answer(), answer(), answer()], [0.8, 0.8, 0.8], LABELS3)
    assert result.objects == []
    assert result.agreement == [1.0, 1.0, 1.0]
    assert result.confidence == pytest.approx(sigmoid(3 * math.log(4)))  # 64/65


def test_one_answer_is_taken_as_it_is_with_the_workers_own_confidence():
    result = fuse_boxes([answer(([5, 5, 10, 20], "bus"))], [0.8], LABELS3)
    assert [o.bbox for o in result.objects] == [[5.0, 5.0, 10.0, 20.0]]
    # one vote: P(object) = p and P(label) = p, as a single classification vote
    assert result.objects[0].confidence == pytest.approx(0.8 * 0.8)
    assert result.confidence == pytest.approx(0.64)
    assert result.agreement == [1.0]


def test_every_worker_disagreeing_sends_the_task_to_review():
    answers = [answer(([0, 0, 10, 10], "car")), answer(([50, 0, 10, 10], "car"))]
    answers.append(answer(([0, 50, 10, 10], "car")))
    result = fuse_boxes(answers, [0.8, 0.8, 0.8], LABELS3)
    assert result.objects == []
    assert result.agreement == [0.0, 0.0, 0.0]
    assert result.confidence == 0.0


def test_a_crowd_of_weightless_workers_is_fused_but_never_confident():
    answers = [answer(([0, 0, 10, 10], "car")), answer(([1, 0, 10, 10], "car"))]
    result = fuse_boxes(answers, [0.2, 0.5], LABELS3)
    assert result.weights == [0.0, 0.0]
    assert [o.bbox for o in result.objects] == [pytest.approx([0.5, 0, 10, 10])]  # equal weights
    assert result.objects[0].existence == pytest.approx(0.5)
    assert result.confidence <= 0.5


def test_boxes_without_area_or_with_non_finite_coordinates_are_ignored():
    answers = [
        answer(([0, 0, 10, 10], "car"), ([5, 5, 0, 3], "car"), ([math.nan, 0, 1, 1], "bus")),
        answer(([0, 0, 10, 10], "car"), ([1, 1, -4, 4], "bus"), ([math.inf, 0, 1, 1], "bus")),
    ]
    result = fuse_boxes(answers, [0.8, 0.8], LABELS3)
    assert [o.bbox for o in result.objects] == [[0.0, 0.0, 10.0, 10.0]]
    assert result.agreement == [1.0, 1.0]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: fuse_boxes([answer()], [0.8, 0.8], LABELS3), "accuracies"),
        (lambda: fuse_boxes([(np.zeros((1, 4)), [])], [0.8], LABELS3), "labels"),
        (lambda: fuse_boxes([answer(([0, 0, 1, 1], "tram"))], [0.8], LABELS3), "tram"),
        (lambda: fuse_boxes([answer()], [0.8], LABELS3, iou_threshold=0), "iou_threshold"),
        (lambda: fuse_boxes([answer()], [0.8], LABELS3, quorum=1.5), "quorum"),
        (lambda: fuse_boxes([answer()], [0.8], LABELS3, label_accuracies=[]), "label_accuracies"),
    ],
)
def test_programming_errors_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- batch and properties ---------------------------------------------------------------------


def test_the_batch_call_gives_exactly_the_per_image_results():
    crowd = make_crowd(MIXES["adversarial"], 12, seed=5)
    images = simulate_boxes(60, crowd, workers_per_image=(1, 5), max_objects=8, seed=6)
    rng = np.random.default_rng(7)
    skill, label_skill = rng.uniform(0, 1, 12), rng.uniform(0, 1, 12)
    tasks = [
        (
            [(a.shapes, a.labels) for a in im.answers],
            [float(skill[a.worker]) for a in im.answers],
            [float(label_skill[a.worker]) for a in im.answers],
        )
        for im in images
    ]
    many = fuse_boxes_many([*tasks, ([], [])], LABELS)
    singles = [fuse_boxes(a, p, LABELS, label_accuracies=q) for a, p, q in tasks]
    assert many[:-1] == singles
    assert many[-1].objects == []
    assert many[-1].confidence == 0.0


grid = st.integers(0, 6).map(lambda v: 5.0 * v)  # a coarse grid: many overlaps and exact ties
box = st.tuples(grid, grid, st.sampled_from([5.0, 10.0, 15.0]), st.sampled_from([5.0, 10.0]))
worker_answer = st.lists(st.tuples(box, st.sampled_from(LABELS3)), max_size=4)
crowds = st.lists(
    st.tuples(worker_answer, st.sampled_from([0.3, 0.6, 0.8, 0.95])), min_size=1, max_size=5
)


@given(crowds, st.randoms(use_true_random=False))
@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_fusion_does_not_depend_on_the_order_of_the_workers(crowd, random):
    answers = [answer(*[(list(b), n) for b, n in drawn]) for drawn, _ in crowd]
    accuracies = [p for _, p in crowd]
    order = list(range(len(crowd)))
    random.shuffle(order)
    base = fuse_boxes(answers, accuracies, LABELS3)
    shuffled = fuse_boxes([answers[i] for i in order], [accuracies[i] for i in order], LABELS3)
    new_index = {old: new for new, old in enumerate(order)}
    assert [(o.label, o.bbox, o.confidence) for o in shuffled.objects] == [
        (o.label, o.bbox, o.confidence) for o in base.objects
    ]
    assert [o.support for o in shuffled.objects] == [
        sorted(new_index[i] for i in o.support) for o in base.objects
    ]
    assert shuffled.confidence == base.confidence
    assert shuffled.agreement == [base.agreement[i] for i in order]
    assert shuffled.weights == [base.weights[i] for i in order]


@given(crowds)
@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_fusion_outputs_are_probabilities_and_supported_by_distinct_workers(crowd):
    answers = [answer(*[(list(b), n) for b, n in drawn]) for drawn, _ in crowd]
    result = fuse_boxes(answers, [p for _, p in crowd], LABELS3)
    assert 0.0 <= result.confidence <= 1.0
    assert all(0.0 <= a <= 1.0 for a in result.agreement)
    for o in result.objects:
        assert 0.0 <= o.confidence <= o.existence <= 1.0
        assert 0.0 <= o.label_confidence <= 1.0
        assert len(set(o.support)) == len(o.support) >= 1
        assert o.bbox[2] > 0
        assert o.bbox[3] > 0
