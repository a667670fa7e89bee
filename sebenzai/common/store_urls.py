"""Short-lived presigned URLs of the object store, for downloads the views have already permitted
(settings.MEDIA_DELIVERY = "redirect"): the bytes then go from the store to the client, not
through a web process. The local disk signs nothing: its files are streamed by the app."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.storage import default_storage

from .object_store import on_object_store


def store_signs_urls() -> bool:
    """Whether a permitted download should be a redirect to the store: files are on the object
    store, and the delivery setting says so."""
    return settings.MEDIA_DELIVERY == "redirect" and on_object_store()


def signed_url(name: str, *, content_type: str, disposition: str) -> str:
    """A presigned GET of ``name`` whose response carries this type and disposition, whatever
    the object's metadata says (so the browser renders what we detected, and never guesses).
    Signing happens offline, so the object is looked up first: FileNotFoundError when it is
    missing, botocore's error when the store is down, rather than a URL that fails later."""
    if not default_storage.exists(name):
        raise FileNotFoundError(name)
    parameters = {"ResponseContentType": content_type, "ResponseContentDisposition": disposition}
    return default_storage.url(name, parameters=parameters)


_origins: dict[tuple, str] = {}


def store_origin() -> str | None:
    """The scheme and host the presigned URLs point at (for the pages' img-src), or None when
    downloads are not redirects. Signing a URL is local work; it is done once per storage."""
    if not store_signs_urls():
        return None
    key = (default_storage.endpoint_url, default_storage.bucket_name, default_storage.custom_domain)
    if key not in _origins:
        parts = urlsplit(default_storage.url("origin"))
        _origins[key] = f"{parts.scheme}://{parts.netloc}"
    return _origins[key]
