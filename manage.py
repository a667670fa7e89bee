#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sebenzai.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:  # a configuration mistake is one line, not a traceback
        sys.exit(f"error: {exc}")
    except Exception as exc:
        from botocore.exceptions import NoCredentialsError

        from sebenzai.common.object_store import store_down

        if isinstance(exc, NoCredentialsError):
            sys.exit("error: S3_BUCKET is set but no credentials were found: set S3_ACCESS_KEY_ID "
                     "and S3_SECRET_ACCESS_KEY (or give the host a role).")  # fmt: skip
        if not store_down(exc):
            raise
        # Whatever the command was doing (seeding the demo's images, say): one line, not botocore's
        # traceback; what it stored before is kept.
        sys.exit(f"error: the file store did not answer ({type(exc).__name__}); try again.")
