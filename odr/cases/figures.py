"""Figures that features add to the center's dashboard, without the dashboard knowing them.

A feature registers a provider in its ``init_app`` (field dispatch: the 1-3-8 targets by grid,
worker and sender); the dashboard (``odr.ops``) shows each table it returns, with its CSV, beside
its own. A provider is called with the organisations the reader may see (None: all) and the
period [start, end), and returns :class:`Figures` — cheap when asked for names it does not have.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass
class Figures:
    """A titled table: ``name`` is its address (``/ops/export/<name>.csv``)."""

    name: str
    title: object
    headers: list
    rows: list[list]


Provider = Callable[["set[int] | frozenset[int] | None", datetime, datetime, "set[str] | None"], "list[Figures]"]
PROVIDERS: list[Provider] = []


def register(provider: Provider) -> None:
    if provider not in PROVIDERS:
        PROVIDERS.append(provider)


def collect(organizations, start: datetime, end: datetime, names: set[str] | None = None) -> list[Figures]:
    """Every registered table (or only ``names``) for these organisations and this period."""
    out: list[Figures] = []
    for provider in PROVIDERS:
        out.extend(f for f in provider(organizations, start, end, names) if names is None or f.name in names)
    return out
