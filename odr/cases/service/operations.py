"""Use cases of electronic service (电子送达).

- :func:`confirm_addresses`: a party's service address confirmation (送达地址确认书) — the phone
  numbers and e-mail addresses at which they accept service, and their consent to electronic
  service — when joining a case, or changed later; recorded in the case's audit chain.
- :func:`serve`: a formal notice sent through the outbox to each confirmed address (before a
  confirmation: the contacts the case knows) with a link of its own, ``/s/<token>``; each
  :class:`ServiceRecord` keeps what was served (SHA-256), to whom, by which channel, when, what
  the carrier answered and when the recipient first opened it (:func:`open_link`).
- :func:`send_service_reminders`: the periodic job that reminds a silent respondent on the
  configured schedule (``SERVICE_REMINDERS``: SMS, e-mail, a call task for the staff) and, once
  ``SERVICE_RESPONSE_DAYS`` passed, records that the respondent did not respond and offers the
  claimant the court hand-off.

Each function changes state, writes its audit entry and flushes; the caller commits.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr import outbox
from odr.auth.models import User
from odr.cases import audit
from odr.cases.models import Case, CaseParty, PartyStatus, Side
from odr.cases.notices import tell_representatives
from odr.cases.service.models import PartyService, ServiceRecord, ServiceTask
from odr.contacts import ContactError, normalize_email, normalize_phone
from odr.extensions import db
from odr.links import absolute_url
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

#: At most this many addresses of each kind in one confirmation.
MAX_ADDRESSES = 3
CALL = "call"
OTHER_CHANNEL = "other_channel"

ACTIONS = {
    "service_address_confirmed": _l("Service address confirmed"),
    "served": _l("Notice served"),
    "service_opened": _l("Served notice opened"),
    "service_failure_handled": _l("Failed delivery followed up"),
    "service_reminder": _l("Reminder served"),
    "service_call_task": _l("Call task for the staff"),
    "service_call_done": _l("Call made"),
    "respondent_did_not_respond": _l("The respondent did not respond"),
}


class ServiceError(Refused):
    """A service request that cannot be done (a link for another account, bad addresses)."""


class InvalidAddresses(ServiceError):
    status = 422


@dataclass(frozen=True)
class Served:
    """How a notice to a case's parties is served: its kind, the page its link leads to, and the
    SHA-256 of the document it serves (``None``: the notice's own text is what is served)."""

    kind: str
    target: str
    document_sha256: str | None = None

    @classmethod
    def link(cls, kind: str, url: str, document_sha256: str | None = None) -> Served:
        """Served with a link to ``url`` (an absolute URL of the platform)."""
        return cls(kind, urlsplit(url).path, document_sha256)


def path_of(endpoint: str, **values) -> str:
    """The platform path of an endpoint (a served link's target), inside or outside a request."""
    return urlsplit(absolute_url(endpoint, **values)).path


# --- addresses ------------------------------------------------------------------------------

def state_of(party: CaseParty, create: bool = True) -> PartyService | None:
    state = db.session.scalar(sa.select(PartyService).where(PartyService.party_id == party.id))
    if state is None and create:
        state = PartyService(party_id=party.id, case_id=party.case_id, phones=[], emails=[], reminders_done=[])
        db.session.add(state)
    return state


def parse_addresses(phones_raw: str, emails_raw: str) -> tuple[list[str], list[str]]:
    """Phone numbers and e-mail addresses as typed (one per line or separated by commas), in their
    normal forms.

    :raise InvalidAddresses: one cannot be read, too many, or none at all.
    """
    def split(raw):
        return [p.strip() for p in (raw or "").replace("，", ",").replace("\n", ",").split(",") if p.strip()]

    phones, emails = [], []
    for raw, out, normalize in ((phones_raw, phones, normalize_phone), (emails_raw, emails, normalize_email)):
        items = split(raw)
        if len(items) > MAX_ADDRESSES:
            raise InvalidAddresses(_l("Give at most %(n)s phone numbers and %(n)s e-mail addresses.", n=MAX_ADDRESSES))
        for item in items:
            try:
                value = normalize(item)
            except ContactError as exc:
                raise InvalidAddresses(_l("%(value)s: %(reason)s", value=item[:60], reason=str(exc))) from None
            if value not in out:
                out.append(value)
    if not phones and not emails:
        raise InvalidAddresses(_l("Give at least one phone number or e-mail address for service."))
    return phones, emails


def confirm_addresses(party: CaseParty, actor, phones: list[str], emails: list[str], consent: bool) -> PartyService:
    """Record the party's service address confirmation (or its change).

    :raise InvalidAddresses: no consent to electronic service, or no address.
    """
    if not consent:
        raise InvalidAddresses(_l("Consent to electronic service to confirm these addresses."))
    if not phones and not emails:
        raise InvalidAddresses(_l("Give at least one phone number or e-mail address for service."))
    state = state_of(party)
    changed = state.confirmed_at is not None
    state.phones, state.emails, state.consent = list(phones), list(emails), True
    state.confirmed_at = utcnow()
    state.confirmed_by_id = getattr(actor, "id", None)
    audit.record(party.case, actor, "service_address_confirmed", {
        "side": party.side, "phones": phones, "emails": emails, "consent": True, "changed": changed})
    logger.info("Case %s: %s confirmed service addresses", party.case, party.side.value)
    return state


def addresses_for(party: CaseParty) -> list[str]:
    """Where the party is served: the confirmed addresses; before a confirmation, the account's
    contact once they joined (as every notice reached them before), else the contacts the
    invitation was sent to."""
    state = state_of(party, create=False)
    if state is not None and state.confirmed:
        return [*state.phones, *state.emails]
    # by id, not through ``party.user``: loading the relationship while nobody has joined would keep
    # ``None`` in it after ``join_case`` sets ``user_id``
    user = db.session.get(User, party.user_id) if party.user_id is not None else None
    if user is not None and user.contact:
        return [user.contact]
    known = [party.phone, party.email]
    out = []
    for value in known:
        if value and value not in out:
            out.append(value)
    return out


# --- serving --------------------------------------------------------------------------------

def serve(case: Case, party: CaseParty, kind: str, text: str, target: str, *, subject: str | None = None,
          document_sha256: str | None = None, channels: tuple[str, ...] | None = None, actor=None,
          audit_action: str | None = None, attachment: outbox.Attachment | None = None) -> list[ServiceRecord]:
    """Serve ``text`` to each address of ``party`` (of ``channels`` only, when given), each with its
    own link to ``target``. The records are the proof (sealed into the court bundle's proof of
    service); ``audit_action`` also writes one audit entry for the lot (reminders, follow-ups)."""
    subject = subject or _("Case %(number)s", number=case.number)
    sha = document_sha256 or hashlib.sha256(text.encode()).hexdigest()
    records = []
    now = utcnow()
    for address in addresses_for(party):
        channel = outbox.channel_for(address)
        if channels is not None and channel not in channels:
            continue
        token = secrets.token_urlsafe(24)
        link = absolute_url("service.open", token=token)
        message = outbox.enqueue(address, subject, f"{text} {link}", case=case, attachment=attachment)
        db.session.flush()
        record = ServiceRecord(case_id=case.id, party_id=party.id, user_id=party.user_id, kind=kind, text=text,
                               document_sha256=sha, channel=channel, address=address, token=token, target=target,
                               outbox_message_id=message.id, sent_at=now)
        db.session.add(record)
        records.append(record)
    db.session.flush()
    if records:  # the party's agents and helpers get a copy (not service: the link is the party's own)
        tell_representatives(case, party, subject, text, attachment=attachment)
    if records and audit_action:
        audit.record(case, actor, audit_action, {
            "kind": kind, "side": party.side, "document_sha256": sha,
            "to": [{"record": r.id, "channel": r.channel, "address": r.address} for r in records]})
    return records


def serve_parties(case: Case, users, text: str, served: Served, *, subject: str | None = None,
                  attachment: outbox.Attachment | None = None) -> set[int]:
    """Serve ``text`` to each of ``users`` who is a joined party of ``case``; return their user ids
    (the others are told the ordinary way)."""
    done = set()
    for party in case.parties:
        if party.status is not PartyStatus.joined or party.user_id is None:
            continue
        if not any(u is not None and u.id == party.user_id for u in users) or party.user_id in done:
            continue
        serve(case, party, served.kind, text, served.target, subject=subject, document_sha256=served.document_sha256,
              attachment=attachment)
        done.add(party.user_id)
    return done


def record_for_token(token: str) -> ServiceRecord | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(sa.select(ServiceRecord).where(ServiceRecord.token == token))


def open_link(record: ServiceRecord, user) -> str:
    """The recipient opened their link: note the first time; return where it leads.

    :raise ServiceError: the link belongs to another account (or the party joined with another).
    """
    party = db.session.get(CaseParty, record.party_id) if record.party_id is not None else None
    owner = record.user_id or (party.user_id if party is not None else None)
    me = getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None
    if owner is not None and me != owner:
        raise ServiceError(_l("This link was sent to someone else. Sign in with the account it was sent to."))
    if owner is None and me is not None and party is not None \
            and any(p.user_id == me and p.id != party.id for p in party.case.parties):
        raise ServiceError(_l("This link was sent to someone else. Sign in with the account it was sent to."))
    if record.first_opened_at is None:
        record.first_opened_at = utcnow()
        audit.record(db.session.get(Case, record.case_id), user if me else None, "service_opened",
                     {"record": record.id, "kind": record.kind, "channel": record.channel})
    return record.target


def records_of(case: Case) -> list[ServiceRecord]:
    return list(db.session.scalars(sa.select(ServiceRecord).where(ServiceRecord.case_id == case.id)
                                   .order_by(ServiceRecord.id)))


def failed_deliveries(case: Case) -> list[ServiceRecord]:
    """Deliveries the carrier refused and nobody followed up yet."""
    return [r for r in records_of(case) if r.failed and r.handled_at is None]


def open_tasks(case: Case) -> list[ServiceTask]:
    return list(db.session.scalars(sa.select(ServiceTask).where(ServiceTask.case_id == case.id,
                                                                 ServiceTask.done_at.is_(None))
                                   .order_by(ServiceTask.id)))


def next_step(record: ServiceRecord) -> str:
    """What to do about a failed delivery: the other channel when the party has an address there,
    else a phone call."""
    party = db.session.get(CaseParty, record.party_id)
    other = outbox.EMAIL if record.channel == outbox.SMS else outbox.SMS
    if party is not None and any(outbox.channel_for(a) == other for a in addresses_for(party)):
        return OTHER_CHANNEL
    return CALL


def handle_failure(record: ServiceRecord, actor) -> list[ServiceRecord] | ServiceTask:
    """Follow up a failed delivery with its :func:`next_step`: serve again by the other channel, or
    open a call task.

    :raise ServiceError: the delivery did not fail, or was followed up already.
    """
    if not record.failed or record.handled_at is not None:
        raise ServiceError(_l("This delivery needs no follow-up."))
    case = db.session.get(Case, record.case_id)
    party = db.session.get(CaseParty, record.party_id)
    step = next_step(record)
    record.handled_at = utcnow()
    audit.record(case, actor, "service_failure_handled", {"record": record.id, "next_step": step})
    if step == OTHER_CHANNEL:
        other = outbox.EMAIL if record.channel == outbox.SMS else outbox.SMS
        return serve(case, party, record.kind, record.text, record.target, document_sha256=record.document_sha256,
                     channels=(other,), actor=actor, audit_action="served")
    return add_call_task(case, party, f"{record.channel} to {record.address} failed: {record.error}"[:500], actor)


def add_call_task(case: Case, party: CaseParty, reason: str, actor=None) -> ServiceTask:
    task = ServiceTask(case_id=case.id, party_id=party.id, kind=CALL, reason=reason, created_at=utcnow())
    db.session.add(task)
    db.session.flush()
    audit.record(case, actor, "service_call_task", {"task": task.id, "side": party.side, "reason": reason})
    return task


def complete_task(task: ServiceTask, actor, note: str) -> None:
    """The staff member made the call; ``note`` says what came of it.

    :raise ServiceError: done already.
    """
    if task.done_at is not None:
        raise ServiceError(_l("This task is done already."))
    task.done_at = utcnow()
    task.done_by_id = actor.id
    task.note = note
    audit.record(db.session.get(Case, task.case_id), actor, "service_call_done", {"task": task.id, "note": note})


# --- the silent respondent ------------------------------------------------------------------

def await_response(party: CaseParty, now: datetime | None = None) -> PartyService:
    """Start the respondent's time to answer the invitation (``SERVICE_RESPONSE_DAYS``)."""
    state = state_of(party)
    now = now or utcnow()
    state.response_due_at = now + timedelta(days=float(current_app.config["SERVICE_RESPONSE_DAYS"]))
    state.reminders_done = []
    return state


def schedule() -> list[dict]:
    """The reminder steps, ``[{"day": 1, "channel": "sms"}, …]`` (channel ``sms``, ``email`` or ``call``)."""
    return sorted(current_app.config["SERVICE_REMINDERS"], key=lambda s: float(s["day"]))


def no_response(case: Case) -> PartyService | None:
    """The respondent's state once they were recorded as not responding, else ``None``."""
    respondent = case.respondent
    if respondent is None:
        return None
    state = state_of(respondent, create=False)
    return state if state is not None and state.no_response_at is not None else None


def _invitation_target(party: CaseParty) -> str:
    return path_of("cases.invitation", token=party.invite_token)


def send_service_reminders(now: datetime) -> int:
    """Remind the invited respondents who have not answered, step by step; record that the
    respondent did not respond once the deadline passed. Returns the steps taken."""
    rows = db.session.scalars(
        sa.select(PartyService).join(CaseParty, CaseParty.id == PartyService.party_id).join(Case, Case.id == PartyService.case_id)
        .where(PartyService.no_response_at.is_(None), PartyService.response_due_at.is_not(None),
               CaseParty.status == PartyStatus.invited, Case.closed_at.is_(None))
        .order_by(PartyService.response_due_at).limit(500)).all()
    steps = schedule()
    done = 0
    for state in rows:
        party, case = state.party, state.case
        if party.invite_token is None:
            continue
        if now >= state.response_due_at:
            _record_no_response(case, party, state, now)
            done += 1
            continue
        elapsed = now - party.invited_at
        for index, step in enumerate(steps):
            if index in state.reminders_done or elapsed < timedelta(days=float(step["day"])):
                continue
            state.reminders_done = [*state.reminders_done, index]
            _remind(case, party, step, index)
            done += 1
    return done


def _remind(case: Case, party: CaseParty, step: dict, index: int) -> None:
    channel = step["channel"]
    if channel in (outbox.SMS, outbox.EMAIL):
        text = _("Reminder: you are invited to resolve a dispute online, case %(number)s. Please join or decline "
                 "by %(due)s; after that the claimant may take the case to court.", number=case.number,
                 due=state_of(party).response_due_at.strftime("%Y-%m-%d"))
        records = serve(case, party, "reminder", text, _invitation_target(party), channels=(channel,),
                        audit_action="service_reminder")
        if records:
            return
        # no address on this channel: the other one, else a call
        records = serve(case, party, "reminder", text, _invitation_target(party), audit_action="service_reminder")
        if records:
            return
    add_call_task(case, party, f"reminder step {index + 1} (day {step['day']}): call {party.name}")


def _record_no_response(case: Case, party: CaseParty, state: PartyService, now: datetime) -> None:
    records = [r for r in records_of(case) if r.party_id == party.id]
    state.no_response_at = now
    audit.record(case, None, "respondent_did_not_respond", {
        "side": party.side, "invited_at": party.invited_at, "due_at": state.response_due_at,
        "served": [{"record": r.id, "kind": r.kind, "channel": r.channel, "address": r.address,
                    "document_sha256": r.document_sha256,
                    "accepted_at": r.accepted_at, "first_opened_at": r.first_opened_at} for r in records]})
    claimant = case.claimant
    if claimant is not None and claimant.status is PartyStatus.joined:
        serve(case, claimant, "no_response",
              _("The other party did not respond to case %(number)s by the deadline. You may take the case to "
                "court: the platform's proof of service goes with it.", number=case.number),
              path_of("cases.show", number=case.number), audit_action="served")
    logger.info("Case %s: the respondent did not respond by %s", case, state.response_due_at)


def how_served(party: CaseParty) -> list[dict]:
    """How ``party`` was served, for the complaint and the court bundle: each served notice."""
    return [{"kind": r.kind, "channel": r.channel, "address": r.address, "document_sha256": r.document_sha256,
             "sent_at": r.sent_at, "accepted_at": r.accepted_at, "first_opened_at": r.first_opened_at,
             "error": r.error}
            for r in db.session.scalars(sa.select(ServiceRecord).where(ServiceRecord.party_id == party.id)
                                        .order_by(ServiceRecord.id))]


def respondent_silent(case: Case):
    """Workflow guard: the respondent was recorded as not responding."""
    if no_response(case) is None:
        return _l("The other party still has time to answer the invitation.")
    return None


# --- figures for the dashboard ----------------------------------------------------------------

@dataclass
class ResponseRow:
    """Invited respondents served by one channel (or in one organisation's cases): how many answered
    (joined or declined), and the mean hours from the invitation to the answer."""

    key: object
    invited: int
    responded: int
    mean_hours: float | None

    @property
    def rate(self) -> float | None:
        return self.responded / self.invited if self.invited else None


def response_figures(by: str, where: list, period: tuple) -> list[ResponseRow]:
    """Response rate and time to first response of the respondents invited in ``period`` (dates,
    inclusive) in the cases matching ``where``, per ``by``: ``channel`` (each channel the invitation
    was served by) or ``organization_id``."""
    start = datetime.combine(period[0], datetime.min.time())
    end = datetime.combine(period[1] + timedelta(days=1), datetime.min.time())
    key = ServiceRecord.channel if by == "channel" else Case.organization_id
    rows = db.session.execute(
        sa.select(key, CaseParty.id, CaseParty.status, CaseParty.invited_at, CaseParty.responded_at)
        .select_from(ServiceRecord).join(CaseParty, CaseParty.id == ServiceRecord.party_id)
        .join(Case, Case.id == ServiceRecord.case_id)
        .where(ServiceRecord.kind == "invitation", CaseParty.side == Side.respondent,
               CaseParty.invited_at >= start, CaseParty.invited_at < end, *where)
        .distinct()).all()
    groups: dict = {}
    for k, _party, status, invited_at, responded_at in rows:
        g = groups.setdefault(k, [0, 0, []])
        g[0] += 1
        if status is not PartyStatus.invited and responded_at is not None:
            g[1] += 1
            g[2].append((responded_at - invited_at).total_seconds() / 3600)
    return [ResponseRow(k, n, r, sum(h) / len(h) if h else None)
            for k, (n, r, h) in sorted(groups.items(), key=lambda kv: (kv[0] is None, str(kv[0])))]
