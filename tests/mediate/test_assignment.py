"""Directory, roster, ranked suggestion, offers with a deadline and their escalation, change requests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
import sqlalchemy as sa

from odr.auth.models import Role
from odr.cases import audit
from odr.cases.models import OrgType, Outcome, Stage
from odr.cases import workflow
from odr.extensions import db
from odr.mediate.assignment import operations as ops
from odr.mediate.models import Assignment, AssignmentStatus, ChangeRequest, MediatorProfile
from odr.outbox import OutboxMessage


def actions(case):
    return [e.action for e in audit.case_events(case)]


def outbox_to(user):
    return [m for m in OutboxMessage.query.filter_by(recipient=user.contact).all()]


@pytest.fixture
def unassigned(make_user, make_org, make_case, make_mediator):
    """A neighbour case in 朝阳区 at the mediation stage, no mediator yet, and three candidates."""
    org = make_org(name="朝阳区人民调解委员会", district="朝阳区")
    far = make_org(OrgType.industry, name="海淀区消费纠纷调解中心", district="海淀区")
    staff = make_user(Role.staff, org, name="Staff Wu")
    claimant, respondent = make_user(name="Zhang"), make_user(name="Li")
    case = make_case(claimant=claimant, respondent=respondent, organization=org,
                     stages=(Stage.assessment, Stage.mediation))
    near_expert = make_mediator(org, specialties="neighbour", name="Near expert", capacity=4)
    near_generalist = make_mediator(org, specialties="debt", name="Near generalist")
    far_expert = make_mediator(far, specialties="neighbour consumer", name="Far expert")
    return case, staff, near_expert, near_generalist, far_expert, (claimant, respondent)


def test_suggestion_ranks_specialty_then_district_then_load(unassigned, make_case):
    case, staff, near_expert, near_generalist, far_expert, _ = unassigned
    ranked = [s.profile.user for s in ops.suggest(case)]
    assert ranked == [near_expert, far_expert, near_generalist]
    with force_locale("en"):
        top = ops.suggest(case)[0]
    assert any("Chaoyang District" in r for r in top.reasons) and any("0 of 4" in r for r in top.reasons)

    # Load lowers the rank: three open cases use 3/4 of the near expert's capacity (−1.5).
    for _ in range(3):
        other = make_case(organization=near_expert.grants[0].organization, stages=(Stage.assessment, Stage.mediation))
        other.mediator_id = near_expert.id
    db.session.commit()
    assert [s.profile.user for s in ops.suggest(case)][:2] == [near_expert, far_expert]
    # A fourth fills them up: left out.
    extra = make_case(stages=(Stage.assessment, Stage.mediation))
    extra.mediator_id = near_expert.id
    db.session.commit()
    assert near_expert not in [s.profile.user for s in ops.suggest(case)]

    # Someone not taking new cases is not suggested.
    db.session.get(MediatorProfile, far_expert.id).accepting = False
    db.session.commit()
    assert [s.profile.user for s in ops.suggest(case)] == [near_generalist]


def test_offer_accept_flow_through_the_pages(client, login_en, unassigned):
    case, staff, near_expert, *_ , (claimant, respondent) = unassigned
    login_en(client, staff)
    page = client.get(f"/mediate/{case.number}/assign")
    assert page.status_code == 200 and "Near expert" in page.get_data(as_text=True)
    resp = client.post(f"/mediate/{case.number}/assign", data={"mediator": near_expert.id})
    assert resp.status_code == 303
    offer = db.session.scalar(sa.select(Assignment))
    assert offer.status is AssignmentStatus.offered
    assert offer.answer_by - offer.offered_at == timedelta(hours=24)
    assert any(f"/mediate/offers/{offer.id}" in m.body for m in outbox_to(near_expert))
    # A second offer while one is open is refused.
    again = client.post(f"/mediate/{case.number}/assign", data={"mediator": near_expert.id})
    assert again.status_code == 409 and "already offered" in again.get_data(as_text=True)

    login_en(client, near_expert)
    assert case.number in client.get("/mediate/offers").get_data(as_text=True)
    assert client.get(f"/mediate/offers/{offer.id}").status_code == 200
    assert client.post(f"/mediate/offers/{offer.id}/accept").status_code == 303
    db.session.refresh(case)
    assert case.mediator_id == near_expert.id and offer.status is AssignmentStatus.accepted
    assert actions(case)[-2:] == ["handler_assigned", "mediator_accepted"]
    assert outbox_to(claimant) and outbox_to(respondent)
    # Accepting twice is refused with a reason.
    twice = client.post(f"/mediate/offers/{offer.id}/accept")
    assert twice.status_code == 409 and "already been answered" in twice.get_data(as_text=True)
    assert audit.verify_chain(f"case:{case.id}") is None


def test_decline_needs_a_reason_and_tells_staff(client, login_en, unassigned):
    case, staff, near_expert, *_ = unassigned
    offer = ops.offer(case, near_expert, staff)
    db.session.commit()
    login_en(client, near_expert)
    empty = client.post(f"/mediate/offers/{offer.id}/decline", data={"reason": "  "})
    assert empty.status_code == 400 and offer.status is AssignmentStatus.offered
    resp = client.post(f"/mediate/offers/{offer.id}/decline", data={"reason": "I know the respondent."})
    assert resp.status_code == 303
    db.session.refresh(offer)
    assert offer.status is AssignmentStatus.declined and offer.reason == "I know the respondent."
    assert any("I know the respondent." in m.body for m in outbox_to(staff))
    # Declined mediators are not suggested again for this case.
    assert near_expert not in [s.profile.user for s in ops.suggest(case)]


def test_unanswered_offer_escalates_to_staff_after_the_deadline(clock, client, login_en, unassigned):
    case, staff, near_expert, near_generalist, *_ = unassigned
    offer = ops.offer(case, near_expert, staff)
    db.session.commit()

    clock.advance(hours=23, minutes=59)
    assert ops.escalate_overdue() == 0
    assert offer.status is AssignmentStatus.offered

    clock.advance(minutes=1)  # exactly 24 h
    with force_locale("en"):
        assert ops.escalate_overdue() == 1
    db.session.commit()
    assert offer.status is AssignmentStatus.expired
    assert "assignment_expired" in actions(case)
    assert any(case.number in m.body and "did not answer" in m.body for m in outbox_to(staff))
    assert ops.escalate_overdue() == 0  # once only

    # The mediator can no longer accept; staff see the escalation and offer it to someone else.
    login_en(client, near_expert)
    late = client.post(f"/mediate/offers/{offer.id}/accept")
    assert late.status_code == 409
    assert case.mediator_id is None
    login_en(client, staff)
    page = client.get(f"/mediate/{case.number}/assign").get_data(as_text=True)
    assert 'id="escalated"' in page and "Near expert" in page
    assert near_expert not in [s.profile.user for s in ops.suggest(case)]
    assert client.post(f"/mediate/{case.number}/assign", data={"mediator": near_generalist.id}).status_code == 303


def test_the_page_visit_escalates_too(clock, client, login_en, unassigned):
    """Without `odr tick` running, opening the mediator's or staff's page expires overdue offers."""
    case, staff, near_expert, *_ = unassigned
    offer = ops.offer(case, near_expert, staff)
    db.session.commit()
    clock.advance(hours=25)
    login_en(client, near_expert)
    assert case.number not in client.get("/mediate/offers").get_data(as_text=True)
    assert offer.status is AssignmentStatus.expired


def test_a_party_may_ask_once_for_another_mediator(client, login_en, mediation, make_mediator):
    m = mediation
    login_en(client, m.claimant)
    empty = client.post(f"/mediate/{m.case.number}/change", data={"reason": ""})
    assert empty.status_code == 400 and db.session.scalar(sa.select(sa.func.count(ChangeRequest.id))) == 0
    reason = "The mediator talked only to the other side."
    assert client.post(f"/mediate/{m.case.number}/change", data={"reason": reason}).status_code == 303
    twice = client.post(f"/mediate/{m.case.number}/change", data={"reason": "Again"})
    assert twice.status_code == 409 and "already asked" in twice.get_data(as_text=True)
    # Staff get the reason; the case history says only that a change was asked for.
    assert any(reason in msg.body for msg in outbox_to(m.staff))
    login_en(client, m.respondent)
    history = client.get(f"/cases/{m.case.number}").get_data(as_text=True)
    assert "Another mediator requested" in history and reason not in history
    # The other party still has their own one request.
    assert client.post(f"/mediate/{m.case.number}/change", data={"reason": "Me too"}).status_code == 303

    # Staff offer someone else; the replaced mediator is not suggested; acceptance resolves the requests.
    assert m.mediator not in [s.profile.user for s in ops.suggest(m.case)]
    offer = ops.offer(m.case, m.other_mediator, m.staff)
    ops.accept(offer, m.other_mediator)
    db.session.commit()
    assert m.case.mediator_id == m.other_mediator.id
    assert all(r.resolved_at for r in db.session.scalars(sa.select(ChangeRequest)))
    # Mediators cannot ask; staff cannot either (not a party).
    login_en(client, m.other_mediator)
    assert client.post(f"/mediate/{m.case.number}/change", data={"reason": "x"}).status_code == 403


@force_locale("en")
def test_offer_refusals(mediation, make_user, make_case):
    m = mediation
    with pytest.raises(ops.AssignmentError, match="already mediates"):
        ops.offer(m.case, m.mediator, m.staff)
    not_on_roster = make_user(Role.mediator, m.org)
    with pytest.raises(ops.AssignmentError, match="roster"):
        ops.offer(m.case, not_on_roster, m.staff)
    early = make_case(organization=m.org, stages=(Stage.assessment,))
    with pytest.raises(ops.AssignmentError, match="in mediation"):
        ops.offer(early, m.other_mediator, m.staff)


def test_offer_pages_are_only_for_their_mediator(client, login_en, unassigned, make_user):
    case, staff, near_expert, near_generalist, *_ = unassigned
    offer = ops.offer(case, near_expert, staff)
    db.session.commit()
    for user in (near_generalist, staff, make_user()):
        login_en(client, user)
        assert client.get(f"/mediate/offers/{offer.id}").status_code == 404
        assert client.post(f"/mediate/offers/{offer.id}/accept").status_code == 404
    assert offer.status is AssignmentStatus.offered


def test_roster_management(client, login_en, mediation, make_org, make_user):
    m = mediation
    login_en(client, m.staff)
    page = client.get("/mediate/roster").get_data(as_text=True)
    assert "Mediator Li" in page and "Mediator Zhou" in page
    bad = client.post("/mediate/roster", data={"contact": "not a contact", "name": "X"})
    assert bad.status_code == 400
    resp = client.post("/mediate/roster", data={"contact": "13700137000", "name": "New Mediator"})
    assert resp.status_code == 303
    newcomer = db.session.scalar(sa.select(MediatorProfile).order_by(MediatorProfile.user_id.desc()).limit(1))
    assert newcomer.user.phone == "+8613700137000" and newcomer.user.has_role(Role.mediator, m.org.id)
    uid = newcomer.user_id
    form = {f"p{uid}-specialties": ["labour", "debt"], f"p{uid}-languages": ["zh", "en"], f"p{uid}-bio": "Ten years",
            f"p{uid}-capacity": "8", f"p{uid}-accepting": "y"}
    assert client.post(f"/mediate/roster/{uid}", data=form).status_code == 303
    db.session.refresh(newcomer)
    assert newcomer.specialty_list == ["labour", "debt"] and newcomer.capacity == 8 and newcomer.accepting
    assert client.post(f"/mediate/roster/{uid}", data={f"p{uid}-capacity": "0"}).status_code == 400
    # Directory shows the new profile publicly.
    client.post("/auth/logout")
    assert "New Mediator" in client.get(f"/mediate/orgs/{m.org.id}").get_data(as_text=True)

    # Staff of another organisation cannot touch this roster.
    other = make_user(Role.staff, make_org(name="Other committee"))
    login_en(client, other)
    assert client.post(f"/mediate/roster/{uid}", data=form).status_code == 404
    assert client.post(f"/mediate/roster/{uid}/remove").status_code == 404
    login_en(client, m.staff)
    assert client.post(f"/mediate/roster/{uid}/remove").status_code == 303
    assert db.session.get(MediatorProfile, uid) is None
    assert not db.session.get(type(m.staff), uid).has_role(Role.mediator, m.org.id)


def test_directory_filters(client, mediation, make_org):
    make_org(OrgType.notary, name="Notary office", district="海淀区")
    make_org(OrgType.court, name="A court")
    page = client.get("/mediate/directory").get_data(as_text=True)
    assert "Notary office" in page and "朝阳区人民调解委员会" in page and "A court" not in page
    only_notary = client.get("/mediate/directory?type=notary").get_data(as_text=True)
    assert "Notary office" in only_notary and "朝阳区人民调解委员会" not in only_notary
    by_district = client.get("/mediate/directory?district=朝阳区").get_data(as_text=True)
    assert "Notary office" not in by_district and "朝阳区人民调解委员会" in by_district
    by_specialty = client.get("/mediate/directory?specialty=labour").get_data(as_text=True)
    assert "朝阳区人民调解委员会" not in by_specialty
    assert client.get("/mediate/directory?type=%00&district=" + "x" * 500).status_code == 200


def test_rating_after_close(client, login_en, mediation):
    m = mediation
    login_en(client, m.claimant)
    assert client.post(f"/mediate/{m.case.number}/rate", data={"stars": "5"}).status_code == 409  # still open
    workflow.move(m.case, Outcome.closed_without_result, m.staff)
    db.session.commit()
    assert client.post(f"/mediate/{m.case.number}/rate", data={"stars": "9"}).status_code == 400
    assert client.post(f"/mediate/{m.case.number}/rate", data={"stars": "4", "comment": "Patient"}).status_code == 303
    assert client.post(f"/mediate/{m.case.number}/rate", data={"stars": "4"}).status_code == 409
    assert ops.ratings_of([m.mediator.id]) == {m.mediator.id: (4.0, 1)}
    assert "Rating 4.0 (1)" in client.get(f"/mediate/orgs/{m.org.id}").get_data(as_text=True)


def test_odr_tick_expires_overdue_offers(clock, runner, unassigned):
    case, staff, near_expert, *_ = unassigned
    offer = ops.offer(case, near_expert, staff)
    db.session.commit()
    clock.advance(hours=24, seconds=1)
    result = runner.invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert "escalate_overdue" in result.output
    db.session.expire_all()
    assert db.session.get(Assignment, offer.id).status is AssignmentStatus.expired
