"""Case documents shown in a video room as page images (phones cannot share their screen).

The host picks a piece of shared evidence (visible to every party: ``Visibility.all``) and a
page; everyone in the host's group sees that page as an image. PDF pages are rendered with
poppler's ``pdftoppm`` (installed by scripts/install-system-deps) and cached by file hash and
page; an image is its own single page.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from odr import uploads
from odr.extensions import db
from odr.cases.evidence import Evidence, Visibility
from odr.validation import is_database_id

IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp"}
PDF = "application/pdf"
DPI = 80  # ~660 px wide for A4: sharp on a phone, small to send
MAX_PAGES = 500


def showable(case_id: int) -> list[Evidence]:
    """Evidence every party may see, as PDF or image."""
    return list(db.session.scalars(sa.select(Evidence).where(
        Evidence.case_id == case_id, Evidence.visibility == Visibility.all,
        Evidence.mimetype.in_(IMAGE_TYPES | {PDF})).order_by(Evidence.id)))


def get_showable(case_id: int, evidence_id) -> Evidence | None:
    if not is_database_id(evidence_id):
        return None
    item = db.session.get(Evidence, evidence_id)
    if item is None or item.case_id != case_id or item.visibility is not Visibility.all \
            or item.mimetype not in IMAGE_TYPES | {PDF}:
        return None
    return item


def page_count(item: Evidence) -> int:
    if item.mimetype != PDF:
        return 1
    out = subprocess.run(["pdfinfo", str(uploads.path_for(item.sha256))], capture_output=True, text=True,
                         timeout=20)
    match = re.search(r"^Pages:\s+(\d+)", out.stdout, re.M)
    return min(int(match.group(1)), MAX_PAGES) if match else 0


def page_image(item: Evidence, page: int) -> tuple[Path, str] | None:
    """The file and MIME type of one page's image, or None if there is no such page."""
    source = uploads.path_for(item.sha256)
    if not source.is_file():
        return None
    if item.mimetype != PDF:
        return (source, item.mimetype) if page == 1 else None
    cache = Path(current_app.instance_path) / "video-pages"
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"{item.sha256}-{page}.png"
    if not target.exists():
        stem = cache / f"{item.sha256}-{page}.tmp"
        result = subprocess.run(["pdftoppm", "-f", str(page), "-l", str(page), "-r", str(DPI), "-png", "-singlefile",
                                 str(source), str(stem)], capture_output=True, timeout=60)
        made = stem.with_suffix(".tmp.png")
        if result.returncode != 0 or not made.exists():
            return None
        made.replace(target)
    return target, "image/png"
