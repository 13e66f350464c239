"""Real-name identity at the counter, then a signature that needs it — on phones (360×640).

A person signs in through the province's identity provider (a real OpenID Connect provider on
Node.js) from the sign-in page, and comes back signed in and verified at level ``oidc``.

The claimant's case failed at mediation and goes to court; the complaint needs a verified party.
On the claimant's phone the complaint cannot be signed yet: the page says why and links to the
identity page. A member of the centre's staff, on a phone at the counter, checks the claimant's ID
card (a malformed number is refused first, with the reason). The claimant then signs; the sealed
complaint's signing certificate carries the verified legal name and the level ``counter``, as
pyHanko (``odr.documents.verify``) and poppler's ``pdfsig`` read it from the PDF.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from odr.auth import operations as auth_ops
from odr.auth.models import Role
from odr.cases.operations import grant_role
from odr.extensions import db
from tests.conftest import PASSWORD, dispute
from tests.e2e.pages import sign_document, sign_in

pytestmark = pytest.mark.e2e

STAFF, CLAIMANT, RESPONDENT = "staff-id@example.com", "+8613800138051", "+8613900139051"
LEGAL_NAME, NUMBER = "张三丰", "11010519491231002X"


def seed(server) -> tuple[str, int]:
    from odr.cases import operations as ops
    from odr.cases import workflow
    from odr.cases.models import Channel, Organization, OrgType, Stage
    from odr.court import complaint

    with server.app.app_context():
        org = Organization(name="朝阳区人民调解委员会", type=OrgType.peoples_mediation, district="朝阳区")
        court = Organization(name="朝阳区人民法院", type=OrgType.court, district="朝阳区")
        db.session.add_all([org, court])
        db.session.flush()
        staff = auth_ops.create_user(STAFF, "Staff Wu", PASSWORD)
        grant_role(staff, Role.staff, org)
        claimant = auth_ops.create_user(CLAIMANT, "张三", PASSWORD)
        respondent = auth_ops.create_user(RESPONDENT, "李四", PASSWORD)
        case = ops.file_case(claimant, Channel.web, dispute(amount_claimed=3000),
                             ops.PartyDetails("张三", phone=CLAIMANT), ops.PartyDetails("李四", phone=RESPONDENT),
                             organization=org)
        ops.join_case(case.respondent, respondent)
        workflow.move(case, Stage.assessment, claimant)
        workflow.move(case, Stage.litigation, claimant)
        document = complaint.prepare_complaint(case, claimant, court, "zh",
                                               complaint.Addresses("北京市朝阳区安贞里一号楼201室"))
        db.session.commit()
        result = case.number, document.id
        db.session.remove()
    return result


@pytest.fixture
def enforced(server):
    server.app.config["IDENTITY_REQUIRED_FOR_SIGNING"] = True
    yield
    server.app.config["IDENTITY_REQUIRED_FOR_SIGNING"] = False


def test_verified_at_the_counter_then_signed_with_the_verified_name(phone, server, shot, layout, tmp_path, enforced):
    number, doc_id = seed(server)

    claimant = phone().new_page()
    sign_in(claimant, CLAIMANT)
    claimant.goto(f"/documents/{doc_id}")
    expect(claimant.locator("#identity-needed")).to_be_visible()
    expect(claimant.locator("#sign")).to_have_count(0)
    layout.check(claimant)
    shot(claimant, "identity-needed")
    claimant.locator("#verify-identity").tap()
    expect(claimant.locator("#identity-level")).to_have_attribute("data-level", "none")
    layout.check(claimant)

    staff = phone().new_page()
    sign_in(staff, STAFF)
    staff.goto(f"/cases/{number}")
    staff.locator("#identity-check").tap()
    expect(staff).to_have_url(re.compile(f"/identity/counter/{number}$"))
    layout.check(staff)
    staff.locator("li[data-side=claimant] a.button").tap()
    staff.fill("input[name=legal_name]", LEGAL_NAME)
    staff.fill("input[name=id_number]", "110105194912310021")  # one digit mistyped
    staff.locator("input[name=card_checked]").check()
    staff.locator("#confirm-identity").tap()
    expect(staff.locator("main")).to_contain_text("校验码与前17位不符")
    layout.check(staff)
    shot(staff, "counter-refused")
    staff.fill("input[name=id_number]", NUMBER)
    staff.locator("input[name=card_checked]").check()
    staff.locator("#confirm-identity").tap()
    expect(staff.locator("li[data-side=claimant] .status")).to_have_attribute("data-level", "counter")
    expect(staff.locator("li[data-side=claimant]")).to_contain_text("1101**********002X")
    layout.check(staff)
    shot(staff, "counter-verified")

    claimant.goto("/identity/")
    expect(claimant.locator("#identity-level")).to_have_attribute("data-level", "counter")
    expect(claimant.locator("#legal-name")).to_have_text(LEGAL_NAME)
    claimant.goto(f"/documents/{doc_id}")
    expect(claimant.locator("#identity-needed")).to_have_count(0)
    sign_document(claimant, server, CLAIMANT)
    layout.check(claimant)
    shot(claimant, "signed")

    from odr.documents import storage
    from odr.documents.ca import platform_ca
    from odr.documents.models import SignedDocument, SigningStatus
    from odr.documents.verify import verify
    from tests.documents.signing import pdfsig

    with server.app.app_context():
        document = db.session.get(SignedDocument, doc_id)
        assert document.status is SigningStatus.complete
        pdf = storage.get(document.current_sha256)
        report = verify(pdf, [platform_ca().ca.asn1_cert])
        ca_pem = platform_ca().pem()
        db.session.remove()
    assert report.ok, report.lines()
    signature = next(s for s in report.signatures if s.kind == "signature")
    assert (signature.signer, signature.identity) == (LEGAL_NAME, "counter")
    path = tmp_path / "complaint.pdf"
    path.write_bytes(pdf)
    text = pdfsig(path, ca_pem, tmp_path)
    assert f"Signer Certificate Common Name: {LEGAL_NAME}" in text and "OU=identity:counter" in text
    assert "Signature Validation: Signature is Valid." in text
    layout.assert_all_fit()


def test_sign_in_through_the_identity_provider(phone, server, shot, layout, tmp_path_factory):
    from tests.identity.conftest import configured, running_provider

    with running_provider(tmp_path_factory, f"{server.url}/identity/oidc/callback") as issuer, \
            configured(server.app, issuer):
        page = phone().new_page()
        page.goto("/auth/login")
        layout.check(page)
        page.locator("#oidc-login").tap()
        expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/interaction/"))
        page.fill("input[name=login]", "zhang")
        page.fill("input[name=password]", "anything")
        page.locator("button[type=submit]").click()
        page.locator("button[type=submit]").click()  # the provider asks to consent to the claims
        expect(page).to_have_url(re.compile(re.escape(server.url) + "/"))
        page.goto("/identity/")
        expect(page.locator("#identity-level")).to_have_attribute("data-level", "oidc")
        expect(page.locator("#legal-name")).to_have_text("张三")
        expect(page.locator("main")).to_contain_text("1101**********002X")
        layout.check(page)
        shot(page, "oidc-verified")
    with server.app.app_context():
        from odr.auth.models import User
        assert db.session.scalar(sa.select(User.name).where(User.phone == "+8613800138001")) == "张三"
        db.session.remove()
    layout.assert_all_fit()
