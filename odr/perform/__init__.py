"""Performance of sealed agreements: the schedule's pages (report done with a receipt, confirm,
dispute), reminders before due dates and the yellow/red alerts the dashboard shows."""


def init_app(app) -> None:
    """The performance pages, its audit actions and its periodic jobs."""
    from odr import jobs
    from odr.cases.labels import register_actions
    from odr.perform import operations, views

    register_actions(operations.ACTIONS)
    jobs.register(operations.send_performance_reminders)
    jobs.register(operations.update_performance_alerts)
    app.register_blueprint(views.bp)
