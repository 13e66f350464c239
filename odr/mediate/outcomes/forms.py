"""Forms of proposals and outcome documents: the rules themselves live in proposals.py and outcomes.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, Form, FormField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from odr.forms import AmountField, no_control_chars, strip
from odr.mediate.outcomes.proposals import MAX_INSTALMENTS, Instalment

#: Empty instalment rows offered on the form (more can be sent back after an error).
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


class ProposalForm(FlaskForm):
    amount = AmountField(_l("Amount in yuan (optional)"), validators=[Optional()])
    terms = TextAreaField(_l("Terms"), filters=[strip], validators=[
        DataRequired(message=_l("Write the terms of the proposal.")), Length(max=4000), no_control_chars])
    schedule = FieldList(FormField(InstalmentForm), label=_l("Payment schedule (optional)"),
                         min_entries=INSTALMENT_ROWS, max_entries=MAX_INSTALMENTS)
    respond_by = DateField(_l("Answer by (optional)"), validators=[Optional()])

    def instalments(self) -> list[Instalment]:
        return [Instalment(row.due.data, row.amount.data) for row in self.schedule
                if row.due.data is not None and row.amount.data is not None]

    def fill_from(self, proposal):
        """Start a counter-proposal from the proposal it answers."""
        self.amount.data = proposal.amount
        self.terms.data = proposal.terms
        while len(self.schedule) < len(proposal.schedule or []):
            self.schedule.append_entry()
        for row, line in zip(self.schedule, proposal.schedule or []):
            row.form.due.data = date.fromisoformat(line["due"])
            row.form.amount.data = Decimal(line["amount"])


class ProposalAnswerForm(FlaskForm):
    decision = RadioField(_l("Your answer"), choices=[SelectChoice("accept", _l("Accept")),
                                                      SelectChoice("reject", _l("Reject"))],
                          validators=[DataRequired(message=_l("Choose accept or reject."))])
    comment = TextAreaField(_l("Comment (optional)"), filters=[strip],
                            validators=[Optional(), Length(max=2000), no_control_chars])


class DocumentAnswerForm(FlaskForm):
    decision = RadioField(_l("Your answer"), choices=[SelectChoice("approve", _l("I approve this version")),
                                                      SelectChoice("changes", _l("I ask for changes"))],
                          validators=[DataRequired(message=_l("Choose approve or ask for changes."))])
    comment = TextAreaField(_l("What should be changed?"), filters=[strip],
                            validators=[Optional(), Length(max=2000), no_control_chars])

    def validate_comment(self, field):
        if self.decision.data == "changes" and not field.data:
            raise ValidationError(_l("Say what should be changed."))


#: Arbitration is asked for on its own page (``odr.arbitrate``): the parties sign an agreement there.
NEXT_STEPS = ("court",)


class NextStepForm(FlaskForm):
    step = RadioField(choices=[SelectChoice(s) for s in NEXT_STEPS],
                      validators=[DataRequired(message=_l("Choose the next step."))])


def document_form_class(sections: list[dict], with_amount: bool, with_reason: bool = False):
    """A form with one textarea per section of the document (headings as labels); with a reason
    when an approved version that is being signed is changed."""

    class DocumentForm(FlaskForm):
        pass

    if with_reason:
        DocumentForm.reason = TextAreaField(
            _l("Why is the approved version changed?"), filters=[strip],
            validators=[DataRequired(message=_l("Say why: the signatures given so far will no longer count.")),
                        Length(max=1000), no_control_chars])

    for section in sections:
        setattr(DocumentForm, f"s_{section['id']}", TextAreaField(section["heading"], filters=[strip], validators=[
            DataRequired(message=_l("Fill in this section.")), Length(max=8000), no_control_chars]))
    if with_amount:
        DocumentForm.amount = AmountField(_l("Settlement amount in yuan (for the case statistics; optional)"),
                                          validators=[Optional()])
    return DocumentForm


def section_fields(form, sections: list[dict]):
    return [form[f"s_{section['id']}"] for section in sections]
