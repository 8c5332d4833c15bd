"""A real Chromium for the browser tests (Debian's package, driven by Playwright)."""

import os
import tempfile
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Screenshots for the README are refreshed with SAVE_SCREENSHOTS=1; otherwise they go to a temp dir.
DOCS_SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"Chromium is required here but not found at {CHROMIUM}")
        pytest.skip("Chromium not installed (apt-get install chromium); browser tests skipped")
    # Playwright's sync API runs an event loop; Django refuses ORM calls from such a thread
    # unless told it is safe, which it is in tests (one request at a time).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A fresh browser tab. Every page it shows must keep the Content Security Policy: Chromium
    reports each blocked inline script or style on the console, and any such report fails the test."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(30_000)  # generous: CI machines are small and busy
    violations = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and violations.append(f"{page.url}: {message.text}"),
    )
    yield page
    context.close()
    assert violations == [], f"the page broke its Content Security Policy: {violations}"


def log_in(page, live_server, username, password="correct-horse-battery"):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def screenshot(page, name):
    folder = DOCS_SCREENSHOTS if os.environ.get("SAVE_SCREENSHOTS") else Path(tempfile.gettempdir()) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def settle(page):
    """Wait until the page has loaded and no htmx request is in flight (htmx marks its element while
    one is), before checking it: "networkidle" would wait out half a second of silence every time."""
    page.wait_for_load_state("load")
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
