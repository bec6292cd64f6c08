"""Schemathesis hooks for test_contract.py: the rules of the contract that JSON Schema cannot state.

A schema describes each value on its own, so a few rules that relate several values are only in openapi.yaml's
prose, each with its own 400 code. A request that keeps to the schema but breaks one of them is "valid" to
Schemathesis, and its `positive_data_acceptance` check would call the documented 400 a rejection of valid data. The
check below holds such a request to exactly that 400 and code instead, and leaves every other case to the built-in
check, unchanged.

Three more checks stand in for built-in ones that openapi.yaml's shape for code generators would otherwise blunt:

- Event streams are `text/event-stream` strings, with their events listed in the response's `x-spout-events`
  extension (openapi.yaml's info.description says how to read it). Every event of a stream is checked against that
  list: its name, its `id:` and its data, by the `format` the request asked for.
- Every operation has a `default` (error) response for generated clients, which would make any status pass
  Schemathesis's status check; the status must be one the operation lists.
- In a create request an optional member that is `null` counts as omitted (openapi.yaml says so in prose), so a
  request that is valid once its null members are dropped is not negative data.
"""

import json
import re

import jsonschema_rs
import schemathesis
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.transport import response_content_type
from schemathesis.specs.openapi.checks import (
    is_unexpected_http_status_case,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
)

# The topic settings a create request starts from (openapi.yaml: `Retention`, `Policy`).
DEFAULT_RETENTION = {"messages": 10000, "bytes": 16 * 1024 * 1024}
DEFAULT_POLICY = "disconnect"
# Under `disconnect` a queue may hold at most this share of what retention keeps (openapi.yaml: `QueueLimit`).
DISCONNECT_HEADROOM = 4
# The most sources one `/events` stream may have.
MAX_SOURCES = 32
# The `format` of a stream when the request names none (openapi.yaml: the `format` parameters).
DEFAULT_FORMAT = {"/events": "json"}


def _values(query, name):
    value = (query or {}).get(name)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _rule_broken(case):
    """The 400 code of the rule across values that `case` breaks, or None."""
    if case.operation.label == "GET /events":
        topics = set(_values(case.query, "topic"))
        # A topic under another topic of the stream comes with it, and is not counted again.
        topics = {name for name in topics if not any(name.startswith(other + ".") for other in topics)}
        sources = len(topics) + len(set(_values(case.query, "tail")))
        if not sources:
            return "no_source"
        if sources > MAX_SOURCES:
            return "too_many_sources"
    if case.operation.label == "POST /topics" and isinstance(case.body, dict):
        # `null` counts as omitted, as everywhere in a create request.
        given = {key: value for key, value in (case.body.get("retention") or {}).items() if value is not None}
        retention = {**DEFAULT_RETENTION, **given}
        queue = case.body.get("queue") or {}
        share = DISCONNECT_HEADROOM if (case.body.get("policy") or DEFAULT_POLICY) == "disconnect" else 1
        limit = {key: max(1, retention[key] // share) for key in ("messages", "bytes")}
        if any(queue.get(key) is not None and queue[key] > limit[key] for key in ("messages", "bytes")):
            return "invalid_settings"
    return None


@schemathesis.hook
def map_query(context, query):
    """A long-poll's `wait` (up to 60 s) kept under a second: a valid `wait` holds an answer that has no message yet
    until its time is up, and a generated one would wait longer than a request may take here. Invalid values (over 60,
    or not numbers) are left as they are, to get their 400."""
    operation = getattr(context, "operation", None)
    if query and getattr(operation, "label", "") == "GET /topics/{name}/messages":
        wait = query.get("wait")
        if isinstance(wait, (int, float)) and not isinstance(wait, bool) and 0.5 < wait <= 60:
            query = {**query, "wait": 0.5}
    return query


@schemathesis.hook
def before_call(context, case, kwargs):
    """A stream asked for as NDJSON (`format=ndjson`, or an `Accept` that names it) is asked for as SSE instead, in
    every phase: Schemathesis bounds only `text/event-stream` answers, and would wait for the whole body of an NDJSON
    stream, which never ends. test_ndjson.py checks NDJSON lines against the same `x-spout-events` instead."""
    if isinstance(case.query, dict) and case.query.get("format") == "ndjson":
        case.query = {**case.query, "format": "json"}
    if isinstance(case.headers, dict):
        for name in [name for name, value in case.headers.items() if name.lower() == "accept" and "ndjson" in str(value)]:
            del case.headers[name]


@schemathesis.check
def positive_data_acceptance_across_values(ctx, response, case):
    """`positive_data_acceptance`, except that valid values that break a rule across values get exactly its 400."""
    code = _rule_broken(case) if case.meta is not None and case.meta.generation.mode.is_positive else None
    if code is None:
        return positive_data_acceptance(ctx, response, case)
    try:
        answered = response.json()["error"]["code"] if response.status_code == 400 else None
    except (ValueError, KeyError, TypeError):
        answered = None
    if answered != code:
        raise AssertionError(f"This request breaks a rule that openapi.yaml states in prose; expected 400 `{code}`, "
                             f"got {response.status_code}")
    return True


# -- The spec as data ---------------------------------------------------------------------------------------------

_validators = {}


def _spec(case):
    return case.operation.schema.raw_schema


def _resolve(spec, node):
    """`node`, or what its `$ref` (into this document) points to."""
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _validator(spec, schema):
    """A validator for `schema`, whose `$ref`s point into the spec's components."""
    key = json.dumps(schema, sort_keys=True)
    if key not in _validators:
        _validators[key] = jsonschema_rs.Draft202012Validator(
            {**schema, "components": spec["components"]}, validate_formats=True)
    return _validators[key]


def _operation(case):
    return _spec(case)["paths"][case.operation.path][case.operation.method.lower()]


# -- Event streams ------------------------------------------------------------------------------------------------

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _parse_events(text):
    """The events of an SSE stream's text, as an EventSource dispatches them: (name, own id or None, data).

    A frame without `data:` dispatches nothing (the preamble's id-only block); comments are skipped.
    """
    events = []
    fields = {"data": []}
    for line in _LINE_BREAK.split(text.removeprefix("\ufeff")) + [""]:
        if line == "":
            if fields["data"]:
                events.append((fields.get("event") or "message", fields.get("id"), "\n".join(fields["data"])))
            fields = {"data": []}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                fields["data"].append(value)
            elif name in ("event", "id"):
                fields[name] = value
    return events


def _event_problem(spec, entries, name, event_id, data):
    """What is wrong with one event, given the `x-spout-events` entries of its stream and format; None if nothing."""
    if event_id is None:
        return "it has no `id:` line"
    candidates = [entry for entry in entries if entry["event"] == name]
    if not candidates and name not in {entry["event"] for entry in entries}:
        candidates = [entry for entry in entries if entry.get("typedByPublisher")]
    if not candidates:
        return "its name is not in the response's `x-spout-events` for this format"
    problems = []
    for entry in candidates:
        if not _validator(spec, entry["id"]).is_valid(event_id):
            problems.append(f"its id {event_id!r} is not a {entry['id']['$ref'].split('/')[-1]}")
            continue
        schema = entry["data"]
        if _resolve(spec, schema).get("type") == "string":
            instance = data
        else:
            try:
                instance = json.loads(data)
            except ValueError:
                problems.append(f"its data is not the JSON of a {schema['$ref'].split('/')[-1]}")
                continue
        errors = [error.message for error in _validator(spec, schema).iter_errors(instance)]
        if not errors:
            return None
        problems.append(f"its data is not a {schema['$ref'].split('/')[-1]}: {'; '.join(errors)}")
    return "; or ".join(problems)


def _is_event_stream(response):
    return (response_content_type(response) or "").split(";")[0].strip().lower() == "text/event-stream"


@schemathesis.check
def response_schema_conformance_with_events(ctx, response, case):
    """`response_schema_conformance`, except that an event stream's events are checked against `x-spout-events`."""
    if not _is_event_stream(response) or case.operation.method.upper() == "HEAD":
        return response_schema_conformance(ctx, response, case)
    spec = _spec(case)
    documented = _resolve(spec, _operation(case)["responses"].get(str(response.status_code)))
    if not documented or "text/event-stream" not in documented.get("content", {}):
        raise AssertionError(f"{response.status_code} is not documented as an event stream")
    fmt = (case.query or {}).get("format") or DEFAULT_FORMAT.get(case.operation.path, "raw")
    entries = [entry for entry in documented["x-spout-events"] if fmt in entry["formats"]]
    problems = []
    for index, (name, event_id, data) in enumerate(_parse_events(response.content.decode("utf-8"))):
        problem = _event_problem(spec, entries, name, event_id, data)
        if problem:
            problems.append(f"Event #{index} `{name}` (format {fmt}): {problem}\n  data: {data[:300]!r}")
    if problems:
        raise AssertionError("Events that openapi.yaml's `x-spout-events` does not describe:\n" + "\n".join(problems))
    return True


# -- Statuses -----------------------------------------------------------------------------------------------------


@schemathesis.check
def status_code_conformance_without_default(ctx, response, case):
    """The status is one the operation lists; its `default` response (the error body) does not excuse any other."""
    if is_unexpected_http_status_case(case):
        # A request malformed on purpose (an undeclared method or Content-Type): other checks judge its answer.
        return None
    listed = [code for code in _operation(case)["responses"] if code != "default"]
    status = str(response.status_code)
    if not any(code == status or (code.endswith("XX") and code[0] == status[0]) for code in listed):
        raise AssertionError(f"Undocumented status {status} for {case.operation.label}; it lists {', '.join(listed)}")
    return True


# -- `null` counts as omitted -------------------------------------------------------------------------------------


def _without_nulls(value):
    """A request body as the server reads it: every member that is `null` dropped, at any depth, except a
    publication's `data`, where `null` is the data itself."""
    if isinstance(value, dict):
        return {key: member if key == "data" else _without_nulls(member)
                for key, member in value.items() if member is not None or key == "data"}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def _valid_once_nulls_are_dropped(case):
    """Whether a negative case is negative only through optional members that are `null`."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative or not isinstance(case.body, (dict, list)):
        return False
    others = (ParameterLocation.PATH, ParameterLocation.QUERY, ParameterLocation.HEADER, ParameterLocation.COOKIE)
    if any(meta.is_negative_at(location) for location in others):
        return False
    body = _without_nulls(case.body)
    if body == case.body:
        return False
    content = _resolve(_spec(case), _operation(case).get("requestBody", {})).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    return schema is not None and _validator(_spec(case), schema).is_valid(body)


@schemathesis.check
def negative_data_rejection_with_nulls(ctx, response, case):
    """`negative_data_rejection`, except for a request whose only fault is a `null` where a member may be omitted."""
    if _valid_once_nulls_are_dropped(case):
        return True
    return negative_data_rejection(ctx, response, case)
