"""Who a party is as a court must read it: the verified legal name, the full resident ID number and
the level of assurance, printed on the documents that go to a court — the complaint, the
application for judicial confirmation and the application for enforcement.

The identity feature (``odr.identity``) holds the numbers, encrypted, and hands in a source at
start-up (:func:`set_source`); those documents ask :func:`for_court` while they are rendered.
Nothing else asks: everywhere else (pages, logs, exports, the bundle's JSON) a number stays
masked. Without a source, or for a party nobody verified, the documents print no number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CourtIdentity:
    """A verified person as a court document states them."""

    legal_name: str
    #: The full number (``None`` when the verification gave none, e.g. a provider that states no number).
    id_number: str | None
    #: The level of assurance: ``counter`` (ID card checked in person) or ``oidc`` (identity provider).
    level: str

    def __repr__(self):  # never the number, should one be logged by accident
        return f"<CourtIdentity {self.level}>"


_source: Callable[[object], CourtIdentity | None] | None = None


def set_source(source: Callable[[object], CourtIdentity | None]) -> None:
    """``source(user)``: the user's verified identity with the full number, ``None`` when unverified."""
    global _source
    _source = source


def for_court(user) -> CourtIdentity | None:
    """``user``'s verified identity for a court document, or ``None`` (unverified, no account, no source)."""
    if _source is None or user is None:
        return None
    return _source(user)
