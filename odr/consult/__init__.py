"""Consultation: live chat with on-duty consultants, and the knowledge base."""


def init_app(app) -> None:
    from odr.cases.todo import register_workplace
    from odr.consult import views

    register_workplace(views.workplace)  # consultants start at their desk

    app.register_blueprint(views.bp)
    if "socketio" in app.extensions:  # commands that do not serve leave Socket.IO unloaded
        from odr.consult import events

        events.namespace.register(app)
