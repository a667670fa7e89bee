"""Static files as production serves them: every name content-hashed, gzip and brotli beside it.

The worker page is a tree of ES modules (``label.js`` imports ``./stage.js``, ``../shared/api.js``
and so on). Django's manifest storage hashes each file but rewrites ``import ... from "./x.js"``
only when asked to; without that the imported modules keep their plain names, which whitenoise can
only cache for a minute, and every warm load revalidates them. With it, a module's hash covers the
hashed names it imports, so one changed module renames every module above it, and all of them can
be cached for a year (whitenoise marks hashed names ``immutable``).
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
