"""Rate limits per user and per route. Rates come from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
(environment variables THROTTLE_*); they key on the user id, so a forged X-Forwarded-For does not
dodge them, and on the client address only for anonymous callers (NUM_PROXIES says how many
proxies to trust)."""

from rest_framework.throttling import UserRateThrottle


class UploadThrottle(UserRateThrottle):
    """Each upload decodes and stores many images."""

    scope = "upload"


class ExportCreateThrottle(UserRateThrottle):
    """Each export reads a whole project and writes a zip."""

    scope = "export"
