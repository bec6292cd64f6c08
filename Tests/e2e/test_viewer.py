"""The viewer (public/) in a real Chromium against a real server.

Debian's chromium drives the page through Playwright; nothing is downloaded. Each test gets its own server (the
`server` fixture) and its own browser context; a screenshot of every page goes to Tests/e2e/artifacts/.
"""

import re
import time

from playwright.sync_api import expect

from conftest import Server, call
from screenshot import stage
from viewer_support import ARTIFACTS, ROWS, append, browser, follow, open_viewer, page, row_texts  # noqa: F401 (fixtures)


def test_lines_appended_to_a_tailed_file_show_within_a_second(server, page):
    log = follow(server, "app", [f"old {i}" for i in range(1, 4)])
    open_viewer(page, server, "tail=app")
    expect(page.locator(ROWS)).to_have_count(3)
    for i in range(3):
        append(log, [f"fresh line {i}"])
        started = time.monotonic()
        fresh = page.locator("#log .msg").filter(has_text=re.compile(f"^fresh line {i}$"))
        expect(fresh).to_have_count(1, timeout=1000)
        assert time.monotonic() - started < 1.0
    last = page.locator(ROWS).last
    expect(last.locator(".src")).to_have_text("app")
    expect(last.locator("time")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d\.\d{3}$"))
    assert row_texts(page) == ["old 1", "old 2", "old 3", "fresh line 0", "fresh line 1", "fresh line 2"]


def test_a_tail_and_a_topic_share_one_connection(server, page):
    log = follow(server, "web", ["GET / 200"])
    assert call(server, "POST", "/topics", {"name": "deploys"})[0] == 201
    streams = []
    page.on("request", lambda r: streams.append(r.url) if r.resource_type == "eventsource" else None)
    # Keep every EventSource the page makes, to count those still open.
    page.add_init_script("""
        const Native = window.EventSource;
        window.__eventSources = [];
        window.EventSource = class extends Native {
            constructor(...args) { super(...args); window.__eventSources.push(this); }
        };
    """)
    open_viewer(page, server, "tail=web&topic=deploys")
    expect(page.locator(ROWS)).to_have_count(1)
    append(log, ["GET /health 200"])
    assert call(server, "POST", "/topics/deploys/messages", text="v1.2.3 rolled out")[0] == 201
    assert call(server, "POST", "/topics/deploys/messages", body={"data": {"version": "1.2.4"}, "event": "deploy"})[0] == 201
    expect(page.locator(ROWS)).to_have_count(4)
    assert row_texts(page, "tail:web") == ["GET / 200", "GET /health 200"]
    assert row_texts(page, "topic:deploys") == ["v1.2.3 rolled out", 'deploy{"version":"1.2.4"}']
    # One stream for both, on /events, and each source in its own colour.
    assert len(streams) == 1, streams
    assert "/events?" in streams[0] and "tail=web" in streams[0] and "topic=deploys" in streams[0]
    colour = "rows => [...new Set(rows.map(r => getComputedStyle(r).borderLeftColor))]"
    web = page.eval_on_selector_all(f'{ROWS}[data-source="tail:web"]', colour)
    deploys = page.eval_on_selector_all(f'{ROWS}[data-source="topic:deploys"]', colour)
    assert len(web) == 1 and len(deploys) == 1 and web != deploys
    # Adding a source through the page replaces the stream; there is still only one open.
    append(server.root / "other.log", ["other 1"])
    assert call(server, "POST", "/tails", {"path": str(server.root / "other.log"), "name": "other"})[0] == 201
    page.get_by_test_id("tail-list").locator('[data-source="tail:other"] input').check()
    expect(page.locator(f'{ROWS}[data-source="tail:other"]')).to_have_count(1)
    assert len(streams) == 2 and "tail=other" in streams[1] and "lastEventId=tail%3Aweb%3D" in streams[1], streams
    assert page.evaluate("window.__eventSources.filter(e => e.readyState !== EventSource.CLOSED).length") == 1
    # The sources that were open resume: nothing of web or deploys came twice.
    assert row_texts(page, "tail:web") == ["GET / 200", "GET /health 200"]
    expect(page).to_have_url(f"{server.url}/#tail=web&topic=deploys&tail=other")


def test_a_dropped_connection_resumes_without_losing_lines(server, page):
    log = follow(server, "app", [f"line {i}" for i in range(1, 6)])
    open_viewer(page, server, "tail=app")
    expect(page.locator(ROWS)).to_have_count(5)
    append(log, [f"line {i}" for i in range(6, 11)])
    expect(page.locator(ROWS)).to_have_count(10)

    port, root = server.port, server.root
    server.stop()  # SIGTERM: the stream ends with `end` (shutdown), the browser retries
    expect(page.locator(".notice-end")).to_have_count(1)
    expect(page.get_by_test_id("connection")).not_to_have_attribute("data-state", "live")
    append(log, [f"line {i}" for i in range(11, 31)])
    time.sleep(4)  # longer than the 3 s retry: the browser finds nobody at least once

    again = Server("--port", str(port), "--allow-root", str(root))
    try:
        status, body = call(again, "POST", "/tails", {"path": str(log), "name": "app"})
        assert status == 201, body
        append(log, [f"line {i}" for i in range(31, 41)])
        expect(page.locator(ROWS)).to_have_count(40, timeout=15_000)
        expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
        assert row_texts(page) == [f"line {i}" for i in range(1, 41)]
        append(log, ["line 41"])
        expect(page.locator(ROWS)).to_have_count(41)
        assert row_texts(page)[-1] == "line 41"
    finally:
        again.stop()


def test_a_source_missing_after_a_restart_is_waited_for_and_resumes(server, page):
    log = follow(server, "app", ["line 1", "line 2"])
    open_viewer(page, server, "tail=app")
    expect(page.locator(ROWS)).to_have_count(2)
    port, root = server.port, server.root
    server.stop()
    append(log, ["line 3", "line 4"])
    # The new server does not know the tail: its stream answers 404, and the page waits for the tail to come back.
    again = Server("--port", str(port), "--allow-root", str(root))
    try:
        expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "waiting", timeout=10_000)
        expect(page.get_by_test_id("chip")).to_contain_text("waiting")
        assert call(again, "POST", "/tails", {"path": str(log), "name": "app"})[0] == 201
        append(log, ["line 5"])
        expect(page.locator(ROWS)).to_have_count(5, timeout=10_000)
        assert row_texts(page) == [f"line {i}" for i in range(1, 6)]
        expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    finally:
        again.stop()


def test_filter_includes_matches_regexes_and_excludes(server, page):
    follow(server, "web", [
        "GET /index.html 200",
        "POST /login 401",
        "GET /health 200",
        "ERROR db timeout after 30s",
        "get /lower 404",
    ])
    open_viewer(page, server, "tail=web")
    expect(page.locator(ROWS)).to_have_count(5)

    page.get_by_test_id("filter").fill("get")
    expect(page.locator(ROWS)).to_have_count(3)
    assert row_texts(page) == ["GET /index.html 200", "GET /health 200", "get /lower 404"]
    marks = page.eval_on_selector_all("#log mark", "ms => ms.map(m => m.textContent)")
    assert marks == ["GET", "GET", "get"]

    page.get_by_test_id("exclude").fill("health")
    expect(page.locator(ROWS)).to_have_count(2)
    assert row_texts(page) == ["GET /index.html 200", "get /lower 404"]

    # Regex: a status of 4xx at the end; the exclude still applies.
    page.get_by_test_id("exclude").fill("")
    page.locator("label.toggle").click()
    expect(page.get_by_test_id("regex")).to_be_checked()
    page.get_by_test_id("filter").fill(r"\b4\d\d$")
    expect(page.locator(ROWS)).to_have_count(2)
    assert row_texts(page) == ["POST /login 401", "get /lower 404"]
    assert page.eval_on_selector_all("#log mark", "ms => ms.map(m => m.textContent)") == ["401", "404"]
    page.get_by_test_id("exclude").fill("^get")
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page).to_have_url(f"{server.url}/#tail=web&q=%5Cb4%5Cd%5Cd%24&x=%5Eget&re=1")

    # New lines go through the same filter.
    append(server.root / "web.log", ["PUT /item 409", "PUT /item 201"])
    expect(page.locator(ROWS)).to_have_count(2)
    assert row_texts(page) == ["POST /login 401", "PUT /item 409"]

    # An invalid regex is reported and filters nothing; the exclude still applies.
    page.get_by_test_id("filter").fill("(")
    expect(page.get_by_test_id("filter-error")).to_be_visible()
    expect(page.get_by_test_id("filter")).to_have_attribute("aria-invalid", "")
    expect(page.locator(ROWS)).to_have_count(4)

    # Esc in the field clears it; everything is back.
    page.get_by_test_id("exclude").press("Escape")
    page.get_by_test_id("filter").press("Escape")
    expect(page.locator(ROWS)).to_have_count(7)
    expect(page.get_by_test_id("filter-error")).to_be_hidden()


def test_markup_in_lines_and_messages_is_text_and_never_runs(server, page):
    hostile = [
        "<script>window.__xss=1</script>",
        '<img src=x onerror="window.__xss=1">',
        '\x1b[31m<img src=y onerror="window.__xss=2">\x1b[0m and <b>bold</b>',
    ]
    follow(server, "evil", hostile)
    assert call(server, "POST", "/topics", {"name": "chat"})[0] == 201
    open_viewer(page, server, "tail=evil&topic=chat")
    expect(page.locator(ROWS)).to_have_count(3)
    call(server, "POST", "/topics/chat/messages", text='<svg onload="window.__xss=3">')
    call(server, "POST", "/topics/chat/messages", body={"data": {"html": "<img src=z onerror=window.__xss=4>"}})
    call(server, "POST", "/topics/chat/messages", body={"data": "x", "event": "<script>window.__xss=5</script>"})
    expect(page.locator(ROWS)).to_have_count(6)
    # A highlight cuts through the markup too.
    page.get_by_test_id("filter").fill("img")
    expect(page.locator(ROWS)).to_have_count(3)
    page.get_by_test_id("filter").fill("")
    expect(page.locator(ROWS)).to_have_count(6)
    page.wait_for_timeout(300)

    assert row_texts(page, "tail:evil") == [
        hostile[0], hostile[1], '<img src=y onerror="window.__xss=2"> and <b>bold</b>']
    assert row_texts(page, "topic:chat") == [
        '<svg onload="window.__xss=3">', '{"html":"<img src=z onerror=window.__xss=4>"}',
        "<script>window.__xss=5</script>x"]
    assert page.evaluate("window.__xss") is None
    assert page.locator("#log script, #log img, #log svg, #log b").count() == 0


def test_a_hundred_thousand_lines_do_not_freeze_the_page(server, page):
    log = follow(server, "flood", ["start"])
    open_viewer(page, server, "tail=flood")
    expect(page.locator(ROWS)).to_have_count(1)
    # Measure the longest time between two frames, and the largest DOM, while the lines pour in.
    page.evaluate("""() => {
        window.__probe = { maxGap: 0, maxRows: 0, last: performance.now(), long: [], keys: [] };
        // How long a key waits before the page handles it.
        addEventListener("keydown", (e) => __probe.keys.push(performance.now() - e.timeStamp), true);
        new PerformanceObserver(l => l.getEntries().forEach(e => __probe.long.push([Math.round(e.startTime), Math.round(e.duration)]))).observe({type: 'longtask'});
        const frame = (now) => {
            __probe.maxGap = Math.max(__probe.maxGap, now - __probe.last);
            __probe.last = now;
            __probe.maxRows = Math.max(__probe.maxRows, document.getElementById('log').childElementCount);
            if (!__probe.stop) requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
    }""")
    started = time.monotonic()
    append(log, [f"flood line {i} " + "x" * 40 for i in range(1, 100_001)])
    # The page answers keys while it reads: pause and resume a few times.
    for pressed in ["true", "false", "true", "false"]:
        page.wait_for_timeout(300)
        page.keyboard.press("p")
        expect(page.get_by_test_id("pause")).to_have_attribute("aria-pressed", pressed, timeout=2000)
    expect(page.get_by_test_id("stat-received")).to_have_text("100,001 received", timeout=20_000)
    expect(page.locator(ROWS).last.locator(".msg")).to_have_text("flood line 100000 " + "x" * 40)
    elapsed = time.monotonic() - started
    probe = page.evaluate("__probe.stop = true, __probe")
    rows = page.locator("#log .row").count()
    print(f"100,000 lines in {elapsed:.1f} s; longest frame gap {probe['maxGap']:.0f} ms; at most {probe['maxRows']} rows;",
          f"key delays {[round(x) for x in probe['keys']]} ms; long tasks", sorted(probe["long"], key=lambda x: -x[1])[:5])
    assert rows == 5000
    assert probe["maxRows"] <= 5000
    assert len(probe["keys"]) == 4 and max(probe["keys"]) < 500, probe["keys"]
    assert probe["maxGap"] < 1000, probe["maxGap"]
    # The store keeps more than the DOM: a filter finds lines that had left the screen.
    page.get_by_test_id("filter").fill("flood line 60000 ")
    expect(page.locator(ROWS)).to_have_count(1)


def test_control_events_are_notices(server, page):
    log = follow(server, "app", ["before"])
    open_viewer(page, server, "tail=app")
    expect(page.locator(ROWS)).to_have_count(1)
    log.write_text("")
    append(log, ["after truncation"])
    notice = page.locator(".notice-truncated")
    expect(notice).to_have_count(1)
    expect(notice).to_have_attribute("role", "note")
    expect(notice.locator(".kind")).to_have_text("truncated")
    expect(notice.locator(".msg")).to_contain_text(str(log))
    expect(page.locator(ROWS).last.locator(".msg")).to_have_text("after truncation")
    # Notices are never filtered away.
    page.get_by_test_id("filter").fill("nothing matches this")
    expect(page.locator(ROWS)).to_have_count(0)
    expect(notice).to_have_count(1)
    # Deleting the tail ends its stream with a notice; the page stops asking for it.
    assert call(server, "DELETE", "/tails/app")[0] == 204
    expect(page.locator(".notice-deleted, .notice-end")).not_to_have_count(0)
    expect(page.get_by_test_id("legend").locator('[data-source="tail:app"]')).to_have_count(0)


def test_ansi_colours_render_or_strip(server, page):
    follow(server, "color", [
        "\x1b[1;31mERROR\x1b[0m plain \x1b[38;5;208morange\x1b[0m \x1b[42;30mok\x1b[m",
        "\x1b]0;window title\x07\x1b[2K\x1b[38;2;10;20;30mtrue colour\x1b[39m \x1b[94mbright\x1b[0m",
    ])
    open_viewer(page, server, "tail=color")
    message = page.locator(f"{ROWS} .msg").first
    expect(message).to_have_text("ERROR plain orange ok")
    second = page.locator(f"{ROWS} .msg").nth(1)
    expect(second).to_have_text("true colour bright")  # other escapes (a title, erase line) are dropped
    assert second.locator("span[style*='rgb(10, 20, 30)']").text_content() == "true colour"
    assert second.locator("span.a-fg12").text_content() == "bright"
    assert message.locator("span.a-fg1.a-b").text_content() == "ERROR"
    assert message.locator("span.a-bg2.a-fg0").text_content() == "ok"
    assert message.locator("span[style*='rgb(255, 135, 0)']").text_content() == "orange"
    red = message.locator("span.a-fg1").evaluate("e => getComputedStyle(e).color")
    assert red != message.evaluate("e => getComputedStyle(e).color")
    page.keyboard.press("a")
    expect(page.get_by_test_id("ansi")).not_to_be_checked()
    expect(message).to_have_text("ERROR plain orange ok")
    assert page.locator("#log .msg span").count() == 0
    page.keyboard.press("a")
    assert message.locator("span.a-fg1.a-b").text_content() == "ERROR"


def test_pause_counts_what_arrives_and_scrolling_up_stops_following(server, page):
    log = follow(server, "app", [f"line {i}" for i in range(1, 201)])
    page.set_viewport_size({"width": 1000, "height": 500})
    page.goto(f"{server.url}/")
    page.get_by_test_id("history").select_option("1000")
    page.get_by_test_id("tail-list").locator('[data-source="tail:app"] input').check()
    expect(page.locator(ROWS)).to_have_count(200)
    log_box = page.get_by_test_id("log")
    at_bottom = "e => e.scrollHeight - e.scrollTop - e.clientHeight < 2"
    assert log_box.evaluate(at_bottom)
    log_box.focus()  # keys go to the page, not to the checkbox just clicked (Space would untick it)

    page.keyboard.press("p")
    expect(page.get_by_test_id("pause")).to_have_attribute("aria-pressed", "true")
    append(log, ["while paused 1", "while paused 2", "while paused 3"])
    expect(page.get_by_test_id("pause")).to_have_text("Resume (3)")
    expect(page.get_by_test_id("stat-paused")).to_have_text("paused: 3 new")
    expect(page.locator(ROWS)).to_have_count(200)
    page.keyboard.press(" ")
    expect(page.locator(ROWS)).to_have_count(203)
    assert log_box.evaluate(at_bottom)

    # Scrolling up lets go of the bottom; new lines do not move the view; End comes back.
    log_box.hover()
    page.mouse.wheel(0, -600)
    expect(page.get_by_test_id("jump")).to_be_visible()
    top = log_box.evaluate("e => e.scrollTop")
    append(log, ["while reading 1", "while reading 2"])
    expect(page.locator(ROWS)).to_have_count(205)
    expect(page.get_by_test_id("jump")).to_have_text("Jump to live ↓ 2 new")
    assert log_box.evaluate("e => e.scrollTop") == top
    page.keyboard.press("End")
    expect(page.get_by_test_id("jump")).to_be_hidden()
    assert log_box.evaluate(at_bottom)
    page.keyboard.press("c")
    expect(page.locator(ROWS)).to_have_count(0)


def test_sources_are_managed_from_the_page(server, page):
    (server.root / "svc.log").write_text("svc started\n")
    open_viewer(page, server)
    form = page.get_by_test_id("tail-form")
    message = page.get_by_test_id("tail-message")

    form.get_by_test_id("tail-path").fill("/etc/passwd")
    form.get_by_test_id("tail-submit").click()
    expect(message).to_contain_text("outside the allowed roots")
    expect(message).to_contain_text("403 outside_allowed_roots")
    form.get_by_test_id("tail-path").fill(str(server.root / "missing.log"))
    form.get_by_test_id("tail-submit").click()
    expect(message).to_contain_text("404 not_found")
    form.get_by_test_id("tail-path").fill("relative.log")
    form.get_by_test_id("tail-submit").click()
    expect(message).to_contain_text("400 invalid_path")

    form.get_by_test_id("tail-path").fill(str(server.root / "svc.log"))
    form.get_by_test_id("tail-name").fill("svc")
    form.get_by_test_id("tail-submit").click()
    expect(message).to_have_text(f"Following {server.root / 'svc.log'} as svc.")
    expect(page.get_by_test_id("legend").locator('[data-source="tail:svc"]')).to_have_count(1)
    expect(page.locator(ROWS)).to_have_count(1)

    page.get_by_test_id("topic-name").fill("bad..name")
    page.get_by_test_id("topic-submit").click()
    expect(page.get_by_test_id("topic-message")).to_contain_text("400 invalid_name")
    page.get_by_test_id("topic-name").fill("alerts")
    page.get_by_test_id("topic-submit").click()
    expect(page.get_by_test_id("legend").locator('[data-source="topic:alerts"]')).to_have_count(1)
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    page.get_by_test_id("publish-data").fill("disk 91% on db-1")
    page.get_by_test_id("publish-data").press("Control+Enter")
    expect(page.get_by_test_id("publish-message")).to_contain_text("to 1 subscriber")
    expect(page.locator(f'{ROWS}[data-source="topic:alerts"] .msg')).to_have_text("disk 91% on db-1")

    # A shared URL opens the same view.
    shared = page.url
    other = page.context.new_page()
    other.goto(shared)
    expect(other.locator(ROWS)).to_have_count(2)
    other.close()


def test_the_readme_screenshot_can_be_made(server, page):
    """screenshot.py's scene (docs/viewer.png): two files, a topic, colours and a rotation notice."""
    page.set_viewport_size({"width": 1360, "height": 720})
    stage(server, page)
    expect(page.locator("#log .row.notice-rotated")).to_have_count(1)
    assert page.locator("#log .a-fg1.a-b").count() == 1
    page.screenshot(path=str(ARTIFACTS / "viewer.png"))
