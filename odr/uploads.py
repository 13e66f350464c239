"""Uploaded files: type found from the content, size limited, stored by SHA-256.

Used by consultation attachments now and by evidence later. A file is written
under its hash, so the same bytes are stored once and a stored file can be
checked against the hash in the database at any time.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from odr.refusal import Refused

#: (magic bytes at offset 0, extra check, mimetype)
SIGNATURES = [
    (b"\xff\xd8\xff", None, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", None, "image/png"),
    (b"GIF87a", None, "image/gif"),
    (b"GIF89a", None, "image/gif"),
    (b"RIFF", lambda head: head[8:12] == b"WEBP", "image/webp"),
    (b"%PDF-", None, "application/pdf"),
]


class UploadError(Refused):
    """A refusal with a readable reason."""


@dataclass
class StoredFile:
    sha256: str
    size: int
    mimetype: str
    filename: str


def sniff(head: bytes) -> str | None:
    for magic, extra, mimetype in SIGNATURES:
        if head.startswith(magic) and (extra is None or extra(head)):
            return mimetype
    return None


def clean_filename(name: str | None, mimetype: str) -> str:
    """A display name without paths, control characters or odd punctuation."""
    name = unicodedata.normalize("NFC", os.path.basename((name or "").replace("\\", "/")))
    name = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]+", "_", name).strip(" ._")[:100]
    ext = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
           "application/pdf": ".pdf"}.get(mimetype, "")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return (stem or "file") + ext


def upload_folder() -> Path:
    folder = current_app.config.get("UPLOAD_FOLDER") or os.path.join(current_app.instance_path, "uploads")
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_for(sha256: str) -> Path:
    return upload_folder() / sha256[:2] / sha256


def store(stream, filename: str | None, allowed: set[str], max_bytes: int) -> StoredFile:
    """Read an upload in chunks, check type and size, and store it under its hash.

    :raise UploadError: empty, too large, or not an allowed type.
    """
    digest = hashlib.sha256()
    size = 0
    head = b""
    folder = upload_folder()
    with tempfile.NamedTemporaryFile(dir=folder, delete=False) as tmp:
        try:
            while chunk := stream.read(64 * 1024):
                if len(head) < 16:
                    head = (head + chunk)[:16]
                size += len(chunk)
                if size > max_bytes:
                    raise UploadError(_l("The file is larger than %(mb)s MB.", mb=max_bytes // (1024 * 1024)))
                digest.update(chunk)
                tmp.write(chunk)
            if size == 0:
                raise UploadError(_l("The file is empty."))
            mimetype = sniff(head)
            if mimetype not in allowed:
                raise UploadError(_l("This kind of file is not accepted. Send a photo (JPEG, PNG, WebP) or a PDF."))
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    sha = digest.hexdigest()
    target = path_for(sha)
    target.parent.mkdir(exist_ok=True)
    os.replace(tmp.name, target)
    return StoredFile(sha256=sha, size=size, mimetype=mimetype, filename=clean_filename(filename, mimetype))
