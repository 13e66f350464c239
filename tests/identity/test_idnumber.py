"""GB 11643 resident ID numbers: real valid numbers pass, each kind of mistake has its own reason."""

from datetime import date

import pytest
from flask_babel import force_locale

from odr.identity import idnumber

#: The examples printed in GB 11643-1999 itself, and one more computed the same way.
VALID = ["11010519491231002X", "440524188001010014", "110101199003074477", "310104198001012530"]


@pytest.mark.parametrize("number", VALID)
def test_real_numbers_are_valid(app, number):
    assert idnumber.validate(number) == number


def test_spaces_and_a_lower_case_x_are_forgiven(app):
    assert idnumber.validate(" 110105 19491231 002x ") == "11010519491231002X"


@pytest.mark.parametrize("number, reason", [
    ("1101051949123100", "has 18 characters; this one has 16"),
    ("110105194912310021X", "has 18 characters; this one has 19"),
    ("11010519491231002Y", "17 digits followed by a digit or X"),
    ("1101051949A231002X", "17 digits followed by a digit or X"),
    ("99010519491231002X", "(99) are not the code of a province"),
    ("110005194912310028", "names no city or county"),
    ("110105194902300021", "are not a date of birth"),
    ("110105194913010021", "are not a date of birth"),
    ("110105209901010021", "is in the future"),
    ("110105194912310021", "does not match the others"),
    ("110101199003074478", "does not match the others"),
])
def test_each_mistake_is_named(app, number, reason):
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(idnumber.InvalidIdNumber) as refused:
            idnumber.validate(number, today=date(2026, 12, 6))
        assert reason in str(refused.value.reason)


def test_a_birth_date_of_today_is_not_in_the_future(app):
    first17 = "11010120261206001"
    number = first17 + idnumber.check_character(first17)
    assert idnumber.validate(number, today=date(2026, 12, 6)) == number


def test_the_mask_keeps_the_region_and_the_last_four():
    assert idnumber.mask("11010519491231002X") == "1101**********002X"
    assert idnumber.birth_date("11010519491231002X") == date(1949, 12, 31)
