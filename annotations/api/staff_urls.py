"""Staff-only API under /api/v1/staff/: dashboards' figures, the review queue, worker blocks."""

urlpatterns: list = []
