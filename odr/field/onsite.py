"""On-site resolution on one device: the grid worker settles the dispute on the spot.

1. On the scene, the worker records who is there — each party whose identity they checked in
   person — the facts and what the parties agreed (:func:`draw_up`). The short-form on-site
   mediation agreement is rendered from the same document template as mediation agreements and
   put up for signing by the parties present (``odr.documents``), and only by them.
2. The worker hands the phone to each party in turn. The party reads the agreement, asks for a
   one-time code (:func:`send_code`: an SMS to the party's own phone, recorded on the case),
   draws their signature and types the code — or, for a party without a phone (an elderly
   party may have none), the worker types the number of the ID card they checked and the party
   signs without a code (:func:`check_id_card`). The browser makes a new key for that one signature
   (``static/sign.js``); the platform certifies it for the party's name, stating that their identity
   was checked in person by the named worker (:func:`prepare`), and the browser signs (:func:`finish`).
   Only the worker the dispute is dispatched to, on the scene, may drive these steps, only for a
   party recorded as present, once each.
3. When everyone present has signed, the platform seals the agreement; in the same transaction
   the dispatch is resolved, the case settles (``odr.cases.workflow``) and the sender's callback
   is queued with ``resolved`` (:func:`agreement_sealed`).

Operations flush and never commit (the code check commits a failed attempt, as signing does).
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr.auth import operations as auth_ops
from odr.cases import audit, callbacks, workflow
from odr.cases.models import Case, CaseParty, Outcome, Side
from odr.documents import layout
from odr.documents import operations as doc_ops
from odr.documents.layout import Signer
from odr.documents.models import DocumentSigner, SignedDocument, SignerStatus, SigningStatus
from odr.extensions import db
from odr.field import summary
from odr.field.models import Dispatch, DispatchStatus, IdentityCheck
from odr.field.operations import FieldError, _lock, dispatch_of, seconds_between, status_of
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

#: The signed document kind of the on-site agreement (``documents.operations.register_kind``).
KIND = "onsite_agreement"
#: The level of identity assurance its certificates state (``identity:in_person_field``): checked in
#: person by the named worker and confirmed with a one-time code to the party's own phone.
ASSURANCE = "in_person_field"
#: ... for a party who has no phone (or cannot use it): the worker checked the ID card in person and
#: recorded its number; no phone code (``identity:in_person_no_code``).
ASSURANCE_NO_CODE = "in_person_no_code"

LABELS = {
    "zh": {"title": "现场调解协议书", "facts": "纠纷事实", "terms": "协议内容", "identity": "身份核验",
           "identity_text": "以上当事人于{date}在现场由网格员{worker}当面核验身份，并在其设备上阅读、签署本协议。",
           "worker": "网格员", "digest": "内容摘要（SHA-256）", "version": "版本"},
    "en": {"title": "On-site mediation agreement", "facts": "Facts", "terms": "What the parties agree",
           "identity": "Identity",
           "identity_text": "The parties above had their identity checked in person on {date} by the grid worker "
                            "{worker}, and read and signed this agreement on the worker's device.",
           "worker": "Grid worker", "digest": "Content digest (SHA-256)", "version": "Version"},
}


class OnsiteError(FieldError):
    """An on-site agreement step refused; ``reason`` says why."""


def _on_scene(dispatch: Dispatch, worker) -> None:
    if not dispatch.can_work(worker):
        raise OnsiteError(_l("This dispatch is not yours."))
    _lock(dispatch)
    if dispatch.status is not DispatchStatus.on_scene:
        raise OnsiteError(_l("Check in on the scene first."))


def agreement_of(dispatch: Dispatch) -> SignedDocument | None:
    return doc_ops.current(dispatch.case, KIND)


def pdf(case: Case, worker, present: list[CaseParty], facts: str, terms: str, lang: str, version: int) -> bytes:
    """The short-form agreement, from the mediation agreement's template (``documents/mediation.html``)."""
    labels = layout.words(lang, LABELS)
    date = layout.local_date(utcnow(), lang)
    content = {"title": labels["title"], "sections": [
        {"id": "facts", "heading": labels["facts"], "text": facts},
        {"id": "terms", "heading": labels["terms"], "text": terms},
        {"id": "identity", "heading": labels["identity"],
         "text": labels["identity_text"].format(date=date, worker=worker.name)},
    ]}
    digest = layout.sha256("\n".join([facts, terms, *(p.name for p in present)]).encode())
    signers = [Signer(labels[p.side.value], p.name) for p in present]
    committee = case.organization.name if case.organization is not None else ""
    return layout.render_document(
        "mediation.html", labels, case_number=case.number, case=case, content=content, lang=lang,
        document=SimpleNamespace(version=version, status=SimpleNamespace(value="approved")),
        status="", signers=signers, digest=digest, committee=committee, seal=committee,
        attachments=[layout.audit_attachment(case)])


def draw_up(dispatch: Dispatch, worker, present_ids, facts: str, terms: str, lang: str = "zh") -> SignedDocument:
    """Record who is there (identity checked in person by ``worker``), the facts and the terms, and
    put the on-site agreement up for signing by the parties present.

    :raise OnsiteError: not their dispatch, not on the scene, fewer than two parties present, a
        person who is not a party of the case, or an agreement everyone signed already.
    """
    _on_scene(dispatch, worker)
    case = dispatch.case
    parties = {p.id: p for p in case.parties}
    try:
        wanted = sorted({int(i) for i in present_ids})
    except (TypeError, ValueError):
        raise OnsiteError(_l("Choose the parties who are there.")) from None
    if any(i not in parties for i in wanted):
        raise OnsiteError(_l("Only parties of this case can sign its agreement."))
    present = [parties[i] for i in wanted]
    if len(present) < 2 or not {p.side for p in present} >= {Side.claimant, Side.respondent}:
        raise OnsiteError(_l("An on-site agreement needs both sides present."))
    lang = lang if lang in LABELS else "zh"
    version = (db.session.scalar(sa.select(sa.func.max(SignedDocument.version)).where(
        SignedDocument.case_id == case.id, SignedDocument.kind == KIND)) or 0) + 1
    data = pdf(case, worker, present, facts, terms, lang, version)
    try:
        document = doc_ops.start(case, worker, kind=KIND, subject=f"dispatch:{dispatch.id}",
                                 title=str(LABELS[lang]["title"]), lang=lang, pdf=data,
                                 signers=[(worker, p.side.value, p.name) for p in present],
                                 reason=_("The grid worker drew up the on-site agreement again."))
    except doc_ops.SigningError as exc:
        raise OnsiteError(exc.reason) from None
    audit.record(case, worker, "field_agreement_drawn_up", {
        "document": document.id, "version": document.version,
        "present": [{"party": p.id, "side": p.side.value, "name": p.name} for p in present],
        "identity_checked_by": worker.name, "identity_checked": "in person", "facts": facts, "terms": terms})
    logger.info("Dispatch %s: on-site agreement v%s drawn up by %s", dispatch.id, document.version, worker.id)
    return document


def party_of(document: SignedDocument, signer: DocumentSigner) -> CaseParty | None:
    return next((p for p in document.case.parties if p.side.value == signer.role and p.name == signer.name), None)


def signer_of(dispatch: Dispatch, worker, document_id: int, position) -> tuple[SignedDocument, DocumentSigner]:
    """The on-site agreement of this dispatch and its signer at ``position``, if ``worker`` may take
    that signature now.

    :raise OnsiteError: not their dispatch or not on the scene, not this dispatch's agreement, no such
        signer (a person not recorded as present), or one who has signed already.
    """
    _on_scene(dispatch, worker)
    document = db.session.get(SignedDocument, document_id)
    if document is None or document.kind != KIND or document.subject != f"dispatch:{dispatch.id}":
        raise OnsiteError(_l("This is not the agreement of this dispatch."))
    if document.status is not SigningStatus.signing:
        raise OnsiteError(_l("This agreement is not collecting signatures."))
    try:
        position = int(position)
    except (TypeError, ValueError):
        position = -1
    signer = next((s for s in document.signers if s.position == position), None)
    if signer is None:
        raise OnsiteError(_l("Only the parties recorded as present sign this agreement."))
    if signer.status is SignerStatus.signed:
        raise OnsiteError(_l("This person has already signed this agreement."))
    return document, signer


def purpose(document: SignedDocument, signer: DocumentSigner) -> str:
    return f"onsite:{document.id}:{signer.position}"


def send_code(dispatch: Dispatch, worker, document_id: int, position) -> str:
    """Text the party a one-time code that confirms it is them signing; returns the phone it went to.

    :raise OnsiteError: see :func:`signer_of`; the party has no phone number; a code went moments ago.
    """
    document, signer = signer_of(dispatch, worker, document_id, position)
    party = party_of(document, signer)
    if party is None or not party.phone:
        raise OnsiteError(_l("This party has no phone number for the code."))
    try:
        auth_ops.send_code(party.phone, purpose(document, signer),
                           subject=_("Code to sign %(title)s", title=document.title),
                           reason=_("The grid worker %(worker)s asks you to sign %(title)s of case %(number)s "
                                    "on their phone.", worker=worker.name, title=document.title,
                                    number=document.case.number))
    except auth_ops.AuthError as exc:
        raise OnsiteError(exc.reason) from None
    audit.record(document.case, worker, "signing_code_sent", {"document": document.id, "version": document.version,
                                                              "role": signer.role, "on_site": True})
    return party.phone


def prepare(dispatch: Dispatch, worker, document_id: int, position, *, code, public_key, stamp,
            viewed_sha256: str, id_number=None, no_code_reason=None) -> DocumentSigner:
    """Step 1 of a party's signature on the worker's phone: check the party's one-time code — or,
    for a party without a phone, the ID card the worker checked in person (:func:`check_id_card`) —
    certify the key made for this signature (identity checked in person by the worker), prepare the PDF.

    :raise OnsiteError: see :func:`signer_of`.
    :raise doc_ops.BadSignatureInput: wrong code, both a code and an ID number, an invalid ID
        number, a phone on record and no reason for not using it, malformed key or drawing.
    """
    document, signer = signer_of(dispatch, worker, document_id, position)
    party = party_of(document, signer)
    if code and id_number:
        raise doc_ops.BadSignatureInput(_l("Confirm with the code or with the ID card, not both."))
    confirmed, assurance = False, ASSURANCE
    if code:
        if party is None or not party.phone:
            raise OnsiteError(_l("This party has no phone number for the code."))
        try:
            auth_ops.check_code(party.phone, str(code)[:12], purpose(document, signer))
        except auth_ops.AuthError as exc:
            db.session.commit()  # the attempt counts even though the request is refused
            raise doc_ops.BadSignatureInput(exc.reason) from None
        confirmed = True
    elif id_number:
        check_id_card(document, signer, party, worker, id_number, no_code_reason)
        confirmed, assurance = True, ASSURANCE_NO_CODE
    return doc_ops.prepare_on_site(document, signer, worker, public_key=public_key, stamp=stamp,
                                   viewed_sha256=viewed_sha256, confirmed=confirmed, certified_name=signer.name,
                                   user_ref=f"PARTY-{party.id if party else 0}", assurance=assurance,
                                   checked_by=worker.name)


def check_id_card(document: SignedDocument, signer: DocumentSigner, party: CaseParty | None, worker,
                  id_number, no_code_reason) -> IdentityCheck:
    """Record that ``worker`` checked the party's ID card in person, for a signature without a
    phone code: the number validated and kept as identity keeps numbers (``odr.documents``' ID
    number source). A party with a phone on record signs this way only with the worker's reason.

    :raise doc_ops.BadSignatureInput: an invalid number; a phone on record and no reason.
    """
    if party is None:
        raise OnsiteError(_l("Only the parties recorded as present sign this agreement."))
    reason = " ".join(str(no_code_reason or "").split())[:500] or None
    if party.phone and reason is None:
        raise doc_ops.BadSignatureInput(_l("%(name)s has a phone on record: send the code, or say why they cannot "
                                           "receive it.", name=party.name))
    number = doc_ops.protect_id_number(str(id_number))
    check = db.session.scalar(sa.select(IdentityCheck).where(IdentityCheck.document_id == document.id,
                                                             IdentityCheck.position == signer.position))
    if check is None:
        check = IdentityCheck(document_id=document.id, position=signer.position)
        db.session.add(check)
    check.party_id, check.checked_by_id, check.checked_at = party.id, worker.id, utcnow()
    check.id_number_encrypted, check.id_number_masked, check.id_number_digest = (
        number.encrypted, number.masked, number.digest)
    check.no_code_reason = reason if party.phone else None
    db.session.flush()
    audit.record(document.case, worker, "field_identity_checked", {
        "document": document.id, "version": document.version, "role": signer.role, "party": party.id,
        "id_number": number.masked, "checked_by": worker.name, "no_phone_code": True,
        "phone_on_record": bool(party.phone), "reason": check.no_code_reason})
    logger.info("Dispatch document %s: ID card of signer %s checked in person by %s, no phone code",
                document.id, signer.position, worker.id)
    return check


def finish(dispatch: Dispatch, worker, document_id: int, position, *, signature) -> SignedDocument:
    """Step 2: embed the party's signature; the last one seals the agreement (:func:`agreement_sealed`)."""
    document, signer = signer_of(dispatch, worker, document_id, position)
    return doc_ops.finish_on_site(document, signer, worker, signature=signature)


def refer(dispatch: Dispatch, worker, present: str, facts: str) -> Dispatch:
    """Referred after all (:func:`odr.field.operations.refer`): an on-site agreement still collecting
    signatures is withdrawn in the same transaction, saying why, so nobody signs it later."""
    from odr.field import operations as ops

    ops.refer(dispatch, worker, present, facts)
    document = agreement_of(dispatch)
    if document is not None and document.status is SigningStatus.signing:
        doc_ops.supersede(document, worker, _("Not settled on the spot: referred to online mediation."))
    return dispatch


def sealed_rule(case: Case):
    """Workflow guard ``onsite_agreement_sealed``: the platform sealed the on-site agreement."""
    document = doc_ops.current(case, KIND)
    if document is None or document.status is not SigningStatus.complete:
        return _l("A case settles on site when everyone present has signed the on-site agreement.")
    return None


def agreement_sealed(sealed: SignedDocument) -> None:
    """Everyone present signed and the platform sealed: the dispatch is resolved and the case settles
    (the sealing transaction), and the sender hears ``resolved``."""
    case = sealed.case
    dispatch = dispatch_of(case)
    if dispatch is not None:
        _lock(dispatch)
    if dispatch is None or dispatch.status is not DispatchStatus.on_scene:
        raise doc_ops.SigningError(_l("This dispatch is no longer on the scene."))
    before = summary.counted(dispatch)
    now = utcnow()
    dispatch.status, dispatch.closed_at = DispatchStatus.resolved, now
    db.session.flush()
    summary.move(before, summary.counted(dispatch))
    audit.record(case, None, "field_resolved", {"document": sealed.id, "version": sealed.version,
                                                "seconds": seconds_between(dispatch.received_at, now)})
    try:
        workflow.move(case, Outcome.settled, None, reason=f"on-site agreement v{sealed.version}")
    except workflow.WorkflowError as exc:
        raise doc_ops.SigningError(exc.reason) from None
    callbacks.notify(case, DispatchStatus.resolved.value, status_of(dispatch))
    logger.info("Dispatch %s resolved on site: case %s settled", dispatch.id, case)
