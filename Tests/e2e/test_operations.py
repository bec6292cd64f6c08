"""`spout serve` as an operator runs it: its log going to a pipe that closes, health checks at the connection limit,
an access log that a client writes into, settings from the environment. Found by running the server as an operator
would; each test failed before its fix.
"""

import os
import signal
import socket
import subprocess
import time
import urllib.request

from conftest import REPO, Server, call

SPOUT = os.environ.get("SPOUT_BIN", str(REPO / ".build" / "debug" / "spout"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def open_stream(port, path):
    stream = socket.create_connection(("127.0.0.1", port), timeout=10)
    stream.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += stream.recv(4096)
    assert b" 200 " in head.split(b"\r\n")[0], head
    return stream


def test_a_log_pipe_whose_reader_left_does_not_kill_the_server():
    # The next log line raised SIGPIPE: on a stop that was "received SIGTERM", so no stream got its `end`.
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPOUT_")}
    server = subprocess.Popen([SPOUT, "serve", "--port", str(port), "--in-memory"], stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 20
        while b"listening" not in server.stderr.readline() and time.monotonic() < deadline:
            pass
        body = b'{"name":"t"}'
        with socket.create_connection(("127.0.0.1", port)) as c:
            c.sendall(b"POST /topics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                      b"Connection: close\r\n\r\n%s" % (len(body), body))
            assert b" 201 " in c.recv(4096)
        stream = open_stream(port, "/topics/t/events")
        server.stderr.close()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=15) == 0
        said = b""
        while chunk := stream.recv(65536):
            said += chunk
        assert b"event: end" in said and b"shutdown" in said, said
    finally:
        if server.poll() is None:
            server.kill()


def test_healthz_and_metrics_answer_at_the_connection_limit():
    # A server at its limit answered its health check 503 `busy`, as if failing: a watchdog would restart it.
    server = Server("--max-connections", "20")
    try:
        assert call(server, "POST", "/topics", {"name": "full"})[0] == 201
        # Streams until one is refused: the server is then at its limit.
        streams = []
        while len(streams) < 40:
            try:
                streams.append(open_stream(server.port, "/topics/full/events"))
            except AssertionError:
                break
        assert len(streams) < 40
        for path, status in (("/healthz", 200), ("/metrics", 200), ("/topics", 503)):
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as c:
                c.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
                answer = b""
                while chunk := c.recv(65536):
                    answer += chunk
            assert answer.split(b"\r\n")[0].endswith(f"{status} ".encode() + (b"OK" if status == 200 else b"Service Unavailable")), answer[:200]
            assert b"Connection: close" in answer
        for stream in streams:
            stream.close()
    finally:
        server.stop()


def test_the_access_log_shows_what_a_client_sent_without_obeying_it():
    # A decoded line break in a path forged a log line of the client's choosing, and ?ACCESS_TOKEN= was logged whole.
    server = Server("--log-level", "debug")
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as c:
            c.sendall(b"GET /nothing%0a2026-01-01T00:00:00+0000%20critical%20forged%1b[2J?ACCESS_TOKEN=s3cret HTTP/1.1\r\n"
                      b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert b" 404 " in c.recv(4096)
        time.sleep(0.3)
        log = server.log_path.read_text()
        assert "\ncritical forged" not in log and "\n2026-01-01T00:00:00+0000 critical" not in log
        assert "/nothing\\u{a}2026-01-01T00:00:00+0000 critical forged\\u{1b}[2J" in log, log[-2000:]
        assert "s3cret" not in log
    finally:
        server.stop()


def test_a_data_directory_from_the_environment_gives_way_to_in_memory_and_says_so(tmp_path):
    # It was dropped without a word: an image's SPOUT_DATA_DIR beside --in-memory kept nothing, silently.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPOUT_")} | {"SPOUT_DATA_DIR": str(tmp_path)}
    server = subprocess.Popen([SPOUT, "serve", "--port", "0", "--in-memory"], stderr=subprocess.PIPE, env=env, text=True)
    try:
        line = server.stderr.readline()
        assert f"SPOUT_DATA_DIR={tmp_path} is set, but the server runs in memory (--in-memory): it is not used" in line
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=15)
    refused = subprocess.run([SPOUT, "serve", "--port", "0", "--data-dir", str(tmp_path)], capture_output=True,
                             text=True, env=env | {"SPOUT_IN_MEMORY": "1"}, timeout=15)
    assert refused.returncode != 0 and "SPOUT_IN_MEMORY keeps nothing on disk" in refused.stderr


def resident_bytes(server):
    with open(f"/proc/{server.process.pid}/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))


def test_history_readers_that_do_not_read_hold_no_copy_of_the_page():
    # Each page was built whole for its connection: a reader that asked and never read held a copy of up to a topic's
    # whole retention, six times over when its data is escaped (twelve such readers took the server to 1.4 GB).
    server = Server("--in-memory")
    readers = []
    try:
        assert call(server, "POST", "/topics", {"name": "big"})[0] == 201
        for _ in range(15):
            assert call(server, "POST", "/topics/big/messages", text="\x01" * 1_000_000)[0] == 201
        # Read once whole, which makes each message's JSON (kept with the message, shared by every reader).
        whole = urllib.request.urlopen(server.url + "/topics/big/messages", timeout=60).read()
        assert len(whole) > 90_000_000 and whole.endswith(b'"gap":null}')
        before = resident_bytes(server)
        for _ in range(8):
            reader = socket.socket()
            reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            reader.connect(("127.0.0.1", server.port))
            reader.sendall(b"GET /topics/big/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            readers.append(reader)
        time.sleep(2)
        grown = resident_bytes(server) - before
        assert grown < 40_000_000, f"{grown / 1e6:.0f} MB more for 8 readers of a {len(whole) / 1e6:.0f} MB page"
        # One that reads gets the page whole, as before.
        assert urllib.request.urlopen(server.url + "/topics/big/messages", timeout=60).read() == whole
    finally:
        for reader in readers:
            reader.close()
        server.stop()


def test_a_keep_alive_connection_whose_answer_is_read_slowly_takes_its_next_request():
    # libmicrohttpd ends a request once its answer is in the socket's buffer: the next head was due --header-timeout
    # after that, while the client was still reading, and the next request on the connection was dropped unanswered.
    server = Server("--in-memory", "--header-timeout", "2")
    reader = socket.socket()
    try:
        assert call(server, "POST", "/topics", {"name": "big"})[0] == 201
        for _ in range(2):
            assert call(server, "POST", "/topics/big/messages", text="a" * 1_000_000)[0] == 201
        reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        reader.connect(("127.0.0.1", server.port))
        reader.sendall(b"GET /topics/big/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += reader.recv(4096)
        head, body = answer.split(b"\r\n\r\n", 1)
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
        started = time.monotonic()
        while len(body) < length:
            body += reader.recv(65536)
            # Paced to take five seconds in all.
            time.sleep(max(0.0, started + 5 * len(body) / length - time.monotonic()))
        assert time.monotonic() - started > 4, "the page must take longer than the timeout to read"
        # The whole timeout from when the answer was read, less a margin: it counted from a look while it was read.
        time.sleep(1.2)
        reader.sendall(b"POST /topics/big/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                       b"Content-Length: 4\r\n\r\nnext")
        reader.settimeout(10)
        assert reader.recv(4096).startswith(b"HTTP/1.1 201"), "the next request was answered"
    finally:
        reader.close()
        server.stop()
