"""Consultation pages: attachments checked by content, consultation → case, knowledge-base search."""

import io

import pytest
import sqlalchemy as sa

from odr.auth.models import Role
from odr.cases.models import Case, Category, Stage
from odr.consult import kb
from odr.consult import operations as ops
from odr.consult.models import ConsultAttachment, Consultation
from odr.extensions import db
from tests.test_permissions import PNG


@pytest.fixture
def active(make_user):
    asker, consultant = make_user(name="Asker"), make_user(Role.consultant)
    consultation = ops.start(asker, "Landlord keeps my deposit", Category.property)
    ops.take(consultation, consultant)
    db.session.commit()
    return asker, consultant, consultation


@pytest.mark.parametrize("content, name, status", [
    (PNG, "photo.png", 201),
    (b"%PDF-1.7\n%\xe2\xe3\n1 0 obj<<>>endobj\n", "contract.pdf", 201),
    (b"MZ\x90\x00" + b"\x00" * 100, "photo.png", 422),          # a Windows program named like a photo
    (b"<svg onload=alert(1)>", "x.svg", 422),
    (b"", "empty.png", 422),
    (PNG + b"\x00" * 200_000, "huge.png", 413),
])
def test_attachments_are_checked_by_content(app, client, login, active, content, name, status):
    app.config["CONSULT_ATTACHMENT_MAX_BYTES"] = 100_000  # small, so the test needs no large upload
    asker, _consultant, consultation = active
    login(client, asker)
    with client.post(f"/consult/c/{consultation.id}/attachments",
                     data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data") as resp:
        resp.get_data()
    assert resp.status_code == status
    count = db.session.scalar(sa.select(sa.func.count(ConsultAttachment.id)))
    assert count == (1 if status == 201 else 0)
    if status == 201:
        att = resp.get_json()
        with client.get(att["url"]) as got:
            assert got.status_code == 200 and got.get_data() == content
        assert got.headers["X-Content-Type-Options"] == "nosniff"
    else:
        assert resp.content_type == "application/problem+json"


def test_hostile_file_names_are_cleaned(client, login, active):
    asker, _consultant, consultation = active
    login(client, asker)
    resp = client.post(f"/consult/c/{consultation.id}/attachments",
                       data={"file": (io.BytesIO(PNG), "../../etc/pass\x00wd.exe")},
                       content_type="multipart/form-data")
    assert resp.status_code == 201
    assert resp.get_json()["filename"] == "pass_wd.png"


def test_consultation_turns_into_a_prefilled_case_at_assessment(client, login, active):
    asker, consultant, consultation = active
    ops.post_message(consultation, asker, "m1", "搬走时房东说墙面脏了，扣了全部6000元押金。")
    ops.post_message(consultation, consultant, "c1", "请保留租房合同和转账记录。")
    db.session.commit()
    login(client, asker)
    form = client.get(f"/consult/c/{consultation.id}/case").get_data(as_text=True)
    assert "扣了全部6000元押金" in form and "请保留租房合同" not in form
    resp = client.post(f"/consult/c/{consultation.id}/case", data={
        "category": "property", "description": "Landlord keeps my whole 6000 yuan deposit.",
        "claim": "Return the deposit", "amount_claimed": "6000", "district": "海淀区",
        "respondent_name": "Landlord", "respondent_phone": "13900139000"})
    assert resp.status_code == 303 and "/assess/" in resp.location
    case = db.session.scalar(sa.select(Case))
    db.session.refresh(consultation)
    assert consultation.case_id == case.id and case.stage is Stage.assessment
    # Twice is not two cases.
    assert client.get(f"/consult/c/{consultation.id}/case").status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == 1
    login(client, consultant)
    assert client.get(f"/consult/c/{consultation.id}/case").status_code == 403


def test_one_open_consultation_at_a_time_and_rating_after_the_end(client, login, active):
    asker, _consultant, consultation = active
    login(client, asker)
    again = client.post("/consult/", data={"topic": "Another question", "category": "debt"})
    assert again.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Consultation.id))) == 1
    assert client.post(f"/consult/c/{consultation.id}/rate", data={"stars": "5"}).status_code == 409
    client.post(f"/consult/c/{consultation.id}/end")
    assert client.post(f"/consult/c/{consultation.id}/rate", data={"stars": "9"}).status_code == 400
    assert client.post(f"/consult/c/{consultation.id}/rate", data={"stars": "4", "comment": "清楚"}).status_code == 303
    db.session.refresh(consultation)
    assert consultation.rating == 4 and consultation.rating_comment == "清楚"


def test_knowledge_base_ships_bilingual_articles_and_finds_chinese_and_english(app):
    assert kb.import_folder() >= 64
    db.session.commit()
    zh = [h.article.slug for h in kb.search("押金不退", "zh")]
    en = [h.article.slug for h in kb.search("deposit", "en")]
    assert zh and zh[0] == "tenancy-deposit"
    assert "tenancy-deposit" in en[:3]
    assert kb.search("工资", "zh")[0].article.category is Category.labour
    assert kb.search("%_%", "zh") == [] and kb.search("", "en") == []
    html = str(kb.render("## 标题\n\n<script>alert(1)</script>\n\n- 一\n- 二"))
    assert "<h2>" in html and "<script>" not in html
