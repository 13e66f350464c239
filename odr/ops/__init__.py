"""Center operations: dashboard figures, early warnings, transfer response times, weekly report."""


def init_app(app) -> None:
    """The dashboard, and the job that keeps its summaries current."""
    from odr import jobs
    from odr.cases.todo import register_workplace
    from odr.ops import summary, views

    register_workplace(views.workplace)  # centre managers start at the dashboard

    jobs.register(summary.refresh_ops_summaries)
    app.register_blueprint(views.bp)
