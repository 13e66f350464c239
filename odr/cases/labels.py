"""What people read for each enum value; the translations live in the catalogs."""

from flask_babel import lazy_gettext as _l

from odr.cases.models import (
    Category, Channel, OrgType, Outcome, PartyStatus, RepresentationStatus, RepresentativeKind, Scope, Side, Stage,
)

CATEGORY = {
    Category.neighbour: _l("Neighbours"),
    Category.consumer: _l("Consumer"),
    Category.property: _l("Property or tenancy"),
    Category.labour: _l("Labour or wages"),
    Category.traffic: _l("Traffic accident"),
    Category.debt: _l("Debt or loan"),
    Category.family: _l("Family"),
    Category.other: _l("Other"),
}

CHANNEL = {
    Channel.web: _l("Online"),
    Channel.counter: _l("At the counter"),
    Channel.transfer: _l("Transferred"),
    Channel.court_referral: _l("Referred by a court"),
}

ORG_TYPE = {
    OrgType.peoples_mediation: _l("People's mediation committee"),
    OrgType.administrative: _l("Administrative mediation"),
    OrgType.industry: _l("Industry mediation"),
    OrgType.notary: _l("Notary mediation"),
    OrgType.lawyer: _l("Lawyer mediation"),
    OrgType.arbitration_commission: _l("Arbitration commission"),
    OrgType.court: _l("Court"),
}

SIDE = {Side.claimant: _l("Claimant"), Side.respondent: _l("Respondent")}

PARTY_STATUS = {
    PartyStatus.invited: _l("Invited"),
    PartyStatus.joined: _l("Joined"),
    PartyStatus.declined: _l("Declined"),
}

REPRESENTATIVE_KIND = {RepresentativeKind.agent: _l("Agent"), RepresentativeKind.helper: _l("Helper")}

SCOPE = {
    Scope.read: _l("Read only"),
    Scope.act: _l("Acts for the party"),
    Scope.sign: _l("Acts and signs for the party"),
}

REPRESENTATION_STATUS = {
    RepresentationStatus.invited: _l("Invited"),
    RepresentationStatus.review: _l("Power of attorney under review"),
    RepresentationStatus.active: _l("Active"),
    RepresentationStatus.refused: _l("Power of attorney refused"),
    RepresentationStatus.declined: _l("Declined"),
    RepresentationStatus.revoked: _l("Revoked"),
}

STAGE = {
    Stage.consultation: _l("Consultation"),
    Stage.assessment: _l("Assessment"),
    Stage.mediation: _l("Mediation"),
    Stage.arbitration: _l("Arbitration"),
    Stage.litigation: _l("Court hand-off"),
    Outcome.settled: _l("Settled"),
    Outcome.award_issued: _l("Award issued"),
    Outcome.handed_to_court: _l("Handed to court"),
    Outcome.withdrawn: _l("Withdrawn"),
    Outcome.closed_without_result: _l("Closed without result"),
}

#: What the button says for each move (a verb, since pressing it acts).
MOVE = {
    Stage.assessment: _l("Start the assessment"),
    Stage.mediation: _l("Go to mediation"),
    Stage.arbitration: _l("Go to arbitration"),
    Stage.litigation: _l("Go to court"),
    Outcome.settled: _l("Record the settlement"),
    Outcome.award_issued: _l("Record the award"),
    Outcome.handed_to_court: _l("Hand the case to the court"),
    Outcome.withdrawn: _l("Withdraw the case"),
    Outcome.closed_without_result: _l("Close without result"),
}

#: What happens when a move is confirmed, shown before the confirming button (WCAG 3.3.4): the
#: moves that cannot be undone.
MOVE_CONSEQUENCE = {
    Stage.arbitration: _l("The case leaves mediation for arbitration. An arbitral award is final and binding; "
                          "the case cannot come back to mediation."),
    Stage.litigation: _l("Mediation ends and the case goes on towards court. It cannot come back to mediation "
                         "on this platform; you will prepare a complaint to the court."),
    Outcome.withdrawn: _l("The case is closed for good and the other party is told. You would have to file a "
                          "new case to go on."),
    Outcome.closed_without_result: _l("The case is closed for good without a result, and the parties are told."),
    Outcome.settled: _l("The case is closed as settled."),
    Outcome.handed_to_court: _l("The case is closed here and handed to the court."),
}

#: Audit actions as they read on the case timeline.
ACTION = {
    "case_filed": _l("Case filed"),
    "party_joined": _l("Joined the case"),
    "party_declined": _l("Declined to take part"),
    "case_routed": _l("Sent to an organisation"),
    "stage_changed": _l("Stage changed"),
    "case_closed": _l("Case closed"),
    "arbitration_basis_recorded": _l("Arbitration basis recorded"),
    "handler_assigned": _l("Handler assigned"),
    "room_message": _l("Message in the case room"),
    "evidence_added": _l("Evidence added"),
    "audit_reanchored": _l("Audit trail re-anchored (hash version 2)"),
    "transfer_accepted": _l("Transfer accepted"),
    "transfer_contacted": _l("Parties contacted after the transfer"),
    "role_granted": _l("Role granted"),
    "role_revoked": _l("Role withdrawn"),
    "representative_appointed": _l("Agent or helper appointed"),
    "representative_accepted": _l("Agent or helper accepted the appointment"),
    "representative_declined": _l("Agent or helper declined the appointment"),
    "power_of_attorney_accepted": _l("Power of attorney accepted"),
    "power_of_attorney_refused": _l("Power of attorney refused"),
    "representative_revoked": _l("Agent or helper revoked"),
}


def label(value) -> str:
    for table in (STAGE, CATEGORY, CHANNEL, ORG_TYPE, SIDE, PARTY_STATUS):
        if value in table:
            return str(table[value])
    return str(value)


def category_name(value: str) -> str:
    """The label of a category given by its value (as stored in free-text lists)."""
    try:
        return str(CATEGORY[Category(value)])
    except ValueError:
        return value


def register_actions(actions: dict) -> None:
    """Add the audit actions a feature records, with what people read for each (its ``init_app``)."""
    ACTION.update(actions)


#: Tables a feature adds for its own enums (its ``init_app``), read by the ``label`` filter.
_FEATURE_TABLES: list[dict] = []


def register_labels(table: dict) -> None:
    """Add what people read for a feature's enum values, so ``{{ value|label }}`` knows them."""
    _FEATURE_TABLES.append(table)


def any_label(value) -> str:
    """What people read for any enum value the case file or a feature knows; the value itself otherwise."""
    for table in (STAGE, CATEGORY, CHANNEL, ORG_TYPE, SIDE, PARTY_STATUS, *_FEATURE_TABLES):
        if value in table:
            return str(table[value])
    return str(getattr(value, "value", value))


def _locale():
    """The page's locale; outside a request (jobs, notices), the platform's default one."""
    from babel import Locale
    from flask import current_app
    from flask_babel import get_locale

    return get_locale() or Locale.parse(current_app.config["BABEL_DEFAULT_LOCALE"])


def when(value) -> str:
    """A moment (naive UTC) as people of the page's language write it, in the display time zone:
    "2026年10月27日 15:00", "Oct 27, 2026, 3:00 PM" (not the short "10/27/26")."""
    if value is None:
        return ""
    from flask_babel import format_datetime

    locale = _locale()
    # CLDR's Chinese medium date says "Y" (week-based year), which is wrong in the last days of December.
    date = locale.date_formats["medium"].pattern.replace("Y", "y")
    pattern = str(locale.datetime_formats["medium"]).replace("{1}", date).replace("{0}", locale.time_formats["short"].pattern)
    return format_datetime(value, pattern)


def day(value) -> str:
    """A calendar date as people of the page's language write it ("2026年10月27日", "Oct 27, 2026")."""
    if value is None:
        return ""
    from babel.dates import format_date

    locale = _locale()
    return format_date(value, locale.date_formats["medium"].pattern.replace("Y", "y"), locale=locale)


def district(value: str | None) -> str:
    """A district's name in the page's language (``DISTRICT_NAMES`` holds the English; the stored value is Chinese)."""
    from flask import current_app

    if not value or _locale().language == "zh":
        return value or ""
    return current_app.config.get("DISTRICT_NAMES", {}).get(value, value)


def zone(value) -> str:
    """A time zone by its name in the page's language ("中国时间", "China Time"), not "Asia/Shanghai"."""
    from zoneinfo import ZoneInfo

    from babel.dates import get_timezone_name

    return get_timezone_name(ZoneInfo(str(getattr(value, "key", value))), locale=_locale())


def install_filters(app) -> None:
    """The Jinja filters that turn values into what people read: ``label``, ``when``, ``day``,
    ``district``, ``zone`` and ``category`` (a category given by its stored value)."""
    app.jinja_env.filters.update(label=any_label, when=when, day=day, district=district, zone=zone,
                                 category=category_name)
