"""Forms of the field pages: duty, the steps on the phone, the command room, grids."""

from __future__ import annotations

import math

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from odr.forms import ContactValidator, IntegerField, no_control_chars, strip


class DutyForm(FlaskForm):
    on_duty = StringField(validators=[InputRequired(), AnyOf(["1", "0"])])


class StepForm(FlaskForm):
    """Accept or note the first contact; nothing to fill in."""


class ContactForm(FlaskForm):
    how = SelectField(choices=[SelectChoice("call", _l("Phone call")), SelectChoice("message", _l("Message"))],
                      validators=[InputRequired()])


def _finite(form, field):
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError(_l("Not a number."))


class SceneForm(FlaskForm):
    """On the scene; the location is the phone's when the person allowed it."""

    lat = FloatField(validators=[Optional(), _finite, NumberRange(min=-90, max=90)])
    lng = FloatField(validators=[Optional(), _finite, NumberRange(min=-180, max=180)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if ok and (self.lat.data is None) != (self.lng.data is None):
            self.lng.errors = [*self.lng.errors, _l("Give both the latitude and the longitude, or neither.")]
            return False
        return ok


class AssignForm(FlaskForm):
    worker = IntegerField(_l("Worker"), validators=[DataRequired(), NumberRange(min=1, max=2**31 - 1)])


class GridForm(FlaskForm):
    name = StringField(_l("Name of the grid"), filters=[strip], validators=[DataRequired(), Length(max=100),
                                                                          no_control_chars])
    organization = SelectField(_l("Organisation responsible"), coerce=int, validators=[DataRequired()])
    places = TextAreaField(_l("Named places, one a line"), filters=[strip],
                           validators=[Optional(), Length(max=5000), no_control_chars])
    polygon = TextAreaField(_l("Area: one corner a line, as latitude, longitude"), filters=[strip],
                            validators=[Optional(), Length(max=10000), no_control_chars])

    def corners(self) -> list[list[float]]:
        out = []
        for line in (self.polygon.data or "").splitlines():
            if not line.strip():
                continue
            parts = line.replace("，", ",").split(",")
            try:
                lat, lng = (float(p) for p in parts)
            except ValueError:
                raise ValidationError(_l("Each corner is a latitude and a longitude, separated by a comma."))
            out.append([lat, lng])
        return out

    def validate_polygon(self, field):
        self.corners()


class WorkerForm(FlaskForm):
    contact = StringField(_l("Phone or e-mail of the worker's account"), filters=[strip],
                          validators=[DataRequired(), Length(max=254), ContactValidator()])


class ReferForm(FlaskForm):
    """The on-site record of a dispute referred to online mediation."""

    present = TextAreaField(_l("Who is there (identity checked in person by you)"), filters=[strip],
                            validators=[DataRequired(), Length(max=1000), no_control_chars])
    facts = TextAreaField(_l("What happened"), filters=[strip],
                          validators=[DataRequired(), Length(max=4000), no_control_chars])


class AgreementForm(FlaskForm):
    """The on-site record of a dispute settled on the spot: who is there (identity checked in person
    by the worker), what happened and what the parties agree."""

    present = SelectMultipleField(_l("Who is there (identity checked in person by you)"), coerce=int,
                                  validators=[DataRequired(_l("Choose the parties who are there."))])
    facts = TextAreaField(_l("What happened"), filters=[strip],
                          validators=[DataRequired(), Length(max=4000), no_control_chars])
    terms = TextAreaField(_l("What the parties agree"), filters=[strip],
                          validators=[DataRequired(), Length(max=4000), no_control_chars])
