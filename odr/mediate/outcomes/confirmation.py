"""The application for judicial confirmation of a mediation agreement (司法确认申请书) as PDF/A-3b.

Once a people's mediation agreement takes effect, both parties may apply together, within thirty
days, to a court to confirm it (《中华人民共和国人民调解法》 第三十三条 and the special procedure for
confirming mediation agreements of 《中华人民共和国民事诉讼法》); a confirmed agreement can be
enforced. The application names both applicants with their identity details, the mediation
organisation, the agreement (its reference, date and the SHA-256 of its signed PDF), the court,
the request, and the applicants' statement that they reached the agreement of their own free
will and lawfully; both sign it. The case's audit trail is attached, and the signed agreement
too when given.

Rendered in its own language (``lang``), like every document (see ``odr.documents.layout``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from odr.cases.models import Case, Side
from odr.documents import layout
from odr.documents.layout import Signer
from odr.mediate.models import OutcomeDocument, OutcomeKind, OutcomeStatus
from odr.mediate.outcomes.operations import content_digest, current_document
from odr.refusal import Refused

logger = logging.getLogger(__name__)

AGREEMENT_PDF_NAME = "mediation-agreement.pdf"
#: The agreement's sections quoted in the application (what was agreed, not the whole text).
QUOTED_SECTIONS = ("terms", "payment")


class NoApprovedAgreement(Refused):
    """The case has no mediation agreement approved by both parties to confirm."""


@dataclass(frozen=True)
class PartyIdentity:
    """What a court asks of an applicant beyond the name; blanks are left to fill in by hand."""

    gender: str = ""
    #: Date of birth, or for an organisation its legal representative.
    born: str = ""
    ethnicity: str = ""
    id_number: str = ""
    address: str = ""
    phone: str = ""


LABELS = {
    "zh": {
        "title": "司法确认申请书",
        "applicant": "申请人（{n}）",
        "identity": [("gender", "性别"), ("born", "出生日期"), ("ethnicity", "民族"), ("id_number", "公民身份号码"),
                     ("address", "住所"), ("phone", "联系电话")],
        "side_in_mediation": "（调解中的{side}）",
        "request": "请求事项",
        "request_text": ("请求{court}依法确认申请人于{date}经{organisation}主持调解达成的《{title}》"
                         "（编号：{reference}）有效。"),
        "facts": "事实与理由",
        "facts_text": ("申请人因{category}，于{date}在{organisation}的主持下，经调解自愿达成调解协议，"
                       "协议已由双方当事人在线确认。根据《中华人民共和国人民调解法》第三十三条及"
                       "《中华人民共和国民事诉讼法》关于确认调解协议案件的规定，双方当事人自调解协议生效之日起"
                       "三十日内共同提出本申请。调解协议的主要内容如下："),
        "agreement": "调解协议",
        "reference": "编号",
        "agreement_date": "生效日期",
        "organisation": "调解组织",
        "mediator": "人民调解员",
        "content_digest": "协议内容摘要（SHA-256）",
        "pdf_digest": "已签署协议 PDF 文件摘要（SHA-256）",
        "pdf_missing": "（已签署的协议 PDF 文件随本申请另行提交）",
        "statement": "申请人承诺",
        "statements": [
            "申请人出于解决纠纷的目的自愿达成调解协议，没有恶意串通、规避法律的行为；",
            "调解协议的内容不违反法律、行政法规的强制性规定，不损害国家利益、社会公共利益和他人合法权益；",
            "如果因为该协议内容而给他人造成损害的，愿意承担相应的民事责任和其他法律责任；",
            "申请人提交的材料和陈述真实、合法、完整。",
        ],
        "to": "此致",
        "enclosures": "附：调解协议书一份；案件审计记录 audit-trail.json（PDF/A-3 关联文件）。",
        "enclosures_pdf": "附：调解协议书一份（mediation-agreement.pdf）；案件审计记录 audit-trail.json（均为 PDF/A-3 关联文件）。",
        "signer": "申请人（{n}）",
        "version": "第{version}版",
    },
    "en": {
        "title": "Application for judicial confirmation of a mediation agreement",
        "applicant": "Applicant ({n})",
        "identity": [("gender", "Sex"), ("born", "Date of birth"), ("ethnicity", "Ethnicity"),
                     ("id_number", "Identity card number"), ("address", "Address"), ("phone", "Telephone")],
        "side_in_mediation": " ({side} in the mediation)",
        "request": "Request",
        "request_text": ("The applicants ask {court} to confirm as valid the {title} (reference {reference}) "
                         "that they reached on {date} in mediation by {organisation}."),
        "facts": "Facts and reasons",
        "facts_text": ("The applicants were in a dispute ({category}). On {date}, in mediation by {organisation}, "
                       "they reached an agreement of their own free will, which both approved online. "
                       "Under Article 33 of the People's Mediation Law of the People's Republic of China and the "
                       "Civil Procedure Law's provisions on confirming mediation agreements, they apply together "
                       "within thirty days of the agreement taking effect. What they agreed:"),
        "agreement": "The mediation agreement",
        "reference": "Reference",
        "agreement_date": "In effect since",
        "organisation": "Mediation organisation",
        "mediator": "Mediator",
        "content_digest": "Digest of the agreement's content (SHA-256)",
        "pdf_digest": "Digest of the signed agreement PDF (SHA-256)",
        "pdf_missing": "(the signed agreement PDF is handed in with this application)",
        "statement": "The applicants' statement",
        "statements": [
            "We reached the mediation agreement of our own free will to settle our dispute, without collusion "
            "and without evading the law;",
            "The agreement does not break any mandatory provision of laws or administrative regulations and does "
            "not harm the interests of the State, the public or anyone else;",
            "Should the agreement harm anyone, we accept the civil and other legal liability for it;",
            "What we hand in and state is true, lawful and complete.",
        ],
        "to": "To",
        "enclosures": "Enclosed: the mediation agreement; the case's audit trail audit-trail.json (a PDF/A-3 associated file).",
        "enclosures_pdf": ("Enclosed: the mediation agreement (mediation-agreement.pdf) and the case's audit trail "
                           "audit-trail.json, both PDF/A-3 associated files."),
        "signer": "Applicant ({n})",
        "version": "version {version}",
    },
}


def approved_agreement(case: Case) -> OutcomeDocument:
    """The case's mediation agreement as both parties approved it.

    :raise NoApprovedAgreement: none, or its latest version is not approved.
    """
    document = current_document(case, OutcomeKind.agreement)
    if document is None or document.status is not OutcomeStatus.approved:
        raise NoApprovedAgreement(_l("This case has no mediation agreement approved by both parties."))
    return document


def agreement_reference(case: Case, document: OutcomeDocument, lang: str) -> str:
    """How the application names the agreement: the case number and the version both parties approved."""
    return f"{case.number} {LABELS[lang]['version'].format(version=document.version)}"


def applicants(case: Case, identities: dict, labels: dict) -> list[dict]:
    rows = []
    for n, side in enumerate((Side.claimant, Side.respondent), 1):
        party = case.party(side)
        # A verified party's full ID number and how it was verified: the court reads them here.
        verified = layout.court_identity_fields(party, labels)
        number = next((value for label, value in verified if label == labels["id_number"]), "")
        identity = identities.get(side) or PartyIdentity(phone=(party.phone or "") if party is not None else "",
                                                         id_number=number)
        fields = [(label, getattr(identity, key)) for key, label in labels["identity"]]
        fields += [(label, value) for label, value in verified if label != labels["id_number"]]
        rows.append({"heading": labels["applicant"].format(n=n), "name": layout.party_name(party),
                     "side": labels["side_in_mediation"].format(side=labels[side.value]), "fields": fields})
    return rows


def render_judicial_confirmation(case: Case, court_name: str, lang: str, *,
                                 identities: dict[Side, PartyIdentity] | None = None,
                                 agreement_pdf: bytes | None = None, on: date | None = None) -> bytes:
    """The application for judicial confirmation of the case's approved mediation agreement, as PDF/A-3b.

    ``identities`` gives the applicants' identity details by side (blank lines where missing);
    ``agreement_pdf`` is the signed agreement: its SHA-256 is printed and the file attached next
    to the audit trail. ``on`` is the date written under the signatures (blank: filled by hand).

    :raise NoApprovedAgreement: the case has no agreement both parties approved.
    """
    lang = layout.document_lang(lang)
    labels = layout.words(lang, LABELS)
    document = approved_agreement(case)
    organisation = case.organization.name if case.organization is not None else ""
    agreed_on = layout.local_date(document.approved_at, lang)
    reference = agreement_reference(case, document, lang)
    title = document.content.get("title", "")
    category = labels["category"][case.category]
    quoted = [s for s in document.content.get("sections", []) if s.get("id") in QUOTED_SECTIONS]
    attachments = [layout.audit_attachment(case)]
    if agreement_pdf is not None:
        attachments.append((AGREEMENT_PDF_NAME, agreement_pdf, "application/pdf"))
    parties = applicants(case, identities or {}, labels)
    signers = [Signer(labels["signer"].format(n=n), row["name"]) for n, row in enumerate(parties, 1)]
    pdf = layout.render_document(
        "judicial_confirmation.html", labels, case_number=case.number, attachments=attachments,
        applicants=parties, court=court_name, organisation=organisation,
        mediator=case.mediator.name if case.mediator is not None else "",
        request=labels["request_text"].format(court=court_name, date=agreed_on, organisation=organisation,
                                              title=title, reference=reference),
        facts=labels["facts_text"].format(category=category, date=agreed_on, organisation=organisation),
        quoted=quoted, reference=reference, agreed_on=agreed_on, title=title,
        content_digest=content_digest(document.content),
        pdf_digest=layout.sha256(agreement_pdf) if agreement_pdf is not None else "",
        signers=signers, on=layout.written_date(on, lang) if on is not None else "")
    logger.info("Case %s: application for judicial confirmation by %s rendered (%s bytes)", case,
                court_name[:60], len(pdf))
    return pdf
