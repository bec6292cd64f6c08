"""NDJSON streams from outside, as a script would read them: every stream route, asked with `?format=ndjson` or with
`Accept: application/x-ndjson`, answers one JSON object per line, and every object is what openapi.yaml says.

Schemathesis cannot bound a stream that is not `text/event-stream` (it waits for the whole body), so test_contract.py
leaves `format=ndjson` to this suite (see contract_hooks.py), which checks each line against the schemas of the
response's `x-spout-events`, as the contract check does for SSE events.
"""

import http.client
import json
import socket

import jsonschema_rs
import pytest

from contract_support import SPEC, TAIL, TOPIC, seed, send

ROUTES = {
    "/topics/{name}/events": f"/topics/{TOPIC}/events?backlog=10",
    "/tails/{id}/events": f"/tails/{TAIL}/events?lines=5",
    "/events": f"/events?topic={TOPIC}&tail={TAIL}&backlog=10&lines=5",
}


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        target = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def validator(schema):
    return jsonschema_rs.Draft202012Validator({**schema, "components": SPEC["components"]}, validate_formats=True)


def stream_entries(template):
    """The `x-spout-events` of a stream operation's 200 response, in `json` format."""
    response = resolve(SPEC["paths"][template]["get"]["responses"]["200"])
    assert "application/x-ndjson" in response["content"], f"{template} does not document NDJSON"
    return [entry for entry in response["x-spout-events"] if "json" in entry["formats"]]


def problem(entries, line):
    """What is wrong with one NDJSON object against the stream's events; None if nothing."""
    value = dict(line)
    stream_id = value.pop("id", None)
    name = value.pop("control", None)
    if stream_id is None:
        return "it has no id"
    own = value.pop("sourceId", None)
    candidates = [entry for entry in entries if entry["event"] == (name or "message")]
    if not candidates:
        return f"no event named {name!r} in x-spout-events"
    found = []
    for entry in candidates:
        if not validator(entry["id"]).is_valid(stream_id):
            found.append(f"id {stream_id!r} is not a {entry['id']['$ref']}")
            continue
        # A message's object carries its own id (on /events, the one it had in its source, kept as `sourceId`).
        data = value if name else {**value, "id": own or stream_id}
        errors = [error.message for error in validator(entry["data"]).iter_errors(data)]
        if not errors:
            return None
        found.append("; ".join(errors))
    return " or ".join(found)


def read_lines(server, target, headers, count, timeout=5):
    """The first `count` non-blank lines of a stream, parsed, with the response and how many blank lines came first."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    connection.request("GET", target, headers=headers)
    response = connection.getresponse()
    objects, blank = [], 0
    try:
        while len(objects) < count:
            line = response.readline()
            assert line.endswith(b"\n"), f"a line cut short: {line!r}"
            if line == b"\n":
                blank += 1
                continue
            value = json.loads(line)
            assert isinstance(value, dict), line
            objects.append(value)
    except socket.timeout:
        pass
    finally:
        connection.close()
    return response, objects, blank


@pytest.mark.parametrize("ask", ["query", "accept"])
@pytest.mark.parametrize("template", list(ROUTES))
def test_every_stream_route_answers_ndjson_objects_that_the_spec_describes(server, template, ask):
    seed(server)
    target, headers = ROUTES[template], {}
    if ask == "query":
        target += "&format=ndjson"
    else:
        headers["Accept"] = "application/x-ndjson"
    expected = {"/topics/{name}/events": 4, "/tails/{id}/events": 5, "/events": 9}[template]
    response, objects, blank = read_lines(server, target, headers, expected)
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/x-ndjson"
    assert "no-cache" in response.getheader("Cache-Control")
    assert blank >= 1, "the first line is blank, and comes at once"
    assert len(objects) == expected, objects
    entries = stream_entries(template)
    problems = [f"{line}: {problem(entries, line)}" for line in objects if problem(entries, line)]
    assert not problems, "\n".join(problems)
    if template != "/tails/{id}/events":
        data = [line.get("data") for line in objects if "topic" in line]
        assert data == ["first", {"total": 2}, "third\nline", "fourth"]


def test_control_objects_name_their_event_and_resume_goes_on_exactly(server):
    seed(server)
    entries = stream_entries("/topics/{name}/events")
    _, gap, _ = read_lines(server, f"/topics/{TOPIC}/events?format=ndjson", {"Last-Event-ID": "stale"}, 5)
    assert gap[0]["control"] == "gap" and gap[0]["reason"] == "invalid_id"
    assert problem(entries, gap[0]) is None
    _, rest, _ = read_lines(server, f"/topics/{TOPIC}/events?format=ndjson", {"Last-Event-ID": gap[2]["id"]}, 2)
    assert [line["data"] for line in rest] == ["third\nline", "fourth"]
    assert send(server, "DELETE", f"/topics/{TOPIC}").status == 204
    # The stream of a deleted topic ends with an `end` object.
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    assert send(server, "POST", "/topics", {"name": "brief"}).status == 201
    connection.request("GET", "/topics/brief/events?format=ndjson")
    response = connection.getresponse()
    assert response.readline() == b"\n"
    assert send(server, "DELETE", "/topics/brief").status == 204
    end = json.loads(response.readline())
    assert end["control"] == "end" and end["reason"] == "deleted" and end["topic"] == "brief"
    assert problem(entries, end) is None
    assert response.read() == b""
    connection.close()


def test_accept_on_two_lines_is_one_list(server):
    """RFC 9110 §5.3: repeated field lines are one comma-separated list, so the tie goes to NDJSON either way."""
    seed(server)
    for lines in (["text/event-stream", "application/x-ndjson"], ["application/x-ndjson", "text/event-stream"]):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            accept = "".join(f"Accept: {value}\r\n" for value in lines)
            raw.sendall(f"GET /topics/{TOPIC}/events HTTP/1.1\r\nHost: localhost\r\n{accept}\r\n".encode())
            head = b""
            while b"\r\n\r\n" not in head:
                head += raw.recv(4096)
        assert b"Content-Type: application/x-ndjson\r\n" in head, (lines, head)
