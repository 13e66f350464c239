"""The ``odr`` command: demo data, accounts, schema."""

import sqlalchemy as sa

from odr.auth.models import Role, User
from odr.cases import audit
from odr.cases.models import Case, Outcome, Stage
from odr.extensions import db


def test_demo_loads_every_stage_with_intact_audit_trails(runner):
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "odr-demo-2026" in result.output and "+8613800138001" in result.output
    cases = db.session.scalars(sa.select(Case)).all()
    from odr.demo import FIELD_DISPATCHES, HISTORY

    assert len(cases) == 12 + len(HISTORY) + len(FIELD_DISPATCHES) + 1  # and the enforcement example
    stages = {c.stage for c in cases if c.is_open}
    outcomes = {c.outcome for c in cases if not c.is_open}
    assert {Stage.consultation, Stage.assessment, Stage.mediation, Stage.arbitration, Stage.litigation} <= stages
    assert {Outcome.settled, Outcome.handed_to_court, Outcome.withdrawn, Outcome.award_issued,
            Outcome.closed_without_result} <= outcomes
    assert {c.channel.value for c in cases} == {"web", "counter", "transfer"}
    assert all(audit.verify_chain(chain) is None for chain in audit.all_chains())
    # Each stage's end is there to see: a sealed agreement that verifies, a case with its court bundle.
    from odr.court.models import Handoff
    from odr.court.operations import bundle_path
    from odr.court.verify_bundle import verify_bundle
    from odr.documents import storage
    from odr.documents.ca import platform_ca
    from odr.documents.models import SignedDocument, SigningStatus
    from odr.documents.verify import verify
    sealed = db.session.scalar(sa.select(SignedDocument).where(SignedDocument.status == SigningStatus.complete,
                                                               SignedDocument.kind == "mediation_agreement"))
    assert sealed is not None and sealed.case.outcome is Outcome.settled
    report = verify(storage.get(sealed.current_sha256), [platform_ca().ca.asn1_cert])
    assert report.ok and len(report.signatures) == 4, report.lines()
    handoff = db.session.scalar(sa.select(Handoff).order_by(Handoff.id))
    assert handoff.case.outcome is Outcome.handed_to_court
    bundle = verify_bundle(bundle_path(handoff), [platform_ca().ca.asn1_cert])
    assert bundle.ok  # with the claimant's sealed complaint, both its signatures trusted
    assert any(line.startswith("documents/civil_complaint-v1.pdf: 2 signatures") for line in bundle.checked)
    # The grid worker's phone has a dispatch waiting and one under way; one was settled on the spot,
    # its on-site agreement signed by both parties (the neighbour without a phone on the ID card the
    # worker checked in person) and sealed.
    from odr.field import onsite
    from odr.field.models import Dispatch, IdentityCheck

    dispatches = {d.status.value: d for d in db.session.scalars(sa.select(Dispatch))}
    assert sorted(dispatches) == ["contacted", "dispatched", "resolved"]
    resolved = dispatches["resolved"]
    assert resolved.case.outcome is Outcome.settled
    onsite_agreement = onsite.agreement_of(resolved)
    assert onsite_agreement.status is SigningStatus.complete
    report = verify(storage.get(onsite_agreement.current_sha256), [platform_ca().ca.asn1_cert])
    assert report.ok and len(report.signatures) == 3, report.lines()
    assert sorted(s.identity for s in report.signatures if s.identity) == ["in_person_field", "in_person_no_code"]
    assert db.session.scalar(sa.select(IdentityCheck)).document_id == onsite_agreement.id

    # An agreement the court confirmed, in default (red), its application for enforcement at the court.
    from odr.cases.performance import Alert, schedule_of
    from odr.court.models import CourtResult, HandoffKind, HandoffStatus

    enforcement = db.session.scalar(sa.select(Handoff).where(Handoff.kind == HandoffKind.enforcement))
    assert enforcement is not None and enforcement.status is HandoffStatus.sent
    assert enforcement.court.type.value == "court" and enforcement.case.outcome is Outcome.settled
    confirmation = db.session.scalar(sa.select(Handoff).where(Handoff.case_id == enforcement.case_id,
                                                              Handoff.kind == HandoffKind.confirmation))
    assert confirmation.result is CourtResult.confirmed
    schedule = schedule_of(enforcement.case)
    assert schedule.alert is Alert.red and schedule.enforcement_requested_at is not None
    bundle = verify_bundle(bundle_path(enforcement), [platform_ca().ca.asn1_cert])
    assert bundle.ok, bundle.problems
    assert any(line.startswith("documents/enforcement_application-v1.pdf: 2 signatures") for line in bundle.checked)
    # One account per role.
    roles = {g.role for u in db.session.scalars(sa.select(User)) for g in u.grants}
    assert roles == set(Role)
    again = runner.invoke(args=["demo", "--no-serve"])
    assert again.exit_code == 0 and "already present" in again.output
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == len(cases)


def test_create_user_with_role_and_refusals(runner, make_org):
    org = make_org()
    result = runner.invoke(args=["create-user", "--contact", "Staff@Example.com", "--name", "Staff",
                                 "--password", "long enough pw", "--role", "staff", "--org", str(org.id)])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "staff@example.com"))
    assert user.has_role(Role.staff, org.id)
    dup = runner.invoke(args=["create-user", "--contact", "staff@example.com", "--name", "X", "--password",
                              "long enough pw"])
    assert dup.exit_code != 0 and "exists" in dup.output
    bad = runner.invoke(args=["create-user", "--contact", "123", "--name", "X", "--password", "long enough pw"])
    assert bad.exit_code != 0
    short = runner.invoke(args=["create-user", "--contact", "a@example.com", "--name", "X", "--password", "short"])
    assert short.exit_code != 0 and db.session.scalar(sa.select(sa.func.count(User.id))) == 1


def test_migrations_match_the_models(app):
    """The schema the migrations build is the schema the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert diff == []


def test_the_readme_lists_every_demo_account():
    """Each account ``odr demo`` creates is in the README's demo accounts table, by how it signs in."""
    from pathlib import Path

    from odr.demo import ACCOUNTS

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| ") and "`" in line]
    for _role, contact, name in ACCOUNTS:
        assert any(f"`{contact}`" in row and name in row for row in rows), contact
