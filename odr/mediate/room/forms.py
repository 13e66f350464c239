"""Forms of the case room: a message, and the details sent with a piece of evidence."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from odr.forms import no_control_chars, strip
from odr.mediate.models import RoomChannel
from odr.cases.evidence import DESCRIPTION_MAX_CHARS, Visibility
from odr.mediate.room.operations import MESSAGE_MAX_CHARS

THREAD_LABELS = {
    RoomChannel.joint: _l("Everyone"),
    RoomChannel.claimant: _l("Claimant and mediator (private)"),
    RoomChannel.respondent: _l("Respondent and mediator (private)"),
}

VISIBILITY_LABELS = {
    Visibility.all: _l("All parties and the mediator"),
    Visibility.mediator: _l("Only the mediator (and you)"),
}


class MessageForm(FlaskForm):
    thread = SelectField(_l("Thread"), choices=[SelectChoice(t.value, THREAD_LABELS[t]) for t in RoomChannel],
                         validators=[DataRequired()])
    body = TextAreaField(_l("Message"), filters=[strip],
                         validators=[DataRequired(_l("Write a message first.")), Length(max=MESSAGE_MAX_CHARS),
                                     no_control_chars])


class EvidenceForm(FlaskForm):
    """The details of an upload; the file itself is read from the request by the view."""

    visibility = RadioField(_l("Who may see it"),
                            choices=[SelectChoice(v.value, VISIBILITY_LABELS[v]) for v in Visibility],
                            default=Visibility.all.value,
                            validators=[DataRequired(_l("Choose who may see the file."))])
    description = TextAreaField(_l("What it shows (optional)"), filters=[strip],
                                validators=[Optional(), Length(max=DESCRIPTION_MAX_CHARS), no_control_chars])
