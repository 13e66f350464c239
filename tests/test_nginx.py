"""The deployment's proxy: a private nginx with deploy/nginx/odr.conf (TLS, static files, websocket
upgrade) in front of a real ``odr run --workers 2`` whose processes share rooms through Redis.

nginx runs with its own prefix, configuration, pid file and logs in the test's folder, on a free
unprivileged port with a self-signed certificate (not the system service). Redis:
``ODR_TEST_REDIS_URL`` if set, else a private ``redis-server``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
import requests
import socketio
import sqlalchemy as sa

from odr import create_app
from odr.auth import operations as auth_ops
from odr.auth.models import Role
from odr.cases.models import Category
from odr.cases.operations import grant_role
from odr.cli import upgrade_database
from odr.consult import operations as consult_ops
from odr.consult.models import ConsultMessage
from odr.extensions import db
from tests import conftest as base
from tests.polling import eventually
from tests.redis_server import free_port, redis_server

ROOT = Path(__file__).resolve().parents[1]
ODR = str(Path(sys.executable).with_name("odr"))
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PASSWORD = "proxy-test-password-2026"
NS = "/consult"


def wait_for(url: str, process, what: str, timeout=45.0, **kwargs):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}")
        try:
            return requests.get(url, timeout=2, **kwargs)
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or its workers still starting
            time.sleep(0.2)
    raise AssertionError(f"{what} did not answer within {timeout} s")


def stop(process):
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


@pytest.fixture
def private_redis(tmp_path):
    with redis_server(tmp_path / "redis") as url:
        yield url


def site_config(upstream_port: int, port: int, cert: str, key: str) -> str:
    """deploy/nginx/odr.conf with its EDIT values made this test's, and no port-80 server."""
    text = (ROOT / "deploy" / "nginx" / "odr.conf").read_text()
    text = text.replace("server 127.0.0.1:8000 ", f"server 127.0.0.1:{upstream_port} ")
    text = text.replace("/etc/ssl/odr/fullchain.pem", cert).replace("/etc/ssl/odr/privkey.pem", key)
    text = text.replace("alias /srv/odr/static/;", f"alias {ROOT / 'static'}/;")
    text = re.sub(r"server \{\n    listen 80;.*?\n\}\n", "", text, flags=re.S)  # the redirect to https
    text = text.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl http2;")
    text = text.replace("listen [::]:443 ssl http2;\n", "")
    assert f"127.0.0.1:{upstream_port}" in text and f"127.0.0.1:{port}" in text and cert in text
    return text


@pytest.fixture
def deployment(tmp_path, private_redis):
    """``odr run --workers 2`` (SQLite, Redis) behind a private nginx; yields what the test needs."""
    if not Path(NGINX).exists():
        pytest.fail("this test needs nginx (scripts/install-system-deps)")
    database_url = f"sqlite:///{tmp_path / 'odr.sqlite'}"
    channel = f"odr-nginx-{uuid.uuid4().hex[:8]}"
    app = create_app(base.test_config(database_url, TESTING=False))
    with app.app_context():
        upgrade_database()
        person = auth_ops.create_user("person@proxy.example", "Proxy person", PASSWORD)
        consultant = auth_ops.create_user("consultant@proxy.example", "Proxy consultant", PASSWORD)
        grant_role(consultant, Role.consultant)
        consult_ops.set_duty(consultant, True)
        consultation = consult_ops.start(person, "Deposit kept", Category.property)
        consult_ops.take(consultation, consultant)
        db.session.commit()
        ids = {"person": person.id, "consultant": consultant.id, "consultation": consultation.id}
        db.session.remove()
        db.engine.dispose()
    # openssl's self-signed certificate is its own authority (basicConstraints CA:TRUE), so the
    # clients can verify against it rather than not verify at all.
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "2",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)

    app_port, port = free_port(), free_port()
    env = dict(os.environ, ODR_INSTANCE_PATH=str(tmp_path), ODR_SECRET_KEY="nginx-test", ODR_DATABASE_URL=database_url,
               ODR_JOBS_INTERVAL_SECONDS="0", ODR_SOCKETIO_MESSAGE_QUEUE=private_redis, ODR_SOCKETIO_CHANNEL=channel,
               ODR_PROXY_FIX="1", ODR_SECURE_COOKIES="true", ODR_PREFERRED_URL_SCHEME="https",
               ODR_ARGON2_PARAMETERS='{"time_cost": 1, "memory_cost": 1024, "parallelism": 1}')
    server_log = (tmp_path / "odr.log").open("wb")
    server = subprocess.Popen([ODR, "run", "--host", "127.0.0.1", "--port", str(app_port), "--workers", "2"],
                              env=env, stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True)
    prefix = tmp_path / "nginx"
    for sub in ("logs", "temp"):
        (prefix / sub).mkdir(parents=True)
    (prefix / "odr.conf").write_text(site_config(app_port, port, cert, key))
    # A root nginx would hand its workers to nobody, who may not read the test's folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = prefix / "temp"
    (prefix / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log {prefix / 'logs' / 'error.log'} info;\n"
        "events { worker_connections 256; }\n"
        "http {\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
        f"  access_log {prefix / 'logs' / 'access.log'};\n"
        f"  client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy; fastcgi_temp_path {temp}/fastcgi;\n"
        f"  uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;\n"
        f"  include {prefix / 'odr.conf'};\n}}\n")
    proxy = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{app_port}/healthz", server, "odr run")
        url = f"https://127.0.0.1:{port}"
        wait_for(url + "/healthz", proxy, "nginx", verify=cert)
        yield {"url": url, "cert": cert, "ids": ids, "app": app, "log": tmp_path / "odr.log", "server": server,
               "redis": private_redis, "channel": channel}
    finally:
        stop(proxy)
        stop(server)
        server_log.close()
        client = redis.Redis.from_url(private_redis)
        keys = list(client.scan_iter(match=f"{channel}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def sign_in(url: str, cert: str, contact: str) -> requests.Session:
    web = requests.Session()
    web.verify = cert
    web.trust_env = False  # or REQUESTS_CA_BUNDLE, if set, would replace the session's verify
    page = web.get(f"{url}/auth/login", timeout=10)
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    # Over HTTPS Flask-WTF also checks that the form came from this site (the Referer): the app
    # knows the request is HTTPS only from nginx's X-Forwarded-Proto.
    signed_in = web.post(f"{url}/auth/login", data={"contact": contact, "password": PASSWORD, "csrf_token": token},
                         headers={"Referer": f"{url}/auth/login"}, timeout=10)
    assert signed_in.status_code == 200 and "/auth/login" not in signed_in.url, signed_in.text[:500]
    cookie = web.cookies.get("session")
    assert cookie
    return web


def websocket(url: str, web: requests.Session, received: list) -> socketio.Client:
    client = socketio.Client(reconnection=False, http_session=web)
    client.on("message", received.append, namespace=NS)
    cookie = "; ".join(f"{c.name}={c.value}" for c in web.cookies)
    # 60 s: one CI run on a slow machine, browsers busy beside it, waited more than 20 s for the
    # namespace's connection through the proxy to two server processes.
    client.connect(url, namespaces=[NS], transports=["websocket"], headers={"Cookie": cookie}, wait_timeout=60)
    return client


def test_the_platform_behind_nginx_pages_static_files_sign_in_and_chat_across_processes(deployment):
    url, cert, ids = deployment["url"], deployment["cert"], deployment["ids"]
    page = requests.get(f"{url}/auth/login", verify=cert, timeout=10)
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    # The page's static addresses are served by nginx itself, cached for a year.
    css = re.search(r'href="(/static/[^"]+\.css\?v=[^"]+)"', page.text).group(1)
    static = requests.get(url + css, verify=cert, timeout=10)
    assert static.status_code == 200 and "immutable" in static.headers["Cache-Control"]
    assert "Server" in static.headers and static.headers["Server"].startswith("nginx")
    unversioned = requests.get(url + css.split("?")[0], verify=cert, timeout=10)
    assert unversioned.headers["Cache-Control"] == "no-cache"

    person = sign_in(url, cert, "person@proxy.example")
    consultant = sign_in(url, cert, "consultant@proxy.example")
    # The app believes nginx about HTTPS: the session cookie it set is HTTPS-only and still sent.
    assert person.get(f"{url}/consult/", timeout=10, allow_redirects=False).status_code == 200

    # Each worker subscribes to the queue when its first client connects: the consultant opens
    # pages until both processes hold one, so the message must cross from one to the other.
    queue = redis.Redis.from_url(deployment["redis"])
    subscribers = lambda: dict(queue.pubsub_numsub(deployment["channel"]))[deployment["channel"].encode()]
    cid = ids["consultation"]
    seen_by_person = []
    a = websocket(url, person, seen_by_person)
    pages = []
    try:
        assert a.call("join", {"consultation_id": cid}, namespace=NS, timeout=20)["status"] == "active"
        while len(pages) < 2 or subscribers() < 2:
            assert len(pages) < 24, f"the consultant's pages all reached one process ({subscribers()} subscribed)"
            seen = []
            page = websocket(url, consultant, seen)
            pages.append((page, seen))
            assert page.call("join", {"consultation_id": cid}, namespace=NS, timeout=20)["me"] == ids["consultant"]
        client_id = f"nginx-{uuid.uuid4().hex[:12]}"
        ack = a.call("send", {"consultation_id": cid, "client_id": client_id, "body": "Through the proxy"},
                     namespace=NS, timeout=20)
        assert ack["ok"], ack
        # Every page of the consultant gets it, on whichever process it is connected to.
        for _page, seen in pages:
            eventually(lambda seen=seen: [m for m in seen if m.get("client_id") == client_id], timeout=20)
    finally:
        a.disconnect()
        for page, _seen in pages:
            page.disconnect()
        queue.close()
    # Acknowledged means stored.
    with deployment["app"].app_context():
        rows = db.session.scalars(sa.select(ConsultMessage).where(ConsultMessage.client_id == client_id)).all()
        assert [(r.sender_id, r.body) for r in rows] == [(ids["person"], "Through the proxy")]
        db.session.remove()
        db.engine.dispose()
    assert deployment["server"].poll() is None
    log = deployment["log"].read_text(errors="replace")
    assert "(2 processes)" in log and "Traceback" not in log


def test_proxy_fix_trusts_the_proxy_headers_only_when_configured():
    def whoami(config):
        app = create_app(base.test_config("sqlite://", **config), sockets=False)
        app.add_url_rule("/_whoami", "whoami", lambda: {"scheme": __import__("flask").request.scheme,
                                                         "addr": __import__("flask").request.remote_addr,
                                                         "host": __import__("flask").request.host})
        return app.test_client().get("/_whoami", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9",
                                                          "X-Forwarded-Host": "odr.example.org"},
                                     environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_json()

    assert whoami({}) == {"scheme": "http", "addr": "127.0.0.1", "host": "localhost"}
    assert whoami({"PROXY_FIX": 1}) == {"scheme": "https", "addr": "203.0.113.9", "host": "odr.example.org"}
