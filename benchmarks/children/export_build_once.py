"""One export build job (``exports.services.export_build``, what the Celery worker runs), then its
download through the API view, in a process of its own so that its memory is its own. The store
is whatever the environment configures: the local disk, or S3_BUCKET and its variables. Prints
one JSON line: the build's wall time, this process's RSS before it and its peak after it, the
zip's size and sha256, and the download's round trip (the view's answer, and for a redirect the
GET of the presigned URL), whose bytes must hash to the export's sha256.

    python benchmarks/children/export_build_once.py '{"project": name, "format": "coco"}'
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import urllib.request

import django

from benchmarks.harness.usage import peak_rss_kb, rss_kb


def main(spec: dict) -> None:
    django.setup()
    from django.db.models import Max

    from annotations.models import Project
    from exports.models import Export
    from exports.options import export_options_build
    from exports.services import export_build

    project = Project.objects.get(name=spec["project"])
    options = export_options_build(kind=project.kind, fmt=spec["format"], split=None,
                                   min_confidence=None)  # fmt: skip
    latest = Export.objects.filter(project=project).aggregate(v=Max("version"))["v"] or 0
    export = Export.objects.create(project=project, requested_by=project.owner,
                                   version=latest + 1, format=options.format,
                                   options=options.as_dict())  # fmt: skip
    before_kb = rss_kb()
    started = time.perf_counter()
    built = export_build(export_id=str(export.pk))
    seconds = time.perf_counter() - started
    peak_kb = peak_rss_kb()
    if built is None or built.state != "ready":
        sys.exit(f"the export did not build: {built and built.error_message}")
    download = download_round_trip(built, project.owner)
    print(json.dumps({
        "seconds": seconds, "before_kb": before_kb, "peak_kb": peak_kb, "size": built.size,
        "sha256": built.sha256, "images": built.counts["images"]["total"], **download,
    }))  # fmt: skip


def download_round_trip(export, owner) -> dict:
    """GET the download endpoint as the owner, follow a redirect to the store, read every byte."""
    from django.test import Client

    client = Client()
    client.force_login(owner)
    started = time.perf_counter()
    response = client.get(f"/api/v1/exports/{export.pk}/download/")
    digest = hashlib.sha256()
    if response.status_code == 302:
        with urllib.request.urlopen(response["Location"], timeout=60) as got:  # noqa: S310
            while block := got.read(1 << 20):
                digest.update(block)
    elif response.status_code == 200:
        for block in response.streaming_content:
            digest.update(block)
    else:
        sys.exit(f"download answered {response.status_code}: {response.content[:300]!r}")
    seconds = time.perf_counter() - started
    if digest.hexdigest() != export.sha256:
        sys.exit("the downloaded bytes do not hash to the export's sha256")
    return {"download_status": response.status_code, "download_seconds": seconds}


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
