"""Mediation: organisations and mediators, assignment, sessions, the case room, proposals,
the agreement or the record of undisputed facts."""


def init_app(app) -> None:
    """The mediation pages, its audit actions, its periodic jobs, and what a sealed agreement does."""
    from odr import jobs
    from odr.cases import figures
    from odr.cases.labels import register_actions
    from odr.cases.rooms import Purpose, register_purpose
    from odr.documents.case_file import provide
    from odr.documents.operations import register_kind
    from odr.cases import todo as todo_list
    from odr.mediate import models, todo, views
    from odr.mediate.assignment import operations as assignment
    from odr.mediate.assignment import views as assignment_views
    from odr.mediate.outcomes import confirmation, signing
    from odr.mediate.outcomes import operations as outcomes
    from odr.mediate.outcomes import views as outcome_views
    from odr.mediate.room import views as room_views
    from odr.mediate.sessions import figures as session_figures
    from odr.mediate.sessions import operations as sessions
    from odr.mediate.sessions import views as session_views

    for module in (sessions, assignment, outcomes):
        register_actions(module.ACTIONS)
    jobs.register(sessions.send_session_reminders)
    jobs.register(sessions.record_video_no_shows)
    figures.register(session_figures.provide)  # no-shows by organisation on the center's dashboard
    jobs.register(assignment.escalate_overdue)
    register_kind(signing.KINDS[models.OutcomeKind.agreement], signing.agreement_sealed)  # settles the case
    register_kind(signing.KINDS[models.OutcomeKind.undisputed_facts], None)
    # What the court's documents quote from the mediation.
    provide("judicial_confirmation", confirmation.render_judicial_confirmation)
    provide("undisputed_facts", outcomes.approved_undisputed_facts)
    register_purpose(Purpose("mediation", sessions.mediation_role))
    todo_list.register_source(todo.steps)  # pick times, join the video, answer proposals, approve
    todo_list.register_workplace(todo.workplace)  # who is who in a session's video room
    # The parts' routes join the stage's blueprint before it is registered.
    for part in (assignment_views, session_views, room_views, outcome_views):
        assert part.bp is views.bp
    app.register_blueprint(views.bp)
