"""Shared helpers of the wsserver tests: real sockets on 127.0.0.1, no mocks.

`async def` tests run under `asyncio.run` with a time limit (this file's
`pytest_pyfunc_call`; no plugin needed). Peers are raw sockets writing hand-built
handshakes and frames (built here independently of wsframe's encoder), or the
`websockets` client for interoperability.

Fixture:
    tools: a [`Tools`][] object: ``tools.serve(handler, **kwargs)`` runs a server on
        127.0.0.1 port 0 (async context manager yielding ``(server, port)``);
        ``tools.open(port)`` opens a raw connection; ``tools.request(...)`` builds an
        upgrade request; ``tools.read_response(reader)`` reads an HTTP response;
        ``tools.upgrade(port, ...)`` opens a raw WebSocket; ``tools.frame(...)`` builds
        a masked client frame; ``tools.read_frame(reader)`` reads a server frame;
        ``tools.wait_until(predicate)`` waits for a condition with a time limit.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import inspect
import os
import struct
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

import wsserver

#: Seconds any single async test may take.
TEST_TIMEOUT = 30.0

KEY = base64.b64encode(b"0123456789abcdef").decode()
MASK = b"\x37\xfa\x21\x3d"


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests with `asyncio.run`, bounded by TEST_TIMEOUT."""
    function = pyfuncitem.obj
    if not inspect.iscoroutinefunction(function):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}

    async def run() -> None:
        await asyncio.wait_for(function(**kwargs), TEST_TIMEOUT)

    asyncio.run(run())
    return True


def _xor(data: bytes, mask: bytes) -> bytes:
    return bytes(b ^ mask[i % 4] for i, b in enumerate(data))


class Response:
    """An HTTP response read from a raw socket."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def get(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def get_all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def __repr__(self) -> str:
        return f"Response({self.status}, {self.headers}, {self.body!r})"


class Tools:
    """Helpers for talking to a server through real sockets."""

    key = KEY

    @contextlib.asynccontextmanager
    async def serve(
        self, handler: Any = None, *, shutdown_timeout: float = 2.0, **kwargs: Any
    ) -> AsyncIterator[tuple[wsserver.WebSocketServer, int]]:
        server = wsserver.WebSocketServer(handler, **kwargs)
        try:
            addresses = await server.listen("127.0.0.1", 0)
            yield server, addresses[0][1]
        finally:
            await server.shutdown(timeout=shutdown_timeout)

    async def open(self, port: int, host: str = "127.0.0.1") -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(host, port)

    def request(
        self,
        path: str = "/",
        *,
        headers: list[tuple[str, str]] | None = None,
        version: str = "13",
        key: str = KEY,
        method: str = "GET",
        host: str = "localhost",
        omit: tuple[str, ...] = (),
    ) -> bytes:
        lines = [f"{method} {path} HTTP/1.1"]
        base = [
            ("Host", host),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key),
            ("Sec-WebSocket-Version", version),
        ]
        for name, value in base + list(headers or []):
            if name not in omit:
                lines.append(f"{name}: {value}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def read_response(self, reader: asyncio.StreamReader, *, timeout: float = 10.0) -> Response:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = []
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers.append((name, value.strip()))
        body = b""
        for name, value in headers:
            if name.lower() == "content-length":
                body = await asyncio.wait_for(reader.readexactly(int(value)), timeout)
        return Response(status, headers, body)

    async def exchange(self, port: int, data: bytes) -> Response:
        """Send `data` on a new connection and read the response."""
        reader, writer = await self.open(port)
        try:
            writer.write(data)
            return await self.read_response(reader)
        finally:
            writer.close()

    async def upgrade(
        self, port: int, path: str = "/", **kwargs: Any
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, Response]:
        reader, writer = await self.open(port)
        writer.write(self.request(path, **kwargs))
        response = await self.read_response(reader)
        assert response.status == 101, response
        return reader, writer, response

    def frame(self, opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0, mask: bytes = MASK) -> bytes:
        """A client frame, masked (built by hand, independently of wsframe)."""
        first = (0x80 if fin else 0) | rsv | opcode
        length = len(payload)
        if length < 126:
            head = bytes((first, 0x80 | length))
        elif length < 65536:
            head = bytes((first, 0x80 | 126)) + struct.pack("!H", length)
        else:
            head = bytes((first, 0x80 | 127)) + struct.pack("!Q", length)
        return head + mask + _xor(payload, mask)

    def close_frame(self, code: int | None = 1000, reason: bytes = b"") -> bytes:
        payload = b"" if code is None else struct.pack("!H", code) + reason
        return self.frame(0x8, payload)

    async def read_frame(self, reader: asyncio.StreamReader, *, timeout: float = 10.0) -> tuple[bool, int, bytes]:
        """Read one server frame: (fin, opcode, payload); server frames are unmasked."""

        async def read() -> tuple[bool, int, bytes]:
            first, second = await reader.readexactly(2)
            assert not second & 0x80, "server frames must not be masked"
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await reader.readexactly(8))
            return bool(first & 0x80), first & 0x0F, await reader.readexactly(length)

        return await asyncio.wait_for(read(), timeout)

    async def read_close(self, reader: asyncio.StreamReader) -> tuple[int | None, bytes]:
        """Read frames until a close frame; return its code and reason."""
        while True:
            _, opcode, payload = await self.read_frame(reader)
            if opcode == 0x8:
                if len(payload) >= 2:
                    return struct.unpack("!H", payload[:2])[0], payload[2:]
                return None, b""

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `predicate()` is true, checking every few milliseconds, at most `timeout`."""

        async def poll() -> None:
            while not predicate():  # noqa: ASYNC110 - the conditions are not events
                await asyncio.sleep(0.005)

        await asyncio.wait_for(poll(), timeout)

    async def at_eof(self, reader: asyncio.StreamReader, timeout: float = 10.0) -> bytes:
        """Read until the server closes the connection; return what was read."""
        return await asyncio.wait_for(reader.read(), timeout)

    def has_ipv6(self) -> bool:
        import socket

        try:
            with socket.socket(socket.AF_INET6) as sock:
                sock.bind(("::1", 0))
        except OSError:
            return False
        return True

    def env(self) -> dict[str, str]:
        """The environment for a subprocess that imports wsserver and wsframe from this tree."""
        env = dict(os.environ)
        import wsframe

        paths = [
            os.path.dirname(os.path.dirname(wsserver.__file__)),
            os.path.dirname(os.path.dirname(wsframe.__file__)),
        ]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        return env


@pytest.fixture
def tools() -> Tools:
    return Tools()
