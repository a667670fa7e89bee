"""A model's predictions on a project's tasks: posted by a requester, a training job or an edge
device (JSON, COCO results, Ultralytics YOLO text files), or made here by an uploaded ONNX model.

Each model version votes in consensus as one more worker (``consensus/model_votes.py``): its
skill is measured on gold and agreement like a person's, it is never paid, and once its gold
record makes it credible a task it predicted needs fewer people. Sits above ``annotations``
(tasks) and below ``consensus``, which reads the votes; jobs are sent by name."""
