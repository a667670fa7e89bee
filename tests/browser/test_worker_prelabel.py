"""Pre-labelling in chromium, at 1280×800 with the mouse and on a 360×640 touch screen: a model's
prediction opens in the worker's tool as an ordinary answer under a short note; sent unchanged it
is stored as kept, edited (another class, a box moved, deleted or added, a polygon relabelled and
reshaped) it is stored as the worker's correction; without pre-labelling, or while a task of the
project has no prediction, the tool opens empty and the note stays hidden."""

from __future__ import annotations

import pytest

from annotations.models import Annotation, Project
from predictions.services import PredictionItem, predictions_store
from tests.browser.worker_helpers import (
    artefact,
    mouse_drag,
    open_label_page,
    outside_viewport,
    project_with_images,
    sign_up,
    stored_answer,
    touch_drag,
    touch_tap,
)

DESK = {"viewport": (1280, 800)}
PHONE = {"viewport": (360, 640), "touch": True}
SIZES = pytest.mark.parametrize("size", [DESK, PHONE], ids=["desk", "phone"])
KINDS = ["classification", "moderation", "bbox", "polygon"]
SQUARE = [[100, 100], [300, 100], [300, 300], [100, 300]]
TRIANGLE = [[400, 50], [500, 50], [450, 120]]
# What the model predicted (scores on the class or on each shape), on a 640×480 image.
PREDICTIONS = {
    "classification": {"label": "taxi", "score": 0.9},
    "moderation": {"verdict": "unsafe", "categories": ["violence"], "score": 0.9},
    "bbox": {
        "boxes": [
            {"label": "car", "bbox": [100, 80, 120, 80], "score": 0.9},
            {"label": "taxi", "bbox": [300, 200, 100, 100], "score": 0.8},
        ]
    },
    "polygon": {
        "polygons": [
            {"label": "road", "points": SQUARE, "score": 0.9},
            {"label": "car", "points": TRIANGLE, "score": 0.7},
        ]
    },
}


def proposal(kind: str) -> dict:
    """The prediction as the tool opens with it: without its scores."""
    predicted = PREDICTIONS[kind]
    if kind in ("bbox", "polygon"):
        [(key, shapes)] = predicted.items()
        return {key: [{k: v for k, v in s.items() if k != "score"} for s in shapes]}
    return {k: v for k, v in predicted.items() if k != "score"}


def prelabelled_project(
    owner, kind: str, *, prelabel: bool = True, images: int = 1, predicted: int | None = None
) -> Project:
    """A project whose first ``predicted`` tasks (all by default) a model has predicted."""
    project = project_with_images(owner, kind, images=images, prelabel=prelabel)
    tasks = list(project.tasks.order_by("original_name"))[:predicted]
    items = [
        PredictionItem(str(task.pk), PREDICTIONS[kind], f"predictions[{i}]")
        for i, task in enumerate(tasks)
    ]
    predictions_store(project=project, model="m@1", items=items)
    return project


@pytest.fixture
def open_page(new_page):
    """Open the page at a size; at the end, wait until it has stopped asking the server, so no
    request is still in it while the test database is emptied."""
    pages = []

    def open_at(size: dict, username: str):
        pages.append(new_page(**size))
        sign_up(pages[-1], username)
        return pages[-1]

    yield open_at
    for page in pages:
        page.wait_for_function(
            "() => !['loading', 'sending'].includes(document.getElementById('labeller')?.dataset.state)"
        )


def press(page, size: dict, selector: str) -> None:
    """A click with the mouse on the desk, a finger's tap on the phone."""
    if size.get("touch"):
        touch_tap(page, selector)
        page.wait_for_timeout(150)  # two taps in quick succession are not a double tap
    else:
        page.click(selector)


def drag(page, size: dict, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A drag from image pixel ``start`` to ``end``: the mouse on the desk, a finger on the phone."""
    (touch_drag if size.get("touch") else mouse_drag)(page, start, end)


def submit(page, size: dict, project: Project):
    """Send the answer; the only task gone, the page says there is nothing more."""
    press(page, size, "#submit")
    answer = stored_answer(project)
    page.wait_for_selector("#labeller[data-state=empty]")
    return answer


def pressed(page) -> list[str]:
    """The tool's buttons shown pressed, by their text less the key."""
    texts = page.locator("#tools button[aria-pressed=true]").all_inner_texts()
    return [t.split(" ", 1)[-1].strip() for t in texts]


def boxes_drawn(page) -> list[list[float]]:
    """The boxes on the stage, in image pixels."""
    return page.eval_on_selector_all(
        "rect.box",
        "els => els.map(e => ['x', 'y', 'width', 'height'].map(a => +e.getAttribute(a)))",
    )


@SIZES
@pytest.mark.parametrize("kind", KINDS)
def test_the_proposal_opens_as_the_answer_and_sent_unchanged_is_kept(
    open_page, requester, kind, size, tmp_path
):
    # given a pre-labelled project whose one task a model has predicted
    project = prelabelled_project(requester, kind)
    page = open_page(size, f"keeper_{kind}")
    # when the worker opens the labelling page
    open_label_page(page, project)
    # then the note says where the answer came from, and it fits the screen with the tools
    note = page.locator("#proposal-note")
    assert note.is_visible()
    assert "Pre-labelled by a model" in note.inner_text()
    assert (
        outside_viewport(page, "#proposal-note, #stage-wrap, #tools button, #submit, #message")
        == []
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= size["viewport"][0]
    assert page.locator("#stage-wrap").bounding_box()["height"] >= 150
    # and the tool holds the model's answer as if the worker had given it
    if kind == "classification":
        assert pressed(page) == ["taxi"]
    elif kind == "moderation":
        assert pressed(page) == ["Unsafe", "violence"]
    elif kind == "bbox":
        assert boxes_drawn(page) == [[100, 80, 120, 80], [300, 200, 100, 100]]
        assert page.locator("text.shape-label").all_text_contents() == ["car", "taxi"]
    else:
        assert page.locator("polygon.polygon").count() == 2
        assert page.locator("text.shape-label").all_text_contents() == ["road", "car"]
    page.screenshot(path=artefact(tmp_path, f"prelabel-{kind}-{size['viewport'][0]}.png"))
    # when it is sent as it came
    answer = submit(page, size, project)
    # then the stored answer is the proposal, kept, and the note goes with the task
    assert answer.payload == proposal(kind)
    assert answer.kept_proposal is True
    assert not note.is_visible()


@SIZES
@pytest.mark.parametrize(
    ("kind", "button", "corrected"),
    [
        ("classification", "#tools button:has-text('truck')", {"label": "truck"}),
        ("moderation", "#tools button.safe", {"verdict": "safe", "categories": []}),
    ],
    ids=["classification", "moderation"],
)
def test_another_class_or_verdict_is_stored_as_a_correction(
    open_page, requester, kind, button, corrected, size
):
    project = prelabelled_project(requester, kind)
    page = open_page(size, f"corrector_{kind}")
    open_label_page(page, project)
    assert pressed(page) == (["taxi"] if kind == "classification" else ["Unsafe", "violence"])
    # when the worker picks another answer than the model's
    press(page, size, button)
    assert pressed(page) == (["truck"] if kind == "classification" else ["Safe"])
    answer = submit(page, size, project)
    # then the worker's answer is stored, not kept
    assert answer.payload == corrected
    assert answer.kept_proposal is False


@SIZES
@pytest.mark.parametrize("edit", ["move", "delete", "draw"])
def test_a_moved_deleted_or_added_box_is_stored_as_a_correction(open_page, requester, edit, size):
    project = prelabelled_project(requester, "bbox")
    page = open_page(size, f"boxer_{edit}")
    open_label_page(page, project)
    car, taxi = proposal("bbox")["boxes"]
    # when the worker moves the taxi 40 px right, or selects and deletes it, or draws a box
    if edit == "move":
        drag(page, size, (350, 250), (390, 250))
        expected = [car, {"label": "taxi", "bbox": [340, 200, 100, 100]}]
    elif edit == "delete":
        press(page, size, "rect.box >> nth=1")
        press(page, size, "#delete")
        expected = [car]
    else:
        drag(page, size, (450, 350), (600, 450))
        expected = [car, taxi, {"label": "car", "bbox": [450, 350, 150, 100]}]
    assert page.locator("rect.box").count() == len(expected)
    answer = submit(page, size, project)
    # then the stored boxes are the edited ones (within screen rounding), and not kept
    boxes = answer.payload["boxes"]
    assert [b["label"] for b in boxes] == [b["label"] for b in expected]
    for got, want in zip(boxes, expected, strict=True):
        assert got["bbox"] == pytest.approx(want["bbox"], abs=3)  # a phone px is ~2 image px
    assert answer.kept_proposal is False


@SIZES
def test_a_relabelled_polygon_with_a_dragged_vertex_is_stored_as_a_correction(
    open_page, requester, size
):
    project = prelabelled_project(requester, "polygon")
    page = open_page(size, "outliner")
    open_label_page(page, project)
    # when the worker selects the road, calls it a car and drags one corner out
    press(page, size, "polygon.polygon >> nth=0")
    assert page.locator("polygon.polygon.selected").count() == 1
    press(page, size, "button.choice[data-label=car]")
    drag(page, size, (300, 300), (350, 320))
    answer = submit(page, size, project)
    # then both polygons are stored, the first edited, and the answer is not the proposal kept
    road, triangle = answer.payload["polygons"]
    assert road["label"] == "car"
    for got, want in zip(
        road["points"], [[100, 100], [300, 100], [350, 320], [100, 300]], strict=True
    ):
        assert got == pytest.approx(want, abs=3)
    assert triangle == proposal("polygon")["polygons"][1]
    assert answer.kept_proposal is False


@SIZES
def test_an_edit_undone_leaves_the_proposal_kept(open_page, requester, size):
    project = prelabelled_project(requester, "bbox")
    page = open_page(size, "second_thoughts")
    open_label_page(page, project)
    # when the worker moves a proposed box, then undoes the move
    drag(page, size, (160, 120), (260, 220))
    assert boxes_drawn(page)[0] != [100, 80, 120, 80]
    press(page, size, "#undo")
    assert boxes_drawn(page) == [[100, 80, 120, 80], [300, 200, 100, 100]]
    # and undoes once more: the proposal is where the task starts, so it stays
    press(page, size, "#undo")
    assert page.locator("rect.box").count() == 2
    answer = submit(page, size, project)
    assert answer.payload == proposal("bbox")
    assert answer.kept_proposal is True


@pytest.mark.parametrize("kind", ["classification", "bbox"])
@pytest.mark.parametrize("case", ["prelabel_off", "a_task_unpredicted"])
def test_no_proposal_and_no_note_without_prelabelling_or_a_prediction_for_every_task(
    open_page, requester, kind, case
):
    # given predictions, but pre-labelling off, or on while one of two tasks has none
    if case == "prelabel_off":
        project = prelabelled_project(requester, kind, prelabel=False)
    else:
        project = prelabelled_project(requester, kind, images=2, predicted=1)
    page = open_page(DESK, f"unaided_{kind}")
    open_label_page(page, project)
    labelled = []
    while page.get_attribute("#labeller", "data-state") == "ready":
        labelled.append(page.get_attribute("#labeller", "data-task"))
        # then every task, the predicted one too, opens with an empty tool and no note
        assert not page.locator("#proposal-note").is_visible()
        if kind == "classification":
            assert pressed(page) == []
            page.keyboard.press("2")
        else:
            assert page.locator("rect.box").count() == 0
            mouse_drag(page, (100, 80), (220, 160))
        page.click("#submit")
        page.wait_for_function(
            """task => {
                const { state, task: now } = document.getElementById('labeller').dataset;
                return state === 'empty' || (state === 'ready' && now !== task);
            }""",
            arg=labelled[-1],
        )
    assert len(labelled) == project.tasks.count()
    # and the worker's own answers, like the prediction as they are, are not kept proposals
    answers = Annotation.objects.filter(task__project=project)
    assert [a.kept_proposal for a in answers] == [False] * len(labelled)
    for answer in answers:
        if kind == "classification":
            assert answer.payload == {"label": "taxi"}
        else:
            assert answer.payload["boxes"][0]["bbox"] == pytest.approx([100, 80, 120, 80], abs=1)
