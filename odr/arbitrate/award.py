"""Step 6: the award, drafted by the presiding arbitrator, signed by every arbitrator and sealed; the
sealed award closes the case."""

from __future__ import annotations

import logging

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr.cases import audit, workflow
from odr.cases.notices import joined_users, notify_users
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


def draft_award(case: Case, arb: Arbitration, user, *, facts: str, reasoning: str, decision: list[str],
                costs: str, lang: str) -> SignedDocument:
    """Render the award from the case and the tribunal's words; every arbitrator then signs it."""
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
    audit.record(case, user, "arbitration_award_drafted", {"document": document.id, "version": document.version,
                                                           "decision": decision})
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
    notify_users(case, joined_users(case), _("The award in case %(number)s has been issued and is final. Read it: %(link)s",
                                    number=case.number, link=absolute_url("documents.view", doc_id=document.id)))
    logger.info("Case %s: award issued (document %s)", case, document.id)


def award_sealed_rule(case: Case):
    """Workflow guard ``award_sealed``: a case ends with an award only through the sealed award."""
    found = award(case)
    if found is None or found.status is not SigningStatus.complete:
        return _l("The award is issued when every arbitrator has signed it.")
    return None
