"""Sign-up and sign-in with a password or a one-time code; the account page (sessions, password)."""

from __future__ import annotations

from functools import partial
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user

from odr import transaction
from odr.auth import operations as ops
from odr.auth import sessions
from odr.auth.forms import CodeRequestForm, CodeVerifyForm, EndSessionsForm, LoginForm, PasswordForm, SignupForm
from odr.extensions import db, limiter, login_manager

bp = Blueprint("auth", __name__, url_prefix="/auth")

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to continue.")
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str):
    return sessions.user_for(user_id)


@bp.before_app_request
def _session_in_use():
    """Note the request's session as used, or forget one that ended (signed out elsewhere,
    expired): the browser is then simply not signed in."""
    if "_user_id" not in session or request.endpoint == "static":
        return
    if current_user.is_authenticated:
        sessions.touch()
    else:
        logout_user()
        session.pop(sessions.TOKEN, None)


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else ``None`` (no open redirects)."""
    if not target or len(target) > 500:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _after_sign_in(next_url):
    return redirect(safe_next(next_url) or url_for("cases.landing"), code=303)


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


def _code_limit():
    return current_app.config["CODE_RATE_LIMIT"]


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_code_limit, methods=["POST"])
def signup():
    form = SignupForm(next=request.args.get("next"))
    if form.validate_on_submit():
        if ops.find_user(form.contact.data):
            form.contact.errors.append(_("An account with this phone/e-mail exists. Sign in instead."))
        else:
            user = ops.create_user(form.contact.data, form.name.data, form.password.data,
                                   locale=session.get("lang"))
            sessions.sign_in(user)
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return _after_sign_in(form.next.data)
    return render_template("auth/signup.html", form=form), 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    form = LoginForm(next=request.args.get("next"))
    if form.validate_on_submit():
        try:
            user = ops.authenticate(form.contact.data, form.password.data)
        except ops.AuthError as exc:
            db.session.commit()  # keep the failure count
            form.password.errors.append(exc.reason)
        else:
            sessions.sign_in(user)
            return _after_sign_in(form.next.data)
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.route("/code", methods=["GET", "POST"])
@limiter.limit(_code_limit, methods=["POST"])
def request_code():
    form = CodeRequestForm(next=request.args.get("next"))
    if form.validate_on_submit():
        try:
            ops.send_code(form.contact.data)
        except ops.AuthError as exc:
            form.contact.errors.append(exc.reason)
        else:
            verify = CodeVerifyForm(contact=form.contact.data, next=form.next.data, formdata=None)
            flash(_("We sent a 6-digit code to %(contact)s.", contact=form.contact.data), "info")
            return render_template("auth/code_verify.html", form=verify)
    return render_template("auth/code_request.html", form=form), 400 if form.errors else 200


@bp.post("/code/verify")
@limiter.limit(_login_limit)
def verify_code():
    form = CodeVerifyForm()
    if form.validate_on_submit():
        user = ops.find_user(form.contact.data)
        if user is None and not form.name.data:
            form.name.errors.append(_("Enter your name to create your account."))
        else:
            try:
                ops.check_code(form.contact.data, form.code.data)
            except ops.AuthError as exc:
                db.session.commit()  # keep the attempt count
                form.code.errors.append(exc.reason)
            else:
                if user is None:
                    user = ops.create_user(form.contact.data, form.name.data, locale=session.get("lang"))
                sessions.sign_in(user)
                return _after_sign_in(form.next.data)
    return render_template("auth/code_verify.html", form=form), 400


@bp.post("/logout")
@login_required
def logout():
    ended = sessions.sign_out()
    transaction.after_commit(partial(sessions.close_connections, ended))
    return redirect(url_for("site.home"), code=303)


def _account_page(password_form=None, status=200):
    user = current_user._get_current_object()
    return render_template("auth/account.html", user=user, sessions=sessions.active(user),
                           this_session=sessions.current(), end_form=EndSessionsForm(),
                           password_form=password_form or PasswordForm()), status


@bp.get("/account")
@login_required
def account():
    return _account_page()


@bp.post("/account/sessions/end")
@login_required
def end_sessions():
    """Sign out of all devices, this one included."""
    form = EndSessionsForm()
    if not form.validate_on_submit():
        return _account_page(status=400)
    user = current_user._get_current_object()
    ended = sessions.end_all(user, sessions.SIGNED_OUT_EVERYWHERE, user)
    logout_user()
    session.pop(sessions.TOKEN, None)
    transaction.after_commit(partial(sessions.close_connections, ended))
    flash(_("You were signed out on every device."), "success")
    return redirect(url_for("auth.login"), code=303)


@bp.post("/account/password")
@login_required
@limiter.limit(_login_limit)
def change_password():
    """A new password; the account's other sessions end."""
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            ended = ops.change_password(user, form.current.data, form.password.data, keep=sessions.current())
        except ops.AuthError as exc:
            db.session.rollback()
            form.current.errors.append(exc.reason)
        else:
            transaction.after_commit(partial(sessions.close_connections, ended))
            flash(_("Your password was changed; you were signed out on your other devices."), "success")
            return redirect(url_for("auth.account"), code=303)
    return _account_page(password_form=form, status=400)
