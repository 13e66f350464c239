"""The proof of service of a case (送达回证) as PDF/A-3b, sealed by the platform, for the court bundle.

It lists every notice the platform served in the case (:mod:`odr.cases.service`): to whom, what
(the SHA-256 of the document or notice), by which channel and to which address, when it was sent,
when the carrier (the SMTP or SMS sender) accepted it — or why it did not — and when the recipient
first opened their own link; each party's service address confirmation; and, when the respondent
let the deadline pass, that they did not respond; and who came to each mediation session held —
a party recorded as a no-show with the records of the session notice served to them, and the
mediation ended for non-attendance. The sessions write attendance into the case's audit trail
(``session_held``, ``session_no_show``, ``mediation_failed_non_attendance``), which is what is read
here: the case file knows no feature's tables. ``service.json`` in the bundle holds the same
records as data (schema ``docs/court-bundle-service.schema.json``).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from odr.cases import audit
from odr.cases.models import Case
from odr.cases.service import operations as service
from odr.documents import layout
from odr.documents.case_file import BundleFile, chunks_of_bytes

logger = logging.getLogger(__name__)

PDF_NAME = "service/proof-of-service.pdf"
JSON_NAME = "service/service.json"

LABELS = {
    "zh": {
        "title": "送达回证",
        "intro": "本平台以电子方式向当事人送达下列文书和通知。每条信息附有仅供受送达人本人打开的链接；"
                 "“首次打开”为受送达人本人账户首次打开该链接的时间。",
        "addresses": "送达地址确认",
        "confirmed": "{date}确认，同意电子送达：{addresses}",
        "not_confirmed": "未确认送达地址；按案件登记的联系方式送达：{addresses}",
        "records": "送达记录",
        "no": "序号",
        "to": "受送达人",
        "what": "送达文书",
        "how": "方式及地址",
        "sent": "发送",
        "accepted": "运营商接收",
        "opened": "首次打开",
        "failed": "未送达：{error}",
        "none": "—",
        "no_records": "（无送达记录）",
        "no_response": "被申请人在{due}前未作回应（未加入案件，也未拒绝）。",
        "kinds": {"invitation": "参加在线纠纷解决的邀请", "reminder": "催告", "session_notice": "调解或开庭通知",
                  "proposal": "调解方案（附答复期限）", "document": "待确认或签署的文书",
                  "arbitration_accepted": "仲裁受理通知", "claim": "仲裁申请书", "defence": "仲裁答辩书",
                  "award": "仲裁裁决书", "handoff": "移交法院通知", "no_response": "被申请人未回应的通知"},
        "sms": "短信", "email": "电子邮件",
        "attendance": "调解会议出席情况",
        "session": "调解会议",
        "party": "当事人",
        "attended": "出席情况",
        "proof": "会议通知送达",
        "present": "出席",
        "absent": "未出席（记录为缺席）",
        "served_as": "已送达，见送达记录第{numbers}号",
        "not_served": "无会议通知送达记录（不计入缺席次数）",
        "non_attendance": "{side}{name}经送达会议通知后{n}次未出席调解会议，调解于{date}以缺席为由终止。",
    },
    "en": {
        "title": "Proof of service",
        "intro": "The platform served the following documents and notices electronically. Each message carried a "
                 "link for its recipient alone; \"first opened\" is when the recipient's own account first opened it.",
        "addresses": "Addresses for service",
        "confirmed": "confirmed on {date}, consenting to electronic service: {addresses}",
        "not_confirmed": "no address confirmed; served at the contacts the case holds: {addresses}",
        "records": "Service records",
        "no": "No.",
        "to": "To",
        "what": "Document",
        "how": "Channel and address",
        "sent": "Sent",
        "accepted": "Accepted by the carrier",
        "opened": "First opened",
        "failed": "not delivered: {error}",
        "none": "—",
        "no_records": "(nothing served)",
        "no_response": "The respondent did not respond by {due} (neither joined the case nor declined).",
        "kinds": {"invitation": "Invitation to resolve the dispute online", "reminder": "Reminder",
                  "session_notice": "Notice of a session or hearing", "proposal": "Proposal with a deadline",
                  "document": "Document to approve or sign", "arbitration_accepted": "Acceptance of arbitration",
                  "claim": "Statement of claim", "defence": "Statement of defence", "award": "Award",
                  "handoff": "Notice of the court hand-off", "no_response": "Notice that the respondent did not respond"},
        "sms": "SMS", "email": "e-mail",
        "attendance": "Attendance at mediation sessions",
        "session": "Session",
        "party": "Party",
        "attended": "Attendance",
        "proof": "Session notice served",
        "present": "attended",
        "absent": "did not attend (recorded as a no-show)",
        "served_as": "served: service records No. {numbers}",
        "not_served": "no service of the notice on record (not counted as a no-show)",
        "non_attendance": ("The {side} {name} did not attend {n} mediation sessions although served the notices; "
                           "the mediation was ended for non-attendance on {date}."),
    },
}


def _when(moment, lang) -> str:
    if moment is None:
        return ""
    return layout.local_date(moment, lang) + " " + moment.strftime("%H:%M") + " UTC"


def service_data(case: Case) -> dict:
    """``service.json``: every served notice and each party's confirmation, as data."""
    def iso(moment):
        return moment.isoformat(timespec="seconds") + "Z" if moment is not None else None

    sides = {p.id: p.side.value for p in case.parties}
    parties = []
    for party in case.parties:
        state = service.state_of(party, create=False)
        parties.append({
            "side": party.side.value, "name": layout.party_name(party),
            "confirmed_at": iso(state.confirmed_at) if state else None,
            "consent": bool(state and state.consent),
            "phones": list(state.phones) if state and state.confirmed else [],
            "emails": list(state.emails) if state and state.confirmed else [],
            "response_due_at": iso(state.response_due_at) if state else None,
            "no_response_at": iso(state.no_response_at) if state else None})
    records = [{"id": r.id, "side": sides.get(r.party_id), "kind": r.kind, "document_sha256": r.document_sha256,
                "channel": r.channel, "address": r.address, "sent_at": iso(r.sent_at),
                "accepted_at": iso(r.accepted_at), "first_opened_at": iso(r.first_opened_at), "error": r.error}
               for r in service.records_of(case)]
    return {"format": "odr-service", "case": case.number, "parties": parties, "records": records,
            "attendance": attendance_data(case), "non_attendance": non_attendance_data(case)}


def _iso(value) -> str | None:
    """A time as the audit trail stored it (ISO 8601, UTC) in the form service.json uses."""
    if not value:
        return None
    return datetime.fromisoformat(str(value).removesuffix("Z")).isoformat(timespec="seconds") + "Z"


def attendance_data(case: Case) -> list[dict]:
    """Who came to each session held, as the audit trail records it: for a no-show, whether the
    session notice was served and the service records that prove it."""
    events = audit.case_events(case)
    no_shows = {(ev.payload.get("session"), ev.payload.get("user")): ev.payload for ev in events
                if ev.action == "session_no_show"}
    rows = []
    for ev in events:
        if ev.action != "session_held":
            continue
        held = ev.payload
        for who, present in [(w, True) for w in held.get("present") or []] + \
                            [(w, False) for w in held.get("no_shows") or []]:
            entry = {} if present else no_shows.get((held.get("session"), who.get("user")), {})
            rows.append({"session": held.get("session"), "starts_at": _iso(held.get("starts_at")),
                         "side": who.get("side"), "name": who.get("name") or "", "present": present,
                         "notice_served": None if present else bool(entry.get("notice_served")),
                         "served": [s["record"] for s in entry.get("served") or [] if "record" in s]})
    return rows


def non_attendance_data(case: Case) -> dict | None:
    """The mediation ended for a party's non-attendance (the latest such entry), or ``None``."""
    ended = next((ev for ev in reversed(audit.case_events(case)) if ev.action == "mediation_failed_non_attendance"),
                 None)
    if ended is None:
        return None
    return {"side": ended.payload.get("side"), "name": ended.payload.get("name") or "",
            "at": ended.created_at.isoformat(timespec="seconds") + "Z",
            "sessions": [s.get("session") for s in ended.payload.get("no_shows") or []]}


def _attendance_rows(data: dict, numbers: dict[int, int], labels: dict, lang: str) -> list[dict]:
    rows = []
    for a in data["attendance"]:
        if a["present"]:
            proof = labels["none"]
        elif a["notice_served"]:
            proof = labels["served_as"].format(
                numbers=labels["comma"].join(str(numbers[r]) for r in a["served"] if r in numbers) or labels["none"])
        else:
            proof = labels["not_served"]
        starts = datetime.fromisoformat(a["starts_at"].removesuffix("Z")) if a["starts_at"] else None
        rows.append({"session": _when(starts, lang), "party": f"{labels.get(a['side'] or '', '')} {a['name']}",
                     "attended": labels["present"] if a["present"] else labels["absent"], "proof": proof,
                     "absent": not a["present"]})
    return rows


def render_proof_of_service(case: Case, lang: str | None = None) -> bytes:
    """The proof of service as an unsigned PDF/A-3b in ``lang`` (the audit trail is the bundle's own)."""
    lang = layout.document_lang(lang)
    labels = layout.words(lang, LABELS)
    data = service_data(case)
    addresses = []
    for p in data["parties"]:
        party = next(x for x in case.parties if x.side.value == p["side"])
        if p["confirmed_at"]:
            text = labels["confirmed"].format(date=_when(service.state_of(party, create=False).confirmed_at, lang),
                                              addresses=", ".join(p["phones"] + p["emails"]))
        else:
            text = labels["not_confirmed"].format(addresses=", ".join(service.addresses_for(party)) or labels["none"])
        addresses.append((labels[p["side"]], p["name"], text))
    rows = []
    numbers = {}
    for n, r in enumerate(service.records_of(case), 1):
        numbers[r.id] = n
        party = next((x for x in case.parties if x.id == r.party_id), None)
        rows.append({
            "n": n, "to": f"{labels[party.side.value]} {layout.party_name(party)}" if party else "",
            "what": labels["kinds"].get(r.kind, r.kind), "sha": r.document_sha256,
            "how": f"{labels.get(r.channel, r.channel)} {r.address}", "sent": _when(r.sent_at, lang),
            "accepted": _when(r.accepted_at, lang) or (labels["failed"].format(error=r.error) if r.error else labels["none"]),
            "opened": _when(r.first_opened_at, lang) or labels["none"]})
    silent = service.no_response(case)
    ended = data["non_attendance"]
    if ended is not None:
        ended_at = datetime.fromisoformat(ended["at"].removesuffix("Z"))
        ended = labels["non_attendance"].format(side=labels.get(ended["side"] or "", ""), name=ended["name"],
                                                n=len(ended["sessions"]), date=layout.local_date(ended_at, lang))
    pdf = layout.render_document(
        "proof_of_service.html", labels, case_number=case.number,
        organisation=case.organization.name if case.organization is not None else "",
        addresses=addresses, rows=rows, attendance=_attendance_rows(data, numbers, labels, lang),
        non_attendance=ended or "",
        no_response=labels["no_response"].format(due=_when(silent.response_due_at, lang)) if silent else "")
    logger.info("Case %s: proof of service of %s record(s) rendered", case, len(rows))
    return pdf


def sealed_proof_of_service(case: Case, lang: str | None = None) -> bytes:
    """:func:`render_proof_of_service` sealed by the platform (PAdES), as the court receives it."""
    from odr.documents import pades
    from odr.documents.ca import platform_ca
    from odr.documents.operations import timestamper

    ca = platform_ca()
    return pades.seal(render_proof_of_service(case, lang), ca.seal, ca, timestamper=timestamper())


def bundle_files(case: Case) -> list[BundleFile]:
    """The proof of service and its data, for every court bundle."""
    data = json.dumps(service_data(case), ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"
    return [
        BundleFile(PDF_NAME, "Proof of service (送达回证): every notice served, sealed by the platform",
                   "application/pdf", lambda: iter([sealed_proof_of_service(case)])),
        BundleFile(JSON_NAME, "The service records as data: to whom, what (SHA-256), channel, sent, accepted, "
                   "first opened", "application/json", chunks_of_bytes(data)),
    ]
