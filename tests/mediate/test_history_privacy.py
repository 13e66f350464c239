"""The case history shows private mediation steps only to those who may know of them."""

from __future__ import annotations

import io

from odr.extensions import db
from odr.mediate.room import operations as room
from odr.cases.evidence import Visibility
from odr.mediate.models import RoomChannel

#: The smallest valid PNG (1×1 pixel).
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d1c6a30000000049454e44ae426082")


def history_of(client, login_en, user, case):
    login_en(client, user)
    return client.get(f"/cases/{case.number}").get_data(as_text=True)


def test_private_steps_are_left_out_of_the_other_sides_history(client, login_en, mediation):
    m = mediation
    room.post_message(m.case, m.claimant, RoomChannel.claimant, "Between us: I would take 2000.")
    room.add_evidence(m.case, m.claimant, io.BytesIO(PNG), "receipt.png", Visibility.mediator)
    room.post_message(m.case, m.respondent, RoomChannel.joint, "Let us talk.")
    db.session.commit()

    for user in (m.claimant, m.mediator):
        page = history_of(client, login_en, user, m.case)
        assert page.count("Message in the case room") == 2 and "Evidence added" in page
    for user in (m.respondent, m.staff):
        page = history_of(client, login_en, user, m.case)
        assert page.count("Message in the case room") == 1 and "Evidence added" not in page
        assert "2000" not in page and "receipt" not in page
