"""The router in front of a real wsserver, driven by wsclient over sockets on 127.0.0.1.

One server holds several mounts: an exact path with a subprotocol, a path pattern with
parameters, a regular expression, ``"*"`` as a fallback and a mount for clients that
ask for no subprotocol. Each handler accepts and sends back which route ran, with the
subprotocol and the parameters it got.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import wsclient
import wsserver
from wsrouter import ANY, NO_PROTOCOL, RoutedRequest, WebSocketRouter

#: Seconds any one test may take.
TIMEOUT = 30.0


def async_test(function: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Run an `async def` test with `asyncio.run`, bounded by TIMEOUT."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(asyncio.wait_for(function(*args, **kwargs), TIMEOUT))

    return wrapper


def reporter(name: str) -> Callable[[RoutedRequest], Awaitable[None]]:
    """A handler that accepts and sends ``{"route", "protocol", "params", "path"}``."""

    async def handler(request: RoutedRequest) -> None:
        connection = request.accept(headers=[("X-Route", name)])
        report = {"route": name, "protocol": request.protocol, "params": request.params, "path": request.path}
        await connection.send(json.dumps(report))
        await connection.close()

    return handler


def build_router(server: wsserver.WebSocketServer) -> WebSocketRouter:
    router = WebSocketRouter(server)
    router.mount("/echo", "echo-protocol", reporter("echo"))
    router.mount("/plain", NO_PROTOCOL, reporter("plain"))
    router.mount("/rooms/{room}/users/{user}", "chat", reporter("room-user"))
    router.mount(re.compile(r"/files/(?P<name>[a-z]+)\.txt"), ANY, reporter("files"))
    router.mount("*", "fallback", reporter("fallback"))
    return router


@contextlib.asynccontextmanager
async def serving(handler: wsserver.Handler | None = None) -> AsyncIterator[tuple[wsserver.WebSocketServer, str]]:
    """A server on 127.0.0.1, a free port; yields it and its ``ws://`` base URL."""
    async with wsserver.WebSocketServer(handler) as server:
        await server.listen("127.0.0.1", 0)
        yield server, f"ws://127.0.0.1:{server.addresses[0][1]}"


async def report(url: str, protocols: list[str]) -> tuple[str | None, dict[str, Any]]:
    """Connect; return the subprotocol the server chose and the handler's report."""
    async with wsclient.connect(url, protocols, proxy=None) as ws:
        assert ws.response is not None
        data = json.loads(await ws.recv())
        assert ws.response.headers.get("X-Route") == data["route"]  # accept(headers=...) reached the client
        return ws.subprotocol, data


async def refused(url: str, protocols: list[str]) -> tuple[int, str | None]:
    """Connect and expect a refusal; return its status and reason header."""
    with pytest.raises(wsclient.HandshakeFailed) as failed:
        await wsclient.connect(url, protocols, proxy=None)
    return failed.value.status, failed.value.response.headers.get("X-WebSocket-Reject-Reason")


ROUTED = [
    # (description, target, requested subprotocols, chosen subprotocol, route, params)
    ("exact path and subprotocol", "/echo", ["echo-protocol"], "echo-protocol", "echo", {}),
    ("the query is ignored", "/echo?x=1&y=/plain", ["echo-protocol"], "echo-protocol", "echo", {}),
    ("subprotocol echoed in the client's spelling", "/echo", ["ECHO-Protocol"], "ECHO-Protocol", "echo", {}),
    ("client preference before mount order", "/echo", ["fallback", "echo-protocol"], "fallback", "fallback", {}),
    ("unknown subprotocols are skipped", "/echo", ["nope", "echo-protocol"], "echo-protocol", "echo", {}),
    (
        "pattern parameters, percent-decoded",
        "/rooms/caf%C3%A9%20bar/users/ada",
        ["chat"],
        "chat",
        "room-user",
        {"room": "café bar", "user": "ada"},
    ),
    ("regular expression groups", "/files/readme.txt", ["anything"], "anything", "files", {"name": "readme"}),
    ("'*' subprotocol serves a client asking for none", "/files/readme.txt", [], None, "files", {"name": "readme"}),
    ("'*' path as fallback", "/what/ever", ["fallback"], "fallback", "fallback", {}),
    ("no-protocol mount", "/plain", [], None, "plain", {}),
]


@async_test
async def test_requests_reach_the_matching_mount() -> None:
    async with serving() as (server, base):
        build_router(server)
        for description, target, protocols, chosen, route, params in ROUTED:
            subprotocol, data = await report(base + target, protocols)
            assert (subprotocol, data["protocol"]) == (chosen, chosen), description
            assert (data["route"], data["params"]) == (route, params), description
            assert data["path"] == target.split("?")[0], description


@async_test
async def test_refusals_404_for_an_unknown_path_400_for_an_unserved_subprotocol() -> None:
    async with serving() as (server, base):
        router = build_router(server)
        path_ok = "no handler for the requested subprotocols at this path"
        assert await refused(base + "/echo", ["nope"]) == (400, path_ok)
        assert await refused(base + "/plain", ["echo-protocol"]) == (400, path_ok)  # the None mount only serves []
        assert await refused(base + "/rooms/a/users/", ["chat"]) == (400, path_ok)  # only "*" matches the path
        assert await refused(base + "/unknown", []) == (400, path_ok)  # "*" matches every path

        # Without the "*" mount, an unknown path is 404.
        router.unmount("*", "fallback")
        not_found = "no handler is available for the given request"
        assert await refused(base + "/unknown", ["fallback"]) == (404, not_found)
        assert await refused(base + "/rooms/a/users/", ["chat"]) == (404, not_found)  # empty parameter
        assert await refused(base + "/files/README.txt", []) == (404, not_found)  # the expression is case-sensitive
        assert await refused(base + "/echo/", ["echo-protocol"]) == (404, not_found)  # exact means exact


@async_test
async def test_mounts_change_while_serving() -> None:
    async with serving() as (server, base):
        router = build_router(server)
        router.unmount("/plain")  # no subprotocol given: the NO_PROTOCOL mount (WebSocket-Node crashes here)
        assert (await refused(base + "/plain", []))[0] == 400  # only "*" (subprotocol "fallback") matches now
        router.mount("/plain", NO_PROTOCOL, reporter("plain-again"))
        assert (await report(base + "/plain", []))[1]["route"] == "plain-again"

        # A later mount does not win over an earlier one for the same request...
        router.mount("/echo", ANY, reporter("echo-any"))
        assert (await report(base + "/echo", ["echo-protocol"]))[1]["route"] == "echo"
        # ...until the earlier one is unmounted.
        router.unmount("/echo", "Echo-Protocol")  # case-insensitive too
        assert (await report(base + "/echo", ["echo-protocol"]))[1]["route"] == "echo-any"


@async_test
async def test_detach_restores_the_previous_handler() -> None:
    async def previous(request: wsserver.WebSocketRequest) -> None:
        connection = request.accept()
        await connection.send(json.dumps({"route": "previous"}))
        await connection.close()

    async with serving(previous) as (server, base):
        router = build_router(server)
        assert server.handler is router
        assert (await report(base + "/echo", ["echo-protocol"]))[1]["route"] == "echo"

        router.detach()
        assert server.handler is previous
        async with wsclient.connect(base + "/echo", ["echo-protocol"], proxy=None) as ws:
            assert json.loads(await ws.recv()) == {"route": "previous"}
            assert ws.subprotocol is None  # the previous handler chose none

        router.attach(server)  # and back again
        assert (await report(base + "/echo", ["echo-protocol"]))[1]["route"] == "echo"


@async_test
async def test_a_router_passed_as_the_handler_and_a_handler_that_rejects() -> None:
    router = WebSocketRouter()

    @router.route("/private", "chat")
    async def private(request: RoutedRequest) -> None:
        if request.cookie_dict.get("token") != "secret":
            request.reject(403, "a token is required", headers=[("X-Why", "token")])
            return
        connection = request.accept()
        await connection.send("welcome")

    async with serving(router) as (_, base):
        with pytest.raises(wsclient.HandshakeFailed) as failed:
            await wsclient.connect(base + "/private", ["chat"], proxy=None)
        assert failed.value.status == 403
        assert failed.value.response.headers.get("X-Why") == "token"
        cookie = [("Cookie", "token=secret")]
        async with wsclient.connect(base + "/private", ["chat"], headers=cookie, proxy=None) as ws:
            assert await ws.recv() == "welcome"
