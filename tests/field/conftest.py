"""A center with a grid (named places and an area), its workers, and a sending system."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from odr.auth.models import Role
from odr.cases import operations as case_ops
from odr.extensions import db
from odr.field import operations as ops

#: A square around 望京 (Beijing).
AREA = [[39.99, 116.46], [39.99, 116.50], [40.01, 116.50], [40.01, 116.46]]

TRANSFER = {
    "reference": "110-0001",
    "category": "neighbour",
    "description": "Loud music from the flat upstairs every night.",
    "claim": "Quiet after 22:00.",
    "district": "朝阳区",
    "claimant_name": "Wang Fang",
    "claimant_phone": "13800138000",
    "respondent_name": "Li Lei",
    "respondent_phone": "13900139000",
    "place": "望京西园三区 5号楼",
}


@dataclass
class Field:
    center: object
    grid: object
    other_grid: object
    worker: object
    second_worker: object
    other_worker: object
    staff: object
    other_staff: object
    api_client: object
    token: str


@pytest.fixture
def field_world(make_org, make_user):
    center = make_org(takes_intake=True, name="Wangjing street")
    elsewhere = make_org(name="Elsewhere street")
    staff = make_user(Role.staff, center, name="Command Chen")
    other_staff = make_user(Role.staff, elsewhere)
    grid = ops.create_grid(center, "Wangjing West", ["望京西园三区", "Wangjing Market"], AREA, staff)
    other_grid = ops.create_grid(elsewhere, "Far away", ["远处小区"], [], other_staff)
    worker = make_user(name="Worker Wu", contact="+8613700137001")
    second = make_user(name="Worker Sun", contact="+8613700137002")
    other = make_user(name="Worker Far", contact="+8613700137003")
    ops.add_worker(grid, worker, staff)
    ops.add_worker(grid, second, staff)
    ops.add_worker(other_grid, other, other_staff)
    ops.set_duty(worker, True)
    ops.set_duty(other, True)
    api_client, token = case_ops.issue_api_token("police-110", center)
    db.session.commit()
    return Field(center, grid, other_grid, worker, second, other, staff, other_staff, api_client, token)


def transfer(client, token, **changes):
    body = dict(TRANSFER) | changes
    body = {k: v for k, v in body.items() if v is not ...}
    return client.post("/api/v1/intake", json=body, headers={"Authorization": f"Bearer {token}"})


@dataclass
class Receiver:
    """A real HTTP server that records each callback; the first ``fail`` requests get a 500."""

    fail: int = 0
    received: list = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if state.fail > 0:
                state.fail -= 1
                self.send_response(500)
                self.end_headers()
                return
            state.received.append({"headers": dict(self.headers), "body": body, "json": json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/odr-callback"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
