"""The console client against what a publisher, a file or the machine can throw at it: escape sequences meant for
the watcher's terminal, lines longer than a piece, input that cannot be read, output that cannot be written. Found by
trying the console from outside; each test failed before its fix.
"""

import os
import socket
import subprocess
import threading
import time

from conftest import Server, call
from test_console import SPOUT, Terminal


def test_watch_on_a_terminal_shows_escapes_rather_than_obeying_them(server):
    # Anyone who may publish to a topic set its watchers' window title (OSC), hid text, or overwrote a line (CR).
    assert call(server, "POST", "/topics", {"name": "t"})[0] == 201
    watch = Terminal(SPOUT, "watch", "--server", server.url, "--topic", "t")
    time.sleep(1)
    hostile = "a\x1b]0;PWNED\x07b \x1b[31mred\x1b[0m \x1b[8mhidden\x1b[0m \x1b[2J fake\rX \x9b2J END"
    assert call(server, "POST", "/topics/t/messages", {"data": hostile})[0] == 201
    watch.read_until(lambda t: "END" in t)
    raw = watch.output
    assert b"\x1b]" not in raw and b"\x07" not in raw and b"\x1b[2J" not in raw and b"\x1b[8m" not in raw, raw
    assert b"\x1b[31mred\x1b[0m" in raw, "colours stay"
    text = watch.text()
    assert "a^[]0;PWNED^Gb" in text and "^[[8mhidden" in text and "fake^MX" in text and "<9B>2J END" in text, text
    assert watch.interrupt() == 0


def test_watch_into_a_pipe_prints_a_long_tail_line_as_the_one_line_it_is(server):
    # A line over 64 KiB comes in pieces; `watch | jq` got each piece as a line of its own.
    long_line = "{" + "x" * 70_000 + "}"
    (server.root / "app.log").write_text(long_line + "\nnext\n")
    assert call(server, "POST", "/tails", {"path": str(server.root / "app.log"), "name": "app"})[0] == 201
    watch = subprocess.Popen([SPOUT, "watch", "--server", server.url, "--tail", "app"], stdout=subprocess.PIPE)
    try:
        out = b""
        deadline = time.monotonic() + 15
        while b"next\n" not in out and time.monotonic() < deadline:
            out += os.read(watch.stdout.fileno(), 1 << 20)
    finally:
        watch.kill()
        watch.wait()
    assert out.decode().split("\n") == ["==> app <==", long_line, "next", ""]


def test_publish_says_why_it_cannot_read_its_input(server, tmp_path):
    # A directory, or a closed standard input, published nothing and exited 0.
    publish = subprocess.run(f"{SPOUT} publish --server {server.url} t < {tmp_path}", shell=True, capture_output=True,
                             text=True, timeout=30)
    assert publish.returncode == 1 and "cannot read standard input: Is a directory" in publish.stderr, publish.stderr
    # A line with no end (`< /dev/zero`) took all memory and crashed; now it stops at 64 MiB.
    publish = subprocess.run(f"head -c 70000000 /dev/zero | {SPOUT} publish --server {server.url} t", shell=True,
                             capture_output=True, text=True, timeout=60)
    assert publish.returncode == 1 and "longer than 64 MiB" in publish.stderr, publish.stderr


def test_watch_says_why_it_cannot_write_its_output(server):
    assert call(server, "POST", "/topics", {"name": "full"})[0] == 201
    assert call(server, "POST", "/topics/full/messages", text="one")[0] == 201
    watch = subprocess.Popen(f"{SPOUT} watch --server {server.url} --topic full > /dev/full", shell=True,
                             stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    assert call(server, "POST", "/topics/full/messages", text="two")[0] == 201
    assert watch.wait(timeout=15) == 1
    assert "cannot write to standard output: No space left on device" in watch.stderr.read()


def test_console_refusals_name_what_the_user_gave(server, tmp_path):
    def publish(*args, env=None):
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SPOUT_")} | (env or {})
        return subprocess.run([SPOUT, "publish", *args], capture_output=True, text=True, timeout=30, env=environment)

    assert "the token is empty" in publish("--token", "", "t", "x").stderr
    # A bad SPOUT_SERVER was blamed on --server, which was never given.
    assert "SPOUT_SERVER takes http://HOST:PORT" in publish("t", "x", env={"SPOUT_SERVER": "ftp://x"}).stderr
    assert "no user or password" in publish("--server", "http://u:p@127.0.0.1:1", "t", "x").stderr
    # The scheme is case-insensitive.
    assert call(server, "POST", "/topics", {"name": "t"})[0] == 201
    assert publish("--server", server.url.replace("http://", "HTTP://"), "t", "x").returncode == 0
    secret = tmp_path / "secret"
    secret.write_text("s" * 40)
    guarded = Server("--auth-secret", str(secret))
    try:
        refused = publish("--server", guarded.url, "t", "x")
        assert refused.returncode == 1 and "answered 401" in refused.stderr and "--token or SPOUT_TOKEN" in refused.stderr
    finally:
        guarded.stop()


def test_watch_gives_up_on_a_server_that_takes_the_connection_and_never_answers():
    # It waited for ever (still after 40 s).
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = time.monotonic()
        watch = subprocess.run([SPOUT, "watch", "--server", f"http://127.0.0.1:{port}", "--topic", "t"],
                               capture_output=True, text=True, timeout=90)
        assert watch.returncode == 1 and "did not answer within 30 s" in watch.stderr, watch.stderr
        assert 29 < time.monotonic() - started < 60


def test_watch_tells_a_tail_and_a_topic_of_one_name_apart(server):
    # `--tail app --topic app` printed both under one `==> app <==`: lines of the file and messages mixed unmarked. A
    # topic under one named (`--topic svc` carries `svc.x`) may share a tail's name too.
    for name, topic in (("app", "app"), ("svc.x", "svc")):
        (server.root / f"{name}.log").write_text(f"file {name}\n")
        assert call(server, "POST", "/tails", {"path": str(server.root / f"{name}.log"), "name": name})[0] == 201
        assert call(server, "POST", "/topics", {"name": name})[0] == 201
        watch = subprocess.Popen([SPOUT, "watch", "--server", server.url, "--tail", name, "--topic", topic],
                                 stdout=subprocess.PIPE)
        try:
            assert [watch.stdout.readline() for _ in range(2)] == [
                f"==> {name} (tail) <==\n".encode(), f"file {name}\n".encode()]
            assert call(server, "POST", f"/topics/{name}/messages", text=f"topic {name}")[0] == 201
            assert [watch.stdout.readline() for _ in range(3)] == [
                b"\n", f"==> {name} (topic) <==\n".encode(), f"topic {name}\n".encode()]
        finally:
            watch.kill()
            watch.wait()


def test_watch_started_before_its_server_waits_for_it():
    # It exited 1 at once ("cannot connect"), where a dropped connection later is waited for: a script or a unit that
    # starts the watch before the server lost it.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    watch = subprocess.Popen([SPOUT, "watch", "--server", f"http://127.0.0.1:{port}", "--topic", "early"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    server = None
    try:
        time.sleep(1.5)
        assert watch.poll() is None, watch.stderr.read()
        server = Server("--in-memory", "--port", str(port))
        assert call(server, "POST", "/topics", {"name": "early"})[0] == 201
        assert call(server, "POST", "/topics/early/messages", text="first")[0] == 201
        assert watch.stdout.readline() == b"==> early <==\n" and watch.stdout.readline() == b"first\n"
    finally:
        watch.kill()
        watch.wait()
        if server:
            server.stop()
    errors = watch.stderr.read().decode()
    assert errors.count(f"cannot connect to 127.0.0.1:{port}: Connection refused; trying again") == 1, errors


def test_the_console_reaches_a_server_behind_a_proxy_at_a_path():
    # `--server http://host/spout/` and `http://host` (port 80) were refused: only http://HOST:PORT was taken.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    publish = subprocess.Popen([SPOUT, "publish", "--server", f"http://127.0.0.1:{port}/spout/", "t", "hello"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        listener.settimeout(10)
        connection, _ = listener.accept()
        request = b""
        while b"hello" not in request:
            request += connection.recv(4096)
        body = b'{"id":"e-1","subscribers":0}'
        connection.sendall(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                           % (len(body), body))
        assert publish.wait(timeout=10) == 0, publish.stderr.read()
        lines = request.split(b"\r\n")
        assert lines[0] == b"POST /spout/topics/t/messages HTTP/1.1" and f"Host: 127.0.0.1:{port}".encode() in lines
        connection.close()
    finally:
        listener.close()
        publish.kill()
    # Without a port, port 80 (nothing listens there in the test).
    refused = subprocess.run([SPOUT, "publish", "--server", "http://127.0.0.1", "t", "x"], capture_output=True, text=True,
                             timeout=30)
    assert "127.0.0.1:80" in refused.stderr, refused.stderr


def test_publish_goes_on_after_a_batch_too_large_on_a_new_connection(tmp_path):
    # A batch refused with 413 comes with `Connection: close`; the halves went on the closed connection at once, and
    # the publish failed ("closed the connection without an answer") with 0 or 2 of 5 lines published.
    server = Server("--in-memory", "--max-body-bytes", "4096")
    try:
        lines = tmp_path / "lines.txt"
        lines.write_bytes(b"".join(bytes([65 + i]) * 1500 + b"\n" for i in range(5)))
        for run in range(5):
            topic = f"t{run}"
            assert call(server, "POST", "/topics", {"name": topic})[0] == 201
            with open(lines, "rb") as given:
                publish = subprocess.run([SPOUT, "publish", "--server", server.url, "--batch", "5", topic], stdin=given,
                                         capture_output=True, text=True, timeout=30)
            assert publish.returncode == 0, publish.stderr
            page = call(server, "GET", f"/topics/{topic}/messages")[1]
            assert [m["data"][0] for m in page["messages"]] == list("ABCDE")
    finally:
        server.stop()


def test_watch_says_nothing_of_a_missing_source_when_the_server_goes_away():
    # A look that got no answer was taken for the source being there: "topic nope has appeared" as the server died.
    server = Server("--in-memory")
    watch = subprocess.Popen([SPOUT, "watch", "--server", server.url, "--topic", "nope"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        server.stop()
        time.sleep(5)
    finally:
        watch.kill()
        watch.wait()
    errors = watch.stderr.read()
    assert "topic nope is not there; waiting for it" in errors and "has appeared" not in errors, errors


def test_watch_waits_through_a_proxys_502_at_the_start_and_names_it_in_one_line():
    # Behind a proxy whose server is not up, the 502 ended the watch at once, and a later one printed the whole page.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    page = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>nginx</body>\r\n</html>\r\n"
    answer = b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (
        len(page), page)
    stop = False

    def serve():
        listener.settimeout(0.2)
        while not stop:
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            connection.recv(65536)
            connection.sendall(answer)
            connection.close()

    proxy = threading.Thread(target=serve)
    proxy.start()
    watch = subprocess.Popen([SPOUT, "watch", "--server", f"http://127.0.0.1:{port}/spout", "--topic", "t"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2)
        assert watch.poll() is None, watch.stderr.read()
    finally:
        watch.kill()
        watch.wait()
        stop = True
        proxy.join()
        listener.close()
    errors = watch.stderr.read()
    assert errors == "spout watch: the server answered 502: <html>; trying again\n", errors
