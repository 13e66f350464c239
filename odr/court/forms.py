from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from odr.court.models import CourtResult, HandoffKind, results_for
from odr.forms import no_control_chars, strip

RESULT_LABELS = {
    CourtResult.confirmed: _l("Confirmed"),
    CourtResult.not_confirmed: _l("Not confirmed"),
    CourtResult.judgment: _l("Judgment given"),
    CourtResult.withdrawn: _l("Withdrawn"),
    CourtResult.enforcement_accepted: _l("Accepted for enforcement"),
    CourtResult.executed: _l("Enforced in full"),
    CourtResult.enforcement_refused: _l("Enforcement refused"),
}


class HandoffForm(FlaskForm):
    """Choose the court a case goes to (from the organisations that are courts)."""

    court = SelectField(_l("Court"), validators=[DataRequired(message=_l("Choose a court."))])

    def __init__(self, courts, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._courts = {str(c.id): c for c in courts}
        self.court.choices = [SelectChoice("", "—")] + [SelectChoice(key, c.name) for key, c in self._courts.items()]

    @property
    def chosen_court(self):
        return self._courts.get(self.court.data)


class DocketForm(FlaskForm):
    docket_number = StringField(_l("The court's case number"), filters=[strip], validators=[
        DataRequired(message=_l("Give the court's case number.")), Length(max=64), no_control_chars])


class ResultForm(FlaskForm):
    """The court's result: the choices are those of the hand-off's kind (an application for
    enforcement has its own); a refusal of enforcement needs the reason in the note."""

    result = SelectField(_l("Result"), validators=[DataRequired(message=_l("Choose the result."))])
    note = TextAreaField(_l("Note (optional; the reason, if enforcement is refused)"), filters=[strip],
                         validators=[Optional(), Length(max=2000), no_control_chars])

    def __init__(self, kind: HandoffKind, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.result.choices = [SelectChoice(r.value, RESULT_LABELS[r]) for r in results_for(kind)]


class ComplaintForm(HandoffForm):
    """The claimant's complaint: the court it is addressed to, and addresses for service (optional)."""

    claimant_address = StringField(_l("Your address for service (optional)"), filters=[strip],
                                   validators=[Optional(), Length(max=200), no_control_chars])
    respondent_address = StringField(_l("The other party's address, if you know it (optional)"), filters=[strip],
                                     validators=[Optional(), Length(max=200), no_control_chars])
