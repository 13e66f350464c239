"""What every Socket.IO namespace shares: its handlers registered on each app's own server
(:class:`Namespace`), the checks around every event (session still alive, flood limit, refusal
answered in the acknowledgement), the check of the ids a payload carries, sending to an app's
connections (:func:`emit`; from a process that serves none, through :mod:`odr.relay`), and closing
the connections of a session that ended.

A handler refuses an event by raising :class:`odr.refusal.Refused` (through :func:`refuse`, which
also logs why); :meth:`Namespace.event` turns it into ``{"ok": false, "error": reason}`` and a
``problem`` event. Every id in a payload goes through :func:`database_id` before it reaches a query.

There is no global Socket.IO server: ``create_app`` gives each app its own
(``app.extensions["socketio"]``) and each feature's ``init_app`` registers its namespace on it, so
an app in a test, a second app in one process and a served worker each answer with their own.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import threading
import time
from collections import defaultdict, deque
from contextlib import contextmanager

from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask, current_app, g, request
from flask.ctx import RequestContext
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import current_user

from odr import relay
from odr.extensions import db
from odr.refusal import Refused
from odr.validation import is_database_id

logger = logging.getLogger(__name__)


def emit(event: str, data, *, to: str, namespace: str, app: Flask | None = None) -> None:
    """Send ``event`` to the connections in ``to`` (a room or one connection's sid) through this
    app's server, and through the message queue to those of the app's other processes.

    A process that serves no connections (the periodic jobs, ``odr tick``: its app has no Socket.IO
    server) hands the event to the live relay instead, in its open transaction
    (:func:`odr.relay.keep`): the serving process sends it on once that is committed. ``app``:
    the app to send through where there is no app context (the quick case of an event).
    """
    socketio = (app or current_app).extensions.get("socketio")
    if socketio is None:
        relay.keep(event, data, to=to, namespace=namespace)
        return
    socketio.emit(event, data, to=to, namespace=namespace)


def relaying() -> bool:
    """Whether this app's live events go through the relay (:func:`emit`): it serves no connections."""
    return "socketio" not in current_app.extensions


class SessionInterface(SecureCookieSessionInterface):
    """The cookie session, not decoded again for each Socket.IO event: Flask-SocketIO keeps a copy
    of it per connection, made at its first event (``saved_session`` in the connection's environ),
    and puts that copy in place of whatever the request context opened; so, once the copy is
    there, the context gets an empty session instead of a check of the cookie's signature."""

    def open_session(self, app, request):
        if "saved_session" in request.environ:
            return self.session_class()
        return super().open_session(app, request)


#: The path under which the Socket.IO server answers (Flask-SocketIO's default). A request for it
#: never reaches the Flask app itself: the Socket.IO middleware in front takes them all.
SOCKETIO_PATH = "/socket.io/"


class EventContext(RequestContext):
    """The request context Flask-SocketIO opens around each Socket.IO event, on the environ of
    the connection's handshake: its path is the Socket.IO server's, which is no page, so no route
    is looked up for it (a chat message spent ~4 % of the served worker's CPU failing to find
    one). ``url_for`` works as in any request."""

    def match_request(self) -> None:
        pass


def request_context(app: Flask, environ: dict) -> RequestContext:
    """``app``'s request context for ``environ``: :class:`EventContext` for a Socket.IO event."""
    if environ.get("PATH_INFO", "").startswith(SOCKETIO_PATH):
        return EventContext(app, environ)
    return RequestContext(app, environ)


class Namespace:
    """A namespace's handlers, collected when its module is read and registered on an app's
    server by :meth:`register` (the feature's ``init_app``).

    :meth:`event` handlers are checked: a sender whose session ended (``sender``: the signed-in
    user's id, or ``None``; :func:`sender_id` gives it to the handler) is told and disconnected; the
    session's last use is noted (``touch``); ``args`` gives the handler what it needs before the
    payload (the video namespace: the sender's connection); the flood limit counts the event; a
    refusal is rolled back and answered (acknowledgement and ``problem`` event), any other failure
    too, with its traceback in the log only. :meth:`on` handlers (connect, disconnect, events of
    the media bridge) are registered as they are.

    An event may also have a ``quick`` case (:meth:`event`), handled without Flask's request
    context when ``quick_sender(app, environ)`` knows the sender without any of the checks above
    having work to do (the chat's usual message).
    """

    def __init__(self, name: str, flood: FloodLimit, *, sender: Callable[[], int | None],
                 touch: Callable[[], None] = lambda: None, args: Callable[[], tuple] = tuple,
                 quick_sender: Callable[[Flask, dict], int | None] = lambda app, environ: None):
        self.name, self.flood, self.touch, self.sender, self.args = name, flood, touch, sender, args
        self.quick_sender = quick_sender
        self._handlers: dict[str, Callable] = {}
        self._shed: set[str] = set()
        self._quick: dict[str, Callable] = {}

    def on(self, event: str):
        def add(fn):
            self._handlers[event] = fn
            return fn

        return add

    def event(self, event: str, *, shed: bool = False, quick: Callable | None = None):
        """Register a checked handler of ``event``. ``shed``: when the process is overloaded
        (:data:`load`), the event is refused at once, before it costs anything (ahead of
        Flask-SocketIO's request context), with an answer that says to send it again later
        (``retry``, ``retry_after`` in seconds) — chat messages, typing and read marks, which the
        page sends again; not the video's signalling, which a call cannot do without.

        ``quick(app, sid, sender_id, data)``: the event's usual case, handled without the request
        context Flask-SocketIO makes around each event (making and ending it, and reaching the
        connection's state through it, was a tenth of a busy chat worker's time). It gives the
        answer (``ok`` is added), or ``None`` for the full handler to take the event as if
        ``quick`` had not seen it: it must then have changed nothing, so it hands over anything
        unusual (a payload it would refuse, an attachment, a refusal by the database). It runs
        only when ``quick_sender`` knows the sender and the flood limit lets the event through.
        """

        def add(fn):
            def checked(data=None):
                with load.handling():
                    return handle(data)

            def handle(data):
                if (sender := self.sender()) is None:
                    return signed_out(self.name)
                g._odr_sender_id = sender
                try:
                    self.touch()
                    args = self.args()
                    self.flood.check(request.sid)
                    return {"ok": True, **(fn(*args, data) or {})}
                except NotWritten:  # its batch failed as a whole: nothing of it is stored
                    db.session.rollback()
                    return not_written()
                except Refused as exc:  # a bad event, or the feature's rule
                    db.session.rollback()
                    reason = str(exc.reason)
                except Exception:
                    db.session.rollback()
                    logger.exception("%s %s failed", self.name, event)
                    emit("problem", {"event": event, "error": _("Something went wrong. Try again.")},
                         to=request.sid, namespace=self.name)
                    return {"ok": False, "error": "server error"}
                emit("problem", {"event": event, "error": reason}, to=request.sid, namespace=self.name)
                return {"ok": False, "error": reason}

            checked.__name__ = f"on_{event}"
            self._handlers[event] = checked
            if shed:
                self._shed.add(event)
            if quick is not None:
                self._quick[event] = quick
            return fn

        return add

    def register(self, app: Flask) -> None:
        """Hand the handlers to ``app``'s Socket.IO server (none when the app serves no sockets)."""
        server = app.extensions.get("socketio")
        if server is None:
            return
        for event, handler in self._handlers.items():
            server.on_event(event, handler, namespace=self.name)
            handlers = server.server.handlers[self.name]  # python-socketio's: these come first
            if event in self._quick:
                handlers[event] = self._quickly(app, self._quick[event], handlers[event])
            if event in self._shed:
                handlers[event] = load.shedding(app, self.name, handlers[event])

    def _quickly(self, app: Flask, quick: Callable, full: Callable) -> Callable:
        """python-socketio's handler of an event with a ``quick`` case: that case, else ``full``
        (Flask-SocketIO's handler: the request context, the checks, the handler)."""
        server = app.extensions["socketio"].server

        def quick_or_full(sid, data=None, *more):
            environ = server.get_environ(sid, namespace=self.name)
            if not more and environ is not None and (sender := self.quick_sender(app, environ)) is not None:
                with load.handling():
                    answer = self._quick_answer(app, environ, quick, sid, sender, data)
                if answer is not None:
                    return answer
            return full(sid, data, *more)

        return quick_or_full

    def _quick_answer(self, app: Flask, environ: dict, quick: Callable, sid: str, sender: int, data) -> dict | None:
        try:
            self.flood.check(sid)
        except Refused:  # the full handler refuses it (a refused event is not counted)
            return None
        try:
            answer = quick(app, sid, sender, data)
        except NotWritten:
            return answer_in(app, (environ.get("saved_session") or {}).get("lang"), not_written)
        except Exception:  # handed over like anything unusual; the full handler answers it
            logger.exception("%s: the quick case of an event failed; the full handler takes it", self.name)
            answer = None
        if answer is None:
            self.flood.uncount(sid)  # the full handler counts it
            return None
        return {"ok": True, **answer}


class Load:
    """How busy this process is, for refusing what can wait before the process falls behind.

    Two measures: events being handled right now (``in_flight``: on a busy database they queue for
    its connection), and how late the event loop runs (``lag``: a task that asks to wake every
    ``TICK`` seconds notes by how much it woke late, smoothed). Past either limit
    (``SOCKET_MAX_IN_FLIGHT``, ``SOCKET_MAX_LAG_MS``) sheddable events are refused with a
    retryable answer (:meth:`shedding`), which the pages send again after a growing, randomised
    wait: the load that reaches the database stays at what it can do, the connections keep
    answering their pings (nobody is disconnected), a page request still gets its turn, and every
    message that was acknowledged was stored.

    A refusal costs a fraction of a handled event: it is answered before Flask-SocketIO makes the
    event's request context, from an answer made once per language. A connection refused is held
    (not read from) for ``SOCKET_SHED_HOLD_SECONDS`` before its answer, at most once per such a
    period: a page, or thousands, sending again at once cannot keep the process busy refusing;
    and the frames that came meanwhile are then read without a pause, so that a client which does
    not wait (a script) never has so much unread that its answer to the server's ping is read too
    late (which would close its connection).
    """

    TICK = 0.05
    #: While events are refused, the log says so at most once per this many seconds (the limit that
    #: refused them, the most events in flight and the loop's largest lag meanwhile).
    REPORT_SECONDS = 10.0
    #: In a connection's environ: until when its refusals are answered without holding it again.
    HELD = "odr.shed_held_until"

    def __init__(self):
        self.in_flight = 0
        self.lag = 0.0
        self._watching_in = None  # the process id the watcher runs in
        self._lock = threading.Lock()
        self._refused = {"in_flight": 0, "lag": 0}  # since the last report, per limit
        self._peak_in_flight, self._peak_lag = 0, 0.0

    @contextmanager
    def handling(self):
        with self._lock:
            self.in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1

    def over(self, config) -> str | None:
        """The limit this process is past (``"in_flight"`` or ``"lag"``), or ``None``."""
        if self.in_flight >= config["SOCKET_MAX_IN_FLIGHT"]:
            return "in_flight"
        if self.lag * 1000 >= config["SOCKET_MAX_LAG_MS"]:
            return "lag"
        return None

    def shedding(self, app: Flask, namespace: str, handler: Callable) -> Callable:
        """python-socketio's ``handler`` of a sheddable event, refused at once while the process is
        :meth:`over` a limit."""
        server = app.extensions["socketio"]

        def shed_or_handle(sid, *args):
            self.watch(server)
            config = app.config
            self._peak_in_flight = max(self._peak_in_flight, self.in_flight)
            limit = self.over(config)
            if limit is None:
                return handler(sid, *args)
            self._refused[limit] += 1
            environ = server.server.get_environ(sid, namespace=namespace) or {}
            now = time.monotonic()
            if environ.get(self.HELD, 0) <= now:
                # This connection's events are read one after another (async_handlers=False):
                # holding the answer holds its next frames in the socket, unread.
                hold = config["SOCKET_SHED_HOLD_SECONDS"]
                time.sleep(hold)
                environ[self.HELD] = time.monotonic() + hold
            saved = environ.get("saved_session") or {}
            return answer_in(app, saved.get("lang"), busy)

        return shed_or_handle

    def watch(self, server) -> None:
        """Start measuring the loop's lag in this process (once; again in a forked child)."""
        if self._watching_in == os.getpid():
            return
        self._watching_in = os.getpid()
        server.start_background_task(self._measure, self._watching_in)

    def _measure(self, pid: int) -> None:
        reported = time.monotonic()
        while self._watching_in == pid:
            started = time.monotonic()
            time.sleep(self.TICK)  # gevent's sleep in a served process (patched)
            late = max(0.0, time.monotonic() - started - self.TICK)
            self.lag = 0.7 * self.lag + 0.3 * late
            self._peak_lag = max(self._peak_lag, self.lag)
            if started - reported >= self.REPORT_SECONDS:
                self.report(started - reported)
                reported = started

    def report(self, seconds: float) -> None:
        """Log what was refused in the last ``seconds`` (nothing when nothing was), and start counting again."""
        refused, self._refused = self._refused, {"in_flight": 0, "lag": 0}
        peak_in_flight, peak_lag = self._peak_in_flight, self._peak_lag
        self._peak_in_flight, self._peak_lag = self.in_flight, self.lag
        if any(refused.values()):
            logger.warning("Overloaded: %d events refused in %.0f s (%d at the in-flight limit, %d at the "
                           "loop-lag limit); at most %d events in flight, the event loop at most %.0f ms late",
                           sum(refused.values()), seconds, refused["in_flight"], refused["lag"],
                           peak_in_flight, peak_lag * 1000)


#: This process's load (one event loop per process).
load = Load()


def end_transaction() -> None:
    """Commit the event's database transaction, if it opened a session at all, before it waits for
    a :class:`GroupCommit` writer: a served process on SQLite has one connection, which the writer
    needs. An event that read nothing (a chat message: its sender is known from the connection)
    has no session to end."""
    if db.session.registry.has():
        db.session.commit()


class NotWritten(Exception):
    """The write handed to :meth:`GroupCommit.write` was not stored: its batch failed (or did not
    commit in time). The event is answered with :func:`not_written`."""


def not_written() -> dict:
    """The answer to an event whose write was not stored: send it again (the page does, after
    ``retry_after`` seconds; a write is kept once however often it comes, see its ``client_id``)."""
    return {"ok": False, "retry": True, "retry_after": current_app.config["SOCKET_RETRY_AFTER_SECONDS"],
            "error": _("Not saved yet: your message will be sent again in a moment.")}


def busy() -> dict:
    """The answer to an event refused because the process is overloaded (:meth:`Load.shedding`)."""
    return {"ok": False, "retry": True, "retry_after": current_app.config["SOCKET_RETRY_AFTER_SECONDS"],
            "error": _("Busy: your message will be sent again in a moment.")}


_answers: dict[tuple[int, str, Callable], dict] = {}


def answer_in(app: Flask, language: str | None, answer: Callable[[], dict]) -> dict:
    """``answer()`` (:func:`busy`, :func:`not_written`) in ``language`` (the app's first one if it
    has none of it), made once per app and language: it is given where no request context is
    made (a refusal of an overloaded process; the quick case of an event)."""
    languages = app.config["LANGUAGES"]
    language = language if language in languages else languages[0]
    key = (id(app), language, answer)
    if key not in _answers:
        from flask_babel import force_locale

        with app.app_context(), force_locale(language):
            _answers[key] = {k: str(v) if k == "error" else v for k, v in answer().items()}
    return dict(_answers[key])


class _Job:
    def __init__(self, fn: Callable | None, bulk: Callable[[list], list] | None = None, item=None):
        self.fn, self.bulk, self.item, self.result, self.ok = fn, bulk, item, None, False
        self.done = threading.Event()

    def finish(self, ok: bool, result=None) -> None:
        self.ok, self.result = ok, result
        self.done.set()


class GroupCommit:
    """Writes of many events, arriving close together in one process, committed in one transaction.

    A handler hands :meth:`write` a function that makes its writes (flush, never commit). One
    writer per app and process (a thread; a greenlet in a served process, which gevent patched)
    takes the writes waiting, waits ``CHAT_COMMIT_WINDOW_MS`` for more (unless enough wait already), takes up to
    ``CHAT_COMMIT_MAX_MESSAGES``, runs them one after another in its own session and commits once.
    Only then does each handler get its function's result and answer its sender: an acknowledged
    write is stored. When any of them fails, or the commit does, the whole batch is rolled back
    and every handler in it gets :class:`NotWritten`: nothing of the batch is stored, and each
    sender is told to send again. The functions run in the writer's session: they take plain
    values, not the handler's objects.

    The handler must hold no database connection while it waits (it commits or rolls back first):
    a served process on SQLite has a single one (:func:`odr.engine_options`), which the writer needs.
    On a database server (PostgreSQL) the writer has a connection of its own instead (its own pool
    of one, made in the process that writes): it never waits behind the pages for one of the app's
    pooled connections. Without it, under load the chat stood still while the pages held every
    pooled connection: batches of 20 messages took 1–5 s and the chat was refused as overload
    while the worker's event loop ran on time (bench/README.md, "Soak and crash").
    """

    def __init__(self, name: str):
        self.name = name

    def write(self, fn: Callable):
        """``fn()``'s result once the batch it ran in has committed.

        :raise NotWritten: the batch failed and was rolled back, or did not commit within
            ``CHAT_COMMIT_TIMEOUT_SECONDS`` (it may still commit later: what it writes must be
            kept once however often it is sent).
        """
        return self._wait(_Job(fn))

    def write_in_bulk(self, bulk: Callable[[list], list], item, app: Flask | None = None):
        """The result for ``item`` of ``bulk(items)``, which the writer calls once with the items of
        every write of the batch handed the same ``bulk`` (in the order they came) and which returns
        one result per item, in that order: one statement for a batch of chat messages instead of
        one per message. Committed, and failing, as :meth:`write`. ``app``: where there is no app
        context (the quick case of an event), the app whose writer writes it.

        :raise NotWritten: as :meth:`write`.
        """
        return self._wait(_Job(None, bulk, item), app)

    def _wait(self, job: _Job, app: Flask | None = None):
        app = app or current_app._get_current_object()
        self._jobs(app).put(job)
        if not job.done.wait(app.config["CHAT_COMMIT_TIMEOUT_SECONDS"]):
            logger.error("%s write not committed within %ss", self.name, app.config["CHAT_COMMIT_TIMEOUT_SECONDS"])
            raise NotWritten()
        if not job.ok:
            raise NotWritten()
        return job.result

    def _jobs(self, app: Flask) -> queue.Queue:
        """This app's queue of writes in this process, its writer started on first use (again in a
        forked child: a thread does not survive a fork)."""
        writers = app.extensions.setdefault("odr.group_commit", {})
        with _writers_lock:
            pid, jobs, engine = writers.get(self.name, (None, None, None))
            if pid != os.getpid():
                if engine is not None:  # the parent's: its connection is not this process's to use or close
                    engine.dispose(close=False)
                jobs, engine = queue.Queue(), self._own_engine(app)
                writers[self.name] = (os.getpid(), jobs, engine)
                threading.Thread(target=self._run, args=(app, jobs, engine), name=f"odr-{self.name}-writer",
                                 daemon=True).start()
        return jobs

    @staticmethod
    def _own_engine(app: Flask) -> sa.Engine | None:
        """The writer's own pool of one connection to the app's database server; ``None`` on SQLite,
        where the writer takes the app's connection (a served process has only one: a second would
        wait for SQLite's lock where gevent cannot switch, see :func:`odr.engine_options`)."""
        with app.app_context():
            url = db.engine.url
        if url.get_backend_name() == "sqlite":
            return None
        return sa.create_engine(url, pool_size=1, max_overflow=0, pool_pre_ping=True)

    def _run(self, app: Flask, jobs: queue.Queue, engine: sa.Engine | None) -> None:
        while True:
            batch = [jobs.get()]
            most = app.config["CHAT_COMMIT_MAX_MESSAGES"]
            if jobs.qsize() < most - 1:
                # One sleep for the window, not a wait with a timeout for each write that comes in
                # it (on a busy chat that is dozens of timers per batch); what came meanwhile is taken.
                time.sleep(app.config["CHAT_COMMIT_WINDOW_MS"] / 1000)
            self._commit(app, _take_waiting(jobs, batch, most), engine)

    def _commit(self, app: Flask, batch: list[_Job], engine: sa.Engine | None) -> None:
        results = None
        try:
            with app.app_context():
                if engine is not None:  # this context's db.session: one on the writer's own connection
                    db.session.registry.set(_session_on(engine))
                try:
                    results = _run_batch(batch)
                    db.session.commit()
                except Exception:
                    results = None
                    db.session.rollback()
                    raise
        except Exception:
            logger.exception("A batch of %d %s writes failed: none stored, every sender told to send again",
                             len(batch), self.name)
        for i, job in enumerate(batch):
            job.finish(results is not None, results[i] if results is not None else None)


_writers_lock = threading.Lock()


def _take_waiting(waiting: queue.Queue, batch: list, most: int) -> list:
    """``batch`` with what is waiting in ``waiting`` added, without waiting, up to ``most`` in all."""
    while len(batch) < most:
        try:
            batch.append(waiting.get_nowait())
        except queue.Empty:
            break
    return batch


def _run_batch(batch: list[_Job]) -> list:
    """The results of a batch's writes, in its order: each ``fn`` on its own, in the order they came,
    then each ``bulk`` once with the items of its writes."""
    results, bulks = [None] * len(batch), {}
    for i, job in enumerate(batch):
        if job.bulk is None:
            results[i] = job.fn()
        else:
            bulks.setdefault(job.bulk, []).append(i)
    for bulk, indexes in bulks.items():
        answers = bulk([batch[i].item for i in indexes])
        if len(answers) != len(indexes):
            raise RuntimeError(f"{bulk.__qualname__} gave {len(answers)} results for {len(indexes)} writes")
        for i, answer in zip(indexes, answers):
            results[i] = answer
    return results


def _session_on(engine: sa.Engine):
    """A session like ``db.session``'s (its class, which carries the app's session listeners, and
    its options) that takes its connection from ``engine``, where Flask-SQLAlchemy's would take
    the app's."""
    factory = db.session.session_factory
    return _own_connection_class(factory.class_)(**{**factory.kw, "bind": engine})


@functools.cache
def _own_connection_class(session_class: type) -> type:
    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return bind if bind is not None else self.bind

    return type(f"OwnConnection{session_class.__name__}", (session_class,), {"get_bind": get_bind})


def refuse(namespace: str, message, log: str | None = None):
    """Refuse the event being handled: ``message`` goes to the sender, ``log`` (if any) to the log.

    :raise Refused: always.
    """
    if log:
        logger.warning("Refused %s event from user %s: %s", namespace, getattr(current_user, "id", None), log)
    raise Refused(message)


class FloodLimit:
    """At most ``events`` events per connection in any ``seconds``; more are refused. A
    connection's events all reach the process it is connected to, so the count stays there."""

    def __init__(self, namespace: str, events: int, seconds: float):
        self.namespace, self.events, self.seconds = namespace, events, seconds
        self._recent: dict[str, deque] = defaultdict(deque)

    def check(self, sid: str) -> None:
        """:raise Refused: the connection ``sid`` sent too many events lately."""
        now = time.monotonic()
        q = self._recent[sid]
        while q and now - q[0] > self.seconds:
            q.popleft()
        if len(q) >= self.events:
            refuse(self.namespace, _("Too many messages at once. Wait a moment."), "flood")
        q.append(now)

    def uncount(self, sid: str) -> None:
        """Take back the last event :meth:`check` counted for ``sid`` (checked again elsewhere)."""
        q = self._recent.get(sid)
        if q:
            q.pop()

    def forget(self, sid: str) -> None:
        """The connection closed."""
        self._recent.pop(sid, None)

    def reset(self) -> None:
        """Forget every connection (tests start from nothing)."""
        self._recent.clear()


def database_id(namespace: str, data: dict, key: str, *, optional: bool = False) -> int | None:
    """``data[key]`` if it is a row's id (``None`` when ``optional`` and absent).

    :raise Refused: anything else, e.g. a string, a bool, 0 or 2**70.
    """
    value = data.get(key)
    if value is None and optional:
        return None
    if not is_database_id(value):
        refuse(namespace, _("Malformed request."), f"bad {key}")
    return value


def sender_id() -> int:
    """The id of the signed-in user whose event a :meth:`Namespace.event` handler is handling
    (checked before the handler runs), without loading the user: ``current_user`` does that."""
    return g._odr_sender_id


def signed_out(namespace: str) -> dict:
    """The answer to an event whose sender's session ended since the connection was made
    (signed out, on this device or all, or expired): the connection is told (``signed_out``) and
    closed."""
    from flask_socketio import disconnect, emit

    logger.info("Closed %s connection %s: its session ended", namespace, request.sid)
    emit("signed_out", {})
    disconnect()
    return {"ok": False, "error": _("You were signed out. Sign in again.")}


#: Set in the WSGI environ of a connection whose session ended (:func:`close_rooms`): its events
#: are refused from then on, before it is closed (``odr.auth.sessions`` reads it).
ENDED = "odr.session_ended"


def close_rooms(rooms: list[str]) -> None:
    """Close every connection in ``rooms`` on every namespace and every app process, and tell each
    it was signed out; each is marked :data:`ENDED` at once, so an event it sends before it is
    closed is refused.

    The connections of a process are closed in a task of their own, so each namespace's
    disconnect handler runs as for any goodbye, in its own app context. With a message queue
    (several app processes behind a proxy), every process closes its own (:class:`EndingRooms`).
    """
    if not rooms:
        return
    if relaying():
        # A command (``odr end-sessions``, ``odr revoke-role``): the serving process closes them,
        # told through the live relay. Called after the caller's commit, so this is a transaction
        # of its own; a command stopped between the two leaves the connections open until the
        # session's absolute limit (their sessions have ended: a page or a new connection is refused).
        for room in rooms:
            relay.keep(relay.CLOSE_ROOM, {}, to=room, namespace="*")
        db.session.commit()
        return
    server = current_app.extensions["socketio"].server
    if isinstance(server.manager, EndingRooms):
        server.manager.end_rooms(rooms)
    else:
        end_rooms_here(server, rooms)


def end_rooms_here(server, rooms: list[str]) -> None:
    """Mark :data:`ENDED`, tell and close the connections of this process in ``rooms``."""
    here = [(sid, namespace, eio_sid) for namespace in list(server.manager.get_namespaces())
            for room in rooms for sid, eio_sid in server.manager.get_participants(namespace, room)]
    for sid, namespace, eio_sid in here:
        environ = server.environ.get(eio_sid)
        if environ is not None:
            environ[ENDED] = True
        server.emit("signed_out", {}, to=sid, namespace=namespace, ignore_queue=True)
    if here:
        server.start_background_task(_disconnect, server, [(sid, namespace) for sid, namespace, _ in here])


class RoomIndex:
    """A client manager that keeps each connection's rooms, so that a goodbye finds them at once.

    python-socketio finds a connection's rooms by looking through every room of the namespace
    (every connection has one of its own, and each of ours is in two or three more), on each
    disconnect and each ``get_rooms``: with N connections, each goodbye costs O(N), and N
    connections dropping at once (a network blip, the load balancer, a restart of a proxy) cost
    O(N²) of the worker's only core while it answers no one. Every change of a room goes through
    ``basic_enter_room`` / ``basic_leave_room``, which keep the index; the goodbye then leaves the
    rooms the index holds and clears the rest as python-socketio does.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._rooms_of: dict[tuple[str, str], set] = {}

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self._rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid, namespace, room):
        super().basic_leave_room(sid, namespace, room)
        rooms = self._rooms_of.get((namespace, sid))
        if rooms is not None:
            rooms.discard(room)
            if not rooms:
                del self._rooms_of[(namespace, sid)]

    def get_rooms(self, sid, namespace):
        return [room for room in self._rooms_of.get((namespace, sid), ()) if room is not None]

    def basic_disconnect(self, sid, namespace, **kwargs):
        if namespace not in self.rooms:
            return
        for room in list(self._rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)
        # The rest as python-socketio's BaseManager.basic_disconnect.
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            if sid in pending.get(namespace, ()):
                pending[namespace].remove(sid)
                if not pending[namespace]:
                    del pending[namespace]


class EndingRooms:
    """A message queue's client manager that also ends rooms on every process: :meth:`end_rooms`
    publishes a ``close_room`` marked ``odr_end``, which each process (this one included) answers
    with :func:`end_rooms_here` instead of python-socketio's emptying of the room."""

    def end_rooms(self, rooms: list[str]) -> None:
        message = {"method": "close_room", "rooms": rooms, "namespace": None, "host_id": self.host_id,
                   "odr_end": True}
        self._handle_close_room(message)  # python-socketio's listener skips its own messages
        self._publish(message)

    def _handle_close_room(self, message):
        if message.get("odr_end"):
            end_rooms_here(self.server, [room for room in message.get("rooms") or [] if isinstance(room, str)])
        else:
            super()._handle_close_room(message)


class QueuedPublish:
    """A Redis message queue's client manager that publishes from one task, in pipelines.

    python-socketio publishes each emit from the greenlet that made it: a round trip to Redis on a
    connection of its own while it waits. On a busy process hundreds wait at once, and redis-py
    (from 6) refuses the 101st connection of a pool (``MaxConnectionsError``). python-socketio
    takes that for a lost server and makes a new client; the old one's pool, closed when it is
    dropped, takes the subscription's connection with it, so the process hears nothing from the
    others until it subscribes again (a process at its in-flight limit of 128 lost 676 messages to
    the other process this way, bench/README.md 2026-12-08).

    Here :meth:`_publish` only queues the message (already encoded, in order) and returns; one
    task per process takes everything queued and publishes it in one pipeline (one write, one
    read) on a client of its own, which the subscription does not share. A failed pipeline is
    sent again once on a new client, then given up (logged), as python-socketio does.
    """

    #: The most messages in one pipeline.
    PIPELINE_MOST = 500

    def _publish(self, data):
        if getattr(self, "_publishing_in", None) != os.getpid():  # again in a forked child
            self._publishing_in, self._outbox, self._publisher = os.getpid(), queue.Queue(), None
            self.server.start_background_task(self._publish_queued, self._outbox)
        self._outbox.put(self.json.dumps(data))

    def _publish_queued(self, outbox: queue.Queue) -> None:
        while True:
            self._publish_batch(_take_waiting(outbox, [outbox.get()], self.PIPELINE_MOST))

    def _publish_batch(self, batch: list[str]) -> None:
        import redis

        for attempt in (1, 2):
            try:
                if self._publisher is None:
                    self._publisher = redis.Redis.from_url(self.redis_url, **self.redis_options)
                pipe = self._publisher.pipeline(transaction=False)
                for message in batch:
                    pipe.publish(self.channel, message)
                pipe.execute()
                return
            except Exception as exc:  # noqa: BLE001 — the connection, or the server: a new client once
                publisher, self._publisher = self._publisher, None
                if publisher is not None:
                    publisher.close()
                logger.error("Publishing %d messages to Redis failed (%s)%s", len(batch), exc,
                             ": sending them again" if attempt == 1 else ": given up")


def client_manager(url: str | None, channel: str):
    """The Socket.IO server's client manager: python-socketio's own for one process (``url``
    ``None``), or the message queue's at ``url`` (the class Flask-SocketIO would choose for it),
    which also ends rooms on every process (:class:`EndingRooms`); both keep each connection's
    rooms (:class:`RoomIndex`)."""
    import socketio

    if not url:
        return type("IndexedManager", (RoomIndex, socketio.Manager), {})()
    if url.startswith(("redis://", "rediss://")):
        base = socketio.RedisManager
    elif url.startswith("kafka://"):
        base = socketio.KafkaManager
    elif url.startswith("zmq"):
        base = socketio.ZmqManager
    else:
        base = socketio.KombuManager
    mixins = (RoomIndex, EndingRooms, QueuedPublish) if base is socketio.RedisManager else (RoomIndex, EndingRooms)
    manager = type(f"Ending{base.__name__}", (*mixins, base), {})
    return manager(url, channel=channel)


def _disconnect(server, connections) -> None:
    for sid, namespace in connections:
        try:
            server.disconnect(sid, namespace=namespace)
        except Exception:  # one connection failing to close must not keep the others open
            logger.exception("Closing connection %s on %s failed", sid, namespace)
