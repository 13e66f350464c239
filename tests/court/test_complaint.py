"""The claimant's complaint: what it says (in Chinese and English), signing it for real, the hand-off
of the filing package that needs it, and who is refused."""

from __future__ import annotations

import base64
import zipfile

import pytest
import sqlalchemy as sa

from odr.auth.models import Role
from odr.cases import workflow
from odr.cases.models import Outcome, OrgType, Stage
from odr.court import complaint as complaints
from odr.court import operations as ops
from odr.court.models import Handoff
from odr.documents import operations as signing
from odr.documents import storage
from odr.documents.ca import platform_ca
from odr.documents.models import SignedDocument, SigningStatus
from odr.extensions import db
from odr.mediate.outcomes import operations as outcomes
from odr.mediate.models import OutcomeKind
from odr.outbox import OutboxMessage
from tests.documents.signing import BrowserKey, drawing, last_code, pdfsig, sign_in_process, sign_via_http
from tests.documents.test_render import text_of

FACTS = {"zh": "被申请人自九月起装修房屋，施工多在晚上十点以后。", "en": "The respondent has renovated since September."}


def failed(m, lang="en"):
    """Mediation of ``m`` fails: both parties approve a record of undisputed facts, the claimant goes to court."""
    content = outcomes.draft_content(m.case, OutcomeKind.undisputed_facts, lang)
    texts = {s["id"]: s["text"] or "-" for s in content["sections"]} | {"agreed": FACTS[lang]}
    record = outcomes.save(m.case, OutcomeKind.undisputed_facts, m.mediator, texts)
    outcomes.send(record, m.case, m.mediator)
    for party in (m.claimant, m.respondent):
        outcomes.answer(record, m.case, party, approve=True)
    outcomes.go_to_court(m.case, m.claimant)
    db.session.commit()
    return m


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_complaint_names_the_parties_the_claims_the_facts_and_the_court(request, lang, tmp_path):
    m = failed(request.getfixturevalue("mediation_zh" if lang == "zh" else "mediation"), lang)
    m.case.amount_claimed = 3000
    m.case.claimant.email = "zhang@example.com"
    pdf = complaints.render_complaint(m.case, "朝阳区人民法院" if lang == "zh" else "Chaoyang Court", lang,
                                      addresses=complaints.Addresses("安贞里1号", "安贞里2号"))
    text = "".join(text_of(pdf, tmp_path).split())  # CJK lines wrap anywhere
    words = {"zh": ["民事起诉状", "原告：张三", "被告：李四", "诉讼请求", "晚上十点后停止施工。", "人民币3,000.00元",
                    "楼上住户每晚十点后仍在装修", "朝阳区人民调解委员会主持调解", "调解员：李调解", "未能达成调解协议",
                    "无争议事实记载", "朝阳区人民法院", "具状人（原告）：张三", "安贞里1号", "安贞里2号"],
             "en": ["Statementofclaim", "Plaintiff:ZhangSan", "Defendant:LiSi", "Claims", "CNY3,000.00",
                    "mediator:MediatorLi", "reachednoagreement", "recordofundisputedfacts", "ChaoyangCourt",
                    "Plaintiff(signing):ZhangSan", "安贞里1号"]}[lang]
    words.append("".join(FACTS[lang].split()))
    words.append({"zh": "电子邮箱zhang@example.com", "en": "E-mailzhang@example.com"}[lang])  # the field, not the channel
    if lang == "en":
        words.append("".join(m.case.claim.split()))
    missing = [w for w in words if w not in text]
    assert not missing, text


def test_the_claimant_signs_the_complaint_and_the_centre_files_it_with_that_court(
        client, login_en, mediation, make_org, make_user, runner, tmp_path):
    m = failed(mediation)
    court = make_org(type=OrgType.court, name="朝阳区人民法院")
    other_court = make_org(type=OrgType.court, name="海淀区人民法院")
    db.session.commit()
    url = f"/court/{m.case.number}/complaint"

    login_en(client, m.claimant)
    page = client.get(f"/court/{m.case.number}").get_data(as_text=True)
    assert 'id="complaint-link"' in page and 'id="hand-off-link"' not in page
    assert client.get(url).status_code == 200
    assert client.post(url, data={"court": ""}).status_code == 400  # no court chosen
    assert client.post(url, data={"court": str(m.org.id)}).status_code == 400  # a mediation committee
    assert client.post(url, data={"court": str(court.id), "claimant_address": "x" * 201}).status_code == 400
    # First to the wrong court, then again to the right one: the first version is replaced, saying why.
    first = client.post(url, data={"court": str(other_court.id)})
    assert first.status_code == 303
    resp = client.post(url, data={"court": str(court.id), "respondent_address": "安贞里2号"})
    assert resp.status_code == 303
    documents = list(db.session.scalars(sa.select(SignedDocument).where(SignedDocument.kind == complaints.KIND)
                                        .order_by(SignedDocument.version)))
    assert [d.status for d in documents] == [SigningStatus.superseded, SigningStatus.signing]
    complaint = documents[1]
    assert resp.location.endswith(f"/documents/{complaint.id}") and complaints.court_of(complaint) == court
    assert [(s.role, s.user_id) for s in complaint.signers] == [("claimant", m.claimant.id)]
    again = client.post(url, data={"court": str(court.id), "respondent_address": "安贞里2号"})
    assert again.location.endswith(f"/documents/{complaint.id}")  # a double tap: the same version

    # The respondent may read it (a copy is served on them) but not sign; the centre waits for it.
    login_en(client, m.respondent)
    assert client.get(url).status_code == 403
    assert client.get(f"/documents/{complaint.id}").status_code == 200
    assert client.post(f"/documents/{complaint.id}/code", json={}).status_code == 409
    login_en(client, m.staff)
    assert client.get(url).status_code == 403
    page = client.get(f"/court/{m.case.number}/handoff").get_data(as_text=True)
    assert "has not signed it yet" in page and 'id="hand-off"' not in page
    assert client.post(f"/court/{m.case.number}/handoff", data={"court": str(court.id)}).status_code == 409

    login_en(client, m.claimant)
    assert sign_via_http(client, complaint, m.claimant).status_code == 200
    db.session.expire_all()
    assert complaint.status is SigningStatus.complete
    told = db.session.scalars(sa.select(OutboxMessage.body).where(OutboxMessage.recipient == m.staff.contact))
    assert any("signed the complaint to 朝阳区人民法院" in body for body in told)
    path = tmp_path / "complaint.pdf"
    path.write_bytes(storage.get(complaint.current_sha256))
    out = pdfsig(path, platform_ca().pem(), tmp_path)
    assert out.count("Signature Validation: Signature is Valid.") == 2, out  # the claimant's, the seal
    assert "Signer Certificate Common Name: Zhang San" in out
    assert client.get(url).location.endswith(f"/documents/{complaint.id}")  # sealed: nothing to prepare
    assert client.post(url, data={"court": str(court.id)}).status_code == 409

    # The centre hands it to the complaint's court: the only one offered, and the bundle holds the complaint.
    login_en(client, m.staff)
    page = client.get(f"/court/{m.case.number}/handoff").get_data(as_text=True)
    assert "海淀区人民法院" not in page and f'<option selected value="{court.id}">' in page
    assert client.post(f"/court/{m.case.number}/handoff", data={"court": str(other_court.id)}).status_code == 400
    assert client.post(f"/court/{m.case.number}/handoff", data={"court": str(court.id)}).status_code == 303
    db.session.expire_all()
    handoff = db.session.scalar(sa.select(Handoff))
    assert m.case.outcome is Outcome.handed_to_court and handoff.court_id == court.id
    with zipfile.ZipFile(ops.bundle_path(handoff)) as zf:
        assert zf.read(f"documents/{complaints.KIND}-v2.pdf") == storage.get(complaint.current_sha256)
    result = runner.invoke(args=["verify-bundle", str(ops.bundle_path(handoff))])
    assert result.exit_code == 0 and "the bundle is intact" in result.output, result.output
    login_en(client, m.claimant)  # handed over: the complaint is final
    assert client.post(url, data={"court": str(court.id)}).status_code == 409


def test_no_complaint_before_the_court_stage_nor_after_the_hand_off(client, login_en, mediation, make_org):
    m = mediation
    court = make_org(type=OrgType.court, name="朝阳区人民法院")
    db.session.commit()
    url = f"/court/{m.case.number}/complaint"
    login_en(client, m.claimant)
    resp = client.get(url)  # still in mediation
    assert resp.status_code == 409 and "court hand-off stage" in resp.get_data(as_text=True)
    assert client.post(url, data={"court": str(court.id)}).status_code == 409
    with pytest.raises(ops.CourtError):
        complaints.prepare_complaint(m.case, m.claimant, court, "en")
    workflow.move(m.case, Stage.litigation, m.claimant)
    with pytest.raises(ops.CourtError):  # the respondent may not, even in operations
        complaints.prepare_complaint(m.case, m.respondent, court, "en")
    document = complaints.prepare_complaint(m.case, m.claimant, court, "en")
    db.session.commit()
    # The centre closes the case before the claimant signs: the signature is refused, not kept.
    workflow.move(m.case, Outcome.closed_without_result, m.staff)
    db.session.commit()
    key = BrowserKey()
    signing.send_code(document, m.claimant)
    prepared = signing.prepare(document, m.claimant, public_key=key.spki, stamp=drawing(),
                               viewed_sha256=document.current_sha256, code=last_code(m.claimant.contact))
    with pytest.raises(signing.SigningError):
        signing.finish(document, m.claimant, signature=key.sign(base64.b64encode(prepared.to_be_signed).decode()))
    db.session.rollback()
    assert client.get(url).status_code == 303  # closed: the waiting complaint is all there is to see
    assert client.post(url, data={"court": str(court.id)}).status_code == 409


def test_a_clerk_of_another_court_learns_nothing_of_the_complaint(client, login_en, mediation, make_org, make_user):
    m = failed(mediation)
    court = make_org(type=OrgType.court, name="朝阳区人民法院")
    other_clerk = make_user(Role.court_clerk, make_org(type=OrgType.court, name="海淀区人民法院"))
    db.session.commit()
    document = complaints.prepare_complaint(m.case, m.claimant, court, "en")
    sign_in_process(document, m.claimant)
    ops.hand_off(m.case, court, m.staff)
    db.session.commit()
    login_en(client, other_clerk)
    for path in (f"/court/{m.case.number}/complaint", f"/documents/{document.id}",
                 f"/documents/{document.id}/file.pdf"):
        assert client.get(path).status_code == 404
