"""Sample documents to look at (``odr documents sample KIND -o FILE.pdf``) and to test with.

The case documents need a real case with a real audit trail, so :func:`sample_case` files one
through the ordinary operations — a neighbour dispute mediated to an approved agreement — in the
caller's transaction; the command renders and then rolls everything back, leaving the database
as it found it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from odr.cases.models import Case, Side
from odr.documents.award import Arbitrator, ArbitratorRole, AwardContent, AwardParty

KINDS = ("award", "confirmation", "index", "agreement", "complaint")

AWARD_TEXT = {
    "zh": dict(
        commission="北京仲裁委员会", case_number="（2026）京仲裁字第0123号", place="北京市",
        arbitrators=(Arbitrator("周明", ArbitratorRole.presiding), Arbitrator("陈静", ArbitratorRole.member),
                     Arbitrator("刘洋", ArbitratorRole.member)),
        parties=(AwardParty(Side.claimant, "张三", "男，1980年1月1日出生，汉族，住北京市朝阳区安贞里一号楼。",
                            ("王律师，北京安贞律师事务所律师",)),
                 AwardParty(Side.respondent, "北京某物业管理有限公司",
                            "住所地北京市朝阳区北四环中路八号。\n法定代表人：李四，总经理。")),
        procedure=("申请人依据双方于2025年3月1日签订的《物业服务合同》中的仲裁条款，于2026年9月1日向本会申请仲裁。"
                   "本会受理后，依法组成仲裁庭，于2026年10月15日在线开庭审理了本案，双方均到庭参加了庭审。"),
        claims=("裁决被申请人返还多收取的物业服务费人民币3,600元；", "裁决被申请人承担本案仲裁费用。"),
        defence="被申请人认为，其按照合同约定的标准收取费用，不存在多收的情况，请求驳回申请人的全部仲裁请求。",
        facts=("2025年3月1日，申请人与被申请人签订《物业服务合同》，约定物业服务费为每月每平方米2元。\n"
               "2025年4月至2026年3月，被申请人按每月每平方米2.5元收取费用，共计多收取3,600元。"),
        reasoning=("仲裁庭认为，双方签订的《物业服务合同》合法有效，双方均应按照约定履行。"
                   "被申请人未经申请人同意提高收费标准，没有合同依据，应当返还多收取的费用。"),
        decision=("被申请人于本裁决作出之日起十五日内向申请人返还物业服务费人民币3,600元；",
                  "驳回申请人的其他仲裁请求。"),
        costs="本案仲裁费人民币1,200元，由被申请人承担。",
        secretary="赵敏",
    ),
    "en": dict(
        commission="Beijing Arbitration Commission", case_number="(2026) Jing Arb. No. 0123", place="Beijing",
        arbitrators=(Arbitrator("Zhou Ming", ArbitratorRole.sole),),
        parties=(AwardParty(Side.claimant, "Zhang San", "Born 1 January 1980, living at 1 Anzhen Li, Chaoyang, Beijing.",
                            ("Wang, lawyer at Anzhen Law Firm, Beijing",)),
                 AwardParty(Side.respondent, "Beijing Property Management Ltd.",
                            "Registered at 8 North Fourth Ring Road, Chaoyang, Beijing.\nLegal representative: Li Si, manager.")),
        procedure=("Under the arbitration clause of the parties' property service contract of 1 March 2025, the "
                   "claimant applied for arbitration on 1 September 2026. The commission accepted the case, appointed "
                   "a sole arbitrator and held an online hearing on 15 October 2026, which both parties attended."),
        claims=("That the respondent repay CNY 3,600 of service fees charged in excess of the contract;",
                "That the respondent bear the costs of the arbitration."),
        defence="The respondent says it charged what the contract allows and asks that the claims be dismissed.",
        facts=("On 1 March 2025 the parties agreed on a service fee of CNY 2 per square metre a month.\n"
               "From April 2025 to March 2026 the respondent charged CNY 2.50, CNY 3,600 more than agreed."),
        reasoning=("The contract is valid and binds both parties. The respondent raised the fee without the "
                   "claimant's consent and without a basis in the contract, so it must repay what it overcharged."),
        decision=("The respondent shall repay the claimant CNY 3,600 within fifteen days of this award;",
                  "The claimant's other claims are dismissed."),
        costs="The arbitration fee of CNY 1,200 is borne by the respondent.",
    ),
}


def sample_award(lang: str = "zh") -> AwardContent:
    return AwardContent(lang=lang, date=date(2026, 11, 2), **AWARD_TEXT[lang])


@dataclass
class SampleCase:
    case: Case
    #: The approved mediation agreement (odr.mediate.models.OutcomeDocument).
    agreement: object


def sample_case(lang: str = "zh", failed: bool = False) -> SampleCase:
    """A neighbour dispute mediated to an agreement both parties approved, in the caller's transaction.

    ``failed``: mediation fails instead — both parties approve a record of undisputed facts (the
    ``agreement`` of the result) and the claimant takes the case on to the court hand-off stage.
    Flushes, never commits: roll back to forget it.
    """
    from odr.auth import operations as auth_ops
    from odr.cases.operations import grant_role
    from odr.auth.models import Role
    from odr.cases import operations as ops
    from odr.cases import workflow
    from odr.cases.models import Category, Channel, Organization, OrgType, Stage
    from odr.extensions import db
    from odr.mediate.outcomes import operations as outcomes
    from odr.mediate.models import MediatorProfile, OutcomeKind

    zh = lang == "zh"
    n = db.session.scalar(db.select(db.func.count()).select_from(Organization)) + 1
    org = Organization(name="朝阳区安贞街道人民调解委员会" if zh else "Anzhen Street People's Mediation Committee",
                       type=OrgType.peoples_mediation, district="朝阳区")
    db.session.add(org)
    db.session.flush()

    def person(name, role=None):
        user = auth_ops.create_user(f"sample-{n}-{name.lower().replace(' ', '-')}@example.com", name,
                                    "sample password 42")
        if role is not None:
            grant_role(user, role, org)
        return user

    staff = person("吴晓" if zh else "Wu Xiao", Role.staff)
    mediator = person("李调解" if zh else "Li Tiaojie", Role.mediator)
    db.session.add(MediatorProfile(user_id=mediator.id, organization_id=org.id, specialties="neighbour"))
    claimant, respondent = person("张三" if zh else "Zhang San"), person("李四" if zh else "Li Si")
    dispute = ops.DisputeDetails(
        category=Category.neighbour, district="朝阳区", amount_claimed=Decimal("500") if failed else None,
        description=("楼上住户每晚十点后仍在装修，噪音严重影响休息，多次沟通无果。" if zh else
                     "The upstairs neighbour renovates every night after ten; talking to them has not helped."),
        claim="晚上十点后停止施工，并赔偿损失500元。" if zh else "No building work after 22:00 and CNY 500 for the trouble.")
    case = ops.file_case(claimant, Channel.web, dispute, ops.PartyDetails(claimant.name, email=claimant.email),
                         ops.PartyDetails(respondent.name, phone="+8613900139000"))
    ops.join_case(case.respondent, respondent)
    ops.route_case(case, org, staff)
    for stage in (Stage.assessment, Stage.mediation):
        workflow.move(case, stage, claimant)
    ops.assign_handler(case, staff, mediator=mediator)
    kind = OutcomeKind.undisputed_facts if failed else OutcomeKind.agreement
    content = outcomes.draft_content(case, kind, lang)
    if failed:
        filled = {"agreed": ("被申请人自2026年9月起装修房屋，施工多在晚上十点以后。" if zh else
                             "The respondent has been renovating since September 2026, mostly after 22:00."),
                  "disputed": "噪音是否超过规定标准，以及损失金额。" if zh else "Whether the noise is over the limit, and the loss."}
        for section in content["sections"]:
            section["text"] = filled.get(section["id"], section["text"])
    texts = {s["id"]: s["text"] for s in content["sections"]}
    document = outcomes.save(case, kind, mediator, texts)
    document.content = content  # save drafts in the page's language; a sample has none
    outcomes.send(document, case, mediator)
    outcomes.answer(document, case, claimant, approve=True)
    outcomes.answer(document, case, respondent, approve=True)
    if failed:
        outcomes.go_to_court(case, claimant)
    db.session.flush()
    return SampleCase(case, document)


def sample_files(case: Case, agreement_pdf: bytes, lang: str) -> list:
    """The files of a sample court bundle, as the case index lists them."""
    from odr.documents.case_index import FileEntry
    from odr.documents.layout import audit_trail

    zh = lang == "zh"
    return [
        FileEntry.of("documents/mediation-agreement.pdf", agreement_pdf,
                     "人民调解协议书（双方已确认）" if zh else "Mediation agreement (approved by both parties)"),
        FileEntry.of("evidence/noise-recording.m4a", bytes(range(256)) * 4000,
                     "夜间噪音录音" if zh else "Recording of the noise at night"),
        FileEntry.of("audit.jsonl", audit_trail(case), "案件审计记录" if zh else "The case's audit trail"),
        FileEntry.of("case.json", b"{}", "案件数据" if zh else "Case data"),
    ]


def render_sample(kind: str, lang: str) -> bytes:
    """A case document of the sample case (``confirmation``, ``index``, ``agreement``,
    ``arbitration-agreement`` or ``complaint``), in the caller's transaction (roll back afterwards)."""
    from odr.cases.models import Side

    if kind == "complaint":
        from odr.court.complaint import Addresses, render_complaint

        zh = lang == "zh"
        sample = sample_case(lang, failed=True)
        return render_complaint(
            sample.case, "北京市朝阳区人民法院" if zh else "Chaoyang District People's Court, Beijing", lang,
            addresses=Addresses("北京市朝阳区安贞里一号楼201室" if zh else "Flat 201, 1 Anzhen Li, Chaoyang, Beijing",
                                "北京市朝阳区安贞里一号楼301室" if zh else "Flat 301, 1 Anzhen Li, Chaoyang, Beijing"),
            on=date(2026, 11, 2))
    from odr.documents.case_index import render_case_index
    from odr.mediate.outcomes.confirmation import PartyIdentity, render_judicial_confirmation
    from odr.mediate.outcomes.pdf import mediation_pdf

    sample = sample_case(lang)
    if kind == "arbitration-agreement":
        from odr.arbitrate.documents import render_agreement
        from odr.cases.models import Organization, OrgType

        commission = Organization(name="北京仲裁委员会" if lang == "zh" else "Beijing Arbitration Commission",
                                  type=OrgType.arbitration_commission, district="朝阳区")
        return render_agreement(sample.case, commission, lang)
    agreement = mediation_pdf(sample.case, sample.agreement)
    if kind == "agreement":
        return agreement
    if kind == "index":
        return render_case_index(sample.case, sample_files(sample.case, agreement, lang), lang)
    if kind == "confirmation":
        zh = lang == "zh"
        identity = PartyIdentity("男" if zh else "male", "1980年1月1日" if zh else "1 January 1980",
                                 "汉族" if zh else "Han", "110105198001010011",
                                 "北京市朝阳区安贞里一号楼" if zh else "1 Anzhen Li, Chaoyang, Beijing", "13800138000")
        return render_judicial_confirmation(
            sample.case, "北京市朝阳区人民法院" if zh else "Chaoyang District People's Court, Beijing", lang,
            identities={Side.claimant: identity}, agreement_pdf=agreement)
    raise ValueError(f"no sample {kind!r}")
