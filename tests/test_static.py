"""Static files by content-hashed address, cached for a year; the favicon and the web app manifest."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "static"


def test_pages_link_static_files_by_their_hash_and_those_are_cached_long(client):
    page = client.get("/").get_data(as_text=True)
    css = re.search(r'href="(/static/odr\.css\?v=([0-9a-f]{12}))"', page)
    assert css, "the stylesheet's address carries its hash"
    assert css.group(2) == hashlib.sha256((STATIC / "odr.css").read_bytes()).hexdigest()[:12]
    with client.get(css.group(1)) as resp:  # a static file's answer holds the file open until closed
        assert resp.status_code == 200
        cache = resp.headers["Cache-Control"]
    assert "max-age=31536000" in cache and "immutable" in cache and "no-cache" not in cache
    assert re.search(r'src="/static/read-aloud\.js\?v=[0-9a-f]{12}"', page)
    # Without the hash, or with a stale one, the file is revalidated as before.
    for url in ("/static/odr.css", "/static/odr.css?v=000000000000"):
        with client.get(url) as resp:
            assert "immutable" not in resp.headers.get("Cache-Control", "")


def test_favicon_and_manifest(client):
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200 and icon.data == (STATIC / "favicon.ico").read_bytes()
    page = client.get("/").get_data(as_text=True)
    assert 'rel="manifest" href="/manifest.webmanifest"' in page
    resp = client.get("/manifest.webmanifest")
    assert resp.status_code == 200 and resp.mimetype == "application/manifest+json"
    data = json.loads(resp.data)
    assert data["display"] == "standalone" and data["start_url"] == "/"
    for icon in data["icons"]:
        with client.get(icon["src"]) as resp:
            assert resp.status_code == 200
