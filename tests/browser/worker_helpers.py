"""Helpers for the workers' browser tests: projects with real-sized images, sign-up through the
form, waiting for a stored answer, and touch drags through the DevTools protocol."""

from __future__ import annotations

import time

from annotations.models import Annotation, Project, ProjectStatus
from annotations.services.intake import IncomingFile, tasks_create_from_files
from annotations.services.projects import project_create
from tests.helpers import PASSWORD, png_bytes

LABELS = {
    "classification": ["car", "taxi", "truck"],
    "moderation": ["violence", "nudity"],
    "bbox": ["car", "taxi"],
    "polygon": ["road", "car"],
}


def project_with_images(owner, kind: str, *, images: int = 1, size=(640, 480), **fields) -> Project:
    data = {
        "name": f"{kind} street",
        "kind": kind,
        "labels": LABELS[kind],
        "redundancy_min": 3,
        "redundancy_max": 3,
        "acceptance_threshold": 0.6,
        "gold_ratio": 0.0,
        "instructions": f"Label every {kind} you see.",
        **fields,
    }
    project = project_create(owner=owner, data=data)
    files = (
        IncomingFile(f"images[{i}]", f"{kind}{i}.png", lambda i=i: png_bytes(*size, seed=1000 + i))
        for i in range(images)
    )
    tasks_create_from_files(project=project, files=files)
    project.status = ProjectStatus.ACTIVE
    project.save(update_fields=["status"])
    return project


def sign_up(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/signup/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.fill("input[name=password_again]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/signup/" not in url)


def stored_answer(project: Project, timeout: float = 8.0) -> Annotation:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = Annotation.objects.filter(task__project=project).order_by("created_at").last()
        if answer is not None:
            return answer
        time.sleep(0.05)
    raise AssertionError(f"no answer stored for {project.name}")


def open_label_page(page, project: Project) -> None:
    page.goto(f"/label/?project={project.pk}")
    page.wait_for_selector("#labeller[data-state=ready]")


def image_to_screen(page, x: float, y: float) -> tuple[float, float]:
    """Where image pixel (x, y) is on the screen, read from the SVG's own transform."""
    return page.evaluate(
        """([x, y]) => {
            const svg = document.getElementById('stage');
            const p = new DOMPoint(x, y).matrixTransform(svg.getScreenCTM());
            return [p.x, p.y];
        }""",
        [x, y],
    )


def mouse_drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*image_to_screen(page, *start))
    page.mouse.down()
    page.mouse.move(*image_to_screen(page, *end), steps=6)
    page.mouse.up()


def mouse_click(page, point: tuple[float, float]) -> None:
    page.mouse.click(*image_to_screen(page, *point))


def touch_drag(page, start: tuple[float, float], end: tuple[float, float], steps: int = 6) -> None:
    """A one-finger drag as real touch input (touchStart/Move/End), which chromium turns into
    pointer events of type "touch", as on a phone."""
    cdp = page.context.new_cdp_session(page)
    (x0, y0), (x1, y1) = image_to_screen(page, *start), image_to_screen(page, *end)
    cdp.send(
        "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]}
    )
    for i in range(1, steps + 1):
        x, y = x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()
    # Chromium's gesture detector swallows a tap that comes within a few ms of a drag (it reads
    # it as stopping a fling); a finger takes longer than this to reach a button.
    page.wait_for_timeout(400)


def csp_violations(page) -> list[str]:
    found: list[str] = []
    page.on(
        "console",
        lambda msg: found.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return found


def touch_pinch(page, centre: tuple[float, float], start_gap: float, end_gap: float) -> None:
    """Two fingers moving apart (zoom in) or together around ``centre`` (screen px)."""
    cdp = page.context.new_cdp_session(page)
    cx, cy = centre

    def fingers(gap: float) -> list[dict]:
        return [{"x": cx - gap / 2, "y": cy, "id": 1}, {"x": cx + gap / 2, "y": cy, "id": 2}]

    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": fingers(start_gap)})
    for i in range(1, 7):
        gap = start_gap + (end_gap - start_gap) * i / 6
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": fingers(gap)})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def artefact(tmp_path, name: str):
    """Where a test screenshot goes: SEBENZAI_ARTEFACTS when set (CI keeps it), else tmp."""
    import os
    from pathlib import Path

    folder = Path(os.environ.get("SEBENZAI_ARTEFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def touch_tap(page, selector: str) -> None:
    """A finger tap on the middle of ``selector``: down, a short press, up."""
    box = page.locator(selector).bounding_box()
    point = [{"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2}]
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": point})
    page.wait_for_timeout(60)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def wait_until(condition, timeout: float = 8.0, *, page=None) -> None:
    """Poll ``condition``. With ``page``, wait through Playwright, so that its event loop runs
    meanwhile (a sleeping test thread can hold up the page's own requests)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        if page is None:
            time.sleep(0.05)
        else:
            page.wait_for_timeout(50)


def outside_viewport(page, selector: str) -> list[str]:
    """The elements of ``selector`` not wholly inside the window as it is (no scrolling)."""
    return page.eval_on_selector_all(
        selector,
        """els => els.filter(e => {
            const r = e.getBoundingClientRect();
            return r.width === 0 || r.top < 0 || r.left < 0
                || r.bottom > window.innerHeight || r.right > window.innerWidth;
        }).map(e => `${e.id || e.className || e.tagName} ${e.textContent.trim().slice(0, 20)}`)""",
    )


def contrast_ratio(locator) -> float:
    """WCAG contrast of an element's text against what is behind it, counting the opacity of
    the element and its ancestors (which fades text and background alike towards the page)."""
    return locator.evaluate(
        """el => {
            const rgba = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
            const behind = (node) => {
                for (let n = node; n; n = n.parentElement) {
                    const c = rgba(getComputedStyle(n).backgroundColor);
                    if (c.length === 3 || c[3] > 0) return c.slice(0, 3);
                }
                return [255, 255, 255];
            };
            let opacity = 1;
            for (let n = el; n; n = n.parentElement) opacity *= Number(getComputedStyle(n).opacity);
            const page = behind(document.body);
            const mix = (c) => c.map((v, i) => opacity * v + (1 - opacity) * page[i]);
            const lum = (c) => {
                const [r, g, b] = c.map((v) => {
                    v /= 255;
                    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
                });
                return 0.2126 * r + 0.7152 * g + 0.0722 * b;
            };
            const text = rgba(getComputedStyle(el).color);
            const back = behind(el);
            const alpha = text.length > 3 ? text[3] : 1;
            const fg = mix(text.slice(0, 3).map((v, i) => alpha * v + (1 - alpha) * back[i]));
            const [a, b] = [lum(fg), lum(mix(back))].sort((x, y) => y - x);
            return (a + 0.05) / (b + 0.05);
        }"""
    )
