"""Load generator of the benchmark: a lean asyncio Protocol WebSocket client.

``python bench/loadgen.py WORKLOAD --port PORT --server-pid PID [options]`` runs one
measurement against an echo server on 127.0.0.1 and prints one JSON object on stdout.
`run.py` starts it pinned to its own core; it can also be run by hand against any
echo server (see ``--help``).

It is written to cost as little CPU per message as possible, so that the server is
the bottleneck: every outgoing frame is built and masked once per workload (the mask
is fixed per process; a server cannot tell), replies are not unmasked nor copied, only
their headers are parsed to count complete messages, and the first reply of every
connection is compared with what was sent. It shares no code with wskit.

Workloads (`WORKLOADS`):

- ``small``, ``medium``, ``large``, ``deflate``: a closed loop, each connection keeps
  one message in flight and sends the next one as soon as the echo is complete. After
  ``--warmup`` seconds the measured window of ``--duration`` seconds starts; messages
  completed inside it, the server's CPU time (user + system, from /proc/PID/stat) and
  the load generator's own CPU time are taken at both ends of the window.
- ``handshake``: ``--connections`` workers, each in a loop: connect, opening
  handshake, one 32-byte echo, closing handshake, wait until the server closes TCP.
- ``idle``, ``idle-deflate``: open ``--connections`` connections (100 at a time),
  one echo on each, then measure the server's VmRSS growth from /proc/PID/status
  against a baseline taken after a warm-up of 100 connections opened and closed.

Every loop is bounded in time, and every phase has a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import hashlib
import json
import os
import random
import resource
import struct
import sys
import time
import zlib
from typing import Any, cast

__all__ = ["WORKLOADS", "Workload", "main"]

HOST = "127.0.0.1"
KEY = base64.b64encode(b"wskit-benchmark!").decode()
ACCEPT = base64.b64encode(hashlib.sha1((KEY + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
DEFLATE_TAIL = b"\x00\x00\xff\xff"
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclasses.dataclass(frozen=True)
class Workload:
    """One workload: what each connection sends and how many connections."""

    name: str
    kind: str  # "loop", "handshake" or "idle"
    connections: int
    size: int
    text: bool = False
    deflate: bool = False
    description: str = ""


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in [
        Workload("small", "loop", 64, 32, text=True, description="64 connections, 32 B text, closed loop"),
        Workload("medium", "loop", 16, 16 * 1024, description="16 connections, 16 KiB binary, closed loop"),
        Workload("large", "loop", 1, 4 * 1024 * 1024, description="1 connection, 4 MiB binary, closed loop"),
        Workload(
            "handshake",
            "handshake",
            16,
            32,
            text=True,
            description="16 concurrent workers: connect, handshake, one 32 B echo, close",
        ),
        Workload("idle", "idle", 2000, 32, text=True, description="2,000 idle connections after one 32 B echo each"),
        Workload(
            "deflate",
            "loop",
            16,
            16 * 1024,
            deflate=True,
            description="permessage-deflate, 16 connections, 16 KiB compressible binary, closed loop",
        ),
        Workload(
            "idle-deflate",
            "idle",
            2000,
            16 * 1024,
            deflate=True,
            description="permessage-deflate, 2,000 idle connections after one 16 KiB echo each",
        ),
    ]
}


# ---------------------------------------------------------------- payloads and frames


def make_payload(size: int, *, text: bool, compressible: bool) -> bytes:
    """A deterministic payload: ASCII text, random bytes, or JSON-like compressible bytes."""
    rng = random.Random(size)
    if text:
        alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789"
        return bytes(rng.choice(alphabet) for _ in range(size))
    if not compressible:
        return rng.randbytes(size)
    # Records of a made-up price feed: compresses about 4:1 with zlib, as JSON does.
    parts: list[bytes] = []
    total = 0
    while total < size:
        record = b'{"id":%d,"symbol":"%s","price":%d.%02d,"size":%d,"side":"%s"},' % (
            rng.randrange(10**6),
            rng.choice([b"ABC", b"XYZW", b"QRS", b"MNOP"]),
            rng.randrange(1000),
            rng.randrange(100),
            rng.randrange(10_000),
            rng.choice([b"buy", b"sell"]),
        )
        parts.append(record)
        total += len(record)
    return b"".join(parts)[:size]


def xor_mask(data: bytes, mask: bytes) -> bytes:
    """Mask `data` with the 4-byte `mask` (RFC 6455 section 5.3) in one big-int XOR."""
    n = len(data)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")


def client_frame(opcode: int, payload: bytes, mask: bytes, *, rsv1: bool = False) -> bytes:
    """A complete masked client frame with FIN set."""
    first = 0x80 | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", first, 0x80 | n)
    elif n < 65536:
        header = struct.pack("!BBH", first, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, n)
    return header + mask + xor_mask(payload, mask)


def handshake_request(port: int, deflate: bool) -> bytes:
    lines = [
        "GET / HTTP/1.1",
        f"Host: {HOST}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {KEY}",
        "Sec-WebSocket-Version: 13",
    ]
    if deflate:
        # The client compresses every message alone, so its frames are built once.
        lines.append("Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Plan:
    """What every connection of one workload sends, built once."""

    def __init__(self, workload: Workload, port: int) -> None:
        self.workload = workload
        self.mask = os.urandom(4)
        self.payload = make_payload(workload.size, text=workload.text, compressible=workload.deflate)
        self.opcode = OP_TEXT if workload.text else OP_BINARY
        self.first_byte = 0x80 | self.opcode  # of an unfragmented, uncompressed echo
        if workload.deflate:
            compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
            body = compressor.compress(self.payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
            assert body.endswith(DEFLATE_TAIL)
            self.frame = client_frame(self.opcode, body[:-4], self.mask, rsv1=True)
        else:
            self.frame = client_frame(self.opcode, self.payload, self.mask)
        self.port = port
        self.request = handshake_request(port, workload.deflate)
        self.close_frame = client_frame(OP_CLOSE, struct.pack("!H", 1000), self.mask)


# ---------------------------------------------------------------- the protocol


class Counters:
    """Shared by all connections of one run (one process, one thread)."""

    def __init__(self) -> None:
        self.messages = 0
        self.running = True
        self.errors: list[str] = []


class EchoClient(asyncio.Protocol):
    """One client connection: handshake, then a closed loop of echoes (or one, or none).

    The frame parser keeps only what it must across reads: the bytes of an incomplete
    header, and how many payload bytes of the current frame are still to come.
    """

    def __init__(self, plan: Plan, counters: Counters, *, loop_messages: bool, close_after: int = 0) -> None:
        self.plan = plan
        self.counters = counters
        self.loop_messages = loop_messages
        self.close_after = close_after  # close after this many echoes (0: never)
        self.transport: asyncio.Transport | None = None
        self.head = b""  # handshake response bytes, then None
        self.handshaking = True
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Done on the first echo, or when the connection is lost before it.
        self.echoed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.echoes = 0
        self.pending = b""  # incomplete frame header
        self.need = 0  # payload bytes of the current frame still to come
        self.fin = False
        self.rsv1 = False
        self.collect = True  # keep the payload of the current message (first one, or deflate)
        self.chunks: list[bytes] = []
        self.deflate = plan.workload.deflate
        self.reset_decompressor = False
        self.decompressor: Any = zlib.decompressobj(-15) if self.deflate else None
        self.close_received = False
        self.closing = False  # our close frame is sent: send nothing more

    # -- asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses: no isinstance check.
        stream = cast(asyncio.Transport, transport)  # a stream transport; no runtime check
        self.transport = stream
        stream.write(self.plan.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"connection lost during the handshake: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)
        if not self.echoed.done():
            self.echoed.set_result(None)
        if self.counters.running and self.loop_messages:
            self.counters.errors.append(f"connection lost while running: {exc}")

    def data_received(self, data: bytes) -> None:
        if self.handshaking:
            data = self.handshake_received(data)
            if not data:
                return
        size = len(data)
        # Fast path: exactly one whole unfragmented small data frame (the small workload).
        if (
            not self.pending
            and not self.need
            and not self.collect
            and size >= 2
            and data[1] == size - 2
            and size < 128
            and data[0] == self.plan.first_byte
        ):
            self.message_received()
            return
        if self.pending:
            data = self.pending + data
            self.pending = b""
            size = len(data)
        pos = 0
        while pos < size:
            need = self.need
            if need:
                take = size - pos
                if take < need:
                    if self.collect:
                        self.chunks.append(data[pos:])
                    self.need = need - take
                    return
                if self.collect:
                    self.chunks.append(data[pos : pos + need])
                pos += need
                self.need = 0
                if self.fin:
                    self.message_received()
                continue
            # A frame header: 2, 4 or 10 bytes; the server never masks.
            start = pos
            if size - pos < 2:
                self.pending = data[pos:]
                return
            first = data[pos]
            length = data[pos + 1]
            if length & 0x80:
                return self.fail("masked frame from the server")
            if length == 126:
                if size - pos < 4:
                    self.pending = data[pos:]
                    return
                length = int.from_bytes(data[pos + 2 : pos + 4], "big")
                pos += 4
            elif length == 127:
                if size - pos < 10:
                    self.pending = data[pos:]
                    return
                length = int.from_bytes(data[pos + 2 : pos + 10], "big")
                pos += 10
            else:
                pos += 2
            opcode = first & 0x0F
            if opcode >= 8:
                if length > 125:
                    return self.fail("oversized control frame")
                if size - pos < length:
                    # Control frames are small: wait for the whole frame.
                    self.pending = data[start:]
                    return
                self.control_received(opcode, data[pos : pos + length])
                pos += length
                continue
            if opcode != OP_CONT:
                self.rsv1 = bool(first & 0x40)
                if opcode != self.plan.opcode:
                    return self.fail(f"echo with opcode {opcode}, sent {self.plan.opcode}")
            self.fin = bool(first & 0x80)
            self.need = length
            if length == 0 and self.fin:
                self.message_received()

    # -- steps

    def handshake_received(self, data: bytes) -> bytes:
        head = self.head + data
        end = head.find(b"\r\n\r\n")
        if end < 0:
            if len(head) > 16384:
                self.fail("handshake response too long")
            self.head = head
            return b""
        self.handshaking = False
        self.head = b""
        response = head[:end].decode("latin-1")
        lines = response.split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            self.fail(f"handshake failed: {lines[0]!r}")
            return b""
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("sec-websocket-accept") != ACCEPT:
            self.fail("wrong Sec-WebSocket-Accept")
            return b""
        extensions = headers.get("sec-websocket-extensions", "")
        if self.deflate:
            if "permessage-deflate" not in extensions:
                self.fail("the server did not accept permessage-deflate")
                return b""
            self.reset_decompressor = "server_no_context_takeover" in extensions
        elif extensions:
            self.fail(f"unexpected extensions: {extensions}")
            return b""
        self.opened.set_result(None)
        return head[end + 4 :]

    def start(self) -> None:
        """Send the first message."""
        if self.transport is not None:
            self.transport.write(self.plan.frame)

    def message_received(self) -> None:
        if self.collect:
            body = b"".join(self.chunks)
            self.chunks = []
            if self.rsv1:
                body = self.decompressor.decompress(body + DEFLATE_TAIL)
                if self.reset_decompressor:
                    self.decompressor = zlib.decompressobj(-15)
            if body != self.plan.payload:
                return self.fail(f"wrong echo: {len(body)} bytes, sent {len(self.plan.payload)}")
            # After the first echo only deflate needs the payload (its decompressor state).
            self.collect = self.deflate
        self.echoes += 1
        if self.echoes == 1:
            self.echoed.set_result(None)
        counters = self.counters
        counters.messages += 1
        if self.transport is None:
            return
        if self.closing:
            return
        if self.close_after and self.echoes >= self.close_after:
            self.close()
        elif self.loop_messages and counters.running:
            self.transport.write(self.plan.frame)

    def control_received(self, opcode: int, payload: bytes) -> None:
        if self.transport is None:
            return
        if opcode == OP_PING:
            self.transport.write(client_frame(OP_PONG, payload, self.plan.mask))
        elif opcode == OP_CLOSE:
            self.close_received = True
            # Reply unless our close frame went first; then wait for the server to close
            # TCP (RFC 6455 section 7.1.1).
            if not self.closing:
                self.closing = True
                self.transport.write(client_frame(OP_CLOSE, payload[:2], self.plan.mask))

    def close(self) -> None:
        """Start the closing handshake (close code 1000)."""
        if self.transport is not None and not self.closing:
            self.closing = True
            self.transport.write(self.plan.close_frame)

    def fail(self, reason: str) -> None:
        self.counters.errors.append(reason)
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(reason))
        if self.transport is not None:
            self.transport.abort()


# ---------------------------------------------------------------- measurements


def server_cpu(pid: int) -> float:
    """User + system CPU seconds of process `pid` and all its threads."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rpartition(b")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def server_rss_kib(pid: int) -> int:
    """Resident set size of process `pid` in KiB."""
    with open(f"/proc/{pid}/status", "rb") as f:
        for line in f:
            if line.startswith(b"VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def machine_busy() -> float:
    """CPU seconds spent so far by all cores (all but idle and iowait), from /proc/stat."""
    with open("/proc/stat", "rb") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLK_TCK


class Snapshot:
    def __init__(self, counters: Counters, pid: int) -> None:
        self.wall = time.perf_counter()
        self.messages = counters.messages
        self.server_cpu = server_cpu(pid)
        self.own_cpu = time.process_time()
        self.machine = machine_busy()


async def open_connection(
    plan: Plan, counters: Counters, timeout: float, *, loop_messages: bool, close_after: int = 0
) -> EchoClient:
    loop = asyncio.get_running_loop()

    def factory() -> EchoClient:
        return EchoClient(plan, counters, loop_messages=loop_messages, close_after=close_after)

    async def connect() -> EchoClient:
        _, protocol = await loop.create_connection(factory, HOST, plan.port)
        await protocol.opened
        return protocol

    return await asyncio.wait_for(connect(), timeout)


def window(start: Snapshot, end: Snapshot, workload: Workload) -> dict[str, Any]:
    elapsed = end.wall - start.wall
    messages = end.messages - start.messages
    cpu = end.server_cpu - start.server_cpu
    own = end.own_cpu - start.own_cpu
    return {
        "messages": messages,
        "elapsed": elapsed,
        "msg_per_s": messages / elapsed,
        "mb_per_s": messages * workload.size / elapsed / 1e6,
        "server_cpu_s": cpu,
        "server_cpu_us_per_msg": cpu / messages * 1e6 if messages else None,
        "server_cpu_pct": 100 * cpu / elapsed,
        "loadgen_cpu_pct": 100 * own / elapsed,
        # CPU used by anything else on the machine during the window (other work skews
        # the figures): in % of one core.
        "other_cpu_pct": 100 * (end.machine - start.machine - cpu - own) / elapsed,
    }


async def run_loop(plan: Plan, pid: int, duration: float, warmup: float) -> dict[str, Any]:
    """Closed loop on `connections` connections; see the module docstring."""
    workload = plan.workload
    counters = Counters()
    clients = await asyncio.gather(
        *(open_connection(plan, counters, 10.0, loop_messages=True) for _ in range(workload.connections))
    )
    for client in clients:
        client.start()
    await asyncio.sleep(warmup)
    start = Snapshot(counters, pid)
    await asyncio.sleep(duration)
    end = Snapshot(counters, pid)
    counters.running = False
    await close_all(clients)
    result = window(start, end, workload)
    result["errors"] = counters.errors[:5]
    return result


async def run_handshakes(plan: Plan, pid: int, duration: float, warmup: float) -> dict[str, Any]:
    """Workers that connect, echo once and close, in a loop until the time is up."""
    workload = plan.workload
    counters = Counters()  # counts echoes; completed handshakes are counted below
    done = Counters()
    deadline = time.perf_counter() + warmup + duration

    async def one() -> None:
        client = await open_connection(plan, counters, 5.0, loop_messages=False, close_after=1)
        client.start()
        try:
            await asyncio.wait_for(asyncio.shield(client.closed), 5.0)
        finally:
            if client.transport is not None:
                client.transport.abort()
        if client.close_received:
            done.messages += 1
        else:
            done.errors.append("no close frame from the server")

    async def worker() -> None:
        while time.perf_counter() < deadline and len(done.errors) < 100:
            try:
                await one()
            except (OSError, asyncio.TimeoutError) as exc:
                done.errors.append(f"{type(exc).__name__}: {exc}")

    workers = [asyncio.ensure_future(worker()) for _ in range(workload.connections)]
    await asyncio.sleep(warmup)
    start = Snapshot(done, pid)
    await asyncio.sleep(duration)
    end = Snapshot(done, pid)
    await asyncio.wait(workers, timeout=10.0)
    result = window(start, end, workload)
    result["errors"] = (counters.errors + done.errors)[:5]
    result["error_count"] = len(counters.errors) + len(done.errors)
    return result


async def run_idle(plan: Plan, pid: int, duration: float, warmup: float) -> dict[str, Any]:
    """Server memory per idle connection; see the module docstring."""
    workload = plan.workload
    counters = Counters()
    semaphore = asyncio.Semaphore(100)

    async def open_one() -> EchoClient | None:
        async with semaphore:
            try:
                client = await open_connection(plan, counters, 10.0, loop_messages=False)
            except (OSError, asyncio.TimeoutError) as exc:
                counters.errors.append(f"{type(exc).__name__}: {exc}")
                return None
            client.start()
            try:
                await asyncio.wait_for(asyncio.shield(client.echoed), 10.0)
            except asyncio.TimeoutError:
                pass
            if not client.echoes:
                counters.errors.append("no echo within 10 s")
                return None
            return client

    async def open_many(count: int, timeout: float) -> list[EchoClient]:
        tasks = [asyncio.ensure_future(open_one()) for _ in range(count)]
        finished, unfinished = await asyncio.wait(tasks, timeout=timeout)
        for task in unfinished:
            task.cancel()
        return [c for t in finished if not t.cancelled() and t.exception() is None and (c := t.result())]

    # Warm-up: code paths and allocator pools used once, then released.
    warm = await open_many(min(100, workload.connections), 30.0)
    await close_all(warm)
    await asyncio.sleep(max(warmup, 0.5))
    rss_before = server_rss_kib(pid)
    cpu_before = server_cpu(pid)
    started = time.perf_counter()
    clients = await open_many(workload.connections, 60.0)
    opening = time.perf_counter() - started
    await asyncio.sleep(min(duration, 1.0))
    rss_after = server_rss_kib(pid)
    cpu_after = server_cpu(pid)
    await close_all(clients, 10.0)
    opened = len(clients)
    return {
        "connections": opened,
        "rss_before_kib": rss_before,
        "rss_after_kib": rss_after,
        "kib_per_conn": (rss_after - rss_before) / opened if opened else None,
        "opening_s": opening,
        "server_cpu_us_per_conn": (cpu_after - cpu_before) / opened * 1e6 if opened else None,
        "errors": counters.errors[:5],
        "error_count": len(counters.errors),
    }


async def close_all(clients: list[EchoClient], timeout: float = 5.0) -> None:
    """Closing handshake on every connection; abort those not closed within `timeout`."""
    for client in clients:
        client.close()
    pending = [client.closed for client in clients if not client.closed.done()]
    if pending:
        await asyncio.wait(pending, timeout=timeout)
    for client in clients:
        if client.transport is not None:
            client.transport.abort()


RUNNERS = {"loop": run_loop, "handshake": run_handshakes, "idle": run_idle}


def raise_nofile_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--port", type=int, required=True, help="port of the echo server on 127.0.0.1")
    parser.add_argument("--server-pid", type=int, required=True, help="pid of the server (for /proc)")
    parser.add_argument("--duration", type=float, default=3.0, help="measured window, seconds (default 3)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up before the window, seconds (default 1)")
    parser.add_argument("--connections", type=int, help="override the workload's connection count")
    parser.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto", help="event loop")
    args = parser.parse_args(argv)

    workload = WORKLOADS[args.workload]
    if args.connections:
        workload = dataclasses.replace(workload, connections=args.connections)
    raise_nofile_limit()
    plan = Plan(workload, args.port)
    runner = RUNNERS[workload.kind]

    loop_name = args.loop
    if loop_name == "auto":
        try:
            import uvloop

            loop_name = "uvloop"
        except ImportError:
            loop_name = "asyncio"
    coroutine = runner(plan, args.server_pid, args.duration, args.warmup)
    if loop_name == "uvloop":
        import uvloop

        result = uvloop.run(coroutine)
    else:
        result = asyncio.run(coroutine)
    result["workload"] = workload.name
    result["loadgen_loop"] = loop_name
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
