"""Files a feature adds to a case's exported file (the court bundle): one registry in the case-file
core, so the export (``odr.court``) and the features that record things (``odr.video``'s
recordings) do not know each other.

A feature registers ``contributor(case) -> [BundleFile]`` from its ``init_app`` with
:func:`register_contribution`; the export asks every contributor when it writes a bundle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

CHUNK = 1024 * 1024


@dataclass
class BundleFile:
    """One file of the bundle: where it goes, what it is, and how to read it."""

    name: str
    description: str
    media_type: str
    #: Yields the content in chunks.
    open: Callable[[], Iterator[bytes]]
    #: What the platform stored for it, checked while copying (``None``: computed only).
    expected_sha256: str | None = None
    sha256: str = ""
    size: int = 0
    pages: int | None = None
    extra: dict = field(default_factory=dict)


CONTRIBUTORS: list[Callable[[object], list[BundleFile]]] = []


def register_contribution(contributor: Callable[[object], list[BundleFile]]) -> None:
    """Add ``contributor(case) -> [BundleFile]`` to every export (once)."""
    if contributor not in CONTRIBUTORS:
        CONTRIBUTORS.append(contributor)


def chunks_of_path(path) -> Callable[[], Iterator[bytes]]:
    """Read a stored file in chunks, when the export copies it."""
    def read():
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
    return read


def chunks_of_bytes(data: bytes) -> Callable[[], Iterator[bytes]]:
    return lambda: iter([data])
