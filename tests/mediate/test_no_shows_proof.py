"""The proof of service shows non-attendance: for each session held, who came and who was recorded
as a no-show, with the service records of the session notice; and the mediation ended for
non-attendance. The same in service.json (its schema), which ``verify-bundle`` checks."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import jsonschema

from odr.court.verify_bundle import _check_service, BundleReport
from odr.documents import proof_of_service
from odr.extensions import db
from tests.mediate.test_no_shows import end, m, miss, schedule  # noqa: F401  (m: the fixture)
from tests.pdf_text import text_of

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "court-bundle-service.schema.json").read_text())


def test_the_proof_of_service_lists_attendance_and_the_no_shows_proof(app, m, client, login, clock, tmp_path):
    app.config["SESSION_NO_SHOW_LIMIT"] = 2
    for _ in range(2):
        miss(m, client, clock, schedule(m, client, login, clock))
    assert end(client, m.case).status_code == 303
    db.session.expire_all()

    data = proof_of_service.service_data(m.case)
    jsonschema.validate(data, SCHEMA)
    ids = {r["id"]: r for r in data["records"]}
    rows = data["attendance"]
    assert [(a["side"], a["present"]) for a in rows] == [("claimant", True), ("respondent", False)] * 2
    for a in rows:
        if a["present"]:
            assert a["notice_served"] is None and a["served"] == []
        else:
            assert a["notice_served"] is True and a["served"]
            assert {ids[r]["kind"] for r in a["served"]} <= {"session_notice", "session_reminder"}
            assert {ids[r]["side"] for r in a["served"]} == {"respondent"}
    assert data["non_attendance"]["side"] == "respondent" and len(data["non_attendance"]["sessions"]) == 2

    numbers = {r["id"]: n for n, r in enumerate(data["records"], 1)}
    proof = " ".join(text_of(proof_of_service.render_proof_of_service(m.case, "en"), tmp_path).split())
    assert "Attendance at mediation sessions" in proof
    # (a table cell wraps its lines beside the next cell's)
    assert proof.count("did not attend (recorded") == 2 and proof.count("attended") == 2
    first_no_show = next(a for a in rows if not a["present"])
    assert f"No. {numbers[first_no_show['served'][0]]}" in proof
    assert "the mediation was ended for non-attendance" in proof
    zh = "".join(text_of(proof_of_service.render_proof_of_service(m.case, "zh"), tmp_path).split())
    assert "调解会议出席情况" in zh and "未出席（记录为缺席）" in zh and "以缺席为由终止" in zh


def _checked(data: dict) -> BundleReport:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(proof_of_service.JSON_NAME, json.dumps(data))
    report = BundleReport()
    with zipfile.ZipFile(buffer) as zf:
        _check_service(zf, {proof_of_service.PDF_NAME: {}}, report)
    return report


def test_verify_bundle_names_a_no_show_whose_proof_is_not_in_the_records(app, m, client, login, clock):
    miss(m, client, clock, schedule(m, client, login, clock))
    db.session.expire_all()
    data = proof_of_service.service_data(m.case)
    assert not _checked(data).problems
    absent = next(a for a in data["attendance"] if not a["present"])
    absent["served"] = [max(r["id"] for r in data["records"]) + 1]
    assert _checked(data).problems == [
        "service/service.json: attendance 2: names service records the bundle does not hold"]
