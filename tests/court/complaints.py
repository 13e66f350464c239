"""A claimant's sealed complaint, for tests of what needs one (hand-offs of filings, the court's side)."""

from __future__ import annotations

from odr.court import complaint as complaints
from odr.extensions import db
from tests.documents.signing import sign_in_process


def seal_complaint(case, court, lang: str = "en"):
    """The claimant of ``case`` prepares the complaint to ``court`` and signs it; the platform seals it."""
    claimant = case.claimant.user
    document = complaints.prepare_complaint(case, claimant, court, lang)
    sign_in_process(document, claimant)
    db.session.flush()
    return document
