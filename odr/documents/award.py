"""The arbitral award (仲裁裁决书) as PDF/A-3b, from plain data.

The award states what 《中华人民共和国仲裁法》 第五十四条 requires — the claims, the facts in
dispute, the reasons, the decision, how the costs are borne and the date — and is signed by the
arbitrators and sealed by the commission. Arbitration fills :class:`AwardContent`; this module
only lays it out, in the award's own language, with the case's audit trail attached when the
award is about a case of the platform.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field

from odr.cases.models import Case, Side
from odr.documents import layout
from odr.documents.layout import Signer

logger = logging.getLogger(__name__)


class ArbitratorRole(enum.Enum):
    #: One arbitrator decides the case alone (独任仲裁员).
    sole = "sole"
    #: The presiding arbitrator of a tribunal of three (首席仲裁员).
    presiding = "presiding"
    #: A member of a tribunal of three (仲裁员).
    member = "member"


@dataclass(frozen=True)
class Arbitrator:
    name: str
    role: ArbitratorRole = ArbitratorRole.sole


@dataclass(frozen=True)
class AwardParty:
    """A party as the award names it."""

    side: Side
    name: str
    #: Identity lines as the award prints them, e.g. "男，1980年1月1日出生，住北京市朝阳区……".
    details: str = ""
    #: Agents ad litem, one entry each, e.g. "王律师，北京某律师事务所律师".
    agents: tuple[str, ...] = ()


@dataclass(frozen=True)
class AwardContent:
    """Everything an arbitral award says. Texts are plain text (line breaks kept, never HTML)."""

    #: ``zh`` or ``en``: the language the award is written in.
    lang: str
    #: The arbitration commission, e.g. "北京仲裁委员会"; it seals the award.
    commission: str
    #: The award's number, e.g. "（2026）京仲裁字第0123号" (also in every page's footer).
    case_number: str
    arbitrators: tuple[Arbitrator, ...]
    parties: tuple[AwardParty, ...]
    #: The claimant's requests, one item each.
    claims: tuple[str, ...]
    #: What the tribunal found.
    facts: str
    #: Why it decides as it does.
    reasoning: str
    #: What it decides, one item each.
    decision: tuple[str, ...]
    #: How the arbitration fees are borne.
    costs: str
    #: The day the award is made (it takes effect that day).
    date: date
    #: Where it is made.
    place: str
    #: How the case came to arbitration and how it was heard (filing, tribunal, hearings).
    procedure: str = ""
    #: The respondent's defence.
    defence: str = ""
    #: The tribunal's clerk (书记员), if any; signs after the arbitrators.
    secretary: str = ""
    #: Anything else the award must name (e.g. the arbitration agreement), one item each.
    notes: tuple[str, ...] = field(default=())


LABELS = {
    "zh": {
        "title": "裁决书",
        "agent": "委托代理人",
        "procedure": "仲裁程序",
        "claims": "仲裁请求",
        "claims_intro": "申请人提出如下仲裁请求：",
        "defence": "被申请人答辩意见",
        "facts": "仲裁庭查明的事实",
        "reasoning": "仲裁庭意见",
        "decision": "裁决",
        "decision_intro": "根据上述事实和理由，依照《中华人民共和国仲裁法》的规定，仲裁庭裁决如下：",
        "costs": "仲裁费用的负担",
        "notes": "其他事项",
        "final": "本裁决为终局裁决，自作出之日起发生法律效力。",
        "role": {ArbitratorRole.sole: "独任仲裁员", ArbitratorRole.presiding: "首席仲裁员",
                 ArbitratorRole.member: "仲裁员"},
        "secretary": "书记员",
        "made_on": "{date}于{place}作出",
        "numerals": "一二三四五六七八九十",
    },
    "en": {
        "title": "Arbitral award",
        "agent": "Agent",
        "procedure": "Procedure",
        "claims": "Claims",
        "claims_intro": "The claimant asks the tribunal:",
        "defence": "The respondent's defence",
        "facts": "Facts found by the tribunal",
        "reasoning": "The tribunal's reasons",
        "decision": "Award",
        "decision_intro": ("On these facts and for these reasons, under the Arbitration Law of the People's "
                           "Republic of China, the tribunal awards as follows:"),
        "costs": "Costs of the arbitration",
        "notes": "Other matters",
        "final": "This award is final and binding from the day it is made.",
        "role": {ArbitratorRole.sole: "Sole arbitrator", ArbitratorRole.presiding: "Presiding arbitrator",
                 ArbitratorRole.member: "Arbitrator"},
        "secretary": "Clerk",
        "made_on": "Made on {date} at {place}",
    },
}


def sections(content: AwardContent, labels: dict) -> list[dict]:
    """The award's numbered sections in order, leaving out the optional ones that are empty.

    Each is ``{"id", "heading", "intro", "text", "entries"}``; ``entries`` is a numbered list.
    """
    rows = [
        ("procedure", "", content.procedure, ()),
        ("claims", labels["claims_intro"], "", content.claims),
        ("defence", "", content.defence, ()),
        ("facts", "", content.facts, ()),
        ("reasoning", "", content.reasoning, ()),
        ("decision", labels["decision_intro"], "", content.decision),
        ("costs", "", content.costs, ()),
        ("notes", "", "", content.notes),
    ]
    return [{"id": sid, "heading": labels[sid], "intro": intro, "text": text, "entries": list(items)}
            for sid, intro, text, items in rows
            if text.strip() or any(i.strip() for i in items) or sid in ("claims", "facts", "reasoning", "decision")]


def heading_number(n: int, lang: str) -> str:
    """一、二、… in Chinese (as awards number their parts), 1. 2. … in English."""
    if lang == "zh":
        numerals = LABELS["zh"]["numerals"]
        return (numerals[n - 1] if n <= 10 else f"十{numerals[n - 11]}") + "、"
    return f"{n}. "


def signers(content: AwardContent, labels: dict) -> list[Signer]:
    """The arbitrators (presiding first), then the clerk."""
    order = {ArbitratorRole.presiding: 0, ArbitratorRole.sole: 0, ArbitratorRole.member: 1}
    rows = [Signer(labels["role"][a.role], a.name)
            for a in sorted(content.arbitrators, key=lambda a: order[a.role])]
    if content.secretary:
        rows.append(Signer(labels["secretary"], content.secretary))
    return rows


def render_award(content: AwardContent, case: Case | None = None) -> bytes:
    """The award as PDF/A-3b in ``content.lang``; with ``case``, its audit trail is attached as ``audit-trail.json``."""
    lang = layout.document_lang(content.lang)
    labels = layout.words(lang, LABELS)
    parties = sorted(content.parties, key=lambda p: p.side is not Side.claimant)
    numbered = [{**s, "number": heading_number(n, lang)} for n, s in enumerate(sections(content, labels), 1)]
    attachments = [layout.audit_attachment(case)] if case is not None else []
    pdf = layout.render_document(
        "award.html", labels, case_number=content.case_number, attachments=attachments, content=content,
        parties=parties, sections=numbered, signers=signers(content, labels), signer_dates=False,
        seal=content.commission, made_on=labels["made_on"].format(
            date=layout.written_date(content.date, lang), place=content.place),
        attached=case is not None)
    logger.info("Award %s rendered (%s bytes%s)", content.case_number, len(pdf),
                f", case {case}" if case is not None else "")
    return pdf
