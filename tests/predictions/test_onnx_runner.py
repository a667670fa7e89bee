"""The ONNX runner on tiny graphs built with onnx.helper (tests/predictions/helpers.py): no
weights are downloaded. A colour classifier (mean of each channel -> logits), and fake YOLO
exports whose output is a constant tensor with known boxes.
"""

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

import onnx  # noqa: E402 - after the skip: the extra may not be installed
from onnx import TensorProto, external_data_helper, helper, numpy_helper  # noqa: E402
from PIL import Image  # noqa: E402

from predictions.onnx import ModelSpec, checks, model_load, model_predict, runner  # noqa: E402
from predictions.onnx.images import letterbox_batch, letterbox_fit  # noqa: E402
from sebenzai.common.errors import PayloadInvalid  # noqa: E402
from tests.predictions.helpers import (  # noqa: E402
    colour_classifier,
    constant_output,
    graph_bytes,
    image_input,
    tensor_output,
    yolo_output,
)

COLOURS = ["red", "green", "blue"]
RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


# --- models ---------------------------------------------------------------------------------


def yolo(boxes, class_labels, *, input_size=(64, 64), **spec_fields):
    spec = ModelSpec("yolo_detect", input_size, class_labels, **spec_fields)
    width, height = input_size
    output = yolo_output(boxes, len(class_labels))
    return model_load(constant_output(output, input_shape=(1, 3, height, width)), spec)


def classifier_spec(labels=COLOURS, size=(32, 32)) -> ModelSpec:
    return ModelSpec("classifier", size, labels)


def image(colour=RED, size=(40, 30), mode="RGB") -> Image.Image:
    return Image.new("RGB", size, colour).convert(mode)


# --- classifier -------------------------------------------------------------------------------


@pytest.mark.parametrize(("colour", "label"), [(RED, "red"), (GREEN, "green"), (BLUE, "blue")])
def test_a_colour_classifier_names_the_image_colour(colour, label):
    # given a classifier whose logit for each colour is 10 × that channel's mean
    model = model_load(colour_classifier(), classifier_spec())
    # when it sees a plain image of one colour
    prediction = model_predict(model, image(colour))
    # then the logits [10, 0, 0] become the softmax of the true colour: e^10 / (e^10 + 2)
    assert prediction == {"label": label, "score": round(np.exp(10) / (np.exp(10) + 2), 4)}


def test_probabilities_from_the_graph_are_not_softmaxed_twice():
    # given a graph ending in Softmax over logits [1, 0, 0] for a red image
    model = model_load(colour_classifier(gain=1.0, softmax=True), classifier_spec())
    # when it predicts
    prediction = model_predict(model, image(RED))
    # then the score is that softmax, e / (e + 2), not a softmax of it
    assert prediction == {"label": "red", "score": round(np.e / (np.e + 2), 4)}


def test_an_ignored_class_is_never_the_answer_but_keeps_its_share_of_probability():
    # given a model that finds the image red, with red mapped to nothing
    model = model_load(colour_classifier(gain=2.0), classifier_spec([None, "green", "blue"]))
    # when it predicts
    prediction = model_predict(model, image(RED))
    # then the likeliest kept class wins (the first of a tie), with its probability out of all
    # three: logits [2, 0, 0] give 1 / (e² + 2)
    assert prediction == {"label": "green", "score": round(1 / (np.exp(2) + 2), 4)}


def test_classes_mapped_to_one_label_pool_their_probability():
    # given fixed probabilities where "dog" is the single likeliest class but two classes are cats
    probabilities = [[0.3, 0.3, 0.4]]
    spec = ModelSpec("classifier", (64, 64), ["cat", "cat", "dog"])
    model = model_load(constant_output(probabilities), spec)
    # when it predicts
    prediction = model_predict(model, image())
    # then the two cat classes together outweigh the dog
    assert prediction == {"label": "cat", "score": 0.6}


@pytest.mark.parametrize("mode", ["RGBA", "P", "CMYK"])
def test_any_image_mode_is_read_as_rgb(mode):
    # given the colour classifier and a red image stored in another mode
    model = model_load(colour_classifier(), classifier_spec())
    # when it predicts
    prediction = model_predict(model, image(RED, mode=mode))
    # then the answer follows the image's colour
    assert prediction["label"] == "red"


def test_dynamic_batch_and_image_dimensions_take_the_declared_input_size():
    # given a model with named dimensions for batch, height and width
    model_bytes = colour_classifier(input_shape=("N", 3, "H", "W"))
    # when it is loaded for 48×16 images and runs
    model = model_load(model_bytes, classifier_spec(size=(48, 16)))
    # then it is fed that size and answers
    assert model_predict(model, image(BLUE, size=(500, 20)))["label"] == "blue"


def test_a_half_precision_export_is_fed_half_precision_pixels():
    # given a graph whose input is float16, cast to float32 before the classifier
    nodes = [
        helper.make_node("Cast", ["images"], ["pixels"], to=TensorProto.FLOAT),
        helper.make_node("GlobalAveragePool", ["pixels"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["logits"]),
    ]
    model_bytes = graph_bytes(
        nodes, [image_input(elem_type=TensorProto.FLOAT16)], [tensor_output("logits", [1, 3])]
    )
    # when it sees a green image
    prediction = model_predict(model_load(model_bytes, classifier_spec()), image(GREEN))
    # then it answers green
    assert prediction["label"] == "green"


def test_mean_and_std_normalise_the_pixels_before_the_graph():
    # given a mean that removes all of red and a std that triples blue
    spec = ModelSpec("classifier", (32, 32), COLOURS, mean=(1.0, 0.0, 0.0), std=(1.0, 1.0, 1 / 3))
    model = model_load(colour_classifier(gain=1.0), spec)
    # when it sees magenta (red and blue at full)
    prediction = model_predict(model, image((255, 0, 255)))
    # then red is 0 and blue is 3: logits [0, 0, 3]
    assert prediction == {"label": "blue", "score": round(np.exp(3) / (np.exp(3) + 2), 4)}


def test_the_session_is_cpu_only_with_one_thread():
    # given a loaded model
    model = model_load(colour_classifier(), classifier_spec())
    # then onnxruntime runs it on the CPU with one thread for each kind of parallelism
    options = model.session.get_session_options()
    assert model.session.get_providers() == ["CPUExecutionProvider"]
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (1, 1)


# --- letterbox --------------------------------------------------------------------------------


def test_an_odd_padding_puts_its_extra_pixel_at_the_bottom_as_ultralytics_does():
    # given a 100×51 image for a 64×64 input: scale 0.64, 64×33 inside, 31 rows of padding
    box = letterbox_fit((100, 51), (64, 64))
    # then 15 rows go on top and 16 below, none on the sides
    assert (box.scale, box.resized, box.pad_left, box.pad_top) == (0.64, (64, 33), 0, 15)


def test_the_letterboxed_batch_is_the_image_on_114_grey_in_rgb_scaled_to_one():
    # given a wide red image for a square input
    spec = ModelSpec("yolo_detect", (64, 64), ["thing"])
    box = letterbox_fit((128, 64), spec.input_size)
    # when it is letterboxed
    batch = letterbox_batch(image(RED, size=(128, 64)), box, spec)
    # then it is [1, 3, H, W] float32: grey bands above and below, red in the middle
    assert batch.shape == (1, 3, 64, 64)
    assert batch.dtype == np.float32
    assert batch[0, :, 0, 32].tolist() == pytest.approx([114 / 255] * 3)
    assert batch[0, :, 32, 32].tolist() == [1.0, 0.0, 0.0]
    assert batch[0, :, 63, 32].tolist() == pytest.approx([114 / 255] * 3)


# --- detection --------------------------------------------------------------------------------


def test_boxes_come_back_in_the_original_image_pixels():
    # given a 640×640 detector and a 1280×640 image: scale 0.5, 160 px of grey above and below
    model = yolo([(320, 320, 100, 50, 0, 0.9)], ["car"], input_size=(640, 640))
    # when it finds a box at (270, 295)-(370, 345) in input pixels
    prediction = model_predict(model, image(size=(1280, 640)))
    # then it is (540, 270)-(740, 370) in the image: the padding removed, the scale undone
    expected = {"label": "car", "bbox": [540.0, 270.0, 200.0, 100.0], "score": 0.9}
    assert prediction == {"boxes": [expected]}


def test_coordinates_are_rounded_to_two_decimals():
    # given a 1000×700 image in a 64×64 input: scale 0.064, 45 rows inside, pad top 9
    model = yolo([(10, 20, 7, 3, 0, 0.5)], ["car"])
    # when the model finds (6.5, 18.5)-(13.5, 21.5)
    bbox = model_predict(model, image(size=(1000, 700)))["boxes"][0]["bbox"]
    # then its corners are (6.5, 18.5 - 9) / 0.064 and (13.5, 21.5 - 9) / 0.064 to the cent,
    # and its size is their difference, so the box ends where the rounded corner does
    assert bbox == [101.56, 148.44, 109.38, 46.87]


def test_overlapping_boxes_of_one_label_keep_the_surest_and_other_labels_are_left_alone():
    # given two heavily overlapping cars, a bus on top of them, and a car elsewhere
    boxes = [
        (20, 20, 20, 20, 0, 0.6),
        (21, 21, 20, 20, 0, 0.9),
        (20, 20, 20, 20, 1, 0.7),
        (50, 50, 10, 10, 0, 0.3),
    ]
    model = yolo(boxes, ["car", "bus"])
    # when it predicts on an image the size of the input
    found = model_predict(model, image(size=(64, 64)))["boxes"]
    # then the weaker overlapping car is suppressed; the rest come surest first
    assert [(b["label"], b["score"]) for b in found] == [("car", 0.9), ("bus", 0.7), ("car", 0.3)]


def test_classes_mapped_to_one_label_suppress_each_other():
    # given a "car" and a "truck" on the same spot, both mapped to "vehicle"
    model = yolo([(20, 20, 20, 20, 0, 0.8), (20, 20, 20, 20, 1, 0.7)], ["vehicle", "vehicle"])
    # then one vehicle is found
    assert [b["score"] for b in model_predict(model, image(size=(64, 64)))["boxes"]] == [0.8]


def test_overlap_at_or_under_the_iou_threshold_keeps_both_boxes():
    # given two 20×20 boxes sharing a 20×10 strip: IoU 200 / 600 = 1/3
    boxes = [(20, 20, 20, 20, 0, 0.9), (20, 30, 20, 20, 0, 0.8)]
    # when the threshold is 1/3, then 0.3
    kept = yolo(boxes, ["car"], iou_threshold=1 / 3)
    dropped = yolo(boxes, ["car"], iou_threshold=0.3)
    # then both stay at the threshold, and the weaker goes under it
    assert len(model_predict(kept, image(size=(64, 64)))["boxes"]) == 2
    assert len(model_predict(dropped, image(size=(64, 64)))["boxes"]) == 1


def test_boxes_under_the_score_threshold_are_dropped():
    # given boxes scoring 0.25 (the threshold), 0.2499 and 0.1
    boxes = [(10, 10, 5, 5, 0, 0.25), (30, 30, 5, 5, 0, 0.2499), (50, 50, 5, 5, 0, 0.1)]
    # when the detector keeps 0.25 and above
    found = model_predict(yolo(boxes, ["car"]), image(size=(64, 64)))["boxes"]
    # then only the box at the threshold is kept
    assert [b["score"] for b in found] == [0.25]


def test_an_anchor_whose_best_class_is_ignored_is_dropped_not_relabelled():
    # given an anchor scoring 0.9 for an ignored class and 0.5 for "person", and a clear person
    output = yolo_output([(10, 10, 5, 5, 1, 0.9), (40, 40, 5, 5, 0, 0.6)], classes=2)
    output[0, 4, 0] = 0.5
    spec = ModelSpec("yolo_detect", (64, 64), ["person", None])
    model = model_load(constant_output(output), spec)
    # when it predicts
    found = model_predict(model, image(size=(64, 64)))["boxes"]
    # then only the clear person is found, as Ultralytics' class filter would
    assert [(b["label"], b["score"]) for b in found] == [("person", 0.6)]


def test_boxes_are_clipped_to_the_image_and_boxes_in_the_padding_vanish():
    # given a 128×64 image in a 64×64 input (16 px of grey above and below, scale 0.5)
    boxes = [(60, 20, 20, 20, 0, 0.9), (32, 5, 10, 6, 0, 0.8)]
    # when one box runs over the right and top edges and the other lies in the top band
    found = model_predict(yolo(boxes, ["car"]), image(size=(128, 64)))["boxes"]
    # then the first is cut at the edges and the second is gone
    assert found == [{"label": "car", "bbox": [100.0, 0.0, 28.0, 28.0], "score": 0.9}]


def test_at_most_300_boxes_are_returned_the_surest():
    # given 400 separate boxes with rising scores
    boxes = [(i % 20 * 3 + 2, i // 20 * 3 + 2, 1, 1, 0, 0.3 + i / 1000) for i in range(400)]
    # when the detector predicts
    found = model_predict(yolo(boxes, ["dot"]), image(size=(64, 64)))["boxes"]
    # then the 300 surest come back, surest first
    assert len(found) == 300
    assert found[0]["score"] == 0.699
    assert found[-1]["score"] == 0.4


def test_an_image_with_nothing_above_the_threshold_has_no_boxes():
    model = yolo([(10, 10, 5, 5, 0, 0.1)], ["car"])
    assert model_predict(model, image()) == {"boxes": []}


# --- refusals ---------------------------------------------------------------------------------


def _refusal(model_bytes: bytes, spec: ModelSpec) -> PayloadInvalid:
    with pytest.raises(PayloadInvalid) as caught:
        model_load(model_bytes, spec)
    assert "ONNXRuntimeError" not in caught.value.message
    return caught.value


@pytest.mark.parametrize("model_bytes", [b"not an onnx file", b"", b"\x08\x07"])
def test_a_file_that_is_not_an_onnx_model_is_refused(model_bytes):
    # when bytes that do not parse, nothing, or a model with no graph are uploaded
    refusal = _refusal(model_bytes, classifier_spec())
    # then the model field is named
    assert (refusal.code, refusal.field) == ("model_invalid", "model")


def test_a_model_over_the_size_limit_is_refused_before_it_is_parsed(monkeypatch):
    # given a limit one byte under a valid model's size
    model_bytes = colour_classifier()
    monkeypatch.setattr(checks, "MAX_MODEL_BYTES", len(model_bytes) - 1)
    # then the valid model is refused for its size alone
    refusal = _refusal(model_bytes, classifier_spec())
    assert (refusal.code, refusal.field) == ("model_too_large", "model")


def _external(tensor: TensorProto, location: str) -> None:
    """Move the tensor's data out of the model, as onnx.save(save_as_external_data=True) does."""
    tensor.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(tensor), tensor.name))
    external_data_helper.set_external_data(tensor, location=location)
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL


def test_weights_kept_in_an_external_file_are_refused():
    # given a classifier whose weights point at a file on the server
    model = onnx.load_model_from_string(colour_classifier())
    _external(model.graph.initializer[0], "/etc/passwd")
    # then the upload is refused before anything reads that path
    refusal = _refusal(model.SerializeToString(), classifier_spec())
    assert (refusal.code, refusal.field) == ("model_external_data", "model")


def test_a_constant_kept_in_an_external_file_is_refused():
    # given a graph whose Constant node's value lives in a file next to it
    model = onnx.load_model_from_string(constant_output([[0.2, 0.3, 0.5]]))
    constant = next(node for node in model.graph.node if node.op_type == "Constant")
    _external(constant.attribute[0].t, "values.bin")
    # then it is refused
    refusal = _refusal(model.SerializeToString(), ModelSpec("classifier", (64, 64), COLOURS))
    assert refusal.code == "model_external_data"


@pytest.mark.parametrize("domain", ["com.example.custom", "com.microsoft"])
def test_an_operator_outside_standard_onnx_is_refused(domain):
    # given a graph with an operator from another domain
    nodes = [helper.make_node("Magic", ["images"], ["scores"], domain=domain)]
    graph = helper.make_graph(nodes, "g", [image_input()], [tensor_output()])
    imports = [helper.make_opsetid("", 17), helper.make_opsetid(domain, 1)]
    model_bytes = helper.make_model(graph, opset_imports=imports).SerializeToString()
    # then it is refused, naming the operator
    refusal = _refusal(model_bytes, classifier_spec())
    assert (refusal.code, refusal.field) == ("model_custom_op", "model")
    assert "Magic" in refusal.message


def test_an_operator_outside_standard_onnx_is_found_inside_a_branch():
    # given a graph whose If node hides a custom operator in its else branch
    def branch(op_type, domain=""):
        node = helper.make_node(op_type, ["images"], ["picked"], domain=domain)
        return helper.make_graph([node], op_type, [], [tensor_output("picked", [1, 3, 32, 32])])

    condition = helper.make_tensor("yes", TensorProto.BOOL, [], [True])
    node = helper.make_node(
        "If", ["yes"], ["out"], then_branch=branch("Identity"), else_branch=branch("Magic", "x.y")
    )
    graph = helper.make_graph([node], "g", [image_input()], [tensor_output("out", [1, 3, 32, 32])])
    graph.initializer.append(condition)
    imports = [helper.make_opsetid("", 17), helper.make_opsetid("x.y", 1)]
    model_bytes = helper.make_model(graph, opset_imports=imports).SerializeToString()
    # then it is refused like one in the main graph
    assert _refusal(model_bytes, classifier_spec()).code == "model_custom_op"


@pytest.mark.parametrize(
    ("input_shape", "elem_type", "expected"),
    [
        ((1, 3, 32), TensorProto.FLOAT, "[1, 3, 32]"),  # rank 3
        ((1, 1, 32, 32), TensorProto.FLOAT, "[1, 1, 32, 32]"),  # one channel
        ((8, 3, 32, 32), TensorProto.FLOAT, "exactly 8 images"),
        ((1, 3, 32, 32), TensorProto.UINT8, "float32 or float16"),
    ],
)
def test_an_input_that_is_not_a_float_rgb_image_batch_is_refused(input_shape, elem_type, expected):
    # given a graph taking something other than [1|N, 3, H, W] floats
    nodes = [helper.make_node("Identity", ["images"], ["out"])]
    output = tensor_output("out", input_shape, elem_type)
    model_bytes = graph_bytes(nodes, [image_input(input_shape, elem_type)], [output])
    # then it is refused with the shape or type it has
    refusal = _refusal(model_bytes, classifier_spec())
    assert (refusal.code, refusal.field) == ("model_input_unsupported", "model")
    assert expected in refusal.message


def test_a_model_with_two_inputs_is_refused():
    nodes = [helper.make_node("Add", ["images", "other"], ["out"])]
    inputs = [image_input(), tensor_output("other", [1, 3, 32, 32])]
    output = tensor_output("out", [1, 3, 32, 32])
    refusal = _refusal(graph_bytes(nodes, inputs, [output]), classifier_spec())
    assert refusal.code == "model_input_unsupported"


def test_an_input_size_the_model_does_not_take_names_input_size():
    # given a model fixed at 32×32, declared as 64×48
    refusal = _refusal(colour_classifier(), classifier_spec(size=(64, 48)))
    # then the declared size is the field at fault, and the message gives the model's own
    assert (refusal.code, refusal.field) == ("input_size_mismatch", "input_size")
    assert "32×32" in refusal.message


def test_a_classifier_scoring_more_classes_than_labels_names_class_labels():
    # given a five-class model declared with three labels
    refusal = _refusal(colour_classifier(classes=5), classifier_spec())
    assert (refusal.code, refusal.field) == ("class_labels_mismatch", "class_labels")
    assert "5 classes" in refusal.message


def test_a_yolo_export_with_another_class_count_names_class_labels():
    # given a detector for 80 classes declared with 2 labels
    spec = ModelSpec("yolo_detect", (64, 64), ["car", "bus"])
    refusal = _refusal(constant_output(np.zeros((1, 84, 10))), spec)
    assert (refusal.code, refusal.field) == ("class_labels_mismatch", "class_labels")
    assert "80 classes" in refusal.message


def test_a_classifier_output_is_not_a_yolo_output():
    # given a classifier's [1, 3] output declared as a YOLO detector
    spec = ModelSpec("yolo_detect", (32, 32), ["car"])
    refusal = _refusal(colour_classifier(), spec)
    assert (refusal.code, refusal.field) == ("model_output_unsupported", "model")


def test_a_model_that_fails_on_an_image_is_refused_at_upload():
    # given a graph that reshapes any image to 7 values, which no image has
    nodes = [helper.make_node("Reshape", ["images", "seven"], ["out"])]
    seven = helper.make_tensor("seven", TensorProto.INT64, [2], [1, 7])
    output = tensor_output("out", [1, 7])
    model_bytes = graph_bytes(nodes, [image_input(("N", 3, "H", "W"))], [output], [seven])
    # then the trial run at load refuses it with onnxruntime's reason, without its preamble
    refusal = _refusal(model_bytes, classifier_spec())
    assert (refusal.code, refusal.field) == ("model_run_failed", "model")
    assert "Reshape" in refusal.message
    assert "onnxruntime_src" not in refusal.message


def test_a_classifier_giving_nan_is_refused():
    spec = ModelSpec("classifier", (64, 64), COLOURS)
    refusal = _refusal(constant_output([[np.nan, 0.0, 1.0]]), spec)
    assert refusal.code == "model_output_invalid"


def _endless_loop() -> bytes:
    """A Loop of 10^12 additions on the image's mean."""
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["keep_going"], ["keep_going_out"]),
            helper.make_node("Add", ["total", "one"], ["total_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("keep_going", TensorProto.BOOL, []),
            helper.make_tensor_value_info("total", TensorProto.FLOAT, [1, 3]),
        ],
        [
            helper.make_tensor_value_info("keep_going_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("total_out", TensorProto.FLOAT, [1, 3]),
        ],
        [helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])],
    )
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], axes=[2, 3], keepdims=0),
        helper.make_node("Loop", ["trips", "yes", "mean"], ["scores"], body=body),
    ]
    initializers = [
        helper.make_tensor("trips", TensorProto.INT64, [], [10**12]),
        helper.make_tensor("yes", TensorProto.BOOL, [], [True]),
    ]
    output = helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 3])
    return graph_bytes(nodes, [image_input()], [output], initializers)


def test_a_model_that_runs_past_its_time_budget_is_stopped(monkeypatch):
    # given a time budget of a fifth of a second
    monkeypatch.setattr(runner, "RUN_TIMEOUT_SECONDS", 0.2)
    # when a model that loops almost for ever is loaded (its trial run)
    refusal = _refusal(_endless_loop(), classifier_spec())
    # then onnxruntime is stopped and the upload refused
    assert (refusal.code, refusal.field) == ("model_timed_out", "model")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"task": "segmenter"}, "task"),
        ({"input_size": (0, 32)}, "input_size"),
        ({"input_size": (32,)}, "input_size"),
        ({"input_size": (32.5, 32)}, "input_size"),
        ({"input_size": (True, 32)}, "input_size"),
        ({"input_size": (8192, 32)}, "input_size"),
        ({"class_labels": []}, "class_labels"),
        ({"class_labels": "red"}, "class_labels"),
        ({"class_labels": [None, None]}, "class_labels"),
        ({"class_labels": ["red", 3]}, "class_labels[1]"),
        ({"class_labels": ["red", ""]}, "class_labels[1]"),
        ({"score_threshold": 1.5}, "score_threshold"),
        ({"iou_threshold": float("nan")}, "iou_threshold"),
        ({"std": (1.0, 0.0, 1.0)}, "std"),
        ({"mean": (0.5, 0.5)}, "mean"),
    ],
)
def test_a_spec_that_cannot_describe_a_model_names_its_field(fields, field):
    values = {"task": "classifier", "input_size": (32, 32), "class_labels": COLOURS} | fields
    with pytest.raises(PayloadInvalid) as caught:
        ModelSpec(**values)
    assert caught.value.field == field


def test_a_spec_from_json_lists_is_stored_as_tuples():
    spec = ModelSpec("classifier", [32, 24], ["a", None], mean=[0, 0, 0])
    assert spec.input_size == (32, 24)
    assert spec.class_labels == ("a", None)
    assert spec.mean == (0.0, 0.0, 0.0)
