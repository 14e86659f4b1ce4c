"""The opening handshake against scripted servers: what is sent, every way it can fail."""

from __future__ import annotations

import asyncio
import base64
import socket
import types
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

import wsclient
from wsclient import (
    HandshakeError,
    HandshakeFailed,
    HandshakeInterrupted,
    NegotiationError,
    OpenTimeout,
    WebSocketClient,
    WebSocketError,
)

RawServer = Callable[..., AbstractAsyncContextManager[int]]


async def test_request_headers(raw_server: RawServer, helpers: types.SimpleNamespace) -> None:
    seen: dict[str, str] = {}

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.update(await helpers.read_head(reader))
        writer.write(helpers.switching(seen["sec-websocket-key"]))
        await helpers.answer_close(reader, writer)

    async with raw_server(handler) as port:
        client = WebSocketClient(user_agent="test-agent/1")
        ws = await client.connect(
            f"ws://user:pa%20ss@127.0.0.1:{port}/path?q=1",
            ["chat.v2", "chat.v1"],
            "https://origin.example",
            {"Cookie": "a=1", "X-Custom": "yes"},
        )
        await ws.close()
    assert seen[":line"] == "GET /path?q=1 HTTP/1.1"
    assert seen["host"] == f"127.0.0.1:{port}"
    assert seen["upgrade"] == "websocket"
    assert seen["connection"] == "Upgrade"
    assert seen["sec-websocket-version"] == "13"
    assert len(base64.b64decode(seen["sec-websocket-key"])) == 16
    assert seen["sec-websocket-protocol"] == "chat.v2, chat.v1"
    assert seen["sec-websocket-extensions"].startswith("permessage-deflate")
    assert seen["origin"] == "https://origin.example"
    assert seen["cookie"] == "a=1"
    assert seen["x-custom"] == "yes"
    assert seen["user-agent"] == "test-agent/1"
    assert seen["authorization"] == "Basic " + base64.b64encode(b"user:pa ss").decode()


async def test_keys_differ_between_connections(raw_server: RawServer, helpers: types.SimpleNamespace) -> None:
    keys: list[str] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await helpers.read_head(reader)
        keys.append(head["sec-websocket-key"])
        writer.write(helpers.switching(head["sec-websocket-key"]))
        await helpers.answer_close(reader, writer)

    async with raw_server(handler) as port:
        for _ in range(3):
            ws = await wsclient.connect(f"ws://127.0.0.1:{port}/")
            await ws.close()
    assert len(set(keys)) == 3


async def test_version_8_and_options(raw_server: RawServer, helpers: types.SimpleNamespace) -> None:
    seen: dict[str, str] = {}

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.update(await helpers.read_head(reader))
        writer.write(helpers.switching(seen["sec-websocket-key"]))
        await helpers.answer_close(reader, writer)

    async with raw_server(handler) as port:
        client = WebSocketClient(version=8, permessage_deflate=False, user_agent=None)
        ws = await client.connect(f"ws://127.0.0.1:{port}/", origin="http://o.example")
        assert ws.extensions == []
        await ws.close()
    assert seen["sec-websocket-version"] == "8"
    assert seen["sec-websocket-origin"] == "http://o.example"
    assert "origin" not in seen
    assert "sec-websocket-extensions" not in seen
    assert "user-agent" not in seen


async def test_user_host_header_wins(raw_server: RawServer, helpers: types.SimpleNamespace) -> None:
    seen: dict[str, str] = {}

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.update(await helpers.read_head(reader))
        writer.write(helpers.switching(seen["sec-websocket-key"]))
        await helpers.answer_close(reader, writer)

    async with raw_server(handler) as port:
        ws = await wsclient.connect(f"ws://127.0.0.1:{port}/", headers=[("Host", "virtual.example")])
        await ws.close()
    assert seen["host"] == "virtual.example"


async def test_frames_sent_with_the_101_are_delivered(raw_server: RawServer, helpers: types.SimpleNamespace) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await helpers.read_head(reader)
        # The 101 and two unmasked text frames in one write.
        writer.write(helpers.switching(head["sec-websocket-key"]) + b"\x81\x05hello\x81\x00")
        await helpers.answer_close(reader, writer)

    async with raw_server(handler) as port, wsclient.connect(f"ws://127.0.0.1:{port}/") as ws:
        assert await ws.recv() == "hello"
        assert await ws.recv() == ""  # empty text messages are delivered


async def test_non_101_carries_status_headers_and_body(raw_server: RawServer, helpers: types.SimpleNamespace) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await helpers.read_head(reader)
        writer.write(
            b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nX-Reason: nope\r\n"
            b"Content-Length: 14\r\n\r\norigin refused"
        )
        await reader.read()

    async with raw_server(handler) as port:
        with pytest.raises(HandshakeFailed) as info:
            await wsclient.connect(f"ws://127.0.0.1:{port}/chat")
    exc = info.value
    assert exc.status == 403
    assert exc.reason == "Forbidden"
    assert exc.body == b"origin refused"
    assert ("X-Reason", "nope") in exc.headers
    assert exc.response.headers["x-reason"] == "nope"
    assert exc.url == f"ws://127.0.0.1:{port}/chat"
    assert str(exc) == "server rejected the connection with status 403 Forbidden"
    assert isinstance(exc, HandshakeError)
    assert isinstance(exc, WebSocketError)
    assert not isinstance(exc, OSError)


async def test_non_101_with_body_until_close_and_chunked(raw_server: RawServer, helpers: types.SimpleNamespace) -> None:
    answers = [
        b"HTTP/1.1 500 Internal Server Error\r\n\r\nbody until the end",
        b"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbusy\r\n0\r\n\r\n",
    ]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await helpers.read_head(reader)
        writer.write(answers.pop(0))
        await writer.drain()

    async with raw_server(handler) as port:
        with pytest.raises(HandshakeFailed) as info:
            await wsclient.connect(f"ws://127.0.0.1:{port}/")
        assert (info.value.status, info.value.body) == (500, b"body until the end")
        with pytest.raises(HandshakeFailed) as info:
            await wsclient.connect(f"ws://127.0.0.1:{port}/")
        assert (info.value.status, info.value.body) == (503, b"busy")


def _answers(key: str, helpers: types.SimpleNamespace) -> dict[str, bytes]:
    return {
        "bad accept key": helpers.switching(key, accept="dGhlIHNhbXBsZSBub25jZQ=="),
        "missing accept key": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        "missing upgrade": (
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
            + helpers.switching(key).split(b"Accept: ")[1]
        ),
        "wrong connection": helpers.switching(key).replace(b"Connection: Upgrade", b"Connection: keep-alive"),
        "garbage": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
        "unoffered subprotocol": helpers.switching(key, "Sec-WebSocket-Protocol: other"),
        "two subprotocols": helpers.switching(key, "Sec-WebSocket-Protocol: chat, other"),
        "unoffered extension": helpers.switching(key, "Sec-WebSocket-Extensions: x-unknown"),
        "bad deflate parameters": helpers.switching(
            key, "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99"
        ),
        "extension twice": helpers.switching(key, "Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate"),
    }


@pytest.mark.parametrize(
    ("case", "error", "message"),
    [
        ("bad accept key", HandshakeError, "Sec-WebSocket-Accept does not match the key"),
        ("missing accept key", HandshakeError, "missing Sec-WebSocket-Accept"),
        ("missing upgrade", HandshakeError, "Upgrade header"),
        ("wrong connection", HandshakeError, "Connection header"),
        ("garbage", HandshakeError, "status line|HTTP"),
        ("unoffered subprotocol", NegotiationError, "subprotocol 'other', which was not offered"),
        ("two subprotocols", NegotiationError, "more than one subprotocol"),
        ("unoffered extension", NegotiationError, "'x-unknown', which was not offered"),
        ("bad deflate parameters", NegotiationError, "server_max_window_bits"),
        ("extension twice", NegotiationError, "twice|more than once"),
    ],
)
async def test_invalid_101_answers(
    raw_server: RawServer, helpers: types.SimpleNamespace, case: str, error: type[Exception], message: str
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await helpers.read_head(reader)
        writer.write(_answers(head["sec-websocket-key"], helpers)[case])
        await reader.read()

    async with raw_server(handler) as port:
        with pytest.raises(error, match=message) as info:
            await wsclient.connect(f"ws://127.0.0.1:{port}/", ["chat"])
    assert not isinstance(info.value, HandshakeFailed)
    assert not isinstance(info.value, OSError)


async def test_server_may_choose_no_subprotocol(raw_server: RawServer, helpers: types.SimpleNamespace) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await helpers.read_head(reader)
        writer.write(helpers.switching(head["sec-websocket-key"]))
        await helpers.answer_close(reader, writer)

    async with raw_server(handler) as port, wsclient.connect(f"ws://127.0.0.1:{port}/", ["chat"]) as ws:
        assert ws.subprotocol is None


@pytest.mark.parametrize("partial", [b"", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"])
async def test_server_closing_mid_handshake(
    raw_server: RawServer, helpers: types.SimpleNamespace, partial: bytes
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await helpers.read_head(reader)
        writer.write(partial)
        await writer.drain()

    async with raw_server(handler) as port:
        with pytest.raises(HandshakeInterrupted, match="connection closed during the opening handshake") as info:
            await wsclient.connect(f"ws://127.0.0.1:{port}/")
    assert isinstance(info.value, ConnectionError)
    assert isinstance(info.value, WebSocketError)


async def test_server_resetting_mid_handshake(raw_server: RawServer, helpers: types.SimpleNamespace) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await helpers.read_head(reader)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.transport.abort()

    async with raw_server(handler) as port:
        with pytest.raises(HandshakeInterrupted):
            await wsclient.connect(f"ws://127.0.0.1:{port}/")


async def test_open_timeout_when_the_server_never_answers(
    raw_server: RawServer, helpers: types.SimpleNamespace
) -> None:
    release = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await helpers.read_head(reader)
        await release.wait()

    async with raw_server(handler) as port:
        with pytest.raises(OpenTimeout, match=r"timed out after 0\.2 s during opening handshake") as info:
            await wsclient.connect(f"ws://127.0.0.1:{port}/", open_timeout=0.2)
        assert isinstance(info.value, TimeoutError)
        # The client's own setting applies when connect() does not override it.
        with pytest.raises(OpenTimeout):
            await WebSocketClient(open_timeout=0.1).connect(f"ws://127.0.0.1:{port}/")
        release.set()


async def test_open_timeout_covers_the_tcp_connection() -> None:
    # A listening socket whose accept queue is full: the kernel drops further SYNs, so
    # the TCP connection is never established.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        # Fill the accept queue so that further SYNs go unanswered.
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            fillers.append(s)
        with pytest.raises(OpenTimeout, match=r"during connecting to 127\.0\.0\.1"):
            await wsclient.connect(f"ws://127.0.0.1:{port}/", open_timeout=0.3)
    finally:
        for s in fillers:
            s.close()
        listener.close()


async def test_connection_refused(free_port: int) -> None:
    with pytest.raises(ConnectionRefusedError):
        await wsclient.connect(f"ws://127.0.0.1:{free_port}/")


async def test_unresolvable_host() -> None:
    with pytest.raises(socket.gaierror):
        await wsclient.connect("ws://does-not-exist.invalid/", open_timeout=5)


async def test_cancelling_connect_closes_the_socket(raw_server: RawServer, helpers: types.SimpleNamespace) -> None:
    requested = asyncio.Event()
    closed = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await helpers.read_head(reader)
        requested.set()
        await reader.read()  # returns at EOF: the client went away
        closed.set()

    async with raw_server(handler) as port:
        task = asyncio.ensure_future(wsclient.connect(f"ws://127.0.0.1:{port}/"))
        await requested.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await closed.wait()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"protocols": ["bad protocol"]}, ValueError, "not a token"),
        ({"protocols": ["a", "a"]}, ValueError, "distinct"),
        ({"headers": {"X-Bad": "a\r\nb"}}, ValueError, "X-Bad"),
        ({"headers": {"Sec-WebSocket-Key": "x"}}, ValueError, "Sec-WebSocket-Key"),
        ({"origin": "a\nb"}, ValueError, "Origin"),
        ({"ssl": True}, TypeError, "ssl must be"),
        ({"proxy": "socks5://p:1"}, ValueError, "proxy scheme"),
        ({"proxy": 3}, TypeError, "proxy must be"),
        ({"open_timeout": -1}, ValueError, "open_timeout"),
        ({"unix_socket": "/tmp/x", "proxy": "http://p:1"}, ValueError, "unix_socket and proxy"),
    ],
)
async def test_invalid_arguments_fail_before_connecting(
    kwargs: dict[str, Any], error: type[Exception], message: str, free_port: int
) -> None:
    with pytest.raises(error, match=message):
        await WebSocketClient().connect(f"ws://127.0.0.1:{free_port}/", **kwargs)


async def test_tls_arguments_refused_for_ws(tls: Any) -> None:
    with pytest.raises(ValueError, match="ssl is given for a ws:// url"):
        await wsclient.connect("ws://127.0.0.1:1/", ssl=tls.client_context())
    with pytest.raises(ValueError, match="server_hostname is given for a ws:// url"):
        await wsclient.connect("ws://127.0.0.1:1/", server_hostname="example.com")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"version": 7}, "version"),
        ({"max_message_size": -1}, "max_message_size"),
        ({"fragmentation_threshold": 0}, "fragmentation_threshold"),
        ({"max_queue": 0}, "max_queue"),
        ({"close_timeout": 0}, "close_timeout"),
        ({"keepalive_interval": -5}, "keepalive_interval"),
        ({"max_redirects": -1}, "max_redirects"),
        ({"user_agent": "x\r\ny"}, "User-Agent"),
    ],
)
def test_invalid_client_settings(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WebSocketClient(**kwargs)


def test_invalid_client_setting_types() -> None:
    with pytest.raises(TypeError, match="permessage_deflate"):
        WebSocketClient(permessage_deflate="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="extensions"):
        WebSocketClient(extensions=["permessage-deflate"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="connection_factory"):
        WebSocketClient(connection_factory=object)  # type: ignore[arg-type]


def test_connect_rejects_unknown_keyword_arguments() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'max_size'"):
        wsclient.connect("ws://127.0.0.1:1/", max_size=10)
    with pytest.raises(ValueError, match="max_queue"):
        wsclient.connect("ws://127.0.0.1:1/", max_queue=0)
