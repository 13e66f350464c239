"""Managers, who are not a role of the shared permission matrix: a manager oversees a center
(and the organisations reporting to it) — sees its dashboard and its cases, acts on none of them."""

from __future__ import annotations

import pytest

from odr.auth.models import Role
from odr.cases import operations as ops
from odr.cases.models import Category, Channel
from odr.extensions import db
from odr.cases import transfers


@pytest.fixture
def center_world(app, make_org, make_user, make_case):
    center = make_org(name="Center", takes_intake=True)
    member = make_org(name="Member")
    member.center_id = center.id
    other = make_org(name="Other")
    db.session.commit()
    client_, _token = ops.issue_api_token("hotline", center)
    transfer = ops.file_case(None, Channel.transfer,
                             ops.DisputeDetails(Category.debt, "Unpaid loan.", "Pay back.", "朝阳区"),
                             ops.PartyDetails("Wang", phone="+8613800138111"),
                             ops.PartyDetails("Li", phone="+8613800138222"), organization=center,
                             api_client=client_, external_ref="R-1")
    transfers.received(transfer)
    db.session.commit()
    return {
        "manager": make_user(Role.manager, center),
        "member_manager": make_user(Role.manager, member),
        "center": make_case(organization=center).number,
        "member": make_case(organization=member).number,
        "other": make_case(organization=other).number,
        "unrouted": make_case().number,
        "transfer": transfer.number,
        "other_id": other.id, "member_id": member.id, "center_id": center.id,
    }


# (who, method, url, expected)
ROWS = [
    ("manager", "GET", "/ops/", 200),
    ("manager", "GET", "/ops/?org={member_id}", 200),
    ("manager", "GET", "/ops/?org={other_id}", 404),
    ("manager", "GET", "/ops/transfers", 200),
    ("manager", "GET", "/ops/export/mediators.csv", 200),
    ("manager", "GET", "/cases/{center}", 200),
    ("manager", "GET", "/cases/{member}", 200),
    ("manager", "GET", "/cases/{unrouted}", 200),   # the center takes intake: its queue is overseen too
    ("manager", "GET", "/cases/{other}", 404),
    ("manager", "POST", "/ops/transfers/{transfer}/accept", 403),  # oversees; staff act
    ("manager", "POST", "/cases/{center}/move", 409),  # sees the case; the workflow refuses the move
    ("manager", "GET", "/mediate/{center}/assign", 403),
    ("member_manager", "GET", "/cases/{unrouted}", 404),
    ("member_manager", "GET", "/ops/", 200),
    ("member_manager", "GET", "/ops/?org={center_id}", 404),     # a member does not see its center
    ("member_manager", "GET", "/cases/{member}", 200),
    ("member_manager", "GET", "/cases/{center}", 404),
]


@pytest.mark.parametrize("who, method, url, expected", ROWS, ids=[f"{r[0]} {r[1]} {r[2]}" for r in ROWS])
def test_manager_matrix(center_world, client, login, who, method, url, expected):
    login(client, center_world[who])
    resp = client.open(url.format(**center_world), method=method, data={"to": "withdrawn"})
    assert resp.status_code == expected


def test_manager_figures_cover_the_center_and_its_members(center_world, client, login):
    import csv
    import io

    from tests.ops.conftest import refresh

    refresh()
    login(client, center_world["manager"])
    body = client.get("/ops/export/open_by_organization.csv").get_data(as_text=True).lstrip("\ufeff")
    names = {row[0] for row in list(csv.reader(io.StringIO(body)))[1:]}
    # The manager's center takes intake, so its dashboard counts the unrouted cases too.
    assert names == {"Center", "Member", "未分派"} or names == {"Center", "Member", "Not routed"}


def test_center_membership_from_the_command_line(app, runner, make_org, make_user, make_case):
    from odr.cases.models import Event, OrgType

    center, member = make_org(name="Center"), make_org(name="Member")
    court = make_org(OrgType.court, name="Court")
    case = make_case(organization=member)
    manager = make_user(Role.manager, center)
    assert not case.can_view(manager)
    result = runner.invoke(args=["center", "set", str(member.id), "--center", str(center.id)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert member.center_id == center.id and case.can_view(manager)
    assert db.session.scalar(db.select(Event).where(Event.action == "center_set")) is not None
    for args, message in ((["set", str(center.id), "--center", str(member.id)], "cannot itself report"),
                          (["set", str(center.id), "--center", str(center.id)], "cannot report to itself"),
                          (["set", str(court.id), "--center", str(center.id)], "Courts"),
                          (["set", "999", "--center", str(center.id)], "no organisation 999")):
        result = runner.invoke(args=["center", *args])
        assert result.exit_code != 0 and message in result.output, result.output
    assert runner.invoke(args=["center", "set", str(member.id)]).exit_code == 0
    db.session.expire_all()
    assert member.center_id is None
