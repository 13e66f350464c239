"""Documents of a case as PDF/A: rendered from ``templates/documents/`` with a bundled CJK font;
signed in the browser, sealed and verified (PAdES)."""


def init_app(app) -> None:
    """Signed documents' tables, the signing and verification pages."""
    from flask_babel import lazy_gettext as _l

    from odr.cases.labels import register_actions
    from odr.cases.todo import register_source
    from odr.documents import todo, views

    register_source(todo.steps)  # documents waiting for the person's signature
    register_actions({
        "document_put_up_for_signing": _l("Document put up for signing"),
        "document_superseded": _l("Document replaced by a new version"),
        "signing_code_sent": _l("Signing code sent"),
        "signing_certificate_issued": _l("Signing certificate issued"),
        "document_signed": _l("Document signed"),
        "document_sealed": _l("Document sealed by the platform"),
    })

    app.register_blueprint(views.bp)
