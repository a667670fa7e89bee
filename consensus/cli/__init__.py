"""``python -m consensus aggregate``: the consensus algorithms on CSV files, without Django.
``main`` parses the command line; ``classes`` and ``shapes`` aggregate each kind; ``files`` reads
and writes the CSVs."""
