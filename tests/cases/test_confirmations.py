"""Nothing irreversible at one tap (WCAG 3.3.4): going to court or arbitration, withdrawing,
declining an invitation and answering a proposal first say what will happen; the button that acts
sits in a second step (``<details>``, no JavaScript needed)."""

from __future__ import annotations

import re
from decimal import Decimal

from odr.cases.models import Stage
from odr.extensions import db


def english(client):
    with client.session_transaction() as session:
        session["lang"] = "en"


def confirm_blocks(html: str) -> list[str]:
    return re.findall(r'<details class="[^"]*confirm[^"]*".*?</details>', html, re.S)


def test_irreversible_case_moves_are_a_second_step(client, login, make_case, make_user):
    claimant, respondent = make_user(), make_user()
    case = make_case(claimant=claimant, respondent=respondent, stages=(Stage.assessment, Stage.mediation))
    login(client, claimant)
    english(client)
    html = client.get(f"/cases/{case.number}").get_data(as_text=True)
    blocks = confirm_blocks(html)
    court = next(b for b in blocks if 'value="litigation"' in b)
    withdraw = next(b for b in blocks if 'value="withdrawn"' in b)
    assert "cannot come back to mediation" in court and "Go to court" in court
    assert "closed for good" in withdraw
    # No button that moves the case to court or closes it outside a confirmation step.
    outside = re.sub(r'<details class="[^"]*confirm.*?</details>', "", html, flags=re.S)
    assert 'value="litigation"' not in outside and 'value="withdrawn"' not in outside
    # The confirmed move goes through as before.
    resp = client.post(f"/cases/{case.number}/move", data={"to": "litigation"})
    assert resp.status_code == 303
    db.session.refresh(case)
    assert case.stage is Stage.litigation


def test_declining_an_invitation_says_what_follows(client, login, make_case, make_user):
    case = make_case()
    login(client, make_user())
    english(client)
    html = client.get(f"/cases/join/{case.respondent.invite_token}").get_data(as_text=True)
    assert "you cannot join this case later" in html and "Confirm: decline the invitation" in html


def test_answering_a_proposal_is_a_second_step(client, login, make_case, make_user, make_org):
    from odr.auth.models import Role
    from odr.cases import operations as ops
    from odr.mediate.outcomes import proposals as props

    claimant, respondent = make_user(), make_user()
    org = make_org()
    case = make_case(claimant=claimant, respondent=respondent, organization=org,
                     stages=(Stage.assessment, Stage.mediation))
    ops.assign_handler(case, make_user(Role.staff, org), mediator=make_user(Role.mediator, org))
    p = props.make_proposal(case, claimant, amount=Decimal("500"), terms="Pay 500.", schedule=[], respond_by=None)
    db.session.commit()
    login(client, respondent)
    english(client)
    html = client.get(f"/mediate/{case.number}/proposals").get_data(as_text=True)
    [block] = confirm_blocks(html)
    assert "Your answer is final" in block and f'id="send-answer-{p.id}"' in block


def test_answering_an_offer_is_a_second_step(client, login, make_case, make_user):
    from odr.negotiate import operations as negotiation

    claimant, respondent = make_user(), make_user()
    case = make_case(claimant=claimant, respondent=respondent, stages=(Stage.assessment,))
    o = negotiation.make_offer(case, claimant, amount=Decimal("500"), terms="Pay 500.", schedule=[], respond_by=None,
                               message="", answers=None)
    db.session.commit()
    login(client, respondent)
    english(client)
    html = client.get(f"/negotiate/{case.number}").get_data(as_text=True)
    [block] = confirm_blocks(html)
    assert "Your answer is final" in block and "settlement agreement" in block and f'id="send-answer-{o.id}"' in block
    # The form's only submit button is inside the confirmation step.
    form = re.search(r'<form [^>]*/offers/%d/answer".*?</form>' % o.id, html, re.S).group(0)
    outside = re.sub(r'<details class="[^"]*confirm.*?</details>', "", form, flags=re.S)
    assert "<button" not in outside
