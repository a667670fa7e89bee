"""Loading an uploaded model into onnxruntime, and running it on one image.

The session is CPU only with one thread, so one model cannot take a worker machine from the
others, and each run has a time budget (RUN_TIMEOUT_SECONDS) after which onnxruntime is told to
stop: a small graph can still loop for a long time. The load ends with a trial run on a blank
image, because only a run shows an output shape that the graph leaves dynamic, or a model
that fails on every image.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnxruntime as ort
from PIL import Image

from sebenzai.common.errors import PayloadInvalid

from .checks import ImageInput, image_input, model_parse, short_reason
from .images import PAD_GREY, letterbox_batch, letterbox_fit, stretched_batch
from .outputs import classifier_payload, detections_payload, output_check
from .spec import ModelSpec

RUN_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, eq=False)
class LoadedModel:
    session: ort.InferenceSession
    spec: ModelSpec
    image_input: ImageInput
    output_name: str


def model_load(model_bytes: bytes, spec: ModelSpec) -> LoadedModel:
    """A model ready to run, or PayloadInvalid naming ``model``, ``input_size`` or
    ``class_labels`` with what is wrong (see ``checks`` for what is refused and why)."""
    proto = model_parse(model_bytes)
    expected_input = image_input(proto, spec)
    # onnxruntime reads exactly what was checked: nothing our onnx version cannot see.
    proto.DiscardUnknownFields()
    session = _session(proto.SerializeToString())
    output = session.get_outputs()[0]
    if not output.type.startswith("tensor("):
        message = f"The model's first output is a {output.type}; expected a tensor of scores."
        raise PayloadInvalid(code="model_output_unsupported", field="model", message=message)
    model = LoadedModel(session, spec, expected_input, output.name)
    model_predict(model, Image.new("RGB", spec.input_size, PAD_GREY))  # the trial run
    return model


def model_predict(model: LoadedModel, image: Image.Image) -> dict[str, Any]:
    """The prediction payload in the image's own pixels: ``{"label", "score"}`` for a
    classifier, ``{"boxes": [{"label", "bbox": [x, y, w, h], "score"}, ...]}`` for a detector.
    PayloadInvalid(field="model") if the model fails, overruns its time or gives nonsense."""
    spec = model.spec
    if spec.task == "classifier":
        return classifier_payload(_run(model, stretched_batch(image, spec)), spec)
    box = letterbox_fit(image.size, spec.input_size)
    output = _run(model, letterbox_batch(image, box, spec))
    return detections_payload(output, spec, box, image.size)


def _session(model_bytes: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Fatal only: every error reaches the requester as a PayloadInvalid, not as log noise.
    options.log_severity_level = 4
    try:
        return ort.InferenceSession(
            model_bytes, sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises one pybind class per status code
        message = f"onnxruntime cannot load the model: {short_reason(exc)}"
        raise PayloadInvalid(code="model_unloadable", field="model", message=message) from exc


def _run(model: LoadedModel, batch: np.ndarray) -> np.ndarray:
    """The first output for ``batch``, its shape checked against the spec."""
    options = ort.RunOptions()
    # onnxruntime checks ``terminate`` between nodes, loop iterations included.
    timer = threading.Timer(RUN_TIMEOUT_SECONDS, setattr, (options, "terminate", True))
    timer.daemon = True
    timer.start()
    feed = {model.image_input.name: batch.astype(model.image_input.dtype)}
    try:
        outputs = model.session.run([model.output_name], feed, options)
    except Exception as exc:  # as in _session
        raise _run_failure(exc, timed_out=options.terminate) from exc
    finally:
        timer.cancel()
    output = np.asarray(outputs[0])
    output_check(output, model.spec)
    return output


def _run_failure(exc: Exception, *, timed_out: bool) -> PayloadInvalid:
    if timed_out:
        message = f"The model ran for over {RUN_TIMEOUT_SECONDS:g} s on one image and was stopped."
        return PayloadInvalid(code="model_timed_out", field="model", message=message)
    message = f"The model failed on an image: {short_reason(exc)}"
    return PayloadInvalid(code="model_run_failed", field="model", message=message)
