"""Consultation: live chat with on-duty consultants, and the knowledge base."""


def init_app(app) -> None:
    from flask_babel import lazy_gettext as _l

    from odr.cases.labels import register_actions
    from odr.cases.todo import register_workplace

    register_actions({"consultation_linked": _l("Consultation linked to the case")})
    from odr.consult import views

    register_workplace(views.workplace)  # consultants start at their desk

    app.register_blueprint(views.bp)
    if "socketio" in app.extensions:  # commands that do not serve leave Socket.IO unloaded
        from odr.consult import events

        events.namespace.register(app)
