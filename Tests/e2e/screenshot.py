"""Regenerates docs/viewer.png, the viewer as the README shows it: two files and a topic in one view, coloured lines,
a rotation notice.

    SPOUT_BIN=/path/to/spout Tests/e2e/.venv-e2e/bin/python Tests/e2e/screenshot.py [out.png]

test_viewer.py runs `stage` too, so the script keeps working.
"""

import json
import pathlib
import sys
import time
import urllib.request

from playwright.sync_api import expect, sync_playwright

from conftest import REPO, Server

ESC = "\x1b"
LEVELS = {"INFO": f"{ESC}[32mINFO {ESC}[0m", "WARN": f"{ESC}[33mWARN {ESC}[0m", "ERROR": f"{ESC}[1;31mERROR{ESC}[0m"}

API = [
    ("INFO", "listening on :8443 (tls)"),
    ("INFO", f"GET /orders?page=2 {ESC}[36m200{ESC}[0m 12ms"),
    ("INFO", f"POST /orders {ESC}[36m201{ESC}[0m 48ms"),
    ("WARN", "slow query: SELECT * FROM orders WHERE customer_id = $1 (812ms)"),
    ("INFO", f"GET /health {ESC}[36m200{ESC}[0m 1ms"),
    ("ERROR", f"POST /payments {ESC}[31m502{ESC}[0m upstream payments-svc: connection reset by peer"),
    ("INFO", f"GET /orders/18342 {ESC}[36m200{ESC}[0m 9ms"),
]
WORKER = [
    "job=invoice-render id=7781 started",
    "job=invoice-render id=7781 done in 1.9s",
    "job=email-digest id=7782 started",
    f"job=email-digest id=7782 {ESC}[33mretrying{ESC}[0m (smtp 421, attempt 2/5)",
]
ORDERS = [
    {"data": {"order": 18342, "customer": "c-2291", "total": 129.5, "currency": "EUR"}, "event": "created"},
    {"data": {"order": 18342, "status": "paid"}, "event": "updated"},
    {"data": "manual review requested for order 18340"},
]


def post(server, path, body):
    request = urllib.request.Request(server.url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def api_line(level, text, second):
    return f"2026-11-25T10:14:{second:02d}Z {LEVELS[level]} {text}\n"


def stage(server, page):
    """Fills the server with two files and a topic, opens them in `page`, and waits for the last line."""
    api, worker = server.root / "api.log", server.root / "worker.log"
    api.write_text("".join(api_line(level, text, i) for i, (level, text) in enumerate(API[:3])))
    worker.write_text("".join(f"{line}\n" for line in WORKER[:2]))
    post(server, "/tails", {"path": str(api), "name": "api"})
    post(server, "/tails", {"path": str(worker), "name": "worker"})
    post(server, "/topics", {"name": "orders"})
    page.goto(f"{server.url}/#tail=api&tail=worker&topic=orders")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    expect(page.locator("#log .row")).to_have_count(5)

    def pause():
        time.sleep(0.06)

    with open(api, "a") as f:
        f.write(api_line(*API[3], 3))
    pause()
    post(server, "/topics/orders/messages", ORDERS[0])
    pause()
    with open(worker, "a") as f:
        f.write(f"{WORKER[2]}\n")
    pause()
    with open(api, "a") as f:
        f.write(api_line(*API[4], 4) + api_line(*API[5], 5))
    pause()
    post(server, "/topics/orders/messages", ORDERS[1])
    pause()
    # logrotate: the old file is read to its end, then the new one is followed, with a notice between.
    with open(worker, "a") as f:
        f.write(f"{WORKER[3]}\n")
    worker.rename(server.root / "worker.log.1")
    worker.write_text("job=email-digest id=7782 done in 4.2s\n")
    expect(page.locator("#log .notice-rotated")).to_have_count(1)
    with open(api, "a") as f:
        f.write(api_line(*API[6], 6))
    pause()
    post(server, "/topics/orders/messages", ORDERS[2])
    expect(page.locator("#log .row")).to_have_count(16)
    expect(page.get_by_test_id("topic-list")).to_contain_text("3 published")  # the lists refresh every 3 s
    page.mouse.move(0, 0)


def main():
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "viewer.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    server = Server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1360, "height": 720}, color_scheme="dark")
            stage(server, page)
            page.screenshot(path=str(out))
            browser.close()
    finally:
        server.stop()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
