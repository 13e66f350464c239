"""Arbitration: from the parties' basis (agreement or clause) to the sealed award, one module per step.

1. **Basis** (``basis``). A party of an open case (at assessment or after mediation) asks for
   arbitration at a commission, either by an online arbitration agreement that both parties sign (a
   signed document; when it is sealed the case is filed) or by an arbitration clause in their
   contract, uploaded and confirmed by the commission's staff. Filing routes the case to the
   commission and moves it to the arbitration stage (``odr.cases.workflow``, which checks the basis).
2. **Acceptance** (``basis``). Commission staff accept the case: the fee comes from the schedule
   (``fees``), the amount decides one arbitrator or three, and small claims may be decided on the
   documents alone. The parties then have ``ARBITRATION_NOMINATION_DAYS`` to name an arbitrator from
   the commission's roster and the claimant ``ARBITRATION_CLAIM_DAYS`` for the statement of claim.
3. **Tribunal** (``tribunal``). Staff appoint once both parties named someone or the time to do so is
   over: a sole arbitrator both named is *jointly chosen*; in a tribunal of three each party's nominee
   sits as a member and the commission appoints the presiding arbitrator. Each arbitrator declares
   independence (disclosing what the parties should know) or stands down; a party may challenge an
   arbitrator with reasons, and the commission decides — an upheld challenge vacates the seat.
4. **Statements and evidence** (``proceedings``). The claim, then the defence
   (``ARBITRATION_DEFENCE_DAYS`` after the claim), each before its deadline, which the presiding
   arbitrator may extend; evidence is exchanged under the case file's rules and everyone in the
   case sees it.
5. **Hearing** (``proceedings``) in a video room hosted by the presiding arbitrator, or none for
   documents only.
6. **Award** (``award``), drafted by the presiding arbitrator (``odr.documents.award``), signed by
   every arbitrator in their own browser and sealed; the sealed award closes the case as *award
   issued*.

``common`` holds what every step shares (errors, audit actions, reading a case's arbitration); the
read-only questions about one arbitration (who chairs, which seats are open, is the tribunal
formed) are methods of ``models.Arbitration``. Each step is one transaction with its audit entry.
"""


def init_app(app) -> None:
    """The arbitration pages; the tribunal's part in a case; the award as the only way to end one."""
    from odr.arbitrate import award, basis, common, proceedings, todo, tribunal, views
    from odr.cases import todo as todo_list
    from odr.cases import workflow
    from odr.cases.labels import register_actions
    from odr.cases.models import register_role_source
    from odr.cases.rooms import Purpose, register_purpose
    from odr.documents.operations import register_kind

    register_actions(common.ACTIONS)
    register_role_source(tribunal.tribunal_roles)
    if "socketio" in app.extensions:  # a seat ended or changed hands: the case's live pages are checked again
        from odr.arbitrate.models import ArbitratorSeat
        from odr.cases import live

        live.access_follows(ArbitratorSeat, ("user_id", "status"))
    workflow.register_guard("award_sealed", award.award_sealed_rule)
    register_kind(common.AGREEMENT_KIND, basis.agreement_sealed, identity="oidc")  # files the case; verified parties
    register_kind(common.AWARD_KIND, award.award_sealed, identity="oidc")  # closes it: award issued
    register_purpose(Purpose("hearing", proceedings.hearing_role, no_caucus=proceedings.NO_CAUCUS))
    todo_list.register_source(todo.steps)  # statements, the hearing
    todo_list.register_workplace(todo.workplace)  # arbitrators and commission staff: the desk
    app.register_blueprint(views.bp)
