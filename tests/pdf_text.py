"""The text of a PDF as poppler's pdftotext reads it (a helper module for tests)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "document-text.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
