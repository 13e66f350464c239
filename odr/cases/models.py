"""Cases, their parties, organisations, intake clients and the audit trail."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odr.auth.models import Role, User, enum_column
from odr.extensions import db
from odr.timeutil import utcnow


class Stage(enum.Enum):
    consultation = "consultation"
    assessment = "assessment"
    mediation = "mediation"
    arbitration = "arbitration"
    litigation = "litigation"


class Outcome(enum.Enum):
    settled = "settled"
    award_issued = "award_issued"
    handed_to_court = "handed_to_court"
    withdrawn = "withdrawn"
    closed_without_result = "closed_without_result"


class Category(enum.Enum):
    neighbour = "neighbour"
    consumer = "consumer"
    property = "property"
    labour = "labour"
    traffic = "traffic"
    debt = "debt"
    family = "family"
    other = "other"


class Channel(enum.Enum):
    web = "web"
    counter = "counter"
    transfer = "transfer"
    court_referral = "court_referral"


class OrgType(enum.Enum):
    peoples_mediation = "peoples_mediation"
    administrative = "administrative"
    industry = "industry"
    notary = "notary"
    lawyer = "lawyer"
    arbitration_commission = "arbitration_commission"
    court = "court"


class Side(enum.Enum):
    claimant = "claimant"
    respondent = "respondent"


class PartyStatus(enum.Enum):
    invited = "invited"
    joined = "joined"
    declined = "declined"


class ArbitrationBasis(enum.Enum):
    #: An arbitration clause in the parties' contract, confirmed by commission staff.
    clause = "clause"
    #: An online arbitration agreement signed by both parties.
    agreement = "agreement"


class Organization(db.Model):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    type: Mapped[OrgType] = mapped_column(enum_column(OrgType))
    district: Mapped[str] = mapped_column(sa.String(64))
    #: Free-text specialty, e.g. "medical", "labour", "consumer".
    specialty: Mapped[str | None] = mapped_column(sa.String(100))
    #: Its staff also see new cases not yet routed to any organisation.
    takes_intake: Mapped[bool] = mapped_column(default=False)
    #: The center this organisation reports to: that center's managers see its figures.
    center_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id"), index=True)

    def __repr__(self):
        return f"<Organization {self.id} {self.name}>"


class Case(db.Model):
    __tablename__ = "case"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Human-readable number, ``ODR-<year>-<6 digits>``.
    number: Mapped[str] = mapped_column(sa.String(20), unique=True)
    category: Mapped[Category] = mapped_column(enum_column(Category))
    #: What happened, in the claimant's words.
    description: Mapped[str] = mapped_column(sa.Text)
    #: What the claimant wants.
    claim: Mapped[str] = mapped_column(sa.Text)
    #: Amount claimed, if any, in yuan.
    amount_claimed: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    district: Mapped[str] = mapped_column(sa.String(64))
    #: What the parties settled on, in yuan (for outcome statistics).
    settlement_amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    stage: Mapped[Stage] = mapped_column(enum_column(Stage))
    #: Set once the case is closed; a closed case keeps the stage it ended in.
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome))
    #: Organisation handling the case; ``None`` while it waits in the intake queue.
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id"))
    mediator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    arbitrator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    #: Court the case was handed to (clerks of that court may see it).
    court_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organization.id"), index=True)
    #: What allows arbitration, once recorded.
    arbitration_basis: Mapped[ArbitrationBasis | None] = mapped_column(enum_column(ArbitrationBasis))
    #: Who filed it: the claimant on the web, the staff member at the counter.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    #: For transfers: the sending system and its own reference.
    api_client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_client.id"))
    external_ref: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    stage_entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the current stage should be done (``odr.cases.sla``); set with every stage change.
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]

    parties: Mapped[list[CaseParty]] = relationship(
        back_populates="case", order_by="CaseParty.id", lazy="selectin",
        cascade="all, delete-orphan",
    )
    organization: Mapped[Organization | None] = relationship(foreign_keys=[organization_id])
    court: Mapped[Organization | None] = relationship(foreign_keys=[court_id])
    mediator: Mapped[User | None] = relationship(foreign_keys=[mediator_id])
    arbitrator: Mapped[User | None] = relationship(foreign_keys=[arbitrator_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    __table_args__ = (
        sa.UniqueConstraint("api_client_id", "external_ref"),
        sa.CheckConstraint("amount_claimed IS NULL OR amount_claimed >= 0", name="amount_non_negative"),
        sa.CheckConstraint("(outcome IS NULL) = (closed_at IS NULL)", name="closed_has_outcome"),
        sa.Index("ix_case_queue", "organization_id", "closed_at", "created_at"),
        sa.Index("ix_case_similar", "category", "outcome", "amount_claimed"),
        # Deadline-ordered lists of open cases (queue, red list), per organisation and for admins.
        # Partial (open cases only): PostgreSQL then sees that the rows come in deadline order.
        # ``closed_at`` (always NULL here) lets SQLite check the open condition without the table.
        sa.Index("ix_case_open_org_due", "organization_id", "due_at", "closed_at",
                 postgresql_where=sa.text("closed_at IS NULL"), sqlite_where=sa.text("closed_at IS NULL")),
        sa.Index("ix_case_open_due", "due_at", "closed_at",
                 postgresql_where=sa.text("closed_at IS NULL"), sqlite_where=sa.text("closed_at IS NULL")),
    )

    def __repr__(self):
        return f"<Case {self.number} {self.stage.value}>"

    def __str__(self):
        return self.number

    @property
    def is_open(self) -> bool:
        return self.outcome is None

    def party(self, side: Side) -> CaseParty | None:
        return next((p for p in self.parties if p.side is side), None)

    @property
    def claimant(self) -> CaseParty | None:
        return self.party(Side.claimant)

    @property
    def respondent(self) -> CaseParty | None:
        return self.party(Side.respondent)

    # --- permissions -------------------------------------------------------
    def roles_of(self, user) -> set[str]:
        """What ``user`` is in this case: claimant, respondent, staff, mediator, …

        An empty set means the user may not even learn that the case exists.
        """
        if user is None or not getattr(user, "is_authenticated", False):
            return set()
        roles = set()
        for p in self.parties:
            if p.user_id == user.id and p.status is PartyStatus.joined:
                roles.add(p.side.value)
        if not roles:
            # An agent or helper sees the party's view of this case (``odr.cases.representation``).
            rep = active_representation(self, user)
            if rep is not None:
                roles |= {rep.party.side.value, rep.kind.value}
                if rep.scope is Scope.read:
                    roles.add(READ_ONLY)
        if user.is_admin:
            roles.add("admin")
        staff_orgs = user.organizations_for(Role.staff)
        if self.organization_id in staff_orgs:
            roles.add("staff")
        elif self.organization_id is None and staff_orgs and _is_intake_staff(user, staff_orgs):
            roles.add("staff")
        if self.mediator_id == user.id:
            roles.add("mediator")
        if self.arbitrator_id == user.id:
            roles.add("arbitrator")
        for source in ROLE_SOURCES:
            roles |= source(self, user, roles)
        if user.organizations_for(Role.manager):
            managed = managed_organizations(user)
            if self.organization_id in managed or (self.organization_id is None and _manages_intake(user, managed)):
                roles.add("manager")
        # A court sees a case once it is handed over: filed (handed to court) or, for judicial
        # confirmation, settled with the court recorded at hand-off.
        if (self.outcome in (Outcome.handed_to_court, Outcome.settled) and self.court_id is not None
                and self.court_id in user.organizations_for(Role.court_clerk)):
            roles.add("court_clerk")
        return roles

    def side_of(self, user) -> str | None:
        """``claimant`` or ``respondent`` if the user acts for a joined side of the case."""
        roles = self.roles_of(user)
        return next((side for side in ("claimant", "respondent") if side in roles), None)

    def is_party(self, user) -> bool:
        """The user acts for one of the sides of the case."""
        return bool(self.roles_of(user) & {"claimant", "respondent"})

    def can_view(self, user) -> bool:
        return bool(self.roles_of(user))

    def can_manage(self, user) -> bool:
        """Route, enter on behalf of parties, see the whole file: the center's side."""
        return bool(self.roles_of(user) & {"staff", "admin"})

    def can_invite(self, user) -> bool:
        """See and share the invitation link of the parties not yet joined."""
        return bool(self.roles_of(user) & {"claimant", "staff", "admin"})


#: Features that give a person a part in a case beyond the columns above (the members of an arbitral
#: tribunal): ``source(case, user, roles so far) -> set of roles``. Feature packages register
#: theirs from their ``init_app`` (:func:`register_role_source`), so this package depends on none of them.
ROLE_SOURCES: list = []


def register_role_source(source) -> None:
    """Let ``source(case, user, roles so far)`` add roles to :meth:`Case.roles_of` (once)."""
    if source not in ROLE_SOURCES:
        ROLE_SOURCES.append(source)


def managed_organizations(user) -> set[int]:
    """Organisations whose figures and cases a manager oversees: their center(s) and every
    organisation reporting to one; asked once per request."""
    from flask import g, has_request_context

    centers = user.organizations_for(Role.manager)
    if not centers:
        return set()
    key = f"_odr_managed_{user.id}"
    if has_request_context() and key in g:
        return g.get(key)
    members = set(db.session.scalars(sa.select(Organization.id).where(Organization.center_id.in_(centers))))
    answer = centers | members
    if has_request_context():
        setattr(g, key, answer)
    return answer


def _manages_intake(user, managed) -> bool:
    """Whether a manager's center takes new cases (then the intake queue is theirs to oversee)."""
    from flask import g, has_request_context

    key = f"_odr_manages_intake_{user.id}"
    if has_request_context() and key in g:
        return g.get(key)
    answer = bool(db.session.scalar(sa.select(sa.func.count(Organization.id)).where(
        Organization.id.in_(managed), Organization.takes_intake)))
    if has_request_context():
        setattr(g, key, answer)
    return answer


def _is_intake_staff(user, staff_orgs) -> bool:
    """Whether one of the user's organisations takes new cases; asked once per request."""
    from flask import g, has_request_context

    key = f"_odr_intake_staff_{user.id}"
    if has_request_context() and key in g:
        return g.get(key)
    answer = bool(db.session.scalar(sa.select(sa.func.count(Organization.id)).where(
        Organization.id.in_(staff_orgs), Organization.takes_intake)))
    if has_request_context():
        setattr(g, key, answer)
    return answer


#: The role :meth:`Case.roles_of` adds for an agent or helper who may only read the case.
READ_ONLY = "read_only"


def active_representation(case: Case, user) -> Representation | None:
    """The representation through which ``user`` acts for a joined party of ``case`` now, if any.

    Asked once per request for each user (every representation the user holds, a small indexed
    query), so a revocation takes effect at the next request or socket event.
    """
    from flask import g, has_request_context

    key = f"_odr_representations_{user.id}"
    if has_request_context() and key in g:
        held = g.get(key)
    else:
        held = {}
        for rep in db.session.scalars(sa.select(Representation).where(
                Representation.user_id == user.id, Representation.status == RepresentationStatus.active)):
            held.setdefault(rep.case_id, rep)
        if has_request_context():
            setattr(g, key, held)
    rep = held.get(case.id)
    if rep is None or rep.party.status is not PartyStatus.joined or rep.party.user_id is None:
        return None
    return rep


def forget_representations(user_id: int) -> None:
    """Drop this request's memory of ``user_id``'s representations (after one changed)."""
    from flask import g, has_request_context

    if has_request_context():
        g.pop(f"_odr_representations_{user_id}", None)


class CaseParty(db.Model):
    """A side of the case: who they are, and whether they have joined."""

    __tablename__ = "case_party"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    side: Mapped[Side] = mapped_column(enum_column(Side))
    #: Account that acts for this side once joined.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"), index=True)
    #: Indexed with the case, like the phone, for the staff's case search (by prefix; one name's
    #: cases newest first: ``ix_case_party_name_case`` below).
    name: Mapped[str] = mapped_column(sa.String(100))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    status: Mapped[PartyStatus] = mapped_column(enum_column(PartyStatus))
    #: Secret part of the invitation link; cleared once the invitation is answered.
    invite_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    responded_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(back_populates="parties")
    user: Mapped[User | None] = relationship()

    __table_args__ = (sa.UniqueConstraint("case_id", "side"),)

    def __repr__(self):
        return f"<CaseParty {self.case_id} {self.side.value} {self.status.value}>"



sa.Index("ix_case_party_name_case", CaseParty.name, CaseParty.case_id.desc())


class RepresentativeKind(enum.Enum):
    #: A lawyer or other representative, with a power of attorney accepted by the case's staff or mediator.
    agent = "agent"
    #: Someone close to the party (a family member) acting with the party's consent; never signs.
    helper = "helper"


class Scope(enum.Enum):
    """What a representative may do for the party: each scope includes the ones before it."""

    #: Read the party's view of the case, change nothing.
    read = "read"
    #: Act as the party: messages, uploads, answers to proposals, session times …
    act = "act"
    #: Also sign documents (agents only, when the power of attorney grants it).
    sign = "sign"


class RepresentationStatus(enum.Enum):
    #: Appointed; the representative has not answered the invitation yet.
    invited = "invited"
    #: An agent who accepted, waiting for the power of attorney to be reviewed.
    review = "review"
    active = "active"
    #: The power of attorney was refused (``review_reason`` says why).
    refused = "refused"
    #: The representative declined the appointment.
    declined = "declined"
    #: The party took it back.
    revoked = "revoked"


class Representation(db.Model):
    """An agent or helper appointed by a party of a case, for that case only."""

    __tablename__ = "representation"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), index=True)
    #: The side represented.
    party_id: Mapped[int] = mapped_column(sa.ForeignKey("case_party.id", ondelete="CASCADE"))
    kind: Mapped[RepresentativeKind] = mapped_column(enum_column(RepresentativeKind))
    scope: Mapped[Scope] = mapped_column(enum_column(Scope))
    status: Mapped[RepresentationStatus] = mapped_column(enum_column(RepresentationStatus))
    #: The representative as the party named them, and where the invitation went.
    name: Mapped[str] = mapped_column(sa.String(100))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    #: Their account, once they accepted.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    #: Secret part of the invitation link; cleared once answered or revoked.
    invite_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    #: The power of attorney (agents): the stored upload (``odr.uploads``) and how it is shown.
    poa_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    poa_mimetype: Mapped[str | None] = mapped_column(sa.String(64))
    poa_filename: Mapped[str | None] = mapped_column(sa.String(120))
    poa_size: Mapped[int | None]
    appointed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    appointed_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None]
    #: Why the power of attorney was refused.
    review_reason: Mapped[str | None] = mapped_column(sa.Text)
    revoked_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship()
    party: Mapped[CaseParty] = relationship(lazy="joined")
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    __table_args__ = (
        sa.CheckConstraint("kind = 'agent' OR scope != 'sign'", name="helper_never_signs"),
        sa.CheckConstraint("kind = 'helper' OR poa_sha256 IS NOT NULL", name="agent_has_poa"),
        sa.CheckConstraint("status NOT IN ('active', 'review') OR user_id IS NOT NULL", name="active_has_user"),
        sa.Index("ix_representation_user_status", "user_id", "status"),
    )

    def __repr__(self):
        return f"<Representation {self.id} {self.kind.value} case {self.case_id} {self.status.value}>"

    @property
    def is_current(self) -> bool:
        """Not yet ended: invited, under review or active."""
        return self.status in (RepresentationStatus.invited, RepresentationStatus.review,
                               RepresentationStatus.active)

sa.Index("ix_case_party_phone_case", CaseParty.phone, CaseParty.case_id.desc())

class ApiClient(db.Model):
    """An outside system (hotline, police dispatch, grid workers) allowed to transfer cases."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    #: Cases it sends land in this organisation's queue.
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organization.id"))
    #: SHA-256 of the bearer token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    organization: Mapped[Organization] = relationship()

    def __repr__(self):
        return f"<ApiClient {self.id} {self.name}>"


class CaseCounter(db.Model):
    """Last case number handed out per year."""

    __tablename__ = "case_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


def open_case_sql() -> sa.ColumnElement:
    """``closed_at IS NULL`` for lists of open cases in deadline order, written for SQLite as
    ``likely(…)``: the same condition, so the partial deadline indexes still apply, but no longer an
    equality on ``ix_case_queue``'s second column, which SQLite's statistics (averaged over every
    distinct ``closed_at``) take for a handful of rows and prefer, then reading every open case of the
    scope and sorting them by deadline."""
    if db.session.get_bind().dialect.name == "sqlite":
        return sa.func.likely(Case.closed_at.is_(None))
    return Case.closed_at.is_(None)


class Event(db.Model):
    """One link of an append-only, hash-chained audit trail.

    Each case has its own chain (``case:<id>``); platform-wide actions (tokens
    issued, roles granted) go to the ``platform`` chain. The hash of an entry
    written since hash version 2 covers every column but ``id`` (``odr.cases.audit``).
    """

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(sa.String(32))
    #: Position in the chain, from 1.
    seq: Mapped[int]
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    #: Who acted, as it should read in the case file ("user:12 Li Wei", "api:hotline", "system").
    actor: Mapped[str] = mapped_column(sa.String(160))
    action: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))
    #: Which formula ``hash`` was computed with (``odr.cases.audit``: 1 before the case and the
    #: actor's account were covered, 2 since).
    hash_version: Mapped[int] = mapped_column(sa.SmallInteger)

    __table_args__ = (
        sa.UniqueConstraint("chain", "seq"),
        sa.Index("ix_event_case", "case_id", "seq"),
    )

    def __repr__(self):
        return f"<Event {self.chain}#{self.seq} {self.action}>"
