"""Demo data: organisations, one account per role, 12 cases at different stages and 26 closed ones.

Everything is made through the same operations and workflow as real use, so
the demo cases have complete audit trails.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from odr.auth import operations as auth_ops
from odr.cases.operations import grant_role
from odr.auth.models import Role
from odr.cases import operations as ops, workflow
from odr.cases.models import Category, Channel, Organization, OrgType, Outcome, Stage
from odr import timeutil
from odr.extensions import db
from odr.timeutil import utcnow

PASSWORD = "odr-demo-2026"

#: (role, contact, name) — printed by ``odr demo``.
ACCOUNTS = [
    ("claimant", "+8613800138001", "王芳"),
    ("respondent", "+8613800138002", "李强"),
    ("consultant", "consultant@demo.odr.example", "陈律师"),
    ("mediator", "mediator@demo.odr.example", "张调解员"),
    ("arbitrator", "arbitrator@demo.odr.example", "刘仲裁员"),
    ("staff", "staff@demo.odr.example", "赵工作人员"),
    ("commission_staff", "commission@demo.odr.example", "仲裁委秘书 吴"),
    ("manager", "manager@demo.odr.example", "周主任"),
    ("court_clerk", "clerk@demo.odr.example", "孙书记员"),
    ("admin", "admin@demo.odr.example", "管理员"),
    ("grid_worker", "+8613800138010", "网格员 钱"),
    # 王芳's daughter helps her with the case in mediation; 李强 is represented there by a lawyer.
    ("helper", "+8613800138003", "王小芳"),
    ("agent", "agent@demo.odr.example", "郑律师"),
]

DISPUTES = [
    (Category.neighbour, "楼上邻居每晚十一点后搬动家具、放音乐，多次沟通无果，影响孩子休息。", "晚上十点后保持安静，并书面道歉。", None),
    (Category.consumer, "在商场购买的洗衣机三天后漏水，商家拒绝退货，只同意维修。", "退货退款。", Decimal("3299.00")),
    (Category.property, "租期届满搬离后，房东以墙面污损为由扣留全部押金。", "退还押金。", Decimal("6000.00")),
    (Category.labour, "在装修公司工作三个月，最后两个月工资未发放。", "支付拖欠工资。", Decimal("11000.00")),
    (Category.traffic, "小区门口被电动车撞伤，医药费和误工费对方不愿承担。", "赔偿医药费和误工费。", Decimal("8450.50")),
    (Category.debt, "朋友借款两万元，约定半年归还，已逾期一年。", "归还借款及利息。", Decimal("20000.00")),
    (Category.property, "物业费争议：电梯长期故障，物业仍全额收费。", "减免部分物业费。", Decimal("1800.00")),
    (Category.consumer, "网购手机收到后屏幕有坏点，卖家拒绝换货。", "换货或退款。", Decimal("2599.00")),
    (Category.neighbour, "邻居卫生间漏水导致我家天花板发霉。", "维修防水并赔偿损失。", Decimal("5000.00")),
    (Category.family, "兄弟之间对父母房屋的使用安排有分歧。", "协商房屋使用方案。", None),
    (Category.labour, "工伤后公司不支付停工留薪期工资。", "支付停工留薪期工资。", Decimal("15600.00")),
    (Category.debt, "装修款尾款未付，对方称质量有问题。", "支付尾款。", Decimal("9000.00")),
]


def load() -> bool:
    """Create the demo data unless it is there already; return whether it was created."""
    if db.session.scalar(sa.select(sa.func.count(Organization.id))):
        return False
    center = Organization(name="朝阳区人民调解委员会", type=OrgType.peoples_mediation, district="朝阳区",
                          takes_intake=True)
    consumer = Organization(name="海淀区消费纠纷调解中心", type=OrgType.industry, district="海淀区", specialty="consumer")
    lawyers = Organization(name="东城律师调解工作室", type=OrgType.lawyer, district="东城区")
    commission = Organization(name="示范仲裁委员会", type=OrgType.arbitration_commission, district="西城区")
    court = Organization(name="朝阳区人民法院", type=OrgType.court, district="朝阳区")
    db.session.add_all([center, consumer, lawyers, commission, court])
    db.session.flush()
    # The district center oversees the specialised organisations: its manager sees their figures.
    consumer.center_id = lawyers.center_id = center.id

    users = {}
    role_orgs = {
        "consultant": (Role.consultant, center), "mediator": (Role.mediator, center),
        "arbitrator": (Role.arbitrator, commission), "staff": (Role.staff, center),
        "commission_staff": (Role.staff, commission), "manager": (Role.manager, center),
        "court_clerk": (Role.court_clerk, court), "admin": (Role.admin, None),
    }
    for role, contact, name in ACCOUNTS:
        users[role] = auth_ops.create_user(contact, name, PASSWORD, locale="zh")
        if role in role_orgs:
            grant_role(users[role], role_orgs[role][0], role_orgs[role][1])

    claimant, respondent, staff = users["claimant"], users["respondent"], users["staff"]
    _mediators(users["mediator"], center, consumer, lawyers)
    hotline, _token = ops.issue_api_token("demo-hotline-12345", center, users["admin"])

    global _base
    _base, previous_clock = utcnow(), timeutil._source
    try:
        _current_cases(users, center, court, hotline)
        _history(staff, users["mediator"], center, claimant, respondent)
        _field(users, center)
        _enforcement(users, center, court)
    finally:
        timeutil.set_clock(previous_clock)

    from odr.consult import kb
    from odr.consult import operations as consult_ops
    from odr.ops import summary

    kb.import_folder()
    consult_ops.set_duty(users["consultant"], True)
    db.session.flush()
    summary.refresh_ops_summaries(utcnow() + timedelta(minutes=5))  # past the summaries' lag
    db.session.flush()
    return True


#: Transfers from the police's non-emergency line, sent to the grid worker on duty (odr.field):
#: (minutes ago, place, steps done, sender's reference). The last was settled on the spot.
FIELD_DISPATCHES = [
    (2, "望京西园三区 5号楼", (), "110-2026-0001"),
    (6, "望京街道农贸市场", ("accepted", "contacted"), "110-2026-0002"),
    (45, "望京西园四区 12号楼", ("accepted", "contacted", "on_scene"), "110-2026-0003"),
]
#: The dispute settled on site: the caller signs with a code to their phone; the elderly neighbour
#: has no phone, and signs after the worker checked their ID card in person.
ONSITE_REFERENCE = "110-2026-0003"
ONSITE_ID_NUMBER = "110105194303150040"


def _field(users, center):
    """A grid of the center with its worker on duty, two transfers dispatched to them (one waiting to
    be accepted, one under way) and one they settled on the spot (:func:`_settled_on_site`)."""
    from odr.cases import transfers
    from odr.field import operations as field_ops
    from odr.field.models import DispatchStatus

    staff, worker = users["staff"], users["grid_worker"]
    police, _token = ops.issue_api_token("demo-police-110", center, users["admin"])
    timeutil.set_clock(lambda: _base - timedelta(hours=1))
    grid = field_ops.create_grid(center, "望京西园网格", ["望京西园", "望京街道农贸市场"],
                                 [[39.990, 116.460], [39.990, 116.500], [40.010, 116.500], [40.010, 116.460]], staff)
    field_ops.add_worker(grid, worker, staff)
    field_ops.set_duty(worker, True)
    for minutes, place, steps, reference in FIELD_DISPATCHES:
        start = _base - timedelta(minutes=minutes)
        timeutil.set_clock(lambda: start)
        dispute = ops.DisputeDetails(Category.neighbour, f"{place}：邻里因噪音发生争执，报警求助。", "停止噪音，当面协商。",
                                     "朝阳区")
        respondent = ops.PartyDetails("邻居 冯", None if reference == ONSITE_REFERENCE else "+8613800138021")
        case = ops.file_case(None, Channel.transfer, dispute, ops.PartyDetails("报警人 郑", "+8613800138020"),
                             respondent, organization=center, api_client=police, external_ref=reference)
        transfers.received(case, {"place": place})
        dispatch = field_ops.dispatch_of(case)
        for n, step in enumerate(steps, start=1):
            at = start + timedelta(seconds=50 * n)
            timeutil.set_clock(lambda: at)
            field_ops.step(dispatch, worker, DispatchStatus(step), how="call")
        if reference == ONSITE_REFERENCE:
            at = start + timedelta(minutes=20)
            timeutil.set_clock(lambda: at)
            _settled_on_site(dispatch, worker)


def _settled_on_site(dispatch, worker) -> None:
    """The worker draws up the on-site agreement and each party signs it on the worker's phone: the
    caller with the code sent to their phone, the neighbour (no phone) on the ID card the worker
    checked in person; the platform seals it and the case settles — the operations the phone's
    signing page calls, the demo standing in for the browser (see :func:`_signed_agreement`)."""
    import re

    from odr.field import onsite
    from odr.outbox import OutboxMessage

    case = dispatch.case
    document = onsite.draw_up(dispatch, worker, [p.id for p in case.parties], "楼上住户深夜在客厅跳绳，楼下邻居多次敲门未果后报警。",
                              "冯某保证晚上十点后不在室内跳绳、不拖动家具；郑某今后有事先当面沟通，不再报警。")
    for signer in list(document.signers):
        party = onsite.party_of(document, signer)
        spki, sign = _browser_key()
        confirmation = {"code": None}
        if party.phone:
            onsite.send_code(dispatch, worker, document.id, signer.position)
            db.session.flush()
            body = db.session.scalar(sa.select(OutboxMessage.body).where(OutboxMessage.recipient == party.phone)
                                     .order_by(OutboxMessage.id.desc()).limit(1))
            confirmation["code"] = re.findall(r"(?<![\d-])(\d{6})(?!\d)", body)[-1]
        else:
            confirmation["id_number"] = ONSITE_ID_NUMBER  # checked on the card in person
        prepared = onsite.prepare(dispatch, worker, document.id, signer.position, public_key=spki,
                                  stamp=_signature_drawing(), viewed_sha256=document.current_sha256, **confirmation)
        onsite.finish(dispatch, worker, document.id, signer.position, signature=sign(prepared.to_be_signed))


#: How many days ago each current case was filed and moved (some are past their deadline, so the
#: dashboard's red list has entries).
DAYS_AGO = [5, 4, 9, 40, 3, 20, 2, 6, 1, 35, 10, 8]


_base = None


def _at(days_ago: float, seconds: int = 0):
    """Act as if it were ``days_ago`` days (plus ``seconds``) before the demo was loaded."""
    moment = _base - timedelta(days=days_ago) + timedelta(seconds=seconds)
    timeutil.set_clock(lambda: moment)


def _current_cases(users, center, court, hotline):
    from odr.assess import operations as assess_ops
    from odr.cases import transfers

    claimant, respondent, staff = users["claimant"], users["respondent"], users["staff"]
    cases = []
    for i, (category, description, claim, amount) in enumerate(DISPUTES):
        _at(DAYS_AGO[i])
        dispute = ops.DisputeDetails(category, description, claim, ["朝阳区", "海淀区", "东城区"][i % 3], amount)
        other = ops.PartyDetails(respondent.name, phone=respondent.phone)
        if i % 4 == 3:
            case = ops.file_case(staff, Channel.counter, dispute, ops.PartyDetails(claimant.name, claimant.phone),
                                 other, organization=center)
            ops.join_case(case.claimant, claimant)
        elif i % 4 == 2:
            case = ops.file_case(None, Channel.transfer, dispute, ops.PartyDetails(claimant.name, claimant.phone),
                                 other, organization=center, api_client=hotline, external_ref=f"HL-2026-{i:04d}")
            transfers.received(case)
            ops.join_case(case.claimant, claimant)
        else:
            case = ops.file_case(claimant, Channel.web, dispute, ops.PartyDetails(claimant.name, claimant.phone),
                                 other)
        cases.append(case)

    def advance(case, *targets, actor=staff):
        for target in targets:
            workflow.move(case, target, actor)

    # 0 stays in consultation with the invitation open; 1 declined by the other side.
    _at(DAYS_AGO[1])
    ops.decline_invitation(cases[1].respondent, respondent, "商家认为已按规定提供维修，不接受线上调解。")
    for i, case in enumerate(cases[2:], start=2):
        _at(DAYS_AGO[i])
        ops.join_case(case.respondent, respondent)
        if case.organization is None:
            ops.route_case(case, center, staff)
    # Transfers: one answered within a minute, the other reached the party after five.
    for i, seconds in ((2, 40), (6, 300)):
        _at(DAYS_AGO[i], seconds)
        transfers.record_contact(cases[i], staff)
    _at(DAYS_AGO[2])
    advance(cases[2], Stage.assessment)
    # The claimant says in the assessment that they are afraid: the case turns red on the dashboard.
    assess_ops.complete(cases[2], claimant, {"other_side": "talking", "evidence": "some", "safety": "yes"})
    _at(DAYS_AGO[3])
    advance(cases[3], Stage.assessment, Stage.mediation)
    ops.assign_handler(cases[3], staff, mediator=users["mediator"])
    # Both demo parties showed their ID cards at the centre's counter: the documents that go to a
    # court or start an arbitration need verified parties (odr.identity).
    _verified_at_counter(cases[3], staff)
    _at(DAYS_AGO[4])
    advance(cases[4], Stage.assessment, Stage.mediation)
    ops.assign_handler(cases[4], staff, mediator=users["mediator"])
    # Settled by an agreement both parties approved and everyone signed: its sealed PDF is on the
    # case (and the case can be taken to court for judicial confirmation). Signed at load time,
    # not back-dated: the platform's certificates may be younger than the demo's past.
    _at(0)
    _signed_agreement(cases[4], users)
    _at(DAYS_AGO[5])
    advance(cases[5], Stage.assessment)
    # An arbitration under way: agreement signed, accepted, arbitrator declared, claim in, hearing set.
    _at(0)
    _arbitration(cases[5], users, award=False)
    _at(DAYS_AGO[6])
    advance(cases[6], Stage.assessment, Stage.mediation)
    ops.assign_handler(cases[6], staff, mediator=users["mediator"])
    advance(cases[6], Stage.litigation, actor=users["mediator"])
    # The claimant signs the complaint to the court and staff hand the case over: the clerk's inbox
    # has its bundle, complaint included. Signed at load time, like the agreement above.
    _at(0)
    _complaint_handed_over(cases[6], court, users)
    _at(DAYS_AGO[7])
    advance(cases[7], Stage.assessment, Stage.litigation)
    ops.assign_handler(cases[7], staff, court=court)
    _at(DAYS_AGO[8])
    advance(cases[8], Outcome.withdrawn, actor=claimant)
    _at(DAYS_AGO[9])
    advance(cases[9], Stage.mediation)
    _at(DAYS_AGO[10])
    advance(cases[10], Stage.assessment)
    # An arbitration to its end: decided on the documents, the award signed and sealed (at load time,
    # like the agreement above).
    _at(0)
    _arbitration(cases[10], users, award=True)
    _at(DAYS_AGO[11])
    advance(cases[11], Stage.assessment, Stage.mediation)
    ops.assign_handler(cases[11], staff, mediator=users["mediator"])
    advance(cases[11], Outcome.closed_without_result, actor=users["mediator"])
    _at(DAYS_AGO[3] - 1)
    _representatives(cases[3], users)


def _representatives(case, users) -> None:
    """In a case in mediation, the claimant's daughter helps her (acts, never signs) and the
    respondent's lawyer acts for him, his power of attorney accepted by the center's staff."""
    import io

    from odr.cases import representation as reps
    from odr.cases.models import RepresentativeKind, Scope
    from odr.documents.render import render_pdf

    helper, agent = users["helper"], users["agent"]
    rep = reps.appoint(case, users["claimant"], RepresentativeKind.helper, Scope.act, helper.name, helper.phone, None)
    reps.accept(rep, helper)
    poa = render_pdf("<html lang='zh'><body><h1>授权委托书</h1><p>委托人李强委托郑律师为案件" + case.number +
                     "的代理人，代为参加调解、提交材料、发表意见、答复调解方案。</p><p>委托人：李强</p></body></html>")
    rep = reps.appoint(case, users["respondent"], RepresentativeKind.agent, Scope.act, agent.name, None, agent.email,
                       poa=io.BytesIO(poa), poa_filename="授权委托书.pdf")
    reps.accept(rep, agent)
    reps.review(rep, users["staff"], True)


#: The demo parties' ID numbers (valid under GB 11643, made up: the sequence digits are no one's).
DEMO_ID_NUMBERS = {"claimant": "110105198503120020", "respondent": "110108197906210033"}


def _verified_at_counter(case, staff) -> None:
    from odr.identity import operations as identity_ops

    for party in case.parties:
        identity_ops.verify_at_counter(staff, case, party, legal_name=party.user.name,
                                       id_number=DEMO_ID_NUMBERS[party.side.value], card_checked=True)


def _signed_agreement(case, users) -> None:
    """Draft, approve and sign the agreement of ``case`` as its people would on the site.

    The demo stands in for the signers' browsers: each gets a one-time code (read back from the
    outbox the demo just wrote it to), a key made here for this one signature, and signs what
    the platform prepared — the same operations the signing page's endpoints call.
    """
    from odr.mediate.outcomes import operations as outcomes
    from odr.mediate.outcomes import signing as mediation_signing
    from odr.mediate.models import OutcomeKind

    mediator = users["mediator"]
    content = outcomes.draft_content(case, OutcomeKind.agreement, "zh")
    texts = {s["id"]: s["text"] or "双方同意按本协议履行。" for s in content["sections"]}
    document = outcomes.save(case, OutcomeKind.agreement, mediator, texts, Decimal("7000.00"))
    outcomes.send(document, case, mediator)
    for side in (users["claimant"], users["respondent"]):
        outcomes.answer(document, case, side, approve=True)
    _sign_as_browsers(mediation_signing.signed_document(document))


def _complaint_handed_over(case, court, users) -> None:
    """The claimant of ``case`` prepares the complaint to ``court`` and signs it; staff hand the case over."""
    from odr.court import complaint
    from odr.court import operations as court_ops

    document = complaint.prepare_complaint(case, users["claimant"], court, "zh",
                                           complaint.Addresses("北京市朝阳区安贞里一号楼201室"))
    _sign_as_browsers(document)
    court_ops.hand_off(case, court, users["staff"])


def _sign_as_browsers(signed) -> None:
    """Every signer of ``signed`` signs it, one after the other (see :func:`_signed_agreement`)."""
    import re

    from odr.documents import operations as signing
    from odr.outbox import OutboxMessage

    drawing = _signature_drawing()
    for signer in list(signed.signers):
        user = signer.user
        signing.send_code(signed, user)
        db.session.flush()
        body = db.session.scalar(sa.select(OutboxMessage.body).where(OutboxMessage.recipient == user.contact)
                                 .order_by(OutboxMessage.id.desc()).limit(1))
        code = re.findall(r"(?<![\d-])(\d{6})(?!\d)", body)[-1]
        spki, sign = _browser_key()
        prepared = signing.prepare(signed, user, public_key=spki, stamp=drawing,
                                   viewed_sha256=signed.current_sha256, code=code)
        signing.finish(signed, user, signature=sign(prepared.to_be_signed))


def _browser_key():
    """What a signer's browser makes for one signature: the public key (base64 SPKI) and a function
    that signs as WebCrypto does (ECDSA P-256, SHA-256, r‖s in base64)."""
    import base64

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    key = ec.generate_private_key(ec.SECP256R1())
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(data: bytes) -> str:
        r, s_ = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        return base64.b64encode(r.to_bytes(32, "big") + s_.to_bytes(32, "big")).decode()

    return base64.b64encode(spki).decode(), sign


def _arbitration(case, users, award: bool) -> None:
    """Take ``case`` to arbitration at the demo commission as its people would: both parties sign
    the agreement, staff accept, both name the demo arbitrator, who declares; the claim (and, for
    an award, the defence) come in; then a hearing is set, or the award is drafted and signed."""
    from odr.arbitrate import award as awards, basis, common, proceedings, tribunal
    from odr.arbitrate.models import Procedure

    commission = db.session.scalar(sa.select(Organization).where(Organization.type == OrgType.arbitration_commission))
    claimant, respondent, arbitrator = users["claimant"], users["respondent"], users["arbitrator"]
    staff = users["commission_staff"]
    _sign_as_browsers(basis.propose_agreement(case, claimant, commission, "zh"))
    arb = common.of(case)
    basis.accept(case, arb, staff, Procedure.documents_only if award else Procedure.hearing)
    for party in (claimant, respondent):
        tribunal.nominate(case, arb, party, arbitrator.id)
    tribunal.appoint(case, arb, staff)
    tribunal.declare(case, arb, arbitrator, True)
    proceedings.submit_statement(case, arb, claimant, case.claim + "\n" + "承担本案仲裁费用。")
    if not award:
        proceedings.schedule_hearing(case, arb, arbitrator, utcnow() + timedelta(days=3))
        return
    proceedings.submit_statement(case, arb, respondent, "公司认为停工期间已支付基本生活费，不应再支付全额工资。")
    document = awards.draft_award(
        case, arb, arbitrator, lang="zh",
        facts="申请人在被申请人处工作期间受伤，经认定为工伤；停工留薪期为三个月，被申请人未支付该期间工资。",
        reasoning="依照《工伤保险条例》第三十三条，停工留薪期内原工资福利待遇不变，由所在单位按月支付。"
                  "被申请人所称已支付的基本生活费，应从中扣除。",
        decision=["被申请人于本裁决作出之日起十五日内向申请人支付停工留薪期工资12600元。", "驳回申请人的其他仲裁请求。"],
        costs=f"本案仲裁费{arb.fee:,.2f}元，由被申请人承担。")
    _sign_as_browsers(document)


def _signature_drawing() -> str:
    import base64
    import io

    from PIL import Image, ImageDraw
    image = Image.new("RGBA", (600, 240), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(30, 190), (150, 50), (260, 170), (380, 60), (560, 150)], fill="#102a5c", width=8)
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


#: Closed cases from earlier months, so the assessment can show how similar cases ended:
#: (category, amount claimed, settled for or None if it ended otherwise, days open).
HISTORY = [
    (Category.property, "6000", "4500", 21), (Category.property, "5000", "4000", 30),
    (Category.property, "8000", "5000", 18), (Category.property, "4000", None, 45),
    (Category.property, "7000", "6000", 25), (Category.property, "3500", "3000", 14),
    (Category.labour, "12000", "10000", 40), (Category.labour, "9000", "9000", 35),
    (Category.labour, "15000", None, 60), (Category.labour, "11000", "8000", 28),
    (Category.labour, "10000", "9500", 33), (Category.consumer, "3000", "2500", 10),
    (Category.consumer, "2000", "2000", 7), (Category.consumer, "4500", "3000", 15),
    (Category.consumer, "2600", None, 20), (Category.consumer, "3200", "3200", 9),
    (Category.neighbour, None, "0", 12), (Category.neighbour, None, "0", 20),
    (Category.neighbour, "5000", "3000", 30), (Category.neighbour, None, None, 25),
    (Category.neighbour, "2000", "1500", 16), (Category.debt, "20000", "15000", 50),
    (Category.debt, "15000", "15000", 45), (Category.debt, "30000", None, 70),
    (Category.debt, "25000", "20000", 38), (Category.debt, "18000", "12000", 42),
]


def _mediators(mediator, center, consumer, lawyers):
    """Rosters for the directory and the assignment suggestion (case 9 waits for a mediator)."""
    from odr.mediate.models import MediatorProfile

    db.session.add(MediatorProfile(user_id=mediator.id, organization_id=center.id, specialties="neighbour property debt",
                                   languages="zh en", bio="从事人民调解工作十二年，擅长邻里和物业纠纷。", capacity=12))
    for contact, name, org, specialties, bio in [
        ("liu.mediator@demo.odr.example", "刘调解员", consumer, "consumer", "消费纠纷调解员，熟悉电商和维修类投诉。"),
        ("chen.lawyer@demo.odr.example", "陈律师", lawyers, "labour debt", "执业律师，专注劳动争议和民间借贷。"),
        ("wang.mediator@demo.odr.example", "王调解员", center, "neighbour family", "社区调解员，擅长邻里和家庭纠纷。"),
    ]:
        user = auth_ops.create_user(contact, name, PASSWORD, locale="zh")
        grant_role(user, Role.mediator, org)
        db.session.add(MediatorProfile(user_id=user.id, organization_id=org.id, specialties=specialties, bio=bio))


def _performed(case, amount, closed_ago, claimant, respondent):
    """The respondent pays a settled case's sum two days after it closed, sends the receipt, and the
    claimant confirms: the dashboard's voluntary performance figures have something to show."""
    import io

    from PIL import Image

    from odr.cases import performance
    from odr.perform import operations as perform_ops

    due = performance.local_today() + timedelta(days=2)
    schedule = performance.create_schedule(case, [performance.PlannedItem(due, "赔偿款", amount)],
                                           payer_side="respondent", source="demo_agreement", actor=None)
    _at(closed_ago - 2)
    receipt = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(receipt, "PNG")
    receipt.seek(0)
    item = schedule.items[0]
    perform_ops.report_done(item, case, respondent, receipt, "receipt.png")
    perform_ops.confirm(item, case, claimant)


def _receipt_png():
    import io

    from PIL import Image

    receipt = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(receipt, "PNG")
    receipt.seek(0)
    return receipt


def _enforcement(users, center, court):
    """A settled case in default, its application for enforcement handed to the demo court.

    Settled 50 days ago for 6,000 yuan in two instalments; the first (due 35 days ago) was paid and
    confirmed, the second (due 15 days ago) was not: the case is red. Today the court confirmed the
    agreement on staff's request, and the claimant signed the application for enforcement, which the
    platform handed to the court with the case file: the clerk's inbox has it (signed at load time,
    like the agreement above)."""
    from odr.cases import performance
    from odr.court import enforcement
    from odr.court import operations as court_ops
    from odr.perform import operations as perform_ops

    claimant, respondent, staff, mediator = users["claimant"], users["respondent"], users["staff"], users["mediator"]
    _at(70)
    dispute = ops.DisputeDetails(Category.debt,
                                 "（执行示例）借款到期后未归还，经调解达成分期还款协议。", "归还借款6000元。",
                                 "朝阳区", Decimal("6000"))
    case = ops.file_case(staff, Channel.counter, dispute, ops.PartyDetails(claimant.name, claimant.phone),
                         ops.PartyDetails(respondent.name, respondent.phone), organization=center)
    ops.join_case(case.claimant, claimant)
    ops.join_case(case.respondent, respondent)
    workflow.move(case, Stage.mediation, staff)
    ops.assign_handler(case, staff, mediator=mediator)
    _at(50)
    ops.record_settlement_amount(case, Decimal("6000"), mediator)
    workflow.move(case, Outcome.settled, mediator)
    today = performance.local_today()
    schedule = performance.create_schedule(case, [
        performance.PlannedItem(today + timedelta(days=15), "第一期还款", Decimal("3000")),
        performance.PlannedItem(today + timedelta(days=35), "第二期还款", Decimal("3000"))],
        payer_side="respondent", source="demo_agreement", actor=None)
    _at(36)
    first = schedule.items[0]
    perform_ops.report_done(first, case, respondent, _receipt_png(), "receipt.png")
    perform_ops.confirm(first, case, claimant)
    _at(0)
    performance.refresh(schedule)
    confirmation = court_ops.hand_off(case, court, staff, kind=court_ops.HandoffKind.confirmation)
    clerk = users["court_clerk"]
    court_ops.record_docket(confirmation, clerk, "（2026）京0105民特318号")
    court_ops.record_result(confirmation, clerk, "confirmed", "确认调解协议有效。")
    _sign_as_browsers(enforcement.prepare(case, claimant, court, "zh"))


def _history(staff, mediator, center, claimant, respondent):
    """Closed cases of the last two months, each filed, mediated and closed on its own days."""
    for i, (category, amount, settled, days) in enumerate(HISTORY):
        opened_ago = 75 - i * 2.5
        closed_ago = max(opened_ago - days, 0.5)
        _at(opened_ago)
        dispute = ops.DisputeDetails(category, "（历史案件）" + DISPUTES[i % len(DISPUTES)][1],
                                     DISPUTES[i % len(DISPUTES)][2], "朝阳区",
                                     Decimal(amount) if amount else None)
        case = ops.file_case(staff, Channel.counter, dispute, ops.PartyDetails(claimant.name, claimant.phone),
                             ops.PartyDetails(respondent.name, respondent.phone), organization=center)
        ops.join_case(case.claimant, claimant)
        ops.join_case(case.respondent, respondent)
        workflow.move(case, Stage.mediation, staff)
        ops.assign_handler(case, staff, mediator=mediator)
        _at(closed_ago)
        if settled is not None:
            ops.record_settlement_amount(case, Decimal(settled), mediator)
            workflow.move(case, Outcome.settled, mediator)
            if 3 < closed_ago < 28 and Decimal(settled) > 0:
                _performed(case, Decimal(settled), closed_ago, claimant, respondent)
        else:
            workflow.move(case, Outcome.closed_without_result, mediator)
