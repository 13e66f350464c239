"""Consultation: queue and live chat with consultants, the consultant's desk, the knowledge base."""

from __future__ import annotations

from functools import partial, wraps

import sqlalchemy as sa
from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from odr import transaction, uploads
from odr.auth.models import Role
from odr.cases.forms import DisputeForm
from odr.cases.models import Category, Stage
from odr.cases.stages import stage_blueprint
from odr.cases.views import dispute_details, party_details
from odr.consult import kb
from odr.consult import operations as ops
from odr.consult.forms import ArticleForm, RateForm, StartForm
from odr.consult.models import Article, ConsultAttachment, Consultation, ConsultationStatus
from odr.errors import error_page, problem
from odr.extensions import db

bp = stage_blueprint("consult", Stage.consultation, "/consult")

STATUS = {"waiting": _l("Waiting"), "active": _l("In progress"), "ended": _l("Ended")}


@bp.context_processor
def _labels():
    return {"consult_status": STATUS}


def lang() -> str:
    return str(get_locale() or "zh")


def get_consultation_or_404(cid: int, need: str = "view") -> Consultation:
    """The consultation, if the current user may ``need`` it.

    :raise 404: no such consultation, or not the user's to see.
    :raise 403: visible but the user may not do this.
    """
    consultation = db.session.get(Consultation, cid)
    if consultation is None or not consultation.can_view(current_user):
        abort(404)
    if need == "participate" and not consultation.is_participant(current_user):
        abort(403)
    return consultation


def consultant_required(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.has_role(Role.consultant):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


@bp.route("/", methods=["GET", "POST"])
@login_required
def start():
    from odr.consult.events import broadcast_queue  # Socket.IO comes with the server (odr.extensions)

    form = StartForm()
    if form.validate_on_submit():
        try:
            consultation = ops.start(current_user, form.topic.data, Category(form.category.data))
        except ops.ConsultError as exc:
            db.session.rollback()
            form.topic.errors.append(exc.reason)
        else:
            transaction.after_commit(broadcast_queue, once=True)
            return redirect(url_for("consult.chat", cid=consultation.id), code=303)
    mine = db.session.scalars(sa.select(Consultation).where(Consultation.user_id == current_user.id)
                              .order_by(Consultation.id.desc()).limit(20)).all()
    return render_template("consult/start.html", form=form, mine=mine), 400 if form.errors else 200


@bp.get("/c/<int:cid>")
@login_required
def chat(cid):
    consultation = get_consultation_or_404(cid, need="participate")
    place = ops.queue_place(consultation)
    suggested = kb.suggestions(consultation.category, consultation.topic, lang()) \
        if consultation.status is ConsultationStatus.waiting else []
    return render_template("consult/chat.html", c=consultation, place=place, suggested=suggested,
                           rate_form=RateForm(), max_chars=current_app.config["CONSULT_MESSAGE_MAX_CHARS"])


@bp.post("/c/<int:cid>/end")
@login_required
def end(cid):
    from odr.consult.events import broadcast_queue, broadcast_status

    consultation = get_consultation_or_404(cid, need="participate")
    was_waiting = consultation.status is ConsultationStatus.waiting
    ops.end(consultation, current_user)
    transaction.after_commit(partial(broadcast_status, consultation))
    if was_waiting:
        transaction.after_commit(broadcast_queue, once=True)
    return redirect(url_for("consult.chat", cid=cid), code=303)


@bp.post("/c/<int:cid>/rate")
@login_required
def rate(cid):
    consultation = get_consultation_or_404(cid, need="participate")
    form = RateForm()
    if not form.validate_on_submit():
        return render_template("consult/chat.html", c=consultation, place=None, suggested=[], rate_form=form,
                               max_chars=0), 400
    ops.rate(consultation, current_user, form.stars.data, form.comment.data or None)
    flash(_("Thank you for your rating."), "success")
    return redirect(url_for("consult.chat", cid=cid), code=303)


@bp.post("/c/<int:cid>/attachments")
@login_required
def upload(cid):
    """Attach a photo or PDF; answers JSON for the chat page's script."""
    consultation = get_consultation_or_404(cid, need="participate")
    limit = current_app.config["CONSULT_ATTACHMENT_MAX_BYTES"]
    request.max_content_length = limit + 64 * 1024
    file = request.files.get("file")
    if file is None:
        return problem(400, _("Choose a file to send."))
    try:
        attachment = ops.attach(consultation, current_user, file.stream, file.filename)
    except ops.ConsultError as exc:
        db.session.rollback()
        return problem(422, str(exc.reason))
    return jsonify(attachment.to_json()), 201


@bp.errorhandler(413)
def _too_large(exc):
    if request.endpoint == "consult.upload":  # the chat page's script reads JSON
        limit = current_app.config["CONSULT_ATTACHMENT_MAX_BYTES"] // (1024 * 1024)
        return problem(413, _("The file is larger than %(mb)s MB.", mb=limit))
    return error_page(413)


@bp.get("/c/<int:cid>/attachments/<int:aid>")
@login_required
def attachment(cid, aid):
    consultation = get_consultation_or_404(cid, need="participate")
    att = db.session.get(ConsultAttachment, aid)
    if att is None or att.consultation_id != consultation.id:
        abort(404)
    return uploads.send_stored(att.sha256, att.mimetype, att.filename,
                               as_attachment=att.mimetype == "application/pdf", private=False)


@bp.route("/c/<int:cid>/case", methods=["GET", "POST"])
@login_required
def to_case(cid):
    """One tap from a consultation to a filed case, the form pre-filled from the conversation."""
    consultation = get_consultation_or_404(cid, need="participate")
    if consultation.user_id != current_user.id:
        abort(403)
    if consultation.case_id is not None:
        return redirect(url_for("cases.show", number=consultation.case.number), code=303)
    form = DisputeForm(data=ops.draft_from(consultation)) if request.method == "GET" else DisputeForm()
    if form.validate_on_submit():
        case = ops.file_case_from(consultation, current_user, dispute_details(form),
                                  party_details(form, "respondent"))
        flash(_("Your case %(number)s is filed. Next: a short assessment of your options.", number=case.number),
              "success")
        return redirect(url_for("assess.questionnaire", number=case.number), code=303)
    return render_template("cases/new.html", form=form, consultation=consultation), 400 if form.errors else 200


# --- the consultant's desk -----------------------------------------------------
@bp.get("/desk")
@consultant_required
def desk():
    active = db.session.scalars(sa.select(Consultation).where(
        Consultation.consultant_id == current_user.id, Consultation.status == ConsultationStatus.active)
        .order_by(Consultation.taken_at)).all()
    return render_template("consult/desk.html", on_duty=ops.is_on_duty(current_user), queue=ops.waiting_queue(50),
                           active=active)


@bp.post("/desk/duty")
@consultant_required
def duty():
    from odr.consult.events import broadcast_queue

    ops.set_duty(current_user, request.form.get("on_duty") == "1")
    transaction.after_commit(broadcast_queue, once=True)
    return redirect(url_for("consult.desk"), code=303)


@bp.post("/desk/take")
@consultant_required
def take_next():
    from odr.consult.events import broadcast_queue, broadcast_status

    consultation = ops.take_next(current_user)
    if consultation is None:
        db.session.rollback()
        flash(_("Nobody is waiting."), "info")
        return redirect(url_for("consult.desk"), code=303)
    transaction.after_commit(partial(broadcast_status, consultation))
    transaction.after_commit(broadcast_queue, once=True)
    return redirect(url_for("consult.chat", cid=consultation.id), code=303)


# --- knowledge base --------------------------------------------------------------
@bp.get("/kb")
def kb_search():
    q = request.args.get("q", "")[:100]
    hits = kb.search(q, lang()) if q.strip() else []
    latest = [] if q.strip() else db.session.scalars(
        sa.select(Article).where(Article.lang == lang()).order_by(Article.category, Article.title)).all()
    return render_template("consult/kb_search.html", q=q, hits=hits, latest=latest)


def _article_or_404(slug):
    article = db.session.scalar(sa.select(Article).where(Article.slug == slug[:80], Article.lang == lang()))
    if article is None:
        article = db.session.scalar(sa.select(Article).where(Article.slug == slug[:80]).order_by(Article.lang)
                                    .limit(1))
    if article is None:
        abort(404)
    return article


@bp.get("/kb/<slug>")
def kb_article(slug):
    article = _article_or_404(slug)
    return render_template("consult/kb_article.html", article=article, html=kb.render(article.body))


@bp.route("/kb/<slug>/edit", methods=["GET", "POST"])
@admin_required
def kb_edit(slug):
    article = _article_or_404(slug)
    form = ArticleForm(obj=article) if request.method == "GET" else ArticleForm()
    if request.method == "GET":
        form.category.data = article.category.value
    if form.validate_on_submit():
        article.title, article.tags, article.body = form.title.data, form.tags.data or "", form.body.data
        article.category = Category(form.category.data)
        article.updated_by_id = current_user.id
        flash(_("Article saved."), "success")
        return redirect(url_for("consult.kb_article", slug=article.slug), code=303)
    return render_template("consult/kb_edit.html", form=form, article=article), 400 if form.errors else 200


def workplace(user):
    """Consultants start at their desk (``odr.cases.todo``)."""
    from odr.cases.todo import Workplace

    if user.has_role(Role.consultant):
        return [Workplace("consultant_desk", _("Consultation desk"), url_for("consult.desk"))]
    return []
