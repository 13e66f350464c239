"""The PDF of a settlement agreement reached by direct negotiation (和解协议书), with the case's audit
trail attached; rendered by ``odr.documents`` in the agreement's own language."""

from __future__ import annotations

import logging

from odr.cases.models import Case, Side
from odr.documents import layout
from odr.documents.layout import Signer, local_date
from odr.negotiate.models import Negotiation

logger = logging.getLogger(__name__)

LABELS = {
    "zh": {"digest": "内容摘要（SHA-256）", "accepted_online": "已于{date}在线接受要约",
           "offered_online": "已于{date}在线提出要约", "platform": "在线纠纷解决平台"},
    "en": {"digest": "Content digest (SHA-256)", "accepted_online": "Accepted the offer online on {date}",
           "offered_online": "Made the offer online on {date}", "platform": "Online dispute resolution platform"},
}


def agreement_html(case: Case, negotiation: Negotiation) -> str:
    from odr.negotiate.operations import accepted_offer, audit_digest

    content = negotiation.agreement
    lang = layout.document_lang(content.get("lang"))
    labels = layout.words(lang, LABELS)
    offer = accepted_offer(negotiation)
    notes = {}
    if offer is not None:
        notes[offer.side] = labels["offered_online"].format(date=local_date(offer.created_at, lang))
        answered = Side.claimant.value if offer.side == Side.respondent.value else Side.respondent.value
        notes[answered] = labels["accepted_online"].format(date=local_date(offer.closed_at, lang))
    signers = [Signer(labels[side.value], layout.party_name(case.party(side)), notes.get(side.value, ""))
               for side in (Side.claimant, Side.respondent)]
    return layout.document_html("settlement.html", labels, case_number=case.number, case=case, content=content,
                                lang=lang, signers=signers, digest=audit_digest(content), seal="")


def agreement_pdf(case: Case, negotiation: Negotiation) -> bytes:
    """The agreement as PDF/A-3b with the case's audit trail as ``audit-trail.json``."""
    from odr.documents.render import render_pdf

    pdf = render_pdf(agreement_html(case, negotiation), [layout.audit_attachment(case)])
    logger.info("Case %s: settlement agreement rendered (%s bytes)", case, len(pdf))
    return pdf
