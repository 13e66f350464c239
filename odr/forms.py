"""Field helpers shared by the forms of several packages."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, Field, Form
from wtforms import IntegerField as _IntegerField
from wtforms.validators import Optional, ValidationError

from odr.contacts import ContactError, normalize_contact, normalize_email, normalize_phone
from odr.timeutil import parse_local

MAX_AMOUNT = Decimal("1000000000000")
#: Digits with an optional decimal part: no signs, exponents, separators or NaN.
PLAIN_AMOUNT = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,10})?$")


def strip(value):
    return value.strip() if isinstance(value, str) else value


def no_control_chars(form, field):
    if isinstance(field.data, str) and any(ord(c) < 32 and c not in "\n\r\t" for c in field.data):
        raise ValidationError(_l("Remove the invisible control characters."))


class ContactValidator:
    """Accepts a phone number and/or an e-mail address and replaces the field's data by its normal form."""

    def __init__(self, kind: str = "any"):
        self.normalize = {"any": normalize_contact, "phone": normalize_phone, "email": normalize_email}[kind]

    def __call__(self, form, field):
        if not field.data:
            return
        try:
            field.data = self.normalize(field.data)
        except ContactError as exc:
            raise ValidationError(str(exc)) from None


class AmountField(DecimalField):
    """A sum of money in yuan: not negative, at most two decimals."""

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip() == "":
            self.data = None
            return
        if valuelist:
            raw = valuelist[0].strip()
            if raw.startswith("-") and PLAIN_AMOUNT.match(raw[1:]):
                self.data = Decimal(raw)  # reported by pre_validate as negative
                return
            if not PLAIN_AMOUNT.match(raw):
                self.data = None
                raise ValueError(_l("Enter an amount such as 1200 or 1200.50."))
            self.data = Decimal(raw)

    def pre_validate(self, form):
        value = self.data
        if value is None:
            return
        if value < 0:
            raise ValidationError(_l("The amount cannot be negative."))
        if value.as_tuple().exponent < -2:
            raise ValidationError(_l("Use at most two decimals."))
        if value >= MAX_AMOUNT:
            raise ValidationError(_l("This amount is too large."))


class IntegerField(_IntegerField):
    """WTForms' IntegerField, refusing numbers of more than 18 digits while parsing.

    WTForms' ``NumberRange`` checks ``math.isnan`` on the value, which raises
    ``OverflowError`` for a huge integer: such input must be invalid before it gets there.
    """

    def process_formdata(self, valuelist):
        if valuelist and len(str(valuelist[0]).strip().lstrip("+-")) > 18:
            self.data = None
            raise ValueError(_l("Enter a smaller whole number."))
        super().process_formdata(valuelist)


class LocalTimeField(Field):
    """One ``<input type=datetime-local>``: a naive wall-clock time of the display time zone."""

    def process_formdata(self, valuelist):
        self.data = parse_local((valuelist[0] if valuelist else "").strip())
        if self.data is None:
            raise ValueError(_l("Enter a date and time, such as 2026-12-01 14:30."))

    def _value(self):
        return self.raw_data[0] if self.raw_data else ""


#: Empty instalment rows offered on a payment-plan form (more can be sent back after an error).
INSTALMENT_ROWS = 4


class InstalmentForm(Form):
    """One line of a payment schedule: a due date and an amount (both, or neither)."""

    due = DateField(_l("Due date"), validators=[Optional()])
    amount = AmountField(_l("Amount in yuan"), validators=[Optional()])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if ok and (self.due.data is None) != (self.amount.data is None):
            (self.due if self.due.data is None else self.amount).errors.append(
                _l("Give both the date and the amount of the instalment, or leave both empty."))
            return False
        return ok


class PaymentPlan:
    """What a form with ``amount``, ``terms`` and a ``schedule`` of :class:`InstalmentForm` rows
    does with its plan: a mediation proposal and a negotiation offer both have one."""

    def instalment_rows(self) -> list[tuple]:
        """The filled rows, as (due date, amount)."""
        return [(row.due.data, row.amount.data) for row in self.schedule
                if row.due.data is not None and row.amount.data is not None]

    def fill_from(self, plan) -> None:
        """Start a counter from the plan it answers (its amount, terms and schedule)."""
        self.amount.data = plan.amount
        self.terms.data = plan.terms
        while len(self.schedule) < len(plan.schedule or []):
            self.schedule.append_entry()
        for row, line in zip(self.schedule, plan.schedule or []):
            row.form.due.data = date.fromisoformat(line["due"])
            row.form.amount.data = Decimal(line["amount"])
