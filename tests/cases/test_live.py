"""Socket.IO ``/case`` against the live server with real python-socketio clients: when the other side
answers a proposal (mediation) or an offer (negotiation), the pages following that case hear it —
the proposer's, the mediator's — and nobody who may not see the case can follow it, nor keeps
following it once they may no longer see it (a revoked helper, a replaced mediator)."""

from __future__ import annotations

import queue
import re
import threading
from decimal import Decimal
from types import SimpleNamespace

import pytest
import requests
import socketio

from odr.cases import operations as case_ops
from odr.cases import representation as reps
from odr.cases import workflow
from odr.auth.models import User
from odr.cases.models import Case, RepresentativeKind, Scope, Stage
from odr.extensions import db
from odr.mediate.outcomes import proposals as props
from tests.listener import Listener, session_cookie
from tests.video.test_scale_out import processes  # noqa: F401 - two served processes sharing Redis
from tests.negotiate.offers import offer


class Follower(Listener):
    """A signed-in page's connection to ``/case``; ``access_changed`` notices are kept apart in
    ``changes`` (a page asks to watch again on each; this client only when told to)."""

    def __init__(self, server, user_id=None):
        super().__init__(server, "/case", "answered", user_id)
        self.changes = queue.Queue()
        self.sio.on("access_changed", lambda data: self.changes.put(data), namespace="/case")

    def access_changes(self) -> int:
        """How many ``access_changed`` notices came (waiting up to a second for the first)."""
        try:
            self.changes.get(timeout=1)
        except queue.Empty:
            return 0
        count = 1
        while not self.changes.empty():
            self.changes.get_nowait()
            count += 1
        return count

    def watch(self, number):
        return self.call("watch", {"case": number})


def post_form(server, cookie, page, action, data):
    """Send a form as the browser does: the page first (its CSRF token), then the post."""
    http = requests.Session()
    http.cookies.set("session", cookie, domain=server.url.split("//")[1].split(":")[0])
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(server.url + page, timeout=10).text).group(1)
    return http.post(server.url + action, data={"csrf_token": token, **data}, timeout=10, allow_redirects=False)


@pytest.fixture
def followers(server, parties):
    p = parties
    ids = {"claimant": p.claimant.id, "mediator": p.mediator.id, "staff": p.staff.id, "outsider": p.outsider.id}
    made = {}
    try:
        for name, uid in ids.items():
            made[name] = Follower(server, uid)
        yield made
    finally:
        close_all(*made.values())


def close_all(*followers):
    """Each goodbye waits on the test server's websocket close: all at once, not one after another."""
    closing = [threading.Thread(target=f.close) for f in followers]
    for thread in closing:
        thread.start()
    for thread in closing:
        thread.join(timeout=10)


def test_answers_to_a_proposal_reach_the_pages_following_the_case_only(server, parties, followers):
    p = parties
    workflow.move(p.case, Stage.mediation, p.staff)
    case_ops.assign_handler(p.case, p.staff, mediator=p.mediator)
    first = props.make_proposal(p.case, p.claimant, amount=Decimal("2500"), terms="Li Si pays 2,500 yuan.",
                                schedule=[], respond_by=None)
    db.session.commit()
    number, first_id = p.case.number, first.id

    for name in ("claimant", "mediator", "staff"):
        assert followers[name].watch(number) == {"ok": True, "case": number}
    refused = followers["outsider"].watch(number)
    assert refused["ok"] is False and refused["error"]
    # A case that does not exist is refused alike: nobody learns which numbers exist.
    assert followers["outsider"].watch("ODR-2099-999999") == refused
    for bad in (None, 7, "", "x" * 21):
        assert followers["claimant"].sio.call("watch", {"case": bad}, namespace="/case", timeout=5)["ok"] is False
    assert followers["claimant"].sio.call("watch", "not an object", namespace="/case", timeout=5)["ok"] is False

    page = f"/mediate/{number}/proposals"
    resp = post_form(server, session_cookie(server, p.respondent.id), page, f"/mediate/{number}/proposals/{first_id}/counter",
                     {"amount": "2000", "terms": "Li Si pays 2,000 yuan."})
    assert resp.status_code == 303, resp.text
    told = {"kind": "proposal", "id": first_id, "answer": "countered", "by": p.respondent.id}
    assert followers["claimant"].got() == [told]
    assert followers["mediator"].got(0) == followers["staff"].got(0) == [told]
    assert followers["outsider"].got(0) == []  # refused

    db.session.expire_all()
    counter = props.case_proposals(p.case)[0]
    resp = post_form(server, session_cookie(server, p.claimant.id), page, f"/mediate/{number}/proposals/{counter.id}/answer",
                     {"decision": "accept"})
    assert resp.status_code == 303, resp.text
    assert followers["mediator"].got() == [{"kind": "proposal", "id": counter.id, "answer": "accepted",
                                            "by": p.claimant.id}]
    # A refused answer (answered already: 409) changes nothing, and nobody is told.
    resp = post_form(server, session_cookie(server, p.claimant.id), page, f"/mediate/{number}/proposals/{counter.id}/answer",
                     {"decision": "reject"})
    assert resp.status_code in (403, 409)
    assert followers["mediator"].got() == []


def test_answers_to_an_offer_reach_the_proposer(server, parties, followers):
    p = parties
    made = offer(p, p.claimant, amount="3000")
    number, made_id = p.case.number, made.id
    assert followers["claimant"].watch(number)["ok"] is True
    assert followers["outsider"].watch(number)["ok"] is False

    resp = post_form(server, session_cookie(server, p.respondent.id), f"/negotiate/{number}",
                     f"/negotiate/{number}/offers/{made_id}/answer", {"decision": "reject"})
    assert resp.status_code == 303, resp.text
    assert followers["claimant"].got() == [{"kind": "offer", "id": made_id, "answer": "rejected",
                                            "by": p.respondent.id}]
    assert followers["outsider"].got(0) == []


def test_signed_out_connections_are_refused(server):
    with pytest.raises(socketio.exceptions.ConnectionError):
        Follower(server)


def test_a_revoked_helper_hears_nothing_more_of_the_case(server, parties, make_user):
    p = parties
    helper = make_user(name="Daughter Zhang")
    rep = reps.appoint(p.case, p.claimant, RepresentativeKind.helper, Scope.act, "Daughter Zhang", None, helper.email)
    reps.accept(rep, helper)
    made = offer(p, p.respondent, amount="2500")
    number, made_id, rep_id = p.case.number, made.id, rep.id
    claimant, former = Follower(server, p.claimant.id), Follower(server, helper.id)
    try:
        assert claimant.watch(number)["ok"] is True
        assert former.watch(number) == {"ok": True, "case": number}

        resp = post_form(server, session_cookie(server, p.claimant.id), f"/cases/{number}/representatives",
                         f"/cases/{number}/representatives/{rep_id}/revoke", {})
        assert resp.status_code == 303, resp.text
        # Every page of the case is taken out of its room and told to ask again; the claimant's is
        # let back in, the former helper's refused. The helper's client here does not even ask: the
        # server keeps it out whatever its page does.
        assert claimant.access_changes() == 1 and former.access_changes() == 1
        assert claimant.watch(number) == {"ok": True, "case": number}

        resp = post_form(server, session_cookie(server, p.claimant.id), f"/negotiate/{number}",
                         f"/negotiate/{number}/offers/{made_id}/answer", {"decision": "reject"})
        assert resp.status_code == 303, resp.text
        assert claimant.got() == [{"kind": "offer", "id": made_id, "answer": "rejected", "by": p.claimant.id}]
        assert former.got(0) == []
        refused = former.watch(number)
        assert refused["ok"] is False and refused["error"]
    finally:
        close_all(claimant, former)


def mediation_with_a_proposal(parties, make_user) -> dict:
    """The case in mediation with its mediator and an open proposal, and a second mediator to
    replace the first; the ids the tests need."""
    p = parties
    workflow.move(p.case, Stage.mediation, p.staff)
    case_ops.assign_handler(p.case, p.staff, mediator=p.mediator)
    first = props.make_proposal(p.case, p.claimant, amount=Decimal("2500"), terms="Li Si pays 2,500 yuan.",
                                schedule=[], respond_by=None)
    db.session.commit()
    return {"number": p.case.number, "proposal": first.id, "case": p.case.id, "staff": p.staff.id,
            "second": make_user(name="Mediator Two").id}


def replace_mediator(ids) -> None:
    case_ops.assign_handler(db.session.get(Case, ids["case"]), db.session.get(User, ids["staff"]),
                            mediator=db.session.get(User, ids["second"]))


def assert_hears_nothing_more(server, parties, replaced, ids) -> None:
    """The other side answers the proposal: the page taken out of the room hears nothing of it, and
    may not follow the case again."""
    number = ids["number"]
    resp = post_form(server, session_cookie(server, parties.respondent.id), f"/mediate/{number}/proposals",
                     f"/mediate/{number}/proposals/{ids['proposal']}/answer", {"decision": "reject"})
    assert resp.status_code == 303, resp.text
    assert replaced.got() == []
    assert replaced.watch(number)["ok"] is False


def test_a_replaced_mediator_hears_nothing_more_of_the_case(server, parties, make_user):
    ids = mediation_with_a_proposal(parties, make_user)
    replaced = Follower(server, parties.mediator.id)
    try:
        assert replaced.watch(ids["number"])["ok"] is True
        with server.app.app_context():  # the served app's own server tells the pages, once it is stored
            replace_mediator(ids)
            db.session.commit()
            db.session.remove()
        assert replaced.access_changes() == 1
        assert_hears_nothing_more(server, parties, replaced, ids)
    finally:
        replaced.close()


def test_a_change_by_the_jobs_process_takes_the_page_out_through_the_relay(server, parties, make_user, database_url):
    """A process that serves no pages (``odr jobs``, ``odr tick``) changes who may see the case:
    the re-check goes into the live relay with the change, and the served worker's poller tells
    the page and empties the case's room."""
    from odr import create_app, relay
    from tests import conftest

    ids = mediation_with_a_proposal(parties, make_user)
    replaced = Follower(server, parties.mediator.id)
    try:
        assert replaced.watch(ids["number"])["ok"] is True
        jobs_app = create_app(conftest.test_config(database_url), sockets=False)  # as `odr jobs` makes it
        with jobs_app.app_context():
            replace_mediator(ids)
            db.session.rollback()  # not stored: nothing for the relay either
            assert db.session.query(relay.LiveEvent).count() == 0
            replace_mediator(ids)
            db.session.commit()
            db.session.remove()
        assert replaced.access_changes() == 0  # stored, not yet sent on
        with server.app.app_context():
            assert relay.deliver_pending() == 2  # what the served worker's poller runs
            db.session.remove()
        assert replaced.access_changes() == 1
        assert_hears_nothing_more(server, parties, replaced, ids)
    finally:
        replaced.close()


def test_a_revocation_on_one_process_takes_the_page_on_the_other_out_of_the_case(app, parties, make_user, processes):
    """Two served processes sharing Redis: the helper's page and the claimant's follow the case on
    process A; the claimant revokes, and the other side answers, on process B."""
    p = parties
    helper = make_user(name="Daughter Zhang")
    rep = reps.appoint(p.case, p.claimant, RepresentativeKind.helper, Scope.act, "Daughter Zhang", None, helper.email)
    reps.accept(rep, helper)
    made = offer(p, p.respondent, amount="2500")
    number, made_id, rep_id = p.case.number, made.id, rep.id
    a, b = (SimpleNamespace(app=app, url=url) for url in (processes.a, processes.b))
    claimant, former = Follower(a, p.claimant.id), Follower(a, helper.id)
    try:
        assert claimant.watch(number)["ok"] is True and former.watch(number)["ok"] is True
        resp = post_form(b, session_cookie(b, p.claimant.id), f"/cases/{number}/representatives",
                         f"/cases/{number}/representatives/{rep_id}/revoke", {})
        assert resp.status_code == 303, resp.text
        assert claimant.access_changes() == 1 and former.access_changes() == 1
        assert claimant.watch(number)["ok"] is True
        resp = post_form(b, session_cookie(b, p.claimant.id), f"/negotiate/{number}",
                         f"/negotiate/{number}/offers/{made_id}/answer", {"decision": "reject"})
        assert resp.status_code == 303, resp.text
        assert claimant.got() == [{"kind": "offer", "id": made_id, "answer": "rejected", "by": p.claimant.id}]
        assert former.got(0) == []
    finally:
        close_all(claimant, former)
