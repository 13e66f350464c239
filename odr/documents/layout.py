"""What the PDF documents of a case share: their fixed words per language, dates as the parties
read them, party names, the audit-trail attachment, and rendering a ``templates/documents`` page.

A document is rendered in its own language, whatever language the person asking for it reads
the site in, so the fixed words live here (and in each document's module) per language rather
than in the translation catalog. :func:`words` merges the shared ones with a document's own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, render_template

from odr.cases import audit, court_identity
from odr.cases.models import Case, CaseParty, Category, Outcome, Side, Stage
from odr.documents.render import FONT_URL, render_pdf

LANGS = ("zh", "en")
AUDIT_TRAIL_NAME = "audit-trail.json"
AUDIT_TRAIL_TYPE = "application/json"

#: The words every document uses, per language.
COMMON = {
    "zh": {
        "html_lang": "zh-CN",
        "colon": "：",
        "comma": "，",
        "case_number": "案号",
        "signatures": "签名",
        "signature": "签名",
        "date": "日期",
        "seal": "（印章）",
        Side.claimant.value: "申请人",
        Side.respondent.value: "被申请人",
        "attachment": "本文件附有案件审计记录 audit-trail.json（PDF/A-3 关联文件）。",
        "id_number": "公民身份号码",
        "legal_name": "身份证件姓名",
        "assurance": "身份核验",
        "assurance_levels": {"counter": "工作人员当面查验居民身份证", "oidc": "经统一身份认证平台核验"},
        "category": {
            Category.neighbour: "邻里纠纷", Category.consumer: "消费纠纷", Category.property: "房屋或租赁纠纷",
            Category.labour: "劳动或工资纠纷", Category.traffic: "交通事故纠纷", Category.debt: "欠款或借贷纠纷",
            Category.family: "婚姻家庭纠纷", Category.other: "其他纠纷",
        },
        "stage": {
            Stage.consultation: "咨询", Stage.assessment: "评估", Stage.mediation: "调解",
            Stage.arbitration: "仲裁", Stage.litigation: "移交法院",
            Outcome.settled: "已和解", Outcome.award_issued: "已作出仲裁裁决",
            Outcome.handed_to_court: "已移交法院", Outcome.withdrawn: "已撤回",
            Outcome.closed_without_result: "已结案（未解决）",
        },
    },
    "en": {
        "html_lang": "en",
        "colon": ": ",
        "comma": ", ",
        "case_number": "Case number",
        "signatures": "Signatures",
        "signature": "Signature",
        "date": "Date",
        "seal": " (seal)",
        Side.claimant.value: "Claimant",
        Side.respondent.value: "Respondent",
        "attachment": "The case's audit trail is attached to this file as audit-trail.json (a PDF/A-3 associated file).",
        "id_number": "Resident ID number",
        "legal_name": "Name on the ID card",
        "assurance": "Identity verified",
        "assurance_levels": {"counter": "ID card checked in person by the centre's staff",
                             "oidc": "by an identity provider (OpenID Connect)"},
        "category": {
            Category.neighbour: "Neighbours", Category.consumer: "Consumer", Category.property: "Property or tenancy",
            Category.labour: "Labour or wages", Category.traffic: "Traffic accident", Category.debt: "Debt or loan",
            Category.family: "Family", Category.other: "Other",
        },
        "stage": {
            Stage.consultation: "Consultation", Stage.assessment: "Assessment", Stage.mediation: "Mediation",
            Stage.arbitration: "Arbitration", Stage.litigation: "Court hand-off",
            Outcome.settled: "Settled", Outcome.award_issued: "Award issued",
            Outcome.handed_to_court: "Handed to court", Outcome.withdrawn: "Withdrawn",
            Outcome.closed_without_result: "Closed without result",
        },
    },
}
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def document_lang(lang: str | None) -> str:
    """``zh`` or ``en`` (``zh_CN``, ``en-GB`` … reduce to their language; anything else is Chinese)."""
    lang = (lang or "zh").replace("-", "_").split("_")[0].lower()
    return lang if lang in LANGS else "zh"


def words(lang: str, own: dict) -> dict:
    """The shared words of ``lang`` with a document's own (``own[lang]``) on top."""
    return {**COMMON[lang], **own[lang]}


def written_date(day: date | None, lang: str) -> str:
    """A calendar date as a document writes it: 2026年11月2日, 2 November 2026."""
    if day is None:
        return ""
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def local_date(moment: datetime | None, lang: str) -> str:
    """A stored UTC time as the date it was where the platform runs (Beijing by default)."""
    if moment is None:
        return ""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return written_date(moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date(), lang)


def party_name(party: CaseParty | None) -> str:
    """The name a side goes by: its account's name once joined, else the name it was invited under."""
    if party is None:
        return ""
    return party.user.name if party.user is not None else party.name


def court_identity_fields(party: CaseParty | None, labels: dict) -> list[tuple[str, str]]:
    """The party's verified identity as a court document prints it: the name on the ID card when it
    differs from the account's, the full ID number and how it was verified (nothing when unverified).

    Only documents addressed to a court call this (:mod:`odr.cases.court_identity`).
    """
    found = court_identity.for_court(party.user if party is not None else None)
    if found is None:
        return []
    rows = []
    if found.legal_name and found.legal_name != party_name(party):
        rows.append((labels["legal_name"], found.legal_name))
    if found.id_number:
        rows.append((labels["id_number"], found.id_number))
    rows.append((labels["assurance"], labels["assurance_levels"].get(found.level, found.level)))
    return rows


def audit_trail(case: Case) -> bytes:
    """The case's whole audit chain as canonical JSON: each entry's hashed fields plus its hash.

    An entry's ``hash`` is SHA-256 over the canonical JSON of the entry without ``hash``
    (``odr.cases.audit.entry_fields``), so the chain can be checked from this file alone.
    """
    return audit.canonical_json([{**audit.entry_fields(ev), "hash": ev.hash} for ev in audit.case_events(case)])


def audit_attachment(case: Case) -> tuple[str, bytes, str]:
    """The audit trail as a :func:`~odr.documents.render.render_pdf` attachment."""
    return (AUDIT_TRAIL_NAME, audit_trail(case), AUDIT_TRAIL_TYPE)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: Width and height of each signer's box in the signature block (``div.signature-box#signature-<n>``).
SIGNATURE_BOX_MM = (60, 20)
#: Diameter of the round box for the organisation's seal (``div.seal-box#signature-seal``).
SEAL_BOX_MM = (42, 42)


@dataclass(frozen=True)
class Signer:
    """One row of a document's signature block (``templates/documents/base.html``)."""

    #: What the signer is in the document: 申请人, Presiding arbitrator …
    role: str
    name: str
    #: A line under the row, e.g. "Approved online on 2 November 2026".
    note: str = ""


#: Explicit bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069). Our
#: templates never use them, and in what people typed they can make a name or a sum read backwards
#: on paper; without them Arabic or Hebrew still reads right to left (the implicit bidi algorithm).
BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def document_html(template: str, labels: dict, *, case_number: str, **context) -> str:
    """``templates/documents/<template>`` rendered with the document's words and the bundled font.

    ``signers`` (a list of :class:`Signer`) and ``seal`` (who seals it) in ``context`` fill the
    signature block that ``base.html`` puts at the end of the document.
    """
    html = render_template(f"documents/{template}", labels=labels, font_url=FONT_URL,
                           case_number=case_number, **context)
    return html.translate(BIDI_CONTROLS)


def render_document(template: str, labels: dict, *, case_number: str, attachments=(), **context) -> bytes:
    """:func:`document_html` as PDF/A-3b with ``(name, bytes, mimetype)`` attachments."""
    return render_pdf(document_html(template, labels, case_number=case_number, **context), attachments)
