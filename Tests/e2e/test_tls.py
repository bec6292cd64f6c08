"""HTTPS through libmicrohttpd's GnuTLS: a self-signed certificate made with openssl, checked by curl --cacert; streams,
resume and shutdown as over HTTP; the viewer in Chromium; and a server that refuses to start on a bad pair of files.
"""

import json
import os
import re
import socket
import ssl
import subprocess
import time

import pytest
from playwright.sync_api import expect, sync_playwright

from conftest import REPO, Server

CHROMIUM = "/usr/bin/chromium"
SPOUT = str(REPO / ".build" / "debug" / "spout")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed P-256 certificate for localhost and 127.0.0.1, its key, and a key of another certificate."""
    folder = tmp_path_factory.mktemp("tls")
    for name, subject in (("server", "/CN=localhost"), ("other", "/CN=other")):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", str(folder / f"{name}.key"), "-out", str(folder / f"{name}.crt"), "-days", "2",
                        "-subj", subject, "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, capture_output=True)
    return folder


@pytest.fixture
def tls_server(certificate):
    running = Server("--tls-cert", str(certificate / "server.crt"), "--tls-key", str(certificate / "server.key"))
    yield running
    running.stop()


def curl(certificate, *args):
    return subprocess.run(["curl", "-sS", "--cacert", str(certificate / "server.crt"), *args],
                          capture_output=True, text=True, timeout=30)


def events(text):
    """(id, event, data) of each event in an SSE text."""
    found = []
    for block in text.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            if ":" in line and not line.startswith(":"):
                name, _, value = line.partition(":")
                fields.setdefault(name, value[1:] if value.startswith(" ") else value)
        if "data" in fields:
            found.append((fields.get("id"), fields.get("event", "message"), fields["data"]))
    return found


def test_curl_trusts_the_certificate_and_http_is_refused(certificate, tls_server):
    assert tls_server.url.startswith("https://localhost:")
    answer = curl(certificate, "-i", f"{tls_server.url}/healthz")
    assert answer.returncode == 0 and "200" in answer.stdout.splitlines()[0] and '"ok"' in answer.stdout
    # Without the certificate as a trusted authority, curl refuses it: it is checked, not skipped.
    assert subprocess.run(["curl", "-sS", f"{tls_server.url}/healthz"], capture_output=True).returncode != 0
    assert subprocess.run(["curl", "-sS", "--max-time", "3", f"http://127.0.0.1:{tls_server.port}/healthz"],
                          capture_output=True).returncode != 0


@pytest.mark.parametrize("version,accepted", [("-tls1", False), ("-tls1_1", False), ("-tls1_2", True), ("-tls1_3", True)])
def test_only_tls_1_2_and_1_3_are_offered(certificate, tls_server, version, accepted):
    # SECLEVEL=0 lets this openssl offer 1.0 and 1.1 at all: the refusal must be the server's.
    handshake = subprocess.run(
        ["openssl", "s_client", version, "-cipher", "DEFAULT:@SECLEVEL=0", "-connect", f"127.0.0.1:{tls_server.port}",
         "-CAfile", str(certificate / "server.crt")],
        input="", capture_output=True, text=True, timeout=30)
    assert (handshake.returncode == 0 and "Cipher is (NONE)" not in handshake.stdout) == accepted, handshake.stdout[-400:]


def test_a_stream_resumes_and_ends_cleanly_at_shutdown_over_tls(certificate, tls_server):
    base = tls_server.url
    assert curl(certificate, "-d", '{"name":"secure"}', f"{base}/topics").returncode == 0
    stream = subprocess.Popen(["curl", "-sSN", "--cacert", str(certificate / "server.crt"), f"{base}/topics/secure/events"],
                              stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    ids = []
    for n in range(3):
        answer = curl(certificate, "-H", "Content-Type: text/plain", "-d", f"m{n}", f"{base}/topics/secure/messages")
        ids.append(json.loads(answer.stdout)["id"])
    resumed = curl(certificate, "-N", "--max-time", "2", "-H", f"Last-Event-ID: {ids[0]}", f"{base}/topics/secure/events")
    assert [(i, d) for i, e, d in events(resumed.stdout) if e == "message"] == [(ids[1], "m1"), (ids[2], "m2")]
    tls_server.stop()
    out, _ = stream.communicate(timeout=15)
    got = events(out)
    assert [d for _, e, d in got if e == "message"] == ["m0", "m1", "m2"]
    assert got[-1][1] == "end" and json.loads(got[-1][2])["reason"] == "shutdown"


@pytest.mark.parametrize("case", ["mismatched", "missing", "not a certificate", "encrypted", "damaged key",
                                  "damaged certificate", "out of order", "refused by GnuTLS"])
def test_a_bad_pair_of_files_refuses_to_start_and_says_why(certificate, case, tmp_path):
    # libmicrohttpd says "Failed to initialize TLS support" for a damaged file, a key of another certificate and a
    # chain out of order alike: each is now found in the files' DER and named.
    cert, key = certificate / "server.crt", certificate / "other.key"
    pem = (certificate / "server.crt").read_text()
    if case == "damaged key":
        key = tmp_path / "cut.key"
        key.write_text((certificate / "server.key").read_text()[:120] + "\n-----END PRIVATE KEY-----\n")
    if case == "damaged certificate":
        cert = tmp_path / "damaged.crt"
        cert.write_text("-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n")
    if case == "out of order":
        # An intermediate first (any other certificate stands for one here), then the server's own.
        cert, key = tmp_path / "chain.crt", certificate / "server.key"
        cert.write_text((certificate / "other.crt").read_text() + pem)
    if case == "refused by GnuTLS":
        # Whole DER, but not a key GnuTLS takes (an EC key saved without its public half): its message said the files
        # were "not a certificate and its matching key", which they are.
        key = tmp_path / "nopublic.key"
        subprocess.run(["openssl", "ec", "-in", str(certificate / "server.key"), "-no_public", "-out", str(key)],
                       check=True, capture_output=True)
    if case == "missing":
        cert = certificate / "nope.crt"
    if case == "not a certificate":
        cert = certificate / "server.key"
    if case == "encrypted":
        # The right key, with a passphrase: it was called a key that does not match.
        key = tmp_path / "encrypted.key"
        subprocess.run(["openssl", "pkey", "-in", str(certificate / "server.key"), "-aes256", "-passout", "pass:secret",
                        "-out", str(key)], check=True, capture_output=True)
    started = subprocess.run([SPOUT, "serve", "--port", "0", "--in-memory", "--tls-cert", str(cert), "--tls-key", str(key)],
                             capture_output=True, text=True, timeout=30)
    assert started.returncode != 0
    said = started.stderr
    expected = {"mismatched": f"--tls-key {key} is not the private key of the certificate in --tls-cert {cert}",
                "missing": "cannot be read", "not a certificate": "no PEM certificate",
                "encrypted": "encrypted with a passphrase",
                "damaged key": f"--tls-key {key} is damaged or cut short: it does not decode to a private key",
                "damaged certificate": f"--tls-cert {cert} is damaged or cut short: it does not decode to a certificate",
                "out of order": "is out of order: the key is certificate 2's, which must come first",
                "refused by GnuTLS": "GnuTLS could not use the --tls-cert and --tls-key files, though each decodes"}
    assert expected[case] in said, said


def expired_certificate(folder):
    """A self-signed certificate for localhost that was valid only in January 2020 (openssl ca sets both dates)."""
    (folder / "index.txt").write_text("")
    (folder / "serial").write_text("01\n")
    (folder / "ca.conf").write_text(
        f"[ca]\ndefault_ca = any\n[any]\ndatabase = {folder}/index.txt\nnew_certs_dir = {folder}\n"
        f"serial = {folder}/serial\npolicy = names\ndefault_md = sha256\n[names]\ncommonName = supplied\n")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(folder / "old.key"), "-out", str(folder / "old.csr"), "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "ca", "-batch", "-selfsign", "-config", str(folder / "ca.conf"), "-keyfile",
                    str(folder / "old.key"), "-in", str(folder / "old.csr"), "-out", str(folder / "old.crt"),
                    "-startdate", "20200101000000Z", "-enddate", "20200201000000Z"], check=True, capture_output=True)
    return folder / "old.crt", folder / "old.key"


def log_once_it_has(server, text, timeout=5):
    """The server's log once `text` is in it (the line after "listening on" may come a moment later), or as it is."""
    deadline = time.monotonic() + timeout
    while text not in server.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.log_path.read_text()


def test_the_log_says_when_the_certificate_has_expired_or_soon_will(certificate, tmp_path):
    # Clients refuse an expired certificate without a word to the server: the start log is where it is told.
    cert, key = expired_certificate(tmp_path)
    old = Server("--tls-cert", str(cert), "--tls-key", str(key))
    try:
        said = log_once_it_has(old, "certificate")
        assert "warning" in said and "the --tls-cert certificate expired at 2020-02-01T00:00:00Z" in said, said
        refused = subprocess.run(["curl", "-sS", "--cacert", str(cert), f"{old.url}/healthz"], capture_output=True, text=True)
        assert refused.returncode != 0 and "expired" in refused.stderr, refused.stderr
    finally:
        old.stop()
    # The module's certificate lasts two days: under two weeks, so the log warns with the time left.
    soon = Server("--tls-cert", str(certificate / "server.crt"), "--tls-key", str(certificate / "server.key"))
    try:
        said = log_once_it_has(soon, "certificate")
        assert re.search(r"the --tls-cert certificate expires at \S+Z, in (a day|2 days): renew it", said), said
    finally:
        soon.stop()


def test_the_log_warns_of_a_key_or_secret_that_other_users_may_read(certificate, tmp_path):
    # A key left 0644 (a copy, an unpacked archive) started without a word.
    key, secret = tmp_path / "open.key", tmp_path / "secret.txt"
    key.write_text((certificate / "server.key").read_text())
    secret.write_text("s" * 40)
    key.chmod(0o644)
    secret.chmod(0o640)
    running = Server("--tls-cert", str(certificate / "server.crt"), "--tls-key", str(key), "--auth-secret", str(secret))
    try:
        said = log_once_it_has(running, "certificate")
        for flag, path in (("--tls-key", key), ("--auth-secret", secret)):
            assert f"warning spout: [spout] {flag} {path} may be read by other users of this machine" in said, said
    finally:
        running.stop()
    closed = Server("--tls-cert", str(certificate / "server.crt"), "--tls-key", str(certificate / "server.key"))
    try:
        assert "other users" not in log_once_it_has(closed, "certificate")
    finally:
        closed.stop()


def test_the_viewer_streams_over_tls_in_chromium(certificate, tls_server):
    assert curl(certificate, "-d", '{"name":"news"}', f"{tls_server.url}/topics").returncode == 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        # Chromium does not know the test's authority; curl above checked the certificate itself.
        context = browser.new_context(ignore_https_errors=True)
        page = context.new_page()
        page.goto(f"{tls_server.url}/#topic=news")
        expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
        assert curl(certificate, "-H", "Content-Type: text/plain", "-d", "over tls",
                    f"{tls_server.url}/topics/news/messages").returncode == 0
        expect(page.locator("#log .row:not(.notice) .msg")).to_have_text(["over tls"])
        browser.close()


@pytest.mark.parametrize("command", [["watch", "--topic", "news"], ["publish", "news", "hello"]])
def test_the_console_says_it_speaks_plain_http_to_an_https_server(tls_server, command):
    done = subprocess.run([SPOUT, command[0], "--server", f"http://127.0.0.1:{tls_server.port}", *command[1:]],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "plain HTTP" in done.stderr, done.stderr


def server_cpu_seconds(server):
    fields = open(f"/proc/{server.process.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client_hello():
    """The bytes of a real TLS ClientHello, made by Python's ssl on memory buffers."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    outgoing = ssl.MemoryBIO()
    tls = context.wrap_bio(ssl.MemoryBIO(), outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


@pytest.mark.parametrize("sent", ["part of a ClientHello", "a whole ClientHello, then nothing"])
def test_a_handshake_that_stalls_costs_the_server_no_cpu_while_others_are_served(certificate, tls_server, sent):
    # libmicrohttpd 0.9.75's epoll loop kept a connection whose handshake waited for bytes on its ready list: one
    # stalled handshake kept a core busy until the header timeout. Over TLS its poll loop is used, which waits.
    hello = client_hello()
    stalled = []
    for _ in range(3):
        connection = socket.create_connection(("127.0.0.1", tls_server.port))
        connection.sendall(hello[:10] if sent == "part of a ClientHello" else hello)
        stalled.append(connection)
    try:
        time.sleep(0.3)
        before, start = server_cpu_seconds(tls_server), time.monotonic()
        time.sleep(2)
        share = (server_cpu_seconds(tls_server) - before) / (time.monotonic() - start)
        assert share < 0.3, f"the server used {share:.0%} of a core while {sent} waited"
        answer = curl(certificate, f"{tls_server.url}/healthz")
        assert answer.returncode == 0 and '"ok"' in answer.stdout
    finally:
        for connection in stalled:
            connection.close()
