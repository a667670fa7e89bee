"""Tiny ONNX graphs built with onnx.helper, so no weights are downloaded, and the form that
uploads one to POST /api/v1/projects/{id}/models/.

Importable without the optional ``onnx`` extra, for the route tables: ``ONNX`` says whether the
graphs can be built (and run by the server); without it ``upload_form`` sends bytes that are no
model, which the server refuses with ``onnx_unavailable`` (``UPLOAD_STATUS``)."""

from __future__ import annotations

import json
from importlib.util import find_spec

import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile

ONNX = find_spec("onnx") is not None and find_spec("onnxruntime") is not None
UPLOAD_STATUS = 201 if ONNX else 400  # the owner's upload of upload_form()
if ONNX:
    from onnx import TensorProto, helper, numpy_helper


def graph_bytes(nodes, inputs, outputs, initializers=(), opset=17) -> bytes:
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return model.SerializeToString()


def image_input(shape=(1, 3, 32, 32), elem_type=None):
    return helper.make_tensor_value_info("images", elem_type or TensorProto.FLOAT, list(shape))


def tensor_output(name="scores", shape=(1, None), elem_type=None):
    return helper.make_tensor_value_info(name, elem_type or TensorProto.FLOAT, list(shape))


def colour_classifier(*, gain=10.0, softmax=False, input_shape=(1, 3, 32, 32), classes=3) -> bytes:
    """Logits = gain × the mean of each channel (then a fourth, fifth… class at 0)."""
    weights = np.zeros((3, classes), np.float32)
    weights[:3, :3] = np.eye(3) * gain
    nodes = [
        helper.make_node("GlobalAveragePool", ["images"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["means"]),
        helper.make_node("MatMul", ["means", "weights"], ["logits"]),
    ]
    if softmax:
        nodes.append(helper.make_node("Softmax", ["logits"], ["scores"], axis=1))
    output = tensor_output("scores" if softmax else "logits", [1, classes])
    weights_tensor = helper.make_tensor("weights", TensorProto.FLOAT, [3, classes], weights.ravel())
    return graph_bytes(nodes, [image_input(input_shape)], [output], [weights_tensor])


def constant_output(values, *, input_shape=(1, 3, 64, 64)) -> bytes:
    """A graph whose output is ``values`` whatever the image (it still reads the image: its
    output is the constant plus 0 × the image's mean)."""
    values = np.asarray(values, np.float32)
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Constant", [], ["fixed"], value=numpy_helper.from_array(values)),
        helper.make_node("Add", ["fixed", "nothing"], ["output"]),
    ]
    zero = helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])
    output = helper.make_tensor_value_info("output", TensorProto.FLOAT, list(values.shape))
    return graph_bytes(nodes, [image_input(input_shape)], [output], [zero])


def yolo_output(boxes, classes: int) -> np.ndarray:
    """[1, 4 + classes, anchors] from rows (cx, cy, w, h, class, score), as Ultralytics lays it."""
    output = np.zeros((1, 4 + classes, len(boxes)), np.float32)
    for anchor, (cx, cy, w, h, cls, score) in enumerate(boxes):
        output[0, :4, anchor] = (cx, cy, w, h)
        output[0, 4 + cls, anchor] = score
    return output


def yolo_detector(boxes, classes: int, *, input_size=(64, 64)) -> bytes:
    """A YOLO export that finds ``boxes`` (input pixels) in every image."""
    width, height = input_size
    return constant_output(yolo_output(boxes, classes), input_shape=(1, 3, height, width))


def upload_form(
    *,
    model: str = "colours@1",
    task: str = "classifier",
    input_size: str = "32x32",
    class_labels=("car", "taxi", "truck"),
    content: bytes | None = None,
    **fields,
) -> dict:
    """The multipart form for a model upload; by default the three-class colour classifier
    (red, green, blue) mapped to the conftest's classification labels."""
    if content is None:
        content = colour_classifier() if ONNX else b"not a model: no onnx extra here"
    upload = SimpleUploadedFile("model.onnx", content, "application/octet-stream")
    labels = class_labels if isinstance(class_labels, str) else json.dumps(list(class_labels))
    form = {"file": upload, "model": model, "task": task, "input_size": input_size}
    return {**form, "class_labels": labels, **fields}
