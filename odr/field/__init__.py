"""Field dispatch: grids and grid workers, transfers sent to the worker on duty where the dispute
is, the worker's phone (accept, reach the party, on the scene) against the 1-3-8 minute targets,
and the command room."""


def init_app(app) -> None:
    """The pages, the live namespace, the arrival hook of transfers, the escalation job."""
    from odr import jobs
    from odr.cases import figures, transfers, workflow
    from odr.cases.labels import register_actions
    from odr.cases.models import register_role_source
    from odr.cases.todo import register_workplace
    from odr.documents.operations import register_kind
    from odr.field import dashboard, onsite, operations, views

    transfers.register_arrival(views.on_arrival)  # a transfer with a place goes out to its grid
    transfers.register_status(operations.sender_status)  # the sender reads the dispatch's times
    register_role_source(operations.case_roles)  # the worker sent to a case may open its file
    register_workplace(views.workplace)
    figures.register(dashboard.provide)  # the 1-3-8 figures on the center's dashboard
    register_actions(views.ACTIONS)
    # The on-site agreement: signed on the worker's phone by the parties present; sealing settles the case.
    register_kind(onsite.KIND, onsite.agreement_sealed, on_site=True)
    workflow.register_guard("onsite_agreement_sealed", onsite.sealed_rule)
    jobs.register(views.escalate_unanswered)  # and tells the command room and the worker live
    app.register_blueprint(views.bp)
    if "socketio" in app.extensions:  # commands that do not serve leave Socket.IO unloaded
        from odr.field import events

        events.namespace.register(app)
