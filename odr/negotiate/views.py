"""Routes of the direct negotiation.

Who may do what:
- everyone who may see the case reads the negotiation (the mediator too, once the case reaches
  mediation; staff read only);
- a joined party makes an offer while the case is in assessment and both parties joined; only the
  other side accepts, rejects or counters it; its author may withdraw it while it is open;
- in mediation, each party may choose to negotiate first (``/first``); once both did, the same
  offers are made there, and either party may end it (``/end``) to go to the mediator.
Refusals (a closed offer, a case that left the assessment) are answered by the app-wide handler.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from odr.cases import live
from odr.cases.access import get_case_or_404
from odr.extensions import db
from odr.negotiate import operations as ops
from odr.negotiate.forms import AnswerForm, OfferForm
from odr.negotiate.models import NegotiationStatus, Offer, OfferStatus

bp = Blueprint("negotiate", __name__, url_prefix="/negotiate")

OFFER_STATUS = {
    OfferStatus.open: _l("Open"),
    OfferStatus.accepted: _l("Accepted"),
    OfferStatus.rejected: _l("Rejected"),
    OfferStatus.countered: _l("Countered"),
    OfferStatus.withdrawn: _l("Withdrawn"),
}
NEGOTIATION_STATUS = {
    NegotiationStatus.open: _l("Under way"),
    NegotiationStatus.agreed: _l("Agreed: the settlement agreement is being signed"),
    NegotiationStatus.settled: _l("Settled by the parties' agreement"),
    NegotiationStatus.timed_out: _l("Time ran out: on to mediation"),
    NegotiationStatus.ended: _l("Ended"),
}
SIDE = {"claimant": _l("Claimant"), "respondent": _l("Respondent")}


def _me():
    return current_user._get_current_object()


def _lang() -> str:
    return str(get_locale() or "zh").split("_")[0]


@bp.app_context_processor
def _helpers():
    """What the case page needs to link here."""
    def negotiation_link(case) -> bool:
        return ops.in_negotiation_stage(case) or ops.negotiation_of(case) is not None or ops.choice_open(case)
    return {"negotiation_link": negotiation_link}


def _party_case(number):
    """The case, if the current user acts for one of its sides.

    :raise 404: not visible to the user.
    :raise 403: visible, but the user is not a party.
    """
    case = get_case_or_404(number)
    if case.side_of(current_user) is None:
        abort(403)
    return case


def _offer_or_404(case, oid: int) -> Offer:
    offer = db.session.get(Offer, oid)
    if offer is None or offer.negotiation.case_id != case.id:
        abort(404)
    return offer


def _page(case, form=None, answer_forms=None, status=200):
    me = _me()
    negotiation = ops.negotiation_of(case)
    can_offer = ops.may_offer(case, negotiation, me)
    letter = request.args.get("letter", "")[:32]
    if form is None and can_offer:
        form = OfferForm(formdata=None)
        text = ops.letter_text(case, letter, _lang()) if letter else None
        if text:
            form.message.data = text
    return render_template(
        "negotiate/show.html", case=case, negotiation=negotiation, form=form, can_offer=can_offer,
        offers=list(reversed(negotiation.offers)) if negotiation else [], answer_forms=answer_forms or {},
        may_answer=lambda o: ops.may_answer(o, case, me), may_withdraw=lambda o: ops.may_withdraw(o, case, me),
        is_expired=ops.is_expired, schedule_of=ops.schedule_of, letters=ops.letter_choices(_lang()),
        document=ops.agreement_document(case), side=case.side_of(me), both_joined=ops.both_joined(case),
        in_stage=ops.in_negotiation_stage(case), offer_status=OFFER_STATUS, negotiation_status=NEGOTIATION_STATUS,
        side_label=SIDE, choice_open=ops.choice_open(case), choices=ops.choices_of(case),
        choice_deadline=ops.choice_deadline(case), may_end=ops.may_end_first(case, negotiation, me),
    ), status


@bp.get("/<number>")
@login_required
def show(number):
    case = get_case_or_404(number)
    return _page(case)


@bp.post("/<number>/offers")
@login_required
def offer_new(number):
    case = _party_case(number)
    form = OfferForm()
    if not form.validate_on_submit():
        return _page(case, form, status=400)
    try:
        ops.make_offer(case, _me(), amount=form.amount.data, terms=form.terms.data, schedule=form.instalments(),
                       respond_by=form.respond_by.data, message=form.message.data or "")
    except ops.InvalidOffer as exc:
        form.form_errors.append(str(exc.reason))
        return _page(case, form, status=422)
    flash(_("Your offer was sent."), "success")
    return redirect(url_for("negotiate.show", number=number), code=303)


@bp.post("/<number>/offers/<int:oid>/answer")
@login_required
def offer_answer(number, oid):
    case = _party_case(number)
    offer = _offer_or_404(case, oid)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _page(case, answer_forms={offer.id: form}, status=400)
    accept = form.decision.data == "accept"
    ops.answer(offer, case, _me(), accept=accept, comment=form.comment.data or "")
    live.answered(case, "offer", offer.id, "accepted" if accept else "rejected", _me())
    if accept:
        flash(_("You accepted the offer. Both parties now sign the settlement agreement."), "success")
        document = ops.agreement_document(case)
        return redirect(url_for("documents.view", doc_id=document.id), code=303)
    flash(_("Your answer was recorded."), "success")
    return redirect(url_for("negotiate.show", number=number), code=303)


@bp.route("/<number>/offers/<int:oid>/counter", methods=["GET", "POST"])
@login_required
def offer_counter(number, oid):
    case = _party_case(number)
    offer = _offer_or_404(case, oid)
    if not ops.may_answer(offer, case, _me()):
        raise ops.NegotiationError(_l("This offer is not open for your answer."))
    if request.method == "GET":
        form = OfferForm(formdata=None)
        form.fill_from(offer)
        status = 200
    else:
        form = OfferForm()
        status = 400
        if form.validate_on_submit():
            try:
                ops.make_offer(case, _me(), amount=form.amount.data, terms=form.terms.data,
                               schedule=form.instalments(), respond_by=form.respond_by.data,
                               message=form.message.data or "", answers=offer)
            except ops.InvalidOffer as exc:
                form.form_errors.append(str(exc.reason))
                status = 422
            else:
                live.answered(case, "offer", offer.id, "countered", _me())
                flash(_("Your counter-offer was sent."), "success")
                return redirect(url_for("negotiate.show", number=number), code=303)
    return render_template("negotiate/counter.html", case=case, offer=offer, form=form,
                           schedule_of=ops.schedule_of, is_expired=ops.is_expired, offer_status=OFFER_STATUS,
                           side_label=SIDE), status


@bp.post("/<number>/offers/<int:oid>/withdraw")
@login_required
def offer_withdraw(number, oid):
    case = _party_case(number)
    offer = _offer_or_404(case, oid)
    ops.withdraw(offer, case, _me())
    flash(_("Your offer was withdrawn."), "success")
    return redirect(url_for("negotiate.show", number=number), code=303)


@bp.post("/<number>/first")
@login_required
def first(number):
    """A party of a case in mediation chooses to negotiate directly before the mediator.

    :raise 404: not visible. :raise 403: not a party. :raise 409: too late, chosen already, or the
        case is not in mediation.
    """
    case = _party_case(number)
    negotiation = ops.choose_first(case, _me())
    flash(_("Both parties chose to negotiate first: make or wait for the first offer.") if negotiation
          else _("Your choice was recorded. The negotiation opens when the other party chooses it too."), "success")
    return redirect(url_for("negotiate.show", number=number), code=303)


@bp.post("/<number>/end")
@login_required
def end(number):
    """A party ends the negotiation inside mediation: the mediator takes over.

    :raise 404: not visible. :raise 403: not a party. :raise 409: no negotiation under way in mediation.
    """
    case = _party_case(number)
    ops.end_first(case, _me())
    flash(_("The negotiation ended. The mediator takes over."), "success")
    return redirect(url_for("negotiate.show", number=number), code=303)
