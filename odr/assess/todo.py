"""The assessment's steps on a party's to-do list (``odr.cases.todo``): answer the questions, then
choose a path from the advice."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l

from odr.assess import operations as ops
from odr.assess.models import Assessment
from odr.cases.models import Case, Stage
from odr.cases.todo import Todo
from odr.extensions import db


def steps(case: Case, user) -> list[Todo]:
    if case.stage is not Stage.assessment or not case.is_open or not case.is_party(user):
        return []
    mine = db.session.scalar(sa.select(Assessment).where(Assessment.case_id == case.id, Assessment.user_id == user.id)
                             .order_by(Assessment.id.desc()).limit(1))
    if mine is None:
        return [Todo("answer_assessment", str(_l("Answer the assessment questions")),
                     url_for("assess.questionnaire", number=case.number), case=case, due=case.due_at)]
    if ops.can_choose(mine, user):
        return [Todo("choose_path", str(_l("Choose how to go on: mediation, arbitration or court")),
                     url_for("assess.result", number=case.number, aid=mine.id), case=case, due=case.due_at)]
    return []
