"""The arbitration's documents: the online arbitration agreement both parties sign, and the award's
content taken from the case (the award is laid out by ``odr.documents.award``).

Each is written in its own language (``zh`` or ``en``), whatever language the site is read in.
"""

from __future__ import annotations

from datetime import date

from odr.arbitrate.models import Arbitration, Procedure, SeatRole
from odr.cases.models import ArbitrationBasis, Case, Organization, Side
from odr.documents import layout
from odr.documents.award import Arbitrator, ArbitratorRole, AwardContent, AwardParty
from odr.documents.layout import Signer
from odr.timeutil import utcnow

LABELS = {
    "zh": {
        "title": "仲裁协议",
        "intro": "为解决下述争议，双方当事人经平等协商，自愿达成如下仲裁协议：",
        "dispute": "争议事项",
        "clauses": [
            "双方同意将上述争议提交{commission}仲裁，适用该委员会现行有效的仲裁规则。",
            "双方同意仲裁程序在线进行：文书通过本平台送达，开庭以视频方式进行；对于小额争议，仲裁庭可以书面审理。",
            "仲裁裁决是终局的，对双方均有约束力。",
            "本协议自双方当事人电子签名之日起生效；电子签名与手写签名具有同等法律效力。",
        ],
        "claim": "申请人的请求",
        "what_happened": "纠纷经过",
        "amount": "争议金额",
        "yuan": "{amount} 元",
    },
    "en": {
        "title": "Arbitration agreement",
        "intro": "To resolve the dispute below, the parties have freely agreed as follows:",
        "dispute": "The dispute",
        "clauses": [
            "The parties submit the dispute to {commission} for arbitration under its rules in force.",
            "The arbitration is conducted online: documents are served through this platform and hearings are "
            "held by video; small claims may be decided on the documents alone.",
            "The award is final and binding on both parties.",
            "This agreement takes effect when both parties have signed it electronically; an electronic signature "
            "has the same effect as a handwritten one.",
        ],
        "claim": "The claimant's request",
        "what_happened": "What happened",
        "amount": "Amount in dispute",
        "yuan": "{amount} yuan",
    },
}

AWARD_WORDS = {
    "zh": {
        "number": "（{year}）{commission}裁字第{number}号",
        "basis": {ArbitrationBasis.agreement: "双方当事人在线签署的仲裁协议",
                  ArbitrationBasis.clause: "双方当事人合同中的仲裁条款"},
        "procedure": ("本会根据{basis}，于{accepted}受理本案。{tribunal}{hearing}"),
        "sole": "本案由独任仲裁员{names}审理。",
        "three": "本案由首席仲裁员{presiding}、仲裁员{members}组成仲裁庭审理。",
        "hearing": "仲裁庭于{date}通过视频开庭审理，双方当事人到庭参加了庭审。",
        "documents": "依照仲裁规则，本案进行书面审理。",
        "no_defence": "被申请人未在规定期限内提交答辩意见。",
    },
    "en": {
        "number": "({year}) {commission} Award No. {number}",
        "basis": {ArbitrationBasis.agreement: "the arbitration agreement the parties signed online",
                  ArbitrationBasis.clause: "the arbitration clause of the parties' contract"},
        "procedure": "Under {basis}, the commission accepted the case on {accepted}. {tribunal}{hearing}",
        "sole": "The case was heard by {names} as sole arbitrator. ",
        "three": "The tribunal was {presiding} (presiding) with {members}. ",
        "hearing": "The tribunal held a hearing by video on {date}, which both parties attended.",
        "documents": "Under the rules, the case was decided on the documents.",
        "no_defence": "The respondent submitted no defence within the time allowed.",
    },
}


def render_agreement(case: Case, commission: Organization, lang: str) -> bytes:
    """The arbitration agreement naming ``commission``, for both parties to sign."""
    lang = layout.document_lang(lang)
    labels = layout.words(lang, LABELS)
    parties = sorted((p for p in case.parties), key=lambda p: p.side is not Side.claimant)
    signers = [Signer(labels[p.side.value], layout.party_name(p)) for p in parties]
    amount = labels["yuan"].format(amount=f"{case.amount_claimed:,.2f}") if case.amount_claimed is not None else ""
    return layout.render_document(
        "arbitration_agreement.html", labels, case_number=case.number, attachments=[layout.audit_attachment(case)],
        parties=[(labels[p.side.value], layout.party_name(p)) for p in parties], signers=signers,
        clauses=[c.format(commission=commission.name) for c in labels["clauses"]],
        category=labels["category"][case.category], claim=case.claim, description=case.description,
        amount=amount, attached=True)


def award_content(case: Case, arb: Arbitration, *, facts: str, reasoning: str, decision: list[str], costs: str,
                  lang: str) -> AwardContent:
    """What the award says, from the case, the tribunal and the presiding arbitrator's words."""
    lang = layout.document_lang(lang)
    words = AWARD_WORDS[lang]
    seats = sorted(arb.active_seats, key=lambda s: (s.role is SeatRole.member, s.id))
    roles = {SeatRole.sole: ArbitratorRole.sole, SeatRole.presiding: ArbitratorRole.presiding,
             SeatRole.member: ArbitratorRole.member}
    arbitrators = tuple(Arbitrator(s.user.name, roles[s.role]) for s in seats)
    if len(seats) == 1:
        tribunal = words["sole"].format(names=seats[0].user.name)
    else:
        tribunal = words["three"].format(presiding=seats[0].user.name,
                                         members=("、" if lang == "zh" else " and ").join(s.user.name for s in seats[1:]))
    if arb.procedure is Procedure.hearing and arb.hearing_at is not None:
        hearing = words["hearing"].format(date=layout.local_date(arb.hearing_at, lang))
    else:
        hearing = words["documents"]
    procedure = words["procedure"].format(basis=words["basis"][arb.basis],
                                          accepted=layout.local_date(arb.accepted_at, lang),
                                          tribunal=tribunal, hearing=hearing)
    parties = tuple(AwardParty(side=p.side, name=layout.party_name(p)) for p in case.parties)
    claims = tuple(line.strip() for line in arb.claim_text.splitlines() if line.strip()) or (case.claim,)
    year = (arb.accepted_at or utcnow()).year
    return AwardContent(
        lang=lang, commission=arb.commission.name,
        case_number=words["number"].format(year=year, commission=arb.commission.name, number=case.number),
        arbitrators=arbitrators, parties=parties, claims=claims, facts=facts, reasoning=reasoning,
        decision=tuple(decision), costs=costs, date=date.today(), place=arb.commission.district,
        procedure=procedure, defence=arb.defence_text or words["no_defence"])
