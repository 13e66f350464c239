"""Judicial confirmation: after the signed agreement settled the case, a party asks for it at a
court; both parties sign the application; the case goes to that court with both documents."""

from __future__ import annotations

import zipfile

import sqlalchemy as sa

from odr.auth.models import Role
from odr.cases.models import OrgType, Outcome
from odr.court.models import Handoff, HandoffKind
from odr.court.verify_bundle import verify_bundle
from odr.court import operations as ops
from odr.documents.ca import platform_ca
from odr.documents.models import SignedDocument
from odr.extensions import db
from tests.documents.signing import sign_all, sign_via_http
from tests.documents.signing import approved_agreement


def test_both_parties_sign_the_application_and_the_court_receives_it(client, login_en, mediation, make_org,
                                                                     make_user, tmp_path):
    m = mediation
    court = make_org(type=OrgType.court, name="朝阳区人民法院")
    clerk = make_user(Role.court_clerk, court)
    db.session.commit()
    url = f"/court/{m.case.number}/confirmation"
    login_en(client, m.claimant)
    assert client.get(url).status_code == 409  # not settled yet
    sign_all(client, login_en, m, approved_agreement(m))
    assert m.case.outcome is Outcome.settled
    for user, status in ((m.mediator, 409), (m.outsider, 404)):
        login_en(client, user)
        assert client.get(url).status_code == status
    login_en(client, m.respondent)
    assert client.get(url).status_code == 200
    assert client.post(url, data={"court": ""}).status_code == 400
    assert client.post(url, data={"court": str(m.org.id)}).status_code == 400  # a mediation committee
    resp = client.post(url, data={"court": str(court.id)})
    assert resp.status_code == 303
    application = db.session.scalar(sa.select(SignedDocument).where(SignedDocument.kind == "judicial_confirmation"))
    assert resp.location.endswith(f"/documents/{application.id}")
    assert [s.role for s in application.signers] == ["claimant", "respondent"]
    assert client.post(url, data={"court": str(court.id)}).location.endswith(f"/documents/{application.id}")

    for user in (m.claimant, m.respondent):
        login_en(client, user)
        assert sign_via_http(client, application, user).status_code == 200
    db.session.expire_all()
    handoff = db.session.scalar(sa.select(Handoff))
    assert handoff.kind is HandoffKind.confirmation and handoff.court_id == court.id
    assert m.case.outcome is Outcome.settled  # still settled; the court now sees it
    login_en(client, clerk)
    assert m.case.number in client.get("/court/inbox").get_data(as_text=True)
    assert client.get(f"/cases/{m.case.number}").status_code == 200
    with zipfile.ZipFile(ops.bundle_path(handoff)) as zf:
        names = set(zf.namelist())
    assert {"documents/judicial_confirmation-v1.pdf", "documents/mediation_agreement-v1.pdf"} <= names
    report = verify_bundle(ops.bundle_path(handoff), [platform_ca().ca.asn1_cert])
    assert report.ok, report.problems
    login_en(client, m.claimant)  # once handed over, asking again is refused
    assert client.get(url).status_code in (303, 409)
