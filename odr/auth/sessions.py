"""Sign-in sessions: which browsers are signed in to an account, until when, and ending them.

A session cookie only proves that the platform signed it once; kept by someone else, it would
stay good after signing out. So each sign-in also makes a :class:`LoginSession` row, the cookie
carries a random token whose hash is the row's key, and a request or Socket.IO event is signed in
only while that row is there and has not expired (:func:`user_for`, the user loader):

- idle: no request for ``SESSION_IDLE_MINUTES`` (an open chat or video connection is activity:
  its events are not held to the idle limit, and it notes the session as used when it opens,
  on its events and when it closes, so a two-hour hearing signs no one out);
- absolute: ``SESSION_MAX_HOURS`` after signing in, whatever happens.

Ending sessions deletes their rows: signing out ends this browser's; "sign out of all devices",
a role taken away or an administrator end all of an account's; a password change ends all but
the browser that changed it. Each of these is an audit event (signing in and out of one browser
are not, like before). The caller commits, then
:func:`close_connections` closes the ended sessions' open Socket.IO connections, on every app
process (through the message queue), and refuses their events from then on.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
from collections.abc import MutableMapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import lazyload, make_transient_to_detached
from sqlalchemy.orm.util import identity_key
from flask import current_app, g, has_request_context, request, session
from flask_login import current_user, login_user, logout_user

from odr import jobs, realtime
from odr.auth import recorder
from odr.auth.models import LoginSession, User
from odr.extensions import db
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

#: The cookie's key holding the session's token (next to Flask-Login's ``_user_id``).
TOKEN = "_odr_session"
#: ``seen_at`` is written at most this often (a page's requests and a call's events come in bursts).
TOUCH_SECONDS = 60

#: Why sessions ended, as the audit trail records it.
SIGNED_OUT = "signed_out"
SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
PASSWORD_CHANGED = "password_changed"
ROLE_REMOVED = "role_removed"
ENDED_BY_ADMIN = "ended_by_admin"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def room(session_id: int) -> str:
    """The Socket.IO room of one session's connections (every namespace joins it at connect)."""
    return f"login-{session_id}"


def stamp(cookie: MutableMapping, user: User, user_agent: str = "") -> LoginSession:
    """Start a session for ``user`` and write it into ``cookie`` (the session mapping), flushed.

    Signing in calls this through :func:`sign_in`; tests and benchmarks call it directly to sign
    a client in without the form.
    """
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = LoginSession(user_id=user.id, token_hash=_digest(token), created_at=now, seen_at=now,
                       user_agent=user_agent[:200])
    db.session.add(row)
    db.session.flush()
    cookie["_user_id"] = user.get_id()
    cookie["_fresh"] = True
    cookie[TOKEN] = token
    return row


#: What a visitor's cookie keeps when they sign in: the language they chose, and what other
#: packages name with :func:`keep_at_sign_in` (the invitations this browser opened).
KEPT_AT_SIGN_IN: set[str] = {"lang"}


def keep_at_sign_in(key: str) -> None:
    """Let the cookie session's ``key`` survive signing in (it holds nothing that signs anyone in)."""
    KEPT_AT_SIGN_IN.add(key)


def sign_in(user: User) -> LoginSession:
    """Sign ``user`` in on the browser of this request, in a fresh cookie session (nothing a
    visitor had in the cookie before carries over, but what :data:`KEPT_AT_SIGN_IN` names).
    Flushes; the caller commits."""
    kept = {key: session[key] for key in KEPT_AT_SIGN_IN if session.get(key)}
    session.clear()
    session.update(kept)
    row = stamp(session, user, request.user_agent.string or "")
    login_user(user)  # after stamp: Flask-Login reads the same _user_id, and records the sign-in
    g._odr_login_session = row
    return row


def user_for(user_id: str) -> User | None:
    """The user the cookie signs in, if its session is still on and has not expired (Flask-Login's
    user loader; runs once per request and once per Socket.IO event).

    A Socket.IO connection is checked against the database when it connects; its events then
    use what that check found (:class:`Identity`), without a query: the connection is closed,
    and its events refused, as soon as its session ends (:func:`odr.realtime.close_rooms`, on every
    process), and the absolute limit is checked on each event.
    """
    token = session.get(TOKEN)
    if not isinstance(token, str) or not (user_id.isascii() and user_id.isdigit()):
        return None
    if _in_event() and (known := request.environ.get(Identity.KEY)) is not None:
        return known.signed_in(user_id)
    # The session and its user in one statement. A Socket.IO event (a chat message, a signal)
    # is checked as strictly as a page, but its handler rarely asks for the person's roles: they
    # are read when first asked for, not with every event.
    query = sa.select(LoginSession, User).join(User, User.id == LoginSession.user_id).where(
        LoginSession.token_hash == _digest(token))
    if _in_event():
        query = query.options(lazyload(User.grants))
    found = db.session.execute(query).first()
    if found is None:
        return None
    row, user = found
    if str(row.user_id) != user_id or _expired(row.created_at, row.seen_at, utcnow()):
        return None
    g._odr_login_session = row
    if _connecting():
        request.environ[Identity.KEY] = Identity(user, row)
    return user


class Identity:
    """Who a Socket.IO connection signed in as, found when it connected and kept in its WSGI
    environ (one per connection, shared by its namespaces), so that its events need no query.

    The user's columns are kept, not the object (it belongs to the connect event's database
    session): each event gets a copy attached to its own session as if just loaded, its roles
    read when first asked for. So an event sees the account as it was when the connection was
    made (a name changed since shows on the next page). The session counts as ended once
    :func:`odr.realtime.close_rooms` marked the connection (``realtime.ENDED``: signed out,
    password changed, role taken away, ended by an administrator or a command) or its absolute
    limit passed.
    """

    KEY = "odr.identity"
    #: Not kept in memory for the connection's life (loaded if ever asked for).
    _UNKEPT = frozenset({"password_hash"})

    def __init__(self, user: User, row: LoginSession):
        self.user = {attr.key: getattr(user, attr.key) for attr in sa.inspect(User).column_attrs
                     if attr.key not in self._UNKEPT}
        self.session = {attr.key: getattr(row, attr.key) for attr in sa.inspect(LoginSession).column_attrs}

    def user_id(self, cookie_user_id: str | None) -> int | None:
        """The connection's user's id while its session is on and the cookie names that user;
        ``None`` once the session ended. No database session, no objects: a chat message needs
        no more of its sender."""
        if request.environ.get(realtime.ENDED) or str(self.user["id"]) != cookie_user_id:
            return None
        if _expired(self.session["created_at"], self.session["seen_at"], utcnow()):
            return None
        return self.user["id"]

    def signed_in(self, user_id: str) -> User | None:
        """The connection's user, in this event's database session; ``None`` once its session ended."""
        if self.user_id(user_id) is None:
            return None
        g._odr_login_session = LoginSession(**self.session)  # not added: touch() writes it by its id
        key = identity_key(User, self.user["id"])
        user = db.session.identity_map.get(key)
        if user is None:
            user = User(**self.user)
            make_transient_to_detached(user)  # as if loaded: nothing to write, the rest loads when read
            db.session.add(user)
        return user

    def seen(self, when: datetime) -> None:
        self.session["seen_at"] = when


def _connecting() -> bool:
    """Whether this is a Socket.IO connection being made (its "connect" event)."""
    event = getattr(request, "event", None) if has_request_context() else None
    return event is not None and event.get("message") == "connect"


def _in_event() -> bool:
    """Whether this is a Socket.IO event other than the connection's first ("connect")."""
    event = getattr(request, "event", None) if has_request_context() else None
    return event is not None and event.get("message") != "connect"


def _expired(created_at: datetime, seen_at: datetime, now: datetime) -> bool:
    cfg = current_app.config
    if _past_limit(created_at, now, cfg):
        return True
    # The events of an open Socket.IO connection are activity; the connection itself was
    # checked against the idle limit when it was made.
    if _in_event():
        return False
    return seen_at <= now - timedelta(minutes=cfg["SESSION_IDLE_MINUTES"])


def _past_limit(created_at: datetime, now: datetime, config) -> bool:
    """Whether a session made at ``created_at`` is past its absolute limit."""
    return created_at <= now - timedelta(hours=config["SESSION_MAX_HOURS"])


def quick_sender(app, environ: dict) -> int | None:
    """The user's id for a Socket.IO event handled without Flask's request context (a
    :meth:`odr.realtime.Namespace.event`'s ``quick`` case, the chat's usual message), from what the
    connection's check found (:class:`Identity`) and its copy of the cookie session; ``None``
    whenever :func:`event_sender` and :func:`touch` have anything to do, and so the event must take
    the full path: the session ended or is past its absolute limit, the cookie names someone
    else, the connection was made without the check, or the session's use is due to be noted."""
    known, saved = environ.get(Identity.KEY), environ.get("saved_session")
    if known is None or saved is None or environ.get(realtime.ENDED) or not isinstance(saved.get(TOKEN), str):
        return None
    now = utcnow()
    if (str(known.user["id"]) != saved.get("_user_id") or _past_limit(known.session["created_at"], now, app.config)
            or known.session["seen_at"] <= now - timedelta(seconds=TOUCH_SECONDS)):
        return None
    return known.user["id"]


def current() -> LoginSession | None:
    """The session the current request or event is signed in with (after the user was loaded)."""
    return g.get("_odr_login_session")


#: A Socket.IO event's note that its session was used is written by a writer of its own
#: (:class:`odr.realtime.GroupCommit`: on a database server, on a connection of its own), so that a
#: chat message never waits behind the pages for one of the app's pooled connections: under load
#: the pages hold them all, and the note once a minute held a message for seconds.
_event_notes = realtime.GroupCommit("session-seen")


def event_sender() -> int | None:
    """The id of the user whose Socket.IO event is being handled, ``None`` once their session
    ended: what the connection's check found (:class:`Identity`), without loading the user or
    opening a database session. ``current_user`` still gives the user, loaded when first used."""
    known = request.environ.get(Identity.KEY)
    if known is None:  # a connection made without the check (none is, today): ask Flask-Login
        return current_user.id if current_user.is_authenticated else None
    token = session.get(TOKEN)
    return known.user_id(session.get("_user_id")) if isinstance(token, str) else None


def touch() -> None:
    """Note that the current session was used now (at most once a minute). Commits at once: it
    is called before a request or event does anything else."""
    now = utcnow()
    known = request.environ.get(Identity.KEY) if _in_event() else None
    if known is not None:  # an event: the connection's session, as its check found it
        session_id, seen_at = known.session["id"], known.session["seen_at"]
    elif (row := current()) is not None:
        session_id, seen_at = row.id, row.seen_at
    else:
        return
    if seen_at > now - timedelta(seconds=TOUCH_SECONDS):
        return
    if known is not None:
        if db.session.registry.has():  # no connection held while the writer writes (served SQLite: one)
            _end_transaction_keeping_objects()
        try:
            _event_notes.write(functools.partial(_note_seen, session_id, now))
        except realtime.NotWritten:  # noted by the next event; the event itself goes on
            logger.warning("Session %s: its use was not noted (the writer's batch failed)", session_id)
            return
        known.seen(now)
        return
    _note_seen(session_id, now)
    db.session.commit()


def _end_transaction_keeping_objects() -> None:
    """End the session's transaction (handing back its connection, if it holds one) without
    expiring what it loaded: the event's user, attached without a query, would be read again
    from the database when next used."""
    current_session = db.session()
    keep, current_session.expire_on_commit = current_session.expire_on_commit, False
    try:
        current_session.commit()
    finally:
        current_session.expire_on_commit = keep


def _note_seen(session_id: int, when: datetime) -> None:
    db.session.execute(sa.update(LoginSession).where(LoginSession.id == session_id).values(seen_at=when))


def connection_closed() -> None:
    """A Socket.IO connection of the current session closed: the time it was open counts as
    activity for the next page. One statement on the session's row, without loading the user
    (a goodbye comes at any time; it must not hold locks on more than that row). An ended
    session stays ended: its row is gone."""
    token = session.get(TOKEN)
    if not isinstance(token, str):
        return
    now = utcnow()
    try:
        db.session.execute(sa.update(LoginSession).where(
            LoginSession.token_hash == _digest(token),
            LoginSession.seen_at <= now - timedelta(seconds=TOUCH_SECONDS)).values(seen_at=now))
        db.session.commit()
    except sa.exc.SQLAlchemyError:  # the namespace's own goodbye must go on
        db.session.rollback()
        logger.warning("The closed connection's session could not be noted as used", exc_info=True)


def sign_out() -> list[int]:
    """End the session of this request's browser and forget it in the cookie; the ids of the
    sessions ended, for :func:`close_connections` after the commit."""
    row = current()
    logout_user()
    session.pop(TOKEN, None)
    if row is None:
        return []
    db.session.execute(sa.delete(LoginSession).where(LoginSession.id == row.id))
    logger.info("Session %s of user %s ended (%s)", row.id, row.user_id, SIGNED_OUT)
    return [row.id]


def end_all(user: User, reason: str, actor, *, keep: LoginSession | None = None) -> list[int]:
    """End every session of ``user`` (but ``keep``) and record it; the ids ended, for
    :func:`close_connections` after the commit."""
    query = sa.select(LoginSession.id).where(LoginSession.user_id == user.id)
    if keep is not None:
        query = query.where(LoginSession.id != keep.id)
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(sa.delete(LoginSession).where(LoginSession.id.in_(ids)))
    recorder.record(actor, "sessions_ended", {"user": user.id, "reason": reason, "sessions": len(ids)})
    logger.info("%d session(s) of %s ended (%s) by %s", len(ids), user, reason, actor)
    return ids


def active(user: User) -> list[LoginSession]:
    """The sessions of ``user`` that have not expired, the most recently used first."""
    now = utcnow()
    rows = db.session.scalars(sa.select(LoginSession).where(LoginSession.user_id == user.id)
                              .order_by(LoginSession.seen_at.desc(), LoginSession.id.desc())).all()
    return [row for row in rows if not _expired(row.created_at, row.seen_at, now)]


def close_connections(session_ids: list[int]) -> None:
    """Close the open Socket.IO connections of the ended sessions (call it after the commit, or
    a browser reconnecting at once would find its session still there)."""
    realtime.close_rooms([room(i) for i in session_ids])


@jobs.register
def delete_expired_sessions(now: datetime) -> int:
    """Forget sessions past their absolute lifetime (their cookies are refused already). Idle
    ones stay until then: an open connection keeps its session alive without touching it."""
    oldest = now - timedelta(hours=current_app.config["SESSION_MAX_HOURS"])
    return db.session.execute(sa.delete(LoginSession).where(LoginSession.created_at <= oldest)).rowcount
