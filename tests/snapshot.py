"""A copy of the whole test database, put back in milliseconds.

For tests that try many requests, each on the same freshly built data: the permission matrix
tries every route as every role, and a request that changed something must not leave its change
to the next role. Building the data again through the operations (users, organisations, cases,
documents, signatures, audit entries) cost 0.2–1 s each time, most of the matrix's time; putting
back a copy of the rows costs a few milliseconds and gives the same rows, ids and sequences.

* SQLite: SQLite's own online backup into an in-memory database, and back.
* PostgreSQL: a copy of every table in a schema of its own, made and put back by the server in one
  batch of statements each way, with every sequence's position.

Files the data points at (uploads, signed PDFs) stay in the instance folder: the application
never deletes one, so the copy of the rows finds them there.
"""

from __future__ import annotations

import itertools
import sqlite3

import sqlalchemy as sa

from odr.extensions import db

_names = itertools.count(1)


class Snapshot:
    """``Snapshot()`` copies the database as committed now; ``restore()`` puts it back;
    ``drop()`` forgets the copy."""

    def __init__(self):
        db.session.commit()
        db.session.remove()
        self.dialect = db.engine.dialect.name
        if self.dialect == "sqlite":
            self._copy = sqlite3.connect(":memory:", check_same_thread=False)
            self._backup(into=self._copy)
        else:
            self.schema = f"test_snapshot_{next(_names)}"
            tables = [t.name for t in db.metadata.sorted_tables]
            with db.engine.begin() as conn:
                sequences = conn.execute(sa.text(
                    "SELECT quote_ident(sequencename), last_value FROM pg_sequences"
                    " WHERE schemaname = current_schema()")).all()
                conn.exec_driver_sql("; ".join(
                    [f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE', f'CREATE SCHEMA "{self.schema}"']
                    + [f'CREATE TABLE "{self.schema}"."{t}" AS TABLE "{t}"' for t in tables]))
            # A sequence never used has no last value: it starts again at its start.
            self._put_back = "; ".join(
                [f'DELETE FROM "{t}"' for t in reversed(tables)]
                + [f'INSERT INTO "{t}" SELECT * FROM "{self.schema}"."{t}"' for t in tables]
                + [f"SELECT setval('{name}', {value})" if value is not None else f"ALTER SEQUENCE {name} RESTART"
                   for name, value in sequences])

    def _backup(self, into=None, source=None):
        raw = db.engine.raw_connection()
        try:
            if into is not None:
                raw.driver_connection.backup(into)
            else:
                source.backup(raw.driver_connection)
        finally:
            raw.close()

    def restore(self) -> None:
        db.session.remove()  # an open transaction of the test's session would block the copy
        if self.dialect == "sqlite":
            self._backup(source=self._copy)
        else:
            with db.engine.begin() as conn:
                conn.exec_driver_sql(self._put_back)

    def drop(self) -> None:
        if self.dialect == "sqlite":
            self._copy.close()
        else:
            db.session.remove()
            with db.engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


#: The demo's data kept per database: (snapshot, when taken). Loading it through the operations
#: takes 5–15 s (38 cases, signed and sealed documents, audit trails); six test files use it.
_demo: dict[str, tuple[Snapshot, float]] = {}
#: The demo's times are relative to when it was loaded ("a transfer 2 minutes ago"); a kept copy
#: older than this is loaded again, so that no test sees a demo much older than it expects.
DEMO_SECONDS = 600


def load_demo() -> None:
    """The demo's data in the test database (emptied by the ``app`` or ``server`` fixture), as
    ``odr demo`` loads it: loaded once per test process and database, put back from a snapshot
    after that. Under a stopped platform clock it is loaded afresh (its times follow the clock)."""
    import time

    from odr import demo, timeutil

    key = str(db.engine.url)
    kept = _demo.get(key)
    if timeutil._source is None and kept is not None and time.monotonic() - kept[1] < DEMO_SECONDS:
        kept[0].restore()
        return
    if kept is not None:
        kept[0].drop()
        del _demo[key]
    assert demo.load(), "load_demo() needs empty tables"
    db.session.commit()
    if timeutil._source is None:
        _demo[key] = (Snapshot(), time.monotonic())
    db.session.remove()
