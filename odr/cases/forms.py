from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from odr.cases import labels
from odr.cases.models import Category
from odr.forms import AmountField, ContactValidator, no_control_chars, strip


def _name(label):
    return StringField(label, filters=[strip], validators=[DataRequired(), Length(max=100), no_control_chars])


def _phone(label):
    return StringField(label, filters=[strip], validators=[Optional(), Length(max=32), ContactValidator("phone")])


def _email(label):
    return StringField(label, filters=[strip], validators=[Optional(), Length(max=254), ContactValidator("email")])


def _needs_contact(form, prefix, message):
    if not getattr(form, f"{prefix}_phone").data and not getattr(form, f"{prefix}_email").data:
        getattr(form, f"{prefix}_phone").errors.append(message)
        return False
    return True


class DisputeForm(FlaskForm):
    """The short form a party fills in on a phone to file a dispute."""

    category = SelectField(_l("What is it about?"), choices=[SelectChoice(c.value, labels.CATEGORY[c]) for c in Category],
                           validators=[DataRequired()])
    description = TextAreaField(_l("What happened?"), filters=[strip], validators=[
        DataRequired(), Length(min=10, max=4000, message=_l("Write 10 to 4000 characters.")), no_control_chars])
    claim = TextAreaField(_l("What do you want?"), filters=[strip], validators=[
        DataRequired(), Length(max=2000), no_control_chars])
    amount_claimed = AmountField(_l("Amount claimed in yuan (optional)"), validators=[Optional()])
    district = SelectField(_l("District"), validators=[DataRequired()])
    respondent_name = _name(_l("The other party's name"))
    respondent_phone = _phone(_l("The other party's phone"))
    respondent_email = _email(_l("The other party's e-mail"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.district.choices = [SelectChoice(d, labels.district(d)) for d in current_app.config["DISTRICTS"]]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        return _needs_contact(self, "respondent", _l("Give the other party's phone or e-mail.")) and ok


class CounterForm(DisputeForm):
    """Staff enter a case for a visitor at the counter."""

    claimant_name = _name(_l("Visitor's name"))
    claimant_phone = _phone(_l("Visitor's phone"))
    claimant_email = _email(_l("Visitor's e-mail"))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        return _needs_contact(self, "claimant", _l("Give the visitor's phone or e-mail.")) and ok


class TransferForm(CounterForm):
    """A case sent by an outside system through the intake API (JSON, no CSRF)."""

    class Meta:
        csrf = False

    reference = StringField(filters=[strip], validators=[
        DataRequired(), Length(max=64),
        Regexp(r"^[A-Za-z0-9._:\-]+$", message=_l("Use letters, digits and . _ : - only."))])


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Why do you decline?"), filters=[strip], validators=[
        DataRequired(), Length(max=1000), no_control_chars])


class MoveForm(FlaskForm):
    to = StringField(validators=[DataRequired(), Length(max=32)])
    reason = TextAreaField(_l("Note (optional)"), filters=[strip], validators=[Optional(), Length(max=1000),
                                                                              no_control_chars])


class RouteForm(FlaskForm):
    organization = SelectField(_l("Organisation"), coerce=int, validators=[DataRequired()])


class AppointForm(FlaskForm):
    """A party names an agent (with the power of attorney as a file, read by the view) or a helper."""

    kind = SelectField(_l("Who"), choices=[
        SelectChoice("helper", _l("A helper (e.g. a family member) acting with my consent")),
        SelectChoice("agent", _l("An agent (e.g. a lawyer) with my power of attorney")),
    ], validators=[DataRequired()])
    name = _name(_l("Their name"))
    phone = _phone(_l("Their phone"))
    email = _email(_l("Their e-mail"))
    scope = SelectField(_l("What they may do"), choices=[
        SelectChoice("read", _l("Read only")),
        SelectChoice("act", _l("Act for me (messages, uploads, answers, session times)")),
        SelectChoice("sign", _l("Act and sign for me (agents only, when the power of attorney says so)")),
    ], validators=[DataRequired()])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if ok and not self.phone.data and not self.email.data:
            self.phone.errors.append(_l("Give their phone number or e-mail address."))
            return False
        if ok and self.kind.data == "helper" and self.scope.data == "sign":
            self.scope.errors.append(_l("A helper never signs for you. Choose read only or act."))
            return False
        return ok


class ReviewForm(FlaskForm):
    """The staff's or mediator's answer to a power of attorney."""

    decision = SelectField(_l("Decision"), choices=[SelectChoice("accept", _l("Accept")),
                                                    SelectChoice("refuse", _l("Refuse"))],
                           validators=[DataRequired()])
    reason = TextAreaField(_l("Reason (needed to refuse)"), filters=[strip],
                           validators=[Optional(), Length(max=1000), no_control_chars])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if ok and self.decision.data == "refuse" and not self.reason.data:
            self.reason.errors.append(_l("Say why the power of attorney is refused."))
            return False
        return ok


class ConfirmForm(FlaskForm):
    """A button (revoke, accept, decline): the CSRF token only."""
