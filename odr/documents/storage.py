"""Document files stored by their SHA-256, written once, never changed.

Each signature makes a new file; the database points at the current one. A file is written
(to a temporary name, then renamed) before the transaction that points at it commits, so the
current version is always a complete file; a crash in between leaves an unused file, not a
broken document. Reading checks the hash, so a file changed on disk is noticed, not served.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from flask import current_app


class DocumentFileMissing(RuntimeError):
    """The store has no intact file with this hash."""


def folder() -> Path:
    path = Path(current_app.config.get("DOCUMENT_FOLDER") or Path(current_app.instance_path) / "documents")
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_for(sha256: str) -> Path:
    return folder() / sha256[:2] / f"{sha256}.pdf"


def put(data: bytes) -> str:
    """Store ``data`` and return its SHA-256 (storing the same bytes twice keeps one file)."""
    sha = hashlib.sha256(data).hexdigest()
    target = path_for(sha)
    if target.exists():
        return sha
    target.parent.mkdir(exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return sha


def get(sha256: str) -> bytes:
    """The stored bytes.

    :raise DocumentFileMissing: no such file, or its content no longer matches the hash.
    """
    try:
        data = path_for(sha256).read_bytes()
    except OSError:
        raise DocumentFileMissing(sha256) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise DocumentFileMissing(f"{sha256} (content changed on disk)")
    return data
