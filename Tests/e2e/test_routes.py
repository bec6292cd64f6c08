"""The server's routes and openapi.yaml's paths agree, seen from outside over real sockets.

Every operation the spec lists is answered with one of its documented successes, never 404 or 405; every route's
`Allow` (on OPTIONS and on 405) is exactly the spec's methods for that path, with HEAD wherever GET is and OPTIONS
everywhere (the spec states OPTIONS in prose, not as operations); and plausible paths and methods the spec does not
have get 404 or 405 with Spout's JSON error body. The viewer's files, which the spec describes in prose under `/`, are
answered like `/`. (Tests/SpoutServerTests/RouteSpecTests compares the route table itself, in process.)
"""

import pytest

from contract_support import SPEC, TAIL, TOPIC, allow_for, documented_methods, quote, seed, send

# Concrete values for the path parameters; each names a resource that exists once `routes_server` is seeded.
EXAMPLES = {"name": TOPIC, "id": TAIL}
TEMPLATES = list(SPEC["paths"])
# The viewer's files are answered for any path no route takes, with the methods of `/` (openapi.yaml: `GET /`).
FILES = "/"
# Files of the viewer that public/ has, and paths of files it does not.
VIEWER_FILES = ["/index.html", "/js/stream.js"]


def concrete(template, **values):
    """A path template with its parameters filled in."""
    for key, value in {**EXAMPLES, **values}.items():
        template = template.replace("{" + key + "}", quote(value))
    return template


def template_of(path):
    """The spec path that a request path falls under, or None for a path no route takes (a viewer's file)."""
    parts = path.split("?")[0].split("/")
    for template in TEMPLATES:
        pattern = template.split("/")
        if len(pattern) == len(parts) and all(
                want == got or (want.startswith("{") and got) for want, got in zip(pattern, parts)):
            return template
    return None


@pytest.fixture(scope="module")
def routes_server(shared_server):
    """The module's server with the example resources, and one topic and one tail for the DELETE to remove."""
    seed(shared_server)
    (shared_server.root / "doomed.log").write_text("last words\n")
    (shared_server.root / "another.log").write_text("")
    assert send(shared_server, "POST", "/tails", {"path": str(shared_server.root / "doomed.log"),
                                                  "name": "doomed"}).status == 201
    assert send(shared_server, "POST", "/topics", {"name": "doomed"}).status == 201
    return shared_server


def valid_request(server, method, template):
    """A request the operation must accept: (target, body, content type)."""
    special = {
        ("POST", "/topics"): ("/topics", {"name": "routes.made"}, None),
        ("POST", "/tails"): ("/tails", {"path": str(server.root / "another.log")}, None),
        ("POST", "/topics/{name}/messages"): (concrete(template), b"hello", "text/plain"),
        ("DELETE", "/topics/{name}"): (concrete(template, name="doomed"), None, None),
        ("DELETE", "/tails/{id}"): (concrete(template, id="doomed"), None, None),
        ("GET", "/events"): (f"/events?topic={TOPIC}&tail={TAIL}", None, None),
    }
    return special.get((method, template), (concrete(template), None, None))


def successes(method, template):
    """The 2xx statuses the spec documents for an operation."""
    return {int(code) for code in SPEC["paths"][template][method.lower()]["responses"] if code.startswith("2")}


OPERATIONS = [(method, template) for template in TEMPLATES for method in sorted(documented_methods(template))]


@pytest.mark.parametrize(("method", "template"), OPERATIONS, ids=[f"{m} {t}" for m, t in OPERATIONS])
def test_every_documented_operation_is_answered_with_a_documented_success(routes_server, method, template):
    target, body, content_type = valid_request(routes_server, method, template)
    answer = send(routes_server, method, target, body, content_type)
    promised = sorted(successes(method, template))
    assert answer.status in promised, f"{method} {target}: {answer.status} {answer.body[:200]!r}, not {promised}"


def test_the_spec_lists_no_options_operations_and_no_catch_all_path():
    """OPTIONS and the viewer's files are in the spec's prose; generated clients get neither as operations."""
    assert not [template for template in TEMPLATES if "OPTIONS" in documented_methods(template)]
    assert not [template for template in TEMPLATES if template.count("/") == 1 and "{" in template]


@pytest.mark.parametrize("target", [concrete(template) for template in TEMPLATES] + VIEWER_FILES)
def test_options_answers_every_path_with_204_and_its_allow(routes_server, target):
    template = template_of(target) or FILES
    answer = send(routes_server, "OPTIONS", target)
    assert (answer.status, answer.allow, answer.body) == (204, allow_for(template), b""), f"OPTIONS {target}"


GETS = [template for template in TEMPLATES if "GET" in documented_methods(template)]


@pytest.mark.parametrize("template", GETS)
def test_head_answers_wherever_get_does_with_the_same_status_and_type(routes_server, template):
    target = valid_request(routes_server, "GET", template)[0]
    get, head = send(routes_server, "GET", target), send(routes_server, "HEAD", target)
    assert (head.status, head.media_type) == (get.status, get.media_type), f"HEAD {target}"
    assert head.body == b""


# Names OPTIONS must answer for: valid ones, ones that name nothing, and invalid ones (a CORS preflight of a request
# that will get its 400 must itself succeed).
ANY_NAMES = [TOPIC, "nothing.here", "bad name!", "\u00d7\u00f8", "a..b", "x" * 200]
TEMPLATED = [template for template in TEMPLATES if "{" in template]


@pytest.mark.parametrize("template", TEMPLATED)
@pytest.mark.parametrize("name", ANY_NAMES)
def test_options_answers_for_the_route_whatever_the_name(routes_server, template, name):
    target = concrete(template, name=name, id=name)
    answer = send(routes_server, "OPTIONS", target)
    assert (answer.status, answer.allow, answer.body) == (204, allow_for(template), b""), f"OPTIONS {target}"


# Methods a client might try, with and without a body; each one the spec lacks for a path must get 405.
TRIED = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "TRACE", "PROPFIND")
UNDOCUMENTED = [(method, template) for template in TEMPLATES for method in TRIED if method not in allow_for(template)]


@pytest.mark.parametrize(("method", "template"), UNDOCUMENTED, ids=[f"{m} {t}" for m, t in UNDOCUMENTED])
def test_a_method_the_spec_lacks_gets_405_with_exactly_the_spec_methods(routes_server, method, template):
    target = concrete(template)
    answer = send(routes_server, method, target, b"{}" if method in ("POST", "PUT", "PATCH") else None)
    assert answer.status == 405, f"{method} {target}: {answer.status} {answer.body[:200]!r}"
    assert answer.allow == allow_for(template), f"{method} {target}: Allow {answer.headers.get('Allow')!r}"
    if method != "HEAD":
        assert answer.error_code() == "method_not_allowed"


@pytest.mark.parametrize("target", VIEWER_FILES)
def test_a_viewer_file_answers_get_and_head_like_slash(routes_server, target):
    get, head = send(routes_server, "GET", target), send(routes_server, "HEAD", target)
    assert get.status in successes("GET", FILES) and get.body, f"GET {target}: {get.status}"
    assert "no-cache" in get.headers.get("Cache-Control", ""), f"GET {target}"
    assert "frame-ancestors 'none'" in get.headers.get("Content-Security-Policy", ""), f"GET {target}"
    assert get.headers.get("X-Frame-Options") == "DENY", f"GET {target}"
    assert (head.status, head.media_type, head.body) == (get.status, get.media_type, b""), f"HEAD {target}"


FILE_METHODS = [(method, target) for target in VIEWER_FILES for method in TRIED if method not in allow_for(FILES)]


@pytest.mark.parametrize(("method", "target"), FILE_METHODS, ids=[f"{m} {t}" for m, t in FILE_METHODS])
def test_a_viewer_file_gets_405_for_other_methods_with_the_methods_of_slash(routes_server, method, target):
    answer = send(routes_server, method, target, b"{}" if method in ("POST", "PUT", "PATCH") else None)
    assert (answer.status, answer.allow) == (405, allow_for(FILES)), f"{method} {target}: {answer.status}"
    if method != "HEAD":
        assert answer.error_code() == "method_not_allowed"


# Plausible guesses at routes the spec does not have. Paths no route takes fall to the viewer's files and get 404
# unless such a file exists; a known path, or an existing file, with another method gets 405.
PROBES = [
    ("GET", "/topic"), ("GET", "/tail"), ("GET", "/event"), ("GET", "/topics/"), ("GET", "/tails/"),
    ("GET", f"/tails/{TAIL}/lines"), ("GET", f"/tails/{TAIL}/events/x"), ("GET", f"/topics/{TOPIC}/subscribe"),
    ("GET", f"/topics/{TOPIC}/events/x"), ("GET", f"/topics/{TOPIC}/messages/1"), ("GET", "/events/x"),
    ("GET", "/admin"), ("GET", "/debug"), ("GET", "/debug/pprof"), ("GET", "/api/topics"), ("GET", "/v1/topics"),
    ("GET", "/health"), ("GET", "/healthz/ready"), ("GET", "/metrics/x"), ("GET", "/openapi.json"),
    ("GET", "/swagger.json"), ("GET", "/.env"), ("GET", "/.git/config"), ("GET", "/../etc/passwd"),
    ("GET", "/%2e%2e/etc/passwd"), ("POST", "/admin"), ("DELETE", "/admin"), ("OPTIONS", "/admin"),
    ("PUT", "/topics"), ("DELETE", "/topics"), ("PATCH", f"/tails/{TAIL}"), ("PUT", f"/tails/{TAIL}"),
    ("POST", f"/tails/{TAIL}"), ("PATCH", f"/topics/{TOPIC}"), ("DELETE", f"/topics/{TOPIC}/messages"),
    ("PUT", f"/topics/{TOPIC}/messages"), ("POST", f"/topics/{TOPIC}/events"), ("POST", f"/tails/{TAIL}/events"),
    ("DELETE", "/tails"), ("POST", "/events"), ("DELETE", "/events"), ("POST", "/healthz"), ("DELETE", "/metrics"),
    ("PUT", "/openapi.yaml"), ("POST", "/"), ("DELETE", "/index.html"), ("PUT", "/js/stream.js"),
    ("GET", "/js/nothing.js"), ("OPTIONS", "/js/nothing.js"),
]


@pytest.mark.parametrize(("method", "target"), PROBES, ids=[f"{m} {t}" for m, t in PROBES])
def test_an_undocumented_route_or_method_gets_404_or_405_with_the_json_error(routes_server, method, target):
    template = template_of(target)
    # A route the spec has, or a viewer's file that exists, is known: another method there is 405, the rest 404.
    known = template is not None or target in VIEWER_FILES
    template = template or FILES
    assert method not in allow_for(template) or not known, f"{method} {target} is documented under {template}"
    answer = send(routes_server, method, target)
    if known:
        assert answer.status == 405, f"{method} {target}: {answer.status} {answer.body[:200]!r}"
        assert answer.allow == allow_for(template), f"{method} {target}: Allow {answer.headers.get('Allow')!r}"
        assert answer.error_code() == "method_not_allowed"
    else:
        assert answer.status == 404, f"{method} {target}: {answer.status} {answer.body[:200]!r}"
        assert answer.error_code() == "not_found"
