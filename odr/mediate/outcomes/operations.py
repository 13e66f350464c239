"""How mediation ends: the agreement (调解协议书) or the record of undisputed facts (无争议事实记载).

The mediator drafts either document from ``data/agreement_templates.yaml``, edits its
sections and sends it to the parties; each approves or asks for changes. An edit after
sending makes a new version (the old one is superseded and the approvals start over).
An approved agreement settles the case; an approved record of undisputed facts opens the
next step: arbitration when both parties consent to it, otherwise court.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from flask import has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr.cases import audit, workflow
from odr.cases import operations as case_ops
from odr.cases.models import Case, Outcome, Side, Stage
from odr.extensions import db
from odr.links import absolute_url
from odr.mediate.access import is_mediator
from odr.mediate.models import OutcomeApproval, OutcomeDocument, OutcomeKind, OutcomeStatus, Proposal
from odr.cases.notices import joined_parties, joined_users, notify_users
from odr.cases.service.operations import Served
from odr.mediate.outcomes.proposals import accepted_proposal, schedule_of
from odr.refusal import Refused
from odr.timeutil import utcnow

#: The audit actions this module records, with what people read for each (registered by ``init_app``).
ACTIONS = {
    "proposal_made": _l("Settlement proposal made"),
    "proposal_answered": _l("Proposal answered"),
    "proposal_withdrawn": _l("Proposal withdrawn"),
    "outcome_saved": _l("Mediation document drafted"),
    "outcome_sent": _l("Mediation document sent to the parties"),
    "outcome_answered": _l("Party answered the mediation document"),
    "outcome_approved": _l("Mediation document approved by all parties"),
    "settlement_amount_recorded": _l("Settlement amount recorded"),
}

logger = logging.getLogger(__name__)

DATA = Path(__file__).parent.parent / "data"
LANGS = ("zh", "en")
MAX_SECTION_CHARS = 8000


class OutcomeError(Refused):
    """An outcome step that cannot be done now; ``reason`` is shown to the person."""


class InvalidDocument(OutcomeError):
    """What was entered does not make a valid document or answer (400, nothing stored)."""

    status = 422


@lru_cache
def templates_data() -> dict:
    import yaml

    return yaml.safe_load((DATA / "agreement_templates.yaml").read_text(encoding="utf-8"))


def _lang(lang: str | None) -> str:
    """The document language: as given, else the language the current page is in."""
    if lang is None and has_request_context():
        lang = str(get_locale() or "zh")
    lang = (lang or "zh").split("_")[0]
    return lang if lang in LANGS else "zh"


def _text(template: dict, key: str, lang: str, category: str | None = None) -> str:
    """A default text: the category's own, else the common one."""
    own = (template.get("categories") or {}).get(category) or {}
    entry = own.get(key) or template["common"].get(key) or {}
    return entry.get(lang, entry.get("zh", ""))


def section_ids(kind: OutcomeKind) -> list[str]:
    return list(templates_data()[kind.value]["sections"])


def list_sections(kind: OutcomeKind) -> set[str]:
    """Sections written as one item per line (the record's two lists)."""
    return set(templates_data()[kind.value].get("lists", []))


def _party_names(case: Case) -> dict:
    def name(side):
        party = case.party(side)
        if party is None:
            return ""
        return party.user.name if party.user is not None else party.name
    return {"claimant": name(Side.claimant), "respondent": name(Side.respondent)}


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def payment_text(proposal: Proposal | None, lang: str, category: str | None = None) -> str:
    """The payment section from an accepted proposal's amount and schedule (or the template's default)."""
    t = templates_data()["agreement"]
    method = "\n" + _text(t, "payment_method", lang, category)
    if proposal is None:
        return _text(t, "payment_once", lang, category).format(amount="____") + method
    if proposal.amount is None:
        return _text(t, "payment_none", lang, category)
    amount = _money(proposal.amount)
    if proposal.schedule:
        lines = [_text(t, "instalment", lang).format(n=n, due=i.due.isoformat(), amount=_money(i.amount))
                 for n, i in enumerate(schedule_of(proposal), 1)]
        body = _text(t, "payment_schedule", lang, category).format(amount=amount, schedule="\n".join(lines))
    else:
        body = _text(t, "payment_once", lang, category).format(amount=amount)
    return body + method


def draft_content(case: Case, kind: OutcomeKind, lang: str | None = None) -> dict:
    """A new document's content from the template: parties, facts and (agreements) the accepted proposal."""
    lang = _lang(lang)
    t = templates_data()[kind.value]
    category = case.category.value
    names = _party_names(case)
    proposal = accepted_proposal(case) if kind is OutcomeKind.agreement else None
    sections = []
    for sid in t["sections"]:
        if sid == "parties":
            text = _text(t, "parties", lang).format(**names)
        elif sid == "facts":
            text = case.description
        elif sid == "terms":
            text = _text(t, "terms", lang, category)
            if proposal is not None:
                text = text.split("\n", 1)[0] + "\n" + proposal.terms
        elif sid == "payment":
            text = payment_text(proposal, lang, category)
        else:
            text = _text(t, sid, lang, category)
        sections.append({"id": sid, "heading": t["headings"][sid][lang], "text": text})
    content = {"lang": lang, "title": t["title"][lang], "sections": sections}
    if kind is OutcomeKind.agreement:
        content["amount"] = str(proposal.amount) if proposal is not None and proposal.amount is not None else None
        content["proposal"] = proposal.id if proposal is not None else None
    return content


def content_amount(content: dict) -> Decimal | None:
    raw = (content or {}).get("amount")
    return Decimal(raw) if raw not in (None, "") else None


def document_amount(document: OutcomeDocument) -> Decimal | None:
    """The settlement amount the mediator entered on the agreement, if any."""
    return content_amount(document.content)


def content_digest(content: dict) -> str:
    return hashlib.sha256(audit.canonical_json(content)).hexdigest()


def current_document(case: Case, kind: OutcomeKind) -> OutcomeDocument | None:
    """The latest version of the case's document of this kind (never a superseded one)."""
    return db.session.scalar(
        sa.select(OutcomeDocument).where(OutcomeDocument.case_id == case.id, OutcomeDocument.kind == kind,
                                         OutcomeDocument.status != OutcomeStatus.superseded)
        .order_by(OutcomeDocument.version.desc()).limit(1))


def approved_undisputed_facts(case: Case) -> tuple[list[dict], datetime] | None:
    """The sections of the case's record of undisputed facts and when both parties approved it, if
    they did (the complaint to a court quotes it)."""
    record = current_document(case, OutcomeKind.undisputed_facts)
    if record is None or record.status is not OutcomeStatus.approved:
        return None
    return record.content.get("sections", []), record.approved_at


def versions(case: Case, kind: OutcomeKind) -> list[OutcomeDocument]:
    return list(db.session.scalars(
        sa.select(OutcomeDocument).where(OutcomeDocument.case_id == case.id, OutcomeDocument.kind == kind)
        .order_by(OutcomeDocument.version.desc())))


def _check_open(case: Case):
    if not case.is_open or case.stage is not Stage.mediation:
        raise OutcomeError(_l("The case is not in mediation any more."))


def _check_mediator(case: Case, actor):
    if not is_mediator(case, actor):
        raise OutcomeError(_l("Only the case's mediator writes the outcome documents."))


def save(case: Case, kind: OutcomeKind, mediator, texts: dict[str, str],
         amount: Decimal | None = None, reason: str = "") -> OutcomeDocument:
    """The mediator saves the document's sections: a draft is changed in place; a version
    already sent to the parties is superseded by a new draft, and their answers start over.
    So is an approved version that not everyone has signed yet: its signatures stop counting
    and ``reason`` (required then) goes into the audit trail.

    :raise InvalidDocument: a section is empty or too long, the amount is negative, or no reason
        is given for changing an approved version.
    :raise OutcomeError: not the mediator, the case left mediation, or the document is signed.
    """
    from odr.mediate.outcomes import signing as signing
    _check_open(case)
    _check_mediator(case, mediator)
    ids = section_ids(kind)
    cleaned = {}
    for sid in ids:
        text = (texts.get(sid) or "").strip()
        if not text:
            raise InvalidDocument(_l("Fill in every section."))
        if len(text) > MAX_SECTION_CHARS:
            raise InvalidDocument(_l("A section can have at most %(n)s characters.", n=MAX_SECTION_CHARS))
        cleaned[sid] = text
    if amount is not None and amount < 0:
        raise InvalidDocument(_l("The amount cannot be negative."))
    doc = current_document(case, kind)
    reason = (reason or "").strip()[:1000]
    if doc is not None and not editable(doc):
        raise OutcomeError(_l("This document is signed by everyone and can no longer be changed."))
    if doc is not None and doc.status is OutcomeStatus.approved:
        if not reason:
            raise InvalidDocument(_l("Say why an approved document is changed: its signatures will no longer count."))
    base = doc.content if doc is not None else draft_content(case, kind)
    content = dict(base)
    content["sections"] = [dict(s, text=cleaned[s["id"]]) for s in base["sections"] if s["id"] in cleaned]
    if kind is OutcomeKind.agreement:
        content["amount"] = str(amount) if amount is not None else None
    superseded = None
    if doc is None or doc.status in (OutcomeStatus.approval, OutcomeStatus.approved):
        if doc is not None:
            if doc.status is OutcomeStatus.approved:
                signing.supersede_for_new_version(doc, mediator, doc.version + 1, reason)
            doc.status = OutcomeStatus.superseded
            superseded = doc.version
        doc = OutcomeDocument(case_id=case.id, kind=kind, version=(superseded or 0) + 1,
                              status=OutcomeStatus.draft, content=content, author_id=mediator.id,
                              proposal_id=content.get("proposal"), created_at=utcnow())
        db.session.add(doc)
    else:
        doc.content = content
    db.session.flush()
    audit.record(case, mediator, "outcome_saved", {
        "kind": kind, "version": doc.version, "superseded": superseded, "amount": content.get("amount"),
        "content_sha256": content_digest(content), **({"reason": reason} if reason else {})})
    logger.info("Case %s: %s version %s saved by %s", case, kind.value, doc.version, audit.actor_label(mediator))
    return doc


def send(document: OutcomeDocument, case: Case, mediator) -> None:
    """The mediator puts a draft to the parties for approval.

    :raise OutcomeError: not the mediator, not a draft, or a party has not joined.
    """
    _check_open(case)
    _check_mediator(case, mediator)
    if document.status is not OutcomeStatus.draft:
        raise OutcomeError(_l("Only a draft can be sent; this version has already been sent."))
    if {p.side for p in joined_parties(case)} != {Side.claimant, Side.respondent}:
        raise OutcomeError(_l("Both parties must have joined the case first."))
    document.status = OutcomeStatus.approval
    document.sent_at = utcnow()
    audit.record(case, mediator, "outcome_sent", {
        "kind": document.kind, "version": document.version, "content_sha256": content_digest(document.content)})
    logger.info("Case %s: %s version %s sent by %s", case, document.kind.value, document.version,
                audit.actor_label(mediator))
    if document.kind is OutcomeKind.agreement:
        text = _("The mediation agreement of case %(number)s is ready. Please read it and approve it or ask for changes: %(link)s",
                 number=case.number, link=absolute_url("mediate.outcome", number=case.number))
    else:
        text = _("The record of undisputed facts of case %(number)s is ready. Please read it and approve it or ask for changes: %(link)s",
                 number=case.number, link=absolute_url("mediate.outcome", number=case.number))
    notify_users(case, joined_users(case), text, served=Served.link(
        "document", absolute_url("mediate.outcome", number=case.number), content_digest(document.content)))


def editable(document: OutcomeDocument) -> bool:
    """Whether the mediator may still change this version: a draft, one waiting for answers, or an
    approved one that not everyone has signed yet (saving then starts a new version, with a reason)."""
    from odr.mediate.outcomes import signing as signing
    if document.status in (OutcomeStatus.draft, OutcomeStatus.approval):
        return True
    return document.status is OutcomeStatus.approved and not signing.is_signed(document)


def ready_to_settle(document: OutcomeDocument) -> bool:
    """Whether an approved agreement may settle the case now: both parties approved it and
    everyone (the parties, then the mediator) signed its PDF, which the platform then sealed."""
    from odr.mediate.outcomes import signing as signing
    return document.kind is OutcomeKind.agreement and document.status is OutcomeStatus.approved \
        and signing.is_signed(document)


def answer(document: OutcomeDocument, case: Case, user, *, approve: bool, comment: str = "") -> None:
    """A party approves the version put to them, or asks for changes (saying what).

    When every joined party approved, the document is approved; an approved agreement then
    settles the case (``workflow.move`` by the mediator) and records the settled amount.

    :raise InvalidDocument: changes asked for without saying what.
    :raise OutcomeError: not a party, the version is not waiting for answers, or already answered.
    """
    _check_open(case)
    side = case.side_of(user)
    if side is None:
        raise OutcomeError(_l("Only the parties approve the outcome documents."))
    if document.status is not OutcomeStatus.approval:
        raise OutcomeError(_l("This version is not waiting for your answer."))
    if any(a.user_id == user.id for a in document.approvals):
        raise OutcomeError(_l("You have already answered this version."))
    comment = (comment or "").strip()
    if not approve and not comment:
        raise InvalidDocument(_l("Say what should be changed."))
    document.approvals.append(OutcomeApproval(user_id=user.id, side=side, approved=approve, comment=comment,
                                              created_at=utcnow()))
    db.session.flush()
    audit.record(case, user, "outcome_answered", {
        "kind": document.kind, "version": document.version, "side": side,
        "answer": "approved" if approve else "changes_requested", "comment": comment})
    logger.info("Case %s: %s version %s %s by %s", case, document.kind.value, document.version,
                "approved" if approve else "changes asked", audit.actor_label(user))
    if not approve:
        notify_users(case, [case.mediator], _("%(name)s asked for changes to the document of case %(number)s: %(comment)s",
                                         name=user.name, number=case.number, comment=comment))
        return
    approved_by = {a.user_id for a in document.approvals if a.approved}
    if not {p.user_id for p in joined_parties(case)} <= approved_by:
        return
    document.status = OutcomeStatus.approved
    document.approved_at = utcnow()
    audit.record(case, user, "outcome_approved", {
        "kind": document.kind, "version": document.version, "content_sha256": content_digest(document.content)})
    from odr.mediate.outcomes import signing as signing
    signed = signing.put_up(document, case, user)
    notify_users(case, joined_users(case) + [case.mediator],
                 _("Both parties approved the document of case %(number)s. Please sign it: %(link)s",
                   number=case.number, link=absolute_url("documents.view", doc_id=signed.id)))


def settle(document: OutcomeDocument, case: Case) -> None:
    """Close the case as settled by its mediator and record the agreed amount, in this transaction."""
    mediator = case.mediator
    try:
        workflow.move(case, Outcome.settled, mediator, reason=f"{document.kind.value} v{document.version}")
    except workflow.WorkflowError as exc:
        raise OutcomeError(exc.reason) from None
    amount = document_amount(document)
    if amount is not None:
        case_ops.record_settlement_amount(case, amount, mediator)
    logger.info("Case %s settled by agreement version %s", case, document.version)


def schedule_performance(document: OutcomeDocument, case: Case, sealed) -> None:
    """The instalments of the accepted proposal the agreement was drawn from become the schedule the
    parties follow (``odr.cases.performance``) — only when they add up to the agreement's amount, so the
    schedule never says other than the signed text's sum; the respondent pays, as the template says.
    A one-payment agreement names its date only in words (the template leaves it blank): no schedule."""
    from odr.cases import performance

    proposal = db.session.get(Proposal, document.content.get("proposal")) if document.content.get("proposal") else None
    amount = document_amount(document)
    if proposal is None or not proposal.schedule or amount is None:
        return
    lines = schedule_of(proposal)
    if sum((i.amount for i in lines), Decimal(0)) != amount:
        return
    lang = _lang(document.content.get("lang"))
    t = templates_data()["agreement"]
    items = [performance.PlannedItem(i.due, _text(t, "instalment", lang).format(n=n, due=i.due.isoformat(),
                                                                                amount=_money(i.amount)), i.amount)
             for n, i in enumerate(lines, 1)]
    performance.create_schedule(case, items, payer_side=Side.respondent.value, source=f"mediation_agreement:{sealed.id}")


# --- after a record of undisputed facts: court (arbitration is asked for in odr.arbitrate) ---------------------------------

def facts_approved(case: Case) -> bool:
    doc = current_document(case, OutcomeKind.undisputed_facts)
    return doc is not None and doc.status is OutcomeStatus.approved


def go_to_court(case: Case, actor) -> None:
    """Mediation failed: hand the case on towards court.

    :raise OutcomeError: with the workflow's reason.
    """
    try:
        workflow.move(case, Stage.litigation, actor)
    except workflow.WorkflowError as exc:
        raise OutcomeError(exc.reason) from None
