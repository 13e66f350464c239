"""Center operations: dashboard figures, early warnings, transfer response times, weekly report."""


def init_app(app) -> None:
    """The dashboard, and the job that keeps its summaries current."""
    from odr import jobs
    from odr.ops import summary, views

    jobs.register(summary.refresh_ops_summaries)
    app.register_blueprint(views.bp)
