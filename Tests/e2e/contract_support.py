"""What test_contract.py and test_routes.py share: openapi.yaml as data, raw HTTP requests, seeded resources."""

import http.client
import json
import pathlib
import urllib.parse

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((REPO / "openapi.yaml").read_text())
# The HTTP methods an OpenAPI path item may hold.
SPEC_METHODS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE")

# The resources the spec's example values name, which seed() creates.
TOPIC = "orders"
TAIL = "app"


def documented_methods(template):
    """The methods openapi.yaml has for a path template."""
    return {method for method in SPEC_METHODS if method.lower() in SPEC["paths"][template]}


def allow_for(template):
    """The `Allow` the spec promises for a path: its methods, HEAD wherever GET is, and OPTIONS everywhere."""
    methods = documented_methods(template) | {"OPTIONS"}
    if "GET" in methods:
        methods.add("HEAD")
    return methods


class Answer:
    """A response: status, headers and body; the body of an event stream is not read, since it never ends."""

    def __init__(self, response, body):
        self.status = response.status
        self.headers = response.headers
        self.body = body

    @property
    def media_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip()

    @property
    def allow(self):
        """The methods of the `Allow` header, as a set."""
        return {method.strip() for method in (self.headers.get("Allow") or "").split(",") if method.strip()}

    def error_code(self):
        """The `code` of Spout's error body; fails unless the body is exactly that shape."""
        assert self.media_type == "application/json", f"{self.status} with {self.headers.get('Content-Type')!r}"
        document = json.loads(self.body)
        assert set(document) == {"error"} and set(document["error"]) == {"code", "message"}, document
        assert document["error"]["message"], document
        return document["error"]["code"]


def send(server, method, target, body=None, content_type=None, headers=(), timeout=10):
    """One request on its own connection, exactly as given: no redirects, no retries, any method."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        fields = dict(headers)
        if isinstance(body, (dict, list)):
            body, content_type = json.dumps(body).encode(), content_type or "application/json"
        if content_type:
            fields["Content-Type"] = content_type
        connection.request(method, target, body=body, headers=fields)
        response = connection.getresponse()
        stream = response.getheader("Content-Type", "").startswith("text/event-stream")
        return Answer(response, b"" if stream or method == "HEAD" else response.read())
    finally:
        connection.close()


def seed(server):
    """A file with lines and its tail, and a topic tree with retained messages, under the spec's example names."""
    log = server.root / f"{TAIL}.log"
    log.write_text("".join(f"line {n}\n" for n in range(1, 31)))
    assert send(server, "POST", "/tails", {"path": str(log), "name": TAIL}).status == 201
    assert send(server, "POST", "/topics", {"name": f"{TOPIC}.eu"}).status == 201
    batch = [{"data": "first"}, {"data": {"total": 2}, "event": "order"}, {"data": "third\nline"}]
    assert send(server, "POST", f"/topics/{TOPIC}.eu/messages", batch).status == 201
    assert send(server, "POST", f"/topics/{TOPIC}/messages", b"fourth", "text/plain").status == 201


def quote(name):
    """A path segment, percent-encoded."""
    return urllib.parse.quote(name, safe="")
