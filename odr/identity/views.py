"""A person's identity page; counter verification by the centre's staff; OpenID Connect sign-in."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from odr.auth import sessions
from odr.auth.views import safe_next
from odr.cases.access import get_case_or_404
from odr.cases.models import CaseParty
from odr.extensions import db, limiter
from odr.identity import idnumber, oidc
from odr.identity import operations as ops
from odr.identity.forms import CounterVerifyForm
from odr.identity.models import AssuranceLevel

bp = Blueprint("identity", __name__, url_prefix="/identity")

ASSURANCE_LABELS = {
    AssuranceLevel.none: _l("Not verified"),
    AssuranceLevel.oidc: _l("Verified by an identity provider"),
    AssuranceLevel.counter: _l("Verified in person at a counter"),
}


@bp.app_context_processor
def _labels():
    return {"assurance_label": ASSURANCE_LABELS, "oidc_configured": oidc.configured,
            "oidc_provider_name": _provider_name, "can_verify_identity": _can_verify_identity}


def _can_verify_identity(case) -> bool:
    return current_user.is_authenticated and ops.can_verify_at_counter(current_user, case)


def _provider_name() -> str:
    return current_app.config.get("OIDC_PROVIDER_NAME") or ""


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.get("/")
@login_required
def mine():
    return render_template("identity/mine.html", identity=ops.identity_of(current_user),
                           verification=ops.verification_of(current_user), next=safe_next(request.args.get("next")))


# --- at the counter ---------------------------------------------------------------------------

def _party_or_404(case, party_id: int) -> CaseParty:
    party = db.session.get(CaseParty, party_id)
    if party is None or party.case_id != case.id:
        abort(404)
    return party


@bp.get("/counter/<number>")
@login_required
def counter_case(number: str):
    """The parties of a case and how each is verified (staff of the case's organisation).

    :raise 404: the case is not theirs to know of. :raise 403: they may see it but are not its staff.
    """
    case = get_case_or_404(number)
    if not ops.can_verify_at_counter(current_user, case):
        abort(403)
    rows = [(p, ops.identity_of(p.user) if p.user is not None else None) for p in case.parties]
    return render_template("identity/counter_case.html", case=case, rows=rows)


@bp.route("/counter/<number>/parties/<int:party_id>", methods=["GET", "POST"])
@login_required
def counter_verify(number: str, party_id: int):
    """Check a party's ID card at the counter and record it.

    :raise 404: no such case or party for this user. :raise 403: not staff of the case's organisation.
    """
    case = get_case_or_404(number)
    if not ops.can_verify_at_counter(current_user, case):
        abort(403)
    party = _party_or_404(case, party_id)
    form = CounterVerifyForm()
    status = 200
    if form.validate_on_submit():
        try:
            found = ops.verify_at_counter(current_user._get_current_object(), case, party,
                                          legal_name=form.legal_name.data, id_number=form.id_number.data,
                                          card_checked=form.card_checked.data)
        except idnumber.InvalidIdNumber as exc:
            db.session.rollback()
            form.id_number.errors.append(exc.reason)
            status = 422
        except ops.IdentityRefused as exc:
            db.session.rollback()
            form.form_errors.append(exc.reason)
            status = exc.status
        else:
            flash(_("%(name)s's identity is verified (ID number %(masked)s).", name=found.legal_name,
                    masked=found.id_number_masked), "success")
            return redirect(url_for(".counter_case", number=case.number), code=303)
    elif form.errors:
        status = 400
    form.id_number.data = ""  # never sent back to the browser
    return render_template("identity/counter_verify.html", case=case, party=party, form=form,
                           identity=ops.identity_of(party.user) if party.user else None), status


# --- OpenID Connect -------------------------------------------------------------------------

@bp.post("/oidc/login")
@limiter.limit(_login_limit)
def oidc_login():
    if not oidc.configured():
        abort(404)
    next_url = safe_next(request.form.get("next"))
    if next_url:
        session["identity_next"] = next_url
    try:
        return oidc.authorize_redirect(url_for(".oidc_callback", _external=True))
    except oidc.SignInRefused as exc:
        return render_template("identity/oidc_refused.html", reason=exc.reason), 502


@bp.get("/oidc/callback")
@limiter.limit(_login_limit)
def oidc_callback():
    if not oidc.configured():
        abort(404)
    try:
        claims = oidc.claims_from_callback()
        signed_in = current_user._get_current_object() if current_user.is_authenticated else None
        user = oidc.sign_in_user(claims, signed_in)
    except oidc.SignInRefused as exc:
        db.session.rollback()
        return render_template("identity/oidc_refused.html", reason=exc.reason), exc.status
    next_url = session.pop("identity_next", None)
    if signed_in is None or signed_in.id != user.id:
        sessions.sign_in(user)
    flash(_("Signed in through %(provider)s.", provider=_provider_name()), "success")
    return redirect(safe_next(next_url) or url_for("cases.landing"), code=303)
