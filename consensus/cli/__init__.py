"""``python -m consensus aggregate``: the consensus algorithms on files, without Django.
``main`` runs the command; ``options`` parses and checks the options before any input is read;
``classes`` aggregates classification answers, read by ``csv_codes`` straight into integer codes;
``shapes`` fuses boxes and polygons, with ``repair`` for polygons that cross themselves; ``files``
holds the shared reading, writing and error helpers."""
