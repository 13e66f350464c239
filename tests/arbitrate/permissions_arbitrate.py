"""Permission-matrix rows of the arbitration (see tests/test_permissions.py).

In the world, the claimant and respondent's "arbitrated" case is at a commission (neither the
center nor any other role of the matrix): accepted, heard on a clause, one arbitrator sitting, a
challenge pending and one decided, the claim in and the time for a defence over. Only its parties
and admins learn that it exists; every step is refused to whoever it is not for (409) before
anything is written (no row changes state, so one world serves each row). The commission's staff and the
arbitrators are not roles of the shared matrix: tests/arbitrate/test_permissions_arbitrate.py
covers them.
"""

import io
from datetime import timedelta

from odr import uploads
from odr.arbitrate.models import Arbitration, ArbitrationStatus, ArbitratorSeat, Challenge, Procedure, SeatRole, \
    SeatStatus
from odr.auth import operations as auth_ops
from odr.cases.operations import grant_role
from odr.auth.models import Role
from odr.cases import operations as ops
from odr.cases import workflow
from odr.cases.models import ArbitrationBasis, Category, Channel, Organization, OrgType, Stage
from odr.extensions import db
from odr.cases.evidence import Evidence, Visibility
from odr.timeutil import utcnow

from tests.permission_rows import only

PDF = b"%PDF-1.4\n% the contract\n"
PARTIES = {"claimant": 409, "respondent": 409}
REFUSED = only(PARTIES | {"admin": 409})
READ = only({"claimant": 200, "respondent": 200, "admin": 200})

ROWS = [
    ("GET", "/arbitrate/", None, only({"admin": 200}, default=403)),
    ("GET", "/arbitrate/{arbitrated}", None, READ),
    ("GET", "/arbitrate/{arbitrated}/request", None, REFUSED),
    ("POST", "/arbitrate/{arbitrated}/request", {}, REFUSED),
    # The open case is in mediation at the center: its parties may ask (the form is empty: 400).
    ("GET", "/arbitrate/{open}/request", None,
     only({"claimant": 200, "respondent": 200, "staff": 409, "mediator": 409, "admin": 409})),
    ("GET", "/arbitrate/{arbitrated}/contract", None, READ),
    ("POST", "/arbitrate/{arbitrated}/clause", {"decision": "confirm"}, REFUSED),
    ("POST", "/arbitrate/{arbitrated}/acceptance", {"procedure": "hearing"}, REFUSED),
    ("POST", "/arbitrate/{arbitrated}/nominate", {"choice": "{arbitrator}"}, REFUSED),
    ("POST", "/arbitrate/{arbitrated}/appoint", {}, REFUSED),
    ("POST", "/arbitrate/{arbitrated}/declare", {"independent": "yes"}, REFUSED),
    ("POST", "/arbitrate/{arbitrated}/challenge", {"choice": "{seat}", "reason": "He knows the claimant."},
     only(PARTIES | {"admin": 409})),  # a challenge is pending: the next waits for its decision
    ("POST", "/arbitrate/{arbitrated}/challenges/{decided}", {"upheld": "no", "reason": "No grounds."}, REFUSED),
    ("POST", "/arbitrate/{arbitrated}/statement", {"text": "My statement."}, REFUSED),
    ("POST", "/arbitrate/{arbitrated}/deadline", {"which": "claim", "days": "3", "reason": "Ill."}, REFUSED),
    ("POST", "/arbitrate/{arbitrated}/evidence", {}, only({"claimant": 422, "respondent": 422, "admin": 409})),
    ("GET", "/arbitrate/{arbitrated}/evidence/{arbitration_evidence}", None, READ),
    ("POST", "/arbitrate/{arbitrated}/hearing", {"when": "2030-01-01T10:00"}, REFUSED),
    ("POST", "/arbitrate/{arbitrated}/hearing/room", None, REFUSED),
    ("POST", "/arbitrate/{arbitrated}/award", {"facts": "F", "reasoning": "R", "decision": "D", "costs": "C",
                                               "lang": "en"}, REFUSED),
]
CHANGES_STATE = ()
#: The arbitrated case is built only for the rows that use it.
PROVIDES = ("arbitrated",)


def extend(users, cases, values):
    commission = Organization(name="Commission", type=OrgType.arbitration_commission, district="朝阳区")
    db.session.add(commission)
    db.session.flush()
    arbitrator = auth_ops.create_user("arbitrator-matrix@example.com", "Arbitrator Matrix", "x" * 12)
    grant_role(arbitrator, Role.arbitrator, commission)
    claimant, respondent = users["claimant"], users["respondent"]
    dispute = ops.DisputeDetails(Category.debt, "A loan not paid back.", "Pay back 8,000 yuan.", "朝阳区")
    case = ops.file_case(claimant, Channel.web, dispute, ops.PartyDetails(claimant.name, email=claimant.email),
                         ops.PartyDetails("Other Side", phone="+8613900139001"))
    ops.join_case(case.respondent, respondent)
    workflow.move(case, Stage.assessment, claimant)
    stored = uploads.store(io.BytesIO(PDF), "contract.pdf", {"application/pdf"}, 10**6)
    now = utcnow()
    arb = Arbitration(case_id=case.id, commission_id=commission.id, status=ArbitrationStatus.accepted,
                      basis=ArbitrationBasis.clause, requested_by_id=claimant.id, contract_sha256=stored.sha256,
                      contract_filename="contract.pdf", contract_mimetype="application/pdf", clause_text="Art. 9",
                      accepted_at=now - timedelta(minutes=1), fee=430, tribunal_size=1,
                      procedure=Procedure.hearing, nomination_due=now, claim_due=now - timedelta(days=20),
                      claim_text="Pay back 8,000 yuan.", claim_submitted_at=now - timedelta(days=20),
                      defence_due=now - timedelta(days=5))
    db.session.add(arb)
    ops.record_arbitration_basis(case, ArbitrationBasis.clause, claimant)
    ops.route_case(case, commission, None)
    workflow.move(case, Stage.arbitration, claimant)
    seat = ArbitratorSeat(case_id=case.id, user_id=arbitrator.id, role=SeatRole.sole, chosen_by="commission",
                          status=SeatStatus.serving)
    db.session.add(seat)
    db.session.flush()
    ops.assign_handler(case, None, arbitrator=arbitrator)
    challenge = Challenge(seat_id=seat.id, side="respondent", user_id=respondent.id, reason="Friends.")
    decided = Challenge(seat_id=seat.id, side="claimant", user_id=claimant.id, reason="Slow.", decided_at=now,
                        upheld=False, decision_reason="No grounds.")
    evidence = Evidence(case_id=case.id, uploader_id=claimant.id, visibility=Visibility.all, description="",
                        filename="contract.pdf", mimetype="application/pdf", size=stored.size, sha256=stored.sha256)
    db.session.add_all([challenge, decided, evidence])
    db.session.flush()
    values.update(arbitrated=case.number, arbitrator=str(arbitrator.id), seat=str(seat.id),
                  decided=str(decided.id), arbitration_evidence=str(evidence.id))
