"""Running a requester's edge model here: an uploaded ONNX classifier or Ultralytics YOLO
detector, made into the same prediction payloads a requester would post. No Django in here.

Needs the optional extra ``onnx`` (onnx and onnxruntime); where it is not installed, importing
this package raises ImportError, so callers check ``importlib.util.find_spec("onnxruntime")``.

Layout: ``spec`` (what the requester declares), ``checks`` (what an uploaded file must be),
``images`` (pixels in: resize or letterbox), ``outputs`` (numbers out: softmax, NMS, boxes back
in image pixels), ``runner`` (the onnxruntime session and its limits).
"""

from .checks import MAX_MODEL_BYTES
from .runner import LoadedModel, model_load, model_predict
from .spec import TASKS, ModelSpec

__all__ = ["MAX_MODEL_BYTES", "TASKS", "LoadedModel", "ModelSpec", "model_load", "model_predict"]
