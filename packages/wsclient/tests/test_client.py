"""The client against the `websockets` server (a peer no one here wrote), and over Unix sockets."""

from __future__ import annotations

import asyncio
import os
import tempfile
import types
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

import wsclient
from wsclient import (
    ClientConnection,
    CloseCode,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    Fragment,
    WebSocketClient,
)
from wsframe import ClientHandshake, ClientPerMessageDeflate, State

Server = Callable[..., AbstractAsyncContextManager[int]]


async def test_echo_text_binary_and_large(ws_server: Server) -> None:
    async with ws_server() as port, wsclient.connect(f"ws://127.0.0.1:{port}/") as ws:
        assert isinstance(ws, ClientConnection)
        assert ws.state is State.OPEN
        assert ws.open
        await ws.send("h\u00e9llo")
        assert await ws.recv() == "h\u00e9llo"
        await ws.send(b"\x00\x01\xff")
        assert await ws.recv() == b"\x00\x01\xff"
        await ws.send("")
        assert await ws.recv() == ""
        big = os.urandom(1024 * 1024)
        await ws.send(big)
        assert await ws.recv() == big
        text = "x" * (1024 * 1024)
        await ws.send(text)
        assert await ws.recv() == text
    assert ws.state is State.CLOSED
    assert ws.close_code == 1000


async def test_await_connect_and_connection_context_manager(ws_server: Server) -> None:
    async with ws_server() as port:
        ws = await wsclient.connect(f"ws://127.0.0.1:{port}/")
        async with ws:
            await ws.send("a")
            assert await ws.recv() == "a"
        assert ws.state is State.CLOSED
        client = WebSocketClient()
        async with await client.connect(f"ws://127.0.0.1:{port}/") as ws2:
            assert ws2.url == f"ws://127.0.0.1:{port}/"
        assert ws2.close_code == 1000


async def test_ping_round_trip(ws_server: Server) -> None:
    async with ws_server() as port, wsclient.connect(f"ws://127.0.0.1:{port}/") as ws:
        pong = await ws.ping(b"abc")
        latency = await pong
        assert latency >= 0
        assert ws.latency == latency


async def test_keepalive_pings_measure_latency(ws_server: Server) -> None:
    ponged = asyncio.Event()

    class Watching(ClientConnection):
        def _on_pong(self, payload: bytes) -> None:
            super()._on_pong(payload)
            ponged.set()

    async with ws_server() as port:
        async with wsclient.connect(
            f"ws://127.0.0.1:{port}/", keepalive_interval=0.05, connection_factory=Watching
        ) as ws:
            await ponged.wait()
            assert ws.latency is not None
        assert ws.close_code == 1000


async def test_client_close_with_code_and_reason(ws_server: Server) -> None:
    seen: list[tuple[int | None, str | None]] = []
    done = asyncio.Event()

    async def handler(server_ws: Any) -> None:
        try:
            await server_ws.recv()
        except Exception:
            pass
        seen.append((server_ws.close_code, server_ws.close_reason))
        done.set()

    async with ws_server(handler) as port:
        ws = await wsclient.connect(f"ws://127.0.0.1:{port}/")
        await ws.close(4000, "bye now")
        assert ws.close_code == 4000
        with pytest.raises(ConnectionClosed):
            await ws.send("late")
        await done.wait()
    assert seen == [(4000, "bye now")]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (1000, ConnectionClosedOK),
        (1001, ConnectionClosedOK),
        (1011, ConnectionClosedError),
        (4001, ConnectionClosedError),
    ],
)
async def test_server_close_codes(ws_server: Server, code: int, expected: type[ConnectionClosed]) -> None:
    async def handler(server_ws: Any) -> None:
        await server_ws.send("last words")
        await server_ws.close(code, "reason")

    async with ws_server(handler) as port:
        ws = await wsclient.connect(f"ws://127.0.0.1:{port}/")
        assert await ws.recv() == "last words"
        with pytest.raises(expected) as info:
            await ws.recv()
        assert (info.value.code, info.value.reason) == (code, "reason")
        await ws.wait_closed()
        assert (ws.close_code, ws.close_reason) == (code, "reason")


async def test_iteration_ends_on_normal_closure(ws_server: Server) -> None:
    async def handler(server_ws: Any) -> None:
        for i in range(3):
            await server_ws.send(str(i))
        await server_ws.close()

    async with ws_server(handler) as port, wsclient.connect(f"ws://127.0.0.1:{port}/") as ws:
        assert [message async for message in ws] == ["0", "1", "2"]


async def test_subprotocol_negotiated(ws_server: Server) -> None:
    async with ws_server(subprotocols=["chat.v2", "chat.v1"]) as port:
        async with wsclient.connect(f"ws://127.0.0.1:{port}/", ["chat.v1", "chat.v2"]) as ws:
            assert ws.subprotocol in ("chat.v1", "chat.v2")
        async with wsclient.connect(f"ws://127.0.0.1:{port}/", "chat.v1") as ws:
            assert ws.subprotocol == "chat.v1"


async def test_permessage_deflate_negotiated_and_used(ws_server: Server) -> None:
    async def handler(server_ws: Any) -> None:
        names = [extension.name for extension in server_ws.protocol.extensions]
        await server_ws.send(",".join(names))
        async for message in server_ws:
            await server_ws.send(message)

    async with ws_server(handler) as port:
        async with wsclient.connect(f"ws://127.0.0.1:{port}/") as ws:
            assert ws.extensions == ["permessage-deflate"]
            assert await ws.recv() == "permessage-deflate"
            assert ws.response is not None
            assert "permessage-deflate" in (ws.response.headers.get("Sec-WebSocket-Extensions") or "")
            message = "compressible " * 10_000
            await ws.send(message)
            assert await ws.recv() == message
        async with wsclient.connect(f"ws://127.0.0.1:{port}/", permessage_deflate=False) as ws:
            assert ws.extensions == []
            assert await ws.recv() == ""
        configured = ClientPerMessageDeflate(client_no_context_takeover=True)
        async with wsclient.connect(f"ws://127.0.0.1:{port}/", permessage_deflate=configured) as ws:
            assert ws.extensions == ["permessage-deflate"]
            assert await ws.recv() == "permessage-deflate"
            await ws.send(b"\x00" * 100_000)
            assert await ws.recv() == b"\x00" * 100_000


async def test_compression_shrinks_the_bytes_on_the_wire(ws_server: Server) -> None:
    async def handler(server_ws: Any) -> None:
        await server_ws.send("a" * 100_000)
        await server_ws.wait_closed()

    sizes = {}
    async with ws_server(handler) as port:
        for deflate in (True, False):
            total = 0

            class Counting(ClientConnection):
                def data_received(self, data: bytes) -> None:
                    nonlocal total
                    total += len(data)
                    super().data_received(data)

            async with wsclient.connect(
                f"ws://127.0.0.1:{port}/", permessage_deflate=deflate, connection_factory=Counting
            ) as ws:
                assert await ws.recv() == "a" * 100_000
            sizes[deflate] = total
    assert sizes[True] < 2_000 < 100_000 < sizes[False]


async def test_max_message_size_fails_with_1009(ws_server: Server) -> None:
    async def handler(server_ws: Any) -> None:
        await server_ws.send(b"x" * 2000)
        await server_ws.wait_closed()

    async with ws_server(handler) as port:
        ws = await wsclient.connect(f"ws://127.0.0.1:{port}/", max_message_size=1000, permessage_deflate=False)
        with pytest.raises(ConnectionClosedError) as info:
            await ws.recv()
        await ws.wait_closed()
        assert ws.close_code in (CloseCode.MESSAGE_TOO_BIG, CloseCode.ABNORMAL_CLOSURE)
        assert info.value.code in (CloseCode.MESSAGE_TOO_BIG, CloseCode.ABNORMAL_CLOSURE)


async def test_default_message_limit_is_8_mib(ws_server: Server) -> None:
    assert WebSocketClient().options.max_message_size == 8 * 1024 * 1024 == wsclient.DEFAULT_MAX_MESSAGE_SIZE

    async def handler(server_ws: Any) -> None:
        await server_ws.send(b"x" * (8 * 1024 * 1024))
        await server_ws.send(b"x" * (8 * 1024 * 1024 + 1))
        await server_ws.wait_closed()

    async with ws_server(handler) as port:
        ws = await wsclient.connect(f"ws://127.0.0.1:{port}/", permessage_deflate=False)
        assert len(await ws.recv()) == 8 * 1024 * 1024
        with pytest.raises(ConnectionClosedError):
            await ws.recv()
        await ws.wait_closed()


async def test_streaming_fragments(ws_server: Server) -> None:
    async def handler(server_ws: Any) -> None:
        await server_ws.send(["ab", "cd", "ef"])  # one message in three frames
        await server_ws.close()

    async with (
        ws_server(handler) as port,
        wsclient.connect(f"ws://127.0.0.1:{port}/", assemble_fragments=False, permessage_deflate=False) as ws,
    ):
        fragments = [fragment async for fragment in ws.fragments()]
    assert all(isinstance(f, Fragment) for f in fragments)
    assert "".join(f.data for f in fragments) == "abcdef"
    # websockets ends a message sent from an iterable with an empty final frame.
    assert [f.fin for f in fragments] == [False, False, False, True]
    assert [f.data for f in fragments] == ["ab", "cd", "ef", ""]


async def test_outgoing_fragmentation_threshold(
    raw_server: Callable[..., AbstractAsyncContextManager[int]], helpers: types.SimpleNamespace
) -> None:
    frames: list[tuple[bool, int, int]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await helpers.read_head(reader)
        writer.write(helpers.switching(head["sec-websocket-key"]))
        while True:
            fin, opcode, payload = await helpers.read_frame(reader)
            frames.append((fin, opcode, len(payload)))
            if fin:
                break
        writer.write(b"\x81\x02ok")
        await helpers.answer_close(reader, writer)

    async with (
        raw_server(handler) as port,
        wsclient.connect(f"ws://127.0.0.1:{port}/", fragmentation_threshold=4000, permessage_deflate=False) as ws,
    ):
        await ws.send(b"y" * 10_500)
        assert await ws.recv() == "ok"
    assert frames == [(False, 2, 4000), (False, 0, 4000), (True, 0, 2500)]


async def test_unix_socket(helpers: types.SimpleNamespace) -> None:
    unix_serve = pytest.importorskip(
        "websockets.asyncio.server", reason="the websockets package is a test dependency (pip install websockets)"
    ).unix_serve

    async def handler(server_ws: Any) -> None:
        await server_ws.send(server_ws.request.headers["Host"] + " " + server_ws.request.path)
        await server_ws.wait_closed()

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ws.sock")
        async with unix_serve(handler, path), wsclient.connect("ws://app.local/feed?x=1", unix_socket=path) as ws:
            assert await ws.recv() == "app.local /feed?x=1"
            assert ws.url == "ws://app.local/feed?x=1"


async def test_connection_lost_without_close_frame(
    raw_server: Callable[..., AbstractAsyncContextManager[int]], helpers: types.SimpleNamespace
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await helpers.read_head(reader)
        writer.write(helpers.switching(head["sec-websocket-key"]) + b"\x81\x02hi")
        await writer.drain()
        writer.transport.abort()

    async with raw_server(handler) as port:
        ws = await wsclient.connect(f"ws://127.0.0.1:{port}/")
        assert await ws.recv() == "hi"
        with pytest.raises(ConnectionClosedError) as info:
            await ws.recv()
        assert info.value.code == CloseCode.ABNORMAL_CLOSURE
        assert not info.value.was_clean


async def test_keepalive_drops_a_silent_server(
    raw_server: Callable[..., AbstractAsyncContextManager[int]], helpers: types.SimpleNamespace
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await helpers.read_head(reader)
        writer.write(helpers.switching(head["sec-websocket-key"]))
        await reader.read()  # never answers pings

    async with raw_server(handler) as port:
        ws = await wsclient.connect(f"ws://127.0.0.1:{port}/", keepalive_interval=0.05, keepalive_grace=0.05)
        with pytest.raises(ConnectionClosedError) as info:
            await ws.recv()
        assert info.value.code == CloseCode.ABNORMAL_CLOSURE
        assert ws.close_reason == "keepalive timeout"


async def test_keepalive_is_on_by_default() -> None:
    client = WebSocketClient()
    assert (client.keepalive_interval, client.keepalive_grace) == (20.0, 10.0)
    assert client.open_timeout == 10.0
    assert client.close_timeout == 5.0
    assert client.max_redirects == 5


async def test_connect_accepts_a_parsed_url(ws_server: Server) -> None:
    async with ws_server() as port:
        url = wsclient.parse_url(f"ws://127.0.0.1:{port}/parsed")
        async with await WebSocketClient().connect(url) as ws:
            assert ws.url == f"ws://127.0.0.1:{port}/parsed"


async def test_async_with_closes_on_error(ws_server: Server) -> None:
    async with ws_server() as port:
        opened: list[ClientConnection] = []

        async def fail_inside() -> None:
            async with wsclient.connect(f"ws://127.0.0.1:{port}/") as ws:
                opened.append(ws)
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            await fail_inside()
        assert opened[0].state is State.CLOSED
        assert opened[0].close_code == 1000


async def test_default_tls_context_is_shared() -> None:
    assert WebSocketClient().default_ssl_context() is WebSocketClient().default_ssl_context()


async def test_connection_factory_given_request_bytes(ws_server: Server) -> None:
    # A factory written before ClientHandshake may hand over the request as bytes.
    made: list[bytes] = []

    class Legacy(ClientConnection):
        def __init__(self, *, request: Any, **kwargs: Any) -> None:
            assert isinstance(request, ClientHandshake)
            made.append(request.request)
            super().__init__(request=request.request, **kwargs)

    async with (
        ws_server() as port,
        wsclient.connect(f"ws://127.0.0.1:{port}/", ["chat"], connection_factory=Legacy) as ws,
    ):
        assert ws.request == made[0]
        assert ws.response is not None
        assert ws.response.status == 101
        await ws.send("hello")
        assert await ws.recv() == "hello"
