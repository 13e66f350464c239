"""Settled on the spot, on one device: a transfer reaches the grid worker's phone (360×640), who
checks in on the scene, records who is there and what they agree, and hands the phone to each party
in turn; each reads the on-site agreement, confirms with the code sent to their own phone (or, for
the party without a phone, the worker types the ID card number they checked in person) and signs
with a key made on that phone for that signature. The platform seals it: `pdfsig` and `odr verify`
show two valid signatures and the seal, the case is settled and the sender hears "resolved"."""

from __future__ import annotations

import pytest
import requests
import sqlalchemy as sa
from playwright.sync_api import expect

from odr.cases import callbacks
from odr.cases.models import Outcome
from odr.documents import storage
from odr.documents.ca import platform_ca
from odr.extensions import db
from odr.field import onsite
from odr.field.models import Dispatch, DispatchStatus
from odr.timeutil import utcnow
from tests.documents.signing import pdfsig
from tests.e2e.pages import draw_signature, sign_document, sign_in
from tests.e2e.test_axe import serious
from tests.e2e.test_field_flow import WORKER, seed
from tests.field.conftest import TRANSFER, receiver  # noqa: F401 (the callback server fixture)

pytestmark = pytest.mark.e2e


def test_two_parties_sign_the_on_site_agreement_on_the_workers_phone(phone, server, receiver, shot, layout,  # noqa: F811
                                                                     tmp_path):
    token, _secret = seed(server, receiver.url)
    worker = phone().new_page()
    sign_in(worker, WORKER[3:])
    worker.goto("/field/")
    worker.locator("#on-duty").click()
    expect(worker.locator("#off-duty")).to_be_visible()
    worker.wait_for_timeout(300)  # the page's Socket.IO connection is up before the transfer

    # Li Lei, the neighbour upstairs, has no phone on record (the sender gave an e-mail address).
    body = {k: v for k, v in TRANSFER.items() if k != "respondent_phone"} | {"respondent_email": "li.lei@example.com"}
    resp = requests.post(f"{server.url}/api/v1/intake", json=body, timeout=10,
                         headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 201, resp.text
    number = resp.json()["case_number"]
    # It arrives live (the queue page updates itself; navigating meanwhile would race it).
    card = worker.locator("a[data-dispatch]", has_text=number)
    expect(card).to_be_visible()
    card.click()
    worker.locator("#field-accept").click()
    worker.locator("#field-contacted-call").click()
    worker.locator("#field-on-scene").click()
    expect(worker.locator("#dispatch-status")).to_have_attribute("data-status", "on_scene")

    # Settled on the spot: both parties are there, their identity checked in person.
    for box in worker.locator("#field-agreement-form input[name=agreement-present]").all():
        box.check()
    worker.fill("#agreement-facts", "楼上每晚十二点后放音乐。")
    worker.fill("#agreement-terms", "李雷保证晚上十点后不再放音乐。")
    layout.check(worker)
    found = serious(worker)
    worker.locator("#field-agreement").click()
    expect(worker.locator("#agreement-signers li[data-signed=no]")).to_have_count(2)
    shot(worker, "field-agreement")
    layout.check(worker)
    found += serious(worker)

    # The phone goes to each party in turn: the code goes to Wang Fang's own phone; Li Lei has none,
    # so the worker types the number of the ID card they checked in person and he signs without one.
    for position, party_phone in ((0, "+8613800138000"), (1, None)):
        worker.locator(f"#sign-{position}").click()
        expect(worker.locator("#signer-name")).to_have_attribute("data-position", str(position))
        expect(worker.locator("#sign")).to_be_visible()
        layout.check(worker)
        found += serious(worker)
        if position == 0:
            shot(worker, "field-sign")
            sign_document(worker, server, party_phone)
        else:
            expect(worker.locator("#send-code")).to_have_count(0)
            worker.locator("#read-all").check()
            worker.fill("#id-number", "110105 19491231 002x")
            draw_signature(worker)
            worker.locator("#sign-now").click()
            expect(worker.locator("#sign-status")).not_to_have_class("error", timeout=1_000)
        expect(worker.locator(f"#agreement-signers li[data-position='{position}']")).to_have_attribute(
            "data-signed", "yes")
    expect(worker.locator("#agreement-sealed")).to_be_visible()
    expect(worker.locator("#dispatch-status")).to_have_attribute("data-status", "resolved")
    layout.check(worker)
    found += serious(worker)
    assert not found, "\n".join(found)

    with server.app.app_context():
        dispatch = db.session.scalar(sa.select(Dispatch))
        assert dispatch.status is DispatchStatus.resolved and dispatch.case.outcome is Outcome.settled
        document = onsite.agreement_of(dispatch)
        assert len({s.public_key for s in document.signers}) == 2  # one browser key per signature
        path = tmp_path / "onsite.pdf"
        path.write_bytes(storage.get(document.current_sha256))
        out = pdfsig(path, platform_ca().pem(), tmp_path)
        assert out.count("Signature Validation: Signature is Valid.") == 3, out
        assert out.count("Certificate Validation: Certificate is Trusted.") == 3, out
        assert "Signer Certificate Common Name: Wang Fang" in out and "Signer Certificate Common Name: Li Lei" in out
        assert "Signer Certificate Common Name: ODR Platform Seal" in out
        result = server.app.test_cli_runner().invoke(args=["verify", str(path)])
        assert result.exit_code == 0, result.output
        assert "RESULT: all signatures valid and trusted" in result.output
        assert "identity checked in person by Worker Wu, no phone code" in result.output
        assert "identity checked in person by Worker Wu, confirmed with a code" in result.output
        assert callbacks.deliver_callbacks(utcnow()) == 4
        db.session.commit()
        db.session.remove()
    assert [r["json"]["event"] for r in receiver.received] == ["accepted", "contacted", "on_scene", "resolved"]
    assert receiver.received[-1]["json"]["status"]["status"] == "resolved"
    layout.assert_all_fit()
