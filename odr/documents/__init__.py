"""Documents of a case as PDF/A: rendered from ``templates/documents/`` with a bundled CJK font;
signed in the browser, sealed and verified (PAdES)."""


def init_app(app) -> None:
    """Signed documents' tables, the signing and verification pages."""
    from odr.cases.todo import register_source
    from odr.documents import proof_of_service, todo, views
    from odr.documents.case_file import register_contribution

    register_source(todo.steps)  # documents waiting for the person's signature
    register_contribution(proof_of_service.bundle_files)  # the proof of service (送达回证) in every bundle

    app.register_blueprint(views.bp)
