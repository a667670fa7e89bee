"""One UPDATE for a few rows that each get their own values, without bulk_update's cost.

Django's ``bulk_update`` writes ``SET f = CASE WHEN id = 1 THEN … WHEN id = 2 THEN … END`` and
builds and resolves an expression per row and field: for the five answers and five skill rows a
scoring job writes, that Python work took longer than the database did. On PostgreSQL the same
statement is ``UPDATE t SET f = v.f FROM (VALUES …) AS v(pk, f) WHERE t.pk = v.pk``, its SQL
written once here with each column cast to its field's type (so a NULL needs no guessing);
other databases keep ``bulk_update``.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def rows_update(rows: Sequence[Model], fields: Sequence[str]) -> None:
    """Write ``fields`` of ``rows`` (saved instances of one model) in one statement."""
    if not rows:
        return
    model = type(rows[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(rows, fields)  # type: ignore[attr-defined]
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    casts = ", ".join(f"%s::{field.db_type(connection)}" for field in columns)
    values = ", ".join(f"({casts})" for _ in rows)
    names = [connection.ops.quote_name(field.column) for field in columns]
    table, pk = connection.ops.quote_name(meta.db_table), names[0]
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    # Only quoted names from the model's metadata are formatted in; every value is a parameter.
    sql = (
        f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v({', '.join(names)}) "  # noqa: S608
        f"WHERE {table}.{pk} = v.{pk}"
    )
    params = [
        field.get_db_prep_save(getattr(row, field.attname), connection)
        for row in rows
        for field in columns
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
