"""Routes: settlement proposals, the agreement, the record of undisputed facts, the next step.

Who may do what:
- everyone who may see the case reads the proposals and the outcome documents (staff read only);
- a joined party or the mediator makes a proposal; only the parties it was put to answer or
  counter it (not its author, not the mediator); its author may withdraw it while open;
- the mediator writes and sends the documents; each party approves or asks for changes;
- after an approved record of undisputed facts, a party may ask for arbitration (both sign an
  arbitration agreement, ``odr.arbitrate``); parties, the mediator or the centre may take the case
  on to court. The workflow refuses moves that are not allowed, with a reason.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from odr.cases import live
from odr.cases.models import Stage
from odr.errors import abort_with
from odr.extensions import db
from odr.mediate.outcomes import operations as outcomes
from odr.mediate.outcomes import proposals as props
from odr.mediate.outcomes import signing as signing
from odr.mediate.access import in_room, is_mediator, mediation_case
from odr.mediate.models import OutcomeKind, OutcomeStatus, Proposal, ProposalStatus
from odr.mediate.outcomes.forms import (DocumentAnswerForm, NextStepForm, ProposalAnswerForm, ProposalForm,
                                       document_form_class, section_fields)
from odr.mediate.views import bp

PROPOSAL_STATUS = {
    ProposalStatus.open: _l("Open"),
    ProposalStatus.accepted: _l("Accepted"),
    ProposalStatus.rejected: _l("Rejected"),
    ProposalStatus.countered: _l("Countered"),
    ProposalStatus.withdrawn: _l("Withdrawn"),
}
OUTCOME_STATUS = {
    OutcomeStatus.draft: _l("Draft"),
    OutcomeStatus.approval: _l("Waiting for the parties"),
    OutcomeStatus.approved: _l("Approved"),
    OutcomeStatus.superseded: _l("Replaced by a newer version"),
}
OUTCOME_KIND = {
    OutcomeKind.agreement: _l("Mediation agreement"),
    OutcomeKind.undisputed_facts: _l("Record of undisputed facts"),
}
AUTHOR_ROLE = {"claimant": _l("Claimant"), "respondent": _l("Respondent"), "mediator": _l("Mediator")}


def _me():
    return current_user._get_current_object()


def outcome_summary(case):
    """What the stage page's outcome card shows."""
    items = props.case_proposals(case)
    return {
        "open": sum(1 for p in items if p.status is ProposalStatus.open),
        "total": len(items),
        "accepted": next((p for p in items if p.status is ProposalStatus.accepted), None),
        "documents": {kind: outcomes.current_document(case, kind) for kind in OutcomeKind},
    }


@bp.context_processor
def _outcome_helpers():
    return {"outcome_summary": outcome_summary, "proposal_status": PROPOSAL_STATUS,
            "outcome_status": OUTCOME_STATUS, "outcome_kind": OUTCOME_KIND, "author_role": AUTHOR_ROLE}


def _in_mediation(case) -> bool:
    return case.is_open and case.stage is Stage.mediation


def _proposal_or_404(case, pid: int) -> Proposal:
    proposal = db.session.get(Proposal, pid)
    if proposal is None or proposal.case_id != case.id:
        abort(404)
    return proposal


def _kind_or_404(kind: str) -> OutcomeKind:
    try:
        return OutcomeKind(kind)
    except ValueError:
        abort(404)


# --- proposals ---------------------------------------------------------------------------------

def _render_proposals(case, form=None, status=200, answer_forms=None):
    me = _me()
    can_propose = _in_mediation(case) and props.may_propose(case, me)
    if form is None and can_propose:
        form = ProposalForm(formdata=None)
    return render_template(
        "mediate/proposals.html", case=case, proposals=props.case_proposals(case), form=form,
        can_propose=can_propose, in_mediation=_in_mediation(case), answer_forms=answer_forms or {},
        answer_form=ProposalAnswerForm(formdata=None),
        may_answer=lambda p: props.may_answer(p, case, me), may_withdraw=lambda p: props.may_withdraw(p, me, case),
        is_expired=props.is_expired, schedule_of=props.schedule_of,
    ), status


@bp.get("/<number>/proposals")
@login_required
def proposals(number):
    case = mediation_case(number, need="view")
    return _render_proposals(case)


@bp.post("/<number>/proposals")
@login_required
def proposal_new(number):
    case = mediation_case(number, need="room", open_only=True)
    form = ProposalForm()
    if not form.validate_on_submit():
        return _render_proposals(case, form, 400)
    try:
        props.make_proposal(case, _me(), amount=form.amount.data, terms=form.terms.data,
                            schedule=form.instalments(), respond_by=form.respond_by.data)
    except props.InvalidProposal as exc:
        db.session.rollback()
        form.form_errors.append(str(exc.reason))
        return _render_proposals(case, form, 400)
    flash(_("Your proposal was sent."), "success")
    return redirect(url_for("mediate.proposals", number=number), code=303)


@bp.post("/<number>/proposals/<int:pid>/answer")
@login_required
def proposal_answer(number, pid):
    case = mediation_case(number, need="room", open_only=True)
    proposal = _proposal_or_404(case, pid)
    if not props.may_answer(proposal, case, _me()):
        abort(403)
    form = ProposalAnswerForm()
    if not form.validate_on_submit():
        return _render_proposals(case, answer_forms={proposal.id: form}, status=400)
    accept = form.decision.data == "accept"
    props.answer(proposal, case, _me(), accept=accept, comment=form.comment.data or "")
    answer = ("rejected" if not accept else "accepted" if proposal.status is ProposalStatus.accepted
              else "accepted_by_one")
    live.answered(case, "proposal", proposal.id, answer, _me())
    flash(_("Your answer was recorded."), "success")
    return redirect(url_for("mediate.proposals", number=number), code=303)


@bp.route("/<number>/proposals/<int:pid>/counter", methods=["GET", "POST"])
@login_required
def proposal_counter(number, pid):
    case = mediation_case(number, need="party", open_only=True)
    proposal = _proposal_or_404(case, pid)
    if not props.may_answer(proposal, case, _me()):
        abort(403)
    if proposal.status is not ProposalStatus.open:
        abort_with(409, _("This proposal is no longer open."))
    form = ProposalForm()
    if request.method == "GET":
        form = ProposalForm(formdata=None)
        form.fill_from(proposal)
    elif form.validate_on_submit():
        try:
            props.make_proposal(case, _me(), amount=form.amount.data, terms=form.terms.data,
                                schedule=form.instalments(), respond_by=form.respond_by.data, answers=proposal)
        except props.InvalidProposal as exc:
            db.session.rollback()
            form.form_errors.append(str(exc.reason))
        else:
            live.answered(case, "proposal", proposal.id, "countered", _me())
            flash(_("Your counter-proposal was sent."), "success")
            return redirect(url_for("mediate.proposals", number=number), code=303)
    return render_template("mediate/proposal_counter.html", case=case, proposal=proposal, form=form,
                           schedule_of=props.schedule_of, is_expired=props.is_expired), \
        400 if request.method == "POST" else 200


@bp.post("/<number>/proposals/<int:pid>/withdraw")
@login_required
def proposal_withdraw(number, pid):
    case = mediation_case(number, need="room", open_only=True)
    proposal = _proposal_or_404(case, pid)
    if not props.may_withdraw(proposal, _me(), case):
        abort(403)
    props.withdraw(proposal, case, _me())
    flash(_("Your proposal was withdrawn."), "success")
    return redirect(url_for("mediate.proposals", number=number), code=303)


# --- outcome documents ---------------------------------------------------------------------------

def _render_outcome(case, answer_forms=None, next_form=None, status=200):
    me = _me()
    documents = {kind: outcomes.current_document(case, kind) for kind in OutcomeKind}
    side = case.side_of(me)
    facts_approved = outcomes.facts_approved(case)
    return render_template(
        "mediate/outcome.html", case=case, documents=documents, side=side, is_mediator=is_mediator(case, me),
        can_manage=case.can_manage(me), in_room=in_room(case, me), in_mediation=_in_mediation(case),
        answer_forms=answer_forms or {}, answer_form=DocumentAnswerForm(formdata=None), next_form=next_form,
        list_sections=outcomes.list_sections, facts_approved=facts_approved,
        versions={kind: outcomes.versions(case, kind) for kind in OutcomeKind},
        ready_to_settle=outcomes.ready_to_settle, Stage=Stage, signed_doc=signing.signed_document,
        editable=outcomes.editable,
    ), status


@bp.get("/<number>/outcome")
@login_required
def outcome(number):
    case = mediation_case(number, need="view")
    return _render_outcome(case)


@bp.route("/<number>/outcome/<kind>/edit", methods=["GET", "POST"])
@login_required
def outcome_edit(number, kind):
    case = mediation_case(number, need="mediator", open_only=True)
    kind = _kind_or_404(kind)
    doc = outcomes.current_document(case, kind)
    approved = doc is not None and doc.status is OutcomeStatus.approved
    if doc is not None and not outcomes.editable(doc):
        abort_with(409, _("This document is signed by everyone and can no longer be changed."))
    content = doc.content if doc is not None else outcomes.draft_content(case, kind, _current_lang())
    sections = content["sections"]
    form_class = document_form_class(sections, with_amount=kind is OutcomeKind.agreement, with_reason=approved)
    if request.method == "GET":
        data = {f"s_{s['id']}": s["text"] for s in sections}
        if kind is OutcomeKind.agreement:
            data["amount"] = outcomes.content_amount(content)
        form = form_class(formdata=None, data=data)
    else:
        form = form_class()
        if form.validate_on_submit():
            texts = {s["id"]: form[f"s_{s['id']}"].data for s in sections}
            amount = form.amount.data if kind is OutcomeKind.agreement else None
            try:
                saved = outcomes.save(case, kind, _me(), texts, amount,
                                      reason=form.reason.data if approved else "")
            except outcomes.InvalidDocument as exc:
                db.session.rollback()
                form.form_errors.append(str(exc.reason))
            else:
                if doc is not None and saved.id != doc.id:
                    flash(_("Saved as a new version. The parties' answers to the old one no longer count; send it again."),
                          "warning")
                else:
                    flash(_("Saved. Send it to the parties when it is ready."), "success")
                return redirect(url_for("mediate.outcome", number=number), code=303)
    return render_template("mediate/outcome_edit.html", case=case, kind=kind, doc=doc, form=form,
                           fields=section_fields(form, sections), title=content["title"],
                           list_ids=outcomes.list_sections(kind), approved=approved), \
        400 if request.method == "POST" else 200


def _current_lang() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "zh")


@bp.post("/<number>/outcome/<kind>/send")
@login_required
def outcome_send(number, kind):
    case = mediation_case(number, need="mediator", open_only=True)
    kind = _kind_or_404(kind)
    doc = outcomes.current_document(case, kind)
    if doc is None:
        abort_with(409, _("Write the document first."))
    outcomes.send(doc, case, _me())
    flash(_("Sent to the parties for approval."), "success")
    return redirect(url_for("mediate.outcome", number=number), code=303)


@bp.post("/<number>/outcome/<kind>/answer")
@login_required
def outcome_answer(number, kind):
    case = mediation_case(number, need="party", open_only=True)
    kind = _kind_or_404(kind)
    doc = outcomes.current_document(case, kind)
    if doc is None or doc.status is not OutcomeStatus.approval:
        abort_with(409, _("This version is not waiting for your answer."))
    form = DocumentAnswerForm()
    if not form.validate_on_submit():
        return _render_outcome(case, answer_forms={kind: form}, status=400)
    try:
        outcomes.answer(doc, case, _me(), approve=form.decision.data == "approve", comment=form.comment.data or "")
    except outcomes.InvalidDocument as exc:
        db.session.rollback()
        form.comment.errors.append(str(exc.reason))
        return _render_outcome(case, answer_forms={kind: form}, status=400)
    if not case.is_open:
        flash(_("Both parties approved the agreement. The case is settled."), "success")
    else:
        flash(_("Your answer was recorded."), "success")
    return redirect(url_for("mediate.outcome", number=number), code=303)


@bp.post("/<number>/outcome/next")
@login_required
def outcome_next(number):
    case = mediation_case(number, need="view", open_only=True)
    me = _me()
    form = NextStepForm()
    if not form.validate_on_submit():
        return _render_outcome(case, next_form=form, status=400)
    if not (in_room(case, me) or case.can_manage(me)):
        abort(403)
    outcomes.go_to_court(case, me)
    flash(_("The case moved on to the next stage."), "success")
    return redirect(url_for("cases.show", number=number), code=303)
