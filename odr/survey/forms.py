"""The survey form: five scores from 1 to 5, would use again, an optional comment."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from odr.forms import no_control_chars, strip

SCORES = [SelectChoice(str(n), str(n)) for n in range(1, 6)]


def _score(label, required=True):
    return RadioField(label, choices=SCORES, coerce=int,
                      validators=[InputRequired(message=_l("Choose a score from 1 to 5."))] if required else [Optional()])


class SurveyForm(FlaskForm):
    outcome = _score(_l("How satisfied are you with the outcome?"))
    heard = _score(_l("Were you heard?"))
    neutral = _score(_l("Was the mediator neutral?"), required=False)
    understood = _score(_l("Did you understand each step?"))
    ease = _score(_l("How easy was the platform to use?"))
    again = RadioField(_l("Would you use it again?"), choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
                       validators=[DataRequired(message=_l("Choose yes or no."))])
    comment = TextAreaField(_l("Anything else? (optional)"), filters=[strip],
                            validators=[Optional(), Length(max=2000), no_control_chars])
