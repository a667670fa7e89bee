"""The staff pages: project dashboards with their charts, the review queue, the workers view."""
