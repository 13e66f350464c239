"""Features plug in explicitly (DESIGN §2): each registers what it provides from its ``init_app``, the
app refuses to start when a slot the core names has nothing in it, and import-linter keeps every
feature off the others."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import odr
from odr import arbitrate, mediate
from odr.cases import workflow
from odr.documents import case_file
from odr.documents import operations as signing
from odr.extensions import db
from tests.conftest import test_config as config_for

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.fixture
def fresh_registries(monkeypatch):
    """Registries as a process that made no app yet has them (other tests' apps filled these)."""
    monkeypatch.setattr(workflow, "FEATURE_GUARDS", {})
    monkeypatch.setattr(case_file, "PROVIDERS", {})
    monkeypatch.setattr(case_file, "REQUIRED", set())


def _without(monkeypatch, feature):
    plugged = odr._features()
    monkeypatch.setattr(odr, "_features", lambda: tuple(f for f in plugged if f is not feature))


def test_the_app_refuses_to_start_without_the_feature_that_ends_a_case_by_award(fresh_registries, monkeypatch,
                                                                                 database_url):
    _without(monkeypatch, arbitrate)
    with pytest.raises(RuntimeError, match=r"guards \['award_sealed'\] have no rule"):
        odr.create_app(config_for(database_url), sockets=False)


def test_the_app_refuses_to_start_when_the_courts_documents_lack_the_mediation(fresh_registries, monkeypatch,
                                                                              database_url):
    _without(monkeypatch, mediate)
    with pytest.raises(RuntimeError, match=r"nothing provides \['judicial_confirmation', 'undisputed_facts'\]"):
        odr.create_app(config_for(database_url), sockets=False)


def test_every_feature_plugged_in_starts(fresh_registries, database_url):
    app = odr.create_app(config_for(database_url), sockets=False)
    assert "award_sealed" in workflow.FEATURE_GUARDS
    assert {"judicial_confirmation", "undisputed_facts"} <= case_file.PROVIDERS.keys()
    assert {"mediation_agreement", "undisputed_facts", "arbitration_agreement", "arbitral_award",
            "judicial_confirmation", "civil_complaint"} <= signing.KINDS.keys()
    assert {"mediate", "arbitrate", "court", "video", "api_court", "api_intake"} <= app.blueprints.keys()


def test_a_document_kind_no_feature_registered_is_refused(app, make_case, make_user):
    case = make_case()
    with pytest.raises(LookupError, match="no feature registered the document kind 'lease'"):
        signing.start(case, None, kind="lease", subject="x", title="Lease", lang="en", pdf=b"%PDF-",
                      signers=[(make_user(), "claimant", "A")])
    db.session.rollback()


def _lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--config", str(ROOT / "setup.cfg"), "--no-cache"], cwd=tree,
                          capture_output=True, text=True, timeout=300, env={"PYTHONPATH": str(tree), "PATH": ""})


def test_layers_hold_and_a_cross_feature_import_breaks_them(tmp_path):
    assert _lint(ROOT).returncode == 0, _lint(ROOT).stdout[-3000:]
    shutil.copytree(ROOT / "odr", tmp_path / "odr", ignore=shutil.ignore_patterns("__pycache__"))
    shortcut = tmp_path / "odr" / "court" / "shortcut.py"
    shortcut.write_text("from odr.mediate.outcomes.operations import current_document  # a court reaching into mediation\n")
    broken = _lint(tmp_path)
    assert broken.returncode == 1
    assert "odr.court is not allowed to import odr.mediate" in broken.stdout
    assert "odr.court.shortcut -> odr.mediate.outcomes.operations" in broken.stdout


def test_a_refusal_no_view_answers_is_rolled_back_and_explained(fresh_registries, _schema, database_url):
    """Views let a domain refusal rise instead of each catching it: the app's handler rolls the
    request back and answers 409 (422 for bad input) with the reason, as a page or problem details."""
    import sqlalchemy as sa

    from odr.cases.models import Organization, OrgType
    from odr.refusal import Refused

    class NotNow(Refused):
        pass

    class BadValue(Refused):
        status = 422

    app = odr.create_app(config_for(database_url), sockets=False)

    def half_written(error):
        db.session.add(Organization(name="Half written", type=OrgType.industry, district="朝阳区"))
        db.session.flush()
        raise error

    app.add_url_rule("/test/refused", "refused", lambda: half_written(NotNow("Not in this state.")), methods=["POST"])
    app.add_url_rule("/api/test/bad", "bad", lambda: half_written(BadValue("Amount must be positive.")),
                     methods=["POST"])
    client = app.test_client()
    page = client.post("/test/refused")
    assert page.status_code == 409 and "Not in this state." in page.get_data(as_text=True)
    api = client.post("/api/test/bad")
    assert api.status_code == 422 and api.content_type == "application/problem+json"
    assert api.get_json()["detail"] == "Amount must be positive."
    with app.app_context():
        try:
            assert db.session.scalar(sa.select(sa.func.count()).where(Organization.name == "Half written")) == 0
        finally:
            db.session.remove()
            db.engine.dispose()  # this app's pool: its connections are not left to the garbage collector
