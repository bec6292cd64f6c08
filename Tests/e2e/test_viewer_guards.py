"""The viewer where a user meets limits: refusals the server gives, framing by other sites, long lines, pausing, small
windows. Found by trying the viewer from outside in Chromium; each test failed before its fix.
"""

import os
import re
import subprocess

from playwright.sync_api import expect

from conftest import REPO, Server, call
from viewer_support import ROWS, append, browser, follow, open_viewer, page, row_texts  # noqa: F401 (fixtures)

SECRET = "v" * 40


def token(secret_file, *grants):
    binary = os.environ.get("SPOUT_BIN", str(REPO / ".build" / "debug" / "spout"))
    command = [binary, "token", "--secret", str(secret_file), *grants]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def authenticated_server(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    return Server("--auth-secret", str(secret)), secret


def sign_in(page, value):
    expect(page.locator("#token-dialog")).to_be_visible()
    page.get_by_test_id("token-input").fill(value)
    page.get_by_test_id("token-submit").click()
    expect(page.locator("#token-dialog")).to_be_hidden()


def test_another_site_cannot_frame_the_viewer(server, page):
    # Clickjacking: a page of another site lays the viewer under its own and has the user click "Delete".
    answer = page.request.get(f"{server.url}/")
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    # A page of another origin frames it; the page's load waits for its frames, blocked or not.
    page.set_content(f'<iframe id="viewer" src="{server.url}/" width="900" height="600"></iframe>')
    framed = [frame for frame in page.frames if frame != page.main_frame]
    assert len(framed) == 1
    expect(page.frame_locator("#viewer").locator("#log")).to_have_count(0)
    assert "Spout" not in framed[0].content()


def test_changing_the_filter_while_paused_shows_what_came_before_the_pause(server, page):
    log = follow(server, "web", ["GET /a 200", "POST /b 500", "GET /c 200", "GET /d 404"])
    open_viewer(page, server, "tail=web")
    expect(page.locator(ROWS)).to_have_count(4)
    page.get_by_test_id("log").focus()
    page.keyboard.press("p")
    expect(page.get_by_test_id("pause")).to_have_attribute("aria-pressed", "true")
    append(log, ["GET /e 200"])
    expect(page.get_by_test_id("pause")).to_have_text("Resume (1)")
    page.get_by_test_id("filter").fill("GET")
    expect(page.locator(ROWS)).to_have_count(3)
    assert row_texts(page) == ["GET /a 200", "GET /c 200", "GET /d 404"]
    page.get_by_test_id("filter").fill("")
    expect(page.locator(ROWS)).to_have_count(4)
    page.get_by_test_id("log").focus()
    page.keyboard.press("p")
    expect(page.locator(ROWS)).to_have_count(5)
    assert row_texts(page)[-1] == "GET /e 200"


def test_closing_a_parent_topic_does_not_repeat_its_childs_messages(server, page):
    assert call(server, "POST", "/topics", {"name": "orders.eu"})[0] == 201
    open_viewer(page, server, "topic=orders&topic=orders.eu")
    for i in range(3):
        call(server, "POST", "/topics/orders.eu/messages", text=f"eu {i}")
    expect(page.locator(ROWS)).to_have_count(3)
    page.locator('#legend [aria-label="Close topic:orders"]').click()
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    call(server, "POST", "/topics/orders.eu/messages", text="eu 3")
    expect(page.locator(ROWS)).to_have_count(4)
    page.wait_for_timeout(500)
    assert row_texts(page) == ["eu 0", "eu 1", "eu 2", "eu 3"]


def test_opening_a_parent_topic_does_not_repeat_its_childs_messages(server, page):
    assert call(server, "POST", "/topics", {"name": "orders.eu"})[0] == 201
    assert call(server, "POST", "/topics", {"name": "orders.us"})[0] == 201
    open_viewer(page, server, "topic=orders.eu")
    for i in range(3):
        call(server, "POST", "/topics/orders.eu/messages", text=f"eu {i}")
    call(server, "POST", "/topics/orders.us/messages", text="us 0")
    expect(page.locator(ROWS)).to_have_count(3)
    # The stream becomes `orders` alone, whose backlog holds eu 0-2 again beside us 0, which this view has not shown.
    page.locator('#topic-list [data-source="topic:orders"] input').check()
    expect(page.locator(ROWS)).to_have_count(4)
    call(server, "POST", "/topics/orders.eu/messages", text="eu 3")
    expect(page.locator(ROWS)).to_have_count(5)
    page.wait_for_timeout(500)
    assert row_texts(page) == ["eu 0", "eu 1", "eu 2", "us 0", "eu 3"]


def test_a_source_the_token_may_not_read_is_left_out_and_the_page_says_why(tmp_path, page):
    server, secret = authenticated_server(tmp_path)
    try:
        admin = {"Authorization": "Bearer " + token(secret, "--admin", "--publish", "*")}
        assert call(server, "POST", "/topics", {"name": "orders.eu"}, headers=admin)[0] == 201
        path = server.root / "app.log"
        path.write_text("one\n")
        assert call(server, "POST", "/tails", {"path": str(path), "name": "app"}, headers=admin)[0] == 201
        # The list offers `orders`, the granted topic's ancestor, which this token may not read; the tail is not listed.
        page.goto(f"{server.url}/#topic=orders&topic=orders.eu&tail=app")
        sign_in(page, token(secret, "--subscribe", "orders.eu"))
        expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
        assert call(server, "POST", "/topics/orders.eu/messages", text="for eu", headers=admin)[0] == 201
        expect(page.locator(ROWS)).to_have_count(1)
        notices = page.locator("#log .notice-refused .msg")
        expect(notices.filter(has_text="topic:orders is left out of this view")).to_have_count(1)
        expect(notices.filter(has_text="tail:app is left out of this view")).to_have_count(1)
        expect(page.locator('#legend [data-source="tail:app"] .chip-label')).to_have_attribute(
            "title", re.compile("^tail:app is refused: .*does not grant"))
    finally:
        server.stop()


def test_a_stream_larger_than_the_server_takes_is_explained_not_retried(page):
    server = Server("--in-memory", "--connection-memory", "4096")
    try:
        names = [f"t{i:02d}." + "n" * 120 for i in range(30)]
        for name in names:
            assert call(server, "POST", "/topics", {"name": name})[0] == 201
        streams = []
        page.on("request", lambda request: streams.append(request.url) if "/events?" in request.url else None)
        page.goto(f"{server.url}/#" + "&".join(f"topic={name}" for name in names))
        expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "refused")
        expect(page.locator("#log .notice-refused .msg")).to_contain_text("--connection-memory")
        page.wait_for_timeout(4000)
        assert len(streams) <= 2, streams  # the EventSource, and the request that asked why
    finally:
        server.stop()


def test_long_lines_stay_within_the_pages_memory_budget(server, page):
    log = follow(server, "big")
    open_viewer(page, server, "tail=big")
    line = "x" * 65_000
    for start in range(0, 400, 100):
        append(log, [f"{i:03d} {line}" for i in range(start, start + 100)])
    expect(page.locator("#stat-received")).to_have_text("400 received", timeout=30_000)
    kept = page.evaluate("({entries: spout.logView.entries.length, chars: spout.logView.chars})")
    # 400 lines of 65 KB are 26 MB: the page keeps 16-20 MB of them, and 4 MB in the DOM.
    assert kept["entries"] < 330 and kept["chars"] <= 20 * 1024 * 1024, kept
    assert 50 <= page.locator(ROWS).count() <= 70
    assert row_texts(page)[-1].startswith("399 ")


def test_the_closed_drawer_of_a_small_window_is_out_of_the_tab_order(server, page):
    follow(server, "app", ["one"])
    page.set_viewport_size({"width": 600, "height": 800})
    page.goto(f"{server.url}/")
    expect(page.locator("#tail-list li[data-source=\"tail:app\"]")).to_have_count(1)
    off_screen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => { const e = document.activeElement, r = e.getBoundingClientRect();
            return {name: e.id || e.getAttribute('aria-label') || e.tagName, off: r.right <= 0 || r.left >= innerWidth,
                    body: e === document.body}; }""")
        if focused["body"]:
            break
        if focused["off"]:
            off_screen.append(focused["name"])
    assert off_screen == []
    page.get_by_test_id("drawer-toggle").click()
    expect(page.locator('#tail-list [data-source="tail:app"] input')).to_be_visible()


def test_escape_closes_the_help_and_keys_do_not_act_behind_it(server, page):
    page.goto(f"{server.url}/")
    page.get_by_test_id("log").focus()
    page.keyboard.press("?")
    expect(page.locator("#help-dialog")).to_be_visible()
    page.keyboard.press("p")
    expect(page.get_by_test_id("pause")).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("Escape")
    expect(page.locator("#help-dialog")).to_be_hidden()
    page.get_by_test_id("help").click()
    expect(page.locator("#help-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#help-dialog")).to_be_hidden()


def test_long_lines_written_at_once_leave_the_newest_in_view(server, page):
    log = follow(server, "app")
    page.set_viewport_size({"width": 1280, "height": 800})
    open_viewer(page, server, "tail=app")
    append(log, [f"{i:03d} " + "word " * 80 for i in range(30)])
    expect(page.locator("#stat-received")).to_have_text("30 received")
    page.wait_for_timeout(1000)
    # Rows start at an estimated height and grow once laid out: the bottom moves with no scroll event.
    place = page.evaluate("""() => { const log = document.getElementById('log'), rows = log.querySelectorAll('.row');
        const last = rows[rows.length - 1].getBoundingClientRect(), box = log.getBoundingClientRect();
        return {visible: last.top < box.bottom && last.bottom > box.top, jump: !document.getElementById('jump').hidden}; }""")
    assert place == {"visible": True, "jump": False}


def test_the_open_drawer_of_a_small_window_leaves_its_button_to_close_it(server, page):
    page.set_viewport_size({"width": 400, "height": 760})
    page.goto(f"{server.url}/")
    toggle = page.get_by_test_id("drawer-toggle")
    toggle.click()
    expect(page.get_by_test_id("sidebar")).to_be_visible()
    toggle.click()  # an actionability check: fails if the drawer lies over the button
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_test_id("sidebar")).to_be_hidden()


def test_a_source_waited_for_is_not_asked_about_on_every_refresh(server, page):
    probes = []
    page.on("request", lambda request: probes.append(request.url) if "/topics/later/events" in request.url else None)
    page.goto(f"{server.url}/#topic=later")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "waiting")
    page.wait_for_timeout(7000)  # two refreshes of the lists
    assert len(probes) == 1, probes  # each is a 404 in the console
    assert call(server, "POST", "/topics", {"name": "later"})[0] == 201
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live", timeout=10_000)


def test_a_colour_goes_on_into_the_next_piece_of_a_long_line(server, page):
    log = follow(server, "app")
    open_viewer(page, server, "tail=app")
    append(log, ["\x1b[31m" + "r" * 100_000 + "\x1b[0m", "plain"])  # the server cuts lines at 64 KiB
    expect(page.locator(ROWS)).to_have_count(3)
    pieces = page.locator(f"{ROWS} .msg")
    assert pieces.nth(0).locator("span.a-fg1").count() == 1
    assert pieces.nth(1).locator("span.a-fg1").count() == 1, "the second piece is red too"
    assert pieces.nth(2).locator("span.a-fg1").count() == 0, "the colour ends with its line"
    # An escape sequence cut in two at the cap: the piece ends with ESC [ 3, the next begins with 1m.
    append(log, ["A" * 65_533 + "\x1b[31mRED\x1b[0m tail"])
    expect(page.locator(ROWS)).to_have_count(5)
    expect(pieces.nth(4)).to_have_text("RED tail")
    assert pieces.nth(4).locator("span.a-fg1").text_content() == "RED"


def test_a_tail_opened_again_does_not_take_the_colour_of_a_piece_shown_before(server, page):
    log = follow(server, "web", ["start"])
    open_viewer(page, server, "tail=web")
    with open(log, "a") as f:
        f.write("\x1b[32m" + "G" * 70_000)  # a long green line still being written: its first piece comes
    expect(page.locator(ROWS)).to_have_count(2)
    page.locator('#legend [aria-label="Close tail:web"]').click()
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "idle")
    append(log, ["\x1b[0m"] + [f"plain {i}" for i in range(12)])
    page.locator('#tail-list [data-source="tail:web"] input').check()
    expect(page.locator(ROWS)).to_have_count(12)
    assert page.locator(f"{ROWS} .msg span.a-fg2").count() == 1, "only the piece shown before is green"


def test_signing_out_forgets_the_token_and_what_it_showed(tmp_path, page):
    # The viewer had no way to forget a token (its cookie is HttpOnly): on a shared machine the next user had its grants.
    server, secret = authenticated_server(tmp_path)
    try:
        admin = {"Authorization": "Bearer " + token(secret, "--admin", "--publish", "*")}
        assert call(server, "POST", "/topics", {"name": "orders"}, headers=admin)[0] == 201
        page.goto(f"{server.url}/#topic=orders")
        expect(page.get_by_test_id("sign-out")).to_be_hidden()
        sign_in(page, token(secret, "--subscribe", "orders"))
        expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
        assert call(server, "POST", "/topics/orders/messages", text="secret order", headers=admin)[0] == 201
        expect(page.locator(ROWS)).to_have_count(1)
        page.reload()
        expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
        page.get_by_test_id("sign-out").click()
        expect(page.locator("#token-dialog")).to_be_visible()
        expect(page.locator(ROWS)).to_have_count(0)
        expect(page.get_by_test_id("sign-out")).to_be_hidden()
        assert not [c for c in page.context.cookies() if c["name"] == "spout_token"]
        assert page.evaluate("window.spout.stream.es") is None
        page.reload()
        expect(page.locator("#token-dialog")).to_be_visible()
        sign_in(page, token(secret, "--subscribe", "orders"))
        expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    finally:
        server.stop()
