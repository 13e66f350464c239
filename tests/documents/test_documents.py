"""The arbitral award, the application for judicial confirmation and the case cover and index:
each renders to PDF/A-3b in Chinese and in English, says what it must, carries the case's audit
trail, and takes hostile text as text without losing its layout."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from pathlib import Path

import pytest

from odr.cases import audit
from odr.cases.models import Side
from odr import samples
from odr.documents.award import Arbitrator, ArbitratorRole, AwardParty, render_award
from odr.documents.case_index import FileEntry, pdf_page_count, render_case_index
from odr.documents.layout import SIGNATURE_BOX_MM, Signer
from odr.documents.render import render_pdf
from odr.extensions import db
from odr.mediate.outcomes import operations as outcomes
from odr.mediate.outcomes.confirmation import NoApprovedAgreement, PartyIdentity, render_judicial_confirmation
from odr.mediate.outcomes.pdf import mediation_pdf
from tests.documents.test_render import chinese_agreement, english_draft, inflated, poppler, text_of

COURT = {"zh": "北京市朝阳区人民法院", "en": "Chaoyang District People's Court, Beijing"}
HOSTILE_NAME = '<script>alert(1)</script><img src="file:///etc/passwd">&amp; مرحبا 😀'
#: A token with no place to break: it must wrap inside the page, not run off it.
UNBROKEN = "长" * 300 + "x" * 300


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def spaced(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def is_pdf_a_3b(pdf: bytes, tmp_path: Path) -> bool:
    xmp = poppler("pdfinfo", "-meta", pdf=pdf, tmp_path=tmp_path)
    return bool(re.search(r"pdfaid:part(=\"|>)3\b", xmp) and re.search(r"pdfaid:conformance(=\"|>)B\b", xmp))


def attachments(pdf: bytes, tmp_path: Path) -> dict[str, bytes]:
    out = tmp_path / "attachments"
    out.mkdir(exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    poppler("pdfdetach", "-saveall", "-o", str(out), pdf=pdf, tmp_path=tmp_path)
    return {p.name: p.read_bytes() for p in out.iterdir()}


def assert_audit_trail_attached(pdf: bytes, case, tmp_path: Path) -> None:
    files = attachments(pdf, tmp_path)
    trail = json.loads(files["audit-trail.json"])
    assert trail == [{**audit.entry_fields(ev), "hash": ev.hash} for ev in audit.case_events(case)]
    assert trail and trail[0]["action"] == "case_filed"


def words_outside_the_text_area(pdf: bytes, tmp_path: Path) -> list[str]:
    """Words whose box leaves the page's text area (A4, margins 25 mm left, 22 mm right)."""
    path = tmp_path / "bbox.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(["pdftotext", "-bbox", "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "<word " in html
    mm = 72 / 25.4
    outside = []
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', html, re.S):
        width = float(page.group(1))
        for word in re.finditer(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>(.*?)</word>',
                                page.group(3)):
            if float(word.group(1)) < 25 * mm - 1 or float(word.group(2)) > width - 22 * mm + 1:
                outside.append(word.group(3))
    return outside


def approved_agreement(m, lang: str):
    """The mediation agreement of ``m``'s case in ``lang``, approved by both parties (and put up
    for signing; the case settles once everyone signed)."""
    if lang == "zh":
        return chinese_agreement(m)
    document = english_draft(m)
    outcomes.send(document, m.case, m.mediator)
    outcomes.answer(document, m.case, m.claimant, approve=True)
    outcomes.answer(document, m.case, m.respondent, approve=True)
    db.session.commit()
    return document


@pytest.fixture(params=["zh", "en"])
def lang(request):
    return request.param


@pytest.fixture
def mediated(lang, request):
    """A case in mediation with names in the language of the test (Chinese or English)."""
    return request.getfixturevalue("mediation_zh" if lang == "zh" else "mediation")


# --- the arbitral award ---------------------------------------------------------------------------

AWARD_PHRASES = {
    "zh": ["北京仲裁委员会", "裁决书", "（2026）京仲裁字第0123号", "申请人：张三", "委托代理人：王律师",
           "被申请人：北京某物业管理有限公司", "一、仲裁程序", "二、仲裁请求", "三、被申请人答辩意见",
           "四、仲裁庭查明的事实", "五、仲裁庭意见", "六、裁决", "七、仲裁费用的负担",
           "仲裁庭裁决如下", "返还物业服务费人民币3,600元", "本裁决为终局裁决，自作出之日起发生法律效力。",
           "首席仲裁员：周明", "仲裁员：陈静", "仲裁员：刘洋", "书记员：赵敏", "2026年11月2日于北京市作出",
           "北京仲裁委员会（印章）", "案号：（2026）京仲裁字第0123号"],
    "en": ["Beijing Arbitration Commission", "Arbitral award", "(2026) Jing Arb. No. 0123", "Claimant: Zhang San",
           "Agent: Wang, lawyer at Anzhen Law Firm", "Respondent: Beijing Property Management Ltd.", "1. Procedure",
           "2. Claims", "3. The respondent's defence", "4. Facts found by the tribunal", "5. The tribunal's reasons",
           "6. Award", "7. Costs of the arbitration", "the tribunal awards as follows",
           "repay the claimant CNY 3,600", "This award is final and binding from the day it is made.",
           "Sole arbitrator: Zhou Ming", "Made on 2 November 2026 at Beijing",
           "Beijing Arbitration Commission (seal)", "Case number: (2026) Jing Arb. No. 0123"],
}


def test_an_award_reads_in_its_language_and_is_pdf_a_3b(app, lang, tmp_path):
    pdf = render_award(samples.sample_award(lang))
    assert is_pdf_a_3b(pdf, tmp_path)
    text = text_of(pdf, tmp_path)
    found = squeezed(text) if lang == "zh" else spaced(text)
    for phrase in AWARD_PHRASES[lang]:
        assert (squeezed(phrase) if lang == "zh" else phrase) in found, phrase
    other = "裁决书" if lang == "en" else "Arbitral award"
    assert other not in text
    assert attachments(pdf, tmp_path) == {}  # about no case of the platform: nothing attached
    assert not words_outside_the_text_area(pdf, tmp_path)


def test_an_award_about_a_case_carries_its_audit_trail(mediation_zh, tmp_path):
    pdf = render_award(samples.sample_award("zh"), case=mediation_zh.case)
    assert is_pdf_a_3b(pdf, tmp_path)
    assert_audit_trail_attached(pdf, mediation_zh.case, tmp_path)
    assert "audit-trail.json" in text_of(pdf, tmp_path)


def test_the_presiding_arbitrator_signs_first_and_empty_parts_are_left_out(app, tmp_path):
    content = dataclasses.replace(
        samples.sample_award("zh"), procedure="", defence="", secretary="",
        arbitrators=(Arbitrator("陈静", ArbitratorRole.member), Arbitrator("周明", ArbitratorRole.presiding),
                     Arbitrator("刘洋", ArbitratorRole.member)))
    text = squeezed(text_of(render_award(content), tmp_path))
    assert text.index("首席仲裁员：周明") < text.index("仲裁员：陈静") < text.index("仲裁员：刘洋")
    assert "仲裁程序" not in text and "答辩意见" not in text and "书记员" not in text
    assert "一、仲裁请求" in text and "四、裁决" in text  # numbered without the missing parts


# --- the application for judicial confirmation -----------------------------------------------------

CONFIRMATION_PHRASES = {
    "zh": ["司法确认申请书", "申请人（1）：张三（调解中的申请人）", "申请人（2）：李四（调解中的被申请人）",
           "公民身份号码110105198001010011", "请求事项", "请求北京市朝阳区人民法院依法确认申请人",
           "经朝阳区人民调解委员会主持调解达成的《人民调解协议书》", "事实与理由", "邻里纠纷",
           "《中华人民共和国人民调解法》第三十三条", "三十日内共同提出本申请", "申请人承诺",
           "自愿达成调解协议，没有恶意串通、规避法律的行为", "愿意承担相应的民事责任", "此致北京市朝阳区人民法院",
           "申请人（1）：张三", "人民调解员李调解", "经调解自愿达成的协议内容"],
    "en": ["Application for judicial confirmation of a mediation agreement",
           "Applicant (1): Zhang San (Claimant in the mediation)", "Applicant (2): Li Si (Respondent in the mediation)",
           "Identity card", "110105198001010011", "Request", "The applicants ask Chaoyang District People's Court, "
           "Beijing to confirm as valid the Mediation agreement", "Facts and reasons", "(Neighbours)",
           "Article 33 of the People's Mediation Law", "within thirty days", "The applicants' statement",
           "of our own free will to settle our dispute, without collusion", "we accept the civil and other legal liability",
           "Chaoyang District People's Court, Beijing", "Mediator Mediator Li", "What the parties have agreed"],
}


def test_an_application_for_judicial_confirmation_reads_in_its_language(mediated, lang, tmp_path):
    case = mediated.case
    document = approved_agreement(mediated, lang)
    agreement_pdf = mediation_pdf(case, document)
    identity = PartyIdentity(id_number="110105198001010011", address="北京市朝阳区安贞里一号楼")
    # How long it takes is bench/pdf.py's business, not a test's (a loaded machine is slower).
    pdf = render_judicial_confirmation(case, COURT[lang], lang, identities={Side.claimant: identity},
                                       agreement_pdf=agreement_pdf)
    assert is_pdf_a_3b(pdf, tmp_path)
    text = text_of(pdf, tmp_path)
    found = squeezed(text) if lang == "zh" else spaced(text)
    for phrase in CONFIRMATION_PHRASES[lang]:
        assert (squeezed(phrase) if lang == "zh" else phrase) in found, phrase
    assert case.number in text
    # The agreement: its reference, content digest and the signed PDF's digest, and the PDF itself attached.
    assert f"{case.number} {'第1版' if lang == 'zh' else 'version 1'}" in spaced(text)
    assert outcomes.content_digest(document.content) in squeezed(text)
    assert __import__("hashlib").sha256(agreement_pdf).hexdigest() in squeezed(text)
    files = attachments(pdf, tmp_path)
    assert files["mediation-agreement.pdf"] == agreement_pdf
    assert_audit_trail_attached(pdf, case, tmp_path)
    assert not words_outside_the_text_area(pdf, tmp_path)


def test_without_the_signed_pdf_the_application_says_it_is_handed_in_separately(mediation_zh, tmp_path):
    approved_agreement(mediation_zh, "zh")
    pdf = render_judicial_confirmation(mediation_zh.case, COURT["zh"], "zh")
    text = squeezed(text_of(pdf, tmp_path))
    assert "已签署的协议PDF文件随本申请另行提交" in text
    assert set(attachments(pdf, tmp_path)) == {"audit-trail.json"}
    # Identity details not known to the platform are blank lines to fill in by hand; the phone invited is given.
    assert "联系电话+8613900139000" in text


def test_only_an_agreement_both_parties_approved_can_be_confirmed(mediation, make_org):
    with pytest.raises(NoApprovedAgreement):
        render_judicial_confirmation(mediation.case, COURT["en"], "en")
    english_draft(mediation)
    with pytest.raises(NoApprovedAgreement):
        render_judicial_confirmation(mediation.case, COURT["en"], "en")


# --- the case cover and index ------------------------------------------------------------------------

INDEX_PHRASES = {
    "zh": ["案件卷宗", "案号", "纠纷类型邻里纠纷", "申请人：张三", "被申请人：李四", "受理机构朝阳区人民调解委员会",
           "人民调解员李调解", "当前状态已和解", "阶段记录", "立案（咨询）", "评估", "调解", "结案：已和解",
           "目录", "序号", "页数", "大小", "共3个文件"],
    "en": ["Case file", "Kind of dispute Neighbours", "Claimant: Zhang San", "Respondent: Li Si",
           "Organisation 朝阳区人民调解委员会", "Mediator Mediator Li", "State Settled", "Stages",
           "Filed (Consultation)", "Assessment", "Mediation", "Closed: Settled", "Contents", "No.", "Pages", "Size",
           "3 file(s)."],
}


def test_a_case_index_lists_the_case_and_every_file(mediated, lang, tmp_path):
    case = mediated.case
    agreement = approved_agreement(mediated, lang)
    outcomes.settle(agreement, case)  # what the sealing of the signed agreement does (tests/documents/test_signing.py)
    db.session.commit()
    agreement_pdf = mediation_pdf(case, agreement)
    files = [FileEntry.of("documents/mediation-agreement.pdf", agreement_pdf, "调解协议书" if lang == "zh" else "Agreement"),
             FileEntry.of("evidence/photo.jpg", b"\xff\xd8" + b"\0" * 1_500_000, "照片" if lang == "zh" else "Photo"),
             FileEntry.of("case.json", b"{}")]
    assert files[0].pages == 2 and files[1].pages is None
    pdf = render_case_index(case, files, lang)
    assert is_pdf_a_3b(pdf, tmp_path)
    text = text_of(pdf, tmp_path)
    found = squeezed(text) if lang == "zh" else spaced(text)
    for phrase in INDEX_PHRASES[lang]:
        assert (squeezed(phrase) if lang == "zh" else phrase) in found, phrase
    assert case.number in text
    pages = text.split("\f")
    assert "documents/mediation-agreement.pdf" not in pages[0]  # the contents start on a page of their own
    for entry in files:
        assert entry.name in text and entry.sha256 in squeezed(text)
    assert re.search(r"mediation-agreement\.pdf\s+2\s+\d+\.\d KB", text)
    assert "1.4MB" in squeezed(text) and "2B" in squeezed(text)
    assert_audit_trail_attached(pdf, case, tmp_path)
    assert not words_outside_the_text_area(pdf, tmp_path)


def test_a_long_index_repeats_its_header_and_numbers_every_page(mediation_zh, tmp_path):
    files = [FileEntry.of(f"evidence/file-{n:03}.bin", str(n).encode(), f"证据{n}") for n in range(1, 81)]
    text = text_of(render_case_index(mediation_zh.case, files, "zh"), tmp_path)
    pages = text.split("\f")[:-1]
    assert len(pages) >= 4
    for n, page in enumerate(pages[1:], 2):
        assert re.search(r"序号\s+文件\s+页数\s+大小", page), n
        assert re.search(rf"\b{n}\s*/\s*{len(pages)}\s*$", page)
    assert "evidence/file-080.bin" in pages[-1] and "共80个文件" in squeezed(pages[-1])


def test_the_layout_check_sees_text_that_leaves_the_page(app, tmp_path):
    wide = render_pdf(f'<html><body><p style="white-space: nowrap">{"wide " * 80}</p></body></html>')
    assert words_outside_the_text_area(wide, tmp_path)


def test_pages_are_counted_from_the_page_tree(app):
    page = '<p style="break-after: page">x</p>'
    assert pdf_page_count(render_pdf(f"<html><body>{page * 4}<p>y</p></body></html>")) == 5
    assert pdf_page_count(b"%PDF-1.7 nothing here") is None
    assert pdf_page_count(b"\x89PNG\r\n") is None


# --- hostile text ---------------------------------------------------------------------------------

def test_hostile_text_in_an_award_is_text_and_stays_on_the_page(app, tmp_path):
    long_text = "\n".join(["仲裁庭认为，这是一段很长的说理。" * 8] * 40)
    content = dataclasses.replace(
        samples.sample_award("zh"), commission=HOSTILE_NAME, case_number=HOSTILE_NAME[:40],
        parties=(AwardParty(Side.claimant, HOSTILE_NAME, UNBROKEN, (HOSTILE_NAME,)),
                 AwardParty(Side.respondent, "‮evil RTL override", "")),
        reasoning=long_text + UNBROKEN, decision=tuple(f"第{n}项：{HOSTILE_NAME}" for n in range(30)))
    pdf = render_award(content)
    assert is_pdf_a_3b(pdf, tmp_path)
    text = text_of(pdf, tmp_path)
    assert "<script>alert(1)</script>" in text and '<img src="file:///etc/passwd">&amp;' in text
    assert squeezed(UNBROKEN) in squeezed(text)
    assert "evil RTL override" in text  # the override character is dropped: the name cannot read backwards
    assert len(text.split("\f")) > 5
    assert not words_outside_the_text_area(pdf, tmp_path)


def test_hostile_names_in_the_case_documents_are_text_and_stay_on_the_page(mediation, tmp_path):
    case = mediation.case
    mediation.claimant.name = HOSTILE_NAME
    case.organization.name = HOSTILE_NAME
    case.claim = UNBROKEN
    db.session.commit()
    document = english_draft(mediation, terms=f"{HOSTILE_NAME}\n{UNBROKEN}\n" + "Pay on time. " * 600)
    outcomes.send(document, case, mediation.mediator)
    outcomes.answer(document, case, mediation.claimant, approve=True)
    outcomes.answer(document, case, mediation.respondent, approve=True)
    db.session.commit()
    agreement_pdf = mediation_pdf(case, document)
    identity = PartyIdentity(address=UNBROKEN, id_number=HOSTILE_NAME)
    for pdf in (render_judicial_confirmation(case, HOSTILE_NAME, "en", identities={Side.claimant: identity},
                                             agreement_pdf=agreement_pdf),
                render_case_index(case, [FileEntry.of(f"{HOSTILE_NAME}/{UNBROKEN}", b"x", HOSTILE_NAME)], "en")):
        assert is_pdf_a_3b(pdf, tmp_path)
        text = text_of(pdf, tmp_path)
        assert "<script>alert(1)</script>" in text
        assert squeezed(UNBROKEN) in squeezed(text)
        assert not words_outside_the_text_area(pdf, tmp_path)
        assert_audit_trail_attached(pdf, case, tmp_path)


# --- shared layout and the sample command -----------------------------------------------------------

def signature_destinations(pdf: bytes) -> dict[str, tuple[int, float, float]]:
    """The named destinations of the signature boxes: id → (page object number, left, top) in points."""
    data = inflated(pdf)
    return {m.group(1).decode(): (int(m.group(2)), float(m.group(3)), float(m.group(4)))
            for m in re.finditer(rb"\((signature-[\w-]+)\) \[(\d+) 0 R /XYZ ([\d.]+) ([\d.]+) 0\]", data)}


@pytest.mark.parametrize("kind", ["award", "confirmation", "agreement", "complaint"])
def test_the_signature_boxes_can_be_found_in_the_pdf_on_one_page_one_under_the_other(runner, kind, tmp_path):
    out = tmp_path / f"{kind}.pdf"
    assert runner.invoke(args=["documents", "sample", kind, "-o", str(out)]).exit_code == 0
    pdf = out.read_bytes()
    boxes = signature_destinations(pdf)
    # arbitrators + clerk; applicants; parties + mediator; the plaintiff
    expected = {"award": 4, "confirmation": 2, "agreement": 3, "complaint": 1}[kind]
    assert sorted(boxes) == sorted([f"signature-{n}" for n in range(1, expected + 1)]
                                   + (["signature-seal"] if kind not in ("confirmation", "complaint") else []))
    mm = 72 / 25.4
    width, height = SIGNATURE_BOX_MM[0] * mm, SIGNATURE_BOX_MM[1] * mm
    pages = {page for page, _, _ in boxes.values()}
    assert len(pages) == 1  # the block is never split across pages
    rows = [boxes[f"signature-{n}"] for n in range(1, expected + 1)]
    for (_, left, top), (_, _, next_top) in zip(rows, rows[1:]):
        assert top - next_top >= height  # one under the other, not overlapping
    for _, left, top in rows:
        assert 25 * mm - 1 <= left and left + width <= 595.28 - 22 * mm + 1 and top - height >= 22 * mm

def test_signature_boxes_are_numbered_in_signing_order_and_the_seal_follows(app):
    from flask import render_template

    from odr.documents.layout import COMMON

    html = render_template("documents/base.html", labels=COMMON["zh"], font_url="", case_number="X",
                           signers=[Signer("申请人", "甲"), Signer("被申请人", "乙", "已确认")], seal="某委员会")
    assert html.index('id="signature-1"') < html.index('id="signature-2"') < html.index('id="signature-seal"')
    assert "已确认" in html and "某委员会（印章）" in html
    assert "id=\"signatures\"" not in render_template("documents/base.html", labels=COMMON["zh"], font_url="",
                                                    case_number="X")


@pytest.mark.parametrize("kind", samples.KINDS)
def test_the_sample_command_writes_each_document_and_leaves_the_database_alone(runner, kind, tmp_path):
    from odr.cases.models import Case

    out = tmp_path / f"{kind}.pdf"
    result = runner.invoke(args=["documents", "sample", kind, "-o", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-") and is_pdf_a_3b(out.read_bytes(), tmp_path)
    assert db.session.scalar(db.select(db.func.count()).select_from(Case)) == 0
