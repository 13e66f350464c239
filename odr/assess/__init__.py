"""Assessment: a structured look at the dispute and the paths that fit."""


def init_app(app) -> None:
    from odr.assess import todo, views
    from flask_babel import lazy_gettext as _l

    from odr.cases.labels import register_actions
    from odr.cases.todo import register_source

    register_actions({"assessment_completed": _l("Assessment answered")})

    register_source(todo.steps)  # answer the questions, choose a path

    app.register_blueprint(views.bp)
