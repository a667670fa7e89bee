"""What an uploaded ONNX file must be before onnxruntime is given it.

The file comes from a requester, so it is judged as untrusted input: its size before it is parsed;
then that every tensor's data is inside the file (ONNX's external data would have the runtime
open a path the file names, anywhere on our disk); then that every operator is a standard ONNX
one (a custom domain is either missing here or, like onnxruntime's Azure operators, one that
calls out over the network); then ONNX's own checker; and last that its one input is an image
batch of the declared size. Every refusal is a PayloadInvalid with a sentence an ML engineer can
act on, never a runtime's traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import onnx
from google.protobuf.message import DecodeError

from sebenzai.common.errors import PayloadInvalid

from .spec import ModelSpec

MAX_MODEL_BYTES = 200 * 1024 * 1024
STANDARD_DOMAINS = ("", "ai.onnx", "ai.onnx.ml")
INPUT_DTYPES: dict[int, type[np.floating]] = {
    onnx.TensorProto.FLOAT: np.float32,
    onnx.TensorProto.FLOAT16: np.float16,
}
MAX_MESSAGE = 300
_ORT_PREAMBLE = re.compile(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ")
# "/onnxruntime_src/…/reshape_helper.h:91 onnxruntime::ReshapeHelper::ReshapeHelper(…) "
_SOURCE_LOCATION = re.compile(r"\S+\.(?:h|cc|cpp):\d+ [\w:~<>]+\([^)]*\)\s*(?:const\s*)?")


@dataclass(frozen=True)
class ImageInput:
    name: str
    dtype: type[np.floating]


def model_parse(model_bytes: bytes) -> onnx.ModelProto:
    """The parsed model, or PayloadInvalid(field="model") if it is not one we will run."""
    if len(model_bytes) > MAX_MODEL_BYTES:
        message = f"The model is {len(model_bytes):,} bytes; the limit is {MAX_MODEL_BYTES:,}."
        raise _invalid("model_too_large", message)
    try:
        model = onnx.load_model_from_string(model_bytes)
    except (DecodeError, ValueError, TypeError) as exc:
        raise _invalid("model_invalid", "Not an ONNX model: the file does not parse.") from exc
    if not model.graph.node or not model.graph.output:
        raise _invalid("model_invalid", "Not an ONNX model: it has no graph to run.")
    _refuse_external_data(model)
    _refuse_custom_operators(model)
    try:
        onnx.checker.check_model(model)
    except (onnx.checker.ValidationError, ValueError) as exc:
        raise _invalid("model_invalid", f"Not a valid ONNX model: {short_reason(exc)}") from exc
    return model


def image_input(model: onnx.ModelProto, spec: ModelSpec) -> ImageInput:
    """The graph's one input, if it is a float [1 or N, 3, height, width] batch whose fixed
    dimensions agree with ``spec.input_size`` (a named, dynamic dimension takes any size)."""
    weights = {tensor.name for tensor in model.graph.initializer}
    # Before IR 4, weights were listed among the inputs too.
    inputs = [value for value in model.graph.input if value.name not in weights]
    if len(inputs) != 1:
        message = f"The model takes {len(inputs)} inputs; it must take one image batch."
        raise _invalid("model_input_unsupported", message)
    tensor_type = inputs[0].type.tensor_type
    if tensor_type.elem_type not in INPUT_DTYPES:
        message = "The model's input must be float32 or float16 pixels."
        raise _invalid("model_input_unsupported", message)
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor_type.shape.dim]
    _check_image_dims(dims, spec)
    return ImageInput(inputs[0].name, INPUT_DTYPES[tensor_type.elem_type])


def short_reason(exc: BaseException) -> str:
    """The first line of a library's error, without onnxruntime's ``[ONNXRuntimeError] : 10 :
    INVALID_GRAPH :`` preamble or the C++ source it was raised in, cut to a readable length."""
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    reason = _SOURCE_LOCATION.sub("", _ORT_PREAMBLE.sub("", lines[0]))
    return reason.strip()[:MAX_MESSAGE]


def _check_image_dims(dims: list[int | None], spec: ModelSpec) -> None:
    shown = "[" + ", ".join("?" if d is None else str(d) for d in dims) + "]"
    if len(dims) != 4 or dims[1] not in (3, None):
        message = f"The model's input has shape {shown}; it must be an image batch [N, 3, H, W]."
        raise _invalid("model_input_unsupported", message)
    if dims[0] not in (1, None):
        message = f"The model takes batches of exactly {dims[0]} images; export it with batch 1."
        raise _invalid("model_input_unsupported", message)
    width, height = spec.input_size
    if dims[3] not in (width, None) or dims[2] not in (height, None):
        message = (
            f"The model takes {dims[3] or width}×{dims[2] or height} px images (width × height); "
            f"input_size says {width}×{height}."
        )
        raise PayloadInvalid(code="input_size_mismatch", field="input_size", message=message)


def _refuse_external_data(model: onnx.ModelProto) -> None:
    for tensor in _tensors(model):
        if tensor.data_location == onnx.TensorProto.EXTERNAL or tensor.external_data:
            message = (
                f"Tensor {tensor.name[:60]!r} keeps its data in a separate file; upload a "
                "single-file model (onnx.save with save_as_external_data=False)."
            )
            raise _invalid("model_external_data", message)


def _refuse_custom_operators(model: onnx.ModelProto) -> None:
    if model.functions:
        raise _invalid("model_custom_op", "The model defines its own functions; inline them.")
    for graph in _graphs(model.graph):
        for node in graph.node:
            if node.domain not in STANDARD_DOMAINS:
                message = (
                    f"Operator {node.op_type[:60]!r} comes from domain {node.domain[:60]!r}; "
                    "only standard ONNX operators are run here."
                )
                raise _invalid("model_custom_op", message)


def _graphs(graph: onnx.GraphProto) -> Iterator[onnx.GraphProto]:
    """The graph and every subgraph of If, Loop and Scan nodes, however deep."""
    yield graph
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("g"):
                yield from _graphs(attribute.g)
            for subgraph in attribute.graphs:
                yield from _graphs(subgraph)


def _tensors(model: onnx.ModelProto) -> Iterator[onnx.TensorProto]:
    """Every tensor stored in the model: weights, sparse weights, and node attributes (a
    Constant's value), in the graph and its subgraphs."""
    for graph in _graphs(model.graph):
        yield from graph.initializer
        for sparse in graph.sparse_initializer:
            yield from (sparse.values, sparse.indices)
        for node in graph.node:
            for attribute in node.attribute:
                yield from attribute.tensors
                if attribute.HasField("t"):
                    yield attribute.t
                for sparse in [*attribute.sparse_tensors, attribute.sparse_tensor]:
                    yield from (sparse.values, sparse.indices)


def _invalid(code: str, message: str) -> PayloadInvalid:
    return PayloadInvalid(code=code, field="model", message=message)
