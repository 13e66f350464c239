"""A document is drafted in the language the mediator is working in."""

from odr.mediate.outcomes import operations as outcomes
from odr.mediate.models import OutcomeKind


def test_first_save_uses_the_pages_language(client, login_en, mediation):
    m = mediation
    login_en(client, m.mediator)
    page = client.get(f"/mediate/{m.case.number}/outcome/agreement/edit").get_data(as_text=True)
    assert "Parties" in page or "parties" in page.lower()
    draft = outcomes.draft_content(m.case, OutcomeKind.agreement, "en")
    form = {f"s_{s['id']}": s["text"] for s in draft["sections"]}
    assert client.post(f"/mediate/{m.case.number}/outcome/agreement/edit", data=form).status_code == 303
    document = outcomes.current_document(m.case, OutcomeKind.agreement)
    assert document.content["lang"] == "en" and document.content["title"] == draft["title"]
