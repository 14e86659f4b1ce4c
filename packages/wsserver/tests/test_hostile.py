"""Hostile peers against a running WebSocketServer, while a well-behaved client keeps echoing.

Each test starts an in-process echo server on 127.0.0.1 (port 0) and a well-behaved
wsclient connection that echoes a message every few milliseconds, recording its
latency; then attackers on raw sockets do one thing a public server must survive. Every
test asserts that the limit involved held, and that the good client kept being answered
during the attack (and can still open a new connection afterwards). Attacks are bounded
in count and time; waits are on conditions with generous deadlines, never fixed sleeps
used as synchronisation, so that the tests hold on a loaded 2-core machine.

The latency figures are printed (run with ``-s`` to see them).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import wsclient
import wsserver

#: Bound of one test, attack and checks included.
TEST_TIMEOUT = 120.0
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
MASK = b"\x37\xfa\x21\x3d"
PAGE = os.sysconf("SC_PAGE_SIZE")


def run(coroutine: Awaitable[None]) -> None:
    """Run a test coroutine under asyncio.run, bounded by TEST_TIMEOUT."""

    async def bounded() -> None:
        await asyncio.wait_for(coroutine, TEST_TIMEOUT)

    asyncio.run(bounded())


def rss() -> int:
    """This process's resident set size, in bytes (the server runs in this process)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


async def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, message: str = "") -> None:
    """Poll `predicate` until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for: {message or predicate}")
        await asyncio.sleep(0.02)


# --------------------------------------------------------------------------- the server


async def echo(request: wsserver.WebSocketRequest) -> None:
    connection = request.accept()
    if request.path == "/firehose":
        # Sends until the peer stops reading; then send() must block.
        firehose = request.server_state  # type: ignore[attr-defined]
        chunk = b"x" * 65536
        while True:
            await connection.send(chunk)
            firehose["sent"] += 1
    async for message in connection:
        await connection.send(message)


@contextlib.asynccontextmanager
async def serve(**kwargs: Any) -> AsyncIterator[tuple[wsserver.WebSocketServer, int, dict[str, int]]]:
    state = {"sent": 0}

    async def handler(request: wsserver.WebSocketRequest) -> None:
        request.server_state = state  # type: ignore[attr-defined]
        await echo(request)

    server = wsserver.WebSocketServer(handler, **kwargs)
    try:
        addresses = await server.listen("127.0.0.1", 0)
        yield server, addresses[0][1], state
    finally:
        await server.shutdown(timeout=2.0)


class GoodClient:
    """A well-behaved client echoing small messages on one connection, timing each."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def __aenter__(self) -> GoodClient:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self._connected.wait(), 30)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if self.latencies:
            ordered = sorted(self.latencies)
            p50 = ordered[len(ordered) // 2] * 1000
            p99 = ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)] * 1000
            print(
                f"\n  good client: {len(ordered)} echoes, p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {ordered[-1] * 1000:.1f} ms"
            )

    async def _run(self) -> None:
        try:
            async with wsclient.connect(f"ws://127.0.0.1:{self.port}/", open_timeout=30) as ws:
                self._connected.set()
                i = 0
                while True:
                    started = time.monotonic()
                    await ws.send(f"echo {i}")
                    reply = await asyncio.wait_for(ws.recv(), 30)
                    assert reply == f"echo {i}", reply
                    self.latencies.append(time.monotonic() - started)
                    i += 1
                    await asyncio.sleep(0.005)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # recorded, asserted by the test
            self.errors.append(repr(exc))

    async def still_echoing(self, count: int = 5, timeout: float = 30.0) -> None:
        """Wait until `count` more echoes completed; fail if the client broke."""
        target = len(self.latencies) + count
        await wait_until(lambda: len(self.latencies) >= target or bool(self.errors), timeout, "good client echoes")
        assert not self.errors, self.errors


async def fresh_echo(port: int) -> None:
    """A new well-behaved connection opens and echoes."""
    async with wsclient.connect(f"ws://127.0.0.1:{port}/", open_timeout=30) as ws:
        await ws.send("hello")
        assert await asyncio.wait_for(ws.recv(), 30) == "hello"


# ------------------------------------------------------------------- raw attackers


def request(path: str = "/", extra: str = "") -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    ).encode()


def frame(first: int, payload: bytes) -> bytes:
    length = len(payload)
    if length < 126:
        head = bytes((first, 0x80 | length))
    elif length < 65536:
        head = bytes((first, 0x80 | 126)) + struct.pack("!H", length)
    else:
        head = bytes((first, 0x80 | 127)) + struct.pack("!Q", length)
    return head + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))


async def raw_connect(port: int, *, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return sock


async def recv_until(sock: socket.socket, marker: bytes, timeout: float = 30.0) -> bytes:
    """Read until `marker` or EOF/reset; return what was read."""
    loop = asyncio.get_running_loop()
    data = b""
    deadline = time.monotonic() + timeout
    while marker not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {marker!r} within {timeout} s; got {data[:200]!r}")
        try:
            chunk = await asyncio.wait_for(loop.sock_recv(sock, 65536), remaining)
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        data += chunk
    return data


async def read_to_eof(sock: socket.socket, timeout: float = 30.0) -> bytes:
    """Read until the server closes the connection (EOF or reset)."""
    return await recv_until(sock, b"\x00never\x00", timeout)


def status_of(data: bytes) -> int | None:
    if not data.startswith(b"HTTP/1.1 "):
        return None
    return int(data[9:12])


async def upgrade(port: int, extra: str = "", *, rcvbuf: int | None = None, path: str = "/") -> socket.socket:
    sock = await raw_connect(port, rcvbuf=rcvbuf)
    await asyncio.get_running_loop().sock_sendall(sock, request(path, extra))
    head = await recv_until(sock, b"\r\n\r\n")
    assert status_of(head) == 101, head
    return sock


def close_code_of(data: bytes) -> int | None:
    """The code of the first close frame in server bytes (unmasked), if any."""
    pos = 0
    while pos + 2 <= len(data):
        first, second = data[pos], data[pos + 1] & 0x7F
        pos += 2
        if second == 126:
            second = struct.unpack("!H", data[pos : pos + 2])[0]
            pos += 2
        elif second == 127:
            second = struct.unpack("!Q", data[pos : pos + 8])[0]
            pos += 8
        payload = data[pos : pos + second]
        pos += second
        if first & 0x0F == 8:
            return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
    return None


def others(server: wsserver.WebSocketServer, good: int = 1) -> int:
    """Transports the server still holds, besides the good client's."""
    return len(server._registry.all) - good  # every transport, handshaking ones included


# ------------------------------------------------------------------------- attacks


def test_slowloris() -> None:
    """1,000 connections dribble their request head: the pending limit and open_timeout hold."""

    async def main() -> None:
        async with serve(open_timeout=5.0, max_pending_handshakes=50) as (server, port, _), GoodClient(port) as good:
            loop = asyncio.get_running_loop()
            socks = [await raw_connect(port) for _ in range(1000)]
            max_pending = 0
            results: list[int | None] = []

            async def dribble(sock: socket.socket) -> None:
                head = request()
                reader = asyncio.ensure_future(read_to_eof(sock, 60))
                try:
                    for i in range(len(head) - 2):  # never complete
                        if reader.done():
                            break
                        await loop.sock_sendall(sock, head[i : i + 1])
                        await asyncio.wait([reader], timeout=0.1)
                except (ConnectionResetError, BrokenPipeError):
                    pass
                results.append(status_of(await reader))
                sock.close()

            tasks = [asyncio.create_task(dribble(sock)) for sock in socks]
            started = time.monotonic()
            while not all(task.done() for task in tasks):
                max_pending = max(max_pending, len(server._registry.handshaking))
                await good.still_echoing(1)
                await asyncio.sleep(0.05)
            took = time.monotonic() - started
            await asyncio.gather(*tasks)
            counts = {status: results.count(status) for status in set(results)}
            print(f"\n  slowloris: {counts} in {took:.1f} s, max pending handshakes {max_pending}")
            assert max_pending <= 50
            # The extra ones were refused with 503 at once, the others timed out with 408
            # (or were closed before a status could be read).
            # (On a loaded machine a few slots may free up before the last connection
            # arrives, hence the slack.)
            assert results.count(503) >= 900, counts
            assert set(results) <= {503, 408, None}, counts
            assert results.count(408) + results.count(None) <= 100, counts
            assert took < 60
            await wait_until(lambda: others(server) == 0, message="dribblers dropped")
            await good.still_echoing()
            await fresh_echo(port)

    run(main())


def test_header_floods() -> None:
    """Thousands of headers, a 1 MB header line, a 1 MB request line: refused fast."""

    async def attack(port: int, data: bytes) -> tuple[int | None, float]:
        loop = asyncio.get_running_loop()
        sock = await raw_connect(port)
        started = time.monotonic()
        reader = asyncio.ensure_future(read_to_eof(sock, 30))

        async def send() -> None:
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                for i in range(0, len(data), 16384):
                    if reader.done():
                        return
                    await loop.sock_sendall(sock, data[i : i + 16384])

        sender = asyncio.ensure_future(send())
        answer = await reader
        took = time.monotonic() - started
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        sock.close()
        return status_of(answer), took

    async def main() -> None:
        async with serve() as (server, port, _), GoodClient(port) as good:
            base = rss()
            many = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 5000 + b"\r\n"
            long_header = b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * (1 << 20) + b"\r\n\r\n"
            long_line = b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
            long_name = b"GET / HTTP/1.1\r\n" + b"X" * (1 << 20) + b": a\r\n\r\n"
            no_newline = b"GET / HTTP/1.1\r\nHost: x" + b"\r" * (1 << 20)
            cases = [
                ("5000 headers", many, {431}),
                ("1 MB header line", long_header, {431}),
                ("1 MB request line", long_line, {414}),
                ("1 MB header name", long_name, {431}),
                ("1 MB of CR without LF", no_newline, {431, 400}),
            ]
            for name, data, expected in cases:
                for _ in range(5):
                    status, took = await attack(port, data)
                    # The status may be lost to a reset when the server closes while
                    # we still send; the connection must end fast all the same.
                    assert status in expected | {None}, (name, status)
                    assert took < 10, (name, took)
                status, took = await attack(port, data[: 64 * 1024])
                assert status in expected, (name, status)
                print(f"\n  {name}: {status} in {took * 1000:.0f} ms")
                await good.still_echoing(2)
            grown = rss() - base
            print(f"  RSS growth after 30 floods: {grown / 1e6:.1f} MB")
            assert grown < 50e6, grown
            await wait_until(lambda: others(server) == 0, message="flooders dropped")
            await fresh_echo(port)

    run(main())


def test_frame_announcing_2_63_bytes() -> None:
    """Frames announcing 2^63 - 1 and 2^63 bytes: 1009 and 1002 at once."""

    async def main() -> None:
        async with serve() as (server, port, _), GoodClient(port) as good:
            loop = asyncio.get_running_loop()
            for length, expected in ((2**63 - 1, {1009}), (2**63, {1002}), (2**62, {1009})):
                sock = await upgrade(port)
                header = bytes((0x82, 0xFF)) + struct.pack("!Q", length & (2**64 - 1)) + MASK
                started = time.monotonic()
                await loop.sock_sendall(sock, header + b"a" * 100)
                data = await read_to_eof(sock, 30)
                took = time.monotonic() - started
                sock.close()
                assert close_code_of(data) in expected, (length, data[:40])
                assert took < 10, took
                await good.still_echoing(2)
            await wait_until(lambda: others(server) == 0, message="attackers dropped")

    run(main())


def test_compression_bomb() -> None:
    """A 1 KiB compressed frame that inflates to 1 MB, limit 64 KiB: 1009, memory flat."""

    async def main() -> None:
        async with serve(max_message_size=65536) as (server, port, _), GoodClient(port) as good:
            loop = asyncio.get_running_loop()
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            bomb = (compressor.compress(bytes(1_000_000)) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]
            assert len(bomb) < 1100, len(bomb)
            base = rss()
            for _ in range(20):
                sock = await upgrade(port, "Sec-WebSocket-Extensions: permessage-deflate\r\n")
                await loop.sock_sendall(sock, frame(0xC2, bomb))
                data = await read_to_eof(sock, 30)
                sock.close()
                assert close_code_of(data) == 1009, data[:40]
            grown = rss() - base
            print(f"\n  20 bombs: RSS growth {grown / 1e6:.1f} MB")
            assert grown < 20e6, grown
            await good.still_echoing(2)
            await wait_until(lambda: others(server) == 0, message="attackers dropped")

    run(main())


def test_ping_flood_from_a_client_that_never_reads() -> None:
    """Pings without reading the pongs: the server stops reading, its buffer stays bounded."""

    async def main() -> None:
        write_limit = 65536
        async with serve(write_limit=write_limit) as (server, port, _), GoodClient(port) as good:
            loop = asyncio.get_running_loop()
            sock = await upgrade(port, rcvbuf=4096)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            ping = frame(0x89, b"p" * 125)
            batch = ping * 512  # 67 KiB
            sent = 0
            base = rss()
            biggest = 0

            async def flood() -> None:
                nonlocal sent
                with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                    for _ in range(600):  # at most 40 MB
                        await loop.sock_sendall(sock, batch)
                        sent += len(batch)

            flooder = asyncio.create_task(flood())
            # Wait until the flood stalls: the server stopped reading.
            last, still_since = -1, time.monotonic()
            while not flooder.done() and time.monotonic() - still_since < 2.0:
                if sent != last:
                    last, still_since = sent, time.monotonic()
                for connection in server.connections:
                    biggest = max(biggest, connection.buffered_amount)
                await asyncio.sleep(0.05)
            stalled = not flooder.done()
            flooder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flooder
            grown = rss() - base
            print(
                f"\n  ping flood: {sent / 1e6:.1f} MB sent before the stall, server buffer max {biggest} B,"
                f" RSS growth {grown / 1e6:.1f} MB"
            )
            assert stalled, f"the server read all {sent} bytes of pings"
            # Bound: the high-water mark, plus the pongs answering what arrived while
            # paused (the server stops reading once they pass write_limit), plus one
            # read of asyncio's transport (256 KiB of pings at most).
            assert biggest <= 2 * write_limit + 256 * 1024 + 1024, biggest
            assert grown < 30e6, grown
            await good.still_echoing()
            sock.close()
            await wait_until(lambda: others(server) == 0, message="flooder dropped")

    run(main())


def test_tiny_frame_flood_does_not_starve_others() -> None:
    """Megabytes of 1-byte frames, read back as fast as they echo: others stay served."""

    async def main() -> None:
        async with serve() as (server, port, _), GoodClient(port) as good:
            loop = asyncio.get_running_loop()
            sock = await upgrade(port)
            batch = frame(0x82, b"x") * 40_000  # 280 KB: 40,000 frames per write
            echoed = 0

            async def reader() -> None:
                nonlocal echoed
                with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                    while True:
                        chunk = await loop.sock_recv(sock, 1 << 20)
                        if not chunk:
                            return
                        echoed += len(chunk)

            reading = asyncio.create_task(reader())
            before = len(good.latencies)
            started = time.monotonic()
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                for _ in range(25):  # 1,000,000 frames at most, 10 s at most
                    await asyncio.wait_for(loop.sock_sendall(sock, batch), 30)
                    if time.monotonic() - started > 10:
                        break
            took = time.monotonic() - started
            during = sorted(good.latencies[before:])
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
            sock.close()
            p99 = during[min(len(during) - 1, len(during) * 99 // 100)] if during else float("inf")
            print(
                f"\n  tiny frames: {echoed // 3:,} echoed in {took:.1f} s;"
                f" good client {len(during)} echoes meanwhile, p99 {p99 * 1000:.0f} ms, max {during[-1] * 1000:.0f} ms"
            )
            # The flooder's connection parses at most a queue of frames per turn of the
            # event loop (the rest of a read waits), so the good client keeps its turns:
            # without that bound, one read of 40,000 frames held the loop for seconds.
            assert len(during) >= 5, during
            assert p99 < 1.0, during[-10:]
            await good.still_echoing()
            await wait_until(lambda: others(server) == 0, message="flooder dropped")

    run(main())


def test_client_that_never_reads_while_the_server_sends() -> None:
    """send() blocks once the write buffer is full; the server's memory stays bounded."""

    async def main() -> None:
        write_limit = 65536
        async with serve(write_limit=write_limit) as (server, port, state), GoodClient(port) as good:
            base = rss()
            sock = await upgrade(port, rcvbuf=4096, path="/firehose")
            last, still_since = -1, time.monotonic()
            biggest = 0
            deadline = time.monotonic() + 60
            while time.monotonic() - still_since < 2.0:
                assert time.monotonic() < deadline, f"send() never blocked: {state['sent']} messages"
                if state["sent"] != last:
                    last, still_since = state["sent"], time.monotonic()
                for connection in server.connections:
                    biggest = max(biggest, connection.buffered_amount)
                await asyncio.sleep(0.05)
            grown = rss() - base
            print(
                f"\n  firehose: send() blocked after {state['sent']} x 64 KiB, buffer max {biggest} B,"
                f" RSS growth {grown / 1e6:.1f} MB"
            )
            # Kernel socket buffers on loopback take a few MB; the rest must wait.
            assert state["sent"] * 65536 < 32e6, state["sent"]
            assert biggest <= write_limit + 2 * 65536 + 1024, biggest
            assert grown < 30e6, grown
            await good.still_echoing()
            sock.close()
            await wait_until(lambda: others(server) == 0, message="firehose dropped")

    run(main())


def test_peers_that_vanish_are_dropped_by_keepalive() -> None:
    """20 peers go silent (no pong, no data, no close): keepalive drops every one."""

    async def main() -> None:
        async with serve(keepalive_interval=0.5, keepalive_grace=0.5) as (server, port, _), GoodClient(port) as good:
            socks = [await upgrade(port) for _ in range(20)]
            await wait_until(lambda: len(server.connections) == 21, message="21 connections")
            started = time.monotonic()
            await wait_until(lambda: others(server) == 0, timeout=60, message="silent peers dropped")
            print(f"\n  20 silent peers dropped in {time.monotonic() - started:.1f} s")
            assert len(server.connections) == 1
            await good.still_echoing()
            for sock in socks:
                sock.close()

    run(main())


def test_half_closed_tcp() -> None:
    """A client shuts down its write side: the server answers what it got, then closes."""

    async def main() -> None:
        async with serve() as (server, port, _), GoodClient(port) as good:
            loop = asyncio.get_running_loop()
            # After the handshake, with a message in flight.
            for _ in range(10):
                sock = await upgrade(port)
                await loop.sock_sendall(sock, frame(0x81, b"last words"))
                sock.shutdown(socket.SHUT_WR)
                data = await read_to_eof(sock, 30)
                sock.close()
                assert data.startswith(b"\x81\x0alast words"), data[:40]
            # During the handshake.
            for _ in range(10):
                sock = await raw_connect(port)
                await loop.sock_sendall(sock, request()[:20])
                sock.shutdown(socket.SHUT_WR)
                data = await read_to_eof(sock, 30)
                sock.close()
                assert status_of(data) in (400, None), data[:40]
            await wait_until(lambda: others(server) == 0, message="half-closed connections dropped")
            await good.still_echoing()

    run(main())


def test_endless_empty_continuation_frames() -> None:
    """A message that never ends, made of empty frames: memory must stay bounded."""

    async def main() -> None:
        async with serve() as (_, port, _), GoodClient(port) as good:
            loop = asyncio.get_running_loop()
            sock = await upgrade(port)
            await loop.sock_sendall(sock, frame(0x02, b""))  # a binary message starts, not final
            empty = bytes((0x00, 0x80)) + MASK  # an empty, masked, non-final continuation frame
            batch = empty * 100_000  # 600 kB
            base = rss()
            for _ in range(40):  # 24 MB, 4 million frames
                await loop.sock_sendall(sock, batch)
            # The pong proves that the server has read everything before the ping; the
            # message is still open, so whatever it holds is still allocated.
            await loop.sock_sendall(sock, frame(0x89, b"sync"))
            data = await recv_until(sock, b"\x8a\x04sync", timeout=90)
            grown = rss() - base
            print(f"\n  4 million empty frames: RSS growth {grown / 1e6:.1f} MB")
            await loop.sock_sendall(sock, bytes((0x80, 0x80)) + MASK)
            data = await recv_until(sock, b"\x82\x00", timeout=90)
            assert data.endswith(b"\x82\x00"), data[-20:]
            await good.still_echoing()
            sock.close()
            assert grown < 10e6, f"memory grew by {grown / 1e6:.1f} MB for an empty message"

    run(main())
