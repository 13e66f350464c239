"""The host shows pages of a shared case document to their group as images."""

import io

import weasyprint

from odr.extensions import db
from odr.mediate.room import operations as room_ops
from odr.cases.evidence import Visibility
from tests.video.conftest import Peer


def evidence(m, visibility=Visibility.all, name="contract.pdf"):
    pdf = weasyprint.HTML(string="<p>Page one</p><p style='break-before: page'>Page two</p>").write_pdf()
    item = room_ops.add_evidence(m.case, m.claimant, io.BytesIO(pdf), name, visibility, "The contract")
    db.session.commit()
    return item.id


class http:
    """GET as a person; each response is closed (the file it streams, too)."""

    def __init__(self, server, peer: Peer):
        self.client = server.app.test_client()
        self.client.set_cookie("session", peer.cookie())

    def get(self, url):
        response = self.client.get(url)
        response.get_data()
        response.close()
        return response


def test_host_shows_pages_to_their_group_only(joint, video, server, peers):
    host, a, b = joint
    rid, m = video.room_id, video.m
    shared, private = evidence(m), evidence(m, Visibility.mediator, "notes.pdf")
    listed = host.call("documents", {"room_id": rid})
    assert [d["evidence_id"] for d in listed["documents"]] == [shared]  # mediator-only evidence is not offered
    assert a.call("documents", {"room_id": rid})["ok"] is False
    assert a.call("show", {"room_id": rid, "evidence_id": shared}) == {
        "ok": False, "error": "Only the mediator can do this."}
    assert host.call("show", {"room_id": rid, "evidence_id": private})["error"] == "This document cannot be shown."
    assert host.call("show", {"room_id": rid, "evidence_id": shared, "page": 3})["error"] == "There is no such page."
    assert host.call("show", {"room_id": rid, "evidence_id": shared, "page": 2})["ok"]
    doc = b.roster(lambda r: r.get("document"))["document"]
    assert doc["page"] == 2 and doc["pages"] == 2 and doc["name"] == "The contract"
    page = http(server, b).get(doc["url"])
    assert page.status_code == 200 and page.mimetype == "image/png" and page.data.startswith(b"\x89PNG")
    # Not for someone who is not admitted, nor for the private notes, nor past the last page.
    outsider = peers(m.outsider, connect=False)
    assert http(server, outsider).get(doc["url"]).status_code == 404
    assert host.call("remove", {"room_id": rid, "user_id": b.user_id})["ok"]
    assert http(server, b).get(doc["url"]).status_code == 403
    assert http(server, a).get(doc["url"].replace(f"/{shared}/", f"/{private}/")).status_code == 404
    assert http(server, a).get(doc["url"].replace("/pages/2", "/pages/3")).status_code == 404
    # In a caucus the other side no longer sees what the host shows.
    assert host.call("caucus", {"room_id": rid, "side": "respondent"})["ok"]
    assert "document" not in a.roster(lambda r: r["caucus_side"] == "respondent")
    assert host.call("show", {"room_id": rid, "evidence_id": None})["ok"]
    assert "document" not in host.roster(lambda r: "document" not in r)
