"""Forms of proposals and outcome documents: the rules themselves live in proposals.py and outcomes.py."""

from __future__ import annotations


from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, FormField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from odr.forms import INSTALMENT_ROWS, AmountField, InstalmentForm, PaymentPlan, no_control_chars, strip
from odr.mediate.outcomes.proposals import MAX_INSTALMENTS, Instalment

class ProposalForm(PaymentPlan, FlaskForm):
    amount = AmountField(_l("Amount in yuan (optional)"), validators=[Optional()])
    terms = TextAreaField(_l("Terms"), filters=[strip], validators=[
        DataRequired(message=_l("Write the terms of the proposal.")), Length(max=4000), no_control_chars])
    schedule = FieldList(FormField(InstalmentForm), label=_l("Payment schedule (optional)"),
                         min_entries=INSTALMENT_ROWS, max_entries=MAX_INSTALMENTS)
    respond_by = DateField(_l("Answer by (optional)"), validators=[Optional()])

    def instalments(self) -> list[Instalment]:
        return [Instalment(due, amount) for due, amount in self.instalment_rows()]


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
