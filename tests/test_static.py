"""Static files as production serves them: content-hashed names (ES module imports included),
cached for good, brotli beside gzip; and the installable app's manifest and service worker."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import resolve
from PIL import Image

from sebenzai.settings import STORAGES as PRODUCTION_STORAGES

# Imports and re-exports with a relative specifier, static or dynamic.
IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}/[^"']+)["']""")
HASHED = re.compile(r"\.[0-9a-f]{12}\.\w+$")


@pytest.fixture
def collected(settings, tmp_path) -> Path:
    """collectstatic with the production storage into a fresh STATIC_ROOT, DEBUG off. Only our
    own files: the admin's, DRF's and Swagger UI's take a minute to compress and import nothing."""
    settings.STORAGES = PRODUCTION_STORAGES
    settings.STATIC_ROOT = str(tmp_path / "static")
    settings.DEBUG = False
    call_command(
        "collectstatic",
        interactive=False,
        verbosity=0,
        ignore_patterns=["admin", "rest_framework", "drf_spectacular_sidecar"],
    )
    return tmp_path / "static"


def _manifest(root: Path) -> dict[str, str]:
    return json.loads((root / "staticfiles.json").read_text())["paths"]


def test_every_module_import_points_at_a_hashed_file_that_exists(collected):
    paths = _manifest(collected)
    modules = [name for name in paths if name.startswith("frontend/") and name.endswith(".js")]
    assert "frontend/worker/label.js" in modules
    seen = 0
    for name in modules:
        hashed = paths[name]
        source = (collected / hashed).read_text()
        for specifier in IMPORT.findall(source):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(hashed), specifier))
            assert HASHED.search(target), f"{hashed} imports {specifier} by its plain name"
            assert target in paths.values(), f"{hashed} imports {specifier}, not in the manifest"
            assert (collected / target).is_file()
            seen += 1
    label = (collected / paths["frontend/worker/label.js"]).read_text()
    assert len(IMPORT.findall(label)) == 11  # the eleven modules the page starts with
    assert seen > 9


def test_a_hashed_module_is_served_immutable_and_brotli_compressed(client, collected):
    # given whitenoise reading the collected files (on this fresh client's first request)
    hashed = _manifest(collected)["frontend/worker/stage.js"]
    # when a browser that takes brotli asks for a hashed module
    response = client.get(f"/static/{hashed}", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    # then it gets the brotli file, to be kept for a year without asking again
    assert response.status_code == 200
    assert response["Content-Encoding"] == "br"
    assert (collected / f"{hashed}.br").is_file()
    assert (collected / f"{hashed}.gz").is_file()
    cache_control = response["Cache-Control"]
    assert "immutable" in cache_control
    assert int(re.search(r"max-age=(\d+)", cache_control)[1]) >= 365 * 24 * 3600
    # while the same file by its plain name is only cached briefly (it changes on deploy)
    plain = client.get("/static/frontend/worker/stage.js", HTTP_ACCEPT_ENCODING="gzip")
    assert plain["Content-Encoding"] == "gzip"
    assert "immutable" not in plain["Cache-Control"]


def test_the_service_worker_caches_the_hashed_shell_and_never_the_api(client, collected):
    paths = _manifest(collected)
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    script = response.content.decode()
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", script)[1])
    # the page's script, every module it imports, its styles and the icons, all by hashed name
    for name in ("frontend/worker/label.js", "frontend/shared/api.js", "frontend/worker/label.css"):
        assert f"/static/{paths[name]}" in shell
    assert all(HASHED.search(url) and url[len("/static/") :] in paths.values() for url in shell)
    assert "/api/" not in script
    assert "/media/" not in script


def test_the_service_worker_caches_nothing_whose_name_can_change(client):
    # given the plain storage (as with DEBUG on): names without a hash
    response = client.get("/sw.js")
    # then nothing is cached first, so a changed file is never served stale
    assert re.search(r"const SHELL = (\[.*?\]);", response.content.decode())[1] == "[]"


def test_the_web_manifest_is_valid_and_its_icons_exist_at_their_sizes(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == "Sebenzai"
    assert manifest["short_name"]
    assert manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert resolve(manifest["start_url"]).url_name == "label"
    sizes = set()
    for icon in manifest["icons"]:
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path, icon["src"]
        with Image.open(path) as image:
            assert icon["sizes"] == f"{image.width}x{image.height}"
            assert image.format == "PNG" == icon["type"].split("/")[1].upper()
        sizes.add(image.width)
    assert {192, 512} <= sizes


def test_worker_pages_link_the_manifest_and_register_the_service_worker(client, make_user):
    client.force_login(make_user(name="ayanda"))
    page = client.get("/label/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert "frontend/worker/pwa.js" in page
    assert "frontend/worker/label.css" in page
