"""The arbitration's forms; the choices (commissions, roster, seats) come from the case."""

from __future__ import annotations


from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import FieldList, FormField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from odr.arbitrate.models import Procedure
from odr.arbitrate.common import REASON_MAX, TEXT_MAX
from odr.forms import INSTALMENT_ROWS, IntegerField, InstalmentForm, LocalTimeField, PaymentPlan, no_control_chars, strip

PROCEDURE_LABELS = {Procedure.hearing: _l("Hearing by video"),
                    Procedure.documents_only: _l("On the documents only (small claims)")}
ROUTES = [SelectChoice("agreement", _l("We both sign an arbitration agreement here")),
          SelectChoice("clause", _l("Our contract has an arbitration clause: I upload it"))]


def _text(label, required_message, limit=TEXT_MAX, rows=None):
    return TextAreaField(label, filters=[strip], validators=[DataRequired(message=required_message),
                                                             Length(max=limit), no_control_chars])


class ChoiceForm(FlaskForm):
    """A form with one select of objects (commissions, arbitrators); ``chosen`` is the object."""

    choice_field = "choice"

    def set_choices(self, objects, label=lambda o: o.name):
        field = getattr(self, self.choice_field)
        self._objects = {str(o.id): o for o in objects}
        field.choices = [SelectChoice("", "—")] + [SelectChoice(k, label(o)) for k, o in self._objects.items()]
        return self

    @property
    def chosen(self):
        return self._objects.get(getattr(self, self.choice_field).data)


class RequestForm(ChoiceForm):
    choice_field = "commission"
    commission = SelectField(_l("Arbitration commission"),
                             validators=[DataRequired(message=_l("Choose an arbitration commission."))])
    route = RadioField(_l("What allows arbitration"), choices=ROUTES, default="agreement",
                       validators=[InputRequired(message=_l("Choose how the parties agreed to arbitration."))])
    contract = FileField(_l("The contract (PDF or photo)"))
    clause_text = TextAreaField(_l("The words of the arbitration clause"), filters=[strip],
                                validators=[Optional(), Length(max=REASON_MAX), no_control_chars])


class ClauseDecisionForm(FlaskForm):
    decision = RadioField(_l("The clause"), choices=[SelectChoice("confirm", _l("Confirm: it covers this dispute")),
                                                     SelectChoice("reject", _l("Do not accept"))],
                          validators=[InputRequired(message=_l("Confirm or reject the clause."))])
    reason = TextAreaField(_l("Reason (needed to reject)"), filters=[strip],
                           validators=[Optional(), Length(max=REASON_MAX), no_control_chars])


class AcceptForm(FlaskForm):
    procedure = RadioField(_l("Procedure"), choices=[SelectChoice(p.value, PROCEDURE_LABELS[p]) for p in Procedure],
                           default=Procedure.hearing.value,
                           validators=[InputRequired(message=_l("Choose the procedure."))])


class NominateForm(ChoiceForm):
    choice = SelectField(_l("Arbitrator"), validators=[DataRequired(message=_l("Choose an arbitrator."))])


class AppointForm(ChoiceForm):
    choice = SelectField(_l("Arbitrator appointed by the commission"), validators=[Optional()])


class DeclareForm(FlaskForm):
    independent = RadioField(_l("Declaration"), choices=[
        SelectChoice("yes", _l("I am independent and impartial in this case")),
        SelectChoice("no", _l("I have a conflict and stand down"))],
        validators=[InputRequired(message=_l("Choose your declaration."))])
    disclosure = TextAreaField(_l("What the parties should know (relations with a party or their agent, "
                                  "earlier involvement); leave empty if nothing"), filters=[strip],
                               validators=[Optional(), Length(max=REASON_MAX), no_control_chars])


class ChallengeForm(ChoiceForm):
    choice = SelectField(_l("Arbitrator"), validators=[DataRequired(message=_l("Choose an arbitrator."))])
    reason = _text(_l("Why the arbitrator should not decide this case"), _l("Give your reasons."), REASON_MAX)


class ChallengeDecisionForm(FlaskForm):
    upheld = RadioField(_l("Decision"), choices=[SelectChoice("yes", _l("Upheld: the arbitrator leaves the tribunal")),
                                                 SelectChoice("no", _l("Rejected"))],
                        validators=[InputRequired(message=_l("Choose the decision."))])
    reason = _text(_l("Reasons"), _l("Give your reasons."), REASON_MAX)


class StatementForm(FlaskForm):
    text = _text(_l("Your statement"), _l("Write your statement first."))


class DeadlineForm(FlaskForm):
    which = RadioField(_l("Deadline"), choices=[SelectChoice("claim", _l("Statement of claim")), SelectChoice("defence", _l("Defence"))],
                       validators=[InputRequired(message=_l("Choose the deadline."))])
    days = IntegerField(_l("More days"), default=7, validators=[InputRequired(message=_l("Give a number of days.")),
                                                               NumberRange(min=1, max=60)])
    reason = _text(_l("Reason"), _l("Give your reasons."), REASON_MAX)


class EvidenceForm(FlaskForm):
    file = FileField(_l("File (photo, PDF or audio)"))
    description = TextAreaField(_l("What it shows (optional)"), filters=[strip],
                                validators=[Optional(), Length(max=300), no_control_chars])


class HearingForm(FlaskForm):
    when = LocalTimeField(_l("Date and time of the hearing"))


class AwardForm(PaymentPlan, FlaskForm):
    facts = _text(_l("Facts found by the tribunal"), _l("Write the facts found."))
    reasoning = _text(_l("The tribunal's reasons"), _l("Write the reasons."))
    decision = _text(_l("The award, one item per line"), _l("Write what the tribunal decides."))
    #: What the award orders paid, by date: each row becomes a line of the award and an item of the
    #: performance schedule the parties follow once it is sealed.
    payer = RadioField(_l("Who pays"), choices=[SelectChoice("respondent", _l("Respondent")),
                                               SelectChoice("claimant", _l("Claimant"))], default="respondent",
                       validators=[Optional()])
    schedule = FieldList(FormField(InstalmentForm), label=_l("Payments ordered (optional)"),
                         min_entries=INSTALMENT_ROWS, max_entries=INSTALMENT_ROWS)
    costs = _text(_l("How the costs are borne"), _l("Say who bears the costs."), REASON_MAX)
    lang = RadioField(_l("Language of the award"), choices=[SelectChoice("zh", "中文"), SelectChoice("en", "English")], default="zh",
                      validators=[InputRequired()])
