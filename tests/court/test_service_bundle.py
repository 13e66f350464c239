"""A silent respondent's case goes to court with its proof of service: the reminders run by the
moving platform clock, the deadline passes, the claimant takes the case to court and signs the
complaint (which says how the defendant was served), the centre hands it over, and the exported
bundle verifies with ``service/proof-of-service.pdf`` (sealed) and ``service/service.json``
(its schema in docs/); a bundle without the proof, or with records that are not records, is named."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import jsonschema

from odr import jobs
from odr.auth.models import Role
from odr.cases import workflow
from odr.cases.models import OrgType, Outcome, Stage
from odr.court import operations as court_ops
from odr.court.complaint import current_complaint
from odr.documents import storage
from odr.extensions import db
from tests.court.bundles import check, rewrite, sign_checkpoint
from tests.court.complaints import seal_complaint
from tests.pdf_text import text_of

DOCS = Path(__file__).parents[2] / "docs"


def silent_case_handed_to_court(make_user, make_org, make_case, clock, tmp_path, runner):
    center = make_org(takes_intake=True)
    staff = make_user(Role.staff, center)
    court = make_org(OrgType.court, name="朝阳区人民法院")
    case = make_case(organization=center)
    db.session.commit()
    for _day in range(8):
        clock.advance(days=1)
        jobs.run_all()
    claimant = case.claimant.user
    workflow.move(case, Stage.litigation, claimant)
    db.session.commit()
    seal_complaint(case, court, lang="en")
    db.session.commit()
    court_ops.hand_off(case, court, staff)
    db.session.commit()
    sign_checkpoint()
    path = tmp_path / "bundle.zip"
    result = runner.invoke(args=["export", case.number, "-o", str(path)])
    assert result.exit_code == 0, result.output
    return case, path


def test_the_silent_respondents_case_reaches_court_with_its_proof_of_service(app, make_user, make_org, make_case,
                                                                             clock, tmp_path, runner):
    case, path = silent_case_handed_to_court(make_user, make_org, make_case, clock, tmp_path, runner)
    assert case.outcome is Outcome.handed_to_court
    complaint = text_of(storage.get(current_complaint(case).current_sha256), tmp_path)
    assert "did not respond to the invitation" in " ".join(complaint.split())
    assert "SMS to +8613900139000" in " ".join(complaint.split())  # the channel by its name, then the number
    result = runner.invoke(args=["verify-bundle", str(path), "-v"])
    code, output = result.exit_code, result.output
    assert code == 0 and "RESULT: the bundle is intact" in output, output
    # 3 to the respondent; the claimant told of the silence and of the hand-off
    assert "service/service.json: 5 service records" in output, output
    assert "service/proof-of-service.pdf: 1 signatures intact and trusted" in output, output
    with zipfile.ZipFile(path) as zf:
        records = json.loads(zf.read("service/service.json"))
        data = json.loads(zf.read("case.json"))
        proof = zf.read("service/proof-of-service.pdf")
    jsonschema.validate(records, json.loads((DOCS / "court-bundle-service.schema.json").read_text()))
    jsonschema.validate(data, json.loads((DOCS / "court-bundle-case.schema.json").read_text()))
    assert [r["kind"] for r in records["records"] if r["side"] == "respondent"] == ["invitation", "reminder", "reminder"]
    assert data["service"]["respondent_did_not_respond_at"] is not None
    assert [r["channel"] for r in data["service"]["respondent_served"]] == ["sms", "sms", "sms"]
    words = " ".join(text_of(proof, tmp_path).split())
    assert "送达回证" in words and "+8613900139000" in words and "未作回应" in words


def test_a_bundle_without_its_proof_of_service_or_with_broken_records_is_named(app, make_user, make_org, make_case,
                                                                              clock, tmp_path, runner):
    _case, path = silent_case_handed_to_court(make_user, make_org, make_case, clock, tmp_path, runner)
    dropped = rewrite(path, tmp_path / "dropped.zip",
                      lambda name, data: None if name == "service/proof-of-service.pdf" else data)
    code, output = check(runner, dropped)
    assert code == 1 and "service/proof-of-service.pdf: listed in the manifest but missing" in output
    broken = rewrite(path, tmp_path / "broken.zip",
                     lambda name, data: b'{"format": "odr-service", "records": [{"id": 1}]}' if name == "service/service.json" else data)
    code, output = check(runner, broken)
    assert code == 1 and "service/service.json: record 1 is incomplete" in output, output
