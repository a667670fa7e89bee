"""The edge model in the loop (issue 14), measured on a simulated crowd with a simulated model.
``benchmarks/model_in_loop.py`` is the entry point; its modules:

- ``model``: the simulated model's predictions ("good": calibrated, right ~85 %; "useless");
- ``scenario``: a project made and worked through the real services (upload, gold, predictions,
  leases and answers from devtools' crowd, scoring inline);
- ``figures``: what a finished project measures (answers per label, accuracy, corrections);
- ``latency``: scoring one task with and without a model's vote, timed;
- ``report``: medians over runs, ratios against no model, the markdown tables.
"""
