"""Tests for `wsframe.asyncio.WebSocketConnection`, the asyncio driver of both roles.

No handshake is involved: `Peer` opens the sans-IO `Connection` as soon as the transport
is made. Connections talk over `socket.socketpair()`: either two `Peer`s (a server and a
client), or one `Peer` and a `RawPeer` that drives the other end of the pair by hand with
frames built here (masked when they play a client), to play a hostile or silent peer.

Every test runs its own event loop with `asyncio.run` under an overall timeout, and every
wait has a timeout: a bug makes a test fail, never hang. Conditions are waited for by
polling with a deadline, never by sleeping a fixed time; the few fixed sleeps measure
that something does NOT happen (a send stays blocked, a connection stays open).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, NamedTuple, TypeVar

import pytest

from wsframe import (
    Connection,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    ConnectionOptions,
    Fragment,
    InvalidState,
    Role,
    State,
)
from wsframe.asyncio import WebSocketConnection

#: Longest wait for any single expected event.
TIMEOUT = 2.0
#: Longest run of one test.
TEST_TIMEOUT = 8.0

TEXT, BINARY, CONT, CLOSE, PING, PONG = 1, 2, 0, 8, 9, 10
RSV1 = 0x40
MASK = b"\x37\xfa\x21\x3d"
MiB = 1024 * 1024

T = TypeVar("T")


# ----------------------------------------------------------------- helpers


def async_test(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an `async def` test in a fresh event loop, failing it after TEST_TIMEOUT."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(asyncio.wait_for(fn(*args, **kwargs), TEST_TIMEOUT))

    return wrapper


def xor(data: bytes, mask: bytes) -> bytes:
    """Mask `data` with `mask` (independent of wsframe's own masking code)."""
    n = len(data)
    if not n:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def build_frame(
    opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0, mask: bytes | None = MASK
) -> bytes:
    """A frame with the minimal length encoding; masked with `mask` unless it is None."""
    first = (0x80 if fin else 0) | rsv | opcode
    mbit = 0x80 if mask is not None else 0
    n = len(payload)
    if n < 126:
        head = bytes((first, mbit | n))
    elif n < 65536:
        head = bytes((first, mbit | 126)) + struct.pack("!H", n)
    else:
        head = bytes((first, mbit | 127)) + struct.pack("!Q", n)
    if mask is None:
        return head + payload
    return head + mask + xor(payload, mask)


def close_payload(code: int, reason: str = "") -> bytes:
    return struct.pack("!H", code) + reason.encode()


class RawFrame(NamedTuple):
    opcode: int
    payload: bytes
    fin: bool
    rsv: int
    masked: bool

    @property
    def close_code(self) -> int:
        assert self.opcode == CLOSE, self
        return int(struct.unpack("!H", self.payload[:2])[0]) if self.payload else 1005

    @property
    def close_reason(self) -> str:
        assert self.opcode == CLOSE, self
        return self.payload[2:].decode()


class Peer(WebSocketConnection):
    """A WebSocketConnection opened as soon as its transport is made (no handshake)."""

    def __init__(self, role: Role, options: ConnectionOptions | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("keepalive_interval", None)
        kwargs.setdefault("close_timeout", 1.0)
        super().__init__(**kwargs)
        self.role = role
        self.options = options
        self.closed_hook_calls = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.handshake_complete(Connection(self.role, self.options))

    def connection_closed(self) -> None:
        self.closed_hook_calls += 1


class RawPeer:
    """The far end of a socketpair, driven by hand with raw frames."""

    def __init__(self, sock: socket.socket, *, masked: bool) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.masked = masked  # whether the frames it sends are masked (it plays a client)
        self.loop = asyncio.get_running_loop()
        self.buf = bytearray()

    async def send(self, data: bytes) -> None:
        await asyncio.wait_for(self.loop.sock_sendall(self.sock, data), TIMEOUT)

    def frame(self, opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0) -> bytes:
        return build_frame(opcode, payload, fin=fin, rsv=rsv, mask=MASK if self.masked else None)

    async def send_frame(self, opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0) -> None:
        await self.send(self.frame(opcode, payload, fin=fin, rsv=rsv))

    def _parse(self) -> RawFrame | None:
        buf = self.buf
        if len(buf) < 2:
            return None
        first, second = buf[0], buf[1]
        length = second & 0x7F
        pos = 2
        if length == 126:
            if len(buf) < 4:
                return None
            length = struct.unpack("!H", buf[2:4])[0]
            pos = 4
        elif length == 127:
            if len(buf) < 10:
                return None
            length = struct.unpack("!Q", buf[2:10])[0]
            pos = 10
        masked = bool(second & 0x80)
        mask = b""
        if masked:
            if len(buf) < pos + 4:
                return None
            mask = bytes(buf[pos : pos + 4])
            pos += 4
        if len(buf) < pos + length:
            return None
        payload = bytes(buf[pos : pos + length])
        del buf[: pos + length]
        if masked:
            payload = xor(payload, mask)
        return RawFrame(first & 0x0F, payload, bool(first & 0x80), first & 0x70, masked)

    async def _read_more(self, timeout: float) -> bool:
        chunk = await asyncio.wait_for(self.loop.sock_recv(self.sock, 1 << 18), timeout)
        self.buf += chunk
        return bool(chunk)

    async def recv_frame(self, timeout: float = TIMEOUT) -> RawFrame:
        """The next frame; fails on EOF or after `timeout`."""
        while True:
            frame = self._parse()
            if frame is not None:
                return frame
            if not await self._read_more(timeout):
                raise AssertionError(f"EOF instead of a frame ({len(self.buf)} bytes left)")

    async def recv_frame_skipping(self, *opcodes: int, timeout: float = TIMEOUT) -> RawFrame:
        """The next frame whose opcode is not in `opcodes`."""
        while True:
            frame = await self.recv_frame(timeout)
            if frame.opcode not in opcodes:
                return frame

    async def expect_eof(self, timeout: float = TIMEOUT) -> None:
        """Wait for EOF; fails if a frame or stray bytes arrive first."""
        while True:
            assert self._parse() is None, "a frame arrived instead of EOF"
            if not await self._read_more(timeout):
                assert not self.buf, f"{len(self.buf)} stray bytes before EOF"
                return

    async def read_all(self, size: int, timeout: float = TIMEOUT) -> None:
        """Read until at least `size` bytes are buffered."""
        while len(self.buf) < size:
            if not await self._read_more(timeout):
                raise AssertionError("EOF")

    def close(self) -> None:
        self.sock.close()


def state_of(conn: WebSocketConnection) -> State:
    """`conn.state`, read anew (keeps mypy from narrowing the property across awaits)."""
    return conn.state


def is_reading(conn: Peer) -> bool:
    """Whether the connection's transport reads (False while reading is paused)."""
    assert conn.transport is not None
    return conn.transport.is_reading()


async def wait_until(predicate: Callable[[], bool], timeout: float = TIMEOUT, what: str = "condition") -> None:
    """Poll `predicate` until it holds; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.002)


async def within(aw: Awaitable[T], timeout: float = TIMEOUT) -> T:
    return await asyncio.wait_for(aw, timeout)


async def stays_pending(task: asyncio.Future[Any], duration: float) -> bool:
    """True if `task` is still not done after `duration` seconds."""
    done, _ = await asyncio.wait({task}, timeout=duration)
    return not done


async def open_peer(sock: socket.socket, role: Role, options: ConnectionOptions | None = None, **kwargs: Any) -> Peer:
    loop = asyncio.get_running_loop()
    _, peer = await loop.create_connection(lambda: Peer(role, options, **kwargs), sock=sock)
    return peer


@contextlib.asynccontextmanager
async def ws_pair(
    *,
    server_options: ConnectionOptions | None = None,
    client_options: ConnectionOptions | None = None,
    server_kwargs: dict[str, Any] | None = None,
    client_kwargs: dict[str, Any] | None = None,
) -> AsyncIterator[tuple[Peer, Peer]]:
    """A server-role and a client-role connection talking to each other."""
    a, b = socket.socketpair()
    server = client = None
    try:
        server = await open_peer(a, Role.SERVER, server_options, **(server_kwargs or {}))
        client = await open_peer(b, Role.CLIENT, client_options, **(client_kwargs or {}))
        yield server, client
    finally:
        for conn in (server, client):
            if conn is not None:
                conn.abort()
        if server is None:
            a.close()
        if client is None:
            b.close()
        for conn in (server, client):
            if conn is not None:
                await within(conn.wait_closed())


@contextlib.asynccontextmanager
async def raw_pair(
    role: Role = Role.SERVER, options: ConnectionOptions | None = None, **kwargs: Any
) -> AsyncIterator[tuple[Peer, RawPeer]]:
    """A connection in `role` and a raw peer playing the other role."""
    a, b = socket.socketpair()
    conn = None
    raw = RawPeer(b, masked=role is Role.SERVER)
    try:
        conn = await open_peer(a, role, options, **kwargs)
        yield conn, raw
    finally:
        if conn is not None:
            conn.abort()
            await within(conn.wait_closed())
        else:
            a.close()
        raw.close()


async def _echo(conn: Peer) -> None:
    await conn.send(await conn.recv())


async def _echo_all(conn: Peer) -> None:
    async for message in conn:
        await conn.send(message)


async def _collect(conn: Peer, received: list[str | bytes]) -> None:
    async for message in conn:
        received.append(message)


async def _drain_until_closed(conn: Peer) -> None:
    with contextlib.suppress(ConnectionClosed):
        while True:
            await conn.recv()


async def _safe_iter(conn: Peer) -> AsyncIterator[Any]:
    with contextlib.suppress(ConnectionClosedError):
        async for message in conn:
            yield message


def unlimited() -> ConnectionOptions:
    return ConnectionOptions(max_message_size=None)


# ------------------------------------------------------------- constructor


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_queue": 0},
        {"max_queue": -1},
        {"write_limit": -1},
        {"close_timeout": 0},
        {"close_timeout": -1.0},
        {"keepalive_interval": 0},
        {"keepalive_grace": 0.0},
        {"keepalive_grace": -5},
    ],
)
@async_test
async def test_constructor_rejects_invalid_arguments(kwargs: dict[str, Any]) -> None:
    name = next(iter(kwargs))
    with pytest.raises(ValueError, match=name):
        WebSocketConnection(**kwargs)


@async_test
async def test_constructor_accepts_limits_and_none_timeouts() -> None:
    conn = WebSocketConnection(
        close_timeout=None, keepalive_interval=None, keepalive_grace=None, max_queue=1, write_limit=0
    )
    assert conn.close_timeout is None
    assert conn.keepalive_interval is None
    assert conn.keepalive_grace is None
    assert conn.max_queue == 1
    assert conn.write_limit == 0
    assert conn.state is State.CONNECTING
    assert not conn.open
    assert conn.close_code is None
    assert conn.close_reason is None
    assert conn.buffered_amount == 0
    assert conn.latency is None
    other = WebSocketConnection()
    assert other.id != conn.id


@async_test
async def test_operations_before_open_raise_invalid_state() -> None:
    conn = WebSocketConnection()
    with pytest.raises(InvalidState):
        await conn.send("x")
    with pytest.raises(InvalidState):
        await conn.ping()


class HandshakePeer(WebSocketConnection):
    """Opens only after an (invented) handshake line; frames may follow it in the same read."""

    def __init__(self) -> None:
        super().__init__(keepalive_interval=None, close_timeout=1.0)
        self.handshake = b""

    def handshake_data_received(self, data: bytes) -> None:
        self.handshake += data
        head, sep, rest = self.handshake.partition(b"\r\n\r\n")
        if sep:
            self.handshake = head
            self.handshake_complete(Connection(Role.SERVER), rest)


@async_test
async def test_open_feeds_trailing_data_after_handshake() -> None:
    a, b = socket.socketpair()
    raw = RawPeer(b, masked=True)
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(HandshakePeer, sock=a)
    try:
        assert conn.state is State.CONNECTING
        assert conn.close_code is None
        with pytest.raises(InvalidState):
            await conn.send("early")
        await raw.send(b"HELLO")
        await raw.send(b"\r\n\r\n" + raw.frame(TEXT, b"trailing") + raw.frame(BINARY, b"more", fin=False))
        assert await within(conn.recv()) == "trailing"
        assert conn.handshake == b"HELLO"
        assert state_of(conn) is State.OPEN
        await raw.send_frame(CONT, b"!")
        assert await within(conn.recv()) == b"more!"
    finally:
        conn.abort()
        await within(conn.wait_closed())
        raw.close()


@async_test
async def test_close_during_handshake_aborts() -> None:
    a, b = socket.socketpair()
    raw = RawPeer(b, masked=True)
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(HandshakePeer, sock=a)
    try:
        await raw.send(b"HEL")
        await within(conn.close())
        assert conn.state is State.CLOSED
        assert conn.close_code == 1006
        with pytest.raises(ConnectionClosedError) as info:
            await conn.recv()
        assert info.value.code == 1006
        # An abort ends the stream with a reset or a plain EOF, depending on the kernel
        # and on what was left unread.
        try:
            await raw.expect_eof()
        except ConnectionResetError:
            pass
    finally:
        raw.close()


# --------------------------------------------------------------- messaging


MESSAGES = [
    pytest.param("hello, wörld ☃", id="text"),
    pytest.param(b"\x00\x01\xfe\xff", id="binary"),
    pytest.param("", id="empty-text"),
    pytest.param(b"", id="empty-binary"),
    pytest.param(bytes(range(256)) * (4 * MiB // 256 + 3), id="large-binary"),
    pytest.param("é☃x" * (MiB // 2), id="large-text"),
]


@pytest.mark.parametrize("message", MESSAGES)
@async_test
async def test_echo_both_ways(message: str | bytes) -> None:
    async with ws_pair(server_options=unlimited(), client_options=unlimited()) as (server, client):

        async def echo() -> None:
            await server.send(await server.recv())

        echo_task = asyncio.ensure_future(echo())
        await within(client.send(message))
        received = await within(client.recv(), 5)
        await within(echo_task)
        assert type(received) is type(message)
        assert received == message
        # And the other direction: the server starts, the client echoes.
        echo_task = asyncio.ensure_future(_echo(client))
        await within(server.send(message))
        assert await within(server.recv(), 5) == message
        await within(echo_task)


@async_test
async def test_send_accepts_bytearray_and_memoryview() -> None:
    async with ws_pair() as (server, client):
        data = bytearray(b"abcdef")
        await client.send(data)
        data[0] = ord("X")  # reusing the buffer after send() must not change the message
        await client.send(memoryview(b"0123456789")[2:5])
        await client.send_text("t")
        await client.send_binary(b"b")
        assert await within(server.recv()) == b"abcdef"
        assert await within(server.recv()) == b"234"
        assert await within(server.recv()) == "t"
        assert await within(server.recv()) == b"b"


@async_test
async def test_messages_arrive_in_order() -> None:
    async with ws_pair() as (server, client):
        for i in range(100):
            await client.send(f"m{i}" if i % 2 else str(i).encode())
        for i in range(100):
            assert await within(server.recv()) == (f"m{i}" if i % 2 else str(i).encode())


@async_test
async def test_send_invalid_type_raises_type_error() -> None:
    async with ws_pair() as (server, client):
        for bad in (123, None, ["x"], {"a": 1}):
            with pytest.raises(TypeError):
                await client.send(bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await client.send_text(b"bytes")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await client.send_binary("text")  # type: ignore[arg-type]
        # Nothing was sent, and the connection still works.
        assert client.open
        await client.send("ok")
        assert await within(server.recv()) == "ok"


@async_test
async def test_send_fragment_sequences() -> None:
    async with ws_pair() as (server, client):
        await client.send_fragment("he", fin=False)
        await client.ping(b"between")  # control frames may interleave
        with pytest.raises(TypeError):
            await client.send_fragment(b"bytes", fin=False)  # a text message continues
        with pytest.raises(InvalidState):
            await client.send("another message")  # not while a fragmented one is in progress
        await client.send_fragment("", fin=False)
        await client.send_fragment("llo", fin=True)
        await client.send_fragment(b"\x01", fin=False)
        await client.send_fragment(bytearray(b"\x02"), fin=True)
        await client.send("after")
        assert await within(server.recv()) == "hello"
        assert await within(server.recv()) == b"\x01\x02"
        assert await within(server.recv()) == "after"


@async_test
async def test_two_concurrent_recv_raise_invalid_state() -> None:
    async with ws_pair() as (server, client):
        first = asyncio.ensure_future(server.recv())
        await asyncio.sleep(0)  # let the first recv() start waiting
        assert not first.done()
        with pytest.raises(InvalidState):
            await within(server.recv())
        await client.send("for the first")
        assert await within(first) == "for the first"
        # The first waiter was not disturbed: recv() works normally afterwards.
        await client.send("next")
        assert await within(server.recv()) == "next"


@async_test
async def test_cancelled_recv_loses_nothing() -> None:
    async with ws_pair() as (server, client):
        task = asyncio.ensure_future(server.recv())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await client.send("kept")
        assert await within(server.recv()) == "kept"


# ----------------------------------------------------------- streaming mode


@async_test
async def test_streaming_mode_delivers_fragments_in_order() -> None:
    streaming = ConnectionOptions(assemble_fragments=False)
    async with ws_pair(server_options=streaming) as (server, client):
        await client.send_fragment("ab", fin=False)
        await client.send_fragment("cd", fin=True)
        await client.send(b"xyz")
        await client.send_fragment(b"1", fin=False)
        await client.send_fragment(b"2", fin=False)
        await client.send_fragment(b"3", fin=True)
        assert await within(server.recv_fragment()) == Fragment("ab", True, True, False)
        assert await within(server.recv_fragment()) == Fragment("cd", True, False, True)
        assert await within(server.recv_fragment()) == Fragment(b"xyz", False, True, True)
        received = []

        async def collect() -> None:
            async for fragment in server.fragments():
                received.append(fragment)

        task = asyncio.ensure_future(collect())
        await within(wait_until(lambda: len(received) == 3, what="three fragments"))
        await within(client.close())
        await within(task)  # fragments() ends on a normal closure
        assert received == [
            Fragment(b"1", False, True, False),
            Fragment(b"2", False, False, False),
            Fragment(b"3", False, False, True),
        ]


@async_test
async def test_recv_in_streaming_mode_raises_and_keeps_fragment() -> None:
    async with ws_pair(server_options=ConnectionOptions(assemble_fragments=False)) as (server, client):
        await client.send("whole")
        with pytest.raises(InvalidState):
            await within(server.recv())
        assert await within(server.recv_fragment()) == Fragment("whole", True, True, True)


@async_test
async def test_recv_fragment_in_assembled_mode_raises_and_keeps_message() -> None:
    async with ws_pair() as (server, client):
        await client.send(b"whole")
        with pytest.raises(InvalidState):
            await within(server.recv_fragment())
        assert await within(server.recv()) == b"whole"


# ------------------------------------------------------------------ closing


@async_test
async def test_close_from_client_state_transitions_and_codes() -> None:
    conn = Peer(Role.CLIENT)
    assert conn.state is State.CONNECTING
    async with ws_pair() as (server, client):
        assert server.state is State.OPEN
        assert client.state is State.OPEN
        assert server.open
        assert client.open
        assert server.close_code is None
        assert server.close_reason is None
        recv_task = asyncio.ensure_future(server.recv())
        close_task = asyncio.ensure_future(client.close(1000, "bye"))
        await asyncio.sleep(0)  # close() ran up to its wait: our close frame is sent
        assert state_of(client) is State.CLOSING
        assert not client.open
        assert client.close_code is None  # not closed yet
        with pytest.raises(ConnectionClosed):
            await client.send("too late")
        await within(close_task)
        assert client.state is State.CLOSED
        assert client.close_code == 1000
        with pytest.raises(ConnectionClosedOK) as info:
            await within(recv_task)
        assert info.value.code == 1000
        assert info.value.reason == "bye"
        assert info.value.was_clean
        await within(server.wait_closed())
        assert server.state is State.CLOSED
        assert server.close_code == 1000
        assert server.close_reason == "bye"
        with pytest.raises(ConnectionClosedOK) as info:
            await client.recv()
        assert info.value.code == 1000
        assert info.value.was_clean
        assert server.closed_hook_calls == 1
        assert client.closed_hook_calls == 1


@async_test
async def test_close_from_server_with_error_code() -> None:
    async with ws_pair() as (server, client):
        await server.send("last words")
        await within(server.close(4000, "custom reason"))
        assert server.state is State.CLOSED
        assert server.close_code == 4000
        await within(client.wait_closed())
        assert client.state is State.CLOSED
        assert client.close_code == 4000
        assert client.close_reason == "custom reason"
        assert await within(client.recv()) == "last words"
        with pytest.raises(ConnectionClosedError) as info:
            await client.recv()
        assert (info.value.code, info.value.reason, info.value.was_clean) == (4000, "custom reason", True)
        with pytest.raises(ConnectionClosedError):
            await client.send("x")


@pytest.mark.parametrize("code", [1000, 1001])
@async_test
async def test_async_for_ends_on_normal_closure(code: int) -> None:
    async with ws_pair() as (server, client):
        for i in range(3):
            await server.send(str(i))
        close_task = asyncio.ensure_future(server.close(code))
        received = [message async for message in client]
        assert received == ["0", "1", "2"]
        await within(close_task)
        assert client.close_code == code


@pytest.mark.parametrize("code", [1002, 1011, 3000, 4999])
@async_test
async def test_async_for_raises_on_other_codes(code: int) -> None:
    async with ws_pair() as (server, client):
        await server.send("only")
        close_task = asyncio.ensure_future(server.close(code, "why"))
        received: list[str | bytes] = []
        with pytest.raises(ConnectionClosedError) as info:
            await within(_collect(client, received))
        assert received == ["only"]
        assert info.value.code == code
        assert info.value.reason == "why"
        await within(close_task)


@async_test
async def test_close_on_closed_connection_only_waits() -> None:
    async with ws_pair() as (server, client):
        await within(client.close())
        await within(server.wait_closed())
        await within(client.close(4001, "ignored"))
        await within(server.close())
        assert client.close_code == 1000
        assert server.close_code == 1000
        assert server.close_reason == ""


@async_test
async def test_concurrent_close_calls_all_return() -> None:
    async with ws_pair() as (server, client):
        tasks = [asyncio.ensure_future(client.close()) for _ in range(3)]
        tasks.append(asyncio.ensure_future(server.close()))
        await within(asyncio.gather(*tasks))
        assert client.state is State.CLOSED
        assert server.state is State.CLOSED
        assert client.close_code == 1000
        assert server.close_code == 1000


@pytest.mark.parametrize(("code", "reason"), [(1006, ""), (999, ""), (1000, "x" * 124)])
@async_test
async def test_close_with_invalid_code_or_reason_raises_value_error(code: int, reason: str) -> None:
    async with ws_pair() as (server, client):
        with pytest.raises(ValueError):
            await client.close(code, reason)
        assert client.open
        await client.send("still open")
        assert await within(server.recv()) == "still open"


@async_test
async def test_abort_gives_1006_on_the_peer() -> None:
    async with ws_pair() as (server, client):
        await client.send("before abort")
        client.abort()
        await within(client.wait_closed())
        assert client.state is State.CLOSED
        assert client.close_code == 1006
        await within(server.wait_closed())
        assert server.close_code == 1006
        assert server.close_reason == ""
        assert await within(server.recv()) == "before abort"
        with pytest.raises(ConnectionClosedError) as info:
            await within(server.recv())
        assert info.value.code == 1006
        assert not info.value.was_clean
        with pytest.raises(ConnectionClosedError):
            await server.send("x")


@async_test
async def test_abort_with_reason_and_operations_after_abort() -> None:
    async with ws_pair() as (server, client):
        waiter = await server.ping(b"p")
        server.abort("shutting down")
        server.abort("second reason is ignored")
        await within(server.wait_closed())
        assert server.close_code == 1006
        assert server.close_reason == "shutting down"
        with pytest.raises(ConnectionClosedError) as info:
            await server.recv()
        assert (info.value.code, info.value.reason, info.value.was_clean) == (1006, "shutting down", False)
        with pytest.raises(ConnectionClosedError):
            await waiter
        with pytest.raises(ConnectionClosedError):
            await server.send_fragment("x", fin=True)
        with pytest.raises(ConnectionClosedError):
            await server.pong()
        await within(server.close())  # only waits
        await within(client.wait_closed())
        assert client.close_code == 1006


@async_test
async def test_peer_eof_without_close_frame_is_1006() -> None:
    async with raw_pair(Role.SERVER) as (conn, raw):
        await raw.send_frame(TEXT, b"last")
        raw.sock.shutdown(socket.SHUT_WR)
        await within(conn.wait_closed())
        await raw.expect_eof()  # the connection closed its side too, without a close frame
        assert conn.state is State.CLOSED
        assert conn.close_code == 1006
        assert await within(conn.recv()) == "last"
        with pytest.raises(ConnectionClosedError) as info:
            await conn.recv()
        assert info.value.code == 1006
        assert not info.value.was_clean
        assert [message async for message in _safe_iter(conn)] == []


@async_test
async def test_close_frame_without_code_is_1005() -> None:
    async with raw_pair(Role.SERVER) as (conn, raw):
        await raw.send_frame(CLOSE)
        echo = await raw.recv_frame()
        assert echo.opcode == CLOSE
        assert echo.payload == b""
        with pytest.raises(ConnectionClosedError) as info:
            await within(conn.recv())
        assert (info.value.code, info.value.was_clean) == (1005, True)
        assert conn.close_code == 1005
        assert conn.close_reason == ""


@async_test
async def test_send_after_peer_close_frame_raises() -> None:
    async with raw_pair(Role.SERVER) as (conn, raw):
        await raw.send_frame(CLOSE, close_payload(1000))
        assert (await raw.recv_frame()).opcode == CLOSE
        await within(wait_until(lambda: conn.state is State.CLOSED, what="the close frame"))
        with pytest.raises(ConnectionClosedOK) as info:
            await conn.send("too late")
        assert info.value.code == 1000
        with pytest.raises(ConnectionClosedOK):
            await conn.ping()
        await raw.expect_eof()  # nothing was written after the close frame


@async_test
async def test_client_close_timer_after_server_close_frame() -> None:
    async with raw_pair(Role.CLIENT, close_timeout=0.2) as (conn, raw):
        loop = asyncio.get_running_loop()
        await raw.send_frame(CLOSE, close_payload(1001, "restart"))
        echo = await raw.recv_frame()
        assert echo.opcode == CLOSE
        assert echo.masked
        assert echo.close_code == 1001
        start = loop.time()
        # The raw server never closes the TCP connection: the client gives up.
        await within(conn.wait_closed())
        assert loop.time() - start >= 0.1
        assert conn.close_code == 1001
        assert conn.close_reason == "restart"
        with pytest.raises(ConnectionClosedOK) as info:
            await conn.recv()
        assert info.value.code == 1001
        assert info.value.was_clean


@async_test
async def test_wait_closed_survives_cancellation() -> None:
    async with ws_pair() as (server, client):
        task = asyncio.ensure_future(server.wait_closed())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await within(client.close())
        await within(server.wait_closed())
        assert server.close_code == 1000


@async_test
async def test_messages_queued_before_close_frame_are_delivered_first() -> None:
    async with raw_pair() as (conn, raw):
        await raw.send(
            raw.frame(TEXT, b"one") + raw.frame(BINARY, b"two") + raw.frame(CLOSE, close_payload(1000, "done"))
        )
        assert await within(conn.recv()) == "one"
        assert await within(conn.recv()) == b"two"
        with pytest.raises(ConnectionClosedOK) as info:
            await within(conn.recv())
        assert (info.value.code, info.value.reason, info.value.was_clean) == (1000, "done", True)


@async_test
async def test_server_half_closes_after_close_handshake() -> None:
    async with raw_pair(Role.SERVER, close_timeout=TIMEOUT) as (conn, raw):
        await raw.send_frame(CLOSE, close_payload(1001, "going"))
        echo = await raw.recv_frame()
        assert echo.opcode == CLOSE
        assert not echo.masked
        assert echo.close_code == 1001
        # The server shut down its writing side, but waits for our EOF.
        await raw.expect_eof()
        assert conn.state is State.CLOSED
        wait = asyncio.ensure_future(conn.wait_closed())
        assert await stays_pending(wait, 0.05)
        raw.sock.shutdown(socket.SHUT_WR)
        await within(wait)
        assert conn.close_code == 1001
        assert conn.close_reason == "going"


@async_test
async def test_server_initiated_close_with_raw_client() -> None:
    async with raw_pair(Role.SERVER, close_timeout=TIMEOUT) as (conn, raw):
        close_task = asyncio.ensure_future(conn.close(4000, "bye"))
        frame = await raw.recv_frame()
        assert (frame.opcode, frame.close_code, frame.close_reason) == (CLOSE, 4000, "bye")
        assert conn.state is State.CLOSING
        await raw.send_frame(CLOSE, close_payload(4000))
        await raw.expect_eof()  # the server closes the TCP connection first
        raw.sock.shutdown(socket.SHUT_WR)
        await within(close_task)
        assert conn.close_code == 4000


@async_test
async def test_client_waits_for_server_to_close_tcp() -> None:
    async with raw_pair(Role.CLIENT, close_timeout=TIMEOUT) as (conn, raw):
        close_task = asyncio.ensure_future(conn.close())
        frame = await raw.recv_frame()
        assert frame.opcode == CLOSE
        assert frame.masked
        assert frame.close_code == 1000
        await raw.send_frame(CLOSE, close_payload(1000))
        await asyncio.sleep(0.05)
        assert not close_task.done()  # a client lets the server close the TCP connection
        raw.sock.shutdown(socket.SHUT_WR)
        await within(close_task)
        assert conn.close_code == 1000


@pytest.mark.parametrize("role", [Role.SERVER, Role.CLIENT])
@async_test
async def test_close_timeout_aborts_when_peer_never_answers(role: Role) -> None:
    async with raw_pair(role, close_timeout=0.2) as (conn, raw):
        loop = asyncio.get_running_loop()
        start = loop.time()
        await within(conn.close())
        elapsed = loop.time() - start
        assert 0.15 <= elapsed < 1.5
        assert conn.state is State.CLOSED
        assert conn.close_code == 1006
        assert conn.close_reason == "close timeout"
        frame = await raw.recv_frame()
        assert frame.opcode == CLOSE
        assert frame.close_code == 1000
        await raw.expect_eof()
        with pytest.raises(ConnectionClosedError) as info:
            await conn.recv()
        assert info.value.code == 1006


@async_test
async def test_close_timeout_after_close_frames_when_peer_keeps_tcp_open() -> None:
    async with raw_pair(Role.SERVER, close_timeout=0.2) as (conn, raw):
        loop = asyncio.get_running_loop()
        close_task = asyncio.ensure_future(conn.close())
        assert (await raw.recv_frame()).opcode == CLOSE
        await raw.send_frame(CLOSE, close_payload(1000))
        start = loop.time()
        await raw.expect_eof()
        # The raw peer never sends its EOF: the server gives up after close_timeout.
        await within(close_task)
        assert loop.time() - start >= 0.1
        assert conn.close_code == 1000  # the closing handshake itself was complete


# ---------------------------------------------------------------- keepalive


@async_test
async def test_keepalive_drops_silent_peer() -> None:
    async with raw_pair(Role.SERVER, keepalive_interval=0.1, keepalive_grace=0.1) as (conn, raw):
        loop = asyncio.get_running_loop()
        start = loop.time()
        await within(conn.wait_closed())
        elapsed = loop.time() - start
        assert 0.15 <= elapsed < 1.5
        assert conn.close_code == 1006
        assert conn.close_reason == "keepalive timeout"
        ping = await raw.recv_frame()
        assert ping.opcode == PING
        assert not ping.masked
        with pytest.raises(ConnectionClosedError) as info:
            await conn.recv()
        assert info.value.code == 1006
        assert info.value.reason == "keepalive timeout"


@async_test
async def test_keepalive_keeps_answering_peer_open() -> None:
    async with ws_pair(server_kwargs={"keepalive_interval": 0.1, "keepalive_grace": 0.1}) as (server, client):
        assert server.latency is None
        # Several intervals pass: the client answers every ping automatically.
        await asyncio.sleep(0.6)
        assert server.open
        assert client.open
        assert server.latency is not None
        assert 0 <= server.latency < 0.1
        await client.send("still here")
        assert await within(server.recv()) == "still here"


@async_test
async def test_keepalive_does_not_ping_a_talking_peer() -> None:
    async with raw_pair(Role.SERVER, keepalive_interval=0.25, keepalive_grace=0.1) as (conn, raw):
        loop = asyncio.get_running_loop()
        end = loop.time() + 0.5
        count = 0
        while loop.time() < end:
            await raw.send_frame(TEXT, b"tick")
            assert await within(conn.recv()) == "tick"
            count += 1
            await asyncio.sleep(0.02)
        assert conn.open
        assert conn.latency is None  # no keepalive ping was needed
        raw.sock.shutdown(socket.SHUT_WR)
        await within(conn.wait_closed())
        await raw.expect_eof()  # no ping was ever sent


@async_test
async def test_keepalive_with_none_grace_only_pings() -> None:
    async with raw_pair(Role.SERVER, keepalive_interval=0.05, keepalive_grace=None) as (conn, raw):
        assert (await raw.recv_frame()).opcode == PING
        assert (await raw.recv_frame()).opcode == PING
        assert conn.open


# --------------------------------------------------------------------- ping


@async_test
async def test_ping_resolves_with_round_trip_time() -> None:
    async with ws_pair() as (server, client):
        waiter = await client.ping(b"payload")
        rtt = await within(waiter)
        assert isinstance(rtt, float)
        assert 0 <= rtt < 1
        assert client.latency == rtt
        waiter = await server.ping()
        assert await within(waiter) >= 0


@async_test
async def test_ping_payload_limit() -> None:
    async with ws_pair() as (_server, client):
        with pytest.raises(ValueError):
            await client.ping(b"x" * 126)
        waiter = await client.ping(b"x" * 125)
        assert await within(waiter) >= 0


@async_test
async def test_pong_matches_ping_payload() -> None:
    async with raw_pair(Role.CLIENT) as (conn, raw):
        first = await conn.ping(b"a")
        second = await conn.ping(b"b")
        frames = [await raw.recv_frame(), await raw.recv_frame()]
        assert [(f.opcode, f.payload) for f in frames] == [(PING, b"a"), (PING, b"b")]
        await raw.send_frame(PONG, b"b")
        await within(second)
        assert not first.done()
        await raw.send_frame(PONG, b"unknown")  # an unsolicited pong is ignored
        await raw.send_frame(PONG, b"a")
        await within(first)


@async_test
async def test_pending_pings_fail_when_connection_closes() -> None:
    async with raw_pair(Role.SERVER) as (conn, raw):
        waiter = await conn.ping(b"never answered")
        assert (await raw.recv_frame()).opcode == PING
        raw.sock.shutdown(socket.SHUT_WR)
        with pytest.raises(ConnectionClosed) as info:
            await within(waiter)
        assert info.value.code == 1006
        with pytest.raises(ConnectionClosed):
            await conn.ping()


@async_test
async def test_ping_is_answered_with_pong() -> None:
    async with raw_pair(Role.SERVER) as (conn, raw):
        await raw.send_frame(PING, b"hi")
        pong = await raw.recv_frame()
        assert (pong.opcode, pong.payload, pong.masked) == (PONG, b"hi", False)
        await conn.pong(b"unsolicited")
        frame = await raw.recv_frame()
        assert (frame.opcode, frame.payload) == (PONG, b"unsolicited")
        assert conn.open


# ------------------------------------------------------- protocol violations


@async_test
async def test_deferred_failure_lets_app_echo_earlier_message() -> None:
    async with raw_pair(Role.SERVER) as (conn, raw):
        # One write: a valid text frame, then a frame with RSV1 set (no extension).
        await raw.send(raw.frame(TEXT, b"Hello") + raw.frame(TEXT, b"bad", rsv=RSV1))
        message = await within(conn.recv())
        assert message == "Hello"
        assert conn.open
        await within(conn.send(message))
        with pytest.raises(ConnectionClosedError) as info:
            await within(conn.recv())
        assert info.value.code == 1002
        assert not info.value.was_clean
        echo = await raw.recv_frame()
        assert (echo.opcode, echo.payload) == (TEXT, b"Hello")
        close = await raw.recv_frame()
        assert close.opcode == CLOSE
        assert close.close_code == 1002
        await raw.expect_eof()
        raw.sock.shutdown(socket.SHUT_WR)
        await within(conn.wait_closed())
        assert conn.close_code == 1002


@async_test
async def test_async_for_echo_then_deferred_failure() -> None:
    async with raw_pair(Role.SERVER) as (conn, raw):
        await raw.send(raw.frame(TEXT, b"a") + raw.frame(BINARY, b"b") + raw.frame(CONT, b"no message to continue"))
        with pytest.raises(ConnectionClosedError) as info:
            await within(_echo_all(conn))
        assert info.value.code == 1002
        frames = [await raw.recv_frame() for _ in range(3)]
        assert [(f.opcode, f.payload) for f in frames[:2]] == [(TEXT, b"a"), (BINARY, b"b")]
        assert frames[2].opcode == CLOSE
        assert frames[2].close_code == 1002


@async_test
async def test_violation_without_pending_message_fails_at_once() -> None:
    async with raw_pair(Role.SERVER) as (conn, raw):
        await raw.send_frame(TEXT, b"bad", rsv=RSV1)
        # The application does not call recv(): the failure is applied anyway.
        close = await raw.recv_frame()
        assert close.opcode == CLOSE
        assert close.close_code == 1002
        await raw.expect_eof()
        assert conn.state is State.CLOSING
        raw.sock.shutdown(socket.SHUT_WR)
        await within(conn.wait_closed())
        assert conn.close_code == 1002
        with pytest.raises(ConnectionClosedError) as info:
            await conn.recv()
        assert info.value.code == 1002


@async_test
async def test_violation_after_drained_queue_fails_at_once() -> None:
    async with raw_pair(Role.SERVER) as (conn, raw):
        await raw.send_frame(TEXT, b"fine")
        assert await within(conn.recv()) == "fine"
        await raw.send_frame(PING, b"x" * 126)  # control frame too long
        frame = await raw.recv_frame()
        assert frame.opcode == CLOSE
        assert frame.close_code == 1002


@async_test
async def test_unmasked_frame_to_server_fails() -> None:
    async with raw_pair(Role.SERVER) as (conn, raw):
        await raw.send(build_frame(TEXT, b"unmasked", mask=None))
        close = await raw.recv_frame()
        assert close.opcode == CLOSE
        assert close.close_code == 1002
        with pytest.raises(ConnectionClosedError) as info:
            await within(conn.recv())
        assert info.value.code == 1002


@async_test
async def test_pending_failure_applied_after_close_timeout() -> None:
    async with raw_pair(Role.SERVER, close_timeout=0.2) as (conn, raw):
        loop = asyncio.get_running_loop()
        start = loop.time()
        await raw.send(raw.frame(TEXT, b"unread") + raw.frame(TEXT, b"bad", rsv=RSV1))
        # The application never calls recv() again.
        close = await raw.recv_frame()
        assert loop.time() - start >= 0.15
        assert close.opcode == CLOSE
        assert close.close_code == 1002
        await raw.expect_eof()
        # The message that arrived before the violation is still there to read.
        assert await within(conn.recv()) == "unread"
        with pytest.raises(ConnectionClosedError) as info:
            await within(conn.recv())
        assert info.value.code == 1002


@async_test
async def test_close_with_pending_failure_fails_with_protocol_error() -> None:
    # The application answers the message that preceded the violation, then calls
    # close() instead of recv(): the connection must still be failed with 1002 (the
    # peer broke the protocol), at once, not closed normally with a handshake that can
    # never complete (everything after the violation is discarded).
    async with raw_pair(Role.SERVER, close_timeout=1.0) as (conn, raw):
        loop = asyncio.get_running_loop()
        await raw.send(raw.frame(TEXT, b"Hello") + raw.frame(TEXT, b"bad", rsv=RSV1))
        await within(conn.send(await within(conn.recv())))
        start = loop.time()
        close_task = asyncio.ensure_future(conn.close())
        echo = await raw.recv_frame()
        assert (echo.opcode, echo.payload) == (TEXT, b"Hello")
        close = await raw.recv_frame()
        assert close.opcode == CLOSE
        assert close.close_code == 1002
        await raw.expect_eof(timeout=0.5)
        raw.sock.shutdown(socket.SHUT_WR)
        await within(close_task)
        assert loop.time() - start < 0.5, "close() waited for the close timeout"
        assert conn.close_code == 1002


@async_test
async def test_invalid_utf8_fails_with_1007() -> None:
    async with raw_pair(Role.SERVER) as (conn, raw):
        await raw.send_frame(TEXT, b"caf\xc3")  # truncated UTF-8 sequence
        close = await raw.recv_frame()
        assert close.opcode == CLOSE
        assert close.close_code == 1007
        with pytest.raises(ConnectionClosedError) as info:
            await within(conn.recv())
        assert info.value.code == 1007
        await raw.expect_eof()


@async_test
async def test_invalid_utf8_in_fragment_fails_with_1007_before_message_ends() -> None:
    async with raw_pair(Role.SERVER) as (_conn, raw):
        await raw.send_frame(TEXT, b"ok \xff", fin=False)
        close = await raw.recv_frame()
        assert close.opcode == CLOSE
        assert close.close_code == 1007


@async_test
async def test_oversize_message_fails_with_1009() -> None:
    async with raw_pair(Role.SERVER, ConnectionOptions(max_message_size=10)) as (conn, raw):
        await raw.send_frame(BINARY, b"0123456789")  # exactly at the limit
        assert await within(conn.recv()) == b"0123456789"
        await raw.send_frame(BINARY, b"0123456789A")
        close = await raw.recv_frame()
        assert close.opcode == CLOSE
        assert close.close_code == 1009
        with pytest.raises(ConnectionClosedError) as info:
            await within(conn.recv())
        assert info.value.code == 1009


@async_test
async def test_oversize_fragmented_message_fails_with_1009() -> None:
    async with raw_pair(Role.SERVER, ConnectionOptions(max_message_size=10)) as (_conn, raw):
        await raw.send(raw.frame(TEXT, b"123456", fin=False) + raw.frame(CONT, b"789012"))
        close = await raw.recv_frame()
        assert close.opcode == CLOSE
        assert close.close_code == 1009


@async_test
async def test_client_role_rejects_masked_frames() -> None:
    async with raw_pair(Role.CLIENT) as (conn, raw):
        await raw.send(build_frame(TEXT, b"masked", mask=MASK))
        close = await raw.recv_frame()
        assert close.opcode == CLOSE
        assert close.masked
        assert close.close_code == 1002
        with pytest.raises(ConnectionClosedError) as info:
            await within(conn.recv())
        assert info.value.code == 1002


# ------------------------------------------------------------- flow control


@async_test
async def test_receive_backpressure_pauses_reading_and_loses_nothing() -> None:
    count, size = 200, 16 * 1024
    messages = [bytes([i % 256]) * size for i in range(count)]
    async with ws_pair(server_kwargs={"max_queue": 2}) as (server, client):
        sent = 0

        async def sender() -> None:
            nonlocal sent
            for message in messages:
                await client.send(message)
                sent += 1

        task = asyncio.ensure_future(sender())
        await within(wait_until(lambda: not is_reading(server), what="reading to pause"))
        # The sender is throttled by TCP: it cannot finish while the server does not read.
        await within(wait_until(lambda: client.buffered_amount > 0, what="the client's write buffer to fill"))
        # The kernel's socket buffers may still absorb a few messages (their size grows
        # with autotuning), but the sender cannot finish while the application does not read.
        assert await stays_pending(task, 0.1)
        assert sent < count
        assert not is_reading(server)
        # The application drains the queue: reading resumes, every message arrives in order.
        for i, message in enumerate(messages):
            received = await within(server.recv())
            assert received == message, f"message {i} differs"
        await within(task)
        assert is_reading(server)


@async_test
async def test_max_queue_one_resumes_after_each_recv() -> None:
    async with ws_pair(server_kwargs={"max_queue": 1}) as (server, client):
        for i in range(5):
            await client.send(str(i))
        await within(wait_until(lambda: not is_reading(server), what="reading to pause"))
        for i in range(5):
            assert await within(server.recv()) == str(i)
        await within(wait_until(lambda: is_reading(server), what="reading to resume"))


@async_test
async def test_one_read_of_tiny_frames_never_overfills_the_queue() -> None:
    # 20,000 frames of 1 byte in one write (one or a few reads): the connection parses
    # only what its queue has room for and keeps the rest of the read as a backlog.
    count, max_queue = 20_000, 8
    async with raw_pair(Role.SERVER, max_queue=max_queue) as (conn, raw):
        frames = b"".join(raw.frame(BINARY, bytes([i % 251])) for i in range(count))
        await raw.send(frames + raw.frame(PING, b"last"))
        await within(wait_until(lambda: not is_reading(conn), what="reading to pause"))
        largest = len(conn._queue)
        received = []
        for _ in range(count):
            received.append(await within(conn.recv()))
            largest = max(largest, len(conn._queue))
        assert received == [bytes([i % 251]) for i in range(count)]
        assert largest <= max_queue
        # The ping after them is answered once its turn comes.
        assert await within(raw.recv_frame()) == RawFrame(PONG, b"last", True, 0, False)
        await within(wait_until(lambda: is_reading(conn), what="reading to resume"))


@async_test
async def test_backlog_is_delivered_when_the_peer_closes() -> None:
    # Frames left unparsed when the peer's close frame and EOF arrive still reach recv().
    async with raw_pair(Role.SERVER, max_queue=2) as (conn, raw):
        await raw.send(
            b"".join(raw.frame(TEXT, str(i).encode()) for i in range(50)) + raw.frame(CLOSE, close_payload(1000))
        )
        raw.sock.shutdown(socket.SHUT_WR)
        received = [message async for message in conn]
        assert received == [str(i) for i in range(50)]
        assert conn.close_code == 1000


@async_test
async def test_connections_share_one_read_buffer() -> None:
    async with ws_pair() as (server, client):
        assert server.get_buffer(-1) is client.get_buffer(-1)
        await client.send(b"x" * 100_000)  # a large read, parsed from the shared buffer
        await client.send("after")
        assert await within(server.recv()) == b"x" * 100_000
        assert await within(server.recv()) == "after"


@async_test
async def test_send_backpressure_blocks_until_peer_reads() -> None:
    count, size = 8, MiB
    write_limit = 64 * 1024
    payloads = [bytes([i]) * size for i in range(count)]
    options = ConnectionOptions(max_message_size=None, fragment_outgoing_messages=False)
    async with raw_pair(Role.SERVER, options, write_limit=write_limit) as (conn, raw):
        sent = 0
        max_buffered = 0

        async def sender() -> None:
            nonlocal sent, max_buffered
            for payload in payloads:
                await conn.send(payload)
                sent += 1
                max_buffered = max(max_buffered, conn.buffered_amount)

        task = asyncio.ensure_future(sender())
        await within(wait_until(lambda: conn.buffered_amount > write_limit, what="the write buffer to fill"))
        assert await stays_pending(task, 0.2)  # send() waits: the raw peer does not read
        assert sent < count
        assert conn.buffered_amount <= write_limit + size + 14
        # The peer starts reading: every send completes, every frame arrives intact.
        for payload in payloads:
            frame = await raw.recv_frame()
            assert (frame.opcode, frame.fin) == (BINARY, True)
            assert frame.payload == payload
        await within(task)
        assert sent == count
        assert max_buffered <= write_limit + size + 14


@async_test
async def test_send_backpressure_frames_arrive_in_order() -> None:
    write_limit = 16 * 1024
    options = ConnectionOptions(max_message_size=None, fragment_outgoing_messages=False)
    async with raw_pair(Role.SERVER, options, write_limit=write_limit) as (conn, raw):
        payloads = [bytes([i]) * (256 * 1024) for i in range(6)]

        async def sender() -> None:
            for payload in payloads:
                await conn.send(payload)

        task = asyncio.ensure_future(sender())
        await within(wait_until(lambda: conn.buffered_amount > write_limit, what="the write buffer to fill"))
        assert await stays_pending(task, 0.1)
        for payload in payloads:
            frame = await raw.recv_frame()
            assert frame.opcode == BINARY
            assert frame.fin
            assert frame.payload == payload
        await within(task)


@async_test
async def test_send_waiting_for_drain_fails_when_connection_is_lost() -> None:
    async with raw_pair(Role.SERVER, unlimited(), write_limit=1024) as (conn, _raw):

        async def sender() -> None:
            while True:
                await conn.send(b"x" * MiB)

        task = asyncio.ensure_future(sender())
        await within(wait_until(lambda: conn.buffered_amount > 1024, what="the write buffer to fill"))
        assert await stays_pending(task, 0.05)
        conn.abort()
        with pytest.raises(ConnectionClosedError) as info:
            await within(task)
        assert info.value.code == 1006


@async_test
async def test_ping_flood_from_non_reading_peer_pauses_reading() -> None:
    write_limit = 16 * 1024
    async with raw_pair(Role.SERVER, write_limit=write_limit) as (conn, raw):
        ping = raw.frame(PING, b"p" * 125)
        pings = 12000  # about 1.6 MB of pings, far more than the socket buffers hold

        task = asyncio.ensure_future(raw.loop.sock_sendall(raw.sock, ping * pings))
        await within(wait_until(lambda: not is_reading(conn), what="reading to pause"))
        assert await stays_pending(task, 0.1)  # the server stopped reading our pings
        # Pongs are bounded: at most the limit plus what one read of pings produced.
        assert conn.buffered_amount <= write_limit + 256 * 1024
        # Once the peer reads, the server reads again and answers every ping.
        pongs = 0
        while pongs < pings:
            frame = await raw.recv_frame()
            assert (frame.opcode, frame.payload) == (PONG, b"p" * 125)
            pongs += 1
        await within(task)
        assert conn.open


@async_test
async def test_full_duplex_streaming_does_not_deadlock() -> None:
    # Both ends send large messages while both also receive: the classic case where
    # pausing reading because of one's own write buffer makes both ends stop reading.
    count, size = 24, 256 * 1024
    options = unlimited()
    async with ws_pair(server_options=options, client_options=options) as (server, client):

        async def sender(conn: Peer) -> None:
            for i in range(count):
                await conn.send(bytes([i]) * size)

        async def receiver(conn: Peer) -> list[int]:
            return [len(await conn.recv()) for _ in range(count)]

        tasks = [
            asyncio.ensure_future(sender(server)),
            asyncio.ensure_future(sender(client)),
            asyncio.ensure_future(receiver(server)),
            asyncio.ensure_future(receiver(client)),
        ]
        _done, pending = await asyncio.wait(tasks, timeout=2)
        for task in pending:
            task.cancel()
        assert not pending, (
            f"deadlock: server buffered {server.buffered_amount}, client buffered {client.buffered_amount}, "
            f"reading server={is_reading(server)} "
            f"client={is_reading(client)}"
        )
        assert tasks[2].result() == [size] * count
        assert tasks[3].result() == [size] * count


@async_test
async def test_close_completes_cleanly_with_unread_messages() -> None:
    # An application that stops reading (its queue is full, so reading is paused) and
    # then closes must still get the peer's close frame: a clean 1000 closure, not an
    # abort after close_timeout. The peer has more data in flight than one read takes.
    count, size = 64, 16 * 1024
    async with ws_pair(server_kwargs={"max_queue": 2, "close_timeout": 1.0}) as (server, client):

        async def sender() -> None:
            with contextlib.suppress(ConnectionClosed):
                for i in range(count):
                    await client.send(bytes([i]) * size)

        send_task = asyncio.ensure_future(sender())
        await within(wait_until(lambda: not is_reading(server), what="reading to pause"))
        await within(wait_until(lambda: client.buffered_amount > 0, what="the client's write buffer to fill"))
        loop = asyncio.get_running_loop()
        client_task = asyncio.ensure_future(_drain_until_closed(client))
        start = loop.time()
        await within(server.close())
        assert loop.time() - start < 0.5, "close() waited for the close timeout"
        assert server.close_code == 1000
        await within(client_task)
        await within(send_task)
        assert client.close_code == 1000


@async_test
async def test_keepalive_does_not_drop_live_peer_while_app_is_slow() -> None:
    # The server's application does not read for a while; reading pauses (max_queue)
    # and pongs cannot be read, but the peer is alive: it must not be dropped.
    server_kwargs = {"max_queue": 1, "keepalive_interval": 0.1, "keepalive_grace": 0.1}
    async with ws_pair(server_kwargs=server_kwargs) as (server, client):
        for i in range(3):
            await client.send(str(i))
        await within(wait_until(lambda: not is_reading(server), what="reading to pause"))
        await asyncio.sleep(0.5)  # several keepalive intervals with a slow application
        assert server.open, f"live peer dropped: {server.close_code} {server.close_reason}"
        for i in range(3):
            assert await within(server.recv()) == str(i)


# ---------------------------------------------------------- misc properties


@async_test
async def test_repr_names_id_and_state() -> None:
    async with ws_pair() as (server, _client):
        assert f" {server.id} " in repr(server)
        assert "OPEN" in repr(server)
        assert type(server).__name__ in repr(server)


@async_test
async def test_buffered_amount_is_zero_when_flushed() -> None:
    async with ws_pair() as (server, client):
        await client.send("x")
        assert client.buffered_amount == 0
        assert await within(server.recv()) == "x"


# ------------------------------------------------------------ message callback


async def _pong_after(raw: RawPeer, *frames: bytes) -> None:
    """Send `frames` then a ping, and wait for its pong: the connection has parsed them all."""
    await raw.send(b"".join(frames) + raw.frame(PING, b"sync"))
    frame = await raw.recv_frame_skipping(TEXT, BINARY)
    assert (frame.opcode, frame.payload) == (PONG, b"sync")


@async_test
async def test_message_callback_echoes_every_message_in_order() -> None:
    messages: list[str | bytes] = [f"text {i}" if i % 3 else bytes([i]) * (i * 37) for i in range(60)]
    messages.append("x" * 100_000)  # several reads, fragmented on the way back
    async with ws_pair() as (server, client):
        server.set_message_callback(server.send_nowait)
        for message in messages:
            await client.send(message)
        for message in messages:
            assert await within(client.recv()) == message
        with pytest.raises(InvalidState, match="callback"):
            await server.recv()
        with pytest.raises(InvalidState, match="callback"):
            async for _ in server:
                pass


@async_test
async def test_message_callback_takes_waiting_messages_first() -> None:
    async with raw_pair(Role.SERVER) as (conn, raw):
        await _pong_after(raw, raw.frame(TEXT, b"one"), raw.frame(BINARY, b"two"), raw.frame(TEXT, b"three"))
        received: list[str | bytes] = []
        conn.set_message_callback(received.append)
        assert received == ["one", b"two", "three"]  # during the call
        await _pong_after(raw, raw.frame(TEXT, b"four"))
        assert received == ["one", b"two", "three", "four"]


@async_test
async def test_message_callback_none_goes_back_to_recv() -> None:
    async with raw_pair(Role.SERVER) as (conn, raw):
        received: list[str | bytes] = []
        conn.set_message_callback(received.append)
        await _pong_after(raw, raw.frame(TEXT, b"to the callback"))
        conn.set_message_callback(None)
        await raw.send_frame(TEXT, b"to recv")
        assert await within(conn.recv()) == "to recv"
        assert received == ["to the callback"]


@async_test
async def test_message_callback_error_is_logged_and_closes_with_1011(caplog: pytest.LogCaptureFixture) -> None:
    def broken(message: str | bytes) -> None:
        raise ValueError(f"cannot handle {message!r}")

    async with raw_pair(Role.SERVER) as (conn, raw):
        conn.set_message_callback(broken)
        with caplog.at_level(logging.ERROR, logger="wsframe.asyncio"):
            await raw.send_frame(TEXT, b"boom")
            frame = await raw.recv_frame()
        assert frame.opcode == CLOSE
        assert struct.unpack("!H", frame.payload[:2])[0] == 1011
        assert any("message callback" in r.getMessage() and r.exc_info for r in caplog.records)
        # The callback is gone: what arrives during the closing handshake waits for recv().
        await raw.send_frame(TEXT, b"late")
        assert await within(conn.recv()) == "late"
        await raw.send_frame(CLOSE, close_payload(1011))
        await within(conn.wait_closed())
        assert conn.close_code == 1011


@async_test
async def test_message_callback_reply_while_closing_is_not_an_error(caplog: pytest.LogCaptureFixture) -> None:
    async with raw_pair(Role.SERVER) as (conn, raw):
        conn.set_message_callback(conn.send_nowait)
        with caplog.at_level(logging.ERROR, logger="wsframe.asyncio"):
            closing = asyncio.ensure_future(conn.close(1000))
            frame = await raw.recv_frame()
            assert frame.opcode == CLOSE
            # A message the peer sent before it saw our close: the echo cannot be sent.
            await raw.send_frame(TEXT, b"in flight")
            await raw.send_frame(CLOSE, close_payload(1000))
            await within(closing)
        assert conn.close_code == 1000
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@async_test
async def test_message_callback_pauses_reading_while_the_peer_does_not_read() -> None:
    write_limit, size, count = 16 * 1024, 16 * 1024, 400  # 6.4 MB: far more than socket buffers
    async with raw_pair(Role.SERVER, write_limit=write_limit, max_queue=4) as (conn, raw):
        conn.set_message_callback(conn.send_nowait)
        payloads = [bytes([i % 251]) * size for i in range(count)]
        task = asyncio.ensure_future(raw.loop.sock_sendall(raw.sock, b"".join(raw.frame(BINARY, p) for p in payloads)))
        await within(wait_until(lambda: not is_reading(conn), what="reading to pause"))
        assert await stays_pending(task, 0.1)  # the server stopped reading
        # Echoes are bounded: the limit plus one batch of max_queue messages.
        assert conn.buffered_amount <= write_limit + 5 * (size + 14)
        for payload in payloads:  # once the peer reads, every echo comes, in order
            frame = await raw.recv_frame()
            assert (frame.opcode, frame.payload) == (BINARY, payload)
        await within(task)
        assert is_reading(conn)


@async_test
async def test_message_callback_delivers_messages_before_a_pending_failure() -> None:
    async with raw_pair(Role.SERVER) as (conn, raw):
        # A message, then a frame with a reserved opcode, in one read.
        await raw.send(raw.frame(TEXT, b"before") + raw.frame(3, b""))
        await within(wait_until(lambda: conn._pending_fail, what="the failure to wait for the message"))
        received: list[str | bytes] = []
        conn.set_message_callback(received.append)
        assert received == ["before"]
        frame = await raw.recv_frame()
        assert frame.opcode == CLOSE
        assert struct.unpack("!H", frame.payload[:2])[0] == 1002


@async_test
async def test_set_message_callback_invalid_states() -> None:
    with pytest.raises(InvalidState, match="handshake"):
        WebSocketConnection().set_message_callback(print)
    async with ws_pair(server_options=ConnectionOptions(assemble_fragments=False)) as (server, _client):
        with pytest.raises(InvalidState, match="fragments"):
            server.set_message_callback(print)
    async with ws_pair() as (server, client):
        waiting = asyncio.ensure_future(server.recv())
        await asyncio.sleep(0)
        with pytest.raises(InvalidState, match="recv"):
            server.set_message_callback(print)
        await client.send("still for recv")
        assert await within(waiting) == "still for recv"


# ------------------------------------------------------------ driver contract


@async_test
async def test_driver_contract_properties_through_a_connection_life() -> None:
    a, b = socket.socketpair()
    raw = RawPeer(b, masked=True)
    loop = asyncio.get_running_loop()
    transport, conn = await loop.create_connection(HandshakePeer, sock=a)
    try:
        assert conn.loop is loop
        assert conn.transport is transport
        assert conn.sansio is None  # the handshake is not complete
        await raw.send(b"HELLO\r\n\r\n")
        await wait_until(lambda: conn.sansio is not None, what="handshake complete")
        sansio = conn.sansio
        assert isinstance(sansio, Connection)
        with pytest.raises(InvalidState, match="already complete"):
            conn.handshake_complete(Connection(Role.SERVER))
        assert conn.sansio is sansio
        await raw.send_frame(CLOSE, struct.pack("!H", 1000))
        await within(conn.wait_closed())
        # The hook ran once, and the transport is let go of.
        assert conn.transport is None
        assert conn.sansio is sansio
        assert conn.close_code == 1000
    finally:
        raw.close()


class ClosedHookPeer(Peer):
    """Records what the connection_closed() hook sees."""

    def __init__(self) -> None:
        super().__init__(Role.SERVER)
        self.seen: list[tuple[int | None, bool]] = []

    def connection_closed(self) -> None:
        self.seen.append((self.close_code, self.state is State.CLOSED))


@async_test
async def test_connection_closed_hook_runs_once_with_the_final_close_code() -> None:
    a, b = socket.socketpair()
    raw = RawPeer(b, masked=True)
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(ClosedHookPeer, sock=a)
    try:
        await raw.send_frame(CLOSE, struct.pack("!H", 4321) + b"bye")
        await within(conn.wait_closed())
        assert conn.seen == [(4321, True)]
    finally:
        raw.close()


@async_test
async def test_bytes_before_the_handshake_without_a_driver_abort_the_connection() -> None:
    a, b = socket.socketpair()
    raw = RawPeer(b, masked=True)
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(lambda: WebSocketConnection(keepalive_interval=None), sock=a)
    try:
        await raw.send(b"GET / HTTP/1.1\r\n\r\n")
        await within(conn.wait_closed())
        assert conn.state is State.CLOSED
        assert conn.close_code == 1006
        assert conn.close_reason == "no driver for the opening handshake"
        await raw.expect_eof()
    finally:
        raw.close()


@async_test
async def test_layers_declare_slots_once() -> None:
    # WebSocketConnection is a chain of layers (wsframe/asyncio/__init__.py): only the
    # base declares attributes, so a connection has no instance dict until an
    # application adds an attribute, and every layer stays a pure mixin of methods.
    layers = WebSocketConnection.__mro__[: WebSocketConnection.__mro__.index(asyncio.BufferedProtocol)]
    assert [layer.__module__ for layer in layers] == [
        "wsframe.asyncio._connection",
        "wsframe.asyncio._receiving",
        "wsframe.asyncio._keepalive",
        "wsframe.asyncio._closing",
        "wsframe.asyncio._sending",
        "wsframe.asyncio._flow",
        "wsframe.asyncio._state",
    ]
    assert [layer.__dict__["__slots__"] == () for layer in layers] == [True] * 6 + [False]
    conn = WebSocketConnection(keepalive_interval=None)
    assert not vars(conn)
    conn.application_data = 1  # type: ignore[attr-defined]
    assert vars(conn) == {"application_data": 1}
