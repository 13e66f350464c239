"""PDF documents: an outcome document renders to PDF/A-3b in its own language with the bundled
font and carries the case's audit trail; the HTML can never read a local file or the network."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import zlib
from pathlib import Path

import pytest

from odr.cases import audit
from odr.mediate.outcomes import pdf as mediation_pdfs
from odr.documents.render import FONT_URL, FONTS, ForbiddenResource, render_pdf
from odr.extensions import db
from odr.mediate.outcomes import operations as outcomes
from odr.mediate.models import OutcomeDocument, OutcomeKind, OutcomeStatus
from odr.timeutil import utcnow

AGREEMENT = OutcomeKind.agreement
FONT_NAME = "Noto-Sans-SC-ODR-Subset"
ROOT = Path(__file__).resolve().parents[2]


def poppler(tool: str, *args, pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    return subprocess.run([tool, *args, str(path)], check=True, capture_output=True, text=True,
                          cwd=tmp_path).stdout


def inflated(pdf: bytes) -> bytes:
    """The PDF with every Flate stream inflated after it: the catalog hides in an object stream."""
    parts = [pdf]
    for start in re.finditer(rb"stream\r?\n", pdf):
        try:
            parts.append(zlib.decompressobj().decompress(pdf[start.end():]))
        except zlib.error:
            pass  # not a Flate stream
    return b"".join(parts)


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def chinese_agreement(m) -> OutcomeDocument:
    """The mediator saves the drafted agreement, sends it, and both parties approve it (case settled)."""
    content = outcomes.draft_content(m.case, AGREEMENT, "zh")
    doc = outcomes.save(m.case, AGREEMENT, m.mediator, {s["id"]: s["text"] for s in content["sections"]})
    outcomes.send(doc, m.case, m.mediator)
    outcomes.answer(doc, m.case, m.claimant, approve=True)
    outcomes.answer(doc, m.case, m.respondent, approve=True)
    db.session.commit()
    return doc


def english_draft(m, **texts) -> OutcomeDocument:
    # outcomes.save drafts its first version in Chinese, so an English draft is stored directly.
    content = outcomes.draft_content(m.case, AGREEMENT, "en")
    for section in content["sections"]:
        section["text"] = texts.get(section["id"], section["text"])
    doc = OutcomeDocument(case_id=m.case.id, kind=AGREEMENT, version=1, status=OutcomeStatus.draft,
                          content=content, author_id=m.mediator.id, created_at=utcnow())
    db.session.add(doc)
    db.session.commit()
    return doc


def test_a_chinese_agreement_reads_in_chinese(mediation_zh, tmp_path):
    doc = chinese_agreement(mediation_zh)
    assert doc.status is OutcomeStatus.approved
    text = text_of(mediation_pdfs.mediation_pdf(mediation_zh.case, doc), tmp_path)
    squeezed = re.sub(r"\s+", "", text)
    for phrase in ["朝阳区人民调解委员会", "人民调解协议书", "当事人", "申请人：张三", "被申请人：李四",
                   "纠纷的主要事实和争议事项", "楼上住户每晚十点后仍在装修", "经调解自愿达成的协议内容",
                   "人民调解员：李调解", f"案号：{mediation_zh.case.number}", "在线确认", "朝阳区人民调解委员会（印章）",
                   "协议的效力"]:
        assert phrase in squeezed, phrase
    assert "Mediation agreement" not in text
    assert "草稿" not in text  # approved: no status warning


def test_an_english_draft_reads_in_english_and_says_it_is_a_draft(mediation, tmp_path):
    doc = english_draft(mediation)
    text = text_of(mediation_pdfs.mediation_pdf(mediation.case, doc), tmp_path)
    squeezed = re.sub(r"\s+", " ", text)
    for phrase in ["Mediation agreement", "Claimant: Zhang San", "Respondent: Li Si", "Mediator: Mediator Li",
                   "What the parties have agreed", "The neighbours play loud music every night.",
                   f"Case number: {mediation.case.number}", "Draft: not yet put to the parties",
                   "朝阳区人民调解委员会"]:
        assert phrase in squeezed, phrase
    assert "调解协议书" not in text


def test_the_case_number_and_page_numbers_are_in_every_footer(mediation_zh, tmp_path):
    doc = english_draft(mediation_zh, facts="\n".join(["这是一段很长的事实陈述。"] * 60))
    pdf = mediation_pdfs.mediation_pdf(mediation_zh.case, doc)
    pages = text_of(pdf, tmp_path).split("\f")[:-1]
    assert len(pages) >= 2
    for n, page in enumerate(pages, 1):
        assert f"Case number: {mediation_zh.case.number}" in page
        assert re.search(rf"\b{n}\s*/\s*{len(pages)}\s*$", page)


def test_the_pdf_declares_pdf_a_3b(mediation, tmp_path):
    pdf = mediation_pdfs.mediation_pdf(mediation.case, english_draft(mediation))
    xmp = poppler("pdfinfo", "-meta", pdf=pdf, tmp_path=tmp_path)
    assert re.search(r"pdfaid:part(=\"|>)3\b", xmp)
    assert re.search(r"pdfaid:conformance(=\"|>)B\b", xmp)
    # The audit trail is an associated file of the document (PDF/A-3), listed once.
    objects = inflated(pdf)
    assert re.search(rb"/Type /Catalog.*?/AF \[\d+ 0 R\]", objects, re.S)
    assert b"/AFRelationship /Unspecified" in objects
    assert b"/Subtype /application#2fjson" in objects


def test_the_audit_trail_is_attached_and_its_chain_verifies(mediation_zh, tmp_path):
    case = mediation_zh.case
    pdf = mediation_pdfs.mediation_pdf(case, chinese_agreement(mediation_zh))
    assert "audit-trail.json" in poppler("pdfdetach", "-list", pdf=pdf, tmp_path=tmp_path)
    out = tmp_path / "attachments"
    out.mkdir()
    poppler("pdfdetach", "-saveall", "-o", str(out), pdf=pdf, tmp_path=tmp_path)
    raw = (out / "audit-trail.json").read_bytes()
    trail = json.loads(raw)

    events = audit.case_events(case)
    assert [e["seq"] for e in trail] == [ev.seq for ev in events]
    assert trail == [{**audit.entry_fields(ev), "hash": ev.hash} for ev in events]
    assert raw == audit.canonical_json(trail)
    assert {"outcome_saved", "outcome_sent", "outcome_answered", "outcome_approved"} <= {e["action"] for e in trail}
    # The chain checks from the file alone: each hash covers the entry and the previous hash.
    prev = audit.GENESIS
    for entry in trail:
        fields = {k: v for k, v in entry.items() if k != "hash"}
        assert entry["prev_hash"] == prev
        assert hashlib.sha256(audit.canonical_json(fields)).hexdigest() == entry["hash"]
        prev = entry["hash"]
    assert audit.verify_events(audit.chain_name(case), events) is None


def test_only_the_bundled_font_is_embedded(mediation_zh, tmp_path):
    pdf = mediation_pdfs.mediation_pdf(mediation_zh.case, chinese_agreement(mediation_zh))
    rows = poppler("pdffonts", pdf=pdf, tmp_path=tmp_path).splitlines()[2:]
    assert rows
    for row in rows:
        name, *_, emb, sub, uni, _obj, _gen = row.split()
        assert name.split("+")[-1].startswith(FONT_NAME), row  # no fallback to an installed font
        assert (emb, sub, uni) == ("yes", "yes", "yes"), row


def test_the_bundled_font_covers_level_1_hanzi_and_every_template_character():
    from fontTools.ttLib import TTFont

    font = FONTS / "NotoSansSC-subset.otf"
    assert font.stat().st_size < 3_000_000
    assert (FONTS / "OFL.txt").read_text().count("SIL OPEN FONT LICENSE Version 1.1") == 1
    with TTFont(font, lazy=True) as ttfont:
        cmap = ttfont.getBestCmap()
    level1 = {bytes([lead, trail]).decode("gb2312") for lead in range(0xB0, 0xD8) for trail in range(0xA1, 0xFF)
              if (lead, trail) < (0xD7, 0xFA)}
    assert len(level1) == 3755
    template_chars = set()
    for path in [*ROOT.glob("odr/mediate/data/*.yaml"), *ROOT.glob("templates/documents/*.html"),
                 *ROOT.glob("odr/documents/*.py"), ROOT / "odr/mediate/outcomes/pdf.py", ROOT / "odr/mediate/outcomes/confirmation.py",
                 ROOT / "odr/court/complaint.py"]:
        template_chars.update(c for c in path.read_text(encoding="utf-8") if c.isprintable())
    missing = "".join(sorted(c for c in level1 | template_chars if ord(c) not in cmap))
    assert not missing, f"run scripts/build-font-subset; the font lacks {missing!r}"


def page(body: str) -> str:
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>t</title><style>'
            f'@font-face {{ font-family: F; src: url("{FONT_URL}"); }} html {{ font-family: F; }}'
            f'</style></head><body><p>调解协议书</p>{body}</body></html>')


@pytest.mark.parametrize("body", [
    '<img src="file:///etc/passwd">',
    '<img src="FILE:///etc/passwd">',
    '<img src="http://example.com/x.png">',
    '<img src="https://example.com/x.png">',
    '<img src="//example.com/x.png">',
    '<img src="ftp://example.com/x.png">',
    '<img src="x.png">',  # relative: resolved against a base that is never fetched
    '<img src="/etc/passwd">',
    '<img src="odr-asset:../../../../etc/passwd">',
    '<link rel="stylesheet" href="file:///etc/passwd">',
    '<style>@import url("http://example.com/x.css");</style>',
    '<div style="background: url(file:///etc/passwd)">x</div>',
    '<style>@font-face { font-family: L; src: local("NotoSansCJKsc-Regular"); } p { font-family: L; }</style>',
    '<a rel="attachment" href="file:///etc/passwd">x</a>',
    '<object data="file:///etc/passwd"></object>',
    # WeasyPrint swallows errors inside SVG images; the refusal must still stop the rendering.
    '<svg xmlns="http://www.w3.org/2000/svg" width="50" height="50">'
    '<image width="50" height="50" href="file:///etc/passwd"/></svg>',
])
def test_the_html_cannot_read_local_files_or_the_network(body):
    with pytest.raises(ForbiddenResource):
        render_pdf(page(body))


def test_data_urls_and_the_bundled_font_are_allowed(tmp_path):
    png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    pdf = render_pdf(page(f'<img src="data:image/png;base64,{png}" width="10" height="10">'))
    assert pdf.startswith(b"%PDF-")
    assert "调解协议书" in text_of(pdf, tmp_path)


def test_what_the_mediator_writes_is_text_not_html(mediation, tmp_path):
    doc = english_draft(mediation, terms='<img src="file:///etc/passwd"> <b>bold</b>')
    text = text_of(mediation_pdfs.mediation_pdf(mediation.case, doc), tmp_path)
    assert '<img src="file:///etc/passwd"> <b>bold</b>' in text
