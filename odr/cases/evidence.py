"""Evidence of a case: files the parties and the neutral add, who sees each, and the file rules.

Evidence is part of the case file, not of one stage: it is added in mediation (shared with
everyone, or for the mediator only) and in arbitration (shared), shown in video rooms, listed in
the complaint to a court and copied into the court bundle. Each feature checks who may add
evidence at its stage and then calls :func:`add_evidence`, which applies the rules every stage
shares: the file name, the accepted types (checked by content), the size, the description, the
stored file and the audit entry — in that order, so a refusal leaves nothing behind.
"""

from __future__ import annotations

import enum
import logging
import re
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from odr import uploads
from odr.auth.models import User, enum_column
from odr.cases import audit
from odr.cases.models import Case
from odr.extensions import db
from odr.refusal import Refused
from odr.timeutil import utcnow

logger = logging.getLogger(__name__)

#: Longest evidence description, in characters (the column holds 300).
DESCRIPTION_MAX_CHARS = 300

EVIDENCE_TYPES = {
    "image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf",
    "audio/mpeg", "audio/mp4", "audio/ogg", "audio/wav", "audio/amr", "audio/webm",
}
WRONG_TYPE = _l("This kind of file is not accepted. Send a photo (JPEG, PNG, WebP), a PDF "
                "or a recording (MP3, M4A, OGG, WAV, AMR, WebM).")

#: A file name a browser would never send: a path, a leading dot (`..`, hidden files), control characters.
HOSTILE_NAME = re.compile(r"[/\\\x00-\x1f\x7f]|^\.")


class Visibility(enum.Enum):
    mediator = "mediator"  # the mediator (and the uploader) only
    all = "all"            # every party of the case and the neutral


class Evidence(db.Model):
    """A file added to a case. (The table kept its first name: evidence began in mediation.)"""

    __tablename__ = "mediation_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), index=True)
    uploader_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    visibility: Mapped[Visibility] = mapped_column(enum_column(Visibility))
    description: Mapped[str] = mapped_column(sa.String(300), default="")
    filename: Mapped[str] = mapped_column(sa.String(120))
    mimetype: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    uploader: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Evidence {self.id} of case {self.case_id}: {self.filename!r} ({self.visibility.value})>"


class EvidenceError(Refused):
    """A file or description that cannot be accepted; ``reason`` is shown to the person."""


def check_filename(filename: str | None) -> None:
    """Refuse names no browser sends: paths, ``..``, hidden files, control characters, very long ones.

    :raise EvidenceError: no name, or a hostile one.
    """
    if not filename or not filename.strip():
        raise EvidenceError(_l("Choose a file to upload."))
    if HOSTILE_NAME.search(filename) or len(filename) > 255:
        raise EvidenceError(_l("The file name is not acceptable. Rename the file (letters, digits, "
                               "no slashes or leading dots) and try again."))


def add_evidence(case: Case, uploader, stream, filename: str | None, visibility: Visibility,
                 description: str = "", *, payload: dict | None = None) -> Evidence:
    """Store an uploaded file as evidence of ``case`` and record it in the audit trail.

    The caller has checked that ``uploader`` may add evidence at this stage; ``payload`` adds to the
    audit entry (e.g. the stage). A description of private evidence stays out of the audit trail,
    which everyone in the case reads.

    :raise EvidenceError: a hostile file name, an empty, too large or unaccepted file, a too long description.
    """
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX_CHARS:
        raise EvidenceError(_l("The description can have at most %(n)s characters.", n=DESCRIPTION_MAX_CHARS))
    check_filename(filename)
    try:
        stored = uploads.store(stream, filename, EVIDENCE_TYPES, current_app.config["EVIDENCE_MAX_BYTES"],
                               wrong_type=WRONG_TYPE)
    except uploads.UploadError as exc:
        raise EvidenceError(exc.reason) from None
    evidence = Evidence(case_id=case.id, uploader_id=uploader.id, visibility=visibility,
                        description=description, filename=stored.filename, mimetype=stored.mimetype,
                        size=stored.size, sha256=stored.sha256)
    db.session.add(evidence)
    db.session.flush()
    entry = {"evidence": evidence.id, "sha256": stored.sha256, "visibility": visibility,
             "filename": stored.filename, "mimetype": stored.mimetype, "size": stored.size, **(payload or {})}
    if visibility is Visibility.all:
        entry["description"] = description
    else:
        entry["private"] = "mediator"
    audit.record(case, uploader, "evidence_added", entry)
    logger.info("Evidence %s (%s, %s) added to %s by %s", evidence.id, stored.mimetype, visibility.value,
                case.number, uploader)
    return evidence


def shared_evidence(case: Case, *, since: datetime | None = None, types: set[str] | None = None) -> list[Evidence]:
    """The evidence everyone in the case may see, oldest first (added ``since``, of ``types``)."""
    query = sa.select(Evidence).where(Evidence.case_id == case.id, Evidence.visibility == Visibility.all)
    if since is not None:
        query = query.where(Evidence.created_at >= since)
    if types is not None:
        query = query.where(Evidence.mimetype.in_(types))
    return list(db.session.scalars(query.order_by(Evidence.id)))
