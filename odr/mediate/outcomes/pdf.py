"""The PDF of a mediation outcome document (调解协议书 / 无争议事实记载) with the case's audit trail
(rendered by ``odr.documents``; this module belongs to mediation, which depends on documents).

The document is rendered in its own language (``content["lang"]``), whatever language the
person asking for it reads the site in, so the fixed labels live here per language rather
than in the translation catalog (the shared ones in ``odr.documents.layout``).
"""

from __future__ import annotations

import logging

from odr.cases.models import Case, Side
from odr.documents import layout
from odr.documents.layout import Signer, local_date
from odr.documents.render import render_pdf
from odr.mediate.models import OutcomeDocument, OutcomeKind, OutcomeStatus
from odr.mediate.outcomes.operations import content_digest

logger = logging.getLogger(__name__)

LABELS = {
    "zh": {
        "version": "版本",
        "digest": "内容摘要（SHA-256）",
        "status": {
            OutcomeStatus.draft: "草稿：尚未提交双方当事人确认",
            OutcomeStatus.approval: "待确认：已提交双方当事人，尚未全部确认",
            OutcomeStatus.approved: "双方当事人已确认",
            OutcomeStatus.superseded: "已被新版本取代，不再有效",
        },
        "mediator": "人民调解员",
        "approved_online": "已于{date}在线确认",
    },
    "en": {
        "version": "Version",
        "digest": "Content digest (SHA-256)",
        "status": {
            OutcomeStatus.draft: "Draft: not yet put to the parties",
            OutcomeStatus.approval: "Awaiting approval: put to the parties, not yet approved by both",
            OutcomeStatus.approved: "Approved by both parties",
            OutcomeStatus.superseded: "Superseded by a later version; no longer valid",
        },
        "mediator": "Mediator",
        "approved_online": "Approved online on {date}",
    },
}


def signers(case: Case, document: OutcomeDocument, lang: str) -> list[Signer]:
    """Who signs the document, in order: the parties (with their online approval, if any), the mediator."""
    labels = layout.words(lang, LABELS)
    approvals = {a.side: a for a in document.approvals if a.approved}
    rows = []
    for side in (Side.claimant, Side.respondent):
        approval = approvals.get(side.value)
        approved = (labels["approved_online"].format(date=local_date(approval.created_at, lang))
                    if approval is not None else "")
        rows.append(Signer(labels[side.value], layout.party_name(case.party(side)), approved))
    mediator = case.mediator
    rows.append(Signer(labels["mediator"], mediator.name if mediator is not None else ""))
    return rows


def document_lang(document: OutcomeDocument) -> str:
    lang = document.content.get("lang")
    return lang if lang in LABELS else "zh"


def mediation_html(case: Case, document: OutcomeDocument) -> str:
    lang = document_lang(document)
    labels = layout.words(lang, LABELS)
    committee = case.organization.name if case.organization is not None else ""
    return layout.document_html(
        "mediation.html", labels, case_number=case.number, case=case, document=document,
        content=document.content, lang=lang,
        status=labels["status"][document.status], signers=signers(case, document, lang),
        digest=content_digest(document.content), committee=committee,
        seal=committee if document.kind is OutcomeKind.agreement else "")


def mediation_pdf(case: Case, document: OutcomeDocument) -> bytes:
    """The outcome document as PDF/A-3b, with the case's audit trail attached as ``audit-trail.json``.

    The attached trail is the complete chain, as the court receives it: it includes the
    entries ``audit.may_read`` hides from the other side (that a caucus message was sent,
    the names of evidence for the mediator only).
    """
    pdf = render_pdf(mediation_html(case, document), [layout.audit_attachment(case)])
    logger.info("Case %s: PDF of %s version %s rendered (%s bytes)", case, document.kind.value,
                document.version, len(pdf))
    return pdf
