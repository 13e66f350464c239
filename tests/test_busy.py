"""When the database cannot be had in time (every pooled connection busy past the pool's wait, or
SQLite's write lock held past its busy timeout), a request is refused whole as overload — 503 with
``Retry-After``, in the person's language or as problem details — not as a fault (500)."""

from __future__ import annotations

import pytest

from odr.extensions import db
from tests import conftest as base


@pytest.fixture
def one_connection_app(_schema, database_url):
    """An app whose pool has one connection and waits half a second for it."""
    app = base.new_app(base.test_config(database_url, SQLALCHEMY_ENGINE_OPTIONS={
        "pool_size": 1, "max_overflow": 0, "pool_timeout": 0.5}))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_request_that_cannot_get_a_connection_is_refused_as_busy(one_connection_app):
    app = one_connection_app
    client = app.test_client()
    with app.app_context():
        held = db.engine.connect()  # another request holds the only connection meanwhile
        try:
            page = client.get("/mediate/directory", headers={"Accept-Language": "zh"})
            api = client.get("/api/v1/intake/REF-1", headers={"Authorization": "Bearer not-a-token"})
        finally:
            held.close()
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "平台现在很忙" in page.get_data(as_text=True) and "Traceback" not in page.get_data(as_text=True)
    assert api.status_code == 503 and api.headers["Retry-After"] == "5"
    assert api.content_type == "application/problem+json" and api.get_json()["status"] == 503
    # Once the connection is free again, the same requests are answered.
    assert client.get("/mediate/directory").status_code == 200
    assert client.get("/api/v1/intake/REF-1", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
