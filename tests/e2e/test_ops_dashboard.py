"""The operations dashboard in a desktop browser, with the demo data: the red list first, and every
chart drawn with something in it (``odr demo`` is made to fill each one)."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from odr import demo
from odr.timeutil import utcnow
from tests.snapshot import load_demo


def test_manager_sees_red_list_and_every_chart_with_demo_data(server, phone, shot):
    with server.app.app_context():
        load_demo()
    page = phone(desk=True).new_page()
    page.goto("/auth/login")
    page.fill("input[name=contact]", "manager@demo.odr.example")
    page.fill("input[name=password]", demo.PASSWORD)
    page.locator("main form button").click()
    page.wait_for_url("**/ops/")  # a manager lands on the dashboard
    page.locator("nav.menu a[href='/ops/']").click()
    page.wait_for_url("**/ops/")

    # The red list comes first and says why each case is red.
    red_rows = page.locator("#red tbody tr")
    assert red_rows.count() >= 4
    assert page.locator("#red .why li").count() >= red_rows.count()
    assert page.locator("#red").bounding_box()["y"] < page.locator(".figures").bounding_box()["y"]
    assert "担心自身安全" in page.locator("#red").inner_text()  # the demo's safety concern

    # Field dispatch's tables (added by the field feature through odr.cases.figures) have no chart.
    # Nor has mediation's table of no-shows by organisation.
    for name in ("field_open", "field_by_grid", "field_by_worker", "field_by_sender", "no_shows"):
        expect(page.locator(f"#figure-{name} table.figures-table")).to_have_count(1)
    # Ten figures, voluntary performance by organisation and by category, the respondents'
    # response by channel and by organisation (odr.cases.service).
    figures = page.locator(".figures section.figure:not([id^=figure-field_]):not(#figure-no_shows)")
    assert figures.count() == 14
    for i in range(figures.count()):
        figure = figures.nth(i)
        name = figure.get_attribute("id")
        chart = figure.locator("svg.chart")
        assert chart.count() == 1, name
        box = chart.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 10, name
        # Something is drawn: at least one bar or column with a size.
        sizes = chart.locator("rect[height]").evaluate_all(
            "els => els.map(e => e.getBBox()).filter(b => b.width > 0.5 && b.height > 0.5).length")
        assert sizes >= 1, f"{name} draws nothing"
        assert figure.locator("a.csv").count() == 1, name

    # The table behind a chart opens, and its CSV downloads.
    first = figures.first
    first.locator("summary").click()
    assert first.locator("table tbody tr").count() >= 1
    with page.expect_download() as download:
        first.locator("a.csv").click()
    assert download.value.suggested_filename.startswith("open_by_stage_")
    shot(page, "dashboard")

    # Transfers: the demo hotline's two answered transfers, one within each target and one not.
    page.locator(".ops-nav a[href='/ops/transfers']").click()
    page.fill("input[name=start]", (utcnow().date() - timedelta(days=60)).isoformat())
    page.locator("main form button").last.click()
    assert "demo-hotline-12345" in page.locator("#senders").inner_text()
