"""Screenshots and measurements of the workers' pages: ``python -m devtools.screenshots``.

Builds a throw-away site (SQLite and media in a temporary folder, the demo data, Celery in
process), serves it on 127.0.0.1, drives Debian's chromium through Playwright and writes
docs/screenshots/worker-*.png (or ``--out``). It prints what it measured: the labelling page's own
weight (HTML, CSS, JS; raw and gzipped), the time from Submit to the next task being shown, and
the bytes of a task image at phone size against the original.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import statistics
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKER = "amara"


def configure(folder: Path) -> None:
    """A private site: must run before Django is imported anywhere."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "sebenzai.settings"
    os.environ["DEBUG"] = "1"
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'shots.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(folder / "media")
    os.environ.pop("REDIS_URL", None)
    # The pace check refuses answers sooner than this after the lease; the script answers at
    # machine speed to time the page itself, so it is off here.
    os.environ["MIN_ANSWER_MS"] = "0"
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop beside the ORM


def seed() -> dict:
    from django.core.management import call_command

    from accounts.models import WorkerProfile
    from annotations.models import Project

    call_command("migrate", verbosity=0)
    call_command("seed_demo", images=12, stdout=io.StringIO())
    WorkerProfile.objects.filter(user__username=WORKER).update(daily_target=20)
    projects = {p.kind: p for p in Project.objects.all()}
    earn_some_points(projects["classification"])
    return {kind: str(p.pk) for kind, p in projects.items()} | {"big": big_image_project()}


def earn_some_points(project) -> None:
    """Six answers by the demo worker, decided and paid as the consensus would pay them."""
    from django.contrib.auth import get_user_model

    from annotations.services.assignments import task_lease_next
    from annotations.services.submissions import annotation_submit
    from workers.models import PointsReason
    from workers.services import Award, points_award

    worker = get_user_model().objects.get(username=WORKER)
    for _ in range(6):
        lease = task_lease_next(worker=worker, project=project)
        truth = lease.task.metadata.get("synthetic_truth") or lease.task.gold_answer
        answer = annotation_submit(
            assignment_id=lease.pk, worker=worker, payload=truth, duration_ms=3000
        )
        points_award(awards=[Award(worker.pk, answer.pk, PointsReason.ACCEPTED, 10)])


def big_image_project() -> str:
    """A 2048×1536 photo-like picture (textured demo street), to weigh the phone copy."""
    import random
    import secrets

    from PIL import Image

    from accounts.models import Role
    from accounts.services import user_create
    from annotations.models import ProjectStatus
    from annotations.services.intake import IncomingFile, tasks_create_from_files
    from annotations.services.projects import project_create
    from devtools.demo import bbox_image

    street, _ = bbox_image(random.Random(7))  # noqa: S311 - a picture
    size = (2048, 1536)
    picture = Image.open(io.BytesIO(street)).convert("RGB").resize(size)
    # Texture at several scales, as in a photo: coarse blotches survive scaling, grain does not.
    for cells, weight in ((64, 0.35), (256, 0.25), (2048, 0.15)):
        noise = Image.effect_noise((cells, cells * 3 // 4), 60).convert("RGB").resize(size)
        picture = Image.blend(picture, noise, weight)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90)
    password = secrets.token_urlsafe(16)  # nobody signs in as the owner
    owner = user_create(username="photo-owner", password=password, role=Role.REQUESTER)
    project = project_create(
        owner=owner, data={"name": "Big photo", "kind": "bbox", "labels": ["car", "taxi"]}
    )
    data = out.getvalue()
    tasks_create_from_files(project=project, files=[IncomingFile("i", "big.jpg", lambda: data)])
    project.status = ProjectStatus.ACTIVE
    project.save(update_fields=["status"])
    return str(project.pk)


def serve():
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import WSGIServer
    from django.test.testcases import LiveServerThread

    class SerialServer(WSGIServer):
        def __init__(self, *args, connections_override=None, **kwargs):
            super().__init__(*args, **kwargs)

    class OneAtATime(LiveServerThread):
        # SQLite refuses a second writer at once; one request at a time keeps it simple.
        server_class = SerialServer

    server = OneAtATime("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    return server, f"http://127.0.0.1:{server.port}"


def sign_in(page) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", WORKER)
    page.fill("input[name=password]", "sebenzai-demo")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/" not in url)


def to_screen(page, x: float, y: float) -> tuple[float, float]:
    return page.evaluate(
        """([x, y]) => { const p = new DOMPoint(x, y).matrixTransform(
            document.getElementById('stage').getScreenCTM()); return [p.x, p.y]; }""",
        [x, y],
    )


def drag(page, a: tuple[float, float], b: tuple[float, float]) -> None:
    page.mouse.move(*to_screen(page, *a))
    page.mouse.down()
    page.mouse.move(*to_screen(page, *b), steps=5)
    page.mouse.up()


def label_page(page, project: str) -> None:
    page.goto(f"/label/?project={project}")
    page.wait_for_selector("#labeller[data-state=ready]")


def page_weight(page) -> dict:
    """Bytes of the labelling page's own HTML, CSS and JS (not the task image, not API calls)."""
    entries = page.evaluate(
        """() => [performance.getEntriesByType('navigation')[0],
                  ...performance.getEntriesByType('resource')]
                 .map(e => ({name: e.name, size: e.decodedBodySize}))"""
    )
    own = [e for e in entries if "/api/" not in e["name"]]
    static = ROOT / "frontend" / "static"
    gz = 0
    for entry in own:
        path = entry["name"].split("/static/", 1)[-1] if "/static/" in entry["name"] else None
        if path and (static / path).exists():
            gz += len(gzip.compress((static / path).read_bytes(), 9))
    html = next(e["size"] for e in own if "/label/" in e["name"])
    return {"files": len(own), "raw": sum(e["size"] for e in own), "gzip_static": gz, "html": html}


def submit_to_next_ms(page, project: str, rounds: int = 5) -> float:
    label_page(page, project)
    times = []
    for _ in range(rounds):
        task = page.get_attribute("#labeller", "data-task")
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "(t) => document.getElementById('labeller').dataset.task !== t"
            " && document.getElementById('labeller').dataset.state === 'ready'",
            arg=task,
        )
        times.append(float(page.get_attribute("#labeller", "data-next-ms")))
    return statistics.median(times)


def image_bytes(page, project: str) -> tuple[int, int]:
    label_page(page, project)
    url = page.evaluate("document.getElementById('stage-image').getAttribute('href')")
    base = url.split("?", 1)[0]
    sizes = page.evaluate(
        """async (urls) => Promise.all(urls.map(async u => {
            const r = await fetch(u, {credentials: 'same-origin'});
            return [r.headers.get('content-type'), (await r.arrayBuffer()).byteLength];
        }))""",
        [base, url],
    )
    print(f"image requests: original {sizes[0]}, shown {url} {sizes[1]}")
    return sizes[0][1], sizes[1][1]


def shoot(base: str, projects: dict, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        desk = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=base)
        page = desk.new_page()
        sign_in(page)
        page.goto("/")
        page.screenshot(path=out / "worker-home.png", full_page=True)
        label_page(page, projects["bbox"])
        weight = page_weight(page)
        drag(page, (20, 40), (110, 110))
        page.keyboard.press("2")
        drag(page, (150, 60), (260, 130))
        page.screenshot(path=out / "worker-label-bbox.png")
        label_page(page, projects["polygon"])
        for point in [(90, 80), (170, 60), (230, 120), (160, 180), (100, 150)]:
            page.mouse.click(*to_screen(page, *point))
        page.keyboard.press("Enter")
        page.screenshot(path=out / "worker-label-polygon.png")
        label_page(page, projects["moderation"])
        page.screenshot(path=out / "worker-label-moderation.png")
        next_ms = submit_to_next_ms(page, projects["classification"])
        phone = browser.new_context(
            viewport={"width": 360, "height": 640}, has_touch=True, is_mobile=True, base_url=base
        )
        mobile = phone.new_page()
        sign_in(mobile)
        original, scaled = image_bytes(mobile, projects["big"])
        label_page(mobile, projects["bbox"])
        drag(mobile, (30, 40), (120, 110))
        mobile.screenshot(path=out / "worker-label-phone.png")
        browser.close()
    report(weight, next_ms, original, scaled)


def report(weight: dict, next_ms: float, original: int, scaled: int) -> None:
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| labelling page, own files | {weight['files']} (HTML, CSS, JS modules) |")
    print(f"| labelling page weight, uncompressed | {weight['raw'] / 1024:.1f} KB |")
    print(f"| of which static CSS+JS gzipped | {weight['gzip_static'] / 1024:.1f} KB |")
    print(f"| Submit → next task shown (median of 5, local) | {next_ms:.0f} ms |")
    print(f"| 2048×1536 task image, original | {original / 1024:.0f} KB |")
    print(f"| same image for a 360×640 phone | {scaled / 1024:.0f} KB |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sebenzai-shots-") as folder:
        configure(Path(folder))
        import django

        django.setup()
        projects = seed()
        server, base = serve()
        try:
            shoot(base, projects, out)
        finally:
            server.terminate()


if __name__ == "__main__":
    main()
