"""A real browser (the system Chromium, driven by Playwright) against the app served on 127.0.0.1."""
import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium_path():
    """The system Chromium; tests never download a browser."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session; in CI a missing browser fails instead of skipping."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: install Debian's chromium (.ci/run does)")
        pytest.skip("no system Chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The test app served by a real HTTP server on a free port of 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page (own cookies) that records every request leaving 127.0.0.1."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.outside_requests = []
    page.on("request", lambda request: None if request.url.startswith(("http://127.0.0.1", "data:"))
            else page.outside_requests.append(request.url))
    # What the Content-Security-Policy blocked (Chromium reports each refusal on the console).
    page.csp_violations = []
    page.on("console", lambda message: page.csp_violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.base = live_server
    yield page
    context.close()


def open_menu(page):
    """On a phone the header's menu (pages, language, logout) folds behind its button: open it."""
    if page.locator(".menu-button").is_visible() and not page.locator("nav.nav").is_visible():
        page.click(".menu-button")
