"""Parts of benchmarks/consensus_shapes.py."""
