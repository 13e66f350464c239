"""The intake API: transfers from outside systems (hotline, police dispatch, grid workers)."""


def init_app(app) -> None:
    from odr.api import intake
    from odr.extensions import csrf

    app.register_blueprint(intake.bp)
    csrf.exempt(intake.bp)  # bearer tokens, not cookies
