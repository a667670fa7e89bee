"""What an operator watches: request ids, JSON logs and the Prometheus endpoint.

- ``context.py``    the current request id (a contextvar) and what an incoming one may look like
- ``middleware.py`` the request id of each request, and its latency in the route histogram
- ``logs.py``       the log formatters (one JSON object per line, or text) carrying the request id
- ``jobs.py``       Celery signal handlers: the request id into the jobs a request causes, the
                    workers' logging, and failed jobs counted where every web node can read them
- ``metrics.py``    the histogram and the figures read at scrape time (database, broker)
- ``views.py``      ``GET /metrics``, for staff or the METRICS_TOKEN bearer
"""
