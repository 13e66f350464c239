"""Who may not take which arbitration step, and what bad input gets (never a 500, never half a record)."""

from __future__ import annotations

import io

import sqlalchemy as sa

from odr.arbitrate import basis, proceedings, tribunal
from odr.arbitrate.models import Arbitration, Procedure
from odr.cases.models import Event, Outcome, Stage
from odr.extensions import db

from tests.arbitrate.test_arbitration import PDF, page, post


def filed(client, login, w, procedure=Procedure.documents_only):
    """Clause route, confirmed and accepted; the sole arbitrator appointed and declared."""
    arb = basis.submit_clause(w.case, w.claimant, w.commission, io.BytesIO(PDF), "contract.pdf", "Clause 9.")
    basis.decide_clause(w.case, arb, w.staff, True)
    basis.accept(w.case, arb, w.staff, procedure)
    for side, user in (("claimant", w.claimant), ("respondent", w.respondent)):
        tribunal.nominate(w.case, arb, user, w.arbitrators[0].id)
    tribunal.appoint(w.case, arb, w.staff)
    tribunal.declare(w.case, arb, w.arbitrators[0], True)
    db.session.commit()
    return arb


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_who_sees_the_arbitration_and_the_desks(client, login_en, world):
    w = world
    filed(client, login_en, w)
    expected = [(w.claimant, 200), (w.respondent, 200), (w.staff, 200), (w.arbitrators[0], 200),
                (w.arbitrators[1], 404), (w.other_staff, 404), (w.outsider, 404)]
    for user, status in expected:
        login_en(client, user)
        assert page(client, w).status_code == status, user.name
    for user, status in ((w.staff, 200), (w.arbitrators[0], 200), (w.arbitrators[1], 200), (w.claimant, 403),
                         (w.other_staff, 200)):
        login_en(client, user)
        resp = client.get("/arbitrate/")
        assert resp.status_code == status, user.name
        if user is w.other_staff:  # a commission's staff see their own commission's cases only
            assert w.case.number not in resp.get_data(as_text=True)
    login_en(client, w.arbitrators[0])
    assert w.case.number in client.get("/arbitrate/").get_data(as_text=True)


def test_no_award_by_hand_and_no_steps_out_of_turn(client, login_en, world):
    w = world
    arb = filed(client, login_en, w)
    before = count(Event)
    login_en(client, w.arbitrators[0])  # the arbitrator cannot close the case with an award by hand
    resp = client.post(f"/cases/{w.case.number}/move", data={"to": "award_issued"})
    assert resp.status_code == 409 and "every arbitrator has signed" in resp.get_data(as_text=True)
    assert w.case.outcome is None
    assert post(client, w, "statement", text="I am the arbitrator.").status_code == 409
    assert post(client, w, "acceptance", procedure="hearing").status_code == 409
    assert post(client, w, "appoint").status_code == 409
    login_en(client, w.claimant)
    assert post(client, w, "declare", independent="yes").status_code == 409
    assert post(client, w, "hearing", when="2030-01-01T10:00").status_code == 409
    assert post(client, w, "hearing/room").status_code == 409
    assert post(client, w, "deadline", which="claim", days="3", reason="x").status_code == 409
    assert post(client, w, "award", facts="f", reasoning="r", decision="d", costs="c", lang="zh").status_code == 409
    login_en(client, w.arbitrators[0])  # a documents-only case has no hearing
    assert post(client, w, "hearing", when="2030-01-01T10:00").status_code == 409
    assert count(Event) == before  # nothing was written by the refusals
    assert arb.procedure is Procedure.documents_only and w.case.stage is Stage.arbitration


def test_bad_input_is_refused_with_a_reason(client, login_en, app, world):
    w = world
    login_en(client, w.claimant)
    url = f"/arbitrate/{w.case.number}/request"
    tried = [
        ({"commission": "", "route": "agreement"}, 400),                 # no commission
        ({"commission": "999999", "route": "agreement"}, 400),           # no such commission
        ({"commission": str(w.commission.id), "route": "sideways"}, 400),  # no such route
        ({"commission": str(w.commission.id), "route": "clause", "clause_text": "x"}, 422),  # no contract
        ({"commission": str(w.commission.id), "route": "clause", "clause_text": "Clause",
          "contract": (io.BytesIO(b"MZ\x90\x00 an exe"), "contract.pdf")}, 422),  # not a PDF or photo
        ({"commission": str(w.commission.id), "route": "clause", "clause_text": "",
          "contract": (io.BytesIO(PDF), "contract.pdf")}, 422),  # the clause's words are needed
        ({"commission": str(w.commission.id), "route": "clause", "clause_text": "Clause",
          "contract": (io.BytesIO(PDF), "../../etc/passwd")}, 422),  # a hostile file name
    ]
    for data, status in tried:
        resp = client.post(url, data=data, content_type="multipart/form-data")
        assert resp.status_code == status, (data, resp.status_code)
        assert "Traceback" not in resp.get_data(as_text=True)
    assert count(Arbitration) == 0  # no half-made request was kept
    app.config["EVIDENCE_MAX_BYTES"] = 1024
    resp = client.post(url, data={"commission": str(w.commission.id), "route": "clause", "clause_text": "C",
                                  "contract": (io.BytesIO(PDF + b"0" * 4096), "contract.pdf")},
                       content_type="multipart/form-data")
    assert resp.status_code == 422 and "larger than" in resp.get_data(as_text=True)  # measured while stored
    app.config["EVIDENCE_MAX_BYTES"] = 20 * 1024 * 1024

    arb = filed(client, login_en, w)
    login_en(client, w.claimant)
    for data, status in [({}, 422),  # no file
                         ({"file": (io.BytesIO(b"#!/bin/sh\nrm -rf /"), "evil.sh")}, 422),
                         ({"file": (io.BytesIO(b""), "empty.pdf")}, 422),
                         ({"file": (io.BytesIO(PDF), "ok.pdf"), "description": "x" * 301}, 400)]:
        resp = client.post(f"/arbitrate/{w.case.number}/evidence", data=data, content_type="multipart/form-data")
        assert resp.status_code == status, (data, resp.status_code)
    assert proceedings.evidence(w.case) == []
    login_en(client, w.arbitrators[0])
    for data, status in [({"which": "claim", "days": "0", "reason": "x"}, 400),
                         ({"which": "claim", "days": "ten", "reason": "x"}, 400),
                         ({"which": "both", "days": "3", "reason": "x"}, 400)]:
        assert post(client, w, "deadline", **data).status_code == status
    login_en(client, w.respondent)
    assert post(client, w, "challenge", choice="999999", reason="x").status_code == 400
    assert post(client, w, "challenges/999999", upheld="yes", reason="x").status_code == 409
    assert w.case.outcome is None and arb.status.value == "accepted"


def test_a_closed_case_takes_no_more_steps(client, login_en, world):
    w = world
    arb = filed(client, login_en, w)
    from odr.cases import workflow
    workflow.move(w.case, Outcome.withdrawn, w.claimant)
    db.session.commit()
    login_en(client, w.claimant)
    assert post(client, w, "statement", text="Still here?").status_code == 409
    assert page(client, w).status_code == 200
    assert arb.claim_submitted_at is None
