"""Steps 1 and 2: the basis (an online arbitration agreement both parties sign, or a contract's
clause the commission confirms) files the case with the commission; its staff accept it."""

from __future__ import annotations

import logging

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr import uploads
from odr.auth.models import Role, User
from odr.auth.operations import holders
from odr.cases import audit, workflow
from odr.cases import operations as case_ops
from odr.cases.evidence import EvidenceError, check_filename
from odr.cases.notices import joined_users, notify_users
from odr.cases.service.operations import Served
from odr.cases.models import ArbitrationBasis, Case, Organization, OrgType, Side, Stage
from odr.documents import operations as signing
from odr.documents.models import SignedDocument, SigningStatus
from odr.extensions import db
from odr.arbitrate.fees import schedule
from odr.arbitrate.models import (Arbitration, ArbitrationStatus, Procedure)
from odr.arbitrate.common import (AGREEMENT_KIND, CONTRACT_TYPES, CONTRACT_WRONG_TYPE, FROM_STAGES, REASON_MAX,
                                  ArbitrationError, BadInput, agreement, case_link,
                                  check_commission, check_open, config_days, of,
                                  required_text, shown)
from odr.links import absolute_url
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)


def may_request(case: Case, user) -> bool:
    arb = of(case)
    return (case.is_open and case.stage in FROM_STAGES and case.side_of(user) is not None
            and (arb is None or arb.status in (ArbitrationStatus.requested, ArbitrationStatus.rejected)))


def _request(case: Case, user, commission: Organization, basis: ArbitrationBasis) -> Arbitration:
    if commission is None or commission.type is not OrgType.arbitration_commission:
        raise BadInput(_l("Choose an arbitration commission."))
    if not may_request(case, user):
        raise ArbitrationError(_l("A party can ask for arbitration while the case is at assessment or in "
                                  "mediation, once it is not already filed with a commission."))
    r = case.respondent
    if r is None or r.status.value != "joined":
        raise ArbitrationError(_l("The other party has not joined the case yet."))
    arb = of(case)
    if arb is None:
        arb = Arbitration(case_id=case.id, commission_id=commission.id, status=ArbitrationStatus.requested,
                          basis=basis, requested_by_id=user.id, requested_at=utcnow())
        db.session.add(arb)
    arb.commission_id, arb.basis, arb.status = commission.id, basis, ArbitrationStatus.requested
    arb.requested_by_id, arb.requested_at, arb.rejection_reason = user.id, utcnow(), ""
    arb.basis_decided_at = arb.basis_decided_by_id = None
    db.session.flush()
    db.session.refresh(arb, ["commission"])
    return arb


def propose_agreement(case: Case, user, commission: Organization, lang: str) -> SignedDocument:
    """Put an arbitration agreement naming ``commission`` up for both parties' signatures."""
    from odr.arbitrate.documents import render_agreement

    _request(case, user, commission, ArbitrationBasis.agreement)
    current = agreement(case)
    if current is not None and current.status is SigningStatus.signing and current.subject == f"commission:{commission.id}":
        return current  # asked again for the same commission: the same agreement
    pdf = render_agreement(case, commission, lang)
    parties = sorted((p for p in case.parties if p.user is not None and p.status.value == "joined"),
                     key=lambda p: p.side is not Side.claimant)
    signers = [(p.user, p.side.value, p.user.name or p.name) for p in parties]
    reason = _("The agreement now names %(commission)s.", commission=commission.name) if current else ""
    audit.record(case, user, "arbitration_requested", {"basis": ArbitrationBasis.agreement,
                                                       "commission": commission.id, "name": commission.name})
    try:
        document = signing.start(case, user, kind=AGREEMENT_KIND, subject=f"commission:{commission.id}",
                                 title=_("Arbitration agreement"), lang=lang, pdf=pdf, signers=signers,
                                 reason=reason)
    except signing.SigningError as exc:
        raise ArbitrationError(exc.reason) from None
    others = [p for p in joined_users(case) if p.id != user.id]
    notify_users(case, others, _("%(name)s proposes to take case %(number)s to arbitration at %(commission)s. "
                            "Read and sign the arbitration agreement: %(link)s", name=user.name, number=case.number,
                            commission=commission.name,
                            link=absolute_url("documents.view", doc_id=document.id)),
                 served=Served.link("document", absolute_url("documents.view", doc_id=document.id), document.current_sha256))
    return document


def agreement_sealed(document: SignedDocument) -> None:
    case = document.case
    arb = of(case)
    commission_id = int(document.subject.split(":", 1)[1])
    if arb is None or arb.commission_id != commission_id or arb.status is not ArbitrationStatus.requested:
        raise signing.SigningError(_l("The arbitration request changed; this agreement no longer applies."))
    last = db.session.get(User, document.signers[-1].user_id)
    _file(case, arb, last, {"document": document.id, "sha256": document.current_sha256})


def submit_clause(case: Case, user, commission: Organization, stream, filename: str | None,
                  clause_text: str) -> Arbitration:
    """Ask ``commission`` to arbitrate under the clause of an uploaded contract; its staff confirm it.

    Every check comes before the file is written, so a refusal leaves nothing behind.
    """
    clause_text = required_text(clause_text, _l("the arbitration clause"), REASON_MAX)
    try:
        check_filename(filename)
    except EvidenceError as exc:
        raise BadInput(exc.reason) from None
    arb = _request(case, user, commission, ArbitrationBasis.clause)
    try:
        stored = uploads.store(stream, filename, CONTRACT_TYPES, current_app.config["EVIDENCE_MAX_BYTES"],
                               wrong_type=CONTRACT_WRONG_TYPE)
    except uploads.UploadError as exc:
        raise BadInput(exc.reason) from None
    arb.contract_sha256, arb.contract_filename, arb.contract_mimetype = stored.sha256, stored.filename, stored.mimetype
    arb.clause_text = clause_text
    current = agreement(case)
    if current is not None and current.status is SigningStatus.signing:
        signing.supersede(current, user, _("The parties rely on the arbitration clause of their contract instead."))
    audit.record(case, user, "arbitration_requested", {
        "basis": ArbitrationBasis.clause, "commission": commission.id, "name": commission.name,
        "contract": {"sha256": stored.sha256, "filename": stored.filename, "size": stored.size},
        "clause": clause_text})
    notify_users(case, holders(Role.staff, commission.id), _("Case %(number)s asks %(commission)s to arbitrate under a contract clause; "
                                 "please confirm the clause: %(link)s", number=case.number,
                                 commission=commission.name, link=case_link(case)))
    return arb


def decide_clause(case: Case, arb: Arbitration, actor, confirmed: bool, reason: str = "") -> None:
    """Commission staff confirm the clause (the case is filed) or reject it with a reason."""
    check_open(case, arb)
    check_commission(arb, actor)
    if arb.basis is not ArbitrationBasis.clause or arb.status is not ArbitrationStatus.requested:
        raise ArbitrationError(_l("There is no arbitration clause waiting for a decision."))
    arb.basis_decided_by_id, arb.basis_decided_at = actor.id, utcnow()
    if not confirmed:
        arb.status = ArbitrationStatus.rejected
        arb.rejection_reason = required_text(reason, _l("the reason"), REASON_MAX)
        audit.record(case, actor, "arbitration_clause_rejected", {"reason": arb.rejection_reason})
        notify_users(case, joined_users(case), _("%(commission)s did not accept the arbitration clause of case %(number)s: "
                                        "%(reason)s", commission=arb.commission.name, number=case.number,
                                        reason=arb.rejection_reason))
        return
    audit.record(case, actor, "arbitration_clause_confirmed", {"sha256": arb.contract_sha256})
    _file(case, arb, actor, {"contract": arb.contract_sha256})


def _file(case: Case, arb: Arbitration, actor, evidence: dict) -> None:
    """The basis holds: record it, route the case to the commission and move it to arbitration."""
    case_ops.record_arbitration_basis(case, arb.basis, actor)
    if case.organization_id != arb.commission_id:
        case_ops.route_case(case, arb.commission, actor)
    try:
        workflow.move(case, Stage.arbitration, actor, reason=f"arbitration {arb.basis.value}")
    except workflow.WorkflowError as exc:
        raise ArbitrationError(exc.reason) from None
    arb.status = ArbitrationStatus.filed
    audit.record(case, actor, "arbitration_filed", {"commission": arb.commission_id, "basis": arb.basis, **evidence})
    notify_users(case, joined_users(case), _("Case %(number)s is filed with %(commission)s for arbitration: %(link)s",
                                    number=case.number, commission=arb.commission.name, link=case_link(case)))
    logger.info("Case %s filed with commission %s (%s)", case, arb.commission_id, arb.basis.value)


def accept(case: Case, arb: Arbitration, actor, procedure: Procedure) -> None:
    """Commission staff accept the case: fee, tribunal size, procedure and the first deadlines."""
    check_open(case, arb)
    check_commission(arb, actor)
    if arb.status is not ArbitrationStatus.filed:
        raise ArbitrationError(_l("Only a filed case waiting for acceptance can be accepted."))
    fees = schedule()
    amount = case.amount_claimed
    if procedure is Procedure.documents_only and not fees.documents_only_allowed(amount):
        raise BadInput(_l("Only claims up to %(max)s yuan can be decided on the documents alone.",
                          max=f"{fees.documents_only_max:,.0f}"))
    now = utcnow()
    arb.status, arb.accepted_at, arb.accepted_by_id = ArbitrationStatus.accepted, now, actor.id
    arb.fee, arb.tribunal_size, arb.procedure = fees.fee(amount), fees.tribunal_size(amount), procedure
    arb.nomination_due = now + config_days("ARBITRATION_NOMINATION_DAYS")
    arb.claim_due = now + config_days("ARBITRATION_CLAIM_DAYS")
    arb.claim_text = arb.claim_text or case.claim
    audit.record(case, actor, "arbitration_accepted", {
        "fee": arb.fee, "amount": amount, "tribunal_size": arb.tribunal_size, "procedure": procedure,
        "nomination_due": arb.nomination_due, "claim_due": arb.claim_due})
    notify_users(case, joined_users(case), _(
        "%(commission)s accepted case %(number)s. Fee: %(fee)s yuan. Name your arbitrator by %(nominate)s; "
        "the statement of claim is due by %(claim)s. %(link)s", commission=arb.commission.name, number=case.number,
        fee=f"{arb.fee:,.2f}", nominate=shown(arb.nomination_due), claim=shown(arb.claim_due), link=case_link(case)),
        served=Served.link("arbitration_accepted", case_link(case)))
