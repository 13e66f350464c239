"""The full ID number goes where a court needs it and nowhere else: the complaint, the application for
judicial confirmation and the application for enforcement print each verified party's full number
and how it was verified; the logs, URLs, the case page, the dashboard and its CSV exports and the
bundle's JSON keep to the masked number."""

from __future__ import annotations

import json
import logging
import zipfile
from datetime import date

import pytest

from odr.auth.models import Role
from odr.cases.models import OrgType
from odr.court import complaint as complaints
from odr.court import enforcement
from odr.extensions import db
from odr.identity import operations as identity
from odr.mediate.outcomes.confirmation import render_judicial_confirmation
from odr.ops import queries, tables
from tests.court.bundles import export_settled_case
from tests.court.test_complaint import failed
from tests.court.test_enforcement import confirmed_by, schedule_for
from tests.documents.signing import approved_agreement
from tests.pdf_text import text_of

CLAIMANT_NUMBER = "11010519491231002X"
RESPONDENT_NUMBER = "110101199003074477"
MASKED = "1101**********002X"


def verify_both(case, staff, claimant, respondent):
    """The claimant's ID card checked at the counter; the respondent vouched for by an identity provider."""
    identity.verify_at_counter(staff, case, case.claimant, legal_name="张三", id_number=CLAIMANT_NUMBER,
                               card_checked=True)
    identity.verify_by_provider(respondent, issuer="https://id.example.gov.cn", legal_name="李四",
                                id_number=RESPONDENT_NUMBER)
    db.session.commit()


def flat(pdf: bytes, tmp_path) -> str:
    return "".join(text_of(pdf, tmp_path).split())


def assert_identities_in(text: str, lang: str):
    assert CLAIMANT_NUMBER in text and RESPONDENT_NUMBER in text, text
    if lang == "en":
        assert "IDcardcheckedinpersonbythecentre'sstaff" in text and "byanidentityprovider(OpenIDConnect)" in text
    else:
        assert "公民身份号码" in text and "工作人员当面查验居民身份证" in text and "经统一身份认证平台核验" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_complaint_states_each_verified_partys_full_id_number_and_assurance(mediation, lang, tmp_path):
    m = failed(mediation)
    verify_both(m.case, m.staff, m.claimant, m.respondent)
    pdf = complaints.render_complaint(m.case, "Chaoyang Court", lang)
    assert_identities_in(flat(pdf, tmp_path), lang)


def test_an_unverified_party_has_no_number_on_the_complaint(mediation, tmp_path):
    m = failed(mediation)
    text = flat(complaints.render_complaint(m.case, "Chaoyang Court", "en"), tmp_path)
    assert "ResidentIDnumber" not in text and "Identityverified" not in text


def test_the_application_for_judicial_confirmation_states_the_full_numbers(mediation, tmp_path):
    m = mediation
    approved_agreement(m)
    verify_both(m.case, m.staff, m.claimant, m.respondent)
    text = flat(render_judicial_confirmation(m.case, "Chaoyang Court", "en"), tmp_path)
    assert_identities_in(text, "en")
    assert "张三" in text.split("Applicant(2)")[0]  # the account is "Zhang San"; the name on the card, 张三


def test_the_application_for_enforcement_states_the_full_numbers(parties, make_org, tmp_path):
    from odr.cases import performance

    p = parties
    court = make_org(type=OrgType.court, name="朝阳区人民法院")
    db.session.commit()
    schedule_for(p.case, performance.local_today())
    confirmed_by(p.case, court)
    verify_both(p.case, p.staff, p.claimant, p.respondent)
    assert_identities_in(flat(enforcement.application_pdf(p.case, court, "zh"), tmp_path), "zh")


def test_the_full_number_stays_out_of_logs_urls_pages_exports_and_the_bundles_json(
        app, client, login, login_en, mediation, make_org, make_user, runner, tmp_path, caplog):
    """case.json does not carry it: the court reads it in the signed document the party signed (one
    attested copy); the bundle's JSON is data for machines, checked and copied by anyone it reaches."""
    m = failed(mediation)
    court = make_org(type=OrgType.court, name="Chaoyang Court")
    manager = make_user(Role.manager, m.org, name="Manager Qian")
    db.session.commit()
    seen = []
    with caplog.at_level(logging.DEBUG):
        verify_both(m.case, m.staff, m.claimant, m.respondent)
        login_en(client, m.claimant)
        resp = client.post(f"/court/{m.case.number}/complaint", data={"court": str(court.id)})
        assert resp.status_code in (200, 303), resp.text
        seen += [resp.headers.get("Location", ""), resp.text]
        for url in (f"/cases/{m.case.number}", f"/court/{m.case.number}", f"/court/{m.case.number}/complaint",
                    "/identity/"):
            page = client.get(url, follow_redirects=True)
            seen += [page.request.url, page.text]
        assert MASKED in client.get("/identity/").text
        for who in (m.staff, manager):
            login_en(client, who)
            for url in (f"/cases/{m.case.number}", f"/identity/counter/{m.case.number}", "/ops/",
                        f"/ops/cases?q={m.case.number}"):
                page = client.get(url, follow_redirects=True)
                seen += [page.request.url, page.text]
        today = date.today()
        built = tables.build(queries.scope_of(manager), queries.Filters(date(today.year, 1, 1), today))
        seen += [tables.to_csv(table) for table in built.values()]
    seen.append(caplog.text)
    leaked = [s[:200] for s in seen if CLAIMANT_NUMBER in s or RESPONDENT_NUMBER in s]
    assert not leaked


def test_the_bundles_json_keeps_the_number_out(app, client, login, mediation, runner, tmp_path):
    m = mediation
    verify_both(m.case, m.staff, m.claimant, m.respondent)
    path = export_settled_case(app, client, login, m, runner, tmp_path)
    with zipfile.ZipFile(path) as bundle:
        names = bundle.namelist()
        assert "case.json" in names
        for name in names:
            if not name.endswith(".pdf"):
                data = bundle.read(name).decode("utf-8", "replace")
                assert CLAIMANT_NUMBER not in data and RESPONDENT_NUMBER not in data, name
        case_json = json.loads(bundle.read("case.json"))
    assert CLAIMANT_NUMBER not in json.dumps(case_json, ensure_ascii=False)
