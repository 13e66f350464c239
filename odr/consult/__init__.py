"""Consultation: live chat with on-duty consultants, and the knowledge base."""


def init_app(app) -> None:
    from odr.cases.todo import register_workplace
    from odr.consult import models, views  # noqa: F401  (models: the tables)

    register_workplace(views.workplace)  # consultants start at their desk

    app.register_blueprint(views.bp)
