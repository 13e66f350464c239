"""``odr report --week YYYY-Www``: the weekly report as PDF (through odr.documents) and CSV,
and its download from the dashboard."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import date

import pytest
from flask_babel import force_locale

from odr.auth.models import Role
from odr.cases import workflow
from odr.cases.models import Category, Outcome, Stage
from odr.extensions import db
from odr.ops import queries, report
from tests.ops.conftest import refresh


@pytest.fixture
def week(app, clock, make_org, make_user, make_case):
    """Week 2026-W45 (the clock starts on its Monday): three cases filed, one settled."""
    center = make_org(name="Center", takes_intake=True)
    other = make_org(name="Other")
    admin = make_user(Role.admin)
    settled = make_case(organization=center, respondent=make_user(), stages=(Stage.mediation,), mover=admin)
    make_case(organization=center, category=Category.debt)
    make_case(organization=other, category=Category.labour)
    clock.advance(days=2)
    workflow.move(settled, Outcome.settled, admin)
    db.session.commit()
    refresh()
    return {"center": center, "other": other, "admin": admin}


def test_iso_weeks():
    assert report.week_start("2026-W45") == date(2026, 11, 2)
    assert report.week_start("2027-W01") == date(2027, 1, 4)
    assert report.iso_week(date(2026, 11, 8)) == "2026-W45"
    for bad in ("2026-45", "2026-W54", "2026-W00", "26-W01", "", "2026-W4"):
        with pytest.raises(ValueError):
            report.week_start(bad)


def test_report_command_writes_pdf_and_csv(week, runner, tmp_path):
    result = runner.invoke(args=["report", "--week", "2026-W45", "--out", str(tmp_path), "--lang", "en"])
    assert result.exit_code == 0, result.output
    pdf, text = tmp_path / "odr-report-2026-W45.pdf", tmp_path / "odr-report-2026-W45.csv"
    assert pdf.read_bytes().startswith(b"%PDF-")
    words = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout
    for expected in ("Weekly report · 2026-W45", "Cases in and resolved per day", "Resolution rate by stage",
                     "Transfers: response times per sender", "Center", "Other"):
        assert expected in words
    rows = list(csv.reader(io.StringIO(text.read_text(encoding="utf-8-sig"))))
    assert rows[0][:2] == ["Weekly report", "2026-W45"]
    daily = rows.index(["Cases in and resolved per day"])
    assert rows[daily + 2] == ["2026-11-02", "3", "0"] and rows[daily + 4] == ["2026-11-04", "0", "1"]
    assert len([r for r in rows[daily + 2:daily + 9] if r and r[0].startswith("2026-11-")]) == 7


def test_report_of_one_center(week, runner, tmp_path):
    result = runner.invoke(args=["report", "--week", "2026-W45", "--org", str(week["center"].id),
                                 "--out", str(tmp_path), "--lang", "en"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO((tmp_path / "odr-report-2026-W45.csv").read_text(encoding="utf-8-sig"))))
    orgs = rows.index(["Open cases by organisation"])
    assert rows[orgs + 2] == ["Center", "1"] and "Other" not in {r[0] for r in rows if r}


@pytest.mark.parametrize("args, message", [
    (["--week", "2026-45"], "YYYY-Www"), (["--week", "2026-W99"], "YYYY-Www"),
    (["--week", "2026-W45", "--org", "999"], "no organisation 999"),
    (["--week", "2026-W45", "--lang", "fr"], "zh, en"),
])
def test_report_command_refuses_bad_options(week, runner, tmp_path, args, message):
    result = runner.invoke(args=["report", *args, "--out", str(tmp_path)])
    assert result.exit_code == 2 and message in result.output
    assert not list(tmp_path.iterdir())


def test_report_download_from_the_dashboard(week, client, login, make_user):
    login(client, week["admin"])
    pdf = client.get("/ops/reports/2026-W45.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    staff = make_user(Role.staff, week["other"])
    login(client, staff)
    text = client.get("/ops/reports/2026-W45.csv").get_data(as_text=True)
    assert "Center" not in text  # staff get their own organisation's report
    for bad in ("/ops/reports/2026-W99.pdf", "/ops/reports/2026-W45.docx", "/ops/reports/latest.csv"):
        assert client.get(bad).status_code == 404


def test_chinese_report_uses_only_characters_of_the_bundled_font(week, app):
    from fontTools.ttLib import TTFont

    from odr.documents.render import FONTS

    with app.test_request_context(), force_locale("zh"):
        html = report.render_html(queries.Scope(None, True), date(2026, 11, 2), "每周报告")
    with TTFont(FONTS / "NotoSansSC-subset.otf", lazy=True) as font:
        cmap = font.getBestCmap()
    text = html.split("<body>", 1)[1]
    missing = sorted({c for c in text if c.isprintable() and not c.isspace() and ord(c) not in cmap})
    assert not missing, f"the font lacks {''.join(missing)!r}"


def test_performance_by_organisation_and_category_and_satisfaction_in_the_report(week, app, clock, client, login,
                                                                                 make_user, make_case, runner, tmp_path):
    """Week 45: the Center has two schedules due, one carried out in 4 days, one only after an application
    for enforcement (not voluntary); Other has one, left undone. Satisfaction: the Center has five answers
    (shown), Other four (hidden)."""
    from datetime import timedelta
    from decimal import Decimal

    from odr.cases import performance, satisfaction
    from odr.cases.performance import ItemStatus
    from odr.cases.satisfaction import SurveyAnswer
    from odr.timeutil import utcnow

    def schedule(org, category, performed_after_days=None, enforced=False):
        case = make_case(organization=org, category=category, respondent=make_user())
        made = performance.create_schedule(case, [performance.PlannedItem(date(2026, 11, 5), "All", Decimal("100"))],
                                           payer_side="respondent", source="t")
        if enforced:
            performance.enforcement_requested(made)
        if performed_after_days is not None:
            made.items[0].status, made.items[0].reported_at = ItemStatus.confirmed, utcnow()
            performance.refresh(made, now=made.created_at + timedelta(days=performed_after_days))
        return case

    schedule(week["center"], Category.debt, performed_after_days=4)
    schedule(week["center"], Category.debt, performed_after_days=9, enforced=True)
    schedule(week["other"], Category.labour)
    for org, answers in ((week["center"], 5), (week["other"], 4)):
        for n in range(answers):
            case = make_case(organization=org, respondent=make_user())
            answer = SurveyAnswer(case_id=case.id, user_id=case.claimant.user_id, side="claimant",
                                  organization_id=org.id, outcome=4, heard=4, understood=4, ease=5,
                                  would_use_again=n > 0, created_at=utcnow())
            db.session.add(answer)
            db.session.flush()
            satisfaction.count_answer(answer)  # as the survey's submit does
    db.session.commit()

    everyone = queries.Scope(None, True)
    filters = queries.Filters(date(2026, 11, 2), date(2026, 11, 8))
    by_org = {r.key: r for r in queries.performance_breakdown("organization_id", everyone, filters)}
    center = by_org[week["center"].id]
    assert (center.due, center.performed, center.rate) == (2, 1, 0.5)
    assert center.mean_days == pytest.approx(4.0)
    assert (by_org[week["other"].id].due, by_org[week["other"].id].mean_days) == (1, None)
    by_category = {r.key: (r.due, r.performed) for r in queries.performance_breakdown("category", everyone, filters)}
    assert by_category == {"debt": (2, 1), "labour": (1, 0)}
    assert queries.performance_breakdown("category", everyone, queries.Filters(date(2026, 12, 1), date(2026, 12, 7))) == []
    # A centre's staff see their own organisation's figures only.
    mine = queries.Scope(frozenset({week["center"].id}), True)
    assert [r.key for r in queries.performance_breakdown("organization_id", mine, filters)] == [week["center"].id]

    login(client, week["admin"])
    page = client.get("/ops/?start=2026-11-02&end=2026-11-08").get_data(as_text=True)
    assert "按组织的自愿履行情况" in page and "按纠纷类型的自愿履行情况" in page and "50%" in page

    result = runner.invoke(args=["report", "--week", "2026-W45", "--out", str(tmp_path), "--lang", "en"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO((tmp_path / "odr-report-2026-W45.csv").read_text(encoding="utf-8-sig"))))
    at = rows.index(["Voluntary performance by organisation"])
    assert rows[at + 2] == ["Center", "2", "1", "50%", "4.0"] and rows[at + 3] == ["Other", "1", "0", "0%", "—"]
    at = rows.index(["Satisfaction per organisation"])
    assert rows[at + 2] == ["Center", "5", "4.0", "4.0", "5.0", "80%"]
    assert rows[at + 3] == ["1 more with fewer answers are not shown."]
    words = subprocess.run(["pdftotext", "-layout", str(tmp_path / "odr-report-2026-W45.pdf"), "-"],
                           capture_output=True, text=True, check=True).stdout
    assert "Voluntary performance by category" in words and "Satisfaction per mediator" in words
