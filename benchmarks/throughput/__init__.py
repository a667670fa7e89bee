"""The sections of ``benchmarks/api_throughput.py`` (the script a user runs, whose docstring
explains the measurement):

- ``stack``: the application's environment, Redis, and gunicorn + a Celery worker started on it;
- ``client``: the HTTP client threads acting for worker accounts (next task, submit);
- ``scenarios``: (a) the crowd and (b) the single worker, the wait for scoring, the checks;
- ``report``: the machine, the tables, the figures saved to ``benchmarks/out/``;
- ``cli``: the flags, the template database seeded once (``children/api_seed.py``), the runs.
"""
