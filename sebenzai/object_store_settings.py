"""The file store's settings: the local disk under MEDIA_ROOT (the embedded default), or any
S3-compatible store (AWS S3, MinIO, Ceph, R2) through django-storages when S3_BUCKET is set, so
that every web node and Celery worker, on any host, sees the same images, scaled copies and
exports."""

from botocore.config import Config

from .env import env_float, env_int, env_str

S3_BACKEND = "storages.backends.s3.S3Storage"


def object_store_settings() -> dict:
    """The ``STORAGES["default"]`` entry."""
    bucket = env_str("S3_BUCKET")
    if not bucket:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    endpoint = env_str("S3_ENDPOINT_URL") or None
    return {
        "BACKEND": S3_BACKEND,
        "OPTIONS": {
            "bucket_name": bucket,
            "location": env_str("S3_PREFIX"),  # a folder of the bucket, for a shared bucket
            "endpoint_url": endpoint,
            "region_name": env_str("S3_REGION", "us-east-1"),
            # Unset: boto3's own chain (AWS_ACCESS_KEY_ID..., an instance role).
            "access_key": env_str("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
            # Private objects, reached only through presigned URLs that the views sign after
            # their permission checks, valid this long.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": env_int("S3_URL_SECONDS", 300),
            "signature_version": "s3v4",
            # A custom endpoint (MinIO and most self-hosted stores) wants bucket-in-path URLs.
            "addressing_style": "path" if endpoint else "auto",
            "file_overwrite": True,  # images are named by their content: same name, same bytes
            # A store that is down fails a request in seconds (a 503), not after boto3's minutes
            # of default retries: two attempts in all.
            "client_config": Config(
                connect_timeout=env_float("S3_CONNECT_TIMEOUT", 3.0),
                read_timeout=env_float("S3_READ_TIMEOUT", 20.0),
                retries={"total_max_attempts": 2, "mode": "standard"},
                signature_version="s3v4",
                s3={"addressing_style": "path" if endpoint else "auto"},
            ),
        },
    }
