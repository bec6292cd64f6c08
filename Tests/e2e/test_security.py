"""Security in a real Chromium against a real server: a page of another origin tries to use the user's browser against
a local Spout (and gets nothing), and the viewer signs in with a token whose cookie authorizes its EventSource; and
tokens signed here with headers and claims `spout token` never makes.
"""

import base64
import hashlib
import hmac
import http.client
import http.server
import json
import subprocess
import threading
import time

import pytest
from playwright.sync_api import expect, sync_playwright

from conftest import REPO, Server, call

CHROMIUM = "/usr/bin/chromium"
SPOUT = str(REPO / ".build" / "debug" / "spout")


def request(server, method, path, body=None, token=None, host=None):
    """A REST call with a token and a Host of its own, if given; returns (status, parsed JSON or None)."""
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if host:
        headers["Host"] = host
    return call(server, method, path, body=body, headers=headers)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def attacker(tmp_path):
    """A web server on another origin (another port of 127.0.0.1) that serves whatever page a test writes."""
    pages = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield pages, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_a_page_of_another_origin_cannot_publish_or_register_a_tail(server, browser, attacker):
    pages, origin = attacker
    assert request(server, "POST", "/topics", {"name": "private"})[0] == 201
    secret = server.root / "secret.log"
    secret.write_text("password=hunter2\n")
    target = server.url
    # What a hostile page does without any preflight: a no-cors fetch (text/plain, a CORS "simple request") and a
    # form-encoded form submitted into a hidden frame.
    pages["/evil.html"] = f"""<!doctype html><html><body>
      <iframe name="sink" style="display:none"></iframe>
      <form id="f" method="POST" action="{target}/tails" target="sink" enctype="application/x-www-form-urlencoded">
        <input name='{{"path":"{secret}","name":"stolen","x":"' value='"}}'>
      </form>
      <script>
        window.done = (async () => {{
          await fetch("{target}/topics/private/messages", {{method: "POST", mode: "no-cors", body: "planted",
                       headers: {{"Content-Type": "text/plain"}}}}).catch(() => null);
          await fetch("{target}/topics", {{method: "POST", mode: "no-cors", body: '{{"name":"planted"}}'}}).catch(() => null);
          document.getElementById("f").submit();
          await new Promise(r => setTimeout(r, 500));
          return true;
        }})();
      </script></body></html>"""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{origin}/evil.html")
    assert page.evaluate("window.done")
    context.close()
    status, topic = request(server, "GET", "/topics/private")
    assert status == 200 and topic["published"] == 0, topic
    assert request(server, "GET", "/topics/planted")[0] == 404
    assert request(server, "GET", "/tails")[1] == {"tails": []}
    log = server.log_path.read_text()
    assert "planted" not in log


def test_a_rebinding_host_is_refused(server):
    status, body = request(server, "GET", "/topics", host="evil.test")
    assert status == 403 and body["error"]["code"] == "forbidden_host"
    assert request(server, "GET", "/topics", host=f"localhost:{server.port}")[0] == 200


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("a-secret-for-the-browser-test-of-48-bytes-length!\n")
    return path


def mint(secret_file, *grants):
    return subprocess.run([SPOUT, "token", "--secret", str(secret_file), *grants, "--ttl", "10m"],
                          check=True, capture_output=True, text=True).stdout.strip()


def test_the_viewer_asks_for_a_token_and_its_cookie_authorizes_the_event_source(browser, secret_file):
    server = Server("--auth-secret", str(secret_file))
    try:
        admin = mint(secret_file, "--admin", "--publish", "*")
        reader = mint(secret_file, "--subscribe", "news")
        assert request(server, "POST", "/topics", {"name": "news"}, token=admin)[0] == 201
        assert request(server, "GET", "/topics")[0] == 401
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{server.url}/#topic=news")
        dialog = page.get_by_test_id("token-dialog")
        expect(dialog).to_be_visible()
        page.get_by_test_id("token-input").fill("not-a-token")
        page.get_by_test_id("token-submit").click()
        expect(page.get_by_test_id("token-message")).to_contain_text("refused")
        page.get_by_test_id("token-input").fill(reader)
        page.get_by_test_id("token-submit").click()
        expect(dialog).to_be_hidden()
        expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
        # The cookie is there for the browser to send, and out of the page's reach.
        cookies = {c["name"]: c for c in context.cookies()}
        assert cookies["spout_token"]["httpOnly"] and cookies["spout_token"]["sameSite"] == "Strict"
        assert "spout_token" not in page.evaluate("document.cookie")
        status, _ = request(server, "POST", "/topics/news/messages", {"data": "through the cookie"}, token=admin)
        assert status == 201
        expect(page.locator("#log .row:not(.notice) .msg")).to_have_text(["through the cookie"])
        context.close()
    finally:
        server.stop()


def test_an_audience_refuses_tokens_made_for_other_services(secret_file):
    server = Server("--auth-secret", str(secret_file), "--auth-audience", "spout.test")
    try:
        ours = mint(secret_file, "--admin", "--audience", "spout.test")
        assert request(server, "GET", "/topics", token=ours)[0] == 200
        # Signed with the same key, for another service, or for no one in particular: refused.
        for token, said in ((mint(secret_file, "--admin", "--audience", "billing.test"), "does not include spout.test"),
                            (mint(secret_file, "--admin"), "names no audience")):
            status, body = request(server, "GET", "/topics", token=token)
            assert status == 401 and said in body["error"]["message"], body
    finally:
        server.stop()
    # Without a key to check tokens with, an audience means nothing: refused before anything starts.
    refused = subprocess.run([SPOUT, "serve", "--in-memory", "--port", "0", "--auth-audience", "spout.test"],
                             capture_output=True, text=True, timeout=30)
    assert refused.returncode == 64 and "--auth-audience" in refused.stderr, refused.stderr


def hs256(secret_file, header, claims):
    """A token signed here with the server's secret, with whatever header and claims a test wants."""
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    signing_input = part(header) + "." + part(claims)
    key = secret_file.read_text().strip().encode()
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def test_a_token_is_read_as_rfc_7515_and_7519_say(secret_file):
    admin = {"spout": {"admin": True}, "exp": int(time.time()) + 600}
    plain = Server("--auth-secret", str(secret_file))
    audience = Server("--auth-secret", str(secret_file), "--auth-audience", "spout.test")
    try:
        # The same claims signed here are let in, so what follows is refused for what it adds, not for the signature.
        assert request(plain, "GET", "/topics", token=hs256(secret_file, {"alg": "HS256"}, admin))[0] == 200
        # RFC 7515 4.1.11: a token naming extensions its reader must understand (crit) is refused by one knowing none.
        status, body = request(plain, "GET", "/topics", token=hs256(secret_file, {"alg": "HS256", "crit": ["x-must"]}, admin))
        assert status == 401 and "crit" in body["error"]["message"], body
        # Without --auth-audience, aud is not read, whatever its form.
        for aud in (42, {"x": 1}, "someone.else", ["a", "b"]):
            assert request(plain, "GET", "/topics", token=hs256(secret_file, {"alg": "HS256"}, {**admin, "aud": aud}))[0] == 200, aud
        # With it, aud must be a string or an array of strings that includes the name.
        for aud, allowed in (("spout.test", True), (["x", "spout.test"], True), (42, False), ({"x": 1}, False)):
            status, body = request(audience, "GET", "/topics", token=hs256(secret_file, {"alg": "HS256"}, {**admin, "aud": aud}))
            assert (status == 200) == allowed, (aud, status, body)
            if not allowed:
                assert "audience" in body["error"]["message"] and "Decoding" not in body["error"]["message"], body
    finally:
        plain.stop()
        audience.stop()


def test_two_authorizations_are_refused_and_an_ignored_cookie_is_named(secret_file):
    server = Server("--auth-secret", str(secret_file))
    try:
        narrow, wide = mint(secret_file, "--subscribe", "a"), mint(secret_file, "--admin", "--subscribe", "*")
        # Two Authorization headers: the first was taken, so their order decided between 200 and 403.
        for first, second in ((narrow, wide), (wide, narrow)):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            connection.putrequest("GET", "/topics")
            connection.putheader("Authorization", f"Bearer {first}")
            connection.putheader("Authorization", f"Bearer {second}")
            connection.endheaders()
            answer = connection.getresponse()
            body = json.loads(answer.read())
            connection.close()
            assert answer.status == 400 and "one Authorization header; this one carries 2" in body["error"]["message"]
        # POST /session, which makes a lasting cookie of the header, took the first.
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.putrequest("POST", "/session")
        connection.putheader("Authorization", f"Bearer {narrow}")
        connection.putheader("Authorization", f"Bearer {wide}")
        connection.putheader("Content-Length", "0")
        connection.endheaders()
        answer = connection.getresponse()
        answer.read()
        connection.close()
        assert answer.status == 400 and answer.getheader("Set-Cookie") is None
        # A valid cookie sent by a page of another origin does not count (documented); the 401 asked for that cookie.
        for header, sender in (("Origin", "http://localhost:1"), ("Sec-Fetch-Site", "cross-site")):
            status, body = call(server, "GET", "/topics", headers={"Cookie": f"spout_token={wide}", header: sender})
            message = body["error"]["message"]
            assert status == 401 and "the spout_token cookie counts only for Spout's own pages" in message, body
            assert ("http://localhost:1" if header == "Origin" else "another site") in message
        assert call(server, "GET", "/topics", headers={"Cookie": f"spout_token={wide}"})[0] == 200
        status, body = call(server, "GET", "/topics")
        assert status == 401 and "counts only" not in body["error"]["message"]
    finally:
        server.stop()
