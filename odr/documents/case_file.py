"""What one feature's documents take from another's, through the case-file core, so that the two
do not know each other:

- files a feature adds to a case's exported file (the court bundle): ``odr.video`` registers its
  recordings with :func:`register_contribution`; the export (``odr.court``) asks every contributor;
- texts and documents a later stage quotes from an earlier one, by name (:func:`provide`,
  :func:`provided`): the mediation provides the application for judicial confirmation of its
  agreement and its record of undisputed facts, which the court's documents use. A feature names
  what it needs with :func:`require`, and the app refuses to start when nobody provides it.
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


PROVIDERS: dict[str, Callable] = {}
REQUIRED: set[str] = set()


def provide(name: str, fn: Callable) -> None:
    """Offer ``fn`` under ``name`` to the documents of other features."""
    PROVIDERS[name] = fn


def require(*names: str) -> None:
    """Say that this feature's documents need ``names`` (checked when the app starts)."""
    REQUIRED.update(names)


def missing_providers() -> set[str]:
    return REQUIRED - PROVIDERS.keys()


def provided(name: str) -> Callable:
    """:raise LookupError: nobody provides ``name`` (the app would not have started)."""
    try:
        return PROVIDERS[name]
    except KeyError:
        raise LookupError(f"no feature provides {name!r}") from None
