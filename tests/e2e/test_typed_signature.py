"""Signing without drawing (WCAG 2.5.1 single pointer): on a phone the claimant types their name
instead of drawing it; the typed name is the signature's picture, and the signed and sealed
agreement validates with pyHanko."""

from __future__ import annotations

from playwright.sync_api import expect

from odr.documents import storage
from odr.documents.ca import SEAL_NAME, platform_ca
from odr.documents.models import SignedDocument
from odr.documents.verify import verify
from odr.extensions import db
from tests.documents.signing import approved_agreement, last_code, sign_in_process
from tests.e2e.pages import sign_in


def test_sign_with_a_typed_name(phone, server, mediation):
    m = mediation
    document = approved_agreement(m)
    doc_id, contact, name = document.id, m.claimant.contact, m.claimant.name
    db.session.commit()

    page = phone().new_page()
    sign_in(page, contact)
    page.goto(f"/documents/{doc_id}")
    page.locator("#read-all").check()
    page.locator("#send-code").click()
    expect(page.locator("#sign-status")).not_to_be_empty()
    with server.app.app_context():
        code = last_code(contact)
    page.fill("#sign-code", code)
    page.locator("#typed-name").fill(name)  # no drawing at all
    inked = page.evaluate("""() => { const pad = document.getElementById('pad');
        const data = pad.getContext('2d').getImageData(0, 0, pad.width, pad.height).data;
        let n = 0; for (let i = 3; i < data.length; i += 4) if (data[i]) n++; return n; }""")
    assert inked > 500  # the name is written on the pad
    page.locator("#sign-now").click()
    expect(page.locator("#sign")).to_have_count(0, timeout=15_000)

    with server.app.app_context():
        document = db.session.get(SignedDocument, doc_id)
        from odr.auth.models import User

        for user_id in (m.respondent.id, m.mediator.id):
            sign_in_process(document, db.session.get(User, user_id))
            db.session.commit()
        document = db.session.get(SignedDocument, doc_id)
        report = verify(storage.get(document.current_sha256), [platform_ca().ca.asn1_cert])
    assert report.ok, report.lines()
    assert [s.signer for s in report.signatures] == [name, m.respondent.name, m.mediator.name, SEAL_NAME]
