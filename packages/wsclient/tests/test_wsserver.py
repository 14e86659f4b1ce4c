"""The client against wskit's own server (the test environment installs every package)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import wsclient
from wsclient import ConnectionClosedOK, HandshakeFailed, WebSocketClient

wsserver = pytest.importorskip("wsserver", reason="wsserver is not importable")
if not hasattr(wsserver, "WebSocketServer"):  # pragma: no cover - before wsserver is written
    pytest.skip("wsserver has no WebSocketServer yet", allow_module_level=True)


async def echo(request: Any) -> None:
    connection = request.accept(request.requested_protocols[0] if request.requested_protocols else None)
    async for message in connection:
        await connection.send(message)


@contextlib.asynccontextmanager
async def serving(
    handler: Callable[[Any], Awaitable[None]] = echo, *, ssl: Any = None, unix: str | None = None, **kwargs: Any
) -> AsyncIterator[int]:
    async with wsserver.WebSocketServer(handler, **kwargs) as server:
        if unix is not None:
            await server.listen_unix(unix, ssl=ssl)
            yield 0
        else:
            addresses = await server.listen("127.0.0.1", 0, ssl=ssl)
            yield addresses[0][1]


async def test_echo_with_compression_and_subprotocol() -> None:
    async with serving() as port, wsclient.connect(f"ws://127.0.0.1:{port}/", ["chat"]) as ws:
        assert ws.subprotocol == "chat"
        assert ws.extensions == ["permessage-deflate"]
        for message in ("text", "", b"\x00binary", "\u00e9" * 100_000, os.urandom(1024 * 1024)):
            await ws.send(message)
            assert await ws.recv() == message


async def test_version_8() -> None:
    client = WebSocketClient(version=8)
    async with serving() as port, await client.connect(f"ws://127.0.0.1:{port}/") as ws:
        await ws.send("draft")
        assert await ws.recv() == "draft"


async def test_rejection_carries_status_headers_and_body() -> None:
    async def handler(request: Any) -> None:
        request.reject(403, "origin not allowed", headers=[("X-Extra", "1")])

    async with serving(handler) as port:
        with pytest.raises(HandshakeFailed) as info:
            await wsclient.connect(f"ws://127.0.0.1:{port}/", origin="https://evil.example")
    exc = info.value
    assert exc.status == 403
    assert exc.response.headers["X-WebSocket-Reject-Reason"] == "origin not allowed"
    assert exc.response.headers["X-Extra"] == "1"
    assert b"origin not allowed" in exc.body


async def test_redirect_through_reject() -> None:
    async def handler(request: Any) -> None:
        if request.resource == "/old":
            request.reject(301, headers=[("Location", "/new")])
        else:
            connection = request.accept()
            await connection.send(request.resource)
            await connection.wait_closed()

    async with serving(handler) as port, wsclient.connect(f"ws://127.0.0.1:{port}/old") as ws:
        assert await ws.recv() == "/new"


async def test_server_shutdown_closes_with_1001() -> None:
    async def handler(request: Any) -> None:
        connection = request.accept()
        await connection.wait_closed()

    async with wsserver.WebSocketServer(handler) as server:
        addresses = await server.listen("127.0.0.1", 0)
        ws = await wsclient.connect(f"ws://127.0.0.1:{addresses[0][1]}/")
        await server.shutdown()
        with pytest.raises(ConnectionClosedOK) as info:
            await ws.recv()
        assert info.value.code == 1001


async def test_tls_and_unix_socket(tls: Any) -> None:
    async with (
        serving(ssl=tls.server_context()) as port,
        wsclient.connect(f"wss://localhost:{port}/", ssl=tls.client_context()) as ws,
    ):
        await ws.send("secure")
        assert await ws.recv() == "secure"
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "s.sock")
        async with serving(unix=path), wsclient.connect("ws://localhost/", unix_socket=path) as ws:
            await ws.send("unix")
            assert await ws.recv() == "unix"


async def test_fragments_both_ways() -> None:
    async with (
        serving(fragmentation_threshold=1000) as port,
        wsclient.connect(f"ws://127.0.0.1:{port}/", fragmentation_threshold=777, permessage_deflate=False) as ws,
    ):
        await ws.send(b"z" * 10_000)
        assert await ws.recv() == b"z" * 10_000
