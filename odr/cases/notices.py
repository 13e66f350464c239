"""Telling a case's people: who has joined the case, and one way to queue a message to them.

Every feature sends its news about a case through :func:`notify_users` (SMS or e-mail by the
account's contact, each person once, with the case number as subject), and finds the parties to
tell with :func:`joined_parties`: a party invited but not (yet) joined, or who declined, is not on
the platform and hears nothing from it.

A party's active agents and helpers (:mod:`odr.cases.representation`) get a copy of whatever the
party is told or served, saying on whose behalf (:func:`tell_representatives`): every scope,
read-only included, lets them read the case, so each is told what happens in it. Once revoked,
they hear nothing more. The copy is not service: the proof of service stays the party's own.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from odr import outbox
from odr.cases.models import (
    Case, CaseParty, PartyStatus, Representation, RepresentationStatus, RepresentativeKind,
)
from odr.extensions import db


def joined_parties(case: Case) -> list[CaseParty]:
    """The parties who joined the case (each with an account), claimant first as filed."""
    return [p for p in case.parties if p.status is PartyStatus.joined and p.user_id is not None]


def party_signers(case: Case) -> list[tuple]:
    """The joined parties as signers of a document: ``(user, side, printed name)``, claimant first."""
    parties = sorted(joined_parties(case), key=lambda p: (p.side.value != "claimant", p.id))
    return [(p.user, p.side.value, p.user.name or p.name) for p in parties]


def joined_users(case: Case) -> list:
    """The accounts of :func:`joined_parties`."""
    return [p.user for p in joined_parties(case)]


def notify_users(case: Case, users, text: str, served=None) -> None:
    """Queue a message to each of these people (once each, ``None`` skipped) about the case.

    ``served`` (:class:`odr.cases.service.operations.Served`): the notice is formal — the case's
    joined parties among ``users`` are served it with proof, at the addresses they confirmed and
    each with a link of their own; the others (mediators, arbitrators, staff) are told as usual.
    """
    subject = _("Case %(number)s", number=case.number)
    users = list(users)
    sent = set()
    if served is not None:
        from odr.cases.service.operations import serve_parties

        sent |= serve_parties(case, users, text, served, subject=subject)
    parties = {p.user_id: p for p in joined_parties(case)}
    for user in users:
        if user is None or user.id in sent or not user.contact:
            continue
        sent.add(user.id)
        outbox.enqueue(user.contact, subject, text, case=case)
        if user.id in parties:
            tell_representatives(case, parties[user.id], subject, text)


def active_representatives(party: CaseParty) -> list[Representation]:
    """The agents and helpers who act or read for ``party`` now (accepted, and not revoked)."""
    return list(db.session.scalars(sa.select(Representation).where(
        Representation.party_id == party.id, Representation.status == RepresentationStatus.active,
        Representation.user_id.is_not(None)).order_by(Representation.id)))


def tell_representatives(case: Case, party: CaseParty, subject: str, text: str,
                         attachment: outbox.Attachment | None = None) -> list:
    """Queue a copy of what ``party`` is told to each of their active agents and helpers, saying on
    whose behalf; return the representatives' accounts told."""
    told = []
    if party.status is not PartyStatus.joined or party.user_id is None:
        return told
    name = party.user.name if party.user is not None else party.name
    for rep in active_representatives(party):
        user = rep.user
        if user is None or not user.contact or user.id == party.user_id:
            continue
        body = (_("As agent of %(party)s in case %(number)s: %(text)s", party=name, number=case.number,
                  text=text) if rep.kind is RepresentativeKind.agent else
                _("As helper of %(party)s in case %(number)s: %(text)s", party=name, number=case.number,
                  text=text))
        outbox.enqueue(user.contact, subject, body, case=case, attachment=attachment)
        told.append(user)
    return told
