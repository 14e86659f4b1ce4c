"""Redirects: followed up to a limit, each on a new connection, never from wss to ws."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

import wsclient
from wsclient import HandshakeFailed, RedirectError, WebSocketClient, is_retryable

Server = Callable[..., AbstractAsyncContextManager[int]]


def redirecting(
    helpers: types.SimpleNamespace, routes: dict[str, str | None], seen: list[dict[str, str]], status: int = 301
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    """A server answering each path of `routes` with a redirect to its value, or 101 for None."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await helpers.read_head(reader)
        seen.append(head)
        path = head[":line"].split(" ")[1]
        location = routes.get(path, "")
        if location is None:
            writer.write(helpers.switching(head["sec-websocket-key"]) + b"\x81\x04" + path[:4].encode().ljust(4))
            await helpers.answer_close(reader, writer)
            return
        header = f"Location: {location}\r\n" if location else ""
        writer.write(f"HTTP/1.1 {status} Moved\r\n{header}Content-Length: 0\r\n\r\n".encode())
        await writer.drain()

    return handler


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirect_to_another_server(
    raw_server: Server, ws_server: Server, helpers: types.SimpleNamespace, status: int
) -> None:
    async with ws_server() as final:
        seen: list[dict[str, str]] = []
        routes: dict[str, str | None] = {"/start": f"ws://127.0.0.1:{final}/final?x=1"}
        async with (
            raw_server(redirecting(helpers, routes, seen, status)) as port,
            wsclient.connect(f"ws://127.0.0.1:{port}/start") as ws,
        ):
            assert ws.url == f"ws://127.0.0.1:{final}/final?x=1"
            await ws.send("arrived")
            assert await ws.recv() == "arrived"
    assert len(seen) == 1


async def test_relative_and_http_locations(raw_server: Server, helpers: types.SimpleNamespace) -> None:
    seen: list[dict[str, str]] = []
    routes: dict[str, str | None] = {"/a/b": "c", "/a/c": "/d", "/d": "", "/e": None}
    async with raw_server(redirecting(helpers, routes, seen)) as port:
        routes["/d"] = f"http://127.0.0.1:{port}/e"  # http:// becomes ws://
        async with wsclient.connect(f"ws://127.0.0.1:{port}/a/b") as ws:
            assert ws.url == f"ws://127.0.0.1:{port}/e"
            assert await ws.recv() == "/e  "
    assert [head[":line"].split(" ")[1] for head in seen] == ["/a/b", "/a/c", "/d", "/e"]


async def test_redirect_limit(raw_server: Server, helpers: types.SimpleNamespace) -> None:
    seen: list[dict[str, str]] = []
    async with raw_server(redirecting(helpers, {"/loop": "/loop"}, seen)) as port:
        with pytest.raises(RedirectError, match=r"too many redirects \(5 allowed\)") as info:
            await wsclient.connect(f"ws://127.0.0.1:{port}/loop")
        assert info.value.status == 301
        assert isinstance(info.value, HandshakeFailed)
        assert not is_retryable(info.value)
        assert len(seen) == 6  # the request and 5 redirects
        seen.clear()
        with pytest.raises(RedirectError, match=r"too many redirects \(0 allowed\)"):
            await WebSocketClient(max_redirects=0).connect(f"ws://127.0.0.1:{port}/loop")
        assert len(seen) == 1
        seen.clear()
        with pytest.raises(RedirectError, match=r"\(2 allowed\)"):
            await wsclient.connect(f"ws://127.0.0.1:{port}/loop", max_redirects=2)
        assert len(seen) == 3


async def test_redirect_without_location(raw_server: Server, helpers: types.SimpleNamespace) -> None:
    async with raw_server(redirecting(helpers, {}, [], 302)) as port:
        with pytest.raises(RedirectError, match="redirect 302 without Location"):
            await wsclient.connect(f"ws://127.0.0.1:{port}/")


async def test_redirect_to_an_unsupported_scheme(raw_server: Server, helpers: types.SimpleNamespace) -> None:
    async with raw_server(redirecting(helpers, {"/": "ftp://example.com/"}, [])) as port:
        with pytest.raises(RedirectError, match=r"invalid Location 'ftp://example\.com/'"):
            await wsclient.connect(f"ws://127.0.0.1:{port}/")


async def test_no_redirect_from_wss_to_ws(raw_server: Server, helpers: types.SimpleNamespace, tls: Any) -> None:
    seen: list[dict[str, str]] = []
    routes: dict[str, str | None] = {"/": "ws://127.0.0.1:1/plain", "/http": "http://localhost/plain"}
    async with raw_server(redirecting(helpers, routes, seen), ssl_context=tls.server_context()) as port:
        for path in ("/", "/http"):
            with pytest.raises(RedirectError, match="refusing redirect from wss to ws://") as info:
                await wsclient.connect(f"wss://localhost:{port}{path}", ssl=tls.client_context())
            assert info.value.url == f"wss://localhost:{port}{path}"


async def test_wss_to_wss_redirect(raw_server: Server, helpers: types.SimpleNamespace, tls: Any) -> None:
    seen: list[dict[str, str]] = []
    routes: dict[str, str | None] = {"/old": "https://localhost/new", "/new": None}
    async with raw_server(redirecting(helpers, routes, seen), ssl_context=tls.server_context()) as port:
        routes["/old"] = f"https://localhost:{port}/new"
        async with wsclient.connect(f"wss://localhost:{port}/old", ssl=tls.client_context()) as ws:
            assert ws.url == f"wss://localhost:{port}/new"
            assert await ws.recv() == "/new"


async def test_credentials_do_not_follow_to_another_origin(raw_server: Server, helpers: types.SimpleNamespace) -> None:
    first: list[dict[str, str]] = []
    second: list[dict[str, str]] = []
    async with raw_server(redirecting(helpers, {"/": None}, second)) as other:
        routes: dict[str, str | None] = {"/same": "/cross", "/cross": f"ws://127.0.0.1:{other}/"}
        async with raw_server(redirecting(helpers, routes, first)) as port:
            ws = await wsclient.connect(
                f"ws://user:pw@127.0.0.1:{port}/same", headers={"Cookie": "session=1", "X-Keep": "yes"}
            )
            await ws.close()
    assert all("authorization" in head and head["cookie"] == "session=1" for head in first)
    assert len(first) == 2
    (head,) = second
    assert "authorization" not in head
    assert "cookie" not in head
    assert head["x-keep"] == "yes"
