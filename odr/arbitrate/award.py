"""Step 6: the award, drafted by the presiding arbitrator, signed by every arbitrator and sealed; the
sealed award closes the case."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr.cases import audit, performance, workflow
from odr.cases.notices import joined_users, notify_users
from odr.cases.service.operations import Served
from odr.cases.models import Case, Outcome
from odr.documents import operations as signing
from odr.documents.models import SignedDocument, SigningStatus
from odr.arbitrate.models import Arbitration, ArbitrationStatus, Procedure, SeatRole
from odr.arbitrate.common import (AWARD_KIND, REASON_MAX, ArbitrationError, BadInput, award, check_running, of,
                                  required_text, shown)
from odr.arbitrate.proceedings import hearing_held
from odr.links import absolute_url
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)


def award_refusal(arb: Arbitration) -> str | None:
    """Why the award cannot be drafted yet, or ``None``."""
    if arb.status is not ArbitrationStatus.accepted:
        return _l("The commission has not accepted the case yet.")
    if not arb.tribunal_formed():
        return _l("The tribunal is not complete: every arbitrator must be appointed and have declared "
                  "independence, and no challenge may be pending.")
    if arb.claim_submitted_at is None:
        return _l("The claimant has not submitted the statement of claim.")
    if arb.defence_submitted_at is None and utcnow() < arb.defence_due:
        return _l("The respondent may still submit a defence until %(due)s.", due=shown(arb.defence_due))
    if arb.procedure is Procedure.hearing and not hearing_held(arb):
        return _l("The hearing has not been held yet.")
    return None


#: How the award writes a payment it orders, in its language.
PAYMENT_LINE = {
    "zh": "{payer}应于{due}前向{payee}支付人民币{amount}元。",
    "en": "The {payer} shall pay the {payee} CNY {amount} by {due}.",
}
SIDE_WORDS = {"zh": {"claimant": "申请人", "respondent": "被申请人"},
              "en": {"claimant": "claimant", "respondent": "respondent"}}


def payment_lines(payments: list[tuple[date, Decimal]], payer_side: str, lang: str) -> list[str]:
    """The award's lines for the payments it orders, by due date."""
    from odr.documents.layout import document_lang, written_date

    lang = document_lang(lang)
    payee_side = "claimant" if payer_side == "respondent" else "respondent"
    return [PAYMENT_LINE[lang].format(payer=SIDE_WORDS[lang][payer_side], payee=SIDE_WORDS[lang][payee_side],
                                      amount=f"{amount:,.2f}", due=written_date(due, lang))
            for due, amount in sorted(payments)]


def _check_payments(payments, payer_side: str) -> None:
    if payer_side not in ("claimant", "respondent"):
        raise BadInput(_l("Say which side pays."))
    today = performance.local_today()
    if any(due < today for due, _amount in payments):
        raise BadInput(_l("A payment the award orders cannot fall due before today."))
    if any(amount <= 0 for _due, amount in payments):
        raise BadInput(_l("Each payment must be more than zero."))


def draft_award(case: Case, arb: Arbitration, user, *, facts: str, reasoning: str, decision: list[str],
                costs: str, lang: str, payments: list[tuple[date, Decimal]] = (),
                payer_side: str = "respondent") -> SignedDocument:
    """Render the award from the case and the tribunal's words; every arbitrator then signs it.

    ``payments`` (due date, amount) are written into the decision, and once the award is sealed they
    become the case's performance schedule (:func:`award_sealed`)."""
    from odr.arbitrate.documents import award_content
    from odr.documents.award import render_award

    check_running(case, arb)
    if not arb.is_chair(user):
        raise ArbitrationError(_l("Only the presiding arbitrator drafts the award."))
    why_not = award_refusal(arb)
    if why_not:
        raise ArbitrationError(why_not)
    decision = [d.strip() for d in decision if d and d.strip()]
    if not decision:
        raise BadInput(_l("Write what the tribunal decides, one item per line."))
    payments = list(payments or ())
    _check_payments(payments, payer_side)
    decision += payment_lines(payments, payer_side, lang)
    if len(decision) > 30 or any(len(d) > REASON_MAX for d in decision):
        raise BadInput(_l("At most 30 decision items of at most %(n)s characters each.", n=REASON_MAX))
    content = award_content(case, arb, facts=required_text(facts, _l("the facts found")),
                            reasoning=required_text(reasoning, _l("the reasons")), decision=decision,
                            costs=required_text(costs, _l("how the costs are borne"), REASON_MAX), lang=lang)
    pdf = render_award(content, case)
    seats = sorted(arb.active_seats, key=lambda s: (s.role is SeatRole.member, s.id))
    signers = [(s.user, "arbitrator", s.user.name) for s in seats]
    previous = award(case)
    try:
        document = signing.start(case, user, kind=AWARD_KIND, subject=f"arbitration:{case.id}",
                                 title=_("Arbitral award"), lang=content.lang, pdf=pdf, signers=signers,
                                 reason=_("The tribunal redrafted the award.") if previous else "")
    except signing.SigningError as exc:
        raise ArbitrationError(exc.reason) from None
    audit.record(case, user, "arbitration_award_drafted", {
        "document": document.id, "version": document.version, "decision": decision, "payer": payer_side,
        "payments": [{"due": due.isoformat(), "amount": str(amount), "line": line} for (due, amount), line
                     in zip(sorted(payments), payment_lines(payments, payer_side, lang))]})
    notify_users(case, [s.user for s in seats if s.user_id != user.id], _(
        "The award of case %(number)s is ready for your signature: %(link)s", number=case.number,
        link=absolute_url("documents.view", doc_id=document.id)))
    return document


def award_sealed(document: SignedDocument) -> None:
    case = document.case
    arb = of(case)
    seat = arb.chair() if arb is not None else None
    if arb is None or seat is None or arb.status is not ArbitrationStatus.accepted:
        raise signing.SigningError(_l("The arbitration changed; this award no longer applies."))
    try:
        workflow.move(case, Outcome.award_issued, seat.user, reason=f"award v{document.version}")
    except workflow.WorkflowError as exc:
        raise signing.SigningError(exc.reason) from None
    arb.status = ArbitrationStatus.awarded
    audit.record(case, seat.user, "arbitration_award_issued", {"document": document.id,
                                                               "sha256": document.current_sha256})
    _schedule_payments(case, document)
    notify_users(case, joined_users(case), _("The award in case %(number)s has been issued and is final. Read it: %(link)s",
                                    number=case.number, link=absolute_url("documents.view", doc_id=document.id)),
                 served=Served.link("award", absolute_url("documents.view", doc_id=document.id), document.current_sha256))
    logger.info("Case %s: award issued (document %s)", case, document.id)


def _schedule_payments(case: Case, document: SignedDocument) -> None:
    """The payments the sealed award orders (as drafted into it) become the case's performance schedule."""
    drafted = next((ev.payload for ev in reversed(audit.case_events(case))
                    if ev.action == "arbitration_award_drafted" and ev.payload.get("document") == document.id), None)
    payments = (drafted or {}).get("payments") or []
    items = [performance.PlannedItem(date.fromisoformat(p["due"]), p["line"], Decimal(p["amount"])) for p in payments]
    performance.create_schedule(case, items, payer_side=drafted["payer"] if drafted else "respondent",
                                source=f"{document.kind}:{document.id}")


def award_sealed_rule(case: Case):
    """Workflow guard ``award_sealed``: a case ends with an award only through the sealed award."""
    found = award(case)
    if found is None or found.status is not SigningStatus.complete:
        return _l("The award is issued when every arbitrator has signed it.")
    return None
