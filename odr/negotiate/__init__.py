"""Direct negotiation: the parties exchange offers before a mediator is involved; an accepted offer
becomes a settlement agreement both sign, and its seal settles the case."""


def init_app(app) -> None:
    """The negotiation pages, its audit actions, its deadline job, its document kind and workflow guard,
    and its steps on the to-do lists (negotiating first in mediation)."""
    from odr import jobs
    from odr.cases.labels import register_actions
    from odr.cases.todo import register_source
    from odr.cases.workflow import register_guard
    from odr.documents.operations import register_kind
    from odr.negotiate import operations, todo, views

    register_actions(operations.ACTIONS)
    register_guard("negotiated_agreement_sealed", operations.agreement_sealed_rule)
    register_kind(operations.AGREEMENT_KIND, operations.agreement_sealed)  # settles the case
    jobs.register(operations.end_overdue_negotiations)
    register_source(todo.steps)
    app.register_blueprint(views.bp)
