"""The assessment stage: questionnaire, advice with reasons and statistics, choice of path."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from odr.assess import operations as ops
from odr.assess.forms import answers_of, questionnaire_form
from odr.assess.models import Assessment
from odr.cases.access import get_case_or_404
from odr.cases.models import Stage
from odr.cases.stages import stage_blueprint
from odr.extensions import db

bp = stage_blueprint("assess", Stage.assessment, "/assess")

PATH_LABELS = {"mediation": _l("Mediation"), "arbitration": _l("Arbitration"), "litigation": _l("Court")}


@bp.context_processor
def _labels():
    return {"path_labels": PATH_LABELS, "latest_assessment": ops.latest, "can_choose": ops.can_choose}


def _party_case(number):
    """The case, if the current user is one of its parties.

    :raise 404: not visible to the user.
    :raise 403: visible, but the user is not a party.
    """
    case = get_case_or_404(number)
    if not case.is_party(current_user):
        abort(403)
    return case


@bp.route("/<number>/questionnaire", methods=["GET", "POST"])
@login_required
def questionnaire(number):
    case = _party_case(number)
    form = questionnaire_form(case.category)
    if form.validate_on_submit():
        try:
            assessment = ops.complete(case, current_user._get_current_object(), answers_of(form, case.category))
        except ops.AssessError as exc:
            db.session.rollback()
            return render_template("assess/questionnaire.html", case=case, form=form, error=exc.reason), 409
        return redirect(url_for("assess.result", number=case.number, aid=assessment.id), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("assess/questionnaire.html", case=case, form=form), status


def _assessment_or_404(case, aid):
    assessment = db.session.get(Assessment, aid)
    if assessment is None or assessment.case_id != case.id:
        abort(404)
    return assessment


@bp.get("/<number>/result/<int:aid>")
@login_required
def result(number, aid):
    case = get_case_or_404(number)
    return render_template("assess/result.html", case=case, a=_assessment_or_404(case, aid))


@bp.post("/<number>/result/<int:aid>/choose")
@login_required
def choose(number, aid):
    case = _party_case(number)
    assessment = _assessment_or_404(case, aid)
    try:
        ops.choose(assessment, current_user._get_current_object(), request.form.get("path", "")[:16])
    except ops.AssessError as exc:
        db.session.rollback()
        return render_template("assess/result.html", case=case, a=assessment, error=exc.reason), 409
    flash(_("Your case moves on to: %(path)s.", path=PATH_LABELS[assessment.chosen_path]), "success")
    return redirect(url_for("cases.show", number=case.number), code=303)
