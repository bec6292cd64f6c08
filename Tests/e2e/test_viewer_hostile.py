"""The viewer against what a server's contents or a shared link can hold: thousands of topics, a pattern that
backtracks without end, a direction override in a name. Found by trying the viewer from outside in Chromium; each test
failed before its fix.
"""

import urllib.request

from playwright.sync_api import expect

from conftest import call
from viewer_support import ROWS, browser, open_viewer, page  # noqa: F401 (fixtures)

# Counts every change under the sidebar's lists from now on, in window.__changes.
OBSERVE = """() => {
    window.__changes = 0;
    const observer = new MutationObserver((records) => { window.__changes += records.length; });
    for (const id of ["topic-list", "tail-list"]) {
        observer.observe(document.getElementById(id), { subtree: true, childList: true, attributes: true, characterData: true });
    }
}"""


def wait_for_list_refreshes(page, count):
    """Waits until the page has fetched the topic list `count` more times, and shown it."""
    for _ in range(count):
        with page.expect_response(lambda r: r.url.endswith("/topics") and r.request.method == "GET", timeout=15_000):
            pass
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 50)))")


def test_a_refresh_rewrites_only_the_rows_that_changed(server, page):
    # Every row was written on every refresh (every 3 s): with 9,900 topics the browser laid the whole list out each
    # time, and the page stalled for up to 4 s.
    for n in range(300):
        assert call(server, "POST", "/topics", body={"name": f"many.t{n:03d}"})[0] == 201
    open_viewer(page, server)
    expect(page.locator("#topic-list li[data-source]")).to_have_count(301)
    page.evaluate(OBSERVE)
    wait_for_list_refreshes(page, 2)
    assert page.evaluate("() => window.__changes") == 0

    # A topic that got a message changes its own row's count, and nothing else.
    assert call(server, "POST", "/topics/many.t007/messages", text="one")[0] == 201
    wait_for_list_refreshes(page, 1)
    assert page.evaluate("() => window.__changes") > 0
    expect(page.locator('#topic-list li[data-source="topic:many.t007"] .detail')).to_contain_text("1 published")
    page.evaluate(OBSERVE)
    wait_for_list_refreshes(page, 1)
    assert page.evaluate("() => window.__changes") == 0


def test_a_link_whose_pattern_backtracks_without_end_is_refused_not_run(server, page):
    # `^(a+)+$` against 31 a's and a '!' froze the tab for 16 s, and each more 'a' doubled it.
    call(server, "POST", "/topics", body={"name": "redos"})
    call(server, "POST", "/topics/redos/messages", text="a" * 31 + "!")
    call(server, "POST", "/topics/redos/messages", text="plain")
    page.goto(f"{server.url}/#topic=redos&q=%5E(a%2B)%2B%24&re=1")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    expect(page.get_by_test_id("filter-error")).to_be_visible()
    expect(page.get_by_test_id("filter-error")).to_contain_text("exponential")
    # Refused, it filters nothing, as any invalid pattern; a pattern without a repeated repeat still works.
    page.get_by_test_id("filter").fill("^a+!$")
    expect(page.get_by_test_id("filter-error")).to_be_hidden()
    expect(page.locator(ROWS)).to_have_count(1)


def test_a_direction_override_in_an_event_type_stays_inside_it(server, page):
    # U+202E in an event type turned the message after it around: "transfer approved" read "devorppa refsnart".
    call(server, "POST", "/topics", body={"name": "bidi"})
    open_viewer(page, server, "topic=bidi")
    assert call(server, "POST", "/topics/bidi/messages", body={"data": "transfer approved", "event": "info\u202e"})[0] == 201
    row = page.locator(ROWS).first
    expect(row.locator(".evt")).to_have_text("info\u202e")
    for selector in (".evt", ".src"):
        assert row.locator(selector).evaluate("e => getComputedStyle(e).unicodeBidi") == "isolate"
    # The message's words are laid out left to right: "transfer" before "approved".
    boxes = row.locator(".msg").evaluate("""m => {
        const text = [...m.childNodes].find((n) => n.nodeType === Node.TEXT_NODE && n.textContent.includes("approved"));
        const range = document.createRange();
        const at = (word) => { const i = text.textContent.indexOf(word); range.setStart(text, i); range.setEnd(text, i + word.length); return range.getBoundingClientRect().left; };
        return [at("transfer"), at("approved")];
    }""")
    assert boxes[0] < boxes[1], boxes


def test_json_data_is_shown_as_it_was_published(server, page):
    # The viewer parsed and wrote the data again: 9007199254740993 showed as ...992, and 1.0 as 1. (The body is sent
    # as written: Python's json would write the numbers its own way too.)
    call(server, "POST", "/topics", body={"name": "numbers"})
    open_viewer(page, server, "topic=numbers")
    published = '{"data":{"n":9007199254740993,"f":1.0,"s":"a,\\"data\\":b"},"event":"x,\\"data\\":"}'
    request = urllib.request.Request(f"{server.url}/topics/numbers/messages", data=published.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    assert urllib.request.urlopen(request, timeout=10).status == 201
    row = page.locator(ROWS).first
    expect(row.locator(".evt")).to_have_text('x,"data":')
    expect(row.locator(".msg")).to_contain_text('x,"data":{"n":9007199254740993,"f":1.0,"s":"a,\\"data\\":b"}')
