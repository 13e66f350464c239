"""The chat's usual message is handled without Flask's request context (the quick case of
``realtime.Namespace.event``); everything else takes the full handler, which answers as it always
did. Over real Socket.IO connections to the live server."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from odr.auth.models import LoginSession, Role
from odr.consult import events
from odr.consult.models import ConsultMessage
from odr.extensions import db
from tests.consult.conftest import start, take


class Contexts(list):
    """The paths of the request contexts the live app makes for the events of the connections
    :meth:`watch` was given, not for the goodbyes of earlier tests' connections, which may come
    meanwhile."""

    def __init__(self, server):
        super().__init__()
        self.server, self.environs = server, set()

    def watch(self, person) -> None:
        socketio = self.server.app.extensions["socketio"].server
        self.environs.add(id(socketio.get_environ(person.sio.get_sid(namespace="/consult"), namespace="/consult")))


@pytest.fixture
def contexts(server, monkeypatch):
    made = Contexts(server)
    real = server.app.request_context

    def counting(environ):
        if id(environ) in made.environs:
            made.append(environ.get("PATH_INFO"))
        return real(environ)

    monkeypatch.setattr(server.app, "request_context", counting)
    return made


@pytest.fixture
def chat(people, in_app, contexts):
    asker, consultant = people(), people(Role.consultant)
    cid = in_app(start, asker.user_id)
    in_app(take, consultant.user_id, cid)
    for person in (asker, consultant):
        person.connect()
        contexts.watch(person)
        assert person.call("join", {"consultation_id": cid})["ok"]
    contexts.clear()  # joining's
    return asker, consultant, cid


def counted(person) -> int:
    """The events of ``person``'s connection the flood limit counts."""
    return len(events.flood._recent.get(person.sio.get_sid(namespace="/consult"), ()))


def test_a_text_message_is_stored_sent_and_acknowledged_without_a_request_context(server, chat, contexts):
    asker, consultant, cid = chat
    before = counted(asker)

    answer = asker.call("send", {"consultation_id": cid, "client_id": "quick-1", "body": "  hello  "})

    assert answer["ok"] and answer["message"]["body"] == "hello", answer
    assert contexts == []  # not one, for the whole send
    assert consultant.wait_for("message", lambda m: m["client_id"] == "quick-1")["id"] == answer["message"]["id"]
    with server.app.app_context():
        assert db.session.get(ConsultMessage, answer["message"]["id"]).to_json() == answer["message"]
    assert counted(asker) == before + 1

    again = asker.call("send", {"consultation_id": cid, "client_id": "quick-1", "body": "hello"})
    assert again["ok"] and again["message"]["id"] == answer["message"]["id"]  # a resend: the same message
    assert contexts == []
    assert consultant.drain("message", wait=0.3) == []  # and not sent to the room twice


@pytest.mark.parametrize("payload, error", [
    ({"client_id": "q-empty", "body": "   "}, "The message is empty."),
    ({"client_id": "q-long", "body": "x" * 5000}, "The message is too long"),
    ({"client_id": "bad id!", "body": "hi"}, "Malformed request."),
    ({"client_id": "q-type", "body": 42}, "Malformed request."),
    ({"client_id": "q-cid", "body": "hi", "consultation_id": "1"}, "Malformed request."),
    ({"client_id": "q-att", "body": "hi", "attachment_id": True}, "Malformed request."),
], ids=["empty", "too-long", "bad-client-id", "body-not-text", "id-not-int", "attachment-not-id"])
def test_what_the_quick_case_does_not_take_is_refused_by_the_full_handler(server, chat, contexts, payload, error):
    asker, consultant, cid = chat
    before = counted(asker)

    answer = asker.call("send", {"consultation_id": cid, **payload})

    assert answer["ok"] is False and answer["error"].startswith(error), answer
    assert contexts and all(path.startswith("/socket.io/") for path in contexts)
    assert asker.wait_for("problem")["error"].startswith(error)
    assert counted(asker) == before + 1  # counted once, by the full handler
    assert consultant.drain("message", wait=0.2) == []


def test_a_message_the_insert_refuses_is_answered_by_the_full_handler(server, chat, people, in_app, contexts):
    """Sent into someone else's consultation: the insert takes nothing, so the full handler checks
    again and says why, in the sender's language; nothing is stored."""
    asker, consultant, cid = chat
    other = in_app(start, people().user_id)
    before = counted(asker)

    answer = asker.call("send", {"consultation_id": other, "client_id": "q-not-mine", "body": "hi"})

    assert answer == {"ok": False, "error": "You are not in this consultation."}
    assert contexts
    assert counted(asker) == before + 1
    with server.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsultMessage).where(
            ConsultMessage.client_id == "q-not-mine")) == 0


def test_a_send_whose_session_use_is_due_to_be_noted_takes_the_full_handler(server, chat, contexts):
    """Once a minute an event notes that its session is in use (sessions.touch): that event takes
    the full handler, which writes the note, and the following ones are quick again."""
    asker, consultant, cid = chat
    with server.app.app_context():
        row = db.session.scalar(sa.select(LoginSession).where(LoginSession.user_id == asker.user_id))
        seen_before = row.seen_at
    environ = server.app.extensions["socketio"].server.get_environ(
        asker.sio.get_sid(namespace="/consult"), namespace="/consult")
    identity = environ["odr.identity"]
    identity.seen(identity.session["seen_at"] - timedelta(minutes=5))  # as if last noted five minutes ago

    assert asker.call("send", {"consultation_id": cid, "client_id": "q-due", "body": "hi"})["ok"]
    assert contexts, "the note is the full handler's"
    with server.app.app_context():
        assert db.session.get(LoginSession, row.id).seen_at > seen_before

    contexts.clear()
    assert asker.call("send", {"consultation_id": cid, "client_id": "q-after", "body": "hi"})["ok"]
    assert contexts == []
