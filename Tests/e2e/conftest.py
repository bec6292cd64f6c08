"""A real spout server process for the end-to-end suites.

The binary comes from SPOUT_BIN (./spout.sh test sets it to the one it just built). Each server gets its own port
(--port 0, read back from the log line), its own allowed root, and the repo's public/ and openapi.yaml.
"""

import json
import os
import pathlib
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


class Server:
    """One running `spout serve`, stopped with SIGTERM, which must exit 0."""

    def __init__(self, *extra):
        binary = os.environ.get("SPOUT_BIN", str(REPO / ".build" / "debug" / "spout"))
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="spout-e2e-"))
        self.log_path = self.root.parent / (self.root.name + ".log")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPOUT_")}
        self.log = open(self.log_path, "w+")
        # Its own data directory beside the allowed root (never inside it), unless the test names the storage.
        storage = [] if {"--data-dir", "--in-memory"} & set(extra) else [
            "--data-dir", tempfile.mkdtemp(prefix="spout-e2e-data-")]
        self.process = subprocess.Popen(
            [binary, "serve", "--port", "0", "--allow-root", str(self.root),
             "--public-dir", str(REPO / "public"), "--openapi-file", str(REPO / "openapi.yaml"), *storage, *extra],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while True:
            text = self.log_path.read_text()
            found = re.search(r"listening on (https?)://(\[[^\]]+\]|[^\s:]+):(\d+)", text)
            if found:
                self.scheme, self.port = found.group(1), int(found.group(3))
                break
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"spout did not start:\n{text}")
            time.sleep(0.02)
        # Over TLS, the name the test certificate is made for.
        self.url = f"http://127.0.0.1:{self.port}" if self.scheme == "http" else f"https://localhost:{self.port}"

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                code = self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                raise AssertionError("spout did not stop within 15 s of SIGTERM")
            assert code == 0, f"spout exited {code}:\n{self.log_path.read_text()}"
        self.log.close()


def call(server, method, path, body=None, text=None, headers=None):
    """One REST call with a JSON or text body and extra headers; returns (status, parsed JSON or None)."""
    data, fields = None, dict(headers or {})
    if body is not None:
        data, fields["Content-Type"] = json.dumps(body).encode(), "application/json"
    elif text is not None:
        data, fields["Content-Type"] = text.encode(), "text/plain"
    request = urllib.request.Request(server.url + path, data=data, method=method, headers=fields)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def server():
    """A fresh server for one test."""
    running = Server()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def shared_server():
    """One server for a whole module."""
    running = Server()
    yield running
    running.stop()
