"""A reference retraining job: an "export ready" message in, a new model's predictions out.

``run(message, config)`` downloads the export the message names (token auth), checks its sha256
and size against the message, unpacks it, trains on its ``train`` split, evaluates on its
``test`` split and posts the model's predictions on the export's images (the ``test`` split by
default: images it did not learn from) to the predictions API as ``<name>@<export version>``.

- ``yolo`` export (bbox project): Ultralytics YOLO built from a model YAML (no weights are
  downloaded), mAP50 on the test split from ``model.val(split="test")``.
- ``imagefolder`` export (classification or moderation project): torchvision resnet18 with
  ``weights=None``, accuracy on the test split. Targets are the manifest's ``class_index``.

torch, torchvision and ultralytics are imported inside the functions that need them, so this
module (and the receiver) imports without them. Copy the folder and change what you need.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import tempfile
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHUNK = 1 << 20
MAX_PREDICTIONS_PER_REQUEST = 5000  # the predictions API's limit for one JSON request
HTTP_TIMEOUT = 60


@dataclass(frozen=True)
class Config:
    url: str  # the platform, e.g. https://sebenzai.example.com (the API is under /api/v1)
    token: str  # a requester's API token: the project's owner
    workdir: Path = Path("retrain-runs")
    model_name: str = "retrain"
    epochs: int = 10
    image_size: int = 320  # YOLO's imgsz; the classifier uses CLASSIFIER_SIZE
    yolo_model: str = "yolo11n.yaml"  # a model YAML: built untrained, nothing downloaded
    predict_splits: tuple[str, ...] = ("test",)

    @property
    def api(self) -> str:
        return self.url.rstrip("/") + "/api/v1"

    @classmethod
    def from_env(cls) -> Config:
        """SEBENZAI_URL and SEBENZAI_TOKEN are required; RETRAIN_* are optional."""
        env = os.environ
        return cls(
            url=env["SEBENZAI_URL"],
            token=env["SEBENZAI_TOKEN"],
            workdir=Path(env.get("RETRAIN_WORKDIR", "retrain-runs")),
            model_name=env.get("RETRAIN_MODEL_NAME", "retrain"),
            epochs=int(env.get("RETRAIN_EPOCHS", "10")),
            image_size=int(env.get("RETRAIN_IMAGE_SIZE", "320")),
            yolo_model=env.get("RETRAIN_YOLO_MODEL", "yolo11n.yaml"),
            predict_splits=tuple(env.get("RETRAIN_PREDICT_SPLITS", "test").split(",")),
        )


@dataclass
class Outcome:
    """What a training pipeline hands back: its test metric and its predictions."""

    metric: str
    value: float | None  # None when the test split holds no image
    predictions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Report:
    export: str
    version: int
    model: str
    metric: str
    value: float | None
    posted: list[dict[str, Any]]


class ExportRefused(Exception):
    """The download is not the export the message describes (or is not ours to fetch)."""


# --- download, verify, unpack ------------------------------------------------------------------


def _same_origin(url: str, base: str) -> bool:
    a, b = urllib.parse.urlsplit(url), urllib.parse.urlsplit(base)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def export_download(*, url: str, token: str, sha256: str, size: int | None, dest: Path) -> Path:
    """Stream ``url`` (http or https) to ``dest`` with the token, hashing as it goes. Raises
    ExportRefused, leaving nothing at ``dest``, when the sha256 or size differs from the
    message's."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ExportRefused(f"{url} is not an http(s) URL")
    dest.parent.mkdir(parents=True, exist_ok=True)
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})  # noqa: S310 - scheme checked above
    fd, partial = tempfile.mkstemp(dir=dest.parent, prefix=".download-")
    try:
        with os.fdopen(fd, "wb") as out:
            digest, written = _copy_hashed(request, out)
        if digest != sha256:
            raise ExportRefused(f"sha256 {digest} differs from the message's {sha256}")
        if size is not None and written != size:
            raise ExportRefused(f"{written} bytes; the message says {size}")
        os.replace(partial, dest)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return dest


def _copy_hashed(request: urllib.request.Request, out: Any) -> tuple[str, int]:
    digest, written = hashlib.sha256(), 0
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:  # noqa: S310 - http(s) only
        while chunk := response.read(CHUNK):
            digest.update(chunk)
            written += len(chunk)
            out.write(chunk)
    return digest.hexdigest(), written


def export_unpack(*, archive: Path, root: Path) -> Path:
    """Unpack the zip into ``root`` (zipfile strips absolute paths and ``..`` from names)."""
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(root)
    return root


def export_fetch(*, message: dict[str, Any], config: Config) -> Path:
    """Download, verify and unpack the export of ``message``; the token goes only to the
    configured platform."""
    url = message["download_url"]
    if not _same_origin(url, config.url):
        raise ExportRefused(f"{url} is not on {config.url}: the token is not sent there")
    run_dir = config.workdir / f"export-{message['export']}"
    archive = export_download(
        url=url,
        token=config.token,
        sha256=message["sha256"],
        size=message.get("size"),
        dest=run_dir / "export.zip",
    )
    return export_unpack(archive=archive, root=run_dir / "data")


def manifest_read(root: Path) -> dict[str, Any]:
    return json.loads((root / "manifest.json").read_text())


def tasks_read(root: Path) -> list[dict[str, str]]:
    """tasks.csv: one row per exported task (task, image, split, confidence, answers)."""
    with open(root / "tasks.csv", newline="") as handle:
        return list(csv.DictReader(handle))


# --- predictions API ---------------------------------------------------------------------------


def predictions_body(*, model: str, predictions: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON the predictions API takes: ``model`` is "<name>@<version>", each prediction a
    task id and the answer payload with its score(s)."""
    return {"model": model, "predictions": predictions}


def prediction_of_class(*, kind: str, task: str, name: str, score: float) -> dict[str, Any]:
    """A classifier's answer: a label (classification) or a verdict (moderation)."""
    key = "verdict" if kind == "moderation" else "label"
    return {"task": task, "payload": {key: name, "score": round(score, 4)}}


def prediction_of_boxes(
    *,
    task: str,
    boxes: list[tuple[str, float, float, float, float, float]],
    width: int,
    height: int,
) -> dict[str, Any]:
    """A detector's answer: (label, x1, y1, x2, y2, score) in image pixels, clipped to the image
    and written as the platform's ``[x, y, w, h]``; an empty list is an image with no objects."""
    shapes = []
    for label, x1, y1, x2, y2, score in boxes:
        x1, x2 = min(max(x1, 0.0), width), min(max(x2, 0.0), width)
        y1, y2 = min(max(y1, 0.0), height), min(max(y2, 0.0), height)
        if x2 - x1 < 1 or y2 - y1 < 1:
            continue  # nothing left inside the image
        bbox = [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)]
        shapes.append({"label": label, "bbox": bbox, "score": round(score, 4)})
    return {"task": task, "payload": {"boxes": shapes}}


def predictions_post(
    *, config: Config, project: str, model: str, predictions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """POST the predictions, at most 5,000 a request; returns the API's answers. A 4xx names
    the item at fault (``predictions[3].payload.boxes[0].score``) and raises HTTPError."""
    url = f"{config.api}/projects/{project}/predictions/"
    answers = []
    for start in range(0, len(predictions), MAX_PREDICTIONS_PER_REQUEST):
        chunk = predictions[start : start + MAX_PREDICTIONS_PER_REQUEST]
        body = json.dumps(predictions_body(model=model, predictions=chunk)).encode()
        request = urllib.request.Request(  # noqa: S310 - the configured platform's URL
            url,
            data=body,
            method="POST",
            headers={"Authorization": f"Token {config.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:  # noqa: S310
            answers.append(json.loads(response.read()))
    return answers


# --- training pipelines ------------------------------------------------------------------------

CLASSIFIER_SIZE = 64
BATCH = 16


def _class_names(manifest: dict[str, Any]) -> list[str]:
    """The class names by the manifest's class number."""
    index = manifest["class_index"]
    return sorted(index, key=index.__getitem__)


def _predict_rows(tasks: list[dict[str, str]], config: Config) -> list[dict[str, str]]:
    return [t for t in tasks if t["split"] in config.predict_splits]


def _image_folder(root: Path, split: str, manifest: dict[str, Any], size: int) -> Any:
    """``ImageFolder`` of one split, its targets mapped to the manifest's class numbers (it
    numbers the folders by name, which need not be the project's order)."""
    from torchvision import datasets

    folder = datasets.ImageFolder(root / split, transform=_transform(size), allow_empty=True)
    folder_of = manifest["class_folders"]
    to_index = {folder.class_to_idx[folder_of[n]]: i for n, i in manifest["class_index"].items()}
    folder.target_transform = to_index.__getitem__
    return folder


def _transform(size: int) -> Any:
    from torchvision import transforms

    return transforms.Compose(
        [
            transforms.Lambda(lambda im: im.convert("RGB")),
            transforms.Resize((size, size)),
            transforms.ToTensor(),
        ]
    )


def classifier_train(*, root: Path, manifest: dict[str, Any], config: Config) -> Any:
    """resnet18 from scratch (``weights=None``: nothing downloaded) on the train split."""
    import torch
    from torchvision import models

    torch.manual_seed(0)
    train = _image_folder(root, "train", manifest, CLASSIFIER_SIZE)
    model = models.resnet18(weights=None, num_classes=len(manifest["class_index"]))
    loader = torch.utils.data.DataLoader(train, batch_size=BATCH, shuffle=True)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(config.epochs):
        for images, targets in loader:
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(model(images), targets).backward()
            optimiser.step()
    return model.eval()


def classifier_evaluate(*, model: Any, root: Path, manifest: dict[str, Any]) -> float | None:
    """Accuracy on the test split; None when it holds no image (or the export has none)."""
    import torch

    if not (root / "test").is_dir():
        return None
    test = _image_folder(root, "test", manifest, CLASSIFIER_SIZE)
    if not len(test):
        return None
    correct = 0
    with torch.no_grad():
        for images, targets in torch.utils.data.DataLoader(test, batch_size=BATCH):
            correct += int((model(images).argmax(1) == targets).sum())
    return correct / len(test)


def classifier_predict(
    *, model: Any, root: Path, manifest: dict[str, Any], rows: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """One prediction per task row: the surest class and its softmax score."""
    import torch
    from PIL import Image

    names, kind, transform = (
        _class_names(manifest),
        manifest["project"]["kind"],
        _transform(CLASSIFIER_SIZE),
    )
    out = []
    with torch.no_grad():
        for row in rows:
            with Image.open(root / row["image"]) as image:
                batch = transform(image).unsqueeze(0)
            scores = torch.softmax(model(batch), dim=1)[0]
            best = int(scores.argmax())
            out.append(
                prediction_of_class(
                    kind=kind, task=row["task"], name=names[best], score=float(scores[best])
                )
            )
    return out


def classifier_pipeline(
    *, root: Path, manifest: dict[str, Any], tasks: list[dict[str, str]], config: Config
) -> Outcome:
    model = classifier_train(root=root, manifest=manifest, config=config)
    accuracy = classifier_evaluate(model=model, root=root, manifest=manifest)
    rows = _predict_rows(tasks, config)
    predictions = classifier_predict(model=model, root=root, manifest=manifest, rows=rows)
    return Outcome("accuracy", accuracy, predictions)


def yolo_train(*, root: Path, config: Config) -> Any:
    """Ultralytics YOLO built from ``config.yolo_model`` (a YAML: untrained, nothing
    downloaded), trained on CPU; returns the best weights loaded."""
    from ultralytics import YOLO

    model = YOLO(config.yolo_model)
    model.train(
        data=str(root / "data.yaml"),
        epochs=config.epochs,
        imgsz=config.image_size,
        device="cpu",
        workers=0,
        amp=False,  # its check would download yolo11n.pt
        plots=False,  # plotting may fetch a font
        project=str(root.parent / "runs"),
        name="yolo",
        exist_ok=True,
        verbose=False,
    )
    return YOLO(model.trainer.best)


def yolo_evaluate(*, model: Any, root: Path, config: Config) -> float | None:
    """mAP50 on the test split; None when the export has no test split."""
    if not (root / "images" / "test").is_dir():
        return None
    metrics = model.val(
        data=str(root / "data.yaml"),
        split="test",
        imgsz=config.image_size,
        device="cpu",
        plots=False,
    )
    return float(metrics.box.map50)


def yolo_predict(
    *, model: Any, root: Path, manifest: dict[str, Any], rows: list[dict[str, str]], config: Config
) -> list[dict[str, Any]]:
    """One prediction per task row: every box the model finds, in image pixels."""
    names, out = _class_names(manifest), []
    for row in rows:
        result = model.predict(
            str(root / row["image"]), imgsz=config.image_size, device="cpu", verbose=False
        )[0]
        height, width = result.orig_shape
        boxes = [
            (names[int(c)], *map(float, xyxy), float(p))
            for xyxy, c, p in zip(
                result.boxes.xyxy.tolist(),
                result.boxes.cls.tolist(),
                result.boxes.conf.tolist(),
                strict=True,
            )
        ]
        out.append(prediction_of_boxes(task=row["task"], boxes=boxes, width=width, height=height))
    return out


def yolo_pipeline(
    *, root: Path, manifest: dict[str, Any], tasks: list[dict[str, str]], config: Config
) -> Outcome:
    model = yolo_train(root=root, config=config)
    map50 = yolo_evaluate(model=model, root=root, config=config)
    rows = _predict_rows(tasks, config)
    predictions = yolo_predict(model=model, root=root, manifest=manifest, rows=rows, config=config)
    return Outcome("mAP50", map50, predictions)


Pipeline = Callable[..., Outcome]
PIPELINES: dict[str, Pipeline] = {"yolo": yolo_pipeline, "imagefolder": classifier_pipeline}


# --- the job -----------------------------------------------------------------------------------


def run(message: dict[str, Any], config: Config) -> Report:
    """Fetch, train, evaluate and post for one verified "export ready" message."""
    pipeline = PIPELINES.get(message["format"])
    if pipeline is None:
        raise ValueError(
            f"no training pipeline for a {message['format']!r} export; ask for yolo or imagefolder"
        )
    root = export_fetch(message=message, config=config)
    manifest = manifest_read(root)
    outcome = pipeline(root=root, manifest=manifest, tasks=tasks_read(root), config=config)
    model = f"{config.model_name}@{message['version']}"
    posted = (
        predictions_post(
            config=config, project=message["project"], model=model, predictions=outcome.predictions
        )
        if outcome.predictions
        else []
    )
    return Report(
        message["export"], message["version"], model, outcome.metric, outcome.value, posted
    )


def main() -> None:
    """``python job.py message.json``: run the job on a message saved from a delivery."""
    import sys

    message = json.loads(Path(sys.argv[1]).read_text())
    report = run(message, Config.from_env())
    print(json.dumps(report.__dict__, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
