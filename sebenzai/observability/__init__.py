"""What the logs say about a request and the jobs it causes (the metrics: sebenzai/metrics).

- ``context.py``    the current request id (a contextvar) and what an incoming one may look like
- ``middleware.py`` each request's id, from X-Request-ID or made, sent back on the response
- ``logs.py``       the log formatters (one JSON object per line, or text) naming the request id
- ``jobs.py``       Celery signal handlers: the request id into the jobs a request causes, the
                    workers' logging, failed jobs counted
- ``failures.py``   failed jobs counted where every web node can read them (the broker's Redis)

Nothing here imports an app: sebenzai/celery.py connects ``jobs.py`` as it loads.
"""
