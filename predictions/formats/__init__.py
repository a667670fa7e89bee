"""Model predictions in the files models already write, parsed into our prediction payloads.

Pure: bytes in, FilePrediction out; no Django, no I/O. Two formats:

- COCO results JSON (bbox, polygon): the bare results list detectors write, whose ``image_id``
  is the image's file name or sha256; or a dict of ``images``, ``annotations`` (the results, whose
  ``image_id`` is an ``images[].id``) and optional ``categories``. Category ids map by name through
  ``categories`` when given, else as our COCO export numbers them: ``labels[category_id - 1]``.
- Ultralytics YOLO ``.txt`` as ``yolo predict save_txt=True save_conf=True`` writes them, one file
  per image named by its stem: ``class cx cy w h conf`` (bbox), ``class x1 y1 ... xn yn conf``
  (polygon), top-k ``prob name`` lines (classification). Class numbers follow our YOLO export's
  label order. Coordinates stay fractions of the image side (``normalised``): only the service
  knows the task's size, and it calls scale_to_pixels.

Only the file's form is checked here; the service validates labels and geometry per task with
the project's validator. A hostile file is bounded before it is parsed (MAX_FILE_BYTES) and
while it is (MAX_DETECTIONS, MAX_LINE_CHARS), so it cannot make us build huge structures.
"""

from .coco import coco_results_parse
from .common import FilePrediction, scale_to_pixels
from .yolo import yolo_txt_parse

__all__ = ["FilePrediction", "coco_results_parse", "scale_to_pixels", "yolo_txt_parse"]
