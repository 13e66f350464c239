"""Routes of performance.

Who may do what: everyone who may see the case reads its schedule and the receipts; the paying
side reports an item done with a receipt; the receiving side confirms or disputes it.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from odr import uploads
from odr.cases.access import get_case_or_404
from odr.cases.performance import Alert, ItemStatus, PerformanceItem, local_today, schedule_of
from odr.extensions import db
from odr.perform import operations as ops

bp = Blueprint("perform", __name__, url_prefix="/perform")

ITEM_STATUS = {
    ItemStatus.pending: _l("To do"),
    ItemStatus.reported: _l("Reported done: waiting for confirmation"),
    ItemStatus.confirmed: _l("Confirmed"),
    ItemStatus.disputed: _l("Disputed"),
}
ALERT = {Alert.ok: _l("On time"), Alert.yellow: _l("Late"), Alert.red: _l("Seriously late")}
SIDE = {"claimant": _l("Claimant"), "respondent": _l("Respondent")}


def _me():
    return current_user._get_current_object()


@bp.app_context_processor
def _helpers():
    """What the case page needs to link here."""
    return {"performance_link": lambda case: not case.is_open and schedule_of(case) is not None}


def _load(number, iid: int | None = None):
    """The case, its schedule and (given ``iid``) the item.

    :raise 404: the user may not see the case, it has no schedule, or the item is not its own.
    """
    case = get_case_or_404(number)
    schedule = schedule_of(case)
    if schedule is None:
        abort(404)
    if iid is None:
        return case, schedule, None
    item = db.session.get(PerformanceItem, iid)
    if item is None or item.schedule_id != schedule.id:
        abort(404)
    return case, schedule, item


def _party(case):
    """:raise 403: the user sees the case but is not one of its parties."""
    if case.side_of(current_user) is None:
        abort(403)


def _page(case, schedule, error=None, error_item=None, status=200):
    me = _me()
    return render_template("perform/show.html", case=case, schedule=schedule, error=error, error_item=error_item,
                           item_status=ITEM_STATUS, alert_label=ALERT, side_label=SIDE, today=local_today(),
                           may_report=lambda i: ops.may_report(i, case, me),
                           may_answer=lambda i: ops.may_answer(i, case, me)), status


@bp.get("/<number>")
@login_required
def show(number):
    case, schedule, _item = _load(number)
    return _page(case, schedule)


@bp.post("/<number>/items/<int:iid>/done")
@login_required
def done(number, iid):
    case, schedule, item = _load(number, iid)
    _party(case)
    upload = request.files.get("receipt")
    try:
        ops.report_done(item, case, _me(), upload.stream if upload and upload.filename else None,
                        upload.filename if upload else None)
    except (ops.InvalidStep, uploads.UploadError) as exc:
        return _page(case, schedule, error=exc.reason, error_item=item.id, status=422)
    flash(_("Your report was sent to the other party."), "success")
    return redirect(url_for("perform.show", number=number), code=303)


@bp.post("/<number>/items/<int:iid>/confirm")
@login_required
def confirm(number, iid):
    case, _schedule, item = _load(number, iid)
    _party(case)
    ops.confirm(item, case, _me())
    flash(_("Confirmed."), "success")
    return redirect(url_for("perform.show", number=number), code=303)


@bp.post("/<number>/items/<int:iid>/dispute")
@login_required
def dispute(number, iid):
    case, schedule, item = _load(number, iid)
    _party(case)
    try:
        ops.dispute(item, case, _me(), request.form.get("reason", "")[:ops.MAX_REASON_CHARS + 1])
    except ops.InvalidStep as exc:
        return _page(case, schedule, error=exc.reason, error_item=item.id, status=422)
    flash(_("The other party was told what is wrong."), "success")
    return redirect(url_for("perform.show", number=number), code=303)


@bp.get("/<number>/items/<int:iid>/receipt")
@login_required
def receipt(number, iid):
    _case, _schedule, item = _load(number, iid)
    if item.receipt_sha256 is None:
        abort(404)
    return uploads.send_stored(item.receipt_sha256, item.receipt_mimetype, item.receipt_filename)
