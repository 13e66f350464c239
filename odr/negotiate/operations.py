"""Direct negotiation: the parties settle between themselves before a mediator is involved.

The procedure:

1. While the case is in assessment and both parties have joined, either party opens the
   negotiation with a first offer (amount, terms, instalments, a date to answer by), often
   starting its covering letter from a letter template. The negotiation runs for
   ``NEGOTIATION_DAYS`` from that offer.
2. The other side accepts, rejects or counters the open offer; its author may withdraw it.
   One offer is open at a time: a counter-offer closes the offer it answers. An offer past its
   answer-by date can still be rejected or countered, no longer accepted.
3. An accepted offer becomes the settlement agreement (和解协议书), rendered from
   ``data/negotiation_templates.yaml`` like the mediation agreement, and is put up for signing
   by both parties. When the platform seals it, the case settles through the workflow
   (assessment → settled, by the platform, guarded by ``negotiated_agreement_sealed``).
4. When the time runs out without an accepted offer (or the signing is not done
   ``NEGOTIATION_SIGNING_DAYS`` after it), the periodic job :func:`end_overdue_negotiations`
   moves the case on to mediation; the mediator reads the negotiation's history.

Negotiation first in mediation: a case that reaches mediation without having negotiated gives each
party ``NEGOTIATION_CHOICE_DAYS`` to choose to negotiate directly first (:func:`choose_first`). When
both chose, the negotiation opens inside mediation for ``NEGOTIATION_IN_MEDIATION_DAYS``, with the
same offers, agreement and signing; its sealed agreement settles the case from mediation (by the
platform, guarded by ``negotiated_agreement_sealed``). When its time runs out, or a party ends it
(:func:`end_first`), the case simply stays with the mediator, who reads the history on the
negotiation page; the mediator's to-do list says the parties are negotiating until when.

Every step writes its audit entry in the caller's transaction; nothing here commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr.cases import audit, performance, workflow
from odr.cases import operations as case_ops
from odr.cases.models import Case, Outcome, Side, Stage
from odr.cases.notices import joined_parties, joined_users, notify_users, party_signers
from odr.cases.representation import acts_for_side
from odr.documents import operations as signing
from odr.documents.models import SignedDocument, SigningStatus
from odr.extensions import db
from odr.forms import MAX_AMOUNT
from odr.links import absolute_url
from odr.negotiate.models import Negotiation, NegotiationChoice, NegotiationStatus, Offer, OfferStatus
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

#: The signed document kind of the settlement agreement (``documents.operations.register_kind``).
AGREEMENT_KIND = "negotiated_agreement"
DATA = Path(__file__).parent / "data"
LANGS = ("zh", "en")
MAX_INSTALMENTS = 24
MAX_TERMS_CHARS = 4000
MAX_MESSAGE_CHARS = 4000
CENT = Decimal("0.01")

#: The audit actions this module records, with what people read for each (registered by ``init_app``).
ACTIONS = {
    "negotiation_started": _l("Direct negotiation started"),
    "negotiation_offer_made": _l("Offer made in the negotiation"),
    "negotiation_offer_answered": _l("Offer answered"),
    "negotiation_offer_withdrawn": _l("Offer withdrawn"),
    "negotiation_agreed": _l("Offer accepted: settlement agreement drawn up"),
    "negotiation_settled": _l("Settled by direct negotiation"),
    "negotiation_timed_out": _l("Negotiation time ran out"),
    "negotiation_ended": _l("Negotiation ended"),
    "negotiation_chosen": _l("Chose to negotiate directly before the mediator"),
}


class NegotiationError(Refused):
    """A negotiation step that cannot be done now; ``reason`` is shown to the person."""


class InvalidOffer(NegotiationError):
    """What was entered does not make a valid offer (422, nothing stored)."""

    status = 422


@dataclass(frozen=True)
class Instalment:
    due: date
    amount: Decimal


# --- reading ----------------------------------------------------------------------------------------

@lru_cache
def texts() -> dict:
    import yaml

    return yaml.safe_load((DATA / "negotiation_templates.yaml").read_text(encoding="utf-8"))


def local_today() -> date:
    """Today in the platform's time zone (answer-by dates are dates people read on a calendar)."""
    tz = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    return utcnow().replace(tzinfo=timezone.utc).astimezone(tz).date()


def negotiation_of(case: Case) -> Negotiation | None:
    return db.session.scalar(sa.select(Negotiation).where(Negotiation.case_id == case.id))


def open_offer(negotiation: Negotiation | None) -> Offer | None:
    if negotiation is None:
        return None
    return next((o for o in negotiation.offers if o.status is OfferStatus.open), None)


def accepted_offer(negotiation: Negotiation | None) -> Offer | None:
    if negotiation is None:
        return None
    return next((o for o in reversed(negotiation.offers) if o.status is OfferStatus.accepted), None)


def schedule_of(offer: Offer) -> list[Instalment]:
    return [Instalment(date.fromisoformat(row["due"]), Decimal(row["amount"])) for row in offer.schedule or []]


def is_expired(offer: Offer) -> bool:
    """The offer's answer-by date has passed."""
    return offer.respond_by is not None and local_today() > offer.respond_by


def letter_choices(lang: str) -> list[tuple[str, str]]:
    """``(id, title)`` of the letter templates, in ``lang``."""
    lang = lang if lang in LANGS else "zh"
    return [(key, letter["title"][lang]) for key, letter in texts()["letters"].items()]


def letter_text(case: Case, key: str, lang: str) -> str | None:
    """A letter template filled in for the case, or ``None`` if there is no such template."""
    letter = texts()["letters"].get(key)
    if letter is None:
        return None
    lang = lang if lang in LANGS else "zh"
    return letter["text"][lang].format(number=case.number, **_party_names(case))


def _party_names(case: Case) -> dict:
    def name(side):
        party = case.party(side)
        if party is None:
            return ""
        return party.user.name if party.user is not None else party.name
    return {"claimant": name(Side.claimant), "respondent": name(Side.respondent)}


def both_joined(case: Case) -> bool:
    return {p.side for p in joined_parties(case)} == {Side.claimant, Side.respondent}


def in_negotiation_stage(case: Case) -> bool:
    """The case is where its negotiation happens: in assessment, or in mediation when both parties
    chose to negotiate there first."""
    if not case.is_open:
        return False
    if case.stage is Stage.assessment:
        return True
    if case.stage is Stage.mediation:
        negotiation = negotiation_of(case)
        return negotiation is not None and negotiation.in_mediation
    return False


def may_start(case: Case, user) -> bool:
    """A party may open a negotiation: the case is in assessment, both joined, none started yet."""
    return (case.is_open and case.stage is Stage.assessment and case.side_of(user) is not None
            and both_joined(case) and negotiation_of(case) is None)


# --- negotiation first in mediation -------------------------------------------------------------------

def choices_of(case: Case) -> dict[str, NegotiationChoice]:
    """The sides that chose to negotiate first in mediation."""
    return {c.side: c for c in db.session.scalars(sa.select(NegotiationChoice).where(NegotiationChoice.case_id == case.id))}


def choice_deadline(case: Case) -> datetime:
    return case.stage_entered_at + timedelta(days=current_app.config["NEGOTIATION_CHOICE_DAYS"])


def choice_open(case: Case) -> bool:
    """The parties of a case in mediation may still choose to negotiate first: it entered mediation
    less than ``NEGOTIATION_CHOICE_DAYS`` ago, both parties joined, and it never had a negotiation."""
    return (case.is_open and case.stage is Stage.mediation and utcnow() < choice_deadline(case)
            and both_joined(case) and negotiation_of(case) is None)


def choice_refusal(case: Case, user) -> str | None:
    side = case.side_of(user)
    if side is None:
        return _l("Only the parties negotiate.")
    if not (case.is_open and case.stage is Stage.mediation):
        return _l("Negotiating first is chosen when the case is in mediation.")
    if negotiation_of(case) is not None:
        return _l("This case already had its direct negotiation.")
    if not both_joined(case):
        return _l("The other party has not joined the case yet.")
    if utcnow() >= choice_deadline(case):
        return _l("The time to choose direct negotiation has passed: the mediator takes the case.")
    if side in choices_of(case):
        return _l("You have already chosen to negotiate first.")
    return None


def choose_first(case: Case, user) -> Negotiation | None:
    """A party chooses to negotiate directly before the mediator; when the other side has chosen too,
    the negotiation opens inside mediation and is returned.

    :raise NegotiationError: :func:`choice_refusal` says why not.
    """
    why_not = choice_refusal(case, user)
    if why_not:
        raise NegotiationError(why_not)
    side = case.side_of(user)
    now = utcnow()
    db.session.add(NegotiationChoice(case_id=case.id, side=side, user_id=user.id, chosen_at=now))
    db.session.flush()
    audit.record(case, user, "negotiation_chosen", {"side": side})
    logger.info("Case %s: %s chose to negotiate before the mediator", case, audit.actor_label(user))
    link = absolute_url("negotiate.show", number=case.number)
    if len(choices_of(case)) < 2:
        others = [p.user for p in joined_parties(case) if p.side.value != side]
        notify_users(case, others, _("The other party in case %(number)s would like to negotiate directly before the mediator steps in. You can agree here: %(link)s",
                                     number=case.number, link=link))
        return None
    days = current_app.config["NEGOTIATION_IN_MEDIATION_DAYS"]
    negotiation = Negotiation(case_id=case.id, started_by_id=user.id, started_at=now, in_mediation=True,
                              deadline_at=now + timedelta(days=days), status=NegotiationStatus.open)
    db.session.add(negotiation)
    db.session.flush()
    audit.record(case, user, "negotiation_started", {
        "negotiation": negotiation.id, "deadline_at": negotiation.deadline_at.isoformat(), "days": days,
        "in_mediation": True})
    logger.info("Case %s: direct negotiation opened inside mediation", case)
    recipients = joined_users(case) + ([case.mediator] if case.mediator is not None else [])
    notify_users(case, recipients, _("Both parties in case %(number)s chose to negotiate directly first, for %(days)s days; then the mediator takes over: %(link)s",
                                     number=case.number, days=days, link=link))
    return negotiation


def may_end_first(case: Case, negotiation: Negotiation | None, user) -> bool:
    return (negotiation is not None and negotiation.in_mediation and negotiation.status is NegotiationStatus.open
            and case.is_open and case.stage is Stage.mediation and case.side_of(user) is not None)


def end_first(case: Case, user) -> None:
    """A party ends the negotiation inside mediation without agreement: the mediator takes over.

    :raise NegotiationError: not a party, or no negotiation under way inside mediation.
    """
    negotiation = negotiation_of(case)
    if not may_end_first(case, negotiation, user):
        raise NegotiationError(_l("There is no direct negotiation under way to end."))
    now = utcnow()
    for offer in negotiation.offers:
        if offer.status is OfferStatus.open:
            offer.status = OfferStatus.withdrawn
            offer.closed_at = now
    negotiation.status = NegotiationStatus.ended
    negotiation.ended_at = now
    audit.record(case, user, "negotiation_ended", {"negotiation": negotiation.id, "side": case.side_of(user),
                                                   "stage": case.stage, "outcome": None})
    logger.info("Case %s: negotiation in mediation ended by %s", case, audit.actor_label(user))
    _to_the_mediator(case, _("The direct negotiation in case %(number)s was ended by a party. The mediator takes over and can read your offers: %(link)s",
                             number=case.number, link=absolute_url("negotiate.show", number=case.number)))


def _to_the_mediator(case: Case, text: str) -> None:
    recipients = joined_users(case) + ([case.mediator] if case.mediator is not None else [])
    notify_users(case, recipients, text)


def mediator_waits(case: Case, user) -> "Negotiation | None":
    """The negotiation the mediator of ``case`` waits for, if the parties are negotiating first."""
    if case.mediator_id != getattr(user, "id", None) or not (case.is_open and case.stage is Stage.mediation):
        return None
    negotiation = negotiation_of(case)
    if negotiation is None or not negotiation.in_mediation or negotiation.status not in (
            NegotiationStatus.open, NegotiationStatus.agreed):
        return None
    return negotiation


def may_offer(case: Case, negotiation: Negotiation | None, user) -> bool:
    """A party may make a fresh offer: the negotiation is open (or not started) and no offer is open."""
    if negotiation is None:
        return may_start(case, user)
    return (in_negotiation_stage(case) and negotiation.status is NegotiationStatus.open
            and case.side_of(user) is not None and open_offer(negotiation) is None)


def may_answer(offer: Offer, case: Case, user) -> bool:
    """Accept, reject or counter: only the other side, while the offer and the negotiation are open."""
    side = case.side_of(user)
    return (side is not None and side != offer.side and offer.status is OfferStatus.open
            and offer.negotiation.status is NegotiationStatus.open and in_negotiation_stage(case))


def may_withdraw(offer: Offer, case: Case, user) -> bool:
    """The author, or anyone acting for the offer's side (the party, their agent or helper who acts)."""
    return (acts_for_side(case, user, offer.side) and offer.status is OfferStatus.open
            and offer.negotiation.status is NegotiationStatus.open and in_negotiation_stage(case))


# --- offers -----------------------------------------------------------------------------------------

def _validate(amount: Decimal | None, terms: str, message: str, schedule: list[Instalment],
              respond_by: date | None) -> tuple[str, str]:
    terms = (terms or "").strip()
    message = (message or "").strip()
    if not terms:
        raise InvalidOffer(_l("Write the terms of your offer."))
    if len(terms) > MAX_TERMS_CHARS or len(message) > MAX_MESSAGE_CHARS:
        raise InvalidOffer(_l("The terms and the letter can each have at most %(n)s characters.", n=MAX_TERMS_CHARS))
    if amount is not None and (amount < 0 or amount >= MAX_AMOUNT):
        raise InvalidOffer(_l("Give an amount from 0 up to a realistic sum."))
    if len(schedule) > MAX_INSTALMENTS:
        raise InvalidOffer(_l("At most %(n)s instalments.", n=MAX_INSTALMENTS))
    for line in schedule:
        if line.amount <= 0:
            raise InvalidOffer(_l("Each instalment needs an amount above zero."))
    total = sum((i.amount for i in schedule), Decimal(0))
    if total >= MAX_AMOUNT:
        raise InvalidOffer(_l("Give an amount from 0 up to a realistic sum."))
    if schedule and amount is not None and total != amount:
        raise InvalidOffer(_l("The instalments add up to %(sum)s yuan, not the amount of %(amount)s yuan.",
                              sum=total, amount=amount))
    dues = [i.due for i in schedule]
    if dues != sorted(dues):
        raise InvalidOffer(_l("List the instalments in date order."))
    if respond_by is not None and respond_by < local_today():
        raise InvalidOffer(_l("The date to answer by cannot be in the past."))
    return terms, message


def _start(case: Case, user) -> Negotiation:
    now = utcnow()
    days = current_app.config["NEGOTIATION_DAYS"]
    negotiation = Negotiation(case_id=case.id, started_by_id=user.id, started_at=now,
                              deadline_at=now + timedelta(days=days), status=NegotiationStatus.open)
    db.session.add(negotiation)
    db.session.flush()
    audit.record(case, user, "negotiation_started", {
        "negotiation": negotiation.id, "deadline_at": negotiation.deadline_at.isoformat(), "days": days})
    logger.info("Case %s: direct negotiation started by %s", case, audit.actor_label(user))
    return negotiation


def make_offer(case: Case, author, *, amount: Decimal | None, terms: str, schedule: list[Instalment],
               respond_by: date | None, message: str = "", answers: Offer | None = None) -> Offer:
    """A party puts an offer (or a counter-offer to ``answers``) to the other side; the first offer
    opens the negotiation.

    :raise InvalidOffer: empty or too long terms, a bad amount, instalments that do not add up or are
        out of order, an answer-by date in the past.
    :raise NegotiationError: not a party, the case is not in assessment, the other party has not
        joined, the negotiation is over, another offer is still open, or ``answers`` is not open
        for this person to answer.
    """
    side = case.side_of(author)
    if side is None:
        raise NegotiationError(_l("Only the parties negotiate."))
    if not in_negotiation_stage(case):
        if case.is_open and case.stage is Stage.mediation and negotiation_of(case) is None:
            raise NegotiationError(_l("In mediation, the parties negotiate directly only when both chose to."))
        raise NegotiationError(_l("Direct negotiation happens while the case is in assessment."))
    if not both_joined(case):
        raise NegotiationError(_l("The other party has not joined the case yet."))
    negotiation = negotiation_of(case)
    if negotiation is not None and negotiation.status is not NegotiationStatus.open:
        raise NegotiationError(_l("This negotiation is over."))
    if answers is not None:
        if negotiation is None or answers.negotiation_id != negotiation.id:
            raise NegotiationError(_l("That offer belongs to another case."))
        if answers.status is not OfferStatus.open:
            raise NegotiationError(_l("This offer is no longer open."))
        if answers.side == side:
            raise NegotiationError(_l("You made this offer; the other side answers it."))
    elif open_offer(negotiation) is not None:
        raise NegotiationError(_l("An offer is still open: answer it or withdraw it first."))
    terms, message = _validate(amount, terms, message, schedule, respond_by)
    if amount is None and schedule:
        amount = sum((i.amount for i in schedule), Decimal(0))
    if negotiation is None:
        negotiation = _start(case, author)
    now = utcnow()
    offer = Offer(negotiation=negotiation, author_id=author.id, side=side, answers=answers, amount=amount,
                  terms=terms, message=message, respond_by=respond_by, status=OfferStatus.open, created_at=now,
                  schedule=[{"due": i.due.isoformat(), "amount": str(i.amount.quantize(CENT))} for i in schedule])
    db.session.add(offer)
    db.session.flush()
    if answers is not None:
        answers.status = OfferStatus.countered
        answers.closed_at = now
        answers.answered_by_id = author.id
        audit.record(case, author, "negotiation_offer_answered", {
            "offer": answers.id, "side": side, "answer": "countered", "counter": offer.id})
    audit.record(case, author, "negotiation_offer_made", {
        "offer": offer.id, "side": side, "answers": answers.id if answers else None, "amount": amount,
        "terms": terms, "message": message, "schedule": offer.schedule, "respond_by": respond_by})
    logger.info("Case %s: offer %s made by %s", case, offer.id, audit.actor_label(author))
    others = [p.user for p in joined_parties(case) if p.side.value != side]
    notify_users(case, others, _("The other party made an offer in case %(number)s. Please answer it: %(link)s",
                                 number=case.number, link=absolute_url("negotiate.show", number=case.number)))
    return offer


def answer(offer: Offer, case: Case, user, *, accept: bool, comment: str = "") -> None:
    """The other side accepts or rejects the open offer. Accepting draws up the settlement agreement
    and puts it up for signing by both parties.

    :raise NegotiationError: not the other side, the offer or the negotiation is closed, or (to
        accept) the offer is past its answer-by date.
    """
    if not may_answer(offer, case, user):
        if offer.author_id == user.id or case.side_of(user) == offer.side:
            raise NegotiationError(_l("You made this offer; the other side answers it."))
        raise NegotiationError(_l("This offer is not open for your answer."))
    if accept and is_expired(offer):
        raise NegotiationError(_l("The offer stood until %(date)s and can no longer be accepted. Make a counter-offer instead.",
                                  date=offer.respond_by.isoformat()))
    comment = (comment or "").strip()[:2000]
    now = utcnow()
    offer.status = OfferStatus.accepted if accept else OfferStatus.rejected
    offer.answered_by_id = user.id
    offer.answer_comment = comment
    offer.closed_at = now
    side = case.side_of(user)
    audit.record(case, user, "negotiation_offer_answered", {
        "offer": offer.id, "side": side, "answer": "accepted" if accept else "rejected", "comment": comment,
        "amount": offer.amount})
    logger.info("Case %s: offer %s %s by %s", case, offer.id, offer.status.value, audit.actor_label(user))
    if not accept:
        notify_users(case, [offer.author], _("Your offer in case %(number)s was rejected. You may make another: %(link)s",
                                             number=case.number, link=absolute_url("negotiate.show", number=case.number)))
        return
    negotiation = offer.negotiation
    negotiation.status = NegotiationStatus.agreed
    negotiation.agreement = agreement_content(case, offer)
    db.session.flush()
    audit.record(case, user, "negotiation_agreed", {
        "offer": offer.id, "amount": offer.amount, "content_sha256": audit_digest(negotiation.agreement)})
    document = put_up_agreement(case, negotiation, offer, user)
    notify_users(case, joined_users(case),
                 _("An offer was accepted in case %(number)s. Please sign the settlement agreement: %(link)s",
                   number=case.number, link=absolute_url("documents.view", doc_id=document.id)))


def withdraw(offer: Offer, case: Case, user) -> None:
    """The author takes back an open offer.

    :raise NegotiationError: not the author, or the offer or the negotiation is closed.
    """
    if not may_withdraw(offer, case, user):
        raise NegotiationError(_l("Only the author can withdraw an open offer."))
    offer.status = OfferStatus.withdrawn
    offer.closed_at = utcnow()
    audit.record(case, user, "negotiation_offer_withdrawn", {"offer": offer.id, "side": offer.side})
    logger.info("Case %s: offer %s withdrawn by %s", case, offer.id, audit.actor_label(user))


# --- the settlement agreement -----------------------------------------------------------------------

def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def agreement_content(case: Case, offer: Offer, lang: str | None = None) -> dict:
    """The agreement's sections, from the template and the accepted offer, in the case's language."""
    lang = lang if lang in LANGS else _case_lang(case)
    t = texts()["agreement"]
    words = {k: v[lang] for k, v in t["texts"].items()}
    names = _party_names(case)
    if offer.amount is None:
        payment = words["payment_none"]
    elif offer.schedule:
        lines = [words["instalment"].format(n=n, due=i.due.isoformat(), amount=_money(i.amount))
                 for n, i in enumerate(schedule_of(offer), 1)]
        payment = words["payment_schedule"].format(amount=_money(offer.amount), schedule="\n".join(lines)) \
            + "\n" + words["payment_method"]
    else:
        payment = words["payment_once"].format(amount=_money(offer.amount),
                                               days=current_app.config["PERFORMANCE_SINGLE_PAYMENT_DAYS"]) \
            + "\n" + words["payment_method"]
    by_section = {
        "parties": words["parties"].format(**names),
        "facts": case.description,
        "terms": words["terms"].format(terms=offer.terms),
        "payment": payment,
        "default": words["default"],
        "effect": words["effect"],
    }
    return {
        "lang": lang, "title": t["title"][lang], "offer": offer.id,
        "amount": str(offer.amount) if offer.amount is not None else None,
        # As in the mediation agreement, the respondent pays the claimant.
        "payer": Side.respondent.value,
        "schedule": offer.schedule or [],
        "sections": [{"id": sid, "heading": t["headings"][sid][lang], "text": by_section[sid]}
                     for sid in t["sections"]],
    }


def _case_lang(case: Case) -> str:
    """The agreement is written in the claimant's language (Chinese unless they chose English)."""
    claimant = case.claimant
    locale = getattr(claimant.user, "locale", None) if claimant is not None and claimant.user else None
    lang = (locale or "zh").split("_")[0]
    return lang if lang in LANGS else "zh"


def audit_digest(content: dict) -> str:
    import hashlib

    return hashlib.sha256(audit.canonical_json(content)).hexdigest()


def subject_of(negotiation: Negotiation, offer: Offer) -> str:
    return f"negotiation:{negotiation.id}:offer:{offer.id}"


def put_up_agreement(case: Case, negotiation: Negotiation, offer: Offer, actor) -> SignedDocument:
    """Render the agreement and put it up for signing by both parties, claimant first."""
    from odr.negotiate.pdf import agreement_pdf  # WeasyPrint loads when a document is first rendered

    content = negotiation.agreement
    return signing.start(case, actor, kind=AGREEMENT_KIND, subject=subject_of(negotiation, offer),
                         title=content["title"], lang=content["lang"], pdf=agreement_pdf(case, negotiation),
                         signers=party_signers(case))


def agreement_document(case: Case) -> SignedDocument | None:
    """The settlement agreement being signed or sealed, if any."""
    return signing.current(case, AGREEMENT_KIND)


def agreement_sealed_rule(case: Case):
    """Workflow guard ``negotiated_agreement_sealed``: the platform sealed the agreement both parties signed."""
    document = agreement_document(case)
    if document is None or document.status is not SigningStatus.complete:
        return _l("A case settles by negotiation when both parties have signed the settlement agreement.")
    return None


def agreement_sealed(sealed: SignedDocument) -> None:
    """Both parties signed and the platform sealed the agreement: the case settles (same transaction)."""
    case = sealed.case
    negotiation = negotiation_of(case)
    if negotiation is None or negotiation.status is not NegotiationStatus.agreed or not in_negotiation_stage(case):
        logger.warning("Case %s: negotiated agreement %s sealed after the negotiation ended", case, sealed.id)
        return
    try:
        workflow.move(case, Outcome.settled, None, reason=f"negotiated agreement v{sealed.version}")
    except workflow.WorkflowError as exc:
        raise NegotiationError(exc.reason) from None
    amount = negotiation.agreement.get("amount") if negotiation.agreement else None
    if amount is not None:
        case_ops.record_settlement_amount(case, Decimal(amount), None)
    negotiation.status = NegotiationStatus.settled
    negotiation.ended_at = utcnow()
    audit.record(case, None, "negotiation_settled", {"negotiation": negotiation.id, "document": sealed.id,
                                                     "amount": amount})
    performance.create_schedule(case, payment_plan(negotiation.agreement, performance.local_today()),
                                payer_side=negotiation.agreement["payer"], source=f"{AGREEMENT_KIND}:{sealed.id}")
    logger.info("Case %s settled by direct negotiation", case)
    notify_users(case, joined_users(case), _("Case %(number)s is settled: both parties signed the settlement agreement.",
                                             number=case.number))


def payment_plan(content: dict, effective: date) -> list[performance.PlannedItem]:
    """The items the agreement obliges the payer to: its instalments, or one payment
    ``PERFORMANCE_SINGLE_PAYMENT_DAYS`` after it took effect (as its text says); none without money."""
    if content.get("amount") is None:
        return []
    lang = content.get("lang", "zh")
    words = texts()["agreement"]["texts"]
    if content.get("schedule"):
        return [performance.PlannedItem(date.fromisoformat(row["due"]),
                                        words["instalment"][lang].format(n=n, due=row["due"], amount=row["amount"]),
                                        Decimal(row["amount"]))
                for n, row in enumerate(content["schedule"], 1)]
    days = current_app.config["PERFORMANCE_SINGLE_PAYMENT_DAYS"]
    amount = Decimal(content["amount"])
    return [performance.PlannedItem(effective + timedelta(days=days),
                                    words["payment_once"][lang].format(amount=_money(amount), days=days), amount)]


# --- the deadline -----------------------------------------------------------------------------------

def end_overdue_negotiations(now: datetime) -> int:
    """Periodic job: negotiations whose time ran out (or whose agreement was not signed in time) end,
    and their cases go on to mediation; negotiations whose case left the assessment meanwhile end.

    :return: how many negotiations ended.
    """
    signing_days = timedelta(days=current_app.config["NEGOTIATION_SIGNING_DAYS"])
    due = db.session.scalars(
        sa.select(Negotiation).where(Negotiation.status.in_([NegotiationStatus.open, NegotiationStatus.agreed]),
                                     Negotiation.deadline_at <= now)
        .order_by(Negotiation.deadline_at).limit(500)).all()
    ended = 0
    for negotiation in due:
        case = negotiation.case
        if negotiation.status is NegotiationStatus.agreed and negotiation.deadline_at + signing_days > now:
            continue
        if in_negotiation_stage(case):
            _time_out(negotiation, case, now)
        else:
            end_with_case(negotiation, case, now)
        ended += 1
    return ended


def _time_out(negotiation: Negotiation, case: Case, now: datetime) -> None:
    was = negotiation.status
    for offer in negotiation.offers:
        if offer.status is OfferStatus.open:
            offer.status = OfferStatus.withdrawn
            offer.closed_at = now
    document = agreement_document(case)
    if document is not None and document.status is SigningStatus.signing:
        signing.supersede(document, None, _("The negotiation time ran out before both parties signed."))
    negotiation.status = NegotiationStatus.timed_out
    negotiation.ended_at = now
    audit.record(case, None, "negotiation_timed_out", {
        "negotiation": negotiation.id, "was": was, "deadline_at": negotiation.deadline_at.isoformat()})
    if negotiation.in_mediation:  # already in mediation: the mediator takes over
        logger.info("Case %s: negotiation time in mediation ran out; the mediator takes over", case)
        _to_the_mediator(case, _("The time for direct negotiation in case %(number)s ran out. The mediator takes over and can read your offers: %(link)s",
                                 number=case.number, link=absolute_url("negotiate.show", number=case.number)))
        return
    workflow.move(case, Stage.mediation, None, reason="direct negotiation time ran out")
    logger.info("Case %s: negotiation time ran out; on to mediation", case)
    notify_users(case, joined_users(case),
                 _("The time for direct negotiation in case %(number)s ran out. The case goes on to mediation; the mediator will see your offers: %(link)s",
                   number=case.number, link=absolute_url("cases.show", number=case.number)))


def end_with_case(negotiation: Negotiation, case: Case, now: datetime) -> None:
    """The case left the assessment (a path was chosen, it was withdrawn or closed): the negotiation ends."""
    for offer in negotiation.offers:
        if offer.status is OfferStatus.open:
            offer.status = OfferStatus.withdrawn
            offer.closed_at = now
    negotiation.status = NegotiationStatus.ended
    negotiation.ended_at = now
    audit.record(case, None, "negotiation_ended", {"negotiation": negotiation.id, "stage": case.stage,
                                                   "outcome": case.outcome})
