"""The HTTP contract, checked end to end: Schemathesis drives a real `spout serve` from openapi.yaml.

Each phase runs `st run` (Schemathesis's CLI) in its own process against a fresh server seeded with a file, a tail and
a topic, so that positive cases reach real resources and not only 404s. The CLI's own report (every failure with its
request, response and a curl line to reproduce it) is the failure message. Its settings, and how streams that never
end are bounded, are in schemathesis.toml beside this file; contract_hooks.py adds the rules a schema cannot state.
"""

import os
import pathlib
import re
import socket
import subprocess
import sys
import urllib.request

import pytest

from contract_support import seed

HERE = pathlib.Path(__file__).resolve().parent
ST = pathlib.Path(sys.executable).with_name("st")
# Fixed, so a failure reproduces; SPOUT_CONTRACT_SEED tries another sequence of generated cases.
SEED = int(os.environ.get("SPOUT_CONTRACT_SEED", "20261125"))
# A ceiling for one phase, far above its usual time, so that a hang fails the test instead of CI.
PHASE_TIMEOUT = 300


@pytest.mark.parametrize("phases", ["examples,coverage", "fuzzing", "stateful"])
def test_schemathesis_finds_nothing(server, phases):
    seed(server)
    command = [str(ST), "--config-file", str(HERE / "schemathesis.toml"), "--no-color", "run",
               f"{server.url}/openapi.yaml", "--url", server.url, "--phases", phases, "--seed", str(SEED)]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HERE / "contract_hooks.py")}
    finished = subprocess.run(command, capture_output=True, text=True, timeout=PHASE_TIMEOUT, cwd=server.root,
                              env=env)
    if finished.returncode != 0:
        pytest.fail(f"schemathesis ({phases}, seed {SEED}) found problems:\n{finished.stdout}{finished.stderr}",
                    pytrace=False)


# Requests around the default --connection-memory (8192 bytes), which must hold the request line and headers.
# Schemathesis reaches these sizes with long query strings (many `topic` arguments to /events, say) only by chance,
# so they are probed on purpose, in 50-byte steps. Up to LIMIT bytes Spout answers everything itself; past it,
# libmicrohttpd 0.9.75 refuses the request before Spout sees it (see `too_large_for_the_connection_memory`).
LIMIT = 7900
REQUEST_SIZES = range(5800, LIMIT + 1, 50)
OVERSIZE = range(LIMIT + 50, 8800, 50)


def complete(received):
    """Whether `received` holds a whole response with a Content-Length."""
    head, separator, body = received.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return bool(separator) and length is not None and len(body) >= int(length.group(1))


def raw_request(server, size):
    """What a GET whose request line and headers are `size` bytes gets, and how it stopped: whole, closed or silent."""
    head = "GET /healthz?pad= HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    return exchange(server, head.replace("?pad=", "?pad=" + "a" * (size - len(head))))


def exchange(server, request):
    """What `request` gets, and how it stopped: whole, closed or silent."""
    received = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        connection.sendall(request.encode())
        try:
            while not complete(received):
                chunk = connection.recv(65536)
                if not chunk:
                    return received, "closed"
                received += chunk
        except socket.timeout:
            return received, "silent for 5 s"
    return received, "whole"


def fault(answer, ending):
    """What is wrong with an answer: nothing (None), no answer, or an error without Spout's JSON body."""
    if not answer.startswith(b"HTTP/1.1 "):
        return f"no answer: the connection was {ending}" if not answer else f"got {answer[:40]!r}"
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n")[0].decode()
    if int(status_line.split(" ")[1]) < 400:
        return None
    if b"content-type: application/json" in head.lower() and body.startswith(b'{"error":'):
        return None
    return f"{status_line} without the JSON error body: {body[:60]!r}"


def test_a_request_up_to_the_limit_gets_an_answer_and_errors_are_json(shared_server):
    faults = {size: fault(*raw_request(shared_server, size)) for size in REQUEST_SIZES}
    wrong = "\n".join(f"  {size} bytes: {problem}" for size, problem in faults.items() if problem)
    if wrong:
        pytest.fail(f"requests of these sizes (request line and headers) went wrong:\n{wrong}", pytrace=False)


@pytest.mark.xfail(strict=True, reason=(
    "libmicrohttpd 0.9.75 answers a request too large for its connection memory by itself: 431 or 414 with an HTML "
    "body, or by closing the connection, or (for a request line of one size band) not until the connection times "
    "out. Spout never sees those requests. openapi.yaml and README.md document the limit and --connection-memory. "
    "Strict: if a newer libmicrohttpd fixes it, this test says so."))
def test_a_request_past_the_limit_gets_an_answer_and_errors_are_json(shared_server):
    faults = {size: fault(*raw_request(shared_server, size)) for size in OVERSIZE}
    wrong = "\n".join(f"  {size} bytes: {problem}" for size, problem in faults.items() if problem)
    if wrong:
        pytest.fail(f"requests of these sizes (request line and headers) went wrong:\n{wrong}", pytrace=False)


# A Cookie header takes about twice its size of the connection memory, and a little more per cookie: libmicrohttpd
# 0.9.75 keeps a copy of it to split the cookies (connection.c, parse_cookie_header). README.md and openapi.yaml give
# these budgets for the default --connection-memory; past them libmicrohttpd answers by itself, as above.
ONE_COOKIE_LIMIT = 3800
SMALL_COOKIES_LIMIT = 2800


def with_cookie(value):
    return f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {value}\r\n\r\n"


def test_cookies_up_to_their_budget_get_an_answer(shared_server):
    requests = {f"one cookie of {size} bytes": with_cookie("c=" + "a" * (size - 2))
                for size in range(ONE_COOKIE_LIMIT - 300, ONE_COOKIE_LIMIT + 1, 25)}
    for count in range(10, SMALL_COOKIES_LIMIT // 100 + 1):
        requests[f"{count} cookies of 100 bytes"] = with_cookie("; ".join(
            f"c{i:02}=" + "a" * 94 for i in range(count)))
    faults = {name: fault(*exchange(shared_server, request)) for name, request in requests.items()}
    wrong = "\n".join(f"  {name}: {problem}" for name, problem in faults.items() if problem)
    if wrong:
        pytest.fail(f"requests with these cookies went wrong:\n{wrong}", pytrace=False)


def test_requests_refused_as_too_large_are_counted_and_logged(server):
    def refused():
        text = urllib.request.urlopen(f"{server.url}/metrics", timeout=10).read().decode()
        return int(re.search(r"(?m)^spout_http_requests_too_large_total (\d+)$", text).group(1))

    assert refused() == 0
    for _ in range(3):
        answer, _ = exchange(server, with_cookie("c=" + "a" * 5000))
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:60]
    assert exchange(server, with_cookie("c=" + "a" * 1000))[0].startswith(b"HTTP/1.1 200 ")
    assert refused() == 3
    # Cookies just past their budget: some are handled but leave no room for the answer, so the connection closes
    # unanswered; those are counted too, and only the answered ones are not.
    endings = [exchange(server, with_cookie("c=" + "a" * size)) for size in range(3850, 4001, 5)]
    closed = sum(1 for answer, ending in endings if not answer and ending == "closed")
    answered = sum(1 for answer, _ in endings if answer.startswith(b"HTTP/1.1 200 "))
    assert closed > 0 and answered > 0, endings
    assert refused() == 3 + len(endings) - answered
    # Told once, not three times: a client cannot flood the log this way.
    notices = [line for line in server.log_path.read_text().splitlines() if "too large for --connection-memory" in line]
    assert len(notices) == 1, notices
    assert "notice" in notices[0] and "(8192 bytes)" in notices[0] and "Cookie header counts about twice" in notices[0]
