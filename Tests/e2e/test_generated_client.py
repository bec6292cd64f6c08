"""openapi.yaml makes a working client: openapi-python-client generates one at test time, and it talks to a live server.

The client is generated into a temporary directory from the repo's openapi.yaml, imported, and used against the
module's server: create a topic, publish JSON and text, read the topic's figures, list topics, follow a file, and
read the start of each kind of stream. Event streams never end, so they are read through the generated client's own
httpx client with the request the generated operation builds (`_get_kwargs`), and stopped after the first event.

Any warning the generator gives is a defect of the spec and fails the test, except the two that this version of the
generator gives for any spec (see KNOWN_WARNINGS). A model that receives a member the spec does not describe keeps it
in `additional_properties`; the tests require those to be empty, so the server sends nothing undocumented.
"""

import importlib
import json
import os
import pathlib
import re
import subprocess
import sys

import attrs
import httpx
import pytest
from openapi_spec_validator import validate

from contract_support import REPO, SPEC

PACKAGE = "spout_client"
GENERATOR = pathlib.Path(sys.executable).with_name("openapi-python-client")
# openapi-python-client 0.29 cannot send a `text/plain` body (publishing text) nor read an `application/yaml` answer
# (this document); it leaves those out of the client and says so. Publishing text goes through the client's httpx.
KNOWN_WARNINGS = {
    ("POST /topics/{name}/messages", "Unsupported content type text/plain"),
    ("GET /openapi.yaml", "(Unsupported content_type application/yaml)"),
}
TOPIC_ID = re.compile(r"^[0-9a-f]{12}-[0-9]+$")


def generator_warnings(output):
    """(where, what) for each warning in openapi-python-client's output."""
    found = []
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        where = re.match(r"WARNING parsing (\S+ \S+) within", line)
        where = where or re.match(r"Unable to process schema (\S+):", line)
        if where:
            found.append((where.group(1), lines[index + 1] if index + 1 < len(lines) else ""))
    return found


@pytest.fixture(scope="module")
def spout(tmp_path_factory):
    """The generated package, imported."""
    target = tmp_path_factory.mktemp("generated") / PACKAGE
    # The generator formats its output with ruff, which the venv has beside it.
    env = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    finished = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(REPO / "openapi.yaml"), "--meta", "none", "--output-path",
         str(target)], capture_output=True, text=True, timeout=300, env=env)
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output
    warnings = generator_warnings(output)
    assert bool(warnings) == ("Warning(s) encountered" in output), output
    unexpected = [(where, what) for where, what in warnings
                  if not any(where == known and text in what for known, text in KNOWN_WARNINGS)]
    assert not unexpected, f"openapi-python-client warns about the spec: {unexpected}\n{output}"
    sys.path.insert(0, str(target.parent))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(target.parent))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def api(spout):
    """The generated modules, by name: `api.create_topic`, `api.Topic`…"""
    modules = {}
    for tag in ("topics", "tails", "events", "operations", "viewer"):
        package = importlib.import_module(f"{PACKAGE}.api.{tag}")
        for path in pathlib.Path(package.__file__).parent.glob("*.py"):
            if path.stem != "__init__":
                modules[path.stem] = importlib.import_module(f"{PACKAGE}.api.{tag}.{path.stem}")
    models = importlib.import_module(f"{PACKAGE}.models")
    types = importlib.import_module(f"{PACKAGE}.types")
    named = {name: getattr(models, name) for name in models.__all__}
    return type("API", (), {**modules, **named, "Unset": types.Unset})


@pytest.fixture(scope="module")
def client(spout, shared_server):
    with spout.Client(base_url=shared_server.url, timeout=httpx.Timeout(10.0)) as made:
        yield made


def undocumented(value, where="$"):
    """Where a parsed answer holds members that the spec does not describe (a model's `additional_properties`)."""
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in undocumented(item, f"{where}[{index}]")]
    if not attrs.has(type(value)):
        return []
    found = [f"{where}.{key}" for key in getattr(value, "additional_properties", {})]
    for field in attrs.fields(type(value)):
        if field.name != "additional_properties":
            found += undocumented(getattr(value, field.name), f"{where}.{field.name}")
    return found


def first_event(client, request):
    """Status, headers and the first event (name, id, data) of the stream that `request` (an operation's
    `_get_kwargs`) opens; the stream is closed after it."""
    with client.get_httpx_client().stream(**request) as response:
        fields, data = {}, []
        for line in response.iter_lines():
            if line == "":
                if data:
                    return response, (fields.get("event", "message"), fields.get("id"), "\n".join(data))
                fields, data = {}, []
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "data":
                    data.append(value)
                else:
                    fields[name] = value
    raise AssertionError("the stream ended before its first event")


def assert_stream_headers(response):
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == "text/event-stream"
    assert "no-cache" in response.headers["Cache-Control"]
    assert response.headers["X-Accel-Buffering"] == "no"


def test_the_spec_is_valid_openapi_and_shaped_for_generators():
    validate(SPEC)
    declared = {tag["name"] for tag in SPEC["tags"]}
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            where = f"{method.upper()} {path}"
            assert method != "options", f"{where}: OPTIONS is described in prose, not as operations"
            assert operation.get("operationId"), f"{where} has no operationId"
            tags = operation.get("tags")
            assert tags and set(tags) <= declared, f"{where}: tags {tags}"
            assert "default" in operation["responses"], f"{where} has no default (error) response"


def test_the_error_codes_are_exactly_those_the_server_emits(api):
    sources = "".join(path.read_text() for path in (REPO / "Sources" / "SpoutServer").glob("*.swift"))
    emitted = set(re.findall(r'HTTPError\(\s*\d{3},\s*"([a-z0-9_]+)"', sources, re.S))
    assert len(emitted) > 20, "the server's HTTPError calls were found"
    assert {code.value for code in api.ErrorCode} == emitted


def test_create_publish_read_and_list_a_topic(api, client):
    created = api.create_topic.sync_detailed(client=client, body=api.TopicCreate(
        name="generated.orders", retention=api.RetentionRequest(messages=50), policy=api.Policy.DROP_OLDEST))
    assert created.status_code == 201, created.content
    assert created.headers["Location"] == "/topics/generated.orders"
    topic = created.parsed
    assert isinstance(topic, api.Topic) and not undocumented(topic)
    assert (topic.name, topic.retention.messages, topic.policy, topic.published, topic.last_id) == (
        "generated.orders", 50, api.Policy.DROP_OLDEST, 0, None)
    again = api.create_topic.sync_detailed(client=client, body=api.TopicCreate(
        name="generated.orders", retention=api.RetentionRequest(messages=50), policy=api.Policy.DROP_OLDEST))
    assert (again.status_code, again.parsed.name) == (200, "generated.orders")
    conflict = api.create_topic.sync(client=client, body=api.TopicCreate(name="generated.orders"))
    assert isinstance(conflict, api.Error) and conflict.error.code == api.ErrorCode.CONFLICT

    one = api.publish.sync(name="generated.orders", client=client,
                           body=api.Publication(data={"total": 2}, event="order"))
    assert isinstance(one, api.PublishReceipt) and not undocumented(one), one
    assert TOPIC_ID.match(one.id) and one.subscribers == 0 and isinstance(one.ids, api.Unset)
    batch = api.publish.sync(name="generated.orders", client=client,
                             body=[api.Publication(data="first"), api.Publication(data=None)])
    assert len(batch.ids) == 2 and all(TOPIC_ID.match(id_) for id_ in batch.ids)
    # The generator cannot send text/plain; its httpx client can, and the receipt is the generated model.
    text = client.get_httpx_client().post("/topics/generated.orders/messages", content="hello\nworld",
                                          headers={"Content-Type": "text/plain"})
    assert text.status_code == 201, text.text
    receipt = api.PublishReceipt.from_dict(text.json())
    assert not undocumented(receipt)

    topic = api.get_topic.sync(name="generated.orders", client=client)
    assert isinstance(topic, api.Topic) and not undocumented(topic)
    assert (topic.published, topic.last_id, topic.retained.messages) == (4, receipt.id, 4)
    parent = api.get_topic.sync(name="generated", client=client)
    assert (parent.published, parent.retained.messages) == (0, 4)

    listed = api.list_topics.sync(client=client)
    assert isinstance(listed, api.TopicList) and not undocumented(listed)
    names = [topic.name for topic in listed.topics]
    assert names == sorted(names) and {"generated", "generated.orders"} <= set(names)
    assert next(topic for topic in listed.topics if topic.name == "generated.orders").last_id == receipt.id


def test_errors_parse_as_the_error_model_with_a_listed_code(api, client):
    missing = api.get_topic.sync_detailed(name="generated.nothing", client=client)
    assert missing.status_code == 404 and missing.parsed.error.code == api.ErrorCode.NOT_FOUND
    invalid = api.get_topic.sync_detailed(name="bad name!", client=client)
    assert invalid.status_code == 400 and invalid.parsed.error.code == api.ErrorCode.INVALID_NAME
    unread = api.subscribe_topic.sync_detailed(name="generated.nothing", client=client)
    assert unread.status_code == 404 and unread.parsed.error.code == api.ErrorCode.NOT_FOUND
    no_source = api.events.sync_detailed(client=client)
    assert no_source.status_code == 400 and no_source.parsed.error.code == api.ErrorCode.NO_SOURCE
    assert not undocumented(missing.parsed)


def test_a_topic_stream_starts_with_its_backlog(api, client):
    created = api.create_topic.sync_detailed(client=client, body=api.TopicCreate(name="generated.stream"))
    assert created.status_code == 201
    published = api.publish.sync(name="generated.stream", client=client,
                                 body=api.Publication(data="last", event="note"))

    response, (name, event_id, data) = first_event(
        client, api.subscribe_topic._get_kwargs(name="generated.stream", backlog=1))
    assert_stream_headers(response)
    assert (name, event_id, data) == ("note", published.id, "last")

    response, (name, event_id, data) = first_event(client, api.subscribe_topic._get_kwargs(
        name="generated.stream", backlog=1, format_=api.StreamFormat.JSON))
    assert_stream_headers(response)
    message = api.TopicMessageJSON.from_dict(json.loads(data))
    assert (name, event_id) == ("message", published.id) and not undocumented(message)
    assert (message.topic, message.id, message.event, message.data) == (
        "generated.stream", published.id, "note", "last")

    # A resume id from before this run: the stream says so in-band, with the generated model of a gap.
    response, (name, _, data) = first_event(client, api.subscribe_topic._get_kwargs(
        name="generated.stream", last_event_id_header="000000000000-1"))
    gap = api.GapEvent.from_dict(json.loads(data))
    assert name == "gap" and gap.reason == api.GapEventReason.RESTARTED and not undocumented(gap)


def test_a_tail_and_the_multiplexed_stream(api, client, shared_server):
    log = shared_server.root / "generated.log"
    log.write_text("one\ntwo\nthree\n")
    created = api.create_tail.sync_detailed(client=client, body=api.TailCreate(path=str(log), name="generated"))
    assert created.status_code == 201 and created.headers["Location"] == "/tails/generated"
    tail = created.parsed
    assert isinstance(tail, api.Tail) and not undocumented(tail)
    assert (tail.id, tail.state) == ("generated", api.TailState.FOLLOWING)
    assert api.get_tail.sync(id="generated", client=client).path == tail.path
    listed = api.list_tails.sync(client=client)
    assert isinstance(listed, api.TailList) and "generated" in [tail.id for tail in listed.tails]

    response, (name, _, data) = first_event(client, api.view_tail._get_kwargs(id="generated", lines="1"))
    assert_stream_headers(response)
    assert (name, data) == ("message", "three")
    response, (_, _, data) = first_event(client, api.view_tail._get_kwargs(
        id="generated", lines="all", format_=api.StreamFormat.JSON))
    line = api.TailLineJSON.from_dict(json.loads(data))
    assert (line.tail, line.line) == ("generated", "one") and not undocumented(line)

    response, (name, event_id, data) = first_event(client, api.events._get_kwargs(tail=["generated"], lines="1"))
    assert_stream_headers(response)
    line = api.TailLineJSON.from_dict(json.loads(data))
    assert (name, line.line) == ("message", "three") and event_id.startswith("tail:generated=")


def test_operations(api, client):
    assert api.health.sync(client=client).status == "ok"
    assert "spout_topics " in api.metrics.sync(client=client)
    assert "<html" in api.viewer.sync(client=client).lower()
