"""Application for enforcement (申请强制执行) of a judicially confirmed agreement or an award.

When the side that pays or performs has defaulted — an item of the case's performance schedule
(:mod:`odr.cases.performance`) is unconfirmed after its due date — the entitled side prepares the
application to a court of its choice: a PDF in its language naming both sides (a verified
party with its full ID number, :mod:`odr.cases.court_identity`), stating the basis (the court's
confirmation with its docket number, or the sealed arbitral award with its digest), the obligation
item by item, what was paid (the items the entitled side confirmed) and what remains. The entitled
side signs it in the browser (:mod:`odr.documents.operations`); when the platform has sealed it, the
case is handed to that court (:func:`odr.court.operations.hand_off`, kind *enforcement*) with a
bundle that holds the application, the basis and the case's audit trail, and the schedule records
that enforcement was applied for (performance from then on is no longer voluntary).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr.cases import performance
from odr.cases.models import Case, Organization, OrgType, Outcome, Side
from odr.cases.notices import joined_parties
from odr.cases.performance import Alert, ItemStatus, PerformanceSchedule, alert_of, local_today, schedule_of
from odr.court import operations as court_ops
from odr.court.models import CourtResult, Handoff, HandoffKind
from odr.documents import layout
from odr.documents import operations as signing
from odr.documents.models import SignedDocument, SigningStatus
from odr.extensions import db

KIND = "enforcement_application"
SUBJECT = "court:{}"
#: The document kind of a sealed arbitral award (``odr.arbitrate`` registers it).
AWARD_KIND = "arbitral_award"

LABELS = {
    "zh": {
        "title": "强制执行申请书", "applicant": "申请执行人", "respondent": "被执行人",
        "request": "执行请求", "request_text": "请求贵院依法强制执行被执行人{payer}履行下列尚未履行的义务，"
                                               "其中尚未支付的金额为人民币{remaining}元。",
        "basis": "执行依据", "basis_confirmation": "{court}作出的司法确认裁定（{docket}），确认双方于本平台达成的调解协议有效。",
        "basis_award": "{title}（已于{date}签署并由仲裁委员会盖章；PDF 摘要 SHA-256：{digest}）。",
        "facts": "事实与理由", "facts_text": "执行依据生效后，被执行人未按期履行。截至{today}，履行情况如下：",
        "due": "履行期限", "what": "义务内容", "amount": "金额（元）", "state": "履行情况",
        "paid_state": "已履行（申请执行人已确认）", "unpaid_state": "未履行", "overdue_state": "逾期未履行",
        "total": "应履行总额", "paid": "已履行金额", "remaining": "尚未履行金额", "non_monetary": "非金钱义务",
        "to": "此致", "platform": "在线纠纷解决平台",
        "enclosures": "附：执行依据、履行记录及案件材料（随案卷包一并移交）。",
    },
    "en": {
        "title": "Application for Enforcement", "applicant": "Applicant for enforcement",
        "respondent": "Party subject to enforcement",
        "request": "Request", "request_text": "The applicant asks the court to enforce the obligations below that "
                                              "{payer} has not performed, of which CNY {remaining} remains unpaid.",
        "basis": "Basis for enforcement",
        "basis_confirmation": "The ruling of {court} ({docket}) confirming the mediation agreement the parties "
                              "reached on this platform.",
        "basis_award": "{title} (signed and sealed by the arbitration commission on {date}; PDF digest SHA-256: {digest}).",
        "facts": "Facts and reasons", "facts_text": "The party subject to enforcement has not performed on time. "
                                                   "As of {today}, performance stands as follows:",
        "due": "Due", "what": "Obligation", "amount": "Amount (CNY)", "state": "Performance",
        "paid_state": "Performed (confirmed by the applicant)", "unpaid_state": "Not yet due",
        "overdue_state": "Overdue, not performed",
        "total": "Total obligation", "paid": "Performed", "remaining": "Remaining", "non_monetary": "non-monetary",
        "to": "To", "platform": "Online dispute resolution platform",
        "enclosures": "Enclosed: the basis for enforcement, the record of performance and the case file (in the bundle).",
    },
}


@dataclass(frozen=True)
class Basis:
    """What makes the obligation enforceable: the court's confirmation, or the sealed award."""

    kind: str  # "confirmation" or "award"
    handoff: Handoff | None = None
    award: SignedDocument | None = None


def basis_of(case: Case) -> Basis | None:
    """The confirmation the court recorded for this case, or its sealed award; ``None`` without either."""
    if case.outcome is Outcome.award_issued:
        award = signing.current(case, AWARD_KIND)
        if award is not None and award.status is SigningStatus.complete:
            return Basis("award", award=award)
        return None
    handoff = db.session.scalar(db.select(Handoff).where(
        Handoff.case_id == case.id, Handoff.kind == HandoffKind.confirmation,
        Handoff.result == CourtResult.confirmed).order_by(Handoff.id.desc()).limit(1))
    return Basis("confirmation", handoff=handoff) if handoff is not None else None


def enforcement_handoff(case: Case) -> Handoff | None:
    return db.session.scalar(db.select(Handoff).where(
        Handoff.case_id == case.id, Handoff.kind == HandoffKind.enforcement,
        db.or_(Handoff.result.is_(None), Handoff.result != CourtResult.withdrawn)).order_by(Handoff.id.desc()).limit(1))


def in_default(schedule: PerformanceSchedule) -> bool:
    """An item is unconfirmed after its due date (the schedule is yellow or red today)."""
    return alert_of(schedule, local_today()) is not Alert.ok


def current_application(case: Case) -> SignedDocument | None:
    return signing.current(case, KIND)


def refusal(case: Case, user) -> str | None:
    """Why ``user`` may not apply for enforcement in this case now, or ``None``."""
    schedule = schedule_of(case)
    if schedule is None or case.side_of(user) != schedule.payee_side:
        return _l("Only the side entitled to performance can apply for enforcement.")
    if basis_of(case) is None:
        return _l("Enforcement can be applied for on an agreement a court has confirmed, or on an arbitral award.")
    if schedule.performed_at is not None:
        return _l("Everything agreed has been done: there is nothing to enforce.")
    if enforcement_handoff(case) is not None:
        return _l("An application for enforcement was already handed to a court.")
    if not in_default(schedule):
        return _l("Nothing is overdue: enforcement can be applied for once an item is not done by its date.")
    return None


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def amounts(schedule: PerformanceSchedule) -> tuple[Decimal, Decimal, Decimal]:
    """Total, paid (confirmed) and remaining money of the schedule."""
    total = sum((i.amount for i in schedule.items if i.amount is not None), Decimal(0))
    paid = sum((i.amount for i in schedule.items if i.amount is not None and i.status is ItemStatus.confirmed),
               Decimal(0))
    return total, paid, total - paid


def application_pdf(case: Case, court: Organization, lang: str) -> bytes:
    """The application as PDF/A-3b, with the case's audit trail attached."""
    lang = layout.document_lang(lang)
    labels = layout.words(lang, LABELS)
    schedule = schedule_of(case)
    basis = basis_of(case)
    today = local_today()
    payee = case.party(Side(schedule.payee_side))
    payer = case.party(Side(schedule.payer_side))
    if basis.kind == "award":
        basis_text = labels["basis_award"].format(title=basis.award.title, digest=basis.award.current_sha256,
                                                  date=layout.local_date(basis.award.completed_at, lang))
    else:
        h = basis.handoff
        basis_text = labels["basis_confirmation"].format(court=h.court.name, docket=h.docket_number or "—")
    total, paid, remaining = amounts(schedule)
    rows = []
    for item in schedule.items:
        state = (labels["paid_state"] if item.status is ItemStatus.confirmed
                 else labels["overdue_state"] if item.due_on < today else labels["unpaid_state"])
        rows.append({"due": layout.written_date(item.due_on, lang), "what": item.description,
                     "amount": _money(item.amount) if item.amount is not None else labels["non_monetary"],
                     "state": state, "late": item.status is not ItemStatus.confirmed and item.due_on < today})
    signers = [layout.Signer(labels["applicant"], layout.party_name(payee))]
    return layout.render_document(
        "enforcement_application.html", labels, case_number=case.number, case=case, lang=lang,
        attachments=[layout.audit_attachment(case)], signers=signers, seal=labels["platform"],
        applicant=layout.party_name(payee), respondent=layout.party_name(payer), court=court.name,
        applicant_identity=layout.court_identity_fields(payee, labels),
        respondent_identity=layout.court_identity_fields(payer, labels),
        request=labels["request_text"].format(payer=layout.party_name(payer), remaining=_money(remaining)),
        basis=basis_text, facts=labels["facts_text"].format(today=layout.written_date(today, lang)),
        rows=rows, total=_money(total), paid=_money(paid), remaining=_money(remaining),
        on=layout.written_date(today, lang))


def prepare(case: Case, user, court: Organization, lang: str) -> SignedDocument:
    """Put the application to ``court`` up for the entitled side's signature (caller's transaction).

    :raise court_ops.CourtError: not a court, or :func:`refusal` says why not.
    """
    if court is None or court.type is not OrgType.court:
        raise court_ops.CourtError(_l("Choose a court."))
    why_not = refusal(case, user)
    if why_not:
        raise court_ops.CourtError(why_not)
    previous = current_application(case)
    payee_side = schedule_of(case).payee_side
    signers = [(p.user, "applicant", layout.party_name(p)) for p in joined_parties(case)
               if p.side.value == payee_side]
    reason = _("The application was drawn up again.") if previous is not None else ""
    try:
        return signing.start(case, user, kind=KIND, subject=SUBJECT.format(court.id),
                             title=_("Application for enforcement"), lang=layout.document_lang(lang),
                             pdf=application_pdf(case, court, lang), signers=signers, reason=reason)
    except signing.SigningError as exc:
        raise court_ops.CourtError(exc.reason) from None


def enforcement_signed(document: SignedDocument) -> None:
    """The sealed application goes to its court with the case's bundle."""
    court = db.session.get(Organization, int(document.subject.split(":", 1)[1]))
    case = document.case
    try:
        court_ops.hand_off(case, court, None, kind=HandoffKind.enforcement)
    except court_ops.CourtError as exc:  # the signing step answers it (the signature is not kept)
        raise signing.SigningError(exc.reason) from None
    schedule = schedule_of(case)
    if schedule is not None and schedule.enforcement_requested_at is None:
        performance.enforcement_requested(schedule)
