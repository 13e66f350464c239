"""Site-wide pages: the home page and the language switch."""

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from odr.auth.views import safe_next
from odr.extensions import db

bp = Blueprint("site", __name__)


@bp.get("/")
def home():
    """Signed out: what the platform does and its services. Signed in: every step waiting for the
    person across their cases, most urgent first, and the pages where they work."""
    if not current_user.is_authenticated:
        return render_template("home.html")
    from odr.cases import todo

    me = current_user._get_current_object()
    return render_template("home.html", todos=todo.across_cases(me), workplaces=todo.workplaces(me))


@bp.post("/lang")
def set_language():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
    return redirect(safe_next(request.form.get("next")) or url_for("site.home"), code=303)


#: The cookie session's key that remembers elderly mode in this browser (kept across sign-in).
ELDERLY = "elderly"


def elderly_mode() -> bool:
    """Whether this page is shown in elderly mode: this browser's choice, else the account's."""
    chosen = session.get(ELDERLY)
    if chosen is not None:
        return bool(chosen)
    return bool(current_user.is_authenticated and current_user.elderly)


@bp.post("/elderly")
def set_elderly():
    """Switch elderly mode (长辈版) on or off, for this browser and, signed in, for the account."""
    on = request.form.get("on") == "1"
    session[ELDERLY] = on
    if current_user.is_authenticated:
        current_user.elderly = on
    return redirect(safe_next(request.form.get("next")) or url_for("site.home"), code=303)


@bp.get("/healthz")
def health():
    return {"status": "ok"}
