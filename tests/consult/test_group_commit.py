"""Group commit of chat messages (``odr.realtime.GroupCommit``), over real Socket.IO connections to
the live server: messages sent together are written in one transaction, each acknowledged only
once it is stored; a batch that fails stores none of its messages and tells every sender to send
again; membership is checked at every message."""

import threading
import time

import pytest
import sqlalchemy as sa

from odr.auth import sessions
from odr.auth.models import LoginSession, Role
from odr.consult.models import ConsultMessage, Consultation
from odr.extensions import db
from tests.consult.conftest import start, take


@pytest.fixture
def window(server):
    """Set the writer's gathering window (ms) for this test; the default comes back after."""
    config = server.app.config
    before = config["CHAT_COMMIT_WINDOW_MS"]

    def set_to(ms):
        config["CHAT_COMMIT_WINDOW_MS"] = ms

    yield set_to
    config["CHAT_COMMIT_WINDOW_MS"] = before


@pytest.fixture
def commits(server):
    """How many committed transactions of the live server wrote chat messages while the test ran."""
    count, writing = [0], set()

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO CONSULT_MESSAGE"):
            writing.add(id(conn))

    def on_commit(conn):
        if id(conn) in writing:
            writing.discard(id(conn))
            count[0] += 1

    # On every engine: on PostgreSQL the writer has one of its own (GroupCommit._own_engine).
    sa.event.listen(sa.Engine, "before_cursor_execute", on_execute)
    sa.event.listen(sa.Engine, "commit", on_commit)
    yield count
    sa.event.remove(sa.Engine, "before_cursor_execute", on_execute)
    sa.event.remove(sa.Engine, "commit", on_commit)


def conversations(people, in_app, n):
    """``n`` active consultations, each with its asker and consultant connected and joined."""
    made = []
    for _ in range(n):
        asker, consultant = people(), people(Role.consultant)
        cid = in_app(start, asker.user_id)
        in_app(take, consultant.user_id, cid)
        for p in (asker, consultant):
            p.connect()
            assert p.call("join", {"consultation_id": cid})["ok"]
        made.append((asker, consultant, cid))
    return made


def stored(server, **where):
    with server.app.app_context():
        query = sa.select(ConsultMessage.client_id).filter_by(**where)
        return list(db.session.scalars(query))


def all_at_once(sends):
    """Run every ``(person, payload)`` send from its own thread, started together; the answers in order."""
    answers = [None] * len(sends)
    go = threading.Barrier(len(sends))

    def run(i, person, payload):
        go.wait()
        answers[i] = person.call("send", payload)
        # Acknowledged means stored: the row is there for anyone who looks right after the ack.
        if answers[i].get("ok"):
            answers[i]["seen_in_database"] = payload["client_id"] in stored(
                person.server, consultation_id=payload["consultation_id"], client_id=payload["client_id"])

    threads = [threading.Thread(target=run, args=(i, p, d)) for i, (p, d) in enumerate(sends)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=15)
    return answers


def test_messages_sent_together_are_stored_once_in_fewer_commits_and_acked_after(server, people, in_app, window,
                                                                                 commits):
    window(50)
    chats = conversations(people, in_app, 3)
    sends = []
    for asker, consultant, cid in chats:
        for who, person in (("a", asker), ("c", consultant)):
            for k in range(3):
                sends.append((person, {"consultation_id": cid, "client_id": f"{who}{cid}-{k}", "body": f"hi {k}"}))
        sends.append((asker, {"consultation_id": cid, "client_id": f"a{cid}-0", "body": "hi 0"}))  # a resend, at once
    commits[0] = 0
    answers = all_at_once(sends)

    assert all(a["ok"] and a["seen_in_database"] for a in answers), answers
    ids = {}
    for (_person, payload), answer in zip(sends, answers):
        assert answer["message"]["client_id"] == payload["client_id"]
        ids.setdefault(payload["client_id"], set()).add(answer["message"]["id"])
    assert all(len(v) == 1 for v in ids.values())  # the resend got the same message
    for asker, consultant, cid in chats:
        assert sorted(stored(server, consultation_id=cid)) == sorted(
            f"{w}{cid}-{k}" for w in "ac" for k in range(3))
        # Each side sees the other's messages once (the resend is not shown again).
        got = [m["client_id"] for m in consultant.drain("message", wait=0.5) if m["sender_id"] == asker.user_id]
        assert sorted(got) == [f"a{cid}-{k}" for k in range(3)]
    # 21 sends: without group commit each is its own commit; here they share a few.
    assert commits[0] < len(sends) / 2, commits[0]


@pytest.fixture
def poison(server):
    """A database trigger that fails any insert of a message whose body is ``poison``."""
    with server.app.app_context():
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text(
                    "CREATE FUNCTION poison_message() RETURNS trigger AS $$ BEGIN "
                    "IF NEW.body = 'poison' THEN RAISE EXCEPTION 'poisoned message'; END IF; RETURN NEW; "
                    "END $$ LANGUAGE plpgsql"))
                conn.execute(sa.text("CREATE TRIGGER poison_message BEFORE INSERT ON consult_message "
                                     "FOR EACH ROW EXECUTE FUNCTION poison_message()"))
            else:
                conn.execute(sa.text("CREATE TRIGGER poison_message BEFORE INSERT ON consult_message "
                                     "WHEN NEW.body = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned message'); END"))
    try:
        yield
    finally:
        with server.app.app_context():
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP TRIGGER poison_message"
                                     + (" ON consult_message" if conn.dialect.name == "postgresql" else "")))
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.text("DROP FUNCTION poison_message()"))


def test_a_failing_batch_refuses_every_sender_and_stores_nothing(server, people, in_app, window, poison, caplog):
    window(500)  # the three sends, started together, land in one batch
    (a1, c1, cid1), (a2, _c2, cid2) = conversations(people, in_app, 2)
    sends = [(a1, {"consultation_id": cid1, "client_id": "fine-1", "body": "fine"}),
             (c1, {"consultation_id": cid1, "client_id": "bad-1", "body": "poison"}),
             (a2, {"consultation_id": cid2, "client_id": "fine-2", "body": "fine too"})]
    answers = all_at_once(sends)

    for answer in answers:
        assert answer["ok"] is False and answer["retry"] is True and answer["retry_after"] >= 1, answer
        assert answer["error"] == "Not saved yet: your message will be sent again in a moment."
    assert stored(server) == []
    assert c1.drain("message", wait=0.3) == []  # nothing was broadcast
    assert "none stored" in caplog.text

    window(0)  # the pages send again: the good messages go through, each once
    assert a1.call("send", sends[0][1])["ok"] and a2.call("send", sends[2][1])["ok"]
    assert a1.call("send", sends[0][1])["ok"]
    assert sorted(stored(server)) == ["fine-1", "fine-2"]


def test_a_member_who_was_removed_is_refused_at_once(server, people, in_app):
    (asker, consultant, cid), = conversations(people, in_app, 1)
    assert consultant.call("send", {"consultation_id": cid, "client_id": "c-1", "body": "before"})["ok"]
    other = people(Role.consultant)

    def hand_over():  # the consultation goes to another consultant while the first is connected
        db.session.get(Consultation, cid).consultant_id = other.user_id

    in_app(hand_over)
    answer = consultant.call("send", {"consultation_id": cid, "client_id": "c-2", "body": "after"})
    assert answer == {"ok": False, "error": "You are not in this consultation."}
    assert stored(server, consultation_id=cid) == ["c-1"]
    assert asker.call("send", {"consultation_id": cid, "client_id": "a-1", "body": "still here"})["ok"]


def test_a_refused_message_in_a_batch_does_not_fail_the_others(server, people, in_app, window):
    window(500)  # the two sends, started together, land in one batch
    (asker, consultant, cid), = conversations(people, in_app, 1)
    outsider = people().connect()  # signed in, but not in this consultation
    answers = all_at_once([(asker, {"consultation_id": cid, "client_id": "a-1", "body": "mine"}),
                           (outsider, {"consultation_id": cid, "client_id": "x-1", "body": "not mine"})])
    assert answers[0]["ok"] and answers[0]["seen_in_database"]
    assert answers[1] == {"ok": False, "error": "You are not in this consultation."}
    assert stored(server, consultation_id=cid) == ["a-1"]
    assert [m["client_id"] for m in consultant.drain("message", wait=0.3)] == ["a-1"]


@pytest.fixture
def statements(server):
    """The SQL statements the live server ran while the test ran (but transaction control)."""
    seen = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"):
            seen.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", on_execute)  # the writer's own engine too
    yield seen
    sa.event.remove(sa.Engine, "before_cursor_execute", on_execute)


def test_a_message_costs_one_statement_the_connection_is_not_checked_again(server, people, in_app, statements):
    """The sender's session and account were checked when the connection was made; a message is
    its insert alone (membership and the consultation's state are in the insert itself). Signing
    out still ends the connection, and the session's absolute limit still holds on every event
    (tests/auth/test_sessions.py)."""
    (asker, consultant, cid), = conversations(people, in_app, 1)
    statements.clear()
    answer = asker.call("send", {"consultation_id": cid, "client_id": "one-statement", "body": "hello"})
    assert answer["ok"], answer
    # (Other connections of the suite closing meanwhile may note their sessions as used: UPDATEs.)
    assert [s for s in statements if not s.startswith("UPDATE login_session")] == [statements[0]], statements
    assert statements[0].startswith("INSERT INTO consult_message"), statements
    assert stored(server, client_id="one-statement") == ["one-statement"]


def test_on_a_database_server_a_message_does_not_wait_behind_the_pages_connections(server, people, in_app,
                                                                                  monkeypatch):
    """On PostgreSQL the chat's writer, and the writer of an event's note that its session was
    used, have connections of their own: with every connection of the app's pool taken (by pages,
    in a served process under load), a message is still written and acknowledged at once, and its
    session noted as used — before, each waited for one of them until the sender was told to send
    again (the PostgreSQL soak: batches of 1–5 s, the chat refused as overload)."""
    with server.app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        pytest.skip("on SQLite the writers take the app's connection: a served process has one (odr.engine_options)")
    monkeypatch.setattr(sessions, "TOUCH_SECONDS", 0)  # every event notes its session as used
    (asker, _consultant, cid), = conversations(people, in_app, 1)
    with server.app.app_context():
        seen_before = db.session.scalar(sa.select(sa.func.max(LoginSession.seen_at)).where(
            LoginSession.user_id == asker.user_id))
    held = [engine.connect() for _ in range(engine.pool.size() + engine.pool._max_overflow)]
    try:
        for conn in held:
            conn.execute(sa.text("SELECT 1"))
        started = time.monotonic()
        answer = asker.call("send", {"consultation_id": cid, "client_id": "pool-taken", "body": "still here"})
        took = time.monotonic() - started
    finally:
        for conn in held:
            conn.close()
    assert answer["ok"], answer
    assert took < server.app.config["CHAT_COMMIT_TIMEOUT_SECONDS"] / 2, took
    assert stored(server, client_id="pool-taken") == ["pool-taken"]
    with server.app.app_context():
        assert db.session.scalar(sa.select(sa.func.max(LoginSession.seen_at)).where(
            LoginSession.user_id == asker.user_id)) > seen_before


def test_a_batch_of_messages_is_one_insert(server, people, in_app, window, statements):
    """The writer's batch of chat messages is written by one statement (ops.write_messages_of_members),
    each row still checked against its own consultation; each sender gets their own message back."""
    window(500)  # the six sends, started together, land in one batch
    chats = conversations(people, in_app, 3)
    sends = [(person, {"consultation_id": cid, "client_id": f"bulk-{cid}-{who}", "body": f"from {who} in {cid}"})
             for asker, consultant, cid in chats for who, person in (("a", asker), ("c", consultant))]
    statements.clear()
    answers = all_at_once(sends)

    assert all(a["ok"] and a["seen_in_database"] for a in answers), answers
    inserts = [s for s in statements if s.startswith("INSERT INTO consult_message")]
    assert len(inserts) == 1 and inserts[0].count("UNION ALL") == 5, inserts
    for (person, payload), answer in zip(sends, answers):
        assert answer["message"]["client_id"] == payload["client_id"]
        assert answer["message"]["body"] == payload["body"] and answer["message"]["sender_id"] == person.user_id
    assert len({a["message"]["id"] for a in answers}) == 6
    with server.app.app_context():  # what the room was sent is the message as stored and read back
        for answer in answers:
            assert db.session.get(ConsultMessage, answer["message"]["id"]).to_json() == answer["message"]
    for asker, consultant, cid in chats:
        assert sorted(stored(server, consultation_id=cid)) == [f"bulk-{cid}-a", f"bulk-{cid}-c"]
        assert [m["client_id"] for m in consultant.drain("message", wait=0.3)
                if m["sender_id"] == asker.user_id] == [f"bulk-{cid}-a"]
