"""`spout watch` under a pseudo-terminal against a server that is restarted mid-stream: every line once, in order,
under `==> source <==` headers, control events in words on stderr, and Ctrl-C ends it with status 0.
"""

import json
import os
import pty
import select
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import REPO, call

SPOUT = os.environ.get("SPOUT_BIN", str(REPO / ".build" / "debug" / "spout"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Restartable:
    """A server on a fixed port and data directory, so that it can be stopped and started again."""

    def __init__(self):
        self.port = free_port()
        self.root = tempfile.mkdtemp(prefix="spout-watch-")
        self.data = tempfile.mkdtemp(prefix="spout-watch-data-")
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        self.process = subprocess.Popen([SPOUT, "serve", "--port", str(self.port), "--data-dir", self.data,
                                         "--allow-root", self.root], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("spout did not listen")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=15) == 0


class Terminal:
    """A command on a pseudo-terminal; its output read as it comes."""

    def __init__(self, *args, stderr=None):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            if stderr:
                os.dup2(os.open(stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
            os.execv(args[0], list(args))
        self.output = b""

    def read_until(self, predicate, timeout=15):
        deadline = time.monotonic() + timeout
        while not predicate(self.text()) and time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:
                    break
        return self.text()

    def text(self):
        return self.output.decode(errors="replace").replace("\r\n", "\n")

    def interrupt(self):
        os.write(self.fd, b"\x03")
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)


def test_watch_prints_like_tail_f_and_loses_nothing_across_a_restart(tmp_path):
    server = Restartable()
    server.start()
    try:
        log = os.path.join(server.root, "app.log")
        with open(log, "w") as f:
            f.write("one\ntwo\n")
        assert call(server, "POST", "/tails", {"path": log, "name": "app"})[0] == 201
        assert call(server, "POST", "/topics", {"name": "news"})[0] == 201
        errors = str(tmp_path / "stderr")
        watch = Terminal(SPOUT, "watch", "--server", server.url, "--tail", "app", "--topic", "news", stderr=errors)
        watch.read_until(lambda t: "two\n" in t)
        with open(log, "a") as f:
            f.write("three\n")
        watch.read_until(lambda t: "three\n" in t)
        assert call(server, "POST", "/topics/news/messages", text="first news")[0] == 201
        watch.read_until(lambda t: "first news\n" in t)
        server.stop()
        with open(log, "a") as f:
            f.write("four, while the server was down\n")
        server.start()
        watch.read_until(lambda t: "four, while the server was down\n" in t)
        assert call(server, "POST", "/topics/news/messages", text="second news")[0] == 201
        with open(log, "a") as f:
            f.write("five\n")
        text = watch.read_until(lambda t: "second news\n" in t and "five\n" in t)
        lines = [line for line in text.split("\n") if line]
        assert lines[:4] == ["==> app <==", "one", "two", "three"]
        assert lines[4:6] == ["==> news <==", "first news"]
        body = [line for line in lines if not line.startswith("==>")]
        assert sorted(body) == sorted(["one", "two", "three", "first news", "four, while the server was down",
                                       "second news", "five"]), lines
        assert len(body) == len(set(body)), "a line came twice"
        assert body.index("four, while the server was down") < body.index("five")
        # Each header names the source of the lines under it.
        current = None
        for line in lines:
            if line.startswith("==> "):
                current = line[4:-4]
            else:
                assert current == ("news" if "news" in line else "app"), (line, current)
        assert watch.interrupt() == 0
        said = open(errors).read()
        assert "shutting down" in said and "reconnecting" in said
    finally:
        if server.process and server.process.poll() is None:
            server.stop()


def test_watch_json_prints_ndjson_with_control_objects(tmp_path):
    server = Restartable()
    server.start()
    try:
        assert call(server, "POST", "/topics", {"name": "news"})[0] == 201
        watch = Terminal(SPOUT, "watch", "--server", server.url, "--topic", "news", "--json",
                         stderr=str(tmp_path / "stderr"))
        time.sleep(0.5)
        assert call(server, "POST", "/topics/news/messages", text="line\nwith a break")[0] == 201
        server.stop()
        text = watch.read_until(lambda t: '"control":"end"' in t)
        pairs = [json.loads(line, object_pairs_hook=list) for line in text.split("\n") if line.strip()]
        for members in pairs:
            names = [name for name, _ in members]
            assert len(names) == len(set(names)), f"a member named twice: {names}"
        objects = [dict(members) for members in pairs]
        message = next(o for o in objects if "control" not in o)
        assert message["topic"] == "news" and message["data"] == "line\nwith a break"
        # As the server's own NDJSON for /events: the id to resume with, and the one the message has in its topic.
        assert message["id"].startswith("topic:news=") and message["id"].endswith("=" + message["sourceId"])
        assert any(o.get("control") == "end" and o.get("reason") == "shutdown" for o in objects)
        assert watch.interrupt() == 0
    finally:
        if server.process and server.process.poll() is None:
            server.stop()


@pytest.mark.parametrize("sigpipe_ignored", [False, True])
def test_watch_into_a_pipe_ends_once_its_reader_left_though_the_topic_is_quiet(sigpipe_ignored):
    """`spout watch --topic t | head -1`: once head has its line and exits, watch ends too, as `tail -F` does, rather
    than at the next message, which a quiet topic may never send; with SIGPIPE ignored (systemd's default), with
    status 1."""
    server = Restartable()
    server.start()
    watch = None
    try:
        assert call(server, "POST", "/topics", {"name": "quiet"})[0] == 201
        # Python ignores SIGPIPE; a child keeps that only when its signals are not restored.
        watch = subprocess.Popen([SPOUT, "watch", "--server", server.url, "--topic", "quiet"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, restore_signals=not sigpipe_ignored)
        # Published until watch is connected and prints one: the reader takes its first line and leaves.
        deadline = time.monotonic() + 15
        while not select.select([watch.stdout], [], [], 0.2)[0] and time.monotonic() < deadline:
            assert call(server, "POST", "/topics/quiet/messages", text="hello")[0] == 201
        assert watch.stdout.readline() in (b"==> quiet <==\n", b"hello\n")
        watch.stdout.close()
        assert watch.wait(timeout=5) == (1 if sigpipe_ignored else -signal.SIGPIPE)
    finally:
        if watch and watch.poll() is None:
            watch.kill()
        server.stop()


def test_publish_never_sends_a_message_twice_when_its_answer_is_lost(server):
    # A proxy passes the request on, lets Spout commit it, and drops the client without its answer: the publish may
    # have been taken, so sending it again would publish it twice. It says so and exits 1 instead.
    assert call(server, "POST", "/topics", {"name": "once"})[0] == 201
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]

    def swallow():
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            request = b""
            while b"\r\n\r\n" not in request or len(request.partition(b"\r\n\r\n")[2]) < int(
                    request.split(b"Content-Length: ")[1].split(b"\r\n")[0] if b"Content-Length: " in request else 0):
                chunk = client.recv(65536)
                if not chunk:
                    break
                request += chunk
            with socket.create_connection(("127.0.0.1", server.port)) as upstream:
                upstream.sendall(request)
                upstream.recv(65536)
            client.close()

    import threading
    threading.Thread(target=swallow, daemon=True).start()
    try:
        publish = subprocess.run([SPOUT, "publish", "--server", f"http://127.0.0.1:{port}", "once", "only once"],
                                 capture_output=True, text=True, timeout=30)
        assert publish.returncode == 1 and "may or may not have been taken" in publish.stderr, publish.stderr
        status, body = call(server, "GET", "/topics/once/messages")
        assert [m["data"] for m in body["messages"]] == ["only once"]
    finally:
        listener.close()


@pytest.mark.parametrize("character, count", [('"', 600_000), ("\x01", 200_000), ("x", 1_048_576)],
                         ids=["quotes", "control characters", "exactly the limit"])
def test_publish_sends_a_line_as_it_is_so_only_its_own_bytes_count_against_the_limit(server, character, count):
    # As JSON, a quote takes two bytes and a control character six: lines well under --max-body-bytes were refused.
    line = character * count
    assert call(server, "POST", "/topics", {"name": "raw"})[0] in (200, 201)
    publish = subprocess.run([SPOUT, "publish", "--server", server.url, "raw"], input=line + "\n",
                             capture_output=True, text=True, timeout=60)
    assert publish.returncode == 0, publish.stderr
    status, body = call(server, "GET", "/topics/raw/messages?limit=1000")
    assert body["messages"][-1]["data"] == line


def test_publish_of_a_line_far_over_the_limit_says_the_server_refused_it_as_too_large(server):
    assert call(server, "POST", "/topics", {"name": "huge"})[0] == 201
    publish = subprocess.run([SPOUT, "publish", "--server", server.url, "huge"], input="x" * 10_000_000 + "\n",
                             capture_output=True, text=True, timeout=60)
    assert publish.returncode == 1
    # The body waits for the server's go-ahead (Expect: 100-continue), so the 413 comes before it and is not lost.
    assert "answered 413" in publish.stderr and "--max-body-bytes" in publish.stderr, publish.stderr
    assert call(server, "GET", "/topics/huge")[1]["published"] == 0


@pytest.mark.parametrize("command", [["publish", "t", "x"], ["watch", "--topic", "t"]])
def test_a_token_with_a_line_break_inside_is_refused_and_one_around_it_is_dropped(server, command):
    inside = subprocess.run([SPOUT, *command[:1], "--server", server.url, "--token", "abc\ndef", *command[1:]],
                            capture_output=True, text=True, timeout=30)
    assert inside.returncode == 64 and "line break" in inside.stderr, inside.stderr


def test_watch_waits_for_a_server_at_its_connection_limit_from_the_start(tmp_path):
    from conftest import Server
    server = Server("--in-memory", "--max-connections", "16")
    held = []
    try:
        assert call(server, "POST", "/topics", {"name": "busy"})[0] == 201
        for _ in range(12):
            connection = socket.create_connection(("127.0.0.1", server.port))
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert connection.recv(4096).startswith(b"HTTP/1.1 200")
            held.append(connection)
        errors = str(tmp_path / "stderr")
        watch = Terminal(SPOUT, "watch", "--server", server.url, "--topic", "busy", stderr=errors)
        deadline = time.monotonic() + 10
        said = lambda: open(errors).read() if os.path.exists(errors) else ""  # noqa: E731
        while "503" not in said():
            assert time.monotonic() < deadline, said()
            time.sleep(0.05)
        for connection in held[:4]:
            connection.close()
        time.sleep(1)
        assert call(server, "POST", "/topics/busy/messages", text="through")[0] == 201
        assert "through\n" in watch.read_until(lambda t: "through\n" in t)
        assert watch.interrupt() == 0
    finally:
        for connection in held:
            connection.close()
        server.stop()
