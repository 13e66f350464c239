"""Mediation outcome documents go to signing once both parties approved them.

The approved version is rendered to PDF and put up for signing (``odr.documents.operations``)
by each joined party — claimant first — and the mediator, in that order on the page; then the
platform seals it. A sealed agreement settles the case; a sealed record of undisputed facts is
what the court receives. If the mediator changes an approved document before everyone signed,
the signing version is superseded with the reason, and the new version is approved and signed
from the start.
"""

from __future__ import annotations

import logging

from flask_babel import gettext as _

from odr.cases.models import Case
from odr.documents import operations as signing
from odr.documents.models import SignedDocument, SigningStatus
from odr.extensions import db
from odr.mediate.models import OutcomeDocument, OutcomeKind
from odr.cases.notices import party_signers

logger = logging.getLogger(__name__)

KINDS = {OutcomeKind.agreement: "mediation_agreement", OutcomeKind.undisputed_facts: "undisputed_facts"}
SUBJECT = "mediation_outcome:{}"


def subject_of(document: OutcomeDocument) -> str:
    return SUBJECT.format(document.id)


def signers_of(case: Case) -> list[tuple]:
    rows = party_signers(case)
    if case.mediator is not None:
        rows.append((case.mediator, "mediator", case.mediator.name))
    return rows


def put_up(document: OutcomeDocument, case: Case, actor, reason: str = "") -> SignedDocument:
    """Render the approved version and put it up for signing (in the caller's transaction)."""
    from odr.mediate.outcomes.pdf import mediation_pdf  # WeasyPrint loads when a document is first rendered

    pdf = mediation_pdf(case, document)
    return signing.start(case, actor, kind=KINDS[document.kind], subject=subject_of(document),
                         title=document.content.get("title") or document.kind.value,
                         lang=document.content.get("lang") or "zh", pdf=pdf, signers=signers_of(case),
                         reason=reason)


def signed_document(document: OutcomeDocument) -> SignedDocument | None:
    """The signing version made from this outcome version, if any (superseded ones excluded)."""
    found = signing.current(document_case(document), KINDS[document.kind])
    return found if found is not None and found.subject == subject_of(document) else None


def document_case(document: OutcomeDocument) -> Case:
    return db.session.get(Case, document.case_id)


def is_signed(document: OutcomeDocument) -> bool:
    found = signed_document(document)
    return found is not None and found.status is SigningStatus.complete


def supersede_for_new_version(document: OutcomeDocument, actor, new_version: int, reason: str) -> None:
    """The mediator changed an approved version: its signing stops counting, saying why."""
    found = signed_document(document)
    if found is None:
        return
    why = _("Version %(n)s was drawn up after signing had started.", n=new_version)
    signing.supersede(found, actor, f"{why} {reason}".strip())


def agreement_sealed(sealed: SignedDocument) -> None:
    from odr.mediate.outcomes import operations as outcomes

    outcome_id = int(sealed.subject.split(":", 1)[1])
    document = db.session.get(OutcomeDocument, outcome_id)
    case = sealed.case
    if document is not None and case.is_open and outcomes.ready_to_settle(document):
        outcomes.settle(document, case)
        outcomes.schedule_performance(document, case, sealed)
