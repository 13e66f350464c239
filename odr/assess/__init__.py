"""Assessment: a structured look at the dispute and the paths that fit."""


def init_app(app) -> None:
    from odr.assess import views

    app.register_blueprint(views.bp)
