"""The app's JSON provider: request bodies nested deeper than :data:`MAX_DEPTH` are refused
before they are parsed.

Python's JSON parser recurses once per level: 5,000 nested arrays raise ``RecursionError``,
which is not a ``ValueError``, so it escapes ``request.get_json(silent=True)`` and every
caller's error handling. No form of the platform's APIs nests more than a few levels, so the
depth is counted first, in linear time, and a deeper body is answered 400 (problem details on
the API) by :class:`NestedTooDeep`. The body's size is bounded before this by
``MAX_CONTENT_LENGTH``.
"""

from __future__ import annotations

import itertools
import json
import re

from flask.json.provider import DefaultJSONProvider
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest

#: Deepest nesting of arrays and objects accepted in a JSON body.
MAX_DEPTH = 32

# A JSON string, or an unterminated one up to the end (so no quote is scanned twice: linear time).
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")


def nesting_depth(text: str) -> int:
    """How many arrays and objects are open at once at the deepest point of ``text`` (an upper
    bound for malformed JSON, which the parser refuses at its first error anyway)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    opened = brackets.count("[") + brackets.count("{")
    if opened <= 1:
        return opened
    return max(itertools.accumulate(1 if c in "[{" else -1 for c in brackets))


class NestedTooDeep(BadRequest):
    """A JSON body nested deeper than :data:`MAX_DEPTH` (answered 400, even where the caller
    asked ``get_json`` to stay silent about malformed bodies)."""

    def __init__(self):
        super().__init__()
        self.odr_detail = _l("The JSON is nested more than %(n)d levels deep.", n=MAX_DEPTH)


class JSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs):
        """:raise NestedTooDeep: ``s`` nests arrays and objects deeper than :data:`MAX_DEPTH`."""
        if isinstance(s, (bytes, bytearray)):
            s = s.decode(json.detect_encoding(s))  # a UnicodeDecodeError is a ValueError: malformed
        if nesting_depth(s) > MAX_DEPTH:
            raise NestedTooDeep()
        return super().loads(s, **kwargs)
