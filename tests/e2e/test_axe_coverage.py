"""Every page a person can reach is audited by axe (tests/e2e/test_axe.py, test_axe_demo.py), or
named in :data:`tests.e2e.audited.NOT_AUDITED` with its reason: a new GET route fails here until
one of the two is true. (No browser: the routes are read from the app; each audit checks that it
reached the pages it is listed for.)"""

from __future__ import annotations

from tests.e2e.audited import DEMO, NOT_AUDITED, NOT_PAGES, VISITOR_AND_PARTY


def test_every_page_route_is_audited_or_excluded_with_a_reason(app):
    routes = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    audited = VISITOR_AND_PARTY | DEMO
    unaccounted = routes - audited - set(NOT_AUDITED) - set(NOT_PAGES)
    assert not unaccounted, (f"GET routes neither audited by axe nor excluded in tests/e2e/audited.py: "
                             f"{sorted(unaccounted)}")
    # The lists name routes that exist, and a page is either audited or excluded, not both.
    assert (audited | set(NOT_AUDITED) | set(NOT_PAGES)) <= routes
    assert not audited & (set(NOT_AUDITED) | set(NOT_PAGES))
    assert all(NOT_AUDITED.values()) and all(NOT_PAGES.values())
