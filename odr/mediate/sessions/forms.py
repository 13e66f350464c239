"""Forms of mediation sessions: proposing times, picking them, recording attendance."""

from __future__ import annotations


from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from odr.forms import IntegerField, no_control_chars, strip
from odr.mediate.models import SessionMode
from odr.mediate.sessions.operations import MAX_MINUTES, MAX_SLOTS, MIN_MINUTES
from odr.timeutil import parse_local

MODES = [SelectChoice(SessionMode.video.value, _l("By video")),
         SelectChoice(SessionMode.in_person.value, _l("In person"))]


class LocalTimesField(Field):
    """Every value sent under the field's name (``<input type=datetime-local>``, blanks skipped),
    as naive wall-clock times of the display time zone."""

    def process_data(self, value):
        self.data = list(value or [])

    def process_formdata(self, valuelist):
        self.data = []
        for raw in (v.strip() for v in valuelist):
            if not raw:
                continue
            parsed = parse_local(raw)
            if parsed is None:
                raise ValueError(_l("Enter each time as a date and time, such as 2026-12-01 14:30."))
            self.data.append(parsed)

    def inputs(self) -> list[str]:
        """The values to show again in the form's inputs, one per offered time."""
        given = [v.strip() for v in (self.raw_data or []) if v.strip()][:MAX_SLOTS]
        return given + [""] * (MAX_SLOTS - len(given))


class ProposeForm(FlaskForm):
    mode = RadioField(_l("How the session takes place"), choices=MODES, default=SessionMode.video.value,
                      validators=[InputRequired()])
    location = StringField(_l("Address (for an in-person session)"), filters=[strip],
                           validators=[Optional(), Length(max=300), no_control_chars])
    minutes = IntegerField(_l("Length in minutes"), default=60,
                           validators=[InputRequired(), NumberRange(min=MIN_MINUTES, max=MAX_MINUTES)])
    slots = LocalTimesField(_l("Times you can offer (2 to 5)"))


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PickForm(FlaskForm):
    """Choices are the session's slot ids, set by the view; ticking none means none suits."""

    slots = CheckboxList(_l("Times you can make"), coerce=int, validate_choice=True)


class CancelForm(FlaskForm):
    """Nothing to fill in; the form carries the CSRF token."""


def attendance_form(parties, formdata=None):
    """A came / no-show choice for every joined party (``parties``: their accounts)."""

    class AttendanceForm(FlaskForm):
        pass

    for user in parties:
        setattr(AttendanceForm, f"p{user.id}", RadioField(
            user.name, choices=[SelectChoice("present", _l("Came")),
                                SelectChoice("absent", _l("Did not come (no-show)"))],
            validators=[InputRequired(message=_l("Say whether this party came."))]))
    form = AttendanceForm(formdata=formdata)
    form.party_fields = [(user, form[f"p{user.id}"]) for user in parties]
    return form
