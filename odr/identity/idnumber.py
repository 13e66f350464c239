"""居民身份证号码 (GB 11643-1999): what a citizen ID number must be, and how it is shown.

Eighteen characters: six digits of administrative region (GB/T 2260), eight of birth date
(YYYYMMDD), three of sequence (odd for men, even for women), and a check character computed with
ISO 7064 MOD 11-2 over the first seventeen (``X`` stands for 10). Each way a number can be wrong
has its own sentence, so the person at the counter knows what to look at again.

The number itself is personal data: it is stored encrypted (:mod:`odr.identity.crypto`) and shown
masked (:func:`mask`), never in logs or URLs.
"""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l

from odr.refusal import Refused
from odr.timeutil import utcnow

#: ISO 7064 MOD 11-2 weights of the first 17 characters (2^(17-i) mod 11).
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
#: The check character for each remainder of the weighted sum mod 11.
CHECK = "10X98765432"
#: The provinces' two leading digits (GB/T 2260): 11–15 north, 21–23 north-east, 31–37 east,
#: 41–46 centre-south, 50–54 south-west, 61–65 north-west, 71 Taiwan, 81–82 Hong Kong and Macao.
PROVINCES = frozenset({11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45,
                       46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82})


class InvalidIdNumber(Refused):
    """The ID number is not a valid 居民身份证号码; ``reason`` says why."""

    status = 422


def normalize(raw: str) -> str:
    """The number as typed, without spaces and with a lower-case ``x`` made upper-case."""
    return re.sub(r"\s+", "", raw or "").upper()


def check_character(first17: str) -> str:
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def validate(raw: str, *, today: date | None = None) -> str:
    """The normalised number, or :class:`InvalidIdNumber` saying what is wrong with it."""
    number = normalize(raw)
    if len(number) != 18:
        raise InvalidIdNumber(_l("A resident ID number has 18 characters; this one has %(n)d.", n=len(number)))
    if not (number[:17].isascii() and number[:17].isdigit()) or not (number[17] in "0123456789" or number[17] == "X"):
        raise InvalidIdNumber(_l("A resident ID number is 17 digits followed by a digit or X."))
    province, city = int(number[:2]), number[2:4]
    if province not in PROVINCES:
        raise InvalidIdNumber(_l("The first two digits (%(code)s) are not the code of a province.", code=number[:2]))
    if city == "00" and province not in (71, 81, 82):
        raise InvalidIdNumber(_l("The region code %(code)s names no city or county.", code=number[:6]))
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber(_l("Digits 7 to 14 (%(digits)s) are not a date of birth.", digits=number[6:14])) from None
    if born > (today or date.today()):
        raise InvalidIdNumber(_l("The date of birth in the number (%(born)s) is in the future.", born=born.isoformat()))
    if check_character(number[:17]) != number[17]:
        raise InvalidIdNumber(_l("The last character does not match the others: the number was mistyped."))
    return number


def mask(number: str) -> str:
    """How a number is shown: region and last four, the rest hidden (``1101**********1234``)."""
    return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}" if len(number) > 8 else "*" * len(number)


def birth_date(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
