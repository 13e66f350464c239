"""The dashboard's response figures (odr.cases.service): of the respondents invited in the period,
how many answered, by the channel the invitation was served by and by organisation, and the mean
hours to the first answer; on the page, in the CSV export, scoped to the viewer's organisations."""

from __future__ import annotations

from odr.auth.models import Role
from odr.cases import operations as ops
from odr.extensions import db


def test_response_rate_and_time_to_first_response(app, client, login, make_user, make_org, make_case, clock):
    org, other = make_org(name="Chaoyang centre"), make_org(name="Elsewhere")
    staff, admin = make_user(Role.staff, org), make_user(Role.admin)
    answered = make_case(organization=org)
    make_case(organization=org)  # never answers
    make_case(organization=other)
    clock.advance(hours=3)
    ops.join_case(answered.respondent, make_user())
    db.session.commit()
    login(client, admin)
    client.post("/lang", data={"lang": "en"})
    page = client.get("/ops/").get_data(as_text=True)
    assert "Respondents&#39; response by channel" in page and "Respondents&#39; response by organisation" in page
    csv = client.get("/ops/export/response_by_channel.csv").get_data(as_text=True)
    assert "SMS,3,1,33%,3.0" in csv, csv
    by_org = client.get("/ops/export/response_by_organization.csv").get_data(as_text=True)
    assert "Chaoyang centre,2,1,50%,3.0" in by_org and "Elsewhere,1,0,0%,—" in by_org, by_org
    login(client, staff)  # staff see their own organisation's respondents only
    by_org = client.get("/ops/export/response_by_organization.csv").get_data(as_text=True)
    assert "Chaoyang centre,2,1,50%,3.0" in by_org and "Elsewhere" not in by_org
    assert client.get("/ops/export/response_by_channel.csv?start=nonsense").status_code == 400
