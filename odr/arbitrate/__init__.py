"""Arbitration: from the parties' basis (agreement or clause) to the sealed award."""


def init_app(app) -> None:
    """The arbitration pages; the tribunal's part in a case; the award as the only way to end one."""
    from odr.arbitrate import models, operations, todo, views  # noqa: F401  (models: the tables)
    from odr.cases import todo as todo_list
    from odr.cases import workflow
    from odr.cases.labels import register_actions
    from odr.cases.models import register_role_source
    from odr.cases.rooms import Purpose, register_purpose
    from odr.documents.operations import register_kind

    register_actions(operations.ACTIONS)
    register_role_source(operations.tribunal_roles)
    workflow.register_guard("award_sealed", operations.award_sealed_rule)
    register_kind(operations.AGREEMENT_KIND, operations.agreement_sealed)  # files the case
    register_kind(operations.AWARD_KIND, operations.award_sealed)  # closes it: award issued
    register_purpose(Purpose("hearing", operations.hearing_role, no_caucus=operations.NO_CAUCUS))
    todo_list.register_source(todo.steps)  # statements, the hearing
    todo_list.register_workplace(todo.workplace)  # arbitrators and commission staff: the desk
    app.register_blueprint(views.bp)
