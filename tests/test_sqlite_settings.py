"""The embedded SQLite database runs in write-ahead-log mode and waits for a busy writer."""

import sqlalchemy as sa

from odr import create_app
from odr.extensions import db


def test_sqlite_connections_use_wal_and_wait_for_the_lock(tmp_path):
    app = create_app({"SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'odr.sqlite'}",
                      "JOBS_INTERVAL_SECONDS": 0})
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(sa.text("PRAGMA synchronous")).scalar() == 1  # NORMAL
            assert conn.execute(sa.text("PRAGMA busy_timeout")).scalar() == 10000
        db.engine.dispose()
