"""Documents of a case as PDF/A: rendered from ``templates/documents/`` with a bundled CJK font;
signed in the browser, sealed and verified (PAdES)."""


def init_app(app) -> None:
    """Signed documents' tables, the signing and verification pages."""
    from odr.cases.todo import register_source
    from odr.documents import todo, views

    register_source(todo.steps)  # documents waiting for the person's signature

    app.register_blueprint(views.bp)
