"""Schemathesis hooks for test_contract.py: the rules of the contract that JSON Schema cannot state.

A schema describes each value on its own, so a few rules that relate several values are only in openapi.yaml's
prose, each with its own 400 code. A request that keeps to the schema but breaks one of them is "valid" to
Schemathesis, and its `positive_data_acceptance` check would call the documented 400 a rejection of valid data. The
check below holds such a request to exactly that 400 and code instead, and leaves every other case to the built-in
check, unchanged.
"""

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

# The topic settings a create request starts from (openapi.yaml: `Retention`).
DEFAULT_RETENTION = {"messages": 1000, "bytes": 16 * 1024 * 1024}
# The most sources one `/events` stream may have.
MAX_SOURCES = 32


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
        if any(queue.get(key) is not None and queue[key] > retention[key] for key in ("messages", "bytes")):
            return "invalid_settings"
    return None


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
