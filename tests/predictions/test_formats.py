"""Prediction files parsed into payloads: COCO results and Ultralytics YOLO .txt, each bad input
refused with the exact field, and normalised coordinates scaled to pixels."""

import json
from typing import Any

import pytest

from predictions.formats import (
    FilePrediction,
    coco_results_parse,
    scale_to_pixels,
    yolo_txt_parse,
)
from predictions.formats import common as limits
from sebenzai.common.errors import PayloadInvalid

LABELS = ("car", "bus", "traffic light")


def coco(data: Any) -> bytes:
    return json.dumps(data).encode()


def detection(image_id: Any = "a.jpg", category_id: int = 1, **changes: Any) -> dict:
    base = {"image_id": image_id, "category_id": category_id, "bbox": [1, 2, 3, 4], "score": 0.5}
    return base | changes


def refused(parse: Any, data: Any, kind: str = "bbox") -> PayloadInvalid:
    with pytest.raises(PayloadInvalid) as caught:
        parse(data, kind=kind, labels=LABELS)
    return caught.value


# --- COCO results, happy paths ------------------------------------------------------------------


def test_a_results_list_is_grouped_per_image_in_file_order_with_labels_numbered_from_one():
    # given a detector's results list whose detections of two images interleave
    results = [
        detection("a.jpg", 1, bbox=[10, 20, 30, 40], score=0.9),
        detection("b.jpg", 3, bbox=[0, 0, 5, 5], score=0.25),
        detection("a.jpg", 2, bbox=[50.5, 60, 7, 8], score=0.75),
    ]
    # when it is parsed for a box project
    predictions = coco_results_parse(coco(results), kind="bbox", labels=LABELS)
    # then each image is one prediction, its boxes in file order, category 1 the first label
    assert predictions == [
        FilePrediction(
            image="a.jpg",
            payload={
                "boxes": [
                    {"label": "car", "bbox": [10, 20, 30, 40], "score": 0.9},
                    {"label": "bus", "bbox": [50.5, 60, 7, 8], "score": 0.75},
                ]
            },
            where="file[0]",
            shapes_where=("file[0]", "file[2]"),
        ),
        FilePrediction(
            image="b.jpg",
            payload={"boxes": [{"label": "traffic light", "bbox": [0, 0, 5, 5], "score": 0.25}]},
            where="file[1]",
            shapes_where=("file[1]",),
        ),
    ]
    assert not predictions[0].normalised


def test_a_dataset_maps_categories_by_name_and_keeps_images_without_detections():
    # given images, categories numbered unlike the project, and detections on one image only
    data = {
        "images": [{"id": 7, "file_name": "cam/a.jpg"}, {"id": 9, "file_name": "b"}],
        "categories": [{"id": 3, "name": "bus"}, {"id": 80, "name": "car"}],
        "annotations": [detection(7, 80), detection(7, 3, score=1)],
    }
    # when it is parsed
    predictions = coco_results_parse(coco(data), kind="bbox", labels=LABELS)
    # then the ids map through the names, and the image without detections predicts none
    assert [p.image for p in predictions] == ["cam/a.jpg", "b"]
    assert [box["label"] for box in predictions[0].payload["boxes"]] == ["car", "bus"]
    assert predictions[0].where == "file.images[0]"
    assert predictions[0].shapes_where == ("file.annotations[0]", "file.annotations[1]")
    assert predictions[1] == FilePrediction(
        image="b", payload={"boxes": []}, where="file.images[1]"
    )


def test_a_dataset_without_categories_numbers_them_as_our_export_does():
    # given a dataset with string image ids and no categories
    data = {
        "images": [{"id": "x", "file_name": "x.png"}],
        "annotations": [detection("x", 3), detection("x", 1)],
    }
    # when it is parsed
    (prediction,) = coco_results_parse(coco(data), kind="bbox", labels=LABELS)
    # then category n is the n-th label
    assert [box["label"] for box in prediction.payload["boxes"]] == ["traffic light", "car"]


def test_coco_polygons_take_the_first_ring_as_points():
    # given a segmentation result with two rings
    ring = [0, 0, 10, 0, 10, 5.5]
    result = detection(segmentation=[ring, [1, 1, 2, 2, 3, 1]], score=0.7)
    # when it is parsed for a polygon project
    (prediction,) = coco_results_parse(coco([result]), kind="polygon", labels=LABELS)
    # then the first ring becomes x, y points
    assert prediction.payload == {
        "polygons": [{"label": "car", "points": [[0, 0], [10, 0], [10, 5.5]], "score": 0.7}]
    }


def test_a_byte_order_mark_is_accepted():
    data = b"\xef\xbb\xbf" + coco([detection()])
    assert coco_results_parse(data, kind="bbox", labels=LABELS)[0].image == "a.jpg"


# --- COCO results, refused ----------------------------------------------------------------------


def annotations(bad: dict, at: int = 12) -> bytes:
    """A dataset whose annotation ``at`` is ``bad``, the others good."""
    items = [detection(1) for _ in range(at)] + [bad]
    return coco({"images": [{"id": 1, "file_name": "a.jpg"}], "annotations": items})


NO_SCORE = {k: v for k, v in detection().items() if k != "score"}


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        (b"\xff\xfe[]", "invalid_encoding", "file"),
        (b"[{", "invalid_json", "file"),
        (b"[" * 100_000, "invalid_json", "file"),  # nested too deeply for the parser
        (b"1" * 5000, "invalid_json", "file"),  # an integer too long to convert
        (b'"results"', "invalid_format", "file"),
        (coco([detection(), 3]), "invalid_format", "file[1]"),
        (coco([detection(), NO_SCORE]), "invalid_score", "file[1].score"),
        (annotations(detection(1, score=1.5)), "invalid_score", "file.annotations[12].score"),
        (annotations(detection(1, score=-0.1)), "invalid_score", "file.annotations[12].score"),
        (annotations(detection(1, score=True)), "invalid_score", "file.annotations[12].score"),
        (annotations(detection(1, score="0.5")), "invalid_score", "file.annotations[12].score"),
        (
            annotations(detection(1, score=float("nan"))),
            "invalid_score",
            "file.annotations[12].score",
        ),
        (coco([detection(bbox=[1, 2, 3])]), "invalid_format", "file[0].bbox"),
        (coco([detection(bbox=None)]), "invalid_format", "file[0].bbox"),
        (coco([detection(bbox=[1, 2, "3", 4])]), "invalid_number", "file[0].bbox[2]"),
        (coco([detection(bbox=[1, 2, 3, float("inf")])]), "invalid_number", "file[0].bbox[3]"),
        (
            b'[{"image_id": "a", "category_id": 1, "score": 1, "bbox": [1e999, 0, 1, 1]}]',
            "invalid_number",
            "file[0].bbox[0]",
        ),
        (coco([detection(bbox=[10**400, 0, 1, 1])]), "invalid_number", "file[0].bbox[0]"),
        (coco([detection(image_id=4)]), "invalid_format", "file[0].image_id"),
        (coco([detection(image_id="")]), "invalid_format", "file[0].image_id"),
        (coco([detection(category_id=0)]), "unknown_category", "file[0].category_id"),
        (coco([detection(category_id=4)]), "unknown_category", "file[0].category_id"),
        (coco([detection(category_id="1")]), "unknown_category", "file[0].category_id"),
        (coco({"annotations": []}), "invalid_format", "file.images"),
        (coco({"images": []}), "invalid_format", "file.annotations"),
        (coco({"images": {}, "annotations": []}), "invalid_format", "file.images"),
        (annotations(detection(2), at=0), "unknown_image", "file.annotations[0].image_id"),
        (annotations(detection("1"), at=1), "unknown_image", "file.annotations[1].image_id"),
        (
            coco(
                {
                    "images": [{"id": 1, "file_name": "a"}, {"id": 1, "file_name": "b"}],
                    "annotations": [],
                }
            ),
            "duplicate",
            "file.images[1]",
        ),
        (
            coco(
                {
                    "images": [{"id": 1, "file_name": "a"}, {"id": 2, "file_name": "a"}],
                    "annotations": [],
                }
            ),
            "duplicate",
            "file.images[1]",
        ),
        (
            coco({"images": [{"id": 1.5, "file_name": "a"}], "annotations": []}),
            "invalid_format",
            "file.images[0].id",
        ),
        (
            coco({"images": [{"id": 1}], "annotations": []}),
            "invalid_format",
            "file.images[0].file_name",
        ),
        (
            coco(
                {
                    "images": [],
                    "annotations": [],
                    "categories": [{"id": 1, "name": "car"}, {"id": 1, "name": "bus"}],
                }
            ),
            "duplicate",
            "file.categories[1].id",
        ),
        (
            coco({"images": [], "annotations": [], "categories": [{"id": 1, "name": 5}]}),
            "invalid_format",
            "file.categories[0].name",
        ),
    ],
)
def test_coco_bad_input_is_refused_naming_the_field(data, code, field):
    error = refused(coco_results_parse, data)
    assert (error.code, error.field) == (code, field), error.message


def test_a_category_whose_name_is_not_a_label_is_refused_naming_it():
    # given a dataset whose detection's category is a class the project does not have
    data = {
        "images": [{"id": 1, "file_name": "a.jpg"}],
        "categories": [{"id": 1, "name": "car"}, {"id": 8, "name": "truck"}],
        "annotations": [detection(1, 1), detection(1, 8)],
    }
    # when it is parsed
    error = refused(coco_results_parse, coco(data))
    # then the detection is named, and so is the category
    assert (error.code, error.field) == ("unknown_category", "file.annotations[1].category_id")
    assert "'truck'" in error.message


def test_a_category_id_missing_from_categories_is_refused():
    data = {
        "images": [{"id": 1, "file_name": "a.jpg"}],
        "categories": [{"id": 1, "name": "car"}],
        "annotations": [detection(1, 2)],
    }
    error = refused(coco_results_parse, coco(data))
    assert (error.code, error.field) == ("unknown_category", "file.annotations[0].category_id")


@pytest.mark.parametrize(
    ("segmentation", "code", "field"),
    [
        ({"counts": "abc", "size": [4, 4]}, "unsupported", "file[0].segmentation"),
        ([], "invalid_format", "file[0].segmentation"),
        ([1, 2, 3, 4, 5, 6], "invalid_format", "file[0].segmentation"),
        ([[0, 0, 1, 0, 1]], "invalid_format", "file[0].segmentation[0]"),
        ([[0, 0, 1, 0, 1, None]], "invalid_number", "file[0].segmentation[0][5]"),
    ],
)
def test_coco_bad_segmentations_are_refused(segmentation, code, field):
    error = refused(coco_results_parse, coco([detection(segmentation=segmentation)]), "polygon")
    assert (error.code, error.field) == (code, field), error.message


def test_rle_masks_are_refused_with_a_hint():
    rle = {"counts": "abc", "size": [4, 4]}
    error = refused(coco_results_parse, coco([detection(segmentation=rle)]), "polygon")
    assert error.message == "RLE masks are not supported; give polygons."


def test_a_polygon_result_without_segmentation_is_refused():
    error = refused(coco_results_parse, coco([detection()]), "polygon")
    assert (error.code, error.field) == ("invalid_format", "file[0].segmentation")


@pytest.mark.parametrize("kind", ["classification", "moderation", "video"])
def test_coco_results_for_other_kinds_are_refused(kind):
    error = refused(coco_results_parse, coco([detection()]), kind)
    assert (error.code, error.field) == ("unsupported", "file")


def test_a_coco_file_over_the_detection_limit_is_refused_before_any_is_read():
    # given one more result than the limit, none of them even an object
    data = b"[" + b",".join([b"0"] * (limits.MAX_DETECTIONS + 1)) + b"]"
    # when it is parsed, then the count is refused, not the first item
    error = refused(coco_results_parse, data)
    assert (error.code, error.field) == ("too_large", "file")


def test_a_dataset_over_the_image_limit_is_refused(monkeypatch):
    monkeypatch.setattr(limits, "MAX_DETECTIONS", 2)
    images = [{"id": i, "file_name": f"{i}.jpg"} for i in range(3)]
    error = refused(coco_results_parse, coco({"images": images, "annotations": []}))
    assert (error.code, error.field) == ("too_large", "file.images")


def test_a_coco_file_over_the_byte_limit_is_refused_before_it_is_parsed(monkeypatch):
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 10)
    error = refused(coco_results_parse, b"[" + b" " * 10 + b"]")
    assert (error.code, error.field) == ("too_large", "file")


# --- YOLO .txt, happy paths ---------------------------------------------------------------------


def test_yolo_boxes_are_converted_from_centres_and_stay_normalised():
    # given Ultralytics' labels of one image, in a folder, with a blank line between boxes
    txt = b"0 0.5 0.5 0.2 0.4 0.9\n\n2 0.25 0.75 0.5 0.1 0.3125\n"
    # when they are parsed
    (prediction,) = yolo_txt_parse(
        {"runs/predict/labels/frame_0001.txt": txt}, kind="bbox", labels=LABELS
    )
    # then the image is the stem, each box is x, y, w, h as fractions, class 0 the first label
    assert prediction.image == "frame_0001"
    assert prediction.normalised
    first, second = prediction.payload["boxes"]
    assert first["label"] == "car"
    assert first["bbox"] == pytest.approx([0.4, 0.3, 0.2, 0.4])
    assert first["score"] == 0.9
    assert second == {"label": "traffic light", "bbox": [0.0, 0.7, 0.5, 0.1], "score": 0.3125}
    assert prediction.where == "file[runs/predict/labels/frame_0001.txt]"
    assert prediction.shapes_where == (
        "file[runs/predict/labels/frame_0001.txt] line 1",
        "file[runs/predict/labels/frame_0001.txt] line 3",
    )


def test_yolo_boxes_scale_to_pixels_of_the_task():
    # given a box centred in the image, a fifth of its width and 0.4 of its height
    (prediction,) = yolo_txt_parse({"a.txt": b"1 0.5 0.5 0.2 0.4 0.9"}, kind="bbox", labels=LABELS)
    # when it is scaled to a 640 x 480 image
    scaled = scale_to_pixels(prediction.payload, 640, 480)
    # then x, y, w, h are pixels and the rest is kept
    assert scaled["boxes"][0]["bbox"] == pytest.approx([256, 144, 128, 192])
    assert scaled["boxes"][0]["label"] == "bus"
    assert scaled["boxes"][0]["score"] == 0.9
    assert prediction.payload["boxes"][0]["bbox"] == pytest.approx([0.4, 0.3, 0.2, 0.4])


def test_yolo_segmentation_lines_become_polygons_and_scale():
    # given a segmentation line with Windows line endings
    txt = b"1 0.1 0.2 0.5 0.2 0.5 0.8 0.875\r\n"
    # when it is parsed for a polygon project and scaled to 200 x 100
    (prediction,) = yolo_txt_parse({"img.jpg.txt": txt}, kind="polygon", labels=LABELS)
    scaled = scale_to_pixels(prediction.payload, 200, 100)
    # then the points are pairs of fractions, then of pixels
    assert prediction.image == "img.jpg"
    assert prediction.payload == {
        "polygons": [
            {"label": "bus", "points": [[0.1, 0.2], [0.5, 0.2], [0.5, 0.8]], "score": 0.875}
        ]
    }
    flat = [value for point in scaled["polygons"][0]["points"] for value in point]
    assert flat == pytest.approx([20, 20, 100, 20, 100, 80])


def test_a_yolo_classification_file_takes_its_first_line():
    # given Ultralytics' top-k lines, highest first, the first a name with a space
    txt = b"0.93 traffic light\n0.05 car\n0.02 bus\n"
    # when it is parsed for a classification project
    (prediction,) = yolo_txt_parse({"cam\\x.txt": txt}, kind="classification", labels=LABELS)
    # then the first line is the prediction
    assert prediction == FilePrediction(
        image="x",
        payload={"label": "traffic light", "score": 0.93},
        where="file[cam\\x.txt] line 1",
    )


@pytest.mark.parametrize(("kind", "key"), [("bbox", "boxes"), ("polygon", "polygons")])
@pytest.mark.parametrize("txt", [b"", b"\n  \n"])
def test_an_empty_yolo_file_predicts_no_objects(kind, key, txt):
    (prediction,) = yolo_txt_parse({"empty.txt": txt}, kind=kind, labels=LABELS)
    assert prediction.payload == {key: []}
    assert prediction.image == "empty"


def test_each_yolo_file_is_one_prediction():
    files = {"a.txt": b"0 0.5 0.5 0.1 0.1 0.5", "b.TXT": b""}
    predictions = yolo_txt_parse(files, kind="bbox", labels=LABELS)
    assert [(p.image, len(p.payload["boxes"])) for p in predictions] == [("a", 1), ("b", 0)]


def test_scale_to_pixels_leaves_a_payload_without_shapes_as_it_is():
    payload = {"label": "car", "score": 0.5}
    assert scale_to_pixels(payload, 10, 10) == payload


# --- YOLO .txt, refused -------------------------------------------------------------------------

GOOD_BOX = b"0 0.5 0.5 0.2 0.2 0.9\n"
GOOD_POLYGON = b"0 0.1 0.1 0.2 0.1 0.2 0.2 0.9\n"


@pytest.mark.parametrize(
    ("kind", "line", "code"),
    [
        ("bbox", b"0 0.5 0.5 0.2 0.2", "invalid_score"),  # predicted without save_conf
        ("bbox", b"0 0.5 0.5 0.2 0.2 1.2", "invalid_score"),
        ("bbox", b"0 0.5 0.5 0.2 0.2 nan", "invalid_number"),
        ("bbox", b"0 0.5 0.5 0.2 0.2 0.9 7", "invalid_format"),
        ("bbox", b"0 0.5 0.5 0.2 inf 0.9", "invalid_number"),
        ("bbox", b"0 0.5 abc 0.2 0.2 0.9", "invalid_number"),
        ("bbox", b"3 0.5 0.5 0.2 0.2 0.9", "unknown_category"),
        ("bbox", b"car 0.5 0.5 0.2 0.2 0.9", "invalid_format"),
        ("bbox", b"-1 0.5 0.5 0.2 0.2 0.9", "invalid_format"),
        ("bbox", b"1.0 0.5 0.5 0.2 0.2 0.9", "invalid_format"),
        ("polygon", b"0 0.1 0.1 0.2 0.1 0.2 0.2", "invalid_score"),  # predicted without save_conf
        ("polygon", b"0 0.1 0.1 0.2 0.1 0.2 0.2 2", "invalid_score"),
        ("polygon", b"0 0.5 0.5 0.2 0.2 0.9", "invalid_format"),  # a box line: two points
        ("polygon", b"0 0.1 0.1 0.2 0.1 0.2 x 0.9", "invalid_number"),
        ("classification", b"0.9 truck", "unknown_category"),
        ("classification", b"0.93", "invalid_format"),
        ("classification", b"high car", "invalid_number"),
        ("classification", b"93 car", "invalid_score"),
    ],
)
def test_a_bad_yolo_line_is_refused_naming_file_and_line(kind, line, code):
    # given a file whose third line is bad (the first two good, one of them blank)
    good = {"bbox": GOOD_BOX, "polygon": GOOD_POLYGON, "classification": b""}[kind]
    txt = good + b"\n" + line + b"\n" if good else b"\n\n" + line
    # when it is parsed, then the refusal names the file and the line
    error = refused(yolo_txt_parse, {"labels/img_7.txt": txt}, kind)
    assert (error.code, error.field) == (code, "file[labels/img_7.txt] line 3"), error.message


def test_an_empty_classification_file_is_refused():
    error = refused(yolo_txt_parse, {"a.txt": b"\n"}, "classification")
    assert (error.code, error.field) == ("invalid_format", "file[a.txt]")


@pytest.mark.parametrize(
    ("files", "code", "field"),
    [
        ({"a.txt": GOOD_BOX, "b.txt": b"\xff0 0.5"}, "invalid_encoding", "file[b.txt]"),
        ({"a.jpg": GOOD_BOX}, "invalid_format", "file[a.jpg]"),
        ({"dir/.txt": GOOD_BOX}, "invalid_format", "file[dir/.txt]"),
        ({"a/x.txt": GOOD_BOX, "b/x.txt": GOOD_BOX}, "duplicate", "file[b/x.txt]"),
    ],
)
def test_bad_yolo_files_are_refused_naming_the_file(files, code, field):
    error = refused(yolo_txt_parse, files)
    assert (error.code, error.field) == (code, field), error.message


def test_a_yolo_line_over_the_length_limit_is_refused():
    txt = GOOD_BOX + b"0" + b" 0.5" * limits.MAX_LINE_CHARS
    error = refused(yolo_txt_parse, {"a.txt": txt})
    assert (error.code, error.field) == ("too_large", "file[a.txt] line 2")


def test_yolo_lines_over_the_limit_across_files_are_refused(monkeypatch):
    # given a limit of three detections and two files of two lines each
    monkeypatch.setattr(limits, "MAX_DETECTIONS", 3)
    files = {"a.txt": GOOD_BOX * 2, "b.txt": GOOD_BOX * 2}
    # when they are parsed, then the file that crosses the limit is named
    error = refused(yolo_txt_parse, files)
    assert (error.code, error.field) == ("too_large", "file[b.txt]")


def test_yolo_files_over_the_byte_limit_together_are_refused(monkeypatch):
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", len(GOOD_BOX) * 2 - 1)
    error = refused(yolo_txt_parse, {"a.txt": GOOD_BOX, "b.txt": GOOD_BOX})
    assert (error.code, error.field) == ("too_large", "file")


def test_yolo_files_for_moderation_are_refused():
    error = refused(yolo_txt_parse, {"a.txt": b"0.9 car"}, "moderation")
    assert (error.code, error.field) == ("unsupported", "file")
