"""Forms of the directory, the roster, offers and change requests."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from odr.cases import labels
from odr.cases.models import Category
from odr.forms import ContactValidator, IntegerField, no_control_chars, strip
from odr.validation import DatabaseId

LANGUAGES = [SelectChoice("zh", "中文"), SelectChoice("en", "English")]


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RosterAddForm(FlaskForm):
    contact = StringField(_l("Mobile number or e-mail"), filters=[strip],
                          validators=[DataRequired(), ContactValidator("any")])
    name = StringField(_l("Name"), filters=[strip], validators=[DataRequired(), Length(max=100), no_control_chars])


class ProfileForm(FlaskForm):
    specialties = CheckboxList(_l("Kinds of dispute"),
                               choices=[SelectChoice(c.value, labels.CATEGORY[c]) for c in Category])
    languages = CheckboxList(_l("Languages"), choices=LANGUAGES)
    bio = TextAreaField(_l("Introduction"), filters=[strip], validators=[Optional(), Length(max=1000), no_control_chars])
    capacity = IntegerField(_l("Open cases at most"), validators=[DataRequired(), NumberRange(min=1, max=200)])
    accepting = BooleanField(_l("Takes new cases"))


class OfferForm(FlaskForm):
    mediator = IntegerField(validators=[DataRequired(), DatabaseId()])


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Why you decline"), filters=[strip],
                           validators=[DataRequired(), Length(max=1000), no_control_chars])


class ChangeForm(FlaskForm):
    reason = TextAreaField(_l("Why you want another mediator"), filters=[strip],
                           validators=[DataRequired(), Length(max=1000), no_control_chars])


class MediatorRateForm(FlaskForm):
    stars = SelectField(_l("Rating"), choices=[SelectChoice(str(n), "★" * n) for n in range(5, 0, -1)],
                        validators=[DataRequired()])
    comment = TextAreaField(_l("Comment (optional)"), filters=[strip],
                            validators=[Optional(), Length(max=1000), no_control_chars])
