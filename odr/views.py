"""Site-wide pages: the home page and the language switch."""

import hashlib
import json
from pathlib import Path

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from odr.auth.views import safe_next

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


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for it at the root whatever the page says (2 KB, answered from memory)."""
    icon = current_app.extensions.get("odr_favicon")
    if icon is None:
        icon = current_app.extensions["odr_favicon"] = (Path(current_app.static_folder) / "favicon.ico").read_bytes()
    return current_app.response_class(icon, mimetype="image/x-icon", headers={"Cache-Control": "public, max-age=604800"})


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest: the platform can be put on a phone's home screen."""
    from flask_babel import gettext as _

    body = json.dumps({
        "name": _("Online dispute resolution"), "short_name": "ODR",
        "lang": "zh-CN" if session.get("lang", "zh") == "zh" else "en",
        "start_url": url_for("site.home"), "scope": "/", "display": "standalone",
        "background_color": "#f6f7f9", "theme_color": "#0b5cad",
        "icons": [{"src": url_for("static", filename=f"icon-{n}.png"), "sizes": f"{n}x{n}", "type": "image/png"}
                  for n in (192, 512)],
    }, ensure_ascii=False)
    return current_app.response_class(body, mimetype="application/manifest+json",
                                      headers={"Cache-Control": "public, max-age=86400"})


#: Static files are served for a year when asked for by their content's hash (``?v=``), which
#: ``url_for('static', …)`` adds: a changed file gets a new address, so nothing stale is used.
STATIC_MAX_AGE = 365 * 24 * 3600


def static_hash(filename: str) -> str | None:
    """The first 12 hex digits of the SHA-256 of a static file (read once per process and file)."""
    cache = current_app.extensions.setdefault("odr_static_hashes", {})
    if filename not in cache:
        path = Path(current_app.static_folder) / filename
        try:
            cache[filename] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        except OSError:
            cache[filename] = None
    return cache[filename]


def init_static(app) -> None:
    """Content-hashed static addresses, cached for a year; the rest of the static files (the
    modules a page's script imports) are revalidated as before."""

    @app.url_defaults
    def _hash_static(endpoint, values):
        if endpoint == "static" and "v" not in values and values.get("filename"):
            digest = static_hash(values["filename"])
            if digest:
                values["v"] = digest

    @app.after_request
    def _cache_static(response):
        if request.endpoint == "static" and response.status_code == 200:
            digest = static_hash((request.view_args or {}).get("filename", ""))
            if digest and request.args.get("v") == digest:
                response.cache_control.public = True
                response.cache_control.max_age = STATIC_MAX_AGE
                response.cache_control.immutable = True
                response.cache_control.no_cache = None
        return response


@bp.get("/healthz")
def health():
    return {"status": "ok"}
