"""The questionnaire form, built from the questions in ``data/questions.yaml``."""

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional

from odr.assess import rules
from odr.forms import IntegerField


def _text(texts: dict) -> str:
    lang = str(get_locale() or "zh")
    return texts.get(lang) or texts.get("zh") or next(iter(texts.values()))


def questionnaire_form(category, formdata=None):
    """A form class with one field per question for this category, and an instance of it."""

    class QuestionnaireForm(FlaskForm):
        pass

    for q in rules.questions_for(category):
        label = _text(q["text"])
        if q["kind"] == "yesno":
            field = RadioField(label, choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
                               validators=[InputRequired(message=_l("Please answer."))])
        elif q["kind"] == "choice":
            field = RadioField(label, choices=[SelectChoice(o, _text(q["option_text"][o])) for o in q["options"]],
                               validators=[InputRequired(message=_l("Please answer."))])
        elif q["kind"] == "months":
            field = IntegerField(label, validators=[Optional(), NumberRange(min=0, max=1200)])
        else:
            raise ValueError(f"unknown question kind {q['kind']!r}")
        setattr(QuestionnaireForm, q["id"], field)
    return QuestionnaireForm(formdata=formdata) if formdata is not None else QuestionnaireForm()


def answers_of(form, category) -> dict:
    return {q["id"]: form[q["id"]].data for q in rules.questions_for(category)}
