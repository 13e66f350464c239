"""odr — online multi-channel dispute resolution."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import Flask, g, has_request_context, session
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from odr.validation import DB_INT_MAX

ROOT = Path(__file__).resolve().parent.parent


def _instance_secret(app: Flask) -> str:
    """A random secret kept in the instance folder, made on first run."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def select_locale():
    if not has_request_context():
        return None
    supported = g.get("odr_languages") or ["zh", "en"]
    chosen = session.get("lang")
    if chosen in supported:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return current_user.locale
    return supported[0]


class DatabaseId(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


def _features():
    """The case file's core and the features, in the order they plug in (DESIGN §2): each registers
    its own blueprints, audit actions, workflow guards, role sources, signed-document kinds, jobs and
    court-bundle contributions in its ``init_app``; nothing is wired by an import's side effect."""
    from odr import (api, arbitrate, assess, auth, cases, consult, court, documents, field, identity, mediate, negotiate,
                     ops, perform, survey, video)

    return (auth, cases, documents, identity, consult, assess, negotiate, mediate, arbitrate, court, perform, survey,
            video, field, ops, api)


def check_wiring() -> None:
    """Refuse to start when the workflow names a guard that no feature registered, or a feature's
    documents need what no feature provides: a feature is not plugged in, and the platform would
    fail later, at a person's step (a sealed award that does not close its case)."""
    from odr.auth import recorder
    from odr.cases.workflow import unregistered_guards
    from odr.documents.case_file import missing_providers

    problems = []
    if not recorder.has_recorder():
        problems.append("account events have no audit trail to go to")
    if missing := unregistered_guards():
        problems.append(f"the workflow's guards {sorted(missing)} have no rule")
    from odr.documents.operations import has_identity_source
    if not has_identity_source():
        problems.append("signers' identity has no source (odr.identity)")
    if missing := missing_providers():
        problems.append(f"nothing provides {sorted(missing)} to the documents that need it")
    if problems:
        raise RuntimeError("; ".join(problems) + ": a feature is not plugged in (odr._features)")


def async_mode() -> str:
    """How this process waits: ``gevent`` in the served processes (patched at their start, see
    :mod:`odr.serve`), threads everywhere else (commands, tests, the jobs and media bridge)."""
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return "threading"
    return "gevent" if monkey.is_module_patched("socket") else "threading"


def engine_options(url: str) -> dict:
    """The database pool's settings.

    A served process on SQLite holds a single connection, handed from one greenlet to the next
    (gevent's lock: the others wait cooperatively). SQLite lets one writer at a time in; a second
    connection of the same process waiting for the lock would wait inside SQLite's C code, where
    gevent cannot switch back to the greenlet holding the lock — the whole process would stand
    still until the busy timeout. Other processes (the jobs, another worker) wait as usual.
    """
    options = {"pool_pre_ping": True}
    if url.startswith("sqlite") and async_mode() == "gevent":
        options.update(pool_size=1, max_overflow=0, pool_timeout=60)
    return options


def set_secure_cookies(app: Flask, secure: bool) -> None:
    """Whether the session and remember-me cookies are sent over HTTPS only."""
    app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = secure


class App(Flask):
    """The platform's Flask app: a Socket.IO event's request context looks up no route
    (:class:`odr.realtime.EventContext`)."""

    def request_context(self, environ: dict):
        from odr import realtime

        return realtime.request_context(self, environ)


def create_app(test_config: dict | None = None, *, sockets: bool = True) -> Flask:
    """The platform's app; ``sockets=False`` leaves out the Socket.IO server (commands that do not serve)."""
    app = App(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=os.environ.get("ODR_INSTANCE_PATH") or str(ROOT / "instance"),
    )
    from odr.json_provider import JSONProvider

    app.json = JSONProvider(app)  # refuses JSON bodies nested too deep to parse safely
    # Ids in URLs fit the database's integer columns (PostgreSQL: 32 bits); a larger number
    # in an address is a page that does not exist (404), not a database error.
    app.url_map.converters["int"] = DatabaseId
    app.config.from_object("odr.config")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("ODR")
    if test_config:
        app.config.from_mapping(test_config)

    secure = app.config["SECURE_COOKIES"]
    if secure is None:
        secure = app.config["PREFERRED_URL_SCHEME"] == "https"
    set_secure_cookies(app, bool(secure))

    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(app)
    db_url = app.config.get("DATABASE_URL") or f"sqlite:///{Path(app.instance_path) / 'odr.sqlite'}"
    if db_url.startswith("postgresql://"):
        db_url = "postgresql+psycopg://" + db_url[len("postgresql://"):]
    app.config["SQLALCHEMY_DATABASE_URI"] = db_url
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(db_url))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(ROOT / "translations")

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from odr import errors, headers, transaction
    from odr.extensions import babel, csrf, db, limiter, login_manager

    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    if sockets:
        from flask_socketio import SocketIO

        # This app's own server (app.extensions["socketio"]): each feature's init_app registers
        # its namespace on it. One client's events are handled one after another, in the order
        # sent: WebRTC signalling depends on it (an ICE candidate handled before the answer it
        # follows is lost), and so does a chat's order. python-socketio's default runs each in
        # its own thread.
        from odr.realtime import SessionInterface, client_manager

        app.session_interface = SessionInterface()

        queue = app.config["SOCKETIO_MESSAGE_QUEUE"]
        SocketIO(app, async_mode=async_mode(), async_handlers=False,
                 client_manager=client_manager(queue, app.config["SOCKETIO_CHANNEL"]),
                 transports=["websocket"] if app.config["SOCKETIO_WEBSOCKET_ONLY"] else ["polling", "websocket"],
                 cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS") or [],
                 logger=False, engineio_logger=False)
    if int(app.config.get("PROXY_FIX") or 0) > 0:
        # Last, so that the Socket.IO server too sees the client's scheme, address and host.
        from werkzeug.middleware.proxy_fix import ProxyFix

        trusted = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted, x_host=trusted)
    transaction.init_app(app)
    errors.init_app(app)
    headers.init_app(app)

    @app.before_request
    def _languages():
        g.odr_languages = app.config["LANGUAGES"]

    from odr import views as site

    app.register_blueprint(site.bp)
    site.init_static(app)  # content-hashed static addresses, cached for a year
    from odr.auth.sessions import keep_at_sign_in

    keep_at_sign_in(site.ELDERLY)  # the browser's elderly mode stays on through signing in
    for feature in _features():
        feature.init_app(app)
    check_wiring()
    from odr.cases.labels import install_filters

    install_filters(app)  # values (enums, dates, districts, time zones) as people read them

    from odr.cli import register_commands

    register_commands(app)

    @app.context_processor
    def _template_helpers():
        from flask_babel import get_locale

        from odr.auth.models import Role
        from odr.cases import labels, sla, todo
        from odr.cases.stages import STAGE_ENDPOINTS
        from odr.cases.workflow import parse_target, stage_label

        return {
            "stage_label": stage_label,
            "stage_label_value": lambda value: stage_label(parse_target(value)) if parse_target(value) else value,
            "STAGE_ENDPOINTS": STAGE_ENDPOINTS,
            "Role": Role,
            "labels": labels,
            "sla_of": sla.of,
            "current_locale": str(get_locale() or "zh"),
            "my_workplaces": lambda: todo.workplaces(current_user),
            "elderly_mode": site.elderly_mode,
        }

    return app
