"""The case file: cases, parties, organisations, the audit trail, the workflow, intake."""


def init_app(app) -> None:
    """The case file's tables, the append-only audit trail, the case and staff pages."""
    from odr.auth.sessions import keep_at_sign_in
    from odr.cases import audit, evidence, models, staff, todo, transfers, views  # noqa: F401  (the tables)

    keep_at_sign_in(todo.OPENED_INVITATIONS)  # an invitation opened before signing up stays on the list

    audit.install_append_only_guard()
    app.register_blueprint(views.bp)
    app.register_blueprint(staff.bp)
