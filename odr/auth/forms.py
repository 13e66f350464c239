from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from odr.forms import ContactValidator, no_control_chars, strip

CONTACT = _l("Phone number or e-mail")


class SignupForm(FlaskForm):
    contact = StringField(CONTACT, filters=[strip], validators=[DataRequired(), Length(max=254), ContactValidator()])
    name = StringField(_l("Your name"), filters=[strip],
                       validators=[DataRequired(), Length(max=100), no_control_chars])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(), Length(min=8, max=128, message=_l("Use 8 to 128 characters."))])
    confirm = PasswordField(_l("Password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])
    next = HiddenField()


class LoginForm(FlaskForm):
    contact = StringField(CONTACT, filters=[strip], validators=[DataRequired(), Length(max=254), ContactValidator()])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    next = HiddenField()


class CodeRequestForm(FlaskForm):
    contact = StringField(CONTACT, filters=[strip], validators=[DataRequired(), Length(max=254), ContactValidator()])
    next = HiddenField()


class CodeVerifyForm(FlaskForm):
    contact = HiddenField(validators=[DataRequired(), Length(max=254), ContactValidator()])
    code = StringField(_l("6-digit code"), filters=[strip], validators=[
        DataRequired(), Regexp(r"^\d{6}$", message=_l("The code has 6 digits."))])
    name = StringField(_l("Your name (only for a new account)"), filters=[strip],
                       validators=[Optional(), Length(max=100), no_control_chars])
    next = HiddenField()


class EndSessionsForm(FlaskForm):
    """Sign out of all devices: nothing to fill in but the CSRF token."""


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=128)])
    password = PasswordField(_l("New password"), validators=[
        DataRequired(), Length(min=8, max=128, message=_l("Use 8 to 128 characters."))])
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])
