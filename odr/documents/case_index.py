"""The cover and table of contents of a case file (案件封面及目录) as PDF/A-3b, for the court export.

The cover says which case it is — number, parties, kind of dispute, organisation and handlers,
the stages it went through with their dates — and the table of contents lists every file of the
bundle with what it is, its pages (PDFs), its size and its SHA-256, so a clerk can check each file
against the printed index. The case's audit trail is attached.
"""

from __future__ import annotations

import logging
import re
import zlib
from dataclasses import dataclass

from odr.cases import audit
from odr.cases.models import Case, Outcome, Side, Stage
from odr.documents import layout

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileEntry:
    """One file of the bundle as the index lists it."""

    #: The file's name (path) inside the bundle.
    name: str
    #: What it is, in the index's language ("调解协议书（已签署）").
    description: str
    size: int
    #: Hex SHA-256 of the file's bytes.
    sha256: str
    #: Number of pages, for a PDF; ``None`` otherwise.
    pages: int | None = None

    @classmethod
    def of(cls, name: str, data: bytes, description: str = "") -> FileEntry:
        """The entry for ``data``: its size, digest and, for a PDF, its page count."""
        return cls(name=name, description=description, size=len(data), sha256=layout.sha256(data),
                   pages=pdf_page_count(data))


_PAGES_DICT = re.compile(rb"<<(?:(?!<<|>>).)*?/Type\s*/Pages\b(?:(?!<<|>>).)*?>>", re.S)
_COUNT = re.compile(rb"/Count\s+(\d+)")


def pdf_page_count(data: bytes) -> int | None:
    """The page count of a PDF (the ``/Count`` of its page tree's root), ``None`` if not a PDF or not found.

    Looks in the file and in its Flate streams, where PDF 1.5 object streams keep the page tree
    (WeasyPrint writes them); the root ``/Pages`` dictionary has the largest count.
    """
    if not data.startswith(b"%PDF-"):
        return None
    chunks = [data]
    for start in re.finditer(rb"stream\r?\n", data):
        try:
            chunks.append(zlib.decompressobj().decompress(data[start.end():]))
        except zlib.error:
            continue  # not a Flate stream
    counts = [int(c.group(1)) for chunk in chunks for d in _PAGES_DICT.finditer(chunk)
              for c in [_COUNT.search(d.group(0))] if c]
    return max(counts) if counts else None


LABELS = {
    "zh": {
        "title": "案件卷宗",
        "cover": "封面",
        "number": "案号",
        "kind": "纠纷类型",
        "parties": "当事人",
        "organisation": "受理机构",
        "mediator": "人民调解员",
        "arbitrator": "仲裁员",
        "court": "接收法院",
        "filed": "立案日期",
        "closed": "结案日期",
        "state": "当前状态",
        "amount": "请求金额",
        "yuan": "{amount}元",
        "claim": "请求事项",
        "history": "阶段记录",
        "when": "日期",
        "stage_heading": "阶段",
        "filed_in": "立案（{stage}）",
        "closed_as": "结案：{outcome}",
        "contents": "目录",
        "no": "序号",
        "file": "文件",
        "pages": "页数",
        "size": "大小",
        "digest": "SHA-256",
        "files_total": "共{n}个文件。每个文件的 SHA-256 摘要可用于核对其内容未被改动。",
        "no_files": "（无文件）",
    },
    "en": {
        "title": "Case file",
        "cover": "Cover",
        "number": "Case number",
        "kind": "Kind of dispute",
        "parties": "Parties",
        "organisation": "Organisation",
        "mediator": "Mediator",
        "arbitrator": "Arbitrator",
        "court": "Court",
        "filed": "Filed on",
        "closed": "Closed on",
        "state": "State",
        "amount": "Amount claimed",
        "yuan": "CNY {amount}",
        "claim": "Claim",
        "history": "Stages",
        "when": "Date",
        "stage_heading": "Stage",
        "filed_in": "Filed ({stage})",
        "closed_as": "Closed: {outcome}",
        "contents": "Contents",
        "no": "No.",
        "file": "File",
        "pages": "Pages",
        "size": "Size",
        "digest": "SHA-256",
        "files_total": "{n} file(s). Each file's SHA-256 digest shows whether its content was changed.",
        "no_files": "(no files)",
    },
}


def stage_history(case: Case, labels: dict, lang: str) -> list[tuple[str, str]]:
    """``(date, what happened)`` for the filing, each stage change and the closing, from the audit trail."""
    rows = []
    names = labels["stage"]
    filed = None
    for event in audit.case_events(case):
        when = layout.local_date(event.created_at, lang)
        payload = event.payload or {}
        if event.action == "case_filed":
            filed = (when, len(rows))
            rows.append((when, ""))
        elif event.action == "stage_changed":
            if filed is not None and not rows[filed[1]][1]:
                rows[filed[1]] = (filed[0], labels["filed_in"].format(stage=names[Stage(payload["from"])]))
            rows.append((when, names[Stage(payload["to"])]))
        elif event.action == "case_closed":
            rows.append((when, labels["closed_as"].format(outcome=names[Outcome(payload["outcome"])])))
    if filed is not None and not rows[filed[1]][1]:
        # never moved: it was filed in the stage it is still in (or closed in)
        stage = case.stage
        rows[filed[1]] = (filed[0], labels["filed_in"].format(stage=names[stage]))
    return rows


def human_size(size: int) -> str:
    """1,234 B, 12.3 KB, 4.5 MB (powers of 1,024, as file managers count)."""
    value, unit = float(size), "B"
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            break
        value /= 1024
    return f"{size:,} B" if unit == "B" else f"{value:,.1f} {unit}"


def cover(case: Case, labels: dict, lang: str) -> list[tuple[str, str]]:
    """The cover's rows: ``(label, value)``, leaving out what the case does not have."""
    parties = "\n".join(f"{labels[side.value]}{labels['colon']}{layout.party_name(case.party(side))}"
                        for side in (Side.claimant, Side.respondent) if case.party(side) is not None)
    state = labels["stage"][case.outcome if case.outcome is not None else case.stage]
    rows = [
        (labels["number"], case.number),
        (labels["kind"], labels["category"][case.category]),
        (labels["parties"], parties),
        (labels["organisation"], case.organization.name if case.organization is not None else ""),
        (labels["mediator"], case.mediator.name if case.mediator is not None else ""),
        (labels["arbitrator"], case.arbitrator.name if case.arbitrator is not None else ""),
        (labels["court"], case.court.name if case.court is not None else ""),
        (labels["amount"], labels["yuan"].format(amount=f"{case.amount_claimed:,.2f}")
         if case.amount_claimed is not None else ""),
        (labels["claim"], case.claim),
        (labels["filed"], layout.local_date(case.created_at, lang)),
        (labels["closed"], layout.local_date(case.closed_at, lang)),
        (labels["state"], state),
    ]
    return [(label, value) for label, value in rows if value]


def render_case_index(case: Case, files: list[FileEntry], lang: str) -> bytes:
    """The case file's cover and table of contents as PDF/A-3b in ``lang``, the audit trail attached."""
    lang = layout.document_lang(lang)
    labels = layout.words(lang, LABELS)
    entries = [{"n": n, "entry": f, "size": human_size(f.size)} for n, f in enumerate(files, 1)]
    pdf = layout.render_document(
        "case_index.html", labels, case_number=case.number, attachments=[layout.audit_attachment(case)],
        organisation=case.organization.name if case.organization is not None else "",
        cover=cover(case, labels, lang), history=stage_history(case, labels, lang), entries=entries,
        total=labels["files_total"].format(n=len(files)))
    logger.info("Case %s: index of %s file(s) rendered (%s bytes)", case, len(files), len(pdf))
    return pdf
