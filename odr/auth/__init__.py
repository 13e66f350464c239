"""Accounts, roles and sign-in."""


def init_app(app) -> None:
    """The sign-in pages (the account tables come with the views that use them)."""
    from odr.auth import views

    app.register_blueprint(views.bp)
