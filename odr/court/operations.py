"""Handing a case to a court, and what the court reports back.

A hand-off signs a checkpoint of the case's audit trail (:mod:`odr.documents.checkpoints`: the
court becomes a witness of it), writes the case's bundle (:mod:`odr.court.bundle`, the checkpoints
in it) once, stores it by its SHA-256 and records it: what the court downloads later is exactly
what was handed over, whatever happens to the case afterwards. Three kinds:

- **filing** — mediation failed and the case is at the litigation stage: the claimant signed the
  complaint (:mod:`odr.court.complaint`) and the centre hands the case to the court it is
  addressed to; the case is closed as "handed to court". No complaint, no filing: a court files
  a case on the plaintiff's complaint;
- **confirmation** — a settled case whose parties both signed the application for judicial
  confirmation (the signing hook calls :func:`hand_off`); the case stays settled;
- **enforcement** — the entitled side of a confirmed agreement or an award in default signed the
  application for enforcement (:mod:`odr.court.enforcement`); the case keeps its outcome.

The court reports receipt, its docket number and its result (confirmed, not confirmed, judgment,
withdrawn); each report is one transaction with its audit entry, tells the parties, and is
idempotent: the same report twice changes nothing, a different result once decided is refused.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr.cases import audit, workflow
from odr.cases import operations as case_ops
from odr.cases.notices import joined_users, notify_users
from odr.cases.service import operations as service_ops
from odr.cases.service.operations import Served
from odr.cases.models import Case, Organization, OrgType, Outcome, Stage
from odr.court.models import FOLLOWED_BY, CourtResult, Handoff, HandoffKind, HandoffStatus, results_for
from odr.documents import checkpoints
from odr.extensions import db
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

DOCKET_MAX = 64
NOTE_MAX = 2000


class CourtError(Refused):
    """A hand-off or a court report refused with a reason (409-type)."""


class InvalidReport(CourtError):
    """A court report with a missing or malformed value (422-type)."""

    status = 422


def courts() -> list[Organization]:
    return list(db.session.scalars(sa.select(Organization).where(Organization.type == OrgType.court)
                                   .order_by(Organization.name)))


def bundle_folder() -> Path:
    path = Path(current_app.config.get("COURT_BUNDLE_FOLDER") or Path(current_app.instance_path) / "court-bundles")
    path.mkdir(parents=True, exist_ok=True)
    return path


def bundle_path(handoff: Handoff) -> Path:
    return bundle_folder() / f"{handoff.bundle_sha256}.zip"


def _write_bundle(case: Case) -> tuple[str, int]:
    from odr.court.bundle import export

    folder = bundle_folder()
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            export(case, out)
        digest, size = hashlib.sha256(), 0
        with open(tmp, "rb") as fh:
            while chunk := fh.read(1024 * 1024):
                digest.update(chunk)
                size += len(chunk)
        sha = digest.hexdigest()
        os.replace(tmp, folder / f"{sha}.zip")
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return sha, size


def current_handoff(case: Case) -> Handoff | None:
    return db.session.scalar(sa.select(Handoff).where(Handoff.case_id == case.id).order_by(Handoff.id.desc()).limit(1))


def hand_off(case: Case, court: Organization, actor, kind: HandoffKind | None = None) -> Handoff:
    """Write the bundle and hand the case to ``court`` (in the caller's transaction).

    :raise CourtError: not a court, the case is not ready (filing: at the litigation stage with the
        claimant's sealed complaint to this court; confirmation: settled), it was handed already, or
        the timestamp authority did not answer.
    """
    if court is None or court.type is not OrgType.court:
        raise CourtError(_l("Choose a court."))
    kind = kind or (HandoffKind.confirmation if case.outcome is Outcome.settled else HandoffKind.filing)
    if kind is HandoffKind.filing and not (case.is_open and case.stage is Stage.litigation):
        raise CourtError(_l("Only a case at the court hand-off stage can be filed with a court."))
    if kind is HandoffKind.confirmation and case.outcome is not Outcome.settled:
        raise CourtError(_l("Only a settled case can be sent for judicial confirmation."))
    previous = current_handoff(case)
    if kind is HandoffKind.enforcement:
        # Enforcement follows the court's confirmation (or an award): only another application stops it.
        if previous is not None and previous.kind is HandoffKind.enforcement \
                and previous.result is not CourtResult.withdrawn:
            raise CourtError(_l("An application for enforcement was already handed to a court."))
    elif previous is not None and previous.result is not CourtResult.withdrawn:
        raise CourtError(_l("This case was already handed to a court."))
    if kind is HandoffKind.filing:
        _check_complaint(case, court)
    try:
        case_ops.assign_handler(case, actor, court=court)
    except case_ops.CaseError as exc:
        raise CourtError(exc.reason) from None
    if kind is HandoffKind.filing:
        try:
            workflow.move(case, Outcome.handed_to_court, actor)
        except workflow.WorkflowError as exc:
            raise CourtError(exc.reason) from None
    db.session.flush()
    try:
        checkpoint = checkpoints.checkpoint_case(case)
    except checkpoints.CheckpointError as exc:
        raise CourtError(exc.reason) from None
    sha, size = _write_bundle(case)
    handoff = Handoff(case_id=case.id, court_id=court.id, kind=kind, bundle_sha256=sha, bundle_size=size,
                      created_at=utcnow())
    db.session.add(handoff)
    db.session.flush()
    audit.record(case, actor, "court_handoff", {"handoff": handoff.id, "court": court.name, "kind": kind.value,
                                                "bundle_sha256": sha, "bundle_size": size,
                                                "checkpoint": checkpoint.sha256})
    notify_users(case, joined_users(case), _("Case %(number)s was handed to %(court)s.", number=case.number,
                                             court=court.name),
                 served=Served("handoff", service_ops.path_of("cases.show", number=case.number), sha))
    logger.info("Case %s handed to %s (%s, bundle %s)", case, court.name, kind.value, sha[:12])
    return handoff


def _check_complaint(case: Case, court: Organization) -> None:
    from odr.court.complaint import court_of, sealed_complaint

    complaint = sealed_complaint(case)
    if complaint is None:
        raise CourtError(_l("The claimant has not signed the complaint yet: a court files a case on the "
                            "claimant's complaint."))
    addressed = court_of(complaint)
    if addressed is None or addressed.id != court.id:
        raise CourtError(_l("The claimant's complaint is addressed to %(court)s: hand the case to that court.",
                            court=addressed.name if addressed is not None else "?"))


def _notify(case: Case, text: str) -> None:
    """Tell the parties who joined the case (those invited who never joined, or declined, are not on
    the platform: the court serves them by its own means)."""
    notify_users(case, joined_users(case), text)


# --- what the court reports -----------------------------------------------------------------

def record_receipt(handoff: Handoff, actor) -> bool:
    """The court received the bundle. Returns whether anything changed."""
    if handoff.status is not HandoffStatus.sent:
        return False
    handoff.status = HandoffStatus.received
    handoff.received_at = utcnow()
    audit.record(handoff.case, actor, "court_received", {"handoff": handoff.id, "court": handoff.court.name})
    return True


def record_docket(handoff: Handoff, actor, docket_number: str) -> bool:
    """The court's own case number. Returns whether anything changed.

    :raise InvalidReport: empty or too long.
    :raise CourtError: a different number was recorded already.
    """
    docket = (docket_number or "").strip() if isinstance(docket_number, str) else ""
    if not docket or len(docket) > DOCKET_MAX or any(ord(c) < 32 for c in docket):
        raise InvalidReport(_l("Give the court's case number (at most %(n)s characters).", n=DOCKET_MAX))
    if handoff.docket_number == docket:
        return False
    if handoff.docket_number is not None:
        raise CourtError(_l("A different docket number was recorded already."))
    record_receipt(handoff, actor)
    handoff.docket_number = docket
    handoff.docketed_at = utcnow()
    if handoff.status is HandoffStatus.received:
        handoff.status = HandoffStatus.docketed
    audit.record(handoff.case, actor, "court_docketed", {"handoff": handoff.id, "docket_number": docket})
    _notify(handoff.case, _("The court registered case %(number)s as %(docket)s.",
                            number=handoff.case.number, docket=docket))
    return True


RESULT_TEXT = {
    CourtResult.confirmed: _l("confirmed the agreement"),
    CourtResult.not_confirmed: _l("did not confirm the agreement"),
    CourtResult.judgment: _l("gave judgment"),
    CourtResult.withdrawn: _l("recorded the case as withdrawn"),
    CourtResult.enforcement_accepted: _l("accepted the application for enforcement"),
    CourtResult.executed: _l("enforced the obligation in full"),
    CourtResult.enforcement_refused: _l("refused the application for enforcement"),
}


def record_result(handoff: Handoff, actor, result, note: str = "") -> bool:
    """The court's result. Returns whether anything changed.

    An application for enforcement has its own results: accepted for enforcement (which the court
    may follow with executed or refused), executed, or refused — a refusal gives the court's reason
    in ``note``. The other hand-offs take the other results.

    :raise InvalidReport: not a known result or not one for this kind of hand-off, a note that is
        too long, or a refusal of enforcement without its reason.
    :raise CourtError: a different result was recorded already (and may not follow it).
    """
    allowed = results_for(handoff.kind)
    try:
        result = CourtResult(result)
    except ValueError:
        result = None
    if result not in allowed:
        raise InvalidReport(_l("The result must be one of: %(values)s.",
                               values=", ".join(r.value for r in allowed))) from None
    note = (note or "").strip() if isinstance(note, str) else None
    if note is None or len(note) > NOTE_MAX or any(ord(c) < 32 and c not in "\r\n\t" for c in note):
        raise InvalidReport(_l("The note must be text of at most %(n)s characters.", n=NOTE_MAX))
    if result is CourtResult.enforcement_refused and not note:
        raise InvalidReport(_l("Give the court's reason for refusing enforcement."))
    if handoff.result is result:
        return False
    if handoff.result is not None and result not in FOLLOWED_BY.get(handoff.result, ()):
        raise CourtError(_l("A different result was recorded already."))
    record_receipt(handoff, actor)
    handoff.result = result
    handoff.result_note = note
    now = utcnow()
    if result in FOLLOWED_BY:  # not final: the court reports again when it is done
        handoff.status = HandoffStatus.docketed if handoff.docket_number else HandoffStatus.received
    else:
        handoff.status = HandoffStatus.decided
        handoff.decided_at = now
    audit.record(handoff.case, actor, "court_result", {"handoff": handoff.id, "result": result.value, "note": note})
    _notify(handoff.case, _("The court %(result)s in case %(number)s.", result=RESULT_TEXT[result],
                            number=handoff.case.number))
    return True
