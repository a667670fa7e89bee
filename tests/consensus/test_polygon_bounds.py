"""Polygon fusion's work is bounded: adversarial combs use the raster, typical crowds stay exact."""

import numpy as np
import pytest
import shapely

from annotations.models import Annotation, ScoreState, Task
from annotations.services.intake import IncomingFile, tasks_create_from_files
from consensus.algorithms import geometry, polygons
from consensus.algorithms.geometry import (
    EXACT_MAX_EDGE_PAIRS,
    as_polygons,
    edge_pairs,
    polygon_iou_matrix,
    raster_fill,
)
from consensus.algorithms.polygons import (
    VOTE_MAX_EDGE_PAIRS,
    fuse_polygons,
    mask_outline,
    overlay_vote,
    raster_vote,
    vote_polygon,
)
from consensus.algorithms.simulate import (
    LABELS,
    MIXES,
    comb_polygon,
    make_crowd,
    simulate_polygons,
)
from consensus.models import ConsensusResult
from tests.helpers import lease, png_bytes, submit

SIZE = 1000.0


def comb_crowd(teeth: int, members: int = 5) -> list[tuple[list[np.ndarray], list[str]]]:
    """A comb, its transpose (x and y swapped) and shifted copies of both."""
    a, pitch = comb_polygon(teeth), SIZE / teeth
    shapes = [a, a[:, ::-1], a + [pitch / 3, 5], a[:, ::-1] + [5, pitch / 3], a - [pitch / 4, 3]]
    return [([s], ["road"]) for s in shapes[:members]]


def shapes_of(answers) -> np.ndarray:
    return as_polygons([s for drawn, _ in answers for s in drawn])


@pytest.fixture
def exact_forbidden(monkeypatch):
    """The exact vote fails, and every exact intersection is checked to be within the cap."""

    def no_overlay(*_args):
        raise AssertionError("the exact overlay vote ran on an adversarial cluster")

    exact_areas = geometry._exact_intersection_areas

    def bounded_areas(a, b):
        for ga, gb in zip(a, b, strict=True):
            pair = np.array([ga, gb], dtype=object)
            assert edge_pairs(pair, cap=EXACT_MAX_EDGE_PAIRS) <= EXACT_MAX_EDGE_PAIRS
        return exact_areas(a, b)

    monkeypatch.setattr(polygons, "overlay_vote", no_overlay)
    monkeypatch.setattr(geometry, "_exact_intersection_areas", bounded_areas)


@pytest.fixture
def raster_only(monkeypatch):
    """Every vote and every intersection of overlapping outlines on the raster."""
    monkeypatch.setattr(geometry, "EXACT_MAX_EDGE_PAIRS", 0)
    monkeypatch.setattr(polygons, "VOTE_MAX_EDGE_PAIRS", 0)


def majority_mask(geoms: np.ndarray, cells: int = 2048) -> tuple[np.ndarray, tuple]:
    """Cells of a fine grid covered by at least half of ``geoms`` (equal weights)."""
    bounds = shapely.bounds(geoms)
    window = (*bounds[:, :2].min(axis=0), *bounds[:, 2:].max(axis=0))
    cover = sum(raster_fill(g, window, (cells, cells)).astype(int) for g in geoms)
    return 2 * cover >= len(geoms), window


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    return np.count_nonzero(a & b) / np.count_nonzero(a | b)


# --- the adversarial input --------------------------------------------------------------------


@pytest.mark.parametrize("teeth", [30, 60, 120, 249])
def test_the_combs_are_valid_simple_polygons_of_about_a_thousand_points(teeth):
    for drawn, _ in comb_crowd(teeth):
        shape = shapely.Polygon(drawn[0])
        assert shape.is_valid
        assert 900 <= len(drawn[0]) <= 1000
        assert shape.area == pytest.approx(0.82 * SIZE**2)


def test_a_comb_and_its_transpose_cluster_and_cross_far_beyond_the_cap():
    shapes = shapes_of(comb_crowd(249, members=2))
    assert polygon_iou_matrix(shapes[:1], shapes[1:])[0, 0] == pytest.approx(0.695, abs=0.02)
    assert edge_pairs(shapes, cap=VOTE_MAX_EDGE_PAIRS) == VOTE_MAX_EDGE_PAIRS + 1
    assert edge_pairs(shapes, cap=10**9) > 200_000  # ~(2 · 249)² crossings


@pytest.mark.parametrize("teeth", [60, 249])
@pytest.mark.usefixtures("exact_forbidden")
def test_five_adversarial_combs_fuse_on_the_raster_into_the_majority_region(teeth):
    answers = comb_crowd(teeth)
    result = fuse_polygons(answers, [0.8] * 5, ["road"])
    assert len(result.objects) == 1
    fused = shapely.Polygon(result.objects[0].points)
    assert fused.is_valid
    assert not fused.interiors
    majority, window = majority_mask(shapes_of(answers))
    assert mask_iou(raster_fill(fused, window, majority.shape[::-1]), majority) > 0.95
    assert result.objects[0].support == [0, 1, 2, 3, 4]
    assert result.objects[0].mean_iou == pytest.approx(0.81, abs=0.03)


@pytest.mark.usefixtures("exact_forbidden")
def test_two_accounts_with_a_comb_and_its_transpose_get_their_union_outline():
    # Two equal weights: half the weight is either member, so the vote is the union, whose
    # outline is the whole square but for notches a tenth of a pitch deep.
    result = fuse_polygons(comb_crowd(249, members=2), [0.8, 0.8], ["road"])
    fused = shapely.Polygon(result.objects[0].points)
    assert fused.is_valid
    square = shapely.box(0, 0, SIZE, SIZE)
    assert fused.intersection(square).area / fused.union(square).area > 0.98


def test_the_raster_vote_matches_the_exact_vote_where_both_can_run():
    shapes = shapes_of(comb_crowd(12))
    weights = np.array([0.9, 1.4, 0.5, 1.1, 0.7])
    exact, raster = overlay_vote(shapes, weights), raster_vote(shapes, weights)
    assert raster.is_valid
    assert raster.intersection(exact).area / raster.union(exact).area > 0.98


def test_raster_intersections_are_close_to_the_exact_ones():
    a, b = shapes_of(comb_crowd(30, members=2))
    exact = shapely.intersection(a, b).area
    assert geometry.raster_intersection_area(a, b) == pytest.approx(exact, rel=0.01)


# --- typical crowds stay exact ------------------------------------------------------------------


def test_a_typical_crowd_fuses_exactly_as_without_the_bound(monkeypatch):
    crowd = make_crowd(MIXES["mostly-good"], 10, seed=3)
    images = simulate_polygons(12, crowd, workers_per_image=5, max_objects=6, seed=4)
    calls = [
        ([(a.shapes, a.labels) for a in im.answers], [0.9, 0.7, 0.6, 0.95, 0.8]) for im in images
    ]

    def no_raster(*_args):
        raise AssertionError("a typical crowd reached the raster")

    monkeypatch.setattr(polygons, "raster_vote", no_raster)
    monkeypatch.setattr(geometry, "raster_intersection_area", no_raster)
    bounded = [fuse_polygons(answers, p, LABELS) for answers, p in calls]
    monkeypatch.setattr(geometry, "EXACT_MAX_EDGE_PAIRS", 10**18)
    monkeypatch.setattr(polygons, "VOTE_MAX_EDGE_PAIRS", 10**18)
    unbounded = [fuse_polygons(answers, p, LABELS) for answers, p in calls]
    assert sum(len(r.objects) for r in bounded) > 20
    assert bounded == unbounded


def test_copies_of_a_detailed_outline_vote_to_that_outline():
    phi = np.linspace(0, 2 * np.pi, 1000, endpoint=False)
    radius = 300 * (1 + 0.2 * np.sin(3 * phi))
    blob = np.column_stack([500 + radius * np.cos(phi), 500 + radius * np.sin(phi)])
    geoms = as_polygons([blob] * 5)
    assert edge_pairs(geoms, cap=VOTE_MAX_EDGE_PAIRS) > VOTE_MAX_EDGE_PAIRS
    assert vote_polygon(geoms, np.ones(5)).equals(geoms[0])


# --- the raster path on odd input ---------------------------------------------------------------


@pytest.mark.usefixtures("raster_only")
def test_on_the_raster_every_fused_outline_is_one_valid_simple_polygon_in_any_worker_order():
    crowd = make_crowd(MIXES["adversarial"], 10, seed=1)
    accuracies = [0.9, 0.7, 0.6, 0.95, 0.3]
    for image in simulate_polygons(10, crowd, workers_per_image=5, max_objects=6, seed=2):
        answers = [(a.shapes, a.labels) for a in image.answers]
        p = accuracies[: len(answers)]
        result = fuse_polygons(answers, p, LABELS)
        reverse = fuse_polygons(answers[::-1], p[::-1], LABELS)
        assert [o.points for o in result.objects] == [o.points for o in reverse.objects]
        for o in result.objects:
            shape = shapely.Polygon(o.points)
            assert shape.is_valid
            assert shape.area > 0


def test_the_traced_outline_is_the_largest_region_without_its_holes():
    mask = np.zeros((7, 7), dtype=bool)
    mask[1:6, 1:6] = True
    mask[3, 3] = False  # a hole
    mask[0, 0] = True  # touches the square only at a corner: a region of its own
    outline = mask_outline(mask, (0.0, 0.0, 70.0, 7.0))
    assert outline.is_valid
    assert not outline.interiors
    # Through the midpoints of the cell edges: the 5 × 5 square with its corners cut by half a cell.
    assert outline.area == pytest.approx(50 * 5 - 4 * 5 * 0.5 / 2)
    assert outline.within(shapely.box(10, 1, 60, 6))


def test_a_region_touching_itself_at_a_corner_still_gives_a_simple_ring():
    mask = np.array([[1, 1, 1, 0], [1, 0, 1, 0], [1, 1, 0, 1], [0, 0, 1, 1]], dtype=bool)
    outline = mask_outline(mask, (0.0, 0.0, 4.0, 4.0))
    assert outline.is_valid
    # 7 cells; a convex corner cut loses 1/8 cell, a concave one adds 1/8, and a simple ring has
    # four more convex corners than concave ones.
    assert outline.area == pytest.approx(7 - 4 / 8)
    assert mask_outline(np.zeros((3, 3), dtype=bool), (0.0, 0.0, 1.0, 1.0)).is_empty


def test_the_scanline_fill_follows_the_even_odd_rule_through_holes_and_parts():
    holed = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2), (1, 2)]])
    two = shapely.MultiPolygon([holed, shapely.box(5, 0, 6, 1)])
    filled = raster_fill(two, (0.0, 0.0, 6.0, 4.0), (12, 8))
    assert filled.sum() * 0.25 == pytest.approx(two.area)
    assert not filled[2:4, 2:4].any()


@pytest.mark.django_db
def test_two_accounts_submitting_combs_through_the_api_get_their_task_scored(
    make_project, worker_clients, django_capture_on_commit_callbacks
):
    # given a polygon project of one large image and two accounts with hostile combs
    project = make_project("polygon", images=0, redundancy_min=2, redundancy_max=3)
    files = [IncomingFile("images[0]", "big.png", lambda: png_bytes(int(SIZE) + 1, int(SIZE) + 1))]
    tasks_create_from_files(project=project, files=iter(files))
    teeth = comb_polygon(249)
    for client, points in zip(worker_clients, (teeth, teeth[:, ::-1]), strict=False):
        work = lease(client, project)
        payload = {"polygons": [{"label": "car", "points": points.round(3).tolist()}]}
        # when each submits, scoring running at once after commit
        with django_capture_on_commit_callbacks(execute=True):
            assert submit(client, work["assignment"], payload).status_code == 201
    # then the task was scored (decided or asking for one more answer), nothing left pending
    task = Task.objects.get(project=project)
    assert ConsensusResult.objects.filter(task=task).exists()
    states = set(Annotation.objects.filter(task=task).values_list("score_state", flat=True))
    assert states == {ScoreState.SCORED}
