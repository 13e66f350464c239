"""Site-wide pages: the home page and the language switch."""

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from odr.auth.views import safe_next

bp = Blueprint("site", __name__)


@bp.get("/")
def home():
    return render_template("home.html")


@bp.post("/lang")
def set_language():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
    return redirect(safe_next(request.form.get("next")) or url_for("site.home"), code=303)


@bp.get("/healthz")
def health():
    return {"status": "ok"}
