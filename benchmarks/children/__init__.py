"""Programs the benchmarks start in fresh processes, each run from the checkout's root as
``python -m benchmarks.children.<name>`` with the application's environment and reading its spec
as JSON (see each module): ``export_seed`` and ``export_once`` for export.py, ``api_seed`` for
api_throughput.py."""
