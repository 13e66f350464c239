"""A real OpenID Connect provider for the identity tests: panva's ``oidc-provider`` (npm) on
Debian's Node.js, installed once with npm into a cache beside pytest's temporary folders (keyed
by the fixture's package.json) and started on a free loopback port per test module."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "oidc_provider"
CLIENT_ID, CLIENT_SECRET = "odr-test", "a-client-secret-for-the-tests"
REDIRECT_URI = "http://localhost/identity/oidc/callback"


def _install(tmp_path_factory) -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "nodejs and npm are installed by scripts/install-system-deps"
    manifest = (FIXTURE / "package.json").read_bytes()
    folder = tmp_path_factory.getbasetemp().parent / f"odr-oidc-provider-{hashlib.sha256(manifest).hexdigest()[:12]}"
    if not (folder / "node_modules" / "oidc-provider").exists():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_bytes(manifest)
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder, check=True,
                       capture_output=True, timeout=300)
    shutil.copy(FIXTURE / "server.mjs", folder / "server.mjs")
    return folder


@contextmanager
def running_provider(tmp_path_factory, redirect_uri: str = REDIRECT_URI):
    """A provider on a free loopback port whose one client may send browsers back to ``redirect_uri``;
    yields its issuer URL, and stops it afterwards."""
    folder = _install(tmp_path_factory)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(folder / f"server-{port}.log", "wb")
    proc = subprocess.Popen(["node", "server.mjs"], cwd=folder, stdout=log, stderr=subprocess.STDOUT, env={
        "PATH": "/usr/bin:/bin", "PORT": str(port), "CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URI": redirect_uri})
    issuer = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise RuntimeError((folder / f"server-{port}.log").read_text())
        yield issuer
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.fixture(scope="module")
def oidc_provider(tmp_path_factory):
    """The issuer URL of a running provider (client ``CLIENT_ID``, redirect ``REDIRECT_URI``)."""
    with running_provider(tmp_path_factory) as issuer:
        yield issuer


@pytest.fixture
def oidc_app(app, oidc_provider):
    """The shared app with the provider configured (and unconfigured again afterwards)."""
    requests.get(f"{oidc_provider}/__mode", params={"set": "honest"}, timeout=5)
    with configured(app, oidc_provider):
        yield app


@contextmanager
def configured(app, issuer: str):
    from odr.identity import oidc
    app.config.update(OIDC_ISSUER=issuer, OIDC_CLIENT_ID=CLIENT_ID, OIDC_CLIENT_SECRET=CLIENT_SECRET,
                      OIDC_PROVIDER_NAME="Test Province ID")
    oidc.init_app(app)
    try:
        yield app
    finally:
        app.config.update(OIDC_ISSUER=None, OIDC_CLIENT_ID=None, OIDC_CLIENT_SECRET=None)
        oidc.init_app(app)


def provider_sign_in(authorize_url: str, login: str) -> str:
    """Go through the provider's own pages as a browser would (its development login form, then
    consent); return the URL it sends the browser back to (our callback with code and state)."""
    import re
    browser = requests.Session()
    url, data = authorize_url, None
    for _ in range(20):
        resp = browser.post(url, data=data, allow_redirects=False, timeout=10) if data is not None \
            else browser.get(url, allow_redirects=False, timeout=10)
        if resp.is_redirect:
            url = requests.compat.urljoin(url, resp.headers["Location"])
            data = None
            if url.startswith(REDIRECT_URI):
                return url
            continue
        assert resp.status_code == 200, resp.text
        action = re.search(r'<form[^>]*action="([^"]+)"', resp.text).group(1)
        url = requests.compat.urljoin(url, action)
        data = {"prompt": "login", "login": login, "password": "any"} if 'name="login"' in resp.text else {"prompt": "consent"}
    raise AssertionError("the provider never sent the browser back")
