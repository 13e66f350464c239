"""Summary rows that hold counters, added to in the transaction of the change they count.

The dashboard's summaries (``odr.ops``), the performance and satisfaction figures
(``odr.cases``) and the field dispatch figures (``odr.field``) keep sums keyed by a few columns;
a change adds (or, moving a row out, subtracts) its deltas with :func:`add`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.dialects import postgresql, sqlite

from odr.extensions import db

#: Rows per execution (the statement is compiled once and run with many rows).
CHUNK = 5000


def add(model, rows: Sequence[dict], keys: Iterable[str], added: Iterable[str]) -> None:
    """Insert ``rows`` into ``model``'s table, or add their ``added`` columns to the rows already
    there with the same ``keys``: ``INSERT … ON CONFLICT (keys) DO UPDATE SET c = c + excluded.c``
    (SQLite and PostgreSQL both have it), one statement run for every row.

    Give the rows in key order where two transactions may add to the same rows: they then lock
    them in the same order, and wait for each other instead of deadlocking.
    """
    if not rows:
        return
    table = model.__table__
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_={c: table.c[c] + stmt.excluded[c] for c in added})
    connection = db.session.connection()
    for start in range(0, len(rows), CHUNK):
        connection.execute(stmt, rows[start:start + CHUNK])
