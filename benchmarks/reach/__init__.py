"""The parts of worker_reach.py (issue 16 item 5), the worker page under a throttled phone:

- ``server``: the platform served as in production (DEBUG off, collectstatic, whitenoise,
  gunicorn) on SQLite in a temporary folder, seeded with a project of each kind;
- ``page``: the phone (360×640, touch), the network profiles, the bytes counter and the probe
  that times "task usable" inside the page;
- ``answer``: a finger's answer for each tool;
- ``scenarios``: cold and warm loads, Submit → next, and network drops;
- ``report``: the tables, beside the figures the issue quotes.
"""
