"""The demo with identity required for signing, as ``make demo`` runs it: its parties are verified
at the counter before they sign the complaint and the arbitration agreements, and the signed
complaint's certificate names the claimant's verified name at level ``counter``."""

import sqlalchemy as sa

from odr.documents import storage
from odr.documents.ca import platform_ca
from odr.documents.models import SignedDocument
from odr.documents.verify import verify
from odr.extensions import db
from odr.identity.models import AssuranceLevel, IdentityVerification


def test_the_demo_parties_are_verified_at_the_counter_and_sign(app, runner):
    app.config["IDENTITY_REQUIRED_FOR_SIGNING"] = True
    try:
        result = runner.invoke(args=["demo", "--no-serve"])
    finally:
        app.config["IDENTITY_REQUIRED_FOR_SIGNING"] = False
    assert result.exit_code == 0, result.output
    found = db.session.scalars(sa.select(IdentityVerification)).all()
    assert {v.legal_name for v in found} == {"王芳", "李强"}
    assert all(v.level is AssuranceLevel.counter and v.verified_by is not None for v in found)
    complaint = db.session.scalar(sa.select(SignedDocument).where(SignedDocument.kind == "civil_complaint"))
    report = verify(storage.get(complaint.current_sha256), [platform_ca().ca.asn1_cert])
    assert report.ok, report.lines()
    assert [(s.signer, s.identity) for s in report.signatures if s.kind == "signature"] == [("王芳", "counter")]
