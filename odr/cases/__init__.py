"""The case file: cases, parties, organisations, the audit trail, the workflow, intake."""


def init_app(app) -> None:
    """The case file's tables, the append-only audit trail, the case and staff pages."""
    from odr import jobs
    from odr.auth import recorder
    from odr.auth.sessions import keep_at_sign_in
    from odr.cases import audit, callbacks, performance, representation_views, staff, todo, views
    from odr.cases.service import operations as service, todo as service_todo, views as service_views

    from odr.cases.labels import register_actions

    keep_at_sign_in(todo.OPENED_INVITATIONS)  # an invitation opened before signing up stays on the list

    register_actions(performance.ACTIONS)
    register_actions(service.ACTIONS)
    todo.register_source(service_todo.steps)  # confirm addresses; the silent respondent; failed deliveries
    jobs.register(service.send_service_reminders)
    audit.install_append_only_guard()
    recorder.set_recorder(audit.record)  # account events join the platform's audit trail
    jobs.register(callbacks.deliver_callbacks)  # transfers' status changes to their senders
    app.register_blueprint(views.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(representation_views.bp)
    app.before_request(representation_views.refuse_read_only)
    app.register_blueprint(service_views.bp)
    if "socketio" in app.extensions:  # commands that do not serve leave Socket.IO unloaded
        from odr.cases import live

        live.namespace.register(app)  # a case's open pages hear when the other side answered
        live.follow_access_changes()  # … and stop hearing once their person may no longer see it
