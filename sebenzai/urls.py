from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from annotations.api import images, requester, worker
from sebenzai.common.auth_views import ThrottledLoginView, admin_login_redirect
from sebenzai.common.errors import json_error_view, not_found_view, server_error_view
from sebenzai.common.probes import healthz, readyz
from sebenzai.metrics.views import metrics

router = SimpleRouter()
router.register("projects", requester.ProjectViewSet, basename="project")

api_v1 = [
    path("", include("accounts.urls")),
    path("", include("workers.urls")),
    path("work/next/", worker.next_task, name="work-next"),
    path("work/assignments/<uuid:assignment_id>/submit/", worker.submit, name="work-submit"),
    path("work/assignments/<uuid:assignment_id>/skip/", worker.skip, name="work-skip"),
    path("work/assignments/<uuid:assignment_id>/release/", worker.release, name="work-release"),
    path("tasks/<uuid:task_id>/image/", images.task_image, name="task-image"),
    path("", include("exports.urls")),
    path("", include("predictions.urls")),
    path("staff/", include("consensus.api.urls")),
    *router.urls,
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("admin/login/", admin_login_redirect),  # before the admin's own, unlimited, form
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # the split view serves Swagger UI's start-up script as a file: no inline script, so the CSP holds
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    # Every form that takes a password is rate-limited: the browsable API's log-in is not served,
    # and password reset is not either (it needs outgoing mail, which is not configured).
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # The language switch posts here; set_language keeps the choice in the language cookie.
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("frontend.urls")),
]

handler400 = json_error_view(400, "bad_request", "The request was malformed.")
handler403 = json_error_view(403, "forbidden", "You do not have permission to do this.")
handler404 = not_found_view
handler500 = server_error_view
