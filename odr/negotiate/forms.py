"""Forms of the negotiation: an offer (or counter-offer) and an answer. The rules live in operations.py."""

from __future__ import annotations


from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, FormField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from odr.forms import INSTALMENT_ROWS, AmountField, InstalmentForm, PaymentPlan, no_control_chars, strip
from odr.negotiate.operations import MAX_INSTALMENTS, MAX_MESSAGE_CHARS, MAX_TERMS_CHARS, Instalment

class OfferForm(PaymentPlan, FlaskForm):
    message = TextAreaField(_l("Letter to the other party (optional)"), filters=[strip],
                            validators=[Optional(), Length(max=MAX_MESSAGE_CHARS), no_control_chars])
    amount = AmountField(_l("Amount in yuan (optional)"), validators=[Optional()])
    terms = TextAreaField(_l("Terms"), filters=[strip], validators=[
        DataRequired(message=_l("Write the terms of your offer.")), Length(max=MAX_TERMS_CHARS), no_control_chars])
    schedule = FieldList(FormField(InstalmentForm), label=_l("Payment schedule (optional)"),
                         min_entries=INSTALMENT_ROWS, max_entries=MAX_INSTALMENTS)
    respond_by = DateField(_l("Answer by (optional)"), validators=[Optional()])

    def instalments(self) -> list[Instalment]:
        return [Instalment(due, amount) for due, amount in self.instalment_rows()]


class AnswerForm(FlaskForm):
    decision = RadioField(_l("Your answer"), choices=[SelectChoice("accept", _l("Accept")),
                                                      SelectChoice("reject", _l("Reject"))],
                          validators=[DataRequired(message=_l("Choose accept or reject."))])
    comment = TextAreaField(_l("Comment (optional)"), filters=[strip],
                            validators=[Optional(), Length(max=2000), no_control_chars])
