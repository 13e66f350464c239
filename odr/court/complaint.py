"""The claimant's complaint to a court (民事起诉状): rendered from the case, signed by the claimant.

When mediation failed and the case is at the court hand-off stage, the claimant prepares the
complaint for the court of their choice: the parties as the case knows them (names, a verified
party's full ID number and how it was verified (:mod:`odr.cases.court_identity`), phone, e-mail,
and the addresses the claimant gives), the claims (``Case.claim`` and the amount), the
facts and reasons (``Case.description``, then in brief how mediation was tried and failed, with
the facts both parties accepted in the record of undisputed facts when there is one), the
evidence both sides shared, the court and the date. The claimant alone signs it (claims and
court are theirs to choose), then the platform seals it.

A sealed complaint is what a filing needs: the centre's hand-off of a *filing* goes to the court
the complaint is addressed to and is refused without one (:func:`odr.court.operations.hand_off`).
Sealing does not hand the case over by itself, unlike the application for judicial confirmation:
filing closes the case for the centre, and the workflow leaves that to the centre's staff, who
check the case file first; the seal tells them the case is ready. The chosen court is recorded in
the signing version (``subject``), so preparing the complaint again for another court, before it
is signed, is a new version with a reason.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr.auth.models import Role, User
from odr.cases import audit
from odr.cases.models import Case, Organization, OrgType, Side, Stage
from odr.court import operations as court_ops
from odr.documents import operations as signing
from odr.documents.models import SignedDocument, SigningStatus
from odr.extensions import db
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

KIND = "civil_complaint"
#: ``court:<id>:<digest of the language and addresses>``: the court, and whether a second request is the same.
SUBJECT = "court:{}:{}"
ADDRESS_MAX = 200
#: Sections of the record of undisputed facts the complaint quotes.
QUOTED_FACTS = ("agreed", "disputed")

LABELS = {
    "zh": {
        "title": "民事起诉状",
        Side.claimant.value: "原告",
        Side.respondent.value: "被告",
        "side_in_mediation": {Side.claimant: "（调解中的申请人）", Side.respondent: "（调解中的被申请人）"},
        "name": "姓名或名称",
        "phone": "联系电话",
        "email": "电子邮箱",
        "address": "住所（送达地址）",
        "claims": "诉讼请求",
        "amount": "诉讼标的额：人民币{amount}元。",
        "facts": "事实与理由",
        "kind": "纠纷类型",
        "mediated": ("本纠纷于{filed}通过在线纠纷解决平台提出（案号{number}），{started}起由{organisation}主持调解"
                     "{mediator}。经调解，双方未能达成调解协议，调解于{ended}终结，案件转入诉讼。"),
        "mediator": "（调解员：{name}）",
        "not_mediated": ("本纠纷于{filed}通过在线纠纷解决平台提出（案号{number}），经评估后于{ended}转入诉讼，"
                         "未经调解。"),
        "record": "调解中，双方于{date}确认了《无争议事实记载》，其主要内容如下：",
        "record_sealed": "该记录已由双方当事人及调解员签署并经平台签章（案件卷宗文件 {file}，SHA-256：{sha}）。",
        "evidence": "证据和证据来源",
        "evidence_text": "下列证据由当事人在调解中提交，原件见案件卷宗 evidence/ 目录：",
        "no_evidence": "原告将在诉讼中另行提交证据。",
        "served": "平台已以电子方式向被告送达：{how}。送达情况详见案件卷宗中的送达回证（service/proof-of-service.pdf）。",
        "no_response": "被告未在{due}前对在线纠纷解决的邀请作出回应（未加入，也未拒绝）。",
        "no_show": "调解会议通知已向被告送达，被告未出席{n}次调解会议，调解员于{date}以被告缺席为由终止调解。",
        "served_item": "{channel} {address}（{date}发送{opened}）",
        "opened": "，{date}打开",
        "channels": {"sms": "短信", "email": "电子邮件"},
        "to": "此致",
        "signer": "具状人（原告）",
        "enclosures": ("附：本起诉状副本一份（按被告人数提交）；案件卷宗（含调解中形成的文件及证据）；"
                       "案件审计记录 audit-trail.json（PDF/A-3 关联文件）。"),
    },
    "en": {
        "title": "Statement of claim (civil complaint)",
        Side.claimant.value: "Plaintiff",
        Side.respondent.value: "Defendant",
        "side_in_mediation": {Side.claimant: " (claimant in the mediation)",
                              Side.respondent: " (respondent in the mediation)"},
        "name": "Name",
        "phone": "Telephone",
        "email": "E-mail",
        "address": "Address for service",
        "claims": "Claims",
        "amount": "Amount in dispute: CNY {amount}.",
        "facts": "Facts and reasons",
        "kind": "Kind of dispute",
        "mediated": ("The dispute was brought to the online dispute resolution platform on {filed} (case {number}). "
                     "From {started} it was mediated by {organisation}{mediator}. The parties reached no agreement; "
                     "mediation ended on {ended} and the case went on to court."),
        "mediator": " (mediator: {name})",
        "not_mediated": ("The dispute was brought to the online dispute resolution platform on {filed} (case {number}) "
                         "and, after the assessment, went on to court on {ended} without mediation."),
        "record": "In the mediation both parties approved a record of undisputed facts on {date}. It says:",
        "record_sealed": ("The record was signed by both parties and the mediator and sealed by the platform "
                          "(file {file} of the case file, SHA-256 {sha})."),
        "evidence": "Evidence and its sources",
        "evidence_text": ("The parties handed in the following in the mediation; the originals are in evidence/ "
                          "of the case file:"),
        "no_evidence": "The plaintiff will hand in evidence in the proceedings.",
        "served": ("The platform served the defendant electronically: {how}. The proof of service is in the case "
                   "file (service/proof-of-service.pdf)."),
        "no_response": ("The defendant did not respond to the invitation to resolve the dispute online by {due} "
                        "(neither joined nor declined)."),
        "no_show": ("The defendant was served the notices of the mediation sessions and did not attend {n} of them; "
                    "the mediator ended the mediation for non-attendance on {date}. "),
        "served_item": "{channel} to {address} (sent {date}{opened})",
        "opened": ", opened {date}",
        "channels": {"sms": "SMS", "email": "e-mail"},
        "to": "To",
        "signer": "Plaintiff (signing)",
        "enclosures": ("Enclosed: a copy of this complaint for each defendant; the case file (with the documents "
                       "and evidence of the mediation); the case's audit trail audit-trail.json (a PDF/A-3 "
                       "associated file)."),
    },
}


@dataclass(frozen=True)
class Addresses:
    """Addresses for service the claimant gives when preparing the complaint (the case has none)."""

    claimant: str = ""
    respondent: str = ""

    def digest(self, lang: str) -> str:
        return hashlib.sha256(f"{lang}\n{self.claimant}\n{self.respondent}".encode()).hexdigest()[:16]


# --- rendering ------------------------------------------------------------------------------

def _party_rows(case: Case, addresses: Addresses, labels: dict) -> list[dict]:
    from odr.documents import layout

    rows = []
    for side in (Side.claimant, Side.respondent):
        party = case.party(side)
        if party is None:
            continue
        phone = party.phone or (party.user.phone if party.user is not None else None)
        email = party.email or (party.user.email if party.user is not None else None)
        address = getattr(addresses, side.value)
        fields = layout.court_identity_fields(party, labels)  # the verified party's full ID number
        fields += [(labels[key], value) for key, value in (("phone", phone), ("email", email), ("address", address))
                   if value]
        rows.append({"heading": labels[side.value], "side": labels["side_in_mediation"][side],
                     "name": layout.party_name(party), "fields": fields})
    return rows


def _stage_dates(case: Case) -> tuple:
    """When the case was filed, entered mediation (or ``None``) and reached the court hand-off stage."""
    started = ended = None
    for event in audit.case_events(case):
        if event.action != "stage_changed":
            continue
        if event.payload.get("to") == Stage.mediation.value and started is None:
            started = event.created_at
        if event.payload.get("to") == Stage.litigation.value:
            ended = event.created_at
    return case.created_at, started, ended


def _mediation_history(case: Case, labels: dict, lang: str) -> dict:
    from odr.documents import layout
    from odr.documents.case_file import provided

    filed, started, ended = _stage_dates(case)
    values = {"filed": layout.local_date(filed, lang), "number": case.number,
              "ended": layout.local_date(ended or case.stage_entered_at, lang)}
    if started is None:
        return {"text": labels["not_mediated"].format(**values), "quoted": [], "record": ""}
    mediator = labels["mediator"].format(name=case.mediator.name) if case.mediator is not None else ""
    text = labels["mediated"].format(started=layout.local_date(started, lang), mediator=mediator,
                                     organisation=case.organization.name if case.organization is not None else "",
                                     **values)
    record = provided("undisputed_facts")(case)
    if record is None:
        return {"text": text, "quoted": [], "record": ""}
    sections, approved_at = record
    quoted = [s for s in sections if s.get("id") in QUOTED_FACTS and s.get("text")]
    intro = labels["record"].format(date=layout.local_date(approved_at, lang))
    sealed = signing.current(case, "undisputed_facts")
    note = ""
    if sealed is not None and sealed.status is SigningStatus.complete:
        note = labels["record_sealed"].format(file=f"documents/{sealed.kind}-v{sealed.version}.pdf",
                                              sha=sealed.current_sha256)
    return {"text": text, "record": intro, "quoted": quoted, "record_note": note}


def _service(case: Case, labels: dict, lang: str) -> str:
    """How the defendant was served (:mod:`odr.cases.service`), and that they did not respond when so."""
    from odr.cases.service import operations as service
    from odr.documents import layout

    respondent = case.respondent
    served = service.how_served(respondent) if respondent is not None else []
    if not served:
        return ""
    how = labels["comma"].join(labels["served_item"].format(
        channel=labels["channels"].get(r["channel"], r["channel"]), address=r["address"],
        date=layout.local_date(r["sent_at"], lang),
        opened=labels["opened"].format(date=layout.local_date(r["first_opened_at"], lang)) if r["first_opened_at"] else "")
        for r in served)
    text = labels["served"].format(how=how)
    silent = service.no_response(case)
    if silent is not None:
        text = labels["no_response"].format(due=layout.local_date(silent.response_due_at, lang)) + text
    no_show = respondent_no_show(case)
    if no_show is not None:
        text = labels["no_show"].format(n=len(no_show.payload.get("no_shows") or []),
                                        date=layout.local_date(no_show.created_at, lang)) + text
    return text


def respondent_no_show(case: Case):
    """The audit entry of the mediation ended for the respondent's non-attendance (recorded by the
    mediation's sessions), if any."""
    from odr.cases import audit

    return next((ev for ev in reversed(audit.case_events(case))
                 if ev.action == "mediation_failed_non_attendance" and ev.payload.get("side") == "respondent"), None)


def _evidence(case: Case) -> list[str]:
    from odr.cases.evidence import shared_evidence

    rows = shared_evidence(case)
    return [f"{ev.description or ev.filename} (evidence/{ev.id:05d}-{ev.filename})" for ev in rows]


def render_complaint(case: Case, court_name: str, lang: str, *, addresses: Addresses = Addresses(),
                     on: date | None = None) -> bytes:
    """The claimant's complaint to ``court_name`` as PDF/A-3b, with the audit trail attached.

    ``on`` is the date written under the signature (default: today where the platform runs).
    """
    from odr.documents import layout  # WeasyPrint loads when a document is first rendered

    lang = layout.document_lang(lang)
    labels = layout.words(lang, LABELS)
    claimant = case.claimant
    claims = [case.claim.strip()] if case.claim and case.claim.strip() else []
    amount = labels["amount"].format(amount=f"{case.amount_claimed:,.2f}") if case.amount_claimed is not None else ""
    written = layout.written_date(on, lang) if on is not None else layout.local_date(utcnow(), lang)
    pdf = layout.render_document(
        "complaint.html", labels, case_number=case.number, attachments=[layout.audit_attachment(case)],
        parties=_party_rows(case, addresses, labels), claims=claims, amount=amount, description=case.description,
        category=labels["category"][case.category], history=_mediation_history(case, labels, lang),
        service=_service(case, labels, lang),
        evidence=_evidence(case), court=court_name, on=written, signer_dates=False,
        signers=[layout.Signer(labels["signer"], layout.party_name(claimant))])
    logger.info("Case %s: complaint to %s rendered (%s bytes)", case, court_name[:60], len(pdf))
    return pdf


# --- preparing and signing ------------------------------------------------------------------

def current_complaint(case: Case) -> SignedDocument | None:
    return signing.current(case, KIND)


def sealed_complaint(case: Case) -> SignedDocument | None:
    found = current_complaint(case)
    return found if found is not None and found.status is SigningStatus.complete else None


def court_of(document: SignedDocument) -> Organization | None:
    """The court a complaint is addressed to."""
    return db.session.get(Organization, int(document.subject.split(":")[1]))


def is_claimant(case: Case, user) -> bool:
    return "claimant" in case.roles_of(user)


def stage_refusal(case: Case) -> str | None:
    """Why ``case`` cannot have a complaint now (not at the hand-off stage, or handed over), or ``None``."""
    if not (case.is_open and case.stage is Stage.litigation):
        return _l("A complaint can be prepared once mediation has failed and the case is at the court "
                  "hand-off stage.")
    if court_ops.current_handoff(case) is not None:
        return _l("This case was already handed to a court.")
    return None


def refusal(case: Case) -> str | None:
    """Why the complaint of ``case`` cannot be prepared now, or ``None``."""
    if sealed_complaint(case) is not None:
        return _l("The complaint is signed and sealed; a sealed document cannot be replaced.")
    return stage_refusal(case)


def prepare_complaint(case: Case, user, court: Organization | None, lang: str,
                      addresses: Addresses = Addresses()) -> SignedDocument:
    """Render the complaint to ``court`` and put it up for the claimant's signature (caller's transaction).

    Asked again with the same court and addresses while it waits for the signature, the same
    version is returned; otherwise the waiting version is replaced, with the reason.

    :raise court_ops.CourtError: not a court, the user is not the claimant, or the case is not at
        the hand-off stage, was handed over or has a sealed complaint already.
    """
    from odr.documents import layout

    if court is None or court.type is not OrgType.court:
        raise court_ops.CourtError(_l("Choose a court."))
    if not is_claimant(case, user):
        raise court_ops.CourtError(_l("Only the claimant can prepare and sign the complaint."))
    why_not = refusal(case)
    if why_not:
        raise court_ops.CourtError(why_not)
    lang = layout.document_lang(lang)
    subject = SUBJECT.format(court.id, addresses.digest(lang))
    previous = current_complaint(case)
    if previous is not None and previous.subject == subject:
        return previous  # the same request twice (a double tap): the same version
    reason = ""
    if previous is not None:
        reason = _("The claimant prepared the complaint again, addressed to %(court)s.", court=court.name)
    pdf = render_complaint(case, court.name, lang, addresses=addresses)
    try:
        return signing.start(case, user, kind=KIND, subject=subject, lang=lang, pdf=pdf,
                             title=_("Complaint to %(court)s", court=court.name),
                             signers=[(user, "claimant", layout.party_name(case.claimant))], reason=reason)
    except signing.SigningError as exc:
        raise court_ops.CourtError(exc.reason) from None


def _centre_staff(case: Case) -> list[User]:
    from odr.auth.operations import holders

    return holders(Role.staff, case.organization_id)


def complaint_sealed(document: SignedDocument) -> None:
    """The claimant signed: the centre's staff are told the case can be handed to the complaint's court.

    A complaint signed after the case left the hand-off stage is refused (the signature is not kept).
    """
    from odr.cases.notices import notify_users

    case, court = document.case, court_of(document)
    why_not = stage_refusal(case)
    if why_not:
        raise signing.SigningError(why_not)
    notify_users(case, _centre_staff(case), _("The claimant of case %(number)s signed the complaint to %(court)s: "
                                              "the case can be handed to the court.",
                                              number=case.number, court=court.name))
    logger.info("Case %s: complaint to %s sealed", case, court.name)
