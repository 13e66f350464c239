from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length

from odr.forms import no_control_chars, strip


class CounterVerifyForm(FlaskForm):
    legal_name = StringField(_l("Name as on the ID card"), filters=[strip],
                             validators=[DataRequired(), Length(max=100), no_control_chars])
    id_number = StringField(_l("Resident ID number"), filters=[strip], validators=[DataRequired(), Length(max=40)])
    card_checked = BooleanField(_l("I hold the ID card, and its photo matches the person in front of me."))
