"""Synthetic street-camera images with a known truth, for the demo and the crowd simulator.

Each image is a grey road with vehicles drawn as coloured blocks (taxis yellow, buses long and
green, trucks large and brown, cars small, any colour); the truth comes with it.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw

VEHICLES = {
    "car": ((60, 40), None),
    "taxi": ((60, 40), (240, 200, 30)),
    "truck": ((110, 70), (120, 80, 40)),
    "bus": ((150, 60), (40, 150, 70)),
}
CAR_COLOURS = [(200, 40, 40), (40, 70, 200), (230, 230, 230), (30, 30, 30)]
MODERATION_CATEGORIES = ["violence", "nudity", "weapons"]
SIZE = (320, 240)


def _canvas(rng: random.Random) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", SIZE, (90 + rng.randint(-10, 10),) * 3)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 100, SIZE[0], 140], fill=(70, 70, 70))
    for x in range(0, SIZE[0], 40):
        draw.rectangle([x, 118, x + 20, 122], fill=(230, 230, 230))
    return image, draw


def _vehicle(
    draw: ImageDraw.ImageDraw, rng: random.Random, label: str, at: tuple[int, int]
) -> list[float]:
    (w, h), colour = VEHICLES[label]
    colour = colour or rng.choice(CAR_COLOURS)
    x, y = at
    draw.rectangle([x, y, x + w, y + h], fill=colour, outline=(0, 0, 0))
    draw.ellipse([x + 5, y + h - 8, x + 19, y + h + 6], fill=(10, 10, 10))
    draw.ellipse([x + w - 19, y + h - 8, x + w - 5, y + h + 6], fill=(10, 10, 10))
    return [float(x), float(y), float(w), float(h + 6)]


def _encode(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def classification_image(rng: random.Random) -> tuple[bytes, dict]:
    image, draw = _canvas(rng)
    label = rng.choice(list(VEHICLES))
    _vehicle(draw, rng, label, (rng.randint(10, 150), rng.randint(60, 120)))
    return _encode(image), {"label": label}


def bbox_image(rng: random.Random) -> tuple[bytes, dict]:
    image, draw = _canvas(rng)
    boxes, x = [], rng.randint(5, 30)
    for _ in range(rng.randint(1, 3)):
        label = rng.choice(list(VEHICLES))
        if x + VEHICLES[label][0][0] >= SIZE[0] - 5:
            break
        boxes.append(
            {"label": label, "bbox": _vehicle(draw, rng, label, (x, rng.randint(40, 150)))}
        )
        x += VEHICLES[label][0][0] + rng.randint(10, 30)
    return _encode(image), {"boxes": boxes}


def polygon_image(rng: random.Random) -> tuple[bytes, dict]:
    image, draw = _canvas(rng)
    cx, cy, r = rng.randint(80, 240), rng.randint(70, 170), rng.randint(25, 60)
    points = [
        [float(cx - r), float(cy)],
        [float(cx), float(cy - r)],
        [float(cx + r), float(cy)],
        [float(cx), float(cy + r)],
    ]
    label = rng.choice(["pothole", "road_sign"])
    draw.polygon(
        [tuple(p) for p in points], fill=(50, 40, 30) if label == "pothole" else (220, 30, 30)
    )
    return _encode(image), {"polygons": [{"label": label, "points": points}]}


def moderation_image(rng: random.Random) -> tuple[bytes, dict]:
    image, draw = _canvas(rng)
    if rng.random() < 0.3:
        category = rng.choice(MODERATION_CATEGORIES)
        draw.rectangle([100, 60, 220, 180], fill=(200, 0, 0))
        draw.text((110, 110), category.upper(), fill=(255, 255, 255))
        return _encode(image), {"verdict": "unsafe", "categories": [category]}
    _vehicle(draw, rng, "car", (rng.randint(10, 200), 90))
    return _encode(image), {"verdict": "safe", "categories": []}


GENERATORS = {
    "classification": classification_image,
    "bbox": bbox_image,
    "polygon": polygon_image,
    "moderation": moderation_image,
}
LABELS = {
    "classification": list(VEHICLES),
    "bbox": list(VEHICLES),
    "polygon": ["pothole", "road_sign"],
    "moderation": MODERATION_CATEGORIES,
}


def distinct_images(generate, rng: random.Random, count: int) -> list[tuple[bytes, dict]]:
    """``count`` different pictures (fewer only if the generator keeps repeating itself): a
    repeat would be refused as a duplicate upload."""
    images, seen = [], set()
    for _ in range(count * 10):
        content, truth = generate(rng)
        if content not in seen:
            seen.add(content)
            images.append((content, truth))
            if len(images) == count:
                break
    return images
