"""Uploaded files: type found from the content, size limited, stored by SHA-256.

Used by consultation attachments and by mediation evidence (which also takes audio). A file is written
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

#: How many first bytes of a file the type is read from.
HEAD_BYTES = 64


def _mpeg_audio_frame(head: bytes) -> bool:
    """An MPEG audio frame header (an MP3 without ID3 tag): sync bits, a valid version, layer and bitrate."""
    if len(head) < 3:
        return False
    b1, b2 = head[1], head[2]
    return (b1 & 0xE0) == 0xE0 and (b1 >> 3) & 3 != 1 and (b1 >> 1) & 3 != 0 and b2 >> 4 not in (0, 15) \
        and (b2 >> 2) & 3 != 3


def _mp4_audio(head: bytes) -> bool:
    return head[4:8] == b"ftyp" and head[8:12] in (b"M4A ", b"isom", b"mp42")


def _webm(head: bytes) -> bool:
    return b"webm" in head[4:HEAD_BYTES]


#: (magic bytes at offset 0, extra check, mimetype)
SIGNATURES = [
    (b"\xff\xd8\xff", None, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", None, "image/png"),
    (b"GIF87a", None, "image/gif"),
    (b"GIF89a", None, "image/gif"),
    (b"RIFF", lambda head: head[8:12] == b"WEBP", "image/webp"),
    (b"%PDF-", None, "application/pdf"),
    (b"ID3", None, "audio/mpeg"),
    (b"\xff", _mpeg_audio_frame, "audio/mpeg"),
    (b"", _mp4_audio, "audio/mp4"),
    (b"OggS", None, "audio/ogg"),
    (b"RIFF", lambda head: head[8:12] == b"WAVE", "audio/wav"),
    (b"#!AMR", None, "audio/amr"),
    (b"\x1a\x45\xdf\xa3", _webm, "audio/webm"),
]

#: The extension a stored file is shown with, from its sniffed type.
EXTENSIONS = {
    "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
    "application/pdf": ".pdf",
    "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "audio/ogg": ".ogg", "audio/wav": ".wav", "audio/amr": ".amr",
    "audio/webm": ".webm",
}

WRONG_TYPE = _l("This kind of file is not accepted. Send a photo (JPEG, PNG, WebP) or a PDF.")


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
    ext = EXTENSIONS.get(mimetype, "")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return (stem or "file") + ext


def upload_folder() -> Path:
    folder = current_app.config.get("UPLOAD_FOLDER") or os.path.join(current_app.instance_path, "uploads")
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


def send_stored(sha256: str, mimetype: str, filename: str, *, as_attachment: bool = True, private: bool = True):
    """A stored upload as a response that a browser never runs or sniffs (404 if the file is gone)."""
    from flask import abort, send_file

    path = path_for(sha256)
    if not path.is_file():
        abort(404)
    resp = send_file(path, mimetype=mimetype, download_name=filename, as_attachment=as_attachment, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'"
    if private:
        resp.headers["Cache-Control"] = "private, no-store"
    return resp


def path_for(sha256: str) -> Path:
    return upload_folder() / sha256[:2] / sha256


def store(stream, filename: str | None, allowed: set[str], max_bytes: int, wrong_type=None) -> StoredFile:
    """Read an upload in chunks, check type and size, and store it under its hash.

    ``wrong_type``: the sentence a refused type gets, naming what ``allowed`` holds.

    :raise UploadError: empty, too large, or not an allowed type.
    """
    digest = hashlib.sha256()
    size = 0
    head = b""
    folder = upload_folder()
    with tempfile.NamedTemporaryFile(dir=folder, delete=False) as tmp:
        try:
            while chunk := stream.read(64 * 1024):
                if len(head) < HEAD_BYTES:
                    head = (head + chunk)[:HEAD_BYTES]
                size += len(chunk)
                if size > max_bytes:
                    raise UploadError(_l("The file is larger than %(mb)s MB.", mb=max_bytes // (1024 * 1024)))
                digest.update(chunk)
                tmp.write(chunk)
            if size == 0:
                raise UploadError(_l("The file is empty."))
            mimetype = sniff(head)
            if mimetype not in allowed:
                raise UploadError(wrong_type or WRONG_TYPE)
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    sha = digest.hexdigest()
    target = path_for(sha)
    target.parent.mkdir(exist_ok=True)
    os.replace(tmp.name, target)
    return StoredFile(sha256=sha, size=size, mimetype=mimetype, filename=clean_filename(filename, mimetype))
