"""Assessment: a structured look at the dispute and the paths that fit."""


def init_app(app) -> None:
    from odr.assess import todo, views
    from odr.cases.todo import register_source

    register_source(todo.steps)  # answer the questions, choose a path

    app.register_blueprint(views.bp)
