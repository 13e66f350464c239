"""Accounts, roles and sign-in."""


def init_app(app) -> None:
    """Accounts' tables and the sign-in pages."""
    from odr.auth import models  # noqa: F401  (the tables)
    from odr.auth import views

    app.register_blueprint(views.bp)
