"""Parts of benchmarks/consensus_classification.py.

- ``scoring``: expected accuracy on a set of tasks, ties broken uniformly at random;
- ``gold``: what gold does to the other tasks: seeded gold samples, accuracy with and without;
- ``robustness``: accuracy on seeded subsamples of the answers, steadier than one run;
- ``reports``: the --gold and --robustness tables for our methods;
- ``synthetic``: the scale run's seeded crowd of 1,000,000 answers;
- ``shrinkage``: the hybrid's shrinkage strength, fixed values against the estimated one.
"""
