"""axe-core (axe-playwright-python) on every page the people of the demo reach, in Chinese and
English, in the standard view and elderly mode, at 360×640: no serious or critical violation.

Each worker of the demo, then its parties, the claimant's helper and the respondent's agent, signs
in once and, in each of the four views in turn (switched on the page, as a person would), has the
page they land on audited; from there they follow the links of the pages reached
(:class:`tests.e2e.pages.Audit`), auditing every page route not yet audited for their side
(workers, parties) in that view. The demo gets an open offer and an open proposal put to the
respondent (the answer with its confirmation step, the counter forms) and an assignment offered to
the mediator; the pages of a case in a state no link on the way leads to are given as seeds."""

from __future__ import annotations

import re
from decimal import Decimal

import sqlalchemy as sa
from playwright.sync_api import expect

from odr.extensions import db, limiter
from tests.e2e.audited import DEMO
from tests.e2e.pages import Audit
from tests.snapshot import load_demo

#: Who signs in with what (README's demo accounts): the grid worker signs in with a phone number.
WORKERS = {who: f"{who}@demo.odr.example"
           for who in ("consultant", "mediator", "arbitrator", "staff", "commission", "manager", "clerk")} \
    | {"grid_worker": "+8613800138010"}
#: The parties of the demo's cases, the claimant's helper and the respondent's agent.
PARTIES = {"claimant": "+8613800138001", "respondent": "+8613800138002", "helper": "+8613800138003",
           "agent": "agent@demo.odr.example"}
#: Every page in both languages and both modes.
VIEWS = [("zh", False), ("zh", True), ("en", True), ("en", False)]


def open_offer_and_proposal() -> dict[str, list[str]]:
    """In the demo, the claimant makes an offer in the case at assessment and a proposal in the case
    in mediation: the pages where the respondent answers and counters them; and, per person, the
    pages of a case in a particular state that the links of the pages before do not lead to."""
    from odr.cases.models import Case, Stage
    from odr.auth.models import User
    from odr.mediate.assignment import operations as assigning
    from odr.mediate.outcomes import proposals
    from odr.negotiate import operations as negotiation

    def case_in(stage):
        return db.session.scalars(sa.select(Case).where(Case.stage == stage, Case.outcome.is_(None),
                                                        Case.mediator_id.isnot(None) if stage is Stage.mediation
                                                        else Case.organization_id.isnot(None))
                                  .order_by(Case.id)).first()

    assessed, mediated = case_in(Stage.assessment), case_in(Stage.mediation)
    offer = negotiation.make_offer(assessed, assessed.claimant.user, amount=Decimal("1800"),
                                   terms="退还货款1800元。", schedule=[], respond_by=None, message="", answers=None)
    proposal = proposals.make_proposal(mediated, mediated.claimant.user, amount=Decimal("2000"),
                                       terms="赔偿2000元，分两次付清。", schedule=[], respond_by=None)
    cases = db.session.scalars(sa.select(Case).order_by(Case.id)).all()
    unassigned = next(c for c in cases if c.stage is Stage.mediation and c.outcome is None and c.mediator_id is None)
    staff, mediator = (db.session.scalar(sa.select(User).where(User.email == f"{who}@demo.odr.example"))
                       for who in ("staff", "mediator"))
    assignment = assigning.offer(unassigned, mediator, staff)
    db.session.commit()

    def first(test):
        return next(c for c in cases if test(c))

    litigation = first(lambda c: c.stage is Stage.litigation and c.outcome is None)
    settled = first(lambda c: c.outcome is not None and c.outcome.value == "settled" and c.mediator_id is not None)
    counter = first(lambda c: c.stage is Stage.mediation and c.outcome is None and c.mediator_id is not None)
    return {
        "respondent": [f"/negotiate/{assessed.number}", f"/negotiate/{assessed.number}/offers/{offer.id}/counter",
                       f"/mediate/{mediated.number}/proposals",
                       f"/mediate/{mediated.number}/proposals/{proposal.id}/counter"],
        # The survey: the first ended case whose survey is open to her.
        "claimant": ["/identity/", f"/court/{settled.number}/confirmation",
                     *(f"/survey/{c.number}" for c in cases if c.outcome is not None)],
        "mediator": [f"/mediate/offers/{assignment.id}"],
        "staff": [f"/court/{litigation.number}/handoff",
                  f"/identity/counter/{counter.number}/parties/{counter.claimant.id}"],
    }


def test_no_serious_violations_on_the_pages_of_the_demo(phone, server):
    from odr import demo

    with server.app.app_context():
        load_demo()
        seeds = open_offer_and_proposal()
        db.session.remove()
    audit, landed = Audit(server.app), 0
    for side, people in (("worker", WORKERS), ("party", PARTIES)):
        for who, contact in people.items():
            limiter.reset()  # twelve sign-ins from one address, quicker than the login limit allows
            page = phone().new_page()
            page.goto("/auth/login")
            page.fill("input[name=contact]", contact)
            page.fill("input[name=password]", demo.PASSWORD)
            page.locator("main form button").click()
            page.wait_for_url(lambda url: "/auth/login" not in url)
            work = page.url
            for lang, elderly in VIEWS:  # one switch from each view to the next, as a person would
                page.goto(work)
                if not page.locator("html").get_attribute("lang").startswith(lang):
                    page.locator("form.lang button").click()
                    expect(page.locator("html")).to_have_attribute("lang", re.compile(f"^{lang}"))
                if page.locator("body.elderly").count() != int(elderly):
                    page.locator("#elderly-switch").click()
                    expect(page.locator("body.elderly")).to_have_count(int(elderly))
                page.wait_for_load_state()
                # Their own work, as they land on it, for each of them.
                audit.check(page, (lang, elderly, side))
                landed += 1
                links = page.eval_on_selector_all("main a[href], nav a[href]", "els => els.map(e => e.getAttribute('href'))")
                # Beyond it, what their side has not been audited on yet in this view.
                audit.crawl(page, [*seeds.get(who, []), *links], (lang, elderly, side))
                assert page.locator("body.elderly").count() == int(elderly), page.url
            page.context.close()
    assert landed == len(VIEWS) * (len(WORKERS) + len(PARTIES))
    missing = DEMO - audit.endpoints
    assert not missing, f"pages test_axe_demo.py says it audits but did not reach: {sorted(missing)}"
    assert not audit.found, "\n".join(audit.found)
