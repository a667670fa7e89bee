"""Task images, to the owner, staff and the worker holding a live lease (others: 404), scaled on
request. With an object store and MEDIA_DELIVERY=redirect the answer is a 302 to a presigned URL
of the store (``Cache-Control: private, no-store``: the URL is short-lived and personal);
otherwise the bytes are streamed from the store through this process. A missing object is a 404,
a store that is down a 503 (the API's exception handler)."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils.cache import patch_vary_headers
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request

from sebenzai.common.errors import DomainError, NotFound
from sebenzai.common.store_urls import signed_url, store_signs_urls

from ..images import scaled_size_for
from ..models import Task
from ..selectors import task_image_readable
from ..services.image_files import ImageFile, task_image_file

IMAGE_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, max-age=86400",
}


def requested_size(request: Request) -> int | None:
    """The ``size`` query parameter: the longest side wanted, in px, or None for the original.
    Without ``size``, a request that says ``Save-Data: on`` (the browser's data saver) gets a
    copy of SAVE_DATA_IMAGE_PX: no more than a phone needs."""
    raw = request.query_params.get("size")
    if raw is None:
        if request.headers.get("Save-Data") == "on":
            return scaled_size_for(settings.SEBENZAI["SAVE_DATA_IMAGE_PX"])
        return None
    if not raw.isdigit() or not 16 <= int(raw) <= 10_000:
        raise DomainError(
            code="invalid_size", field="size", message="Expected a whole number of px, 16 to 10000."
        )
    return scaled_size_for(int(raw))


@extend_schema(
    responses={
        (200, "image/*"): bytes,
        302: OpenApiResponse(description="A short-lived URL of the object store."),
    }
)
@api_view(["GET"])
def task_image(request: Request, task_id: str) -> HttpResponse:
    """The image, served with the type of the format we detected, never sniffed, and sandboxed
    should a browser open it. With ``?size=N`` a WebP copy whose longest side is about N px
    (never larger than the original): coordinates stay in original pixels, as the page draws
    the copy at full size."""
    size = requested_size(request)
    task = Task.objects.select_related("project").filter(pk=task_id).first()
    if task is None or not task_image_readable(task=task, user=request.user):
        raise NotFound()
    try:
        image = task_image_file(task=task, size=size)
        response = _redirect(image) if store_signs_urls() else _streamed(image)
    except FileNotFoundError as exc:  # deleted from the store behind our back
        raise NotFound() from exc
    patch_vary_headers(response, ["Save-Data"])
    return response


def _redirect(image: ImageFile) -> HttpResponse:
    disposition = f'inline; filename="{image.filename}"'
    url = signed_url(image.name, content_type=image.content_type, disposition=disposition)
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "private, no-store"
    return response


def _streamed(image: ImageFile) -> HttpResponse:
    handle = default_storage.open(image.name, "rb")
    # Fetch it now (an S3 file downloads on first read), so that a store failing shows here as
    # a 503, not as a response cut short after its headers went out.
    handle.open()
    response = FileResponse(handle, content_type=image.content_type)
    response["Content-Disposition"] = f'inline; filename="{image.filename}"'
    for header, value in IMAGE_HEADERS.items():
        response[header] = value
    return response
