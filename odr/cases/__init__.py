"""The case file: cases, parties, organisations, the audit trail, the workflow, intake."""


def init_app(app) -> None:
    """The case file's tables, the append-only audit trail, the case and staff pages."""
    from odr import jobs
    from odr.auth import recorder
    from odr.auth.sessions import keep_at_sign_in
    from odr.cases import audit, callbacks, performance, representation_views, staff, todo, views

    from odr.cases.labels import register_actions

    keep_at_sign_in(todo.OPENED_INVITATIONS)  # an invitation opened before signing up stays on the list

    register_actions(performance.ACTIONS)
    audit.install_append_only_guard()
    recorder.set_recorder(audit.record)  # account events join the platform's audit trail
    jobs.register(callbacks.deliver_callbacks)  # transfers' status changes to their senders
    app.register_blueprint(views.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(representation_views.bp)
    app.before_request(representation_views.refuse_read_only)
