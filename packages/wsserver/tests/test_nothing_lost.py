"""Nothing lost under load: many concurrent connections, every message accounted for.

Two shapes of traffic against an in-process WebSocketServer on 127.0.0.1, with wsclient
clients:

* echo: 50 clients send messages of random types and sizes while they receive the
  echoes (sending and receiving run at once, so queues and flow control work); every
  echo must come back whole and in order, with and without permessage-deflate, and with
  small fragmentation thresholds on either side;
* stream: the server sends numbered messages as fast as flow control lets it, while
  each client ends the connection at a random point (normal close, abort), or the server
  closes after a random count. Every message whose `send()` returned on an open
  connection arrives, in order, without gaps, unless the connection ended with an error
  that both sides report (1006 on both ends after an abort).

Then three sharper cases of the same promises: a streaming handler whose client resets
the connection must get ConnectionClosed (not "send" into a dead transport), and the
messages dropped after our close frame (beyond a full queue, as documented) are only
ever the last ones, never a hole followed by later messages.

Counts and sizes are bounded; every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import os
import random
import socket
import struct
from dataclasses import dataclass, field
from typing import Any

import pytest

import wsclient
import wsserver

#: Concurrent clients per test.
CLIENTS = 50
#: Messages each echo client sends.
ECHO_MESSAGES = 20
#: Largest echo message, bytes (or characters).
MAX_ECHO_SIZE = 96 * 1024
#: The server never sends more than this many messages on one stream connection (the
#: socket buffers of a loopback connection can hold megabytes: a client that closes
#: after 250 messages may still have a thousand to read; the bound keeps the test short).
MAX_STREAM = 1_000
#: Seconds any wait on the network may take before the test fails.
DEADLINE = 20.0
#: Stream clients end after at most this many messages (or the server closes then).
STREAM_STOP = 250
#: A slow stream reader sleeps after each of its first messages, this many.
SLOW_MESSAGES = 300

WORDS = ["wskit", "é", "Ω", "€", "日本", "😀", " ", "\n", "0123456789"]
TEXT_POOL = "".join(random.Random(1).choice(WORDS) for _ in range(2 * MAX_ECHO_SIZE))[: 2 * MAX_ECHO_SIZE]
BYTES_POOL = os.urandom(MAX_ECHO_SIZE) + b"compressible " * (MAX_ECHO_SIZE // 13 + 1)


def random_message(rng: random.Random) -> str | bytes:
    """Text or binary, log-uniform size from 1 to MAX_ECHO_SIZE (mostly small, some large)."""
    size = min(MAX_ECHO_SIZE, int(math.exp(rng.uniform(0.0, math.log(MAX_ECHO_SIZE)))))
    if rng.random() < 0.5:
        start = rng.randrange(len(TEXT_POOL) - size)
        return TEXT_POOL[start : start + size]
    start = rng.randrange(len(BYTES_POOL) - size)
    return BYTES_POOL[start : start + size]


@dataclass
class ServerSide:
    """What the server saw on one connection (keyed by the client's `id` query parameter)."""

    received: int = 0
    echoed: int = 0
    #: Sends that returned (the message was handed over on an open connection).
    sent: int = 0
    #: Sends started: `sent`, plus one if the last send raised after handing over its frames.
    attempted: int = 0
    close_code: int | None = None
    close_reason: str | None = None
    error: str | None = None


@dataclass
class Record:
    connections: dict[str, ServerSide] = field(default_factory=dict)


def make_handler(record: Record) -> Any:
    async def handler(request: wsserver.WebSocketRequest) -> None:
        query = request.query
        ident = query["id"][0]
        side = record.connections[ident] = ServerSide()
        connection = request.accept()
        try:
            if request.path == "/echo":
                async for message in connection:
                    side.received += 1
                    await connection.send(message)
                    side.echoed += 1
            else:
                await stream(connection, side, query)
        except wsserver.ConnectionClosed:
            pass
        except Exception as exc:  # recorded, asserted by the test
            side.error = repr(exc)
            side.close_code = -1
            raise
        # The close code is known once the transport is gone (at most close_timeout).
        await asyncio.wait_for(connection.wait_closed(), DEADLINE)
        side.close_code = connection.close_code
        side.close_reason = connection.close_reason

    return handler


def numbered(seq: int, rng: random.Random, binary: bool) -> str | bytes:
    """Message `seq`: its number and its own length, then filler (to detect truncation)."""
    size = rng.randrange(0, 1024) if rng.random() < 0.9 else rng.randrange(1024, 16_000)
    if binary:
        return struct.pack("!II", seq, size) + BYTES_POOL[:size]
    return f"{seq:08d}:{size:06d}:" + TEXT_POOL[:size]


def parse_numbered(message: str | bytes) -> int:
    """The number of a message made by `numbered`; AssertionError if it was damaged."""
    if isinstance(message, bytes):
        seq, size = struct.unpack("!II", message[:8])
        assert message[8:] == BYTES_POOL[:size], f"binary message {seq} damaged"
        return int(seq)
    head, size_text, filler = message.split(":", 2)
    assert filler == TEXT_POOL[: int(size_text)], f"text message {head} damaged"
    return int(head)


async def stream(connection: wsserver.ServerConnection, side: ServerSide, query: dict[str, list[str]]) -> None:
    rng = random.Random(query["id"][0])
    binary = query.get("binary") == ["1"]
    close_after = int(query["close_after"][0]) if "close_after" in query else None
    for seq in range(MAX_STREAM):
        if close_after is not None and seq == close_after:
            await connection.close()
            return
        message = numbered(seq, rng, binary)
        side.attempted += 1
        await connection.send(message)
        side.sent += 1
        # send() returns without yielding while the kernel takes the data, and loopback
        # sockets take megabytes: without this, 50 streams hold the event loop for
        # seconds and closing handshakes time out (a fairness matter, not a lost message).
        await asyncio.sleep(0)


# --------------------------------------------------------------------------- echo


async def echo_client(port: int, ident: str, rng: random.Random, **settings: Any) -> list[str]:
    """Send ECHO_MESSAGES while receiving their echoes; return the problems found."""
    problems: list[str] = []
    messages = [random_message(rng) for _ in range(ECHO_MESSAGES)]
    async with wsclient.connect(f"ws://127.0.0.1:{port}/echo?id={ident}", proxy=None, **settings) as ws:

        async def send_all() -> None:
            for message in messages:
                await ws.send(message)

        sender = asyncio.create_task(send_all())
        for index, message in enumerate(messages):
            echoed = await asyncio.wait_for(ws.recv(), DEADLINE)
            if type(echoed) is not type(message) or echoed != message:
                problems.append(
                    f"{ident}: echo {index} differs: sent {type(message).__name__} of {len(message)}, "
                    f"got {type(echoed).__name__} of {len(echoed)}"
                )
        await asyncio.wait_for(sender, DEADLINE)
    if ws.close_code != 1000:
        problems.append(f"{ident}: client close code {ws.close_code}")
    return problems


@pytest.mark.parametrize(
    ("deflate", "server_threshold"),
    [(False, None), (True, None), (False, 700), (True, 700)],
    ids=["plain", "deflate", "plain-fragmented", "deflate-fragmented"],
)
async def test_echo_nothing_lost(tools: Any, deflate: bool, server_threshold: int | None) -> None:
    record = Record()
    server_settings: dict[str, Any] = {"permessage_deflate": deflate}
    if server_threshold is not None:
        server_settings["fragmentation_threshold"] = server_threshold
    async with tools.serve(make_handler(record), **server_settings) as (server, port):
        rng = random.Random(f"echo-{deflate}-{server_threshold}")
        clients = []
        for index in range(CLIENTS):
            settings: dict[str, Any] = {"permessage_deflate": deflate}
            if index % 3 == 0:  # a third of the clients fragment what they send, finely
                settings["fragmentation_threshold"] = rng.choice([16, 125, 300, 4096])
            clients.append(echo_client(port, f"e{index}", random.Random(rng.random()), **settings))
        results = await asyncio.wait_for(asyncio.gather(*clients), DEADLINE)
        await tools.wait_until(lambda: all(s.close_code is not None for s in record.connections.values()))
        assert not server.connections
    assert [problem for problems in results for problem in problems] == []
    assert len(record.connections) == CLIENTS
    for ident, side in record.connections.items():
        assert (side.received, side.echoed, side.close_code, side.error) == (
            ECHO_MESSAGES,
            ECHO_MESSAGES,
            1000,
            None,
        ), ident


# ------------------------------------------------------------------------- stream


@dataclass
class ClientSide:
    received: list[int] = field(default_factory=list)
    close_code: int | None = None
    ending: str = ""


async def stream_client(port: int, ident: str, ending: str, rng: random.Random, **settings: Any) -> ClientSide:
    """Read the numbered stream; end it as `ending` says after a random number of messages."""
    side = ClientSide(ending=ending)
    binary = rng.random() < 0.5
    query = f"id={ident}&binary={int(binary)}"
    if ending == "server_close":
        query += f"&close_after={rng.randrange(0, STREAM_STOP)}"
    ws = await wsclient.connect(f"ws://127.0.0.1:{port}/stream?{query}", proxy=None, **settings)
    stop_after = rng.randrange(0, STREAM_STOP)
    # A slow reader lets its queue fill up before and after its close frame (bounded: the
    # first SLOW_MESSAGES messages are slow, then it reads at full speed).
    slow = SLOW_MESSAGES if ending == "close_slow_reader" else 0
    reached = asyncio.Event()

    async def read() -> None:
        try:
            while True:
                message = await asyncio.wait_for(ws.recv(), DEADLINE)
                side.received.append(parse_numbered(message))
                if len(side.received) >= stop_after:
                    reached.set()
                if len(side.received) < slow:
                    await asyncio.sleep(0.001)
        except wsclient.ConnectionClosed:
            reached.set()

    reader = asyncio.create_task(read())
    if ending == "server_close":
        await asyncio.wait_for(reader, DEADLINE)
    else:
        await asyncio.wait_for(reached.wait(), DEADLINE)
        if ending == "abort":
            ws.abort()
        else:  # close, close_slow_reader: the reader goes on draining during the closing handshake
            await asyncio.wait_for(ws.close(), DEADLINE)
        await asyncio.wait_for(reader, DEADLINE)
    await asyncio.wait_for(ws.wait_closed(), DEADLINE)
    side.close_code = ws.close_code
    return side


#: How the stream clients end, and the client settings each uses. `close` keeps a large
#: receive queue: nothing may be dropped then. `close_slow_reader` keeps the default
#: queue (16) and reads slowly: what arrives after our close frame beyond the queue may
#: be dropped (documented), but only at the end, never leaving a gap.
STREAM_ENDINGS: dict[str, dict[str, Any]] = {
    "close": {"max_queue": MAX_STREAM + 10},
    "close_slow_reader": {},
    "abort": {},
    "server_close": {},
}


@pytest.mark.parametrize(("deflate", "threshold"), [(False, None), (True, 500)], ids=["plain", "deflate-fragmented"])
async def test_stream_nothing_lost_when_connections_end_at_random(
    tools: Any, deflate: bool, threshold: int | None
) -> None:
    record = Record()
    # Closing handshakes are checked by their codes, not their speed: on a loaded machine
    # (asyncio debug mode, 2 shared cores) 50 busy connections in one process may take
    # longer than the 5 s default close_timeout, which would then read 1006.
    server_settings: dict[str, Any] = {"permessage_deflate": deflate, "close_timeout": DEADLINE}
    if threshold is not None:
        server_settings["fragmentation_threshold"] = threshold
    async with tools.serve(make_handler(record), **server_settings) as (server, port):
        rng = random.Random(f"stream-{deflate}")
        endings = [list(STREAM_ENDINGS)[index % len(STREAM_ENDINGS)] for index in range(CLIENTS)]
        clients = [
            stream_client(
                port,
                f"s{index}",
                ending,
                random.Random(rng.random()),
                permessage_deflate=deflate,
                close_timeout=DEADLINE,
                **STREAM_ENDINGS[ending],
            )
            for index, ending in enumerate(endings)
        ]
        results = await asyncio.wait_for(asyncio.gather(*clients), DEADLINE)
        await tools.wait_until(lambda: all(s.close_code is not None for s in record.connections.values()))
        assert not server.connections

    assert len(record.connections) == CLIENTS
    problems = []
    for index, client in enumerate(results):
        ident = f"s{index}"
        server_side = record.connections[ident]
        received = client.received
        where = (
            f"{ident} ({client.ending}, client {client.close_code}, "
            f"server {server_side.close_code} {server_side.close_reason!r})"
        )
        if server_side.error is not None:
            problems.append(f"{where}: server error {server_side.error}")
        # In order, no gap, no duplicate: always.
        if received != list(range(len(received))):
            gaps = [(a, b) for a, b in itertools.pairwise(received) if b != a + 1]
            problems.append(f"{where}: {len(received)} received, not 0..n-1: first jumps {gaps[:3]}")
        if len(received) > server_side.attempted:
            problems.append(f"{where}: received {len(received)} > sent {server_side.attempted}")
        if client.ending == "abort":
            # An error both sides report: messages in flight may be lost, nothing else.
            if (client.close_code, server_side.close_code) != (1006, 1006):
                problems.append(f"{where}: an abort must read 1006 on both sides")
        else:
            if (client.close_code, server_side.close_code) != (1000, 1000):
                problems.append(f"{where}: a clean close must read 1000 on both sides")
            # Everything whose send() returned on the open connection arrived (perhaps
            # also the message whose send() raised after handing over its frames).
            if client.ending != "close_slow_reader" and len(received) < server_side.sent:
                problems.append(f"{where}: {server_side.sent} sends returned, {len(received)} received")
        if client.ending == "server_close" and server_side.sent != server_side.attempted:
            problems.append(f"{where}: a send failed before the server closed")
    assert problems == [], "\n".join(problems)


# --------------------------------------------------------- a peer that resets


async def test_streaming_send_raises_soon_after_the_peer_resets(tools: Any) -> None:
    """`while True: await connection.send(...)` must end with ConnectionClosed once the
    client resets the connection, not go on "sending" into a dead transport.

    The client is a blocking socket in a thread (as a client in another process would
    be): it completes the handshake, reads a random amount, then closes with SO_LINGER
    0, which sends a reset at once. The handler may send at most `bound` messages of
    16 KiB (320 MiB: far more than socket buffers and `write_limit` absorb), so a loop
    that stops because of the bound never learnt that its peer was gone; and after the
    reset, its sends must fail within a few messages.
    """
    bound = 20_000
    payload = b"\x5a" * 16 * 1024
    sent = [0]
    outcomes: list[tuple[int, str]] = []

    async def handler(request: wsserver.WebSocketRequest) -> None:
        connection = request.accept()
        sent[0] = 0
        try:
            while sent[0] < bound:
                await connection.send(payload)
                sent[0] += 1
        except wsserver.ConnectionClosed as exc:
            outcomes.append((sent[0], f"ConnectionClosed {exc.code}"))
            raise
        outcomes.append((sent[0], "bound reached"))

    def reset_after(port: int, nbytes: int) -> int:
        """Handshake, read `nbytes` of frames, reset; return the server's sends at the reset."""
        with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as sock:
            sock.sendall(tools.request())
            data = b""
            while len(data) < nbytes:
                chunk = sock.recv(65536)
                assert chunk, "server closed early"
                data += chunk
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return sent[0]

    asyncio_logger = logging.getLogger("asyncio")
    level = asyncio_logger.level
    # asyncio warns on every write to a lost transport ("socket.send() raised exception").
    asyncio_logger.setLevel(logging.ERROR)
    late: list[int] = []
    try:
        async with tools.serve(handler) as (_server, port):
            rng = random.Random(9)
            for trial in range(1, 6):
                at_reset = await asyncio.to_thread(reset_after, port, rng.randrange(100_000, 4_000_000))
                await tools.wait_until(lambda trial=trial: len(outcomes) >= trial, timeout=DEADLINE)
                late.append(outcomes[-1][0] - at_reset)
    finally:
        asyncio_logger.setLevel(level)
    assert [why for _, why in outcomes] == ["ConnectionClosed 1006"] * 5, outcomes
    # Sends that returned after the reset: what the write buffer took before the error.
    assert max(late) <= 2 * 64 * 1024 // len(payload) + 2, late


async def test_closing_with_a_full_queue_drops_only_the_tail(tools: Any) -> None:
    """After our close frame, messages beyond a full queue may be dropped, but only at the
    end: the application never sees message n followed by message n + k (k > 1).

    The client lets 2 MB wait in its socket, then closes while reading slowly everything
    that still comes: the reads that follow its close frame arrive over several turns of
    the event loop, some while the queue is full and some after the application took
    messages from it.
    """
    count = 1_000
    done_sending = asyncio.Event()

    async def handler(request: wsserver.WebSocketRequest) -> None:
        connection = request.accept()
        for seq in range(count):
            await connection.send(f"{seq:08d}:{2048:06d}:" + TEXT_POOL[:2048])
        done_sending.set()
        async for _ in connection:
            pass

    async with tools.serve(handler) as (_server, port):
        ws = await wsclient.connect(f"ws://127.0.0.1:{port}/", proxy=None)
        await asyncio.wait_for(done_sending.wait(), DEADLINE)
        closing = asyncio.create_task(ws.close())
        received: list[int] = []
        with contextlib.suppress(wsclient.ConnectionClosedOK):
            while len(received) <= count:
                received.append(parse_numbered(await asyncio.wait_for(ws.recv(), DEADLINE)))
                await asyncio.sleep(0)  # one message per turn of the event loop, one read per turn
        await asyncio.wait_for(closing, DEADLINE)
    assert ws.close_code == 1000
    assert len(received) >= 16
    jumps = [(a, b) for a, b in itertools.pairwise(received) if b != a + 1]
    assert jumps == [], f"{len(received)} received; jumps {jumps[:5]}"


async def test_after_our_close_a_full_queue_never_leaves_a_gap(tools: Any) -> None:
    """The same rule, step by step, with a raw client: the server's handler closes with
    16 messages waiting (a full queue); a first batch that arrives then is dropped; the
    handler takes the 16; a second batch arrives. Delivering the second batch after
    dropping the first would hand the handler messages 0-15 then 26-30: a hole that no
    error reports.
    """
    go_close = asyncio.Event()
    go_read = asyncio.Event()
    read_sixteen = asyncio.Event()
    received: list[str] = []

    async def handler(request: wsserver.WebSocketRequest) -> None:
        connection = request.accept()
        await go_close.wait()
        closing = asyncio.create_task(connection.close())
        await go_read.wait()
        for _ in range(16):
            received.append(str(await asyncio.wait_for(connection.recv(), DEADLINE)))
        read_sixteen.set()
        with contextlib.suppress(wsserver.ConnectionClosedOK):
            while len(received) < 100:
                received.append(str(await asyncio.wait_for(connection.recv(), DEADLINE)))
        await closing

    def texts(numbers: range) -> bytes:
        return b"".join(tools.frame(0x1, str(number).encode()) for number in numbers)

    async with tools.serve(handler) as (_server, port):
        reader, writer, _ = await tools.upgrade(port)
        writer.write(texts(range(16)))  # the queue's size (max_queue=16)
        await writer.drain()
        go_close.set()
        code, _reason = await tools.read_close(reader)  # the server closes: CLOSING, queue full
        assert code == 1000
        writer.write(texts(range(16, 26)))  # first batch after the close frame: dropped
        await writer.drain()
        for _ in range(20):  # loopback: the bytes are in the server's socket now; a few
            await asyncio.sleep(0)  # turns of the event loop let the server read them
        go_read.set()
        await asyncio.wait_for(read_sixteen.wait(), DEADLINE)
        writer.write(texts(range(26, 31)) + tools.close_frame(1000))  # second batch, then the answer
        await writer.drain()
        await tools.at_eof(reader)
        writer.close()
    numbers = [int(text) for text in received]
    assert numbers[:16] == list(range(16))
    assert numbers == list(range(len(numbers))), f"received {numbers}"
