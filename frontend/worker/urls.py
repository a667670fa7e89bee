"""Workers' pages: sign up, home, labelling, leaderboard, history, instructions, and the
installable app's manifest and service worker. Sign in and out are Django's views under
/accounts/."""

from django.templatetags.static import static
from django.urls import path
from django.utils.functional import lazy
from django.views.generic.base import RedirectView

from frontend.worker import pwa
from frontend.worker import views as worker_views

urlpatterns = [
    path("", worker_views.home, name="home"),
    path("signup/", worker_views.signup, name="signup"),
    path("label/", worker_views.label, name="label"),
    path("leaderboard/", worker_views.leaderboard_page, name="leaderboard"),
    path("history/", worker_views.history, name="history"),
    path("projects/<uuid:project_id>/", worker_views.instructions, name="instructions"),
    # The installable app (frontend/worker/pwa.py): the service worker at the root, so that its
    # scope covers every page above; pwa.js registers it by this path.
    path("sw.js", pwa.service_worker, name="service-worker"),
    path("manifest.webmanifest", pwa.web_manifest, name="web-manifest"),
    # Browsers ask for /favicon.ico whatever a page links. Lazy: settings are read on a request.
    path(
        "favicon.ico",
        RedirectView.as_view(url=lazy(static, str)("frontend/favicon.svg"), permanent=True),
        name="favicon",
    ),
]
