"""Litigation hand-off: judicial confirmation requests, complaints, the court bundle, the court's
inbox and API."""


def init_app(app) -> None:
    """The court's pages and API, and what its signed documents do."""
    from odr.cases import todo as todo_list
    from odr.court import api, complaint, confirmation, enforcement, todo, views
    from odr.documents.case_file import require
    from odr.documents.operations import register_kind
    from odr.extensions import csrf
    from flask_babel import lazy_gettext as _l

    from odr.cases.labels import register_actions

    register_actions({"court_handoff": _l("Handed to the court"), "court_received": _l("Received by the court"),
                      "court_docketed": _l("Docketed by the court"), "court_result": _l("Court's result recorded")})

    require("judicial_confirmation", "undisputed_facts")  # from the mediation
    register_kind(confirmation.KIND, confirmation.confirmation_signed)  # handed to the court
    register_kind(complaint.KIND, complaint.complaint_sealed)  # the centre's staff are told
    register_kind(enforcement.KIND, enforcement.enforcement_signed)  # handed to the court
    todo_list.register_source(todo.steps)  # the claimant prepares the complaint
    todo_list.register_workplace(todo.workplace)  # clerks start at their court's inbox
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)  # bearer tokens, not cookies
