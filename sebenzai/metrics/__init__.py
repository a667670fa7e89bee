"""GET /metrics, the Prometheus endpoint (the request ids and logs: sebenzai/observability).

- ``middleware.py`` each request's latency into the route histogram
- ``collectors.py`` the histogram, and the cluster's figures read at scrape time (database, broker)
- ``tallies.py``    the all-time count of answers, kept cheap with a cached watermark
- ``views.py``      ``GET /metrics``, for staff or the METRICS_TOKEN bearer
"""
