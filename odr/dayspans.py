"""Aligned spans of days, for summaries that sum over a period in a few rows.

A day-keyed summary also keeps its sums over spans of 1, 2, 4 … 2**(SPAN_LEVELS-1) days, each span
starting on a day whose ordinal is a multiple of its length. Any period of days is then the union
of a few such spans (:func:`spans`: at most two of each length), so reading a year costs about as
many rows as reading a week. A span is stored as one integer, ``block``: its first day's ordinal
times 16 plus its level (the span is 2**level days long). ``odr.ops`` (mediators' closed cases) and
``odr.cases.satisfaction`` (survey answers) keep spans this way.
"""

from __future__ import annotations

from datetime import date

#: Spans of 1, 2, 4 … 256 days: a period of up to a year is at most 17 spans.
SPAN_LEVELS = 9


def block_of(day: date, level: int) -> int:
    """The ``block`` of the span of 2**level days that holds ``day``."""
    return ((day.toordinal() >> level) << level) * 16 + level


def spans(start: date, end: date) -> list[int]:
    """The fewest aligned spans (as ``block``) that together are the days [start, end]."""
    out, d, last = [], start.toordinal(), end.toordinal()
    while d <= last:
        level = SPAN_LEVELS - 1
        while level and (d % (1 << level) or d + (1 << level) - 1 > last):
            level -= 1
        out.append(d * 16 + level)
        d += 1 << level
    return out
