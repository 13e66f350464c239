"""End-to-end fixtures: the app on a live HTTP server, driven by a headless Chromium at phone size.

* ``live_server`` (module): ``odr.create_app`` with the other tests' configuration, but with
  CSRF on (real forms) and ``BASE_URL`` set to the server's own address, so invitation links
  and QR codes point at it. Served by Werkzeug in a daemon thread on a free port.
* ``server`` (function): the live server with empty tables and fresh rate-limit counters.
* ``browser`` (session): Debian's Chromium through Playwright's sync API.
* ``phone`` (function): makes isolated 360×640 touch contexts (one per person; ``phone(desk=True)``
  for a 1280×800 desktop), closed after the test; any 5xx answer or failed request to the live server fails the test.
* ``shot`` (function): full-page screenshots into ``test-artifacts/`` (gitignored) for a human.

Every test in this folder is marked ``e2e`` (``pytest -m "not e2e"`` skips them).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PHONE = {"width": 360, "height": 640}
DESK = {"width": 1280, "height": 800}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
#: Playwright's default is 30 s; a local server answers in milliseconds, so fail fast.
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:  # pragma: no cover - only if an asyncio plugin runs the tests inside a loop
        pytest.fail("Playwright's sync API cannot run inside an asyncio event loop")
    if not Path(CHROMIUM).exists():
        # `make test` (and so CI) installs Chromium first and requires it: a missing browser there
        # is a failure, not twelve quietly skipped flows. A developer's partial run may skip.
        message = f"no Chromium at {CHROMIUM} (scripts/install-system-deps installs it)"
        if os.environ.get("ODR_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    except BaseException:
        playwright.stop()
        raise
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@pytest.fixture
def phone(browser, server):
    """``phone()`` opens a new, isolated phone-sized browser context (a second person, a second phone)."""
    contexts = []
    problems: list[str] = []

    def watch(context):
        def on_response(response):
            if response.url.startswith(server.url) and response.status >= 500:
                problems.append(f"{response.status} {response.request.method} {response.url}")

        def on_failed(request):
            # ERR_ABORTED: a load cut short by the next navigation, not a server fault.
            if request.url.startswith(server.url) and "ERR_ABORTED" not in (request.failure or ""):
                problems.append(f"failed {request.method} {request.url}: {request.failure}")

        context.on("response", on_response)
        context.on("requestfailed", on_failed)

    def make(desk=False):
        """A phone-sized touch context, or with ``desk=True`` a desktop one (a consultant or mediator)."""
        size = dict(viewport=DESK) if desk else dict(viewport=PHONE, is_mobile=True, has_touch=True,
                                                     device_scale_factor=2)
        context = browser.new_context(**size, locale="zh-CN", base_url=server.url)
        context.set_default_timeout(TIMEOUT_MS)
        watch(context)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not problems, "server errors during the test:\n" + "\n".join(problems)


@pytest.fixture
def layout():
    """Collects pages wider than the phone; end a test with ``layout.assert_all_fit()``."""
    from tests.e2e.pages import Layout

    return Layout()


@pytest.fixture
def shot(request):
    """``shot(page, name)`` saves a full-page screenshot as test-artifacts/<test>-<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)

    def save(page, name):
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
