"""No-shows on the center's dashboard: per organisation and period, the sessions held, the no-shows
(served the notice or not) and the mediations ended for non-attendance, as a table and as CSV, for
those who may see the organisation only."""

from __future__ import annotations

from datetime import timedelta

from odr.auth.models import Role
from odr.extensions import db
from odr.mediate.sessions.figures import by_organisation
from tests.mediate.test_no_shows import end, m, miss, schedule  # noqa: F401  (m: the fixture)


def test_no_shows_and_endings_per_organisation_on_the_dashboard_and_in_csv(app, m, client, login, clock, make_org,
                                                                            make_user):
    app.config["SESSION_NO_SHOW_LIMIT"] = 2
    first = schedule(m, client, login, clock)
    for _ in range(2):
        miss(m, client, clock, schedule(m, client, login, clock))
    assert end(client, m.case).status_code == 303
    day = first.starts_at.date()
    period = {"start": (day - timedelta(days=1)).isoformat(), "end": (clock.now.date() + timedelta(days=1)).isoformat()}
    db.session.commit()

    login(client, m.staff)
    with client.session_transaction() as session:
        session["lang"] = "en"
    page = client.get("/ops/", query_string=period).text
    assert "No-shows at mediation sessions by organisation" in page
    csv = client.get("/ops/export/no_shows.csv", query_string=period)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == ("Organisation,Sessions held,Parties expected,No-shows,No-shows served the notice,"
                        "No-show rate,Mediations ended for non-attendance")
    # The first session was never held (still scheduled): two held, four expected, two no-shows, one ending.
    assert lines[1:] == [f"{m.org.name},2,4,2,2,50%,1"]

    # Another organisation's staff see none of it; a period before the sessions has nothing.
    other = make_org(name="Haidian Committee")
    outsider = make_user(Role.staff, other, name="Staff Qian")
    db.session.commit()
    login(client, outsider)
    lines = client.get("/ops/export/no_shows.csv", query_string=period).get_data(as_text=True).splitlines()
    assert len(lines) == 1
    assert by_organisation({m.org.id}, first.created_at - timedelta(days=30), first.created_at - timedelta(days=20)) == []
    # Parties and mediators have no dashboard.
    login(client, m.mediator)
    assert client.get("/ops/export/no_shows.csv", query_string=period).status_code == 403
