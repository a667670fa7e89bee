"""Benchmarks: each top-level script is one a user runs (``.venv/bin/python benchmarks/<name>.py``);
``harness/`` holds what they share, ``children/`` the programs they start in fresh processes and
``throughput/`` the sections of ``api_throughput.py``."""
