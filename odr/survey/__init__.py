"""Satisfaction survey of every case that ended, aggregated per organisation and mediator."""


def init_app(app) -> None:
    """The survey page, its audit action and the job that invites the parties."""
    from odr import jobs
    from odr.cases.labels import register_actions
    from odr.survey import operations, views

    register_actions(operations.ACTIONS)
    jobs.register(operations.invite_to_surveys)
    app.register_blueprint(views.bp)
