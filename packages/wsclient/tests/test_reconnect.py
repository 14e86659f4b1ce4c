"""The reconnection helper: backoff, the retry policy, and a server that restarts."""

from __future__ import annotations

import asyncio
import ssl
import types
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from wsclient import (
    ConnectionClosed,
    HandshakeError,
    HandshakeFailed,
    HandshakeInterrupted,
    NegotiationError,
    OpenTimeout,
    ProxyError,
    RedirectError,
    backoff_delay,
    is_retryable,
    reconnecting,
)
from wsclient._reconnect import _retry_after
from wsframe import Headers, State
from wsframe.http import HttpResponse

Server = Callable[..., AbstractAsyncContextManager[int]]


def response(status: int, *headers: tuple[str, str]) -> HttpResponse:
    return HttpResponse(status, "", "HTTP/1.1", Headers(list(headers)))


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ConnectionRefusedError(), True),
        (ConnectionResetError(), True),
        (OSError("network unreachable"), True),
        (OpenTimeout("timed out"), True),
        (HandshakeInterrupted("closed"), True),
        (HandshakeFailed(response(500)), True),
        (HandshakeFailed(response(503)), True),
        (HandshakeFailed(response(429)), True),
        (HandshakeFailed(response(408)), True),
        (HandshakeFailed(response(403)), False),
        (HandshakeFailed(response(404)), False),
        (HandshakeFailed(response(401)), False),
        (RedirectError(response(301)), False),
        (ProxyError("bad gateway", status=502), True),
        (ProxyError("auth", status=407), False),
        (ProxyError("garbage"), False),
        (HandshakeError("bad accept key"), False),
        (NegotiationError("unoffered subprotocol"), False),
        (ssl.SSLCertVerificationError("certificate verify failed"), False),
        (ssl.SSLError("tls failure"), True),
        (ValueError("bad argument"), False),
    ],
)
def test_default_retry_policy(exc: BaseException, expected: bool) -> None:
    assert is_retryable(exc) is expected


def test_backoff_bounds() -> None:
    high = lambda low, high: high  # noqa: E731 - the upper end of the jitter range
    assert [backoff_delay(n, rng=high) for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff_delay(3, initial_delay=0.5, factor=3, max_delay=100, rng=high) == 13.5
    assert backoff_delay(10_000, rng=high) == 60  # no overflow
    assert backoff_delay(2, rng=lambda low, high: low) == 0
    for n in range(10):
        assert 0 <= backoff_delay(n) <= min(60, 2**n)


def test_retry_after() -> None:
    assert _retry_after(HandshakeFailed(response(503, ("Retry-After", "7"))), 60) == 7
    assert _retry_after(HandshakeFailed(response(429, ("Retry-After", " 120 "))), 60) == 60
    assert _retry_after(HandshakeFailed(response(503, ("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"))), 60) is None
    assert _retry_after(HandshakeFailed(response(500, ("Retry-After", "7"))), 60) is None
    assert _retry_after(ConnectionRefusedError(), 60) is None


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"initial_delay": -1}, ValueError, "initial_delay"),
        ({"max_delay": "1"}, TypeError, "max_delay"),
        ({"factor": 0.5}, ValueError, "factor"),
        ({"reset_after": -1}, ValueError, "reset_after"),
        ({"max_attempts": 0}, ValueError, "max_attempts"),
        ({"max_queue": 0}, ValueError, "max_queue"),
        ({"bogus": 1}, TypeError, "bogus"),
    ],
)
def test_invalid_settings_fail_at_once(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        reconnecting("ws://127.0.0.1:1/", **kwargs)


async def test_reconnects_after_the_server_restarts(free_port: int) -> None:
    serve = pytest.importorskip(
        "websockets.asyncio.server", reason="the websockets package is a test dependency (pip install websockets)"
    ).serve
    count = 0

    async def handler(server_ws: Any) -> None:
        nonlocal count
        count += 1
        await server_ws.send(f"hello {count}")
        await server_ws.wait_closed()

    failures: list[BaseException] = []
    failed = asyncio.Event()

    def retry(exc: BaseException) -> bool:
        failures.append(exc)
        failed.set()
        return is_retryable(exc)

    connections = reconnecting(
        f"ws://127.0.0.1:{free_port}/", initial_delay=0.01, max_delay=0.05, reset_after=0, retry=retry
    )
    server = await serve(handler, "127.0.0.1", free_port)
    try:
        ws = await connections.__anext__()
        assert await ws.recv() == "hello 1"
        server.close()
        await server.wait_closed()
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        following = asyncio.ensure_future(connections.__anext__())
        await failed.wait()  # the server is down: at least one attempt was refused
        assert not following.done()
        server = await serve(handler, "127.0.0.1", free_port)
        ws2 = await following
        assert await ws2.recv() == "hello 2"
        assert failures
        assert all(isinstance(exc, ConnectionRefusedError) for exc in failures)
        await ws2.close()
    finally:
        server.close()
        await server.wait_closed()
        await connections.aclose()


async def test_next_iteration_closes_the_previous_connection(ws_server: Server) -> None:
    async with ws_server() as port:
        connections = reconnecting(f"ws://127.0.0.1:{port}/", initial_delay=0, reset_after=0)
        first = await connections.__anext__()
        second = await connections.__anext__()
        assert first.state is State.CLOSED
        assert first.close_code == 1000
        assert second.open
        await connections.aclose()
        assert second.open  # the last connection belongs to the caller
        await second.close()


async def test_client_errors_are_not_retried(raw_server: Server, helpers: types.SimpleNamespace) -> None:
    attempts = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal attempts
        attempts += 1
        await helpers.read_head(reader)
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    async with raw_server(handler) as port:
        connections = reconnecting(f"ws://127.0.0.1:{port}/", initial_delay=0)
        with pytest.raises(HandshakeFailed) as info:
            await connections.__anext__()
    assert info.value.status == 403
    assert attempts == 1


async def test_server_errors_are_retried_up_to_max_attempts(raw_server: Server, helpers: types.SimpleNamespace) -> None:
    attempts = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal attempts
        attempts += 1
        await helpers.read_head(reader)
        writer.write(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 4\r\n\r\nbusy")
        await writer.drain()

    async with raw_server(handler) as port:
        connections = reconnecting(f"ws://127.0.0.1:{port}/", initial_delay=0.001, max_attempts=3)
        with pytest.raises(HandshakeFailed) as info:
            await connections.__anext__()
    assert (info.value.status, info.value.body) == (503, b"busy")
    assert attempts == 3


async def test_custom_retry_policy(raw_server: Server, helpers: types.SimpleNamespace) -> None:
    attempts = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal attempts
        attempts += 1
        head = await helpers.read_head(reader)
        if attempts < 3:
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        writer.write(helpers.switching(head["sec-websocket-key"]))
        await helpers.answer_close(reader, writer)

    async with raw_server(handler) as port:
        connections = reconnecting(f"ws://127.0.0.1:{port}/", initial_delay=0.001, retry=lambda exc: True)
        ws = await connections.__anext__()
        assert attempts == 3
        await ws.close()
        await connections.aclose()
