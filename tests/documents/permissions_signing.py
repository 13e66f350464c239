"""Permission-matrix rows for signed documents (see tests/test_permissions.py).

In the world, a document of the open case is up for signing by its claimant, respondent and
mediator. Reading it is for whoever sees the case; signing steps for its signers (the others who
see the case get past the door and are refused by the step: 400 for a body that is not JSON,
409 "not one of the signers"). Verification and the CA certificate are public.
"""

from odr.documents import operations as signing
from odr.documents.render import render_pdf

from tests.permission_rows import only


#: The claimant's agent and read-only helper read the case's documents; neither is a signer (a
#: document is signed by the party's own account), so their signing steps are refused like staff's.
VIEWERS = ("claimant", "respondent", "staff", "mediator", "admin", "agent", "helper")
VIEW = only({r: 200 for r in VIEWERS})
PUBLIC = only({}, default=200, anon=200)

ROWS = [
    ("GET", "/documents/{signing_doc}", None, VIEW),
    ("GET", "/documents/{signing_doc}/file.pdf", None, VIEW),
    ("GET", "/documents/{signing_doc}/page-1.png", None, VIEW),
    ("POST", "/documents/{signing_doc}/code", None,
     only({"claimant": 200, "respondent": 200, "mediator": 200, "staff": 409, "admin": 409, "agent": 409,
           "helper": 409})),
    ("POST", "/documents/{signing_doc}/prepare", {}, only({r: 400 for r in VIEWERS})),
    ("POST", "/documents/{signing_doc}/finish", {}, only({r: 400 for r in VIEWERS})),
    ("GET", "/verify", None, PUBLIC),
    ("POST", "/verify", {}, only({}, default=400, anon=400)),
    ("GET", "/documents/ca", None, PUBLIC),
    ("GET", "/documents/ca.pem", None, PUBLIC),
    ("GET", "/documents/ca.cer", None, PUBLIC),
]
CHANGES_STATE = ("/code", "/prepare", "/finish")


def extend(users, cases, values):
    case = cases["open"]
    pdf = render_pdf("<html><body><p>Agreement</p></body></html>")
    document = signing.start(case, users["mediator"], kind="mediation_agreement", subject="test:1", title="Agreement",
                             lang="en", pdf=pdf, signers=[(users["claimant"], "claimant", "Claimant"),
                                                          (users["respondent"], "respondent", "Respondent"),
                                                          (users["mediator"], "mediator", "Mediator")])
    values["signing_doc"] = str(document.id)
