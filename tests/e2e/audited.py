"""Which page routes the axe audits cover (tests/e2e/test_axe.py, test_axe_demo.py), and why the
others are not audited. ``test_axe_coverage.py`` fails when a GET route is in none of these lists:
a new page gets audited, or its reason written here. Each audit checks that it audited what it
claims here."""

from __future__ import annotations

#: GET routes that answer no HTML page: never opened by the audits' crawl.
NOT_PAGES = {
    # Machines' APIs (JSON), for courts and outside systems.
    "api_court.bundle": "court API: ZIP", "api_court.checkpoint_feed": "court API: JSON",
    "api_court.handoff_checkpoints": "court API: JSON", "api_court.handoffs": "court API: JSON",
    "api_court.show": "court API: JSON", "api_intake.intake_status": "intake API: JSON",
    # Stored files and images, sent as they are.
    "arbitrate.evidence_file": "a stored file", "arbitrate.contract": "a stored file", "mediate.evidence_file": "a stored file",
    "consult.attachment": "a stored file", "representation.power_of_attorney": "a stored file",
    "perform.receipt": "a stored file", "documents.download": "a PDF", "documents.page_image": "a PNG",
    "video.document_page": "a PNG", "cases.invitation_qr": "an SVG", "court.bundle": "a ZIP",
    "ops.export": "a CSV", "ops.weekly_report": "a PDF or CSV", "mediate.session_calendar": "an .ics file",
    "documents.ca_der": "a certificate", "documents.ca_pem": "a certificate",
    "documents.case_checkpoint": "JSON", "documents.public_checkpoint": "JSON",
    "documents.public_checkpoints": "JSON", "court.checkpoints": "JSON",
    "site.favicon": "an icon", "site.manifest": "JSON", "site.health": "a health check", "static": "files",
    # Redirects.
    "cases.landing": "redirects to the person's work", "identity.oidc_callback": "redirects back from the provider",
    "service.open": "redirects to the served notice, noting the first opening (a link from an SMS, not followed)",
}

#: HTML pages the audits do not reach, each with its reason (keep this short).
NOT_AUDITED = {
    "consult.kb_edit": "admins only (the audits cover the roles of issue 17, not the administrator)",
    "field.agreement": "audited by the on-site flow that reaches it (tests/e2e/test_field_onsite.py)",
    "field.sign": "audited by the on-site flow that reaches it (tests/e2e/test_field_onsite.py)",
    "court.enforcement": "only for the entitled side of a case in default not yet applied for; the demo's "
                         "is applied for (tests/e2e/test_enforcement_flow.py walks the page)",
    "video.room": "a live call (camera, microphone, signalling), open only around a session's time",
    "mediate.session_video": "leads into the live call (video.room), open only around a session's time",
}

#: Pages test_axe.py audits for visitors and for a party in its own world.
VISITOR_AND_PARTY = {
    "site.home", "auth.login", "auth.signup", "auth.request_code", "consult.kb_search",
    "documents.verify_page", "mediate.directory", "cases.show", "cases.invitation", "representation.invitation",
    "cases.declined", "consult.chat", "consult.to_case",
}

#: Pages test_axe_demo.py audits in the demo, for its workers and its parties and representatives.
DEMO = {
    "arbitrate.case_stage", "arbitrate.desk", "arbitrate.request_arbitration",
    "assess.case_stage", "assess.questionnaire", "assess.result", "auth.account", "cases.my_cases",
    "cases.new_case", "cases.show", "consult.case_stage", "consult.desk", "consult.kb_article",
    "consult.kb_search", "consult.start", "court.case_stage", "court.complaint", "court.confirmation",
    "court.handoff", "court.inbox", "court.show", "documents.ca_page",
    "documents.verify_page", "documents.view", "field.command", "field.grids", "field.queue", "field.show",
    "identity.counter_case", "identity.counter_verify", "identity.mine", "mediate.assign", "mediate.case_stage",
    "mediate.directory", "mediate.evidence", "mediate.offer", "mediate.offers", "mediate.organization",
    "mediate.outcome", "mediate.outcome_edit", "mediate.proposal_counter", "mediate.proposals", "mediate.room",
    "mediate.roster", "mediate.session_new", "mediate.sessions", "negotiate.offer_counter", "negotiate.show",
    "ops.cases", "ops.dashboard", "ops.transfer_times", "perform.show", "representation.show",
    "service.case_service", "site.home", "staff.counter_intake", "staff.queue", "survey.answer",
}
