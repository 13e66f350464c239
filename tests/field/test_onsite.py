"""On-site resolution on one device: the worker records who is there and what they agree; each party
present signs on the worker's phone with a key made for that signature, after confirming a one-time
code sent to their own phone; the platform seals, the case settles and the sender hears "resolved".
Refused: another worker, a person not recorded as present, signing twice, bad input."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from cryptography import x509

from odr.cases import audit, callbacks
from odr.cases.models import CaseParty, Outcome, PartyStatus, Side
from odr.documents import storage
from odr.documents.ca import platform_ca
from odr.documents.models import SignedDocument, SignerStatus, SigningStatus
from odr.extensions import db
from odr.field import onsite
from odr.field.models import DispatchStatus
from tests.documents.signing import BrowserKey, drawing, last_code, pdfsig
from tests.field.test_dispatch import _on_scene

FACTS = "楼上每晚十二点后放音乐。"
TERMS = "李雷保证晚上十点后不再放音乐。"


def _draw_up(client, dispatch, present=None):
    present = present if present is not None else [p.id for p in dispatch.case.parties]
    return client.post(f"/field/d/{dispatch.id}/agreement", data={"agreement-present": present, "agreement-facts": FACTS,
                                                                     "agreement-terms": TERMS})


def _agreement(dispatch) -> SignedDocument:
    db.session.expire_all()
    return onsite.agreement_of(dispatch)


def _sign(client, dispatch, document, position, key=None, code=True):
    key = key or BrowserKey()
    url = f"/field/d/{dispatch.id}/agreement/{document.id}/{position}"
    phone = next(p.phone for p in dispatch.case.parties if p.name == document.signers[position].name)
    if code:
        resp = client.post(f"{url}/code", json={})
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()["sent_to"].endswith(phone[-4:])
    db.session.expire_all()
    prepared = client.post(f"{url}/prepare", json={"code": last_code(phone) if code else None,
                                                   "public_key": key.spki, "stamp": drawing(),
                                                   "sha256": document.current_sha256})
    assert prepared.status_code == 200, prepared.get_json()
    return client.post(f"{url}/finish", json={"signature": key.sign(prepared.get_json()["to_be_signed"])})


def test_two_parties_sign_on_the_workers_phone_and_the_case_settles(app, client, login, field_world, receiver,
                                                                    runner, tmp_path):
    callbacks.register(field_world.api_client, receiver.url)
    db.session.commit()
    dispatch = _on_scene(client, login, field_world)
    resp = _draw_up(client, dispatch)
    assert resp.status_code == 303 and resp.location.endswith(f"/field/d/{dispatch.id}/agreement")
    document = _agreement(dispatch)
    assert [(s.role, s.name) for s in document.signers] == [("claimant", "Wang Fang"), ("respondent", "Li Lei")]
    drawn = [e for e in audit.case_events(dispatch.case) if e.action == "field_agreement_drawn_up"][0]
    assert drawn.payload["identity_checked_by"] == "Worker Wu" and drawn.payload["terms"] == TERMS
    assert client.get(f"/field/d/{dispatch.id}/agreement").status_code == 200
    assert client.get(f"/field/d/{dispatch.id}/agreement/{document.id}/0").status_code == 200
    # Not through the ordinary signing page, although the worker's session drives it.
    assert client.post(f"/documents/{document.id}/code", json={}).status_code == 409

    assert _sign(client, dispatch, document, 0).status_code == 200
    resp = _sign(client, dispatch, document, 1)
    assert resp.status_code == 200 and resp.get_json()["status"] == "complete"

    db.session.expire_all()
    document = db.session.get(SignedDocument, document.id)
    assert document.status is SigningStatus.complete
    assert dispatch.status is DispatchStatus.resolved and dispatch.closed_at is not None
    assert dispatch.case.outcome is Outcome.settled
    trail = [e.action for e in audit.case_events(dispatch.case)]
    assert trail.count("document_signed") == 2 and trail.index("document_sealed") < trail.index("case_closed")
    assert "field_resolved" in trail
    for signer in document.signers:
        cert = x509.load_der_x509_certificate(signer.cert_der)
        units = [a.value for a in cert.subject if a.oid == x509.NameOID.ORGANIZATIONAL_UNIT_NAME]
        assert "identity:in_person_field" in units and "checked in person by:Worker Wu" in units
        assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == signer.name
    assert len({s.public_key for s in document.signers}) == 2  # one key per signature
    events = [d.event for d in db.session.scalars(sa.select(callbacks.CallbackDelivery)
                                                 .order_by(callbacks.CallbackDelivery.id))]
    assert events == ["accepted", "contacted", "on_scene", "resolved"]

    path = tmp_path / "onsite.pdf"
    path.write_bytes(storage.get(document.current_sha256))
    out = pdfsig(path, platform_ca().pem(), tmp_path)
    assert out.count("Signature Validation: Signature is Valid.") == 3, out
    assert "Signer Certificate Common Name: Wang Fang" in out and "Signer Certificate Common Name: Li Lei" in out
    assert "ODR Platform Seal" in out
    result = runner.invoke(args=["verify", str(path)])
    assert result.exit_code == 0, result.output
    assert "RESULT: all signatures valid and trusted" in result.output

    # Signing again, and drawing up again, are refused once sealed.
    url = f"/field/d/{dispatch.id}/agreement/{document.id}/0"
    assert client.post(f"{url}/code", json={}).status_code == 409
    assert _draw_up(client, dispatch).status_code == 400


def test_a_party_signs_once(client, login, field_world):
    dispatch = _on_scene(client, login, field_world)
    _draw_up(client, dispatch)
    document = _agreement(dispatch)
    assert _sign(client, dispatch, document, 0).status_code == 200
    url = f"/field/d/{dispatch.id}/agreement/{document.id}/0"
    resp = client.post(f"{url}/code", json={})
    assert resp.status_code == 409 and "已签署" in resp.get_json()["detail"]  # (zh, the default)
    key = BrowserKey()
    resp = client.post(f"{url}/prepare", json={"code": "123456", "public_key": key.spki, "stamp": drawing(),
                                               "sha256": document.current_sha256})
    assert resp.status_code == 409
    assert client.get(url).status_code == 303  # the page sends the worker back


def test_only_the_dispatched_worker_drives_the_signing(client, login, field_world):
    dispatch = _on_scene(client, login, field_world)
    _draw_up(client, dispatch)
    document = _agreement(dispatch)
    url = f"/field/d/{dispatch.id}/agreement/{document.id}/0"
    login(client, field_world.second_worker)  # a worker of the same grid: sees, may not act
    assert client.post(f"{url}/code", json={}).status_code == 403
    assert client.get(url).status_code == 403
    assert client.get(f"/field/d/{dispatch.id}/agreement").status_code == 403
    assert _draw_up(client, dispatch).status_code == 403
    login(client, field_world.other_worker)  # another grid's: learns nothing
    assert client.post(f"{url}/code", json={}).status_code == 404
    login(client, field_world.staff)  # the command room
    assert client.post(f"{url}/prepare", json={}).status_code == 403


def test_only_people_recorded_as_present_sign(client, login, field_world):
    dispatch = _on_scene(client, login, field_world)
    claimant = dispatch.case.party(Side.claimant)
    # One side alone is no agreement: the absent party is never put up to sign.
    resp = _draw_up(client, dispatch, [claimant.id])
    assert resp.status_code == 400 and "双方当事人均在场" in resp.get_data(as_text=True)
    assert _agreement(dispatch) is None
    assert _draw_up(client, dispatch).status_code == 303
    document = _agreement(dispatch)
    for position in (2, 99):  # nobody recorded as present at these places
        resp = client.post(f"/field/d/{dispatch.id}/agreement/{document.id}/{position}/code", json={})
        assert resp.status_code == 409 and "登记为在场" in resp.get_json()["detail"]
    assert client.post(f"/field/d/{dispatch.id}/agreement/{document.id}/-1/code", json={}).status_code == 404
    # Nor through another dispatch of the same worker.
    login(client, field_world.worker)
    second = _on_scene(client, login, field_world, reference="110-0002")
    resp = client.post(f"/field/d/{second.id}/agreement/{document.id}/0/code", json={})
    assert resp.status_code == 409 and "不是本派单的协议" in resp.get_json()["detail"]


@pytest.mark.parametrize("data", [
    {}, {"facts": FACTS, "terms": TERMS}, {"present": "x", "facts": FACTS, "terms": TERMS},
    {"present": "{claimant}", "facts": FACTS, "terms": TERMS},  # one side only
    {"present": ["{claimant}", "{respondent}"], "facts": "", "terms": TERMS},
    {"present": ["{claimant}", "{respondent}"], "facts": FACTS, "terms": "x" * 4001},
    {"present": ["{claimant}", "{respondent}"], "facts": "a\x01", "terms": TERMS},
    {"present": ["{claimant}", "999999"], "facts": FACTS, "terms": TERMS},
])
def test_bad_agreements_are_refused(client, login, field_world, data):
    dispatch = _on_scene(client, login, field_world)
    ids = {"{claimant}": str(dispatch.case.party(Side.claimant).id),
           "{respondent}": str(dispatch.case.party(Side.respondent).id)}
    present = data.get("present")
    if isinstance(present, list):
        data = data | {"present": [ids.get(v, v) for v in present]}
    elif present in ids:
        data = data | {"present": ids[present]}
    resp = client.post(f"/field/d/{dispatch.id}/agreement", data={f"agreement-{k}": v for k, v in data.items()})
    assert resp.status_code == 400
    assert _agreement(dispatch) is None
    assert [e.action for e in audit.case_events(dispatch.case)][-1] == "field_on_scene"


def test_bad_signing_input_is_refused(client, login, field_world):
    dispatch = _on_scene(client, login, field_world)
    _draw_up(client, dispatch)
    document = _agreement(dispatch)
    url = f"/field/d/{dispatch.id}/agreement/{document.id}/0"
    key = BrowserKey()
    good = {"public_key": key.spki, "stamp": drawing(), "sha256": document.current_sha256}
    assert client.post(f"{url}/prepare", data="not json", content_type="application/json").status_code == 422
    # No code: the party has not confirmed; a wrong code; a key that is not a key; a stale view.
    assert client.post(f"{url}/prepare", json=good).status_code == 422
    assert client.post(f"{url}/code", json={}).status_code == 200
    assert client.post(f"{url}/prepare", json=good | {"code": "000000"}).status_code == 422
    assert client.post(f"{url}/prepare", json=good | {"code": last_code(dispatch.case.parties[0].phone),
                                                      "public_key": "bm90IGEga2V5"}).status_code == 422
    assert client.post(f"{url}/finish", json={"signature": "AAAA"}).status_code == 409  # not prepared
    db.session.expire_all()
    assert all(s.status is SignerStatus.pending for s in _agreement(dispatch).signers)


def test_the_agreement_needs_the_scene(client, login, field_world):
    from tests.field.conftest import transfer
    from tests.field.test_dispatch import _dispatch

    dispatch = _dispatch(transfer(client, field_world.token).get_json()["case_number"])
    login(client, field_world.worker)
    client.post(f"/field/d/{dispatch.id}/accept")
    assert _draw_up(client, dispatch).status_code == 400
    assert _agreement(dispatch) is None


def test_a_referral_withdraws_the_unsigned_agreement(client, login, field_world):
    dispatch = _on_scene(client, login, field_world)
    _draw_up(client, dispatch)
    document = _agreement(dispatch)
    assert _sign(client, dispatch, document, 0).status_code == 200
    resp = client.post(f"/field/d/{dispatch.id}/refer", data={"present": "Wang Fang, Li Lei", "facts": "No deal."})
    assert resp.status_code == 303
    db.session.expire_all()
    document = db.session.get(SignedDocument, document.id)
    assert document.status is SigningStatus.superseded and dispatch.status is DispatchStatus.referred
    trail = [e.action for e in audit.case_events(dispatch.case)]
    assert trail.index("field_referred") < trail.index("document_superseded")
    resp = client.post(f"/field/d/{dispatch.id}/agreement/{document.id}/1/code", json={})
    assert resp.status_code == 409  # no longer on the scene


#: A valid resident ID number (GB 11643), as an elderly party shows it on their card.
ID_NUMBER = "11010519491231002X"


def _prepare_checked(client, dispatch, document, position, key, **confirmation):
    url = f"/field/d/{dispatch.id}/agreement/{document.id}/{position}"
    return client.post(f"{url}/prepare", json={"public_key": key.spki, "stamp": drawing(),
                                               "sha256": document.current_sha256, **confirmation})


def test_a_party_without_a_phone_signs_with_the_id_card_checked_in_person(client, login, field_world, runner,
                                                                           tmp_path):
    from odr.field.models import IdentityCheck

    dispatch = _on_scene(client, login, field_world, respondent_phone=..., respondent_email="li.lei@example.com")
    assert dispatch.case.party(Side.respondent).phone is None
    _draw_up(client, dispatch)
    document = _agreement(dispatch)
    position = next(s.position for s in document.signers if s.name == "Li Lei")
    url = f"/field/d/{dispatch.id}/agreement/{document.id}/{position}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="id-number"' in page and 'id="send-code"' not in page and 'id="no-code-reason"' not in page
    assert client.post(f"{url}/code", json={}).status_code == 409  # no phone to send it to
    key = BrowserKey()
    # A mistyped number is refused saying what is wrong; a code and an ID card at once too.
    resp = _prepare_checked(client, dispatch, document, position, key, id_number="110105194912310021")
    assert resp.status_code == 422 and "校验码与前17位不符" in resp.get_json()["detail"]
    assert _prepare_checked(client, dispatch, document, position, key, id_number=ID_NUMBER,
                            code="123456").status_code == 422
    assert _prepare_checked(client, dispatch, document, position, key, id_number=["x"]).status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdentityCheck)) == 0
    # A colleague of the same grid may not take it.
    login(client, field_world.second_worker)
    assert _prepare_checked(client, dispatch, document, position, key, id_number=ID_NUMBER).status_code == 403
    login(client, field_world.worker)

    other = next(s.position for s in document.signers if s.position != position)
    assert _sign(client, dispatch, document, other).status_code == 200
    db.session.expire_all()
    document = _agreement(dispatch)
    prepared = _prepare_checked(client, dispatch, document, position, key, id_number=" 110105 19491231 002x ")
    assert prepared.status_code == 200, prepared.get_json()
    resp = client.post(f"{url}/finish", json={"signature": key.sign(prepared.get_json()["to_be_signed"])})
    assert resp.status_code == 200 and resp.get_json()["status"] == "complete"

    db.session.expire_all()
    check = db.session.scalar(sa.select(IdentityCheck))
    assert (check.document_id, check.position, check.checked_by_id) == (document.id, position, field_world.worker.id)
    assert check.id_number_masked == "1101**********002X" and ID_NUMBER not in check.id_number_encrypted
    assert check.no_code_reason is None and len(check.id_number_digest) == 64
    events = [e for e in audit.case_events(dispatch.case) if e.action == "field_identity_checked"]
    assert len(events) == 1 and events[0].payload["id_number"] == "1101**********002X"
    assert events[0].payload["no_phone_code"] is True and events[0].payload["checked_by"] == "Worker Wu"
    assert ID_NUMBER not in str([e.payload for e in audit.case_events(dispatch.case)])
    assert dispatch.status is DispatchStatus.resolved and dispatch.case.outcome is Outcome.settled
    units = {s.position: [a.value for a in x509.load_der_x509_certificate(s.cert_der).subject
                          if a.oid == x509.NameOID.ORGANIZATIONAL_UNIT_NAME] for s in document.signers}
    assert "identity:in_person_no_code" in units[position] and "checked in person by:Worker Wu" in units[position]
    assert "identity:in_person_field" in units[other]

    path = tmp_path / "onsite.pdf"
    path.write_bytes(storage.get(document.current_sha256))
    out = pdfsig(path, platform_ca().pem(), tmp_path)
    assert out.count("Signature Validation: Signature is Valid.") == 3, out
    result = runner.invoke(args=["verify", str(path)])
    assert result.exit_code == 0, result.output
    assert "identity: identity checked in person by Worker Wu, no phone code" in result.output
    assert "identity: identity checked in person by Worker Wu, confirmed with a code" in result.output
    # The verification page says it too (zh, the default).
    page = client.post("/verify", data={"file": (io.BytesIO(path.read_bytes()), "onsite.pdf")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert 'data-level="in_person_no_code"' in page and "由 Worker Wu 当面核验身份，未用短信验证码" in page


def test_a_party_with_a_phone_signs_without_the_code_only_with_the_workers_reason(client, login, field_world):
    from odr.field.models import IdentityCheck

    dispatch = _on_scene(client, login, field_world)
    _draw_up(client, dispatch)
    document = _agreement(dispatch)
    url = f"/field/d/{dispatch.id}/agreement/{document.id}/0"
    assert 'id="no-code-reason"' in client.get(url).get_data(as_text=True)
    key = BrowserKey()
    resp = _prepare_checked(client, dispatch, document, 0, key, id_number=ID_NUMBER)
    assert resp.status_code == 422 and "手机号" in resp.get_json()["detail"]
    resp = _prepare_checked(client, dispatch, document, 0, key, id_number=ID_NUMBER, no_code_reason="   ")
    assert resp.status_code == 422
    prepared = _prepare_checked(client, dispatch, document, 0, key, id_number=ID_NUMBER,
                                no_code_reason="Her phone's battery is flat.")
    assert prepared.status_code == 200, prepared.get_json()
    assert client.post(f"{url}/finish", json={"signature": key.sign(prepared.get_json()["to_be_signed"])}
                       ).status_code == 200
    db.session.expire_all()
    check = db.session.scalar(sa.select(IdentityCheck))
    assert check.no_code_reason == "Her phone's battery is flat."
    event = [e for e in audit.case_events(dispatch.case) if e.action == "field_identity_checked"][0]
    assert event.payload["phone_on_record"] is True and event.payload["reason"] == "Her phone's battery is flat."
