"""What the viewer's suites share: a Chromium, a fresh page per test, and helpers to follow files and read rows.

The page runs under the Content-Security-Policy the server sends, as a user's does, so the tests wait with `expect`
and `evaluate` (never `wait_for_function`, which evaluates strings and is refused without 'unsafe-eval').
"""

import pathlib

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from conftest import call

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = pathlib.Path(__file__).resolve().parent / "artifacts"
ROWS = "#log .row:not(.notice)"


def follow(server, name, lines=()):
    """Creates server.root/<name>.log with these lines and tails it as <name>; returns the file's path."""
    path = server.root / f"{name}.log"
    path.write_text("".join(f"{line}\n" for line in lines))
    status, body = call(server, "POST", "/tails", {"path": str(path), "name": name})
    assert status == 201, body
    return path


def append(path, lines):
    with open(path, "a") as f:
        f.write("".join(f"{line}\n" for line in lines))


def row_texts(page, source=None):
    """The message text of every line row in the DOM (notices left out), optionally of one source."""
    selector = ROWS if source is None else f'{ROWS}[data-source="{source}"]'
    return page.eval_on_selector_all(selector, "rows => rows.map(r => r.querySelector('.msg').textContent)")


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser, request):
    """A fresh page; it fails the test on any uncaught script error, and leaves a screenshot behind."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme="dark")
    opened = context.new_page()
    errors = []
    opened.on("pageerror", lambda error: errors.append(error))
    yield opened
    opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()
    assert not errors, errors


def open_viewer(page: Page, server, hash_=""):
    page.goto(f"{server.url}/#{hash_}")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live" if hash_ else "idle")
