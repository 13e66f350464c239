"""Forms of the negotiation: an offer (or counter-offer) and an answer. The rules live in operations.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, Form, FormField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from odr.forms import AmountField, no_control_chars, strip
from odr.negotiate.operations import MAX_INSTALMENTS, MAX_MESSAGE_CHARS, MAX_TERMS_CHARS, Instalment

#: Empty instalment rows offered on the form.
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


class OfferForm(FlaskForm):
    message = TextAreaField(_l("Letter to the other party (optional)"), filters=[strip],
                            validators=[Optional(), Length(max=MAX_MESSAGE_CHARS), no_control_chars])
    amount = AmountField(_l("Amount in yuan (optional)"), validators=[Optional()])
    terms = TextAreaField(_l("Terms"), filters=[strip], validators=[
        DataRequired(message=_l("Write the terms of your offer.")), Length(max=MAX_TERMS_CHARS), no_control_chars])
    schedule = FieldList(FormField(InstalmentForm), label=_l("Payment schedule (optional)"),
                         min_entries=INSTALMENT_ROWS, max_entries=MAX_INSTALMENTS)
    respond_by = DateField(_l("Answer by (optional)"), validators=[Optional()])

    def instalments(self) -> list[Instalment]:
        return [Instalment(row.due.data, row.amount.data) for row in self.schedule
                if row.due.data is not None and row.amount.data is not None]

    def fill_from(self, offer):
        """Start a counter-offer from the offer it answers."""
        self.amount.data = offer.amount
        self.terms.data = offer.terms
        while len(self.schedule) < len(offer.schedule or []):
            self.schedule.append_entry()
        for row, line in zip(self.schedule, offer.schedule or []):
            row.form.due.data = date.fromisoformat(line["due"])
            row.form.amount.data = Decimal(line["amount"])


class AnswerForm(FlaskForm):
    decision = RadioField(_l("Your answer"), choices=[SelectChoice("accept", _l("Accept")),
                                                      SelectChoice("reject", _l("Reject"))],
                          validators=[DataRequired(message=_l("Choose accept or reject."))])
    comment = TextAreaField(_l("Comment (optional)"), filters=[strip],
                            validators=[Optional(), Length(max=2000), no_control_chars])
