"""The command line from outside: settings from the environment, bad values refused in a sentence before anything
starts, and the console commands' behaviour at the edges (a closed pipe, an expired token, names that are not names).
"""

import os
import re
import select
import signal
import socket
import subprocess
import time

import pytest

from conftest import REPO, Server, call

SPOUT = os.environ.get("SPOUT_BIN", str(REPO / ".build" / "debug" / "spout"))


def run(*args, env=None, timeout=30):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SPOUT_")}
    return subprocess.run([SPOUT, *args], capture_output=True, text=True, timeout=timeout, env={**clean, **(env or {})})


def serve_briefly(*args, env=None):
    """`spout serve` on a free port, stopped as soon as it listens (or exits): its exit status and its log."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SPOUT_")}
    process = subprocess.Popen([SPOUT, "serve", "--port", "0", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env={**clean, **(env or {})})
    log = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        log += line
        if "listening on" in line:
            process.send_signal(signal.SIGTERM)
            log += process.stdout.read()
            break
    return process.wait(timeout=15), log


def test_version_is_the_contracts_version():
    declared = re.search(r"^  version: (\S+)$", (REPO / "openapi.yaml").read_text(), re.M).group(1)
    for args in (["--version"], ["serve", "--version"]):
        result = run(*args)
        assert result.returncode == 0 and result.stdout.strip() == declared, (args, result)


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_a_switch_in_the_environment_takes_the_usual_words_for_on(value, tmp_path):
    code, log = serve_briefly("--data-dir", str(tmp_path / "unused"), env={"SPOUT_IN_MEMORY": value})
    # SPOUT_IN_MEMORY with --data-dir is refused; that it is refused shows the switch was read as on.
    assert code != 0 and "SPOUT_IN_MEMORY keeps nothing on disk" in log, log


def test_a_switch_in_the_environment_with_another_word_is_refused():
    code, log = serve_briefly("--in-memory", env={"SPOUT_NO_AUTH": "maybe"})
    assert code == 64 and "SPOUT_NO_AUTH must be 1, true, yes or on" in log, log


def test_a_host_that_is_not_an_address_is_named_as_such_and_brackets_are_not_doubled():
    code, log = serve_briefly("--in-memory", "--host", "foo")
    assert code == 64 and "--host takes an IP address" in log and "without tokens" not in log, log
    code, log = serve_briefly("--in-memory", "--host", "[::1]")
    assert code == 0 and re.search(r"listening on http://\[::1\]:\d+", log), log


@pytest.mark.parametrize("ttl", ["999999999999999d", "9999999999999999h", "36501d"])
def test_token_refuses_a_lifetime_past_a_hundred_years_in_a_sentence(tmp_path, ttl):
    secret = tmp_path / "secret"
    secret.write_bytes(os.urandom(40))
    done = run("token", "--secret", str(secret), "--subscribe", "news", "--ttl", ttl)
    assert done.returncode == 64 and "over 100 years" in done.stderr and "Fatal" not in done.stderr, done.stderr


@pytest.mark.parametrize("grant", ["orders.*", "bad..name", "a/b"])
def test_token_refuses_a_grant_that_could_never_match(tmp_path, grant):
    secret = tmp_path / "secret"
    secret.write_bytes(os.urandom(40))
    done = run("token", "--secret", str(secret), "--publish", grant)
    assert done.returncode == 64 and "is not a name" in done.stderr, done.stderr


@pytest.mark.parametrize("args", [["watch", "--topic", "news&tail=app"], ["watch", "--tail", "a/../b"],
                                  ["publish", "news?x=1", "data"]])
def test_the_console_refuses_a_name_that_is_not_one_before_asking(args):
    # No server at all: the name is refused before any connection.
    done = run(*args, "--server", "http://127.0.0.1:9")
    assert done.returncode == 64 and "is not a name" in done.stderr, done.stderr


def test_watch_ends_when_its_reader_goes_away(server):
    assert call(server, "POST", "/topics", {"name": "news"})[0] == 201
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SPOUT_")}
    watch = subprocess.Popen([SPOUT, "watch", "--server", server.url, "--topic", "news"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=clean)
    try:
        time.sleep(0.5)
        assert call(server, "POST", "/topics/news/messages", text="first")[0] == 201
        assert watch.stdout.readline() == b"==> news <==\n" and watch.stdout.readline() == b"first\n"
        watch.stdout.close()
        # As `spout watch | head -2` does: the reader is gone, and the next line ends the writer.
        for n in range(50):
            assert call(server, "POST", "/topics/news/messages", text=f"more {n}")[0] == 201
            if watch.poll() is not None:
                break
            time.sleep(0.1)
        assert watch.wait(timeout=5) == -signal.SIGPIPE
    finally:
        if watch.poll() is None:
            watch.kill()


def test_watch_waits_for_a_source_that_is_not_there_yet_as_tail_f_waits_for_a_file(server, tmp_path):
    """The others are shown meanwhile; one that appears is read from its first message, as tail -F reads a new file."""
    assert call(server, "POST", "/topics", {"name": "here"})[0] == 201
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SPOUT_")}
    errors = tmp_path / "stderr"
    with open(errors, "w") as said:
        watch = subprocess.Popen([SPOUT, "watch", "--server", server.url, "--topic", "here", "--topic", "later"],
                                 stdout=subprocess.PIPE, stderr=said, env=clean, bufsize=0)
    try:
        # Published until the watch has it: it starts with new messages only.
        deadline = time.monotonic() + 10
        while not select.select([watch.stdout], [], [], 0.3)[0] and time.monotonic() < deadline:
            assert call(server, "POST", "/topics/here/messages", text="meanwhile")[0] == 201
        assert watch.stdout.readline() == b"==> here <==\n" and watch.stdout.readline() == b"meanwhile\n"
        assert watch.poll() is None, "it gave up on a topic that is not there yet"
        assert call(server, "POST", "/topics", {"name": "later"})[0] == 201
        assert call(server, "POST", "/topics/later/messages", text="first of later")[0] == 201
        # Within a few seconds (it looks every two), from the first message, and nothing before it twice.
        lines = []
        while b"first of later\n" not in lines:
            assert select.select([watch.stdout], [], [], 10)[0], f"never came: {lines}"
            lines.append(watch.stdout.readline())
        assert lines[-2:] == [b"==> later <==\n", b"first of later\n"], lines
        assert all(line in (b"\n", b"meanwhile\n", b"==> later <==\n", b"first of later\n") for line in lines), lines
        text = errors.read_text()
        assert text.count("topic later is not there; waiting for it") == 1 and "topic later has appeared" in text, text
    finally:
        watch.kill()
        watch.wait()


def test_publish_batch_sends_a_batch_that_is_not_full_once_its_input_goes_quiet(server):
    """As `tail -f app.log | spout publish --batch 100 logs.app` (README): a quiet log's lines are not held back."""
    assert call(server, "POST", "/topics", {"name": "quiet"})[0] == 201
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SPOUT_")}
    publisher = subprocess.Popen([SPOUT, "publish", "--server", server.url, "--batch", "100", "quiet"],
                                 stdin=subprocess.PIPE, env=clean)
    try:
        publisher.stdin.write(b"first\nsecond\r\n")
        publisher.stdin.flush()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            messages = call(server, "GET", "/topics/quiet/messages")[1]["messages"]
            if messages:
                break
            time.sleep(0.1)
        assert [m["data"] for m in messages] == ["first", "second"], "held back while the input was open"
        publisher.stdin.write(b"third")
        publisher.stdin.close()
        assert publisher.wait(timeout=10) == 0
        messages = call(server, "GET", "/topics/quiet/messages")[1]["messages"]
        assert [m["data"] for m in messages] == ["first", "second", "third"]
    finally:
        if publisher.poll() is None:
            publisher.kill()


def test_publish_batch_larger_than_the_body_limit_goes_in_halves_in_order():
    server = Server("--in-memory", "--max-body-bytes", "100000")
    try:
        assert call(server, "POST", "/topics", {"name": "big"})[0] == 201
        lines = [f"{i:03d}" + "x" * 12000 for i in range(100)]
        clean = {k: v for k, v in os.environ.items() if not k.startswith("SPOUT_")}
        done = subprocess.run([SPOUT, "publish", "--server", server.url, "--batch", "100", "big"],
                              input="\n".join(lines) + "\n", capture_output=True, text=True, env=clean, timeout=60)
        assert done.returncode == 0, done.stderr
        messages = call(server, "GET", "/topics/big/messages?limit=1000")[1]["messages"]
        assert [m["data"] for m in messages] == lines
    finally:
        server.stop()


def test_watch_stops_with_the_servers_word_when_its_token_expires(tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(os.urandom(40))
    server = Server("--auth-secret", str(secret))
    try:
        admin = run("token", "--secret", str(secret), "--admin").stdout.strip()
        assert call(server, "POST", "/topics", {"name": "news"}, headers={"Authorization": f"Bearer {admin}"})[0] == 201
        reader = run("token", "--secret", str(secret), "--subscribe", "news", "--ttl", "3s").stdout.strip()
        done = run("watch", "--server", server.url, "--topic", "news", "--token", reader, timeout=30)
        assert done.returncode == 1
        assert "expired" in done.stderr and "the server answered 401" in done.stderr, done.stderr
    finally:
        server.stop()


def test_header_timeout_closes_a_connection_whose_head_comes_a_byte_at_a_time():
    server = Server("--in-memory", "--header-timeout", "1")
    try:
        slow = socket.create_connection(("127.0.0.1", server.port))
        slow.settimeout(0.2)
        start = time.monotonic()
        closed_after = None
        for byte in b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 40:
            try:
                slow.send(bytes([byte]))
                if slow.recv(100) == b"":
                    closed_after = time.monotonic() - start
                    break
            except socket.timeout:
                continue
            except OSError:
                closed_after = time.monotonic() - start
                break
        slow.close()
        assert closed_after is not None and 0.95 <= closed_after < 3.5, closed_after
        assert call(server, "GET", "/healthz")[0] == 200
    finally:
        server.stop()


def test_header_timeout_out_of_range_is_refused():
    code, log = serve_briefly("--in-memory", "--header-timeout", "3601")
    assert code == 64 and "--header-timeout takes whole seconds, 0 to 3600" in log, log


@pytest.mark.parametrize(
    "flag, value, message",
    [
        ("--header-timeout", "-1", "--header-timeout takes whole seconds, 0 to 3600"),
        ("--port", "-1", "--port takes 0…65535"),
        ("--threads", "-2", "--threads takes 1…64"),
        ("--rotate-wait", "-0.5", "--rotate-wait takes seconds between 0 and 3600"),
    ],
)
def test_a_negative_number_gets_the_flags_range_not_a_missing_value(flag, value, message):
    # A value that starts with '-' is the flag's value, not another flag: the answer says what range it takes.
    code, log = serve_briefly("--in-memory", flag, value)
    assert code == 64 and message in log and "Missing value" not in log, log


def test_the_start_log_says_why_tails_are_polled(tmp_path):
    code, log = serve_briefly("--in-memory", "--allow-root", str(tmp_path), "--poll")
    assert code == 0 and "(polling, as --poll asks)" in log and "inotify unavailable" not in log, log
    code, log = serve_briefly("--in-memory", "--allow-root", str(tmp_path))
    assert code == 0 and "polling" not in log, log


def test_a_client_past_max_connections_gets_a_json_503_at_once_and_the_rest_are_served():
    # 16 connections: 12 served, 4 kept to refuse the next clients rather than leave them in the listen backlog.
    server = Server("--in-memory", "--max-connections", "16")
    held = []
    try:
        assert "serving up to 12 connections at once" in server.log_path.read_text()
        for _ in range(12):
            connection = socket.create_connection(("127.0.0.1", server.port))
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert connection.recv(4096).startswith(b"HTTP/1.1 200")
            held.append(connection)
        refused = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        # Any route but /healthz and /metrics, which are answered past the limit too.
        refused.sendall(b"GET /topics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while chunk := refused.recv(4096):
            answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503") and b"Retry-After: 1" in head, head
        assert b'"code":"busy"' in body.replace(b" ", b""), body
        assert "connected past the connection limit and got 503 busy" in server.log_path.read_text()
        held.pop().close()
        deadline = time.monotonic() + 5
        while call(server, "GET", "/topics")[0] != 200:
            assert time.monotonic() < deadline, "a connection freed up, so the next client is served"
            time.sleep(0.05)
    finally:
        for connection in held:
            connection.close()
        server.stop()


def test_max_connections_out_of_range_is_refused():
    code, log = serve_briefly("--in-memory", "--max-connections", "8")
    assert code == 64 and "--max-connections takes 16 to 16777216 connections" in log, log


def test_a_cors_origin_with_its_schemes_default_port_matches_the_origin_browsers_send():
    # A page at http://localhost:80 sends "Origin: http://localhost"; the flag's value is taken as the browser writes it.
    server = Server("--in-memory", "--cors-origin", "HTTP://LocalHost:80")
    try:
        connection = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        connection.sendall(b"GET /topics HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://localhost\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200") and b"Access-Control-Allow-Origin: http://localhost\r\n" in answer, answer
    finally:
        server.stop()


@pytest.mark.parametrize("value", ["http://*.example.com", "https://user@example.com", "http://example.com:0", "http://example.com/"])
def test_a_cors_origin_that_no_browser_could_send_is_refused_in_a_sentence(value):
    code, log = serve_briefly("--in-memory", "--cors-origin", value)
    assert code == 64 and "--cors-origin takes an origin" in log and "no wildcard in the name" in log, log


def test_the_debug_access_log_tells_the_status_of_answers_given_after_a_commit():
    server = Server("--log-level", "debug")
    try:
        assert call(server, "POST", "/topics", body={"name": "logged"})[0] == 201
        assert call(server, "POST", "/topics/logged/messages", text="m")[0] == 201
        assert call(server, "DELETE", "/topics/logged")[0] == 204
        deadline = time.monotonic() + 5
        wanted = ["POST /topics 201", "POST /topics/logged/messages 201", "DELETE /topics/logged 204"]
        while not all(line in server.log_path.read_text() for line in wanted):
            assert time.monotonic() < deadline, server.log_path.read_text()
            time.sleep(0.05)
        assert " 0\n" not in server.log_path.read_text()
    finally:
        server.stop()


def test_sighup_stops_the_server_as_cleanly_as_sigterm():
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SPOUT_")}
    process = subprocess.Popen([SPOUT, "serve", "--port", "0", "--in-memory"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, env=clean)
    log = ""
    while "listening on" not in log:
        line = process.stdout.readline()
        assert line, log
        log += line
    process.send_signal(signal.SIGHUP)
    log += process.stdout.read()
    assert process.wait(timeout=15) == 0 and "received SIGHUP" in log and "stopped" in log, log


def test_every_interface_written_as_ipv6_takes_ipv4_clients_too(tmp_path):
    code, log = serve_briefly("--in-memory", "--host", "::", "--no-auth")
    assert code == 0, log
    server = Server("--in-memory", "--host", "::", "--no-auth")
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert connection.recv(4096).startswith(b"HTTP/1.1 200")
    finally:
        server.stop()


def test_a_missing_openapi_file_is_named_in_a_warning_at_start(tmp_path):
    code, log = serve_briefly("--in-memory", "--openapi-file", str(tmp_path / "nope.yaml"))
    assert code == 0 and "OpenAPI document" in log and "nope.yaml" in log, log


def test_a_secret_through_a_pipe_is_read_once_and_taken(tmp_path):
    """`--auth-secret <(vault read …)`: a pipe reads once; the flags were read twice (checked, then run), and the
    second read found 0 bytes."""
    reader, writer = os.pipe()
    os.write(writer, b"s" * 48 + b"\n")
    os.close(writer)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SPOUT_")}
    process = subprocess.Popen([SPOUT, "serve", "--port", "0", "--in-memory", "--auth-secret", f"/dev/fd/{reader}"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=clean, pass_fds=[reader])
    os.close(reader)
    try:
        line = process.stdout.readline()
        log = line
        while line and "listening on" not in line:
            line = process.stdout.readline()
            log += line
        assert "listening on" in log, log
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


@pytest.mark.parametrize("name", ["*.example.com", "*", "a<b>", "a'b", "%"])
def test_an_allowed_host_that_no_host_header_could_match_is_refused(name):
    code, log = serve_briefly("--in-memory", "--allowed-host", name)
    assert code == 64 and "without scheme, path or wildcard" in log, log


@pytest.mark.parametrize("host, bound", [("0:0:0:0:0:0:0:1", "[::1]"), ("::ffff:127.0.0.1", "127.0.0.1")])
def test_a_loopback_address_in_another_spelling_is_loopback(host, bound):
    code, log = serve_briefly("--in-memory", "--host", host)
    assert code == 0 and f"listening on http://{bound}:" in log and "refusing" not in log, log


def test_token_with_both_keys_says_not_both(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s" * 48)
    result = run("token", "--secret", str(secret), "--private-key", str(secret), "--subscribe", "a")
    assert result.returncode == 64 and "not both" in result.stderr, result.stderr
