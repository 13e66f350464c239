"""The PDF of a mediation outcome document (调解协议书 / 无争议事实记载) with the case's audit trail
(rendered by ``odr.documents``; this module belongs to mediation, which depends on documents).

The document is rendered in its own language (``content["lang"]``), whatever language the
person asking for it reads the site in, so the fixed labels live here per language rather
than in the translation catalog.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, render_template

from odr.cases import audit
from odr.cases.models import Case, Side
from odr.documents.render import FONT_URL, render_pdf
from odr.mediate.models import OutcomeDocument, OutcomeKind, OutcomeStatus
from odr.mediate.outcomes import content_digest

logger = logging.getLogger(__name__)

AUDIT_TRAIL_NAME = "audit-trail.json"

LABELS = {
    "zh": {
        "html_lang": "zh-CN",
        "colon": "：",
        "case_number": "案号",
        "version": "版本",
        "digest": "内容摘要（SHA-256）",
        "status": {
            OutcomeStatus.draft: "草稿：尚未提交双方当事人确认",
            OutcomeStatus.approval: "待确认：已提交双方当事人，尚未全部确认",
            OutcomeStatus.approved: "双方当事人已确认",
            OutcomeStatus.superseded: "已被新版本取代，不再有效",
        },
        "signatures": "签名",
        Side.claimant.value: "申请人",
        Side.respondent.value: "被申请人",
        "mediator": "人民调解员",
        "signature": "签名",
        "date": "日期",
        "approved_online": "已于{date}在线确认",
        "seal": "（印章）",
        "attachment": "本文件附有案件审计记录 audit-trail.json（PDF/A-3 关联文件）。",
    },
    "en": {
        "html_lang": "en",
        "colon": ": ",
        "case_number": "Case number",
        "version": "Version",
        "digest": "Content digest (SHA-256)",
        "status": {
            OutcomeStatus.draft: "Draft: not yet put to the parties",
            OutcomeStatus.approval: "Awaiting approval: put to the parties, not yet approved by both",
            OutcomeStatus.approved: "Approved by both parties",
            OutcomeStatus.superseded: "Superseded by a later version; no longer valid",
        },
        "signatures": "Signatures",
        Side.claimant.value: "Claimant",
        Side.respondent.value: "Respondent",
        "mediator": "Mediator",
        "signature": "Signature",
        "date": "Date",
        "approved_online": "Approved online on {date}",
        "seal": "(seal)",
        "attachment": "The case's audit trail is attached to this file as audit-trail.json (a PDF/A-3 associated file).",
    },
}
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def local_date(moment: datetime | None, lang: str) -> str:
    """A stored UTC time as the date it was where the platform runs (Beijing by default)."""
    if moment is None:
        return ""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    day = moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date()
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def signers(case: Case, document: OutcomeDocument, lang: str) -> list[dict]:
    """Who signs the document, in order: the parties (with their online approval, if any), the mediator."""
    labels = LABELS[lang]
    approvals = {a.side: a for a in document.approvals if a.approved}
    rows = []
    for side in (Side.claimant, Side.respondent):
        party = case.party(side)
        name = "" if party is None else (party.user.name if party.user is not None else party.name)
        approval = approvals.get(side.value)
        approved = (labels["approved_online"].format(date=local_date(approval.created_at, lang))
                    if approval is not None else "")
        rows.append({"role": labels[side.value], "name": name, "approved": approved})
    mediator = case.mediator
    rows.append({"role": labels["mediator"], "name": mediator.name if mediator is not None else "",
                 "approved": ""})
    return rows


def audit_trail(case: Case) -> bytes:
    """The case's whole audit chain as canonical JSON: each entry's hashed fields plus its hash.

    An entry's ``hash`` is SHA-256 over the canonical JSON of the entry without ``hash``
    (``odr.cases.audit.entry_fields``), so the chain can be checked from this file alone.
    """
    return audit.canonical_json([{**audit.entry_fields(ev), "hash": ev.hash} for ev in audit.case_events(case)])


def mediation_html(case: Case, document: OutcomeDocument) -> str:
    content = document.content
    lang = content.get("lang") if content.get("lang") in LABELS else "zh"
    return render_template(
        "documents/mediation.html", case=case, document=document, content=content, lang=lang,
        labels=LABELS[lang], font_url=FONT_URL, status=LABELS[lang]["status"][document.status],
        signers=signers(case, document, lang), digest=content_digest(content),
        committee=case.organization.name if case.organization is not None else "",
        sealed=document.kind is OutcomeKind.agreement)


def mediation_pdf(case: Case, document: OutcomeDocument) -> bytes:
    """The outcome document as PDF/A-3b, with the case's audit trail attached as ``audit-trail.json``.

    The attached trail is the complete chain, as the court receives it: it includes the
    entries ``audit.may_read`` hides from the other side (that a caucus message was sent,
    the names of evidence for the mediator only).
    """
    pdf = render_pdf(mediation_html(case, document),
                     [(AUDIT_TRAIL_NAME, audit_trail(case), "application/json")])
    logger.info("Case %s: PDF of %s version %s rendered (%s bytes)", case, document.kind.value,
                document.version, len(pdf))
    return pdf
