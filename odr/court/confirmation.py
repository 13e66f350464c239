"""Judicial confirmation of a settlement: both parties sign the application, then it goes to court.

After the agreement is signed and sealed (the case is settled), either party may ask for judicial
confirmation (司法确认) at a court of their choice. The application is rendered from the case —
with the sealed agreement attached and its SHA-256 printed — and put up for signing by both
parties (claimant first). When both signed and the platform sealed it, the case is handed to that
court (:func:`odr.court.operations.hand_off`, kind *confirmation*) with the bundle that holds
both documents. The chosen court is recorded in the signing version (``subject``), so a change of
court is a new version with a reason, like any change after signing started.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from odr.cases.models import Case, Organization, OrgType, Outcome
from odr.court import operations as court_ops
from odr.court.models import HandoffKind
from odr.cases.notices import party_signers
from odr.documents import operations as signing
from odr.documents.case_file import provided
from odr.documents import storage
from odr.documents.models import SignedDocument, SigningStatus
from odr.extensions import db
from odr.refusal import Refused

KIND = "judicial_confirmation"
SUBJECT = "court:{}"


def sealed_agreement(case: Case) -> SignedDocument | None:
    found = signing.current(case, "mediation_agreement")
    return found if found is not None and found.status is SigningStatus.complete else None


def current_application(case: Case) -> SignedDocument | None:
    return signing.current(case, KIND)


def may_request(case: Case, user) -> bool:
    return case.outcome is Outcome.settled and sealed_agreement(case) is not None \
        and bool(case.roles_of(user) & {"claimant", "respondent"}) and court_ops.current_handoff(case) is None


def request_confirmation(case: Case, user, court: Organization, lang: str) -> SignedDocument:
    """Put the application to ``court`` up for signing by both parties (in the caller's transaction).

    :raise court_ops.CourtError: not a court, the case is not settled with a sealed agreement, the
        user is not a party, or the case was handed to a court already.
    """
    if court is None or court.type is not OrgType.court:
        raise court_ops.CourtError(_l("Choose a court."))
    if not may_request(case, user):
        raise court_ops.CourtError(_l("Judicial confirmation can be asked for by a party of a settled case "
                                      "whose agreement everyone signed, once."))
    previous = current_application(case)
    if previous is not None and previous.subject == SUBJECT.format(court.id) \
            and previous.status is SigningStatus.signing:
        return previous  # asked twice for the same court: the same application
    agreement = sealed_agreement(case)
    try:
        pdf = provided("judicial_confirmation")(case, court.name, lang,
                                                agreement_pdf=storage.get(agreement.current_sha256))
    except Refused as exc:  # no agreement both parties approved
        raise court_ops.CourtError(exc.reason) from None
    parties = party_signers(case)
    reason = ""
    if previous is not None and previous.subject != SUBJECT.format(court.id):
        reason = _("The application is now addressed to %(court)s.", court=court.name)
    try:
        return signing.start(case, user, kind=KIND, subject=SUBJECT.format(court.id),
                             title=_("Application for judicial confirmation"), lang=lang, pdf=pdf,
                             signers=parties, reason=reason)
    except signing.SigningError as exc:
        raise court_ops.CourtError(exc.reason) from None


def confirmation_signed(document: SignedDocument) -> None:
    court = db.session.get(Organization, int(document.subject.split(":", 1)[1]))
    try:
        court_ops.hand_off(document.case, court, None, kind=HandoffKind.confirmation)
    except court_ops.CourtError as exc:  # the signing step answers it (the signature is not kept)
        raise signing.SigningError(exc.reason) from None
