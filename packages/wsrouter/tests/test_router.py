"""Router matching rules, table-driven, and the router's mount/attach API."""

from __future__ import annotations

import re

import pytest

from wsrouter import ANY, NO_PROTOCOL, WebSocketRouter


async def _handler(request: object) -> None:  # a distinct handler per route below
    return None


def _make(name: str):  # type: ignore[no-untyped-def]
    async def handler(request: object) -> None:
        return None

    handler.__name__ = handler.__qualname__ = name
    return handler


def build(routes: list[tuple[object, str | None, str]]) -> WebSocketRouter:
    router = WebSocketRouter()
    for path, protocol, name in routes:
        router.mount(path, protocol, _make(name))  # type: ignore[arg-type]
    return router


def matched(router: WebSocketRouter, path: str, protocols: list[str]) -> tuple[str, str | None, dict[str, str]] | None:
    found = router.match(path, protocols)
    if found is None:
        return None
    route, protocol, params = found
    return route.handler.__name__, protocol, params


ROUTES = [
    ("/echo", "echo-protocol", "echo"),
    ("/echo", None, "echo-plain"),
    ("/rooms/{room}", "chat", "room"),
    ("/rooms/{room}/users/{user}", "chat", "room-user"),
    (re.compile(r"/files/(?P<name>[a-z]+)\.txt"), ANY, "files"),
    ("/any-protocol", ANY, "anyproto"),
    ("*", "fallback", "fallback"),
]

CASES = [
    # (description, path, requested protocols, expected (handler, protocol, params) or None)
    ("exact path and protocol", "/echo", ["echo-protocol"], ("echo", "echo-protocol", {})),
    (
        "protocols compare case-insensitively, client spelling kept",
        "/echo",
        ["Echo-Protocol"],
        ("echo", "Echo-Protocol", {}),
    ),
    ("no protocol requested matches the None mount", "/echo", [], ("echo-plain", None, {})),
    ("None mount does not serve clients that ask for a protocol", "/echo", ["other"], None),
    ("query is ignored by the caller (path only)", "/echo", ["echo-protocol"], ("echo", "echo-protocol", {})),
    ("exact path does not match a prefix", "/echo/more", ["echo-protocol"], None),
    ("exact path is case-sensitive", "/ECHO", ["echo-protocol"], None),
    ("trailing slash is a different path", "/echo/", [], None),
    ("pattern captures a segment", "/rooms/lobby", ["chat"], ("room", "chat", {"room": "lobby"})),
    ("pattern params are percent-decoded", "/rooms/a%20b", ["chat"], ("room", "chat", {"room": "a b"})),
    ("pattern param never spans a slash", "/rooms/a/b", ["chat"], None),
    ("pattern param is never empty", "/rooms/", ["chat"], None),
    ("two params", "/rooms/r1/users/u2", ["chat"], ("room-user", "chat", {"room": "r1", "user": "u2"})),
    ("regex must match the whole path", "/files/abc.txt", ["x"], ("files", "x", {"name": "abc"})),
    ("regex anchored at the end", "/files/abc.txt.bak", ["x"], None),
    ("'*' protocol matches a request without protocols", "/any-protocol", [], ("anyproto", None, {})),
    ("'*' protocol takes the client's first protocol", "/any-protocol", ["b", "a"], ("anyproto", "b", {})),
    ("'*' path matches any path", "/whatever/x", ["fallback"], ("fallback", "fallback", {})),
    (
        "client preference first: a later protocol with an earlier mount loses",
        "/echo",
        ["nope", "FALLBACK", "echo-protocol"],
        ("fallback", "FALLBACK", {}),
    ),
    ("nothing at this path", "/nowhere", ["chat"], None),
]


@pytest.mark.parametrize(("description", "path", "protocols", "expected"), CASES, ids=[c[0] for c in CASES])
def test_matching_rules(description: str, path: str, protocols: list[str], expected: object) -> None:
    assert matched(build(ROUTES), path, protocols) == expected


def test_mount_order_breaks_ties() -> None:
    """For one protocol, the first route in mount order wins (the seed's rule)."""
    router = build([("*", "p", "first"), ("/x", "p", "second")])
    assert matched(router, "/x", ["p"]) == ("first", "p", {})
    router = build([("/x", "p", "second"), ("*", "p", "first")])
    assert matched(router, "/x", ["p"]) == ("second", "p", {})


def test_same_path_and_protocol_twice_refused() -> None:
    router = build([("/a", "p", "one")])
    with pytest.raises(ValueError, match="already mounted"):
        router.mount("/a", "P", _handler)
    router.mount("/a", "q", _handler)  # another protocol is fine
    router.mount("/a", None, _handler)


def test_unmount_without_protocol_removes_the_no_protocol_mount() -> None:
    """WebSocket-Node crashes with a TypeError here."""
    router = build([("/a", None, "plain"), ("/a", "p", "proto")])
    router.unmount("/a")
    assert matched(router, "/a", []) is None
    assert matched(router, "/a", ["p"]) == ("proto", "p", {})
    router.unmount("/a", "P")
    assert router.routes == []
    with pytest.raises(ValueError, match="no route"):
        router.unmount("/a", "p")


def test_unmount_regex_by_equal_pattern() -> None:
    router = build([(re.compile("/r.*"), ANY, "r")])
    router.unmount(re.compile("/r.*"), ANY)
    assert router.routes == []


@pytest.mark.parametrize(
    "pattern",
    ["/a/{x}{y}", "/a/{x}/{x}", "/a/{x", "/a/x}", "/a/{1x}"],
)
def test_invalid_patterns(pattern: str) -> None:
    with pytest.raises(ValueError, match="invalid path pattern"):
        WebSocketRouter().mount(pattern, None, _handler)


@pytest.mark.parametrize(("path", "protocol"), [("", None), (3, None), ("/a", ""), ("/a", 5)])
def test_bad_arguments(path: object, protocol: object) -> None:
    with pytest.raises(TypeError):
        WebSocketRouter().mount(path, protocol, _handler)  # type: ignore[arg-type]


def test_pattern_matching_is_linear_on_hostile_paths() -> None:
    """Generated patterns have no nested quantifiers: a long hostile path fails fast."""
    router = build([("/a/{x}-{y}/end", None, "r")])
    # A parameter stops at the first character of the literal after it, so the engine
    # cannot try every split of "x-x-x-..." between x and y (which took ~10 s before).
    regex = router.routes[0]._regex
    assert regex is not None
    assert r"(?P<x>[^/\-]+)" in regex.pattern
    hostile = "/a/" + "x-" * 50_000 + "/nope"
    assert matched(router, hostile, []) is None
    assert matched(router, "/a/1-2/end", []) == ("r", None, {"x": "1", "y": "2"})


def test_decorator_mount() -> None:
    router = WebSocketRouter()

    @router.route("/d", "x")
    async def handler(request: object) -> None:
        return None

    assert matched(router, "/d", ["X"]) == ("handler", "X", {})
    assert NO_PROTOCOL is None
