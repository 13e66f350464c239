from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from odr.cases import labels
from odr.cases.models import Category
from odr.forms import IntegerField, no_control_chars, strip


class StartForm(FlaskForm):
    topic = StringField(_l("What is your question about?"), filters=[strip],
                        validators=[DataRequired(), Length(max=200), no_control_chars])
    category = SelectField(_l("Kind of dispute"), choices=[SelectChoice(c.value, labels.CATEGORY[c]) for c in Category],
                           validators=[DataRequired()])


class RateForm(FlaskForm):
    stars = IntegerField(_l("Rating (1–5)"), validators=[DataRequired(), NumberRange(min=1, max=5)])
    comment = TextAreaField(_l("Comment (optional)"), filters=[strip],
                            validators=[Optional(), Length(max=1000), no_control_chars])


class ArticleForm(FlaskForm):
    title = StringField(_l("Title"), filters=[strip], validators=[DataRequired(), Length(max=200), no_control_chars])
    category = SelectField(_l("Kind of dispute"), choices=[SelectChoice(c.value, labels.CATEGORY[c]) for c in Category],
                           validators=[DataRequired()])
    tags = StringField(_l("Keywords (separated by spaces)"), filters=[strip],
                       validators=[Optional(), Length(max=300), no_control_chars])
    body = TextAreaField(_l("Text (Markdown)"), filters=[strip],
                         validators=[DataRequired(), Length(max=20000), no_control_chars])
