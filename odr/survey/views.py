"""The survey page: a party of a case that ended answers once."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from odr.cases.access import get_case_or_404
from odr.survey import operations as ops
from odr.survey.forms import SurveyForm

bp = Blueprint("survey", __name__, url_prefix="/survey")


def _me():
    return current_user._get_current_object()


@bp.app_context_processor
def _helpers():
    return {"survey_open_for": lambda case: ops.may_answer(case, _me())}


@bp.route("/<number>", methods=["GET", "POST"])
@login_required
def answer(number):
    """:raise 404: the user may not see the case. :raise 403: not a party."""
    case = get_case_or_404(number)
    if case.side_of(current_user) is None:
        abort(403)
    if ops.answer_of(case, _me()) is not None:
        return render_template("survey/answer.html", case=case, form=None, done=True)
    if case.is_open:
        raise ops.SurveyError(_("The survey opens when the case has ended."))
    form = SurveyForm()
    if request.method == "POST":
        if form.validate_on_submit():
            neutral = form.neutral.data if case.mediator_id is not None else None
            ops.submit(case, _me(), outcome=form.outcome.data, heard=form.heard.data, neutral=neutral,
                       understood=form.understood.data, ease=form.ease.data,
                       would_use_again=form.again.data == "yes", comment=form.comment.data or "")
            flash(_("Thank you for your answers."), "success")
            return redirect(url_for("cases.show", number=number), code=303)
        return render_template("survey/answer.html", case=case, form=form, done=False), 400
    return render_template("survey/answer.html", case=case, form=form, done=False)
