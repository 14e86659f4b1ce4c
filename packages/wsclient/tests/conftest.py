"""Shared fixtures of the wsclient tests.

`async def` tests run in a fresh event loop each (``asyncio.run``), bounded by
`TEST_TIMEOUT` so that a hang fails instead of blocking the run; no plugin is needed.

Fixtures:
    raw_server: ``async with raw_server(handler) as port``: a TCP server on 127.0.0.1
        whose connections are handed to ``await handler(reader, writer)``; for scripting
        exact (and wrong) handshake answers.
    ws_server: ``async with ws_server(handler=echo, **kwargs) as port``: a server of
        the `websockets` library (a peer no one here wrote).
    helpers: `read_head`, `switching` (a 101 for a key), `read_frame`, `answer_close`
        (wait for the client's close frame and answer it) for scripted servers.
    tls: certificates made by `trustme` for ``localhost`` and ``127.0.0.1``:
        ``tls.server_context()``, ``tls.client_context()`` (trusting the test CA).
    free_port: a TCP port that was free a moment ago, for servers that must restart
        on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import socket
import ssl
import types
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from wsframe.handshake import accept_key

TEST_TIMEOUT = 30.0

RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run coroutine test functions in their own event loop."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}

    async def run() -> None:
        await asyncio.wait_for(pyfuncitem.obj(**kwargs), TEST_TIMEOUT)

    asyncio.run(run())
    return True


async def read_head(reader: asyncio.StreamReader) -> dict[str, str]:
    """Read a request head; return its headers (lower-case names) and ``:line``."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {":line": lines[0]}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return headers


def switching(key: str, *extra: str, accept: str | None = None) -> bytes:
    """A 101 answer for `key` with extra header lines."""
    lines = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {accept if accept is not None else accept_key(key)}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def read_frame(reader: asyncio.StreamReader) -> tuple[bool, int, bytes]:
    """Read one frame from a client; return its FIN bit, opcode and unmasked payload."""
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    mask = await reader.readexactly(4) if second & 0x80 else b"\0\0\0\0"
    data = await reader.readexactly(length)
    payload = (int.from_bytes(data, "big") ^ int.from_bytes((mask * (length // 4 + 1))[:length], "big")).to_bytes(
        length, "big"
    )
    return bool(first & 0x80), first & 0x0F, payload


async def answer_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Skip the client's frames until its close frame; answer it and close the connection."""
    while True:
        _, opcode, payload = await read_frame(reader)
        if opcode == 8:
            writer.write(bytes([0x88, len(payload[:2])]) + payload[:2])
            await writer.drain()
            writer.close()
            return


@pytest.fixture
def helpers() -> types.SimpleNamespace:
    """`read_head`, `switching`, `read_frame` and `answer_close` for scripted servers."""
    return types.SimpleNamespace(
        read_head=read_head, switching=switching, read_frame=read_frame, answer_close=answer_close
    )


@pytest.fixture
def raw_server() -> Callable[..., contextlib.AbstractAsyncContextManager[int]]:
    @contextlib.asynccontextmanager
    async def start(handler: RawHandler, *, ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[int]:
        tasks: set[asyncio.Task[None]] = set()

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            try:
                await handler(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
                pass
            finally:
                writer.close()
                tasks.discard(task)

        server = await asyncio.start_server(on_connect, "127.0.0.1", 0, ssl=ssl_context)
        try:
            yield server.sockets[0].getsockname()[1]
        finally:
            server.close()
            for task in list(tasks):
                task.cancel()
            await server.wait_closed()

    return start


async def echo(ws: Any) -> None:
    async for message in ws:
        await ws.send(message)


@pytest.fixture
def ws_server() -> Callable[..., contextlib.AbstractAsyncContextManager[int]]:
    serve = pytest.importorskip(
        "websockets.asyncio.server", reason="the websockets package is a test dependency (pip install websockets)"
    ).serve

    @contextlib.asynccontextmanager
    async def start(handler: Callable[[Any], Awaitable[None]] = echo, **kwargs: Any) -> AsyncIterator[int]:
        kwargs.setdefault("max_size", None)
        async with serve(handler, kwargs.pop("host", "127.0.0.1"), kwargs.pop("port", 0), **kwargs) as server:
            sockets = list(server.sockets)
            yield sockets[0].getsockname()[1] if sockets[0].family != socket.AF_UNIX else 0

    return start


class TLS:
    """A test CA and a certificate for localhost and 127.0.0.1."""

    def __init__(self) -> None:
        import trustme

        self.ca = trustme.CA()
        self.cert = self.ca.issue_cert("localhost", "127.0.0.1")
        self.other_ca = trustme.CA()
        self.wrong_name_cert = self.ca.issue_cert("other.example")

    def server_context(self, *, wrong_name: bool = False) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        (self.wrong_name_cert if wrong_name else self.cert).configure_cert(context)
        return context

    def client_context(self, *, trust: bool = True) -> ssl.SSLContext:
        context = ssl.create_default_context()
        (self.ca if trust else self.other_ca).configure_trust(context)
        return context


@pytest.fixture(scope="session")
def tls() -> TLS:
    return TLS()


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(autouse=True)
def _no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run without the proxies of the environment unless they set their own."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
