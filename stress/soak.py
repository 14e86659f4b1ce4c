"""Soak test of wsserver: many connections for a fixed time, then back to baseline.

``python stress/soak.py [--seconds 60] [--clients 300] [--deflate] [--tls 0.5] [--rounds 1]
[--servers wskit,websockets] [--heap-profile]``

Three kinds of process, everything on 127.0.0.1:

* the **server**: an echo server in its own process (this file, ``--role server``),
  listening on a plain and a TLS port (certificate from a throwaway ``trustme`` CA):
  wsserver with the library's defaults (permessage-deflate only with ``--deflate``),
  or, as a peer measured by the same clients, the ``websockets`` library's asyncio
  server with its defaults. It answers one-line commands on its standard input
  (``conns``, ``stats``, ``trim``, ``heap``) with one JSON line on its standard
  output, and counts the close code of every connection it handled.
* the **clients**: ``--client-processes`` processes (this file, ``--role client``)
  sharing ``--clients`` concurrent wsclient connections, a ``--tls`` fraction of them
  over TLS. Each connection sends batches of 1 to 4 random messages (text or binary,
  log-uniform sizes from 1 byte to ``--max-size``), checks every echo (same type, same
  content, same order), then ends in one of the ENDINGS (normal close, close with an
  application code, close asked of the server, abort while idle, abort with echoes in
  flight) and a new one opens, until ``--seconds`` have passed; then every connection
  closes with 1000.
* this **orchestrator** soaks each server of ``--servers`` in turn (wskit, then
  websockets, by default), with the same clients and seeds. It samples the server's
  RSS (``/proc/<pid>/status`` VmRSS), open file descriptors (``/proc/<pid>/fd``) and
  open connections every ``--interval`` seconds: baseline (server started, no
  client), then per round the load and a cool-down (every client process gone), then
  ``gc.collect()`` and glibc's ``malloc_trim(0)`` in the server and a last few samples
  (reported, not checked). With ``--heap-profile`` the server traces its allocations
  (tracemalloc) and reports the largest allocation sites at 75% of each load.

The check of wskit's server (exit status 1 when any part fails; the peer's figures are
reported beside it, and its own failures are not the soak's):

* file descriptors after each cool-down equal the baseline exactly;
* the server holds no connection, no pending request, no connection object (after
  ``gc.collect()``) and as many asyncio tasks as at baseline;
* the server's close codes tell the clients' story (1000 per normal close, 1006 per
  abort, 4000 per close it was asked for, the clients' 4001-4999 codes);
* RSS is at most baseline + ``--rss-tolerance`` MiB (default 16) at the end of the
  last cool-down, as the server left it: nothing asked it to collect or trim
  (``--rss-check trimmed`` checks the figure after ``gc.collect()`` and
  ``malloc_trim(0)`` instead). The server gives freed memory back by itself
  (`WebSocketServer(memory_release_interval=...)`); a leak of even 2 KiB per
  connection exceeds the tolerance after 8,000 connections, and a leak shows as
  growth from round to round (``--rounds 2``);
* the peak RSS per open connection, (peak - baseline) / open connections at the peak,
  is at most ``--max-rss-per-connection`` MiB (default 1), and no more than the
  websockets server's when both ran;
* no echo mismatched, and no connection failed that the client did not end itself.

Writes ``reports/soak/soak-deflate-{on,off}.json`` (wskit) and
``soak-websockets-deflate-{on,off}.json`` (samples, phases, totals, errors, server
figures, heap profiles, verdict) and each server's log next to it; when matplotlib is
importable, also ``reports/soak/soak.png`` from every run found there
(``stress/plot.py`` draws it from another environment otherwise). Every loop is
bounded in time and count; every process is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import math
import os
import platform
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports" / "soak"

#: Seconds the whole client process may overrun --seconds (closing, then a hard stop).
CLIENT_GRACE = 60.0
#: Seconds to wait for one echo before counting a timeout.
ECHO_TIMEOUT = 30.0
#: Text payloads: ASCII, two-, three- and four-byte UTF-8 sequences.
WORDS = ["wskit", "soak", "echo", "frame", "é", "Ω", "€", "日本", "😀", "\u2028", " ", "\n", "{}", "0123456789"]
#: A message the soak server answers by closing with this code (a server-initiated close).
CLOSE_REQUEST = "\x00please close"
SERVER_CLOSE_CODE = 4000


# =========================================================================== server


def run_server(args: argparse.Namespace) -> int:
    """The echo server process: a plain and a TLS listener, commands on stdin."""
    return asyncio.run(_server_main(args))


async def _server_main(args: argparse.Namespace) -> int:
    import gc
    import logging
    import ssl

    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The server's own lines (listening, memory given back to the system) in the log.
    logging.getLogger("wsserver.server").setLevel(logging.DEBUG)
    if args.heap_profile:
        import tracemalloc

        tracemalloc.start(HEAP_FRAMES)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.certfile, args.keyfile)

    counters: collections.Counter[str] = collections.Counter()
    first_types: collections.Counter[str] = collections.Counter()
    malloc_trim = _malloc_trimmer()
    server = ECHO_SERVERS[args.server](args, counters)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    stdin = sys.stdin.fileno()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    def measure(full: bool) -> dict[str, Any]:
        report: dict[str, Any] = {
            "open_connections": server.open_connections(),
            "pending_requests": server.pending_requests(),
            "tasks": len(asyncio.all_tasks()),
            "allocated_blocks": sys.getallocatedblocks(),
            "counters": dict(counters),
        }
        if full:
            connection_type = server.connection_type()
            # Connection objects not yet collected: freed by reference counting, there
            # are none; caught in reference cycles, they wait for the cycle collector.
            objects = gc.get_objects()
            report["connection_objects_before_gc"] = sum(issubclass(type(o), connection_type) for o in objects)
            del objects
            report["gc_collected"] = gc.collect()
            objects = gc.get_objects()
            report["gc_objects"] = len(objects)
            report["live_connection_objects"] = sum(issubclass(type(o), connection_type) for o in objects)
            types = collections.Counter(type(o).__qualname__ for o in objects)
            del objects
            # Which kinds of object grew since the first full measure (the baseline)?
            if not first_types:
                first_types.update(types)
            types.subtract(first_types)
            report["gc_type_growth"] = {name: count for name, count in types.most_common(15) if count > 0}
        return report

    pending = bytearray()

    def on_stdin() -> None:
        # Raw reads (no buffered TextIO that could swallow a second line unseen).
        data = os.read(stdin, 4096)
        if not data:  # the orchestrator went away
            loop.remove_reader(stdin)
            stop.set()
            return
        pending.extend(data)
        while b"\n" in pending:
            line, _, rest = bytes(pending).partition(b"\n")
            pending[:] = rest
            on_command(line.decode())

    def on_command(line: str) -> None:
        command, _, ident = line.strip().partition(" ")
        answer: dict[str, Any] = {"id": ident, "command": command}
        if command == "conns":
            answer.update(measure(full=False))
        elif command == "stats":
            answer.update(measure(full=True))
        elif command == "trim":
            gc.collect()
            answer["malloc_trim"] = malloc_trim()
            answer.update(measure(full=False))
        elif command == "heap":
            answer.update(_heap_profile())
            answer.update(measure(full=False))
            # Objects alive now (no collection): TLS protocols outlive the WebSocket
            # connections that are open while handshakes and closings are under way.
            import asyncio.sslproto

            connection_type = server.connection_type()
            objects = gc.get_objects()
            answer["alive_tls_protocols"] = sum(type(o) is asyncio.sslproto.SSLProtocol for o in objects)
            answer["alive_connection_objects"] = sum(issubclass(type(o), connection_type) for o in objects)
            del objects
        else:
            answer["error"] = f"unknown command {command!r}"
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()

    try:
        plain = await server.listen(None)
        secure = await server.listen(context)
        loop.add_reader(stdin, on_stdin)
        sys.stdout.write(json.dumps({"plain": plain, "tls": secure, "pid": os.getpid()}) + "\n")
        sys.stdout.flush()
        await stop.wait()
    finally:
        loop.remove_reader(stdin)
        await server.shutdown()
    return 0


#: Frames kept per allocation by --heap-profile (more frames cost the server more CPU).
HEAP_FRAMES = 12


def _heap_profile() -> dict[str, Any]:
    """tracemalloc's view of the heap now: the total and the largest allocation sites."""
    import tracemalloc

    if not tracemalloc.is_tracing():
        return {"error": "tracemalloc is off: start the soak with --heap-profile"}
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>")]
    )

    def where(frame: tracemalloc.Frame) -> str:
        name = frame.filename
        for marker in ("/site-packages/", "/lib/python3", "/packages/", "/stress/"):
            if marker in name:
                name = name[name.index(marker) + len(marker) :]
                break
        return f"{name}:{frame.lineno}"

    total = sum(stat.size for stat in snapshot.statistics("filename"))
    sites = []
    for stat in snapshot.statistics("traceback")[:15]:
        # Innermost frame first; a few callers tell whose buffer it is.
        frames = [where(frame) for frame in reversed(stat.traceback)][:5]
        sites.append({"kib": round(stat.size / 1024, 1), "blocks": stat.count, "frames": frames})
    return {"heap_traced_mib": round(total / (1024 * 1024), 2), "heap_top": sites}


class _EchoServer:
    """What the soak needs of an echo server: listen, count, shut down."""

    def __init__(self, args: argparse.Namespace, counters: collections.Counter[str]) -> None:
        self.args = args
        self.counters = counters

    async def listen(self, context: Any) -> int:
        """Listen on 127.0.0.1 (TLS with `context`); return the port."""
        raise NotImplementedError

    def open_connections(self) -> int:
        raise NotImplementedError

    def pending_requests(self) -> int:
        return 0

    def connection_type(self) -> type:
        raise NotImplementedError

    async def shutdown(self) -> None:
        raise NotImplementedError

    def count_close(self, code: int | None) -> None:
        self.counters[f"close_code_{'4001-4999' if code is not None and 4001 <= code <= 4999 else code}"] += 1


class _WskitEchoServer(_EchoServer):
    """wsserver with the library's defaults (permessage-deflate with --deflate)."""

    def __init__(self, args: argparse.Namespace, counters: collections.Counter[str]) -> None:
        super().__init__(args, counters)
        import wsserver

        self.module = wsserver
        self.server = wsserver.WebSocketServer(self.echo, permessage_deflate=args.deflate)

    async def echo(self, request: Any) -> None:
        counters = self.counters
        connection = request.accept()
        counters["accepted"] += 1
        counters["accepted_tls" if connection.secure else "accepted_plain"] += 1
        try:
            async for message in connection:
                if message == CLOSE_REQUEST:
                    await connection.close(SERVER_CLOSE_CODE, "asked")
                    break
                await connection.send(message)
                counters["echoed"] += 1
        except self.module.ConnectionClosed:
            pass
        # The close code is known once the transport is gone (bounded by close_timeout).
        try:
            await asyncio.wait_for(connection.wait_closed(), 30)
        except TimeoutError:
            counters["not_closed_after_30s"] += 1
        self.count_close(connection.close_code)

    async def listen(self, context: Any) -> int:
        sockets = await self.server.listen("127.0.0.1", 0, ssl=context)
        return int(sockets[0][1])

    def open_connections(self) -> int:
        return len(self.server.connections)

    def pending_requests(self) -> int:
        return len(self.server.pending_requests)

    def connection_type(self) -> type:
        from wsframe.asyncio import WebSocketConnection

        return WebSocketConnection

    async def shutdown(self) -> None:
        await self.server.shutdown(timeout=5)


class _WebsocketsEchoServer(_EchoServer):
    """The websockets library's asyncio server, its defaults but compression (as --deflate says)."""

    def __init__(self, args: argparse.Namespace, counters: collections.Counter[str]) -> None:
        super().__init__(args, counters)
        self.servers: list[Any] = []

    async def echo(self, connection: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        counters = self.counters
        counters["accepted"] += 1
        tls = connection.transport.get_extra_info("ssl_object") is not None
        counters["accepted_tls" if tls else "accepted_plain"] += 1
        try:
            async for message in connection:
                if message == CLOSE_REQUEST:
                    await connection.close(SERVER_CLOSE_CODE, "asked")
                    break
                await connection.send(message)
                counters["echoed"] += 1
        except ConnectionClosed:
            pass
        try:
            await asyncio.wait_for(connection.wait_closed(), 30)
        except TimeoutError:
            counters["not_closed_after_30s"] += 1
        self.count_close(connection.close_code)

    async def listen(self, context: Any) -> int:
        from websockets.asyncio.server import serve

        server = await serve(
            self.echo, "127.0.0.1", 0, ssl=context, compression="deflate" if self.args.deflate else None
        )
        self.servers.append(server)
        return int(next(iter(server.sockets)).getsockname()[1])

    def open_connections(self) -> int:
        return sum(len(server.connections) for server in self.servers)

    def connection_type(self) -> type:
        from websockets.asyncio.connection import Connection

        return Connection

    async def shutdown(self) -> None:
        for server in self.servers:
            server.close()
        await asyncio.wait_for(asyncio.gather(*(server.wait_closed() for server in self.servers)), 15)


#: The servers the soak can run: wskit, and a peer measured by the same clients.
ECHO_SERVERS: dict[str, type[_EchoServer]] = {"wskit": _WskitEchoServer, "websockets": _WebsocketsEchoServer}


def _malloc_trimmer() -> Callable[[], bool | None]:
    """glibc's malloc_trim(0), which gives free heap pages back to the system (None elsewhere).

    Loaded at start, so that importing ctypes does not count as growth after the baseline.
    """
    import ctypes
    import ctypes.util

    try:
        function = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    return lambda: bool(function(0))


# =========================================================================== clients


class Payloads:
    """Random messages cut from pre-made pools (making random data per message costs more than echoing it)."""

    def __init__(self, max_size: int, seed: int) -> None:
        rng = random.Random(seed)
        self.max_size = max_size
        self.random_bytes = os.urandom(2 * max_size)
        pattern = b"".join(rng.choice(WORDS).encode() for _ in range(2 * max_size // 3))
        self.pattern_bytes = pattern[: 2 * max_size]
        text: list[str] = []
        length = 0
        while length < 2 * max_size:
            word = rng.choice(WORDS)
            text.append(word)
            length += len(word)
        self.text = "".join(text)

    def make(self, rng: random.Random) -> str | bytes:
        size = min(self.max_size, max(1, int(math.exp(rng.uniform(0.0, math.log(self.max_size))))))
        kind = rng.random()
        if kind < 0.4:
            start = rng.randrange(len(self.text) - size)
            return self.text[start : start + size]
        pool = self.random_bytes if kind < 0.7 else self.pattern_bytes
        start = rng.randrange(len(pool) - size)
        return pool[start : start + size]


#: How a connection ends, and the weight of each way.
ENDINGS = {
    "close": 40,  # close(1000), the usual
    "close_app_code": 10,  # close(4xxx, reason)
    "server_close": 10,  # ask the server to close (server-initiated closing handshake)
    "abort_idle": 15,  # drop the TCP connection between batches, no close frame
    "abort_in_flight": 25,  # drop it right after sending a batch, echoes in flight
}


def run_client(args: argparse.Namespace) -> int:
    result = asyncio.run(_client_main(args))
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


async def _client_main(args: argparse.Namespace) -> dict[str, Any]:
    import ssl

    import wsclient

    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=args.cafile)
    payloads = Payloads(args.max_size, args.seed)
    counters: collections.Counter[str] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    mismatches: list[dict[str, Any]] = []
    started = time.monotonic()
    deadline = started + args.seconds

    async def one_connection(rng: random.Random) -> None:
        tls = rng.random() < args.tls
        url = f"wss://127.0.0.1:{args.tls_port}/" if tls else f"ws://127.0.0.1:{args.port}/"
        try:
            ws = await wsclient.connect(
                url,
                ssl=context if tls else None,
                proxy=None,
                permessage_deflate=args.deflate,
                max_message_size=None,
                open_timeout=20,
            )
        except Exception as exc:
            errors[f"connect: {type(exc).__name__}"] += 1
            await asyncio.sleep(0.1)
            return
        counters["connections"] += 1
        counters["connections_tls" if tls else "connections_plain"] += 1
        if args.deflate and not ws.extensions:
            errors["deflate not negotiated"] += 1
        ending = rng.choices(list(ENDINGS), weights=list(ENDINGS.values()))[0]
        batches = rng.randint(1, 20)
        stage = "send"
        try:
            for number in range(batches):
                if time.monotonic() >= deadline:
                    ending = "close"  # the run is over: every connection closes normally
                last = number == batches - 1 or time.monotonic() >= deadline
                messages = [payloads.make(rng) for _ in range(rng.randint(1, 4))]
                stage = "send"
                for message in messages:
                    await ws.send(message)
                    counters["messages_sent"] += 1
                    counters["bytes_sent"] += len(message)
                if last and ending == "abort_in_flight":
                    ws.abort()
                    counters["ended_abort_in_flight"] += 1
                    return
                stage = "recv"
                for message in messages:
                    echoed = await asyncio.wait_for(ws.recv(), ECHO_TIMEOUT)
                    if type(echoed) is type(message) and echoed == message:
                        counters["messages_verified"] += 1
                    else:
                        counters["messages_mismatched"] += 1
                        if len(mismatches) < 20:
                            mismatches.append(
                                {
                                    "sent_type": type(message).__name__,
                                    "sent_len": len(message),
                                    "got_type": type(echoed).__name__,
                                    "got_len": len(echoed),
                                    "tls": tls,
                                }
                            )
                if last:
                    break
            stage = "end"
            if ending == "close":
                await ws.close()
                _expect(errors, "close", ws.close_code, 1000)
            elif ending == "close_app_code":
                code = rng.randint(4001, 4999)
                await ws.close(code, "soak")
                _expect(errors, "close_app_code", ws.close_code, code)
            elif ending == "server_close":
                await ws.send(CLOSE_REQUEST)
                try:
                    message = await asyncio.wait_for(ws.recv(), ECHO_TIMEOUT)
                    errors[f"server_close: got a message {type(message).__name__}"] += 1
                except wsclient.ConnectionClosed:
                    pass
                await ws.wait_closed()
                _expect(errors, "server_close", ws.close_code, SERVER_CLOSE_CODE)
            else:  # abort_idle: drop the connection between batches
                ws.abort()
                await ws.wait_closed()
            counters[f"ended_{ending}"] += 1
        except wsclient.ConnectionClosed as exc:
            errors[f"unexpected close during {stage}: {exc.code}"] += 1
        except TimeoutError:
            errors[f"timeout during {stage}"] += 1
            ws.abort()
        except Exception as exc:
            errors[f"{type(exc).__name__} during {stage}"] += 1
            ws.abort()

    async def worker(index: int) -> None:
        rng = random.Random(args.seed * 100_003 + index)
        # Stagger the start so that 300 handshakes do not all land in the same millisecond.
        await asyncio.sleep(rng.uniform(0, 1.0))
        attempts = 0
        while time.monotonic() < deadline and attempts < 1_000_000:
            attempts += 1
            await one_connection(rng)

    tasks = [asyncio.create_task(worker(i)) for i in range(args.clients)]
    done, pending = await asyncio.wait(tasks, timeout=args.seconds + CLIENT_GRACE)
    for task in pending:
        task.cancel()
    if pending:
        errors["workers cancelled at the hard stop"] += len(pending)
        await asyncio.wait(pending, timeout=10)
    for task in done:
        if task.exception() is not None:
            errors[f"worker crashed: {type(task.exception()).__name__}"] += 1
    return {
        "counters": dict(counters),
        "errors": dict(errors),
        "mismatches": mismatches,
        "seconds": round(time.monotonic() - started, 3),
    }


def _expect(errors: collections.Counter[str], ending: str, code: int | None, expected: int) -> None:
    """Count a close code other than the expected one."""
    if code != expected:
        errors[f"{ending}: close code {code}, expected {'4001-4999' if expected > 4000 else expected}"] += 1


# ====================================================================== orchestrator


class Server:
    """The server process, its /proc figures and its command channel."""

    def __init__(self, args: argparse.Namespace, kind: str, certfile: str, keyfile: str, log_path: Path) -> None:
        command = [sys.executable, __file__, "--role", "server", "--server", kind]
        command += ["--certfile", certfile, "--keyfile", keyfile]
        if args.deflate:
            command.append("--deflate")
        if args.heap_profile:
            command.append("--heap-profile")
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True, bufsize=1
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._ids = 0
        ready = self._next_line(20.0)
        if ready is None:
            self.stop()
            raise RuntimeError(f"the server did not start; see {log_path}")
        ports = json.loads(ready)
        self.port: int = ports["plain"]
        self.tls_port: int = ports["tls"]
        self.pid = self.process.pid

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)

    def _next_line(self, timeout: float) -> str | None:
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def command(self, name: str, timeout: float = 5.0) -> dict[str, Any] | None:
        """Send a command; return its answer, or None if none came within `timeout`."""
        assert self.process.stdin is not None
        self._ids += 1
        ident = str(self._ids)
        try:
            self.process.stdin.write(f"{name} {ident}\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            line = self._next_line(left)
            if line is None:
                return None
            answer = json.loads(line)
            if answer.get("id") == ident:  # older, late answers are skipped
                return answer
        return None

    def rss(self) -> int | None:
        """VmRSS in bytes, from /proc/<pid>/status."""
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def fds(self) -> int | None:
        """Open file descriptors, from /proc/<pid>/fd."""
        try:
            return len(os.listdir(f"/proc/{self.pid}/fd"))
        except OSError:
            return None

    def stop(self) -> int | None:
        """SIGTERM (graceful shutdown), SIGKILL after 15 s; return the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()
        self._reader.join(5)
        self._log.close()
        return self.process.returncode


class Sampler:
    """Samples the server every `interval` seconds, tagging each sample with a phase."""

    def __init__(self, server: Server, interval: float) -> None:
        self.server = server
        self.interval = interval
        self.samples: list[dict[str, Any]] = []
        self.phases: list[dict[str, Any]] = []
        self.t0 = time.monotonic()
        self.round = 0

    def sample(self, phase: str) -> dict[str, Any]:
        answer = self.server.command("conns", timeout=min(2.0, self.interval * 4))
        entry = {
            "t": round(time.monotonic() - self.t0, 3),
            "phase": phase,
            "round": self.round,
            "rss": self.server.rss(),
            "fds": self.server.fds(),
            "open_connections": answer["open_connections"] if answer else None,
        }
        self.samples.append(entry)
        return entry

    def run_phase(self, phase: str, seconds: float, until: Any = None, tick: Any = None) -> None:
        """Sample for `seconds` (or until `until()` is true, at most `seconds`); `tick(elapsed)` after each sample."""
        start = time.monotonic()
        self.phases.append({"phase": phase, "round": self.round, "start": round(start - self.t0, 3)})
        count = 0
        limit = int(seconds / self.interval) + 10
        while count < limit:
            count += 1
            now = time.monotonic()
            self.sample(phase)
            if now - start >= seconds or (until is not None and until()):
                break
            if tick is not None:
                tick(now - start)
            time.sleep(max(0.0, self.interval - (time.monotonic() - now)))
        self.phases[-1]["end"] = round(time.monotonic() - self.t0, 3)


def make_certificates(folder: str) -> tuple[str, str, str]:
    """A throwaway CA and a server certificate for 127.0.0.1: (cafile, certfile, keyfile)."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cafile = os.path.join(folder, "ca.pem")
    certfile = os.path.join(folder, "server.pem")
    keyfile = os.path.join(folder, "server.key")
    ca.cert_pem.write_to_path(cafile)
    cert.cert_chain_pems[0].write_to_path(certfile)
    for pem in cert.cert_chain_pems[1:]:
        pem.write_to_path(certfile, append=True)
    cert.private_key_pem.write_to_path(keyfile)
    return cafile, certfile, keyfile


def orchestrate(args: argparse.Namespace) -> int:
    """Soak each server of --servers in turn with the same clients; check wskit's, compare."""
    reports = {kind: soak_server(args, kind) for kind in args.servers}
    status = 0 if reports.get("wskit", {"ok": True})["ok"] else 1
    wskit, peer = reports.get("wskit"), reports.get("websockets")
    if wskit is not None and peer is not None:
        ours = wskit["figures"]["rss_peak_per_connection_mib"]
        theirs = peer["figures"]["rss_peak_per_connection_mib"]
        print(
            f"[{wskit['label']}] peak RSS per open connection: wskit {ours} MiB, websockets {theirs} MiB; "
            f"RSS after cool-down: wskit {wskit['figures']['rss_final_mib']} MiB, "
            f"websockets {peer['figures']['rss_final_mib']} MiB"
        )
        if ours > theirs:
            print(f"[{wskit['label']}] FAILED: wskit's peak RSS per open connection is above websockets'")
            status = 1
    _plot(REPORTS if args.output is None else Path(args.output).parent)
    return status


def soak_server(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """One soak of server `kind` (baseline, rounds of load and cool-down); return its report."""
    label = (
        ("deflate-on" if args.deflate else "deflate-off")
        if kind == "wskit"
        else f"{kind}-deflate-{'on' if args.deflate else 'off'}"
    )
    output = (
        Path(args.output).with_name(f"{Path(args.output).stem}-{kind}.json")
        if args.output
        else REPORTS / f"soak-{label}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    log_path = output.with_suffix(".server.log")
    wall_start = time.monotonic()
    rounds: list[dict[str, Any]] = []
    heap: dict[int, Any] = {}
    with tempfile.TemporaryDirectory(prefix="wskit-soak-") as folder:
        cafile, certfile, keyfile = make_certificates(folder)
        server = Server(args, kind, certfile, keyfile, log_path)
        clients: list[subprocess.Popen[str]] = []
        try:
            sampler = Sampler(server, args.interval)
            print(f"[{label}] server pid {server.pid}, ws port {server.port}, wss port {server.tls_port}", flush=True)
            sampler.run_phase("baseline", args.baseline)
            baseline_stats = server.command("stats", timeout=10)
            for number in range(1, args.rounds + 1):
                sampler.round = number
                clients = start_clients(args, server, cafile, seed=args.seed + 1000 * number)
                print(f"[{label}] round {number}: {args.clients} connections for {args.seconds:g} s", flush=True)

                def profile_heap(elapsed: float, number: int = number) -> None:
                    # Once per round, late in the load (near the peak): where the memory is.
                    if args.heap_profile and number not in heap and elapsed >= 0.75 * args.seconds:
                        heap[number] = server.command("heap", timeout=60)

                sampler.run_phase(
                    "load",
                    args.seconds + CLIENT_GRACE + 30,
                    until=lambda group=clients: all(client.poll() is not None for client in group),
                    tick=profile_heap,
                )
                results = collect_clients(clients)
                print(f"[{label}] round {number}: cool-down {args.cooldown:g} s", flush=True)
                sampler.run_phase("cooldown", args.cooldown)
                stats = server.command("stats", timeout=10)
                trim = server.command("trim", timeout=10)
                sampler.run_phase("after_trim", min(2.0, args.cooldown))
                previous = rounds[-1]["stats"]["counters"] if rounds and rounds[-1]["stats"] else {}
                rounds.append(
                    {"round": number, "results": results, "stats": stats, "trim": trim, "previous_counters": previous}
                )
        finally:
            for client in clients:
                if client.poll() is None:
                    client.kill()
                    client.wait(5)
            server_status = server.stop()

    mib = 1024 * 1024
    base = [s for s in sampler.samples if s["phase"] == "baseline"]
    figures: dict[str, Any] = {
        "rss_baseline_mib": round(base[-1]["rss"] / mib, 2),
        "fds_baseline": base[-1]["fds"],
        "allocated_blocks_baseline": baseline_stats["allocated_blocks"] if baseline_stats else None,
    }
    failures: list[str] = []
    if len({s["fds"] for s in base}) != 1:
        failures.append(f"fds not stable during the baseline: {[s['fds'] for s in base]}")
    counters: collections.Counter[str] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    mismatches: list[Any] = []
    per_round = []
    for entry in rounds:
        number = entry["round"]
        samples = [s for s in sampler.samples if s["round"] == number]
        summary = summarize_round(entry, samples, baseline_stats, figures, args, failures)
        per_round.append(summary)
        for result in entry["results"]:
            counters.update(result.get("counters", {}))
            errors.update(result.get("errors", {}))
            mismatches.extend(result.get("mismatches", []))
    if len(per_round) >= 2:
        growth = round(per_round[-1]["rss_after_trim_mib"] - per_round[0]["rss_after_trim_mib"], 2)
        figures["rss_after_trim_growth_from_round_1_mib"] = growth
    for key in ("rss_peak_mib", "fds_peak", "open_connections_peak"):
        figures[key] = max(r[key] for r in per_round)
    for key in ("rss_final_mib", "rss_after_trim_mib", "fds_final", "allocated_blocks_final"):
        figures[key] = per_round[-1][key]
    # What one open connection costs at the peak: the growth over the baseline, shared out.
    per_connection = (figures["rss_peak_mib"] - figures["rss_baseline_mib"]) / max(1, figures["open_connections_peak"])
    figures["rss_peak_per_connection_mib"] = round(per_connection, 3)
    if kind == "wskit" and per_connection > args.max_rss_per_connection:
        failures.append(f"peak RSS per open connection {per_connection:.3f} MiB > {args.max_rss_per_connection:g} MiB")

    limit = figures["rss_baseline_mib"] + args.rss_tolerance
    checked = figures["rss_after_trim_mib"] if args.rss_check == "trimmed" else figures["rss_final_mib"]
    what = "after cool-down, gc and malloc_trim" if args.rss_check == "trimmed" else "after cool-down"
    if checked is None or checked > limit:
        failures.append(f"RSS {what} {checked} MiB > baseline + {args.rss_tolerance:g} MiB = {limit:.2f} MiB")
    if counters["messages_mismatched"] or mismatches:
        failures.append(f"{counters['messages_mismatched']} echoes mismatched")
    if errors:
        failures.append(f"{sum(errors.values())} client errors: {dict(errors)}")
    if counters["connections"] == 0 or counters["messages_verified"] == 0:
        failures.append("no connection or no verified message: the load did not run")
    if server_status != 0:
        failures.append(f"server exit status {server_status}")
    with open(log_path) as f:
        server_log_problems = [line.rstrip() for line in f if " ERROR " in line or "Traceback" in line]
    if server_log_problems:
        failures.append(f"{len(server_log_problems)} ERROR lines in {log_path.name}")

    report = {
        "label": label,
        "server": kind,
        "settings": {
            "seconds": args.seconds,
            "rounds": args.rounds,
            "clients": args.clients,
            "client_processes": args.client_processes,
            "deflate": args.deflate,
            "tls_fraction": args.tls,
            "max_size": args.max_size,
            "interval": args.interval,
            "baseline_seconds": args.baseline,
            "cooldown_seconds": args.cooldown,
            "rss_tolerance_mib": args.rss_tolerance,
            "rss_check": args.rss_check,
            "seed": args.seed,
            "endings": ENDINGS,
        },
        "environment": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "wall_seconds": round(time.monotonic() - wall_start, 2),
        "figures": figures,
        "rounds": per_round,
        "totals": dict(sorted(counters.items())),
        "errors": dict(sorted(errors.items())),
        "mismatches": mismatches,
        "server_stats": {
            "baseline": baseline_stats,
            "rounds": [{"final": r["stats"], "after_trim": r["trim"]} for r in rounds],
        },
        "server_log_problems": server_log_problems[:50],
        "heap_profiles": heap,
        "phases": sampler.phases,
        "samples": sampler.samples,
        "failures": failures,
        "ok": not failures,
    }
    output.write_text(json.dumps(report, indent=1) + "\n")
    print(f"[{label}] {json.dumps(figures)}")
    print(
        f"[{label}] connections {counters['connections']}, messages verified {counters['messages_verified']}, "
        f"mismatched {counters['messages_mismatched']}, errors {dict(errors) or 'none'}"
    )
    for number, profile in sorted(heap.items()):
        if profile is None or "heap_top" not in profile:
            print(f"[{label}] round {number}: no heap profile ({profile})")
            continue
        print(
            f"[{label}] round {number}: heap at 75% of the load, {profile['open_connections']} connections open "
            f"({profile['alive_connection_objects']} connection objects, {profile['alive_tls_protocols']} TLS "
            "protocols alive): "
            f"{profile['heap_traced_mib']} MiB traced by tracemalloc; largest sites:"
        )
        for site in profile["heap_top"][:10]:
            print(f"    {site['kib']:>9.1f} KiB {site['blocks']:>6} blocks  " + " < ".join(site["frames"][:3]))
    verdict = "OK" if not failures else "FAILED: " + "; ".join(failures)
    if kind != "wskit":
        verdict = f"(peer, not checked) {verdict}"
    print(f"[{label}] {verdict}  ({output})", flush=True)
    return report


def start_clients(args: argparse.Namespace, server: Server, cafile: str, *, seed: int) -> list[subprocess.Popen[str]]:
    """Start the client processes, sharing --clients between them."""
    shares = [args.clients // args.client_processes] * args.client_processes
    shares[0] += args.clients - sum(shares)
    clients = []
    for index, share in enumerate(shares):
        command = [
            sys.executable, __file__, "--role", "client",
            "--port", str(server.port), "--tls-port", str(server.tls_port), "--cafile", cafile,
            "--clients", str(share), "--seconds", str(args.seconds), "--tls", str(args.tls),
            "--max-size", str(args.max_size), "--seed", str(seed + index),
        ]  # fmt: skip
        if args.deflate:
            command.append("--deflate")
        clients.append(subprocess.Popen(command, stdout=subprocess.PIPE, text=True))
    return clients


def collect_clients(clients: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    """Each client process's result (its last JSON line), killing any that hangs."""
    results = []
    for client in clients:
        try:
            out, _ = client.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            client.kill()
            out, _ = client.communicate(timeout=10)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        results.append(json.loads(lines[-1]) if lines else {"errors": {"client process gave no result": 1}})
    return results


def summarize_round(
    entry: dict[str, Any],
    samples: list[dict[str, Any]],
    baseline_stats: dict[str, Any] | None,
    figures: dict[str, Any],
    args: argparse.Namespace,
    failures: list[str],
) -> dict[str, Any]:
    """The figures of one round; append what failed to `failures`."""
    mib = 1024 * 1024
    number = entry["round"]
    load = [s for s in samples if s["phase"] == "load"]
    cool = [s for s in samples if s["phase"] == "cooldown"]
    trimmed = [s for s in samples if s["phase"] == "after_trim"]
    stats = entry["stats"]
    counters: collections.Counter[str] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    for result in entry["results"]:
        counters.update(result.get("counters", {}))
        errors.update(result.get("errors", {}))
    summary: dict[str, Any] = {
        "round": number,
        "rss_peak_mib": round(max(s["rss"] for s in load + cool) / mib, 2),
        "rss_final_mib": round(cool[-1]["rss"] / mib, 2),
        "rss_after_trim_mib": round(trimmed[-1]["rss"] / mib, 2) if trimmed and trimmed[-1]["rss"] else None,
        "fds_peak": max(s["fds"] for s in load + cool),
        "fds_final": cool[-1]["fds"],
        "open_connections_peak": max((s["open_connections"] or 0) for s in load + cool),
        "allocated_blocks_final": stats["allocated_blocks"] if stats else None,
        "allocated_blocks_after_trim": entry["trim"]["allocated_blocks"] if entry["trim"] else None,
        "connections": counters["connections"],
        "messages_verified": counters["messages_verified"],
        "client_seconds": max((r.get("seconds", 0) for r in entry["results"]), default=None),
    }
    # Growth during the load: a plateau (allocator high-water mark) or a climb?
    steady = [s["rss"] for s in load if s["open_connections"]]
    half = len(steady) // 2
    if half:
        summary["rss_load_first_half_max_mib"] = round(max(steady[:half]) / mib, 2)
        summary["rss_load_second_half_max_mib"] = round(max(steady[half:]) / mib, 2)
    back = next((s for s in cool if s["fds"] == figures["fds_baseline"]), None)
    summary["fds_back_to_baseline_after_s"] = round(back["t"] - cool[0]["t"], 2) if back else None

    where = f"round {number}: "
    if summary["fds_final"] != figures["fds_baseline"]:
        failures.append(f"{where}fds after cool-down {summary['fds_final']} != baseline {figures['fds_baseline']}")
    if stats is None:
        failures.append(f"{where}the server did not answer the stats command")
        return summary
    for key in ("open_connections", "pending_requests", "live_connection_objects"):
        if stats.get(key):
            failures.append(f"{where}server {key} after cool-down: {stats[key]}")
    if baseline_stats is not None and stats["tasks"] != baseline_stats["tasks"]:
        failures.append(f"{where}server asyncio tasks {stats['tasks']} != baseline {baseline_stats['tasks']}")
    if not errors:
        # Each way of ending, seen from the server: its close codes must tell the clients' story.
        seen = collections.Counter(stats["counters"])
        previous = collections.Counter(entry.get("previous_counters", {}))
        seen.subtract(previous)
        expected = {
            "accepted": counters["connections"],
            "close_code_1000": counters["ended_close"],
            "close_code_1006": counters["ended_abort_idle"] + counters["ended_abort_in_flight"],
            f"close_code_{SERVER_CLOSE_CODE}": counters["ended_server_close"],
            "close_code_4001-4999": counters["ended_close_app_code"],
        }
        for key, value in expected.items():
            if seen.get(key, 0) != value:
                failures.append(f"{where}server counted {key} = {seen.get(key, 0)}, clients {value}")
        unexplained = {k: v for k, v in seen.items() if v and k not in expected and k not in _SERVER_INFO_COUNTERS}
        if unexplained:
            failures.append(f"{where}server counters nobody expected: {unexplained}")
    return summary


_SERVER_INFO_COUNTERS = {"accepted_plain", "accepted_tls", "echoed"}


def _plot(folder: Path) -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(f"matplotlib is not installed here: run stress/plot.py with a Python that has it ({folder})")
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from plot import plot  # stress/plot.py

    print(f"plot: {plot(folder)}")


# ============================================================================= main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60.0, help="duration of the load (default 60)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="load + cool-down rounds; a leak grows each round (default 1)"
    )
    parser.add_argument("--clients", type=int, default=300, help="concurrent connections (default 300)")
    parser.add_argument("--client-processes", type=int, default=2, help="processes sharing them (default 2)")
    parser.add_argument("--deflate", action="store_true", help="negotiate permessage-deflate (default off)")
    parser.add_argument("--tls", type=float, default=0.5, help="fraction of connections over TLS, 0 to 1 (default 0.5)")
    parser.add_argument("--max-size", type=int, default=256 * 1024, help="largest message, bytes (default 256 KiB)")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between samples (default 0.5)")
    parser.add_argument("--baseline", type=float, default=3.0, help="seconds of baseline sampling (default 3)")
    parser.add_argument("--cooldown", type=float, default=10.0, help="seconds of cool-down sampling (default 10)")
    parser.add_argument(
        "--rss-tolerance", type=float, default=16.0, help="allowed RSS above baseline after cool-down, MiB (default 16)"
    )
    parser.add_argument(
        "--rss-check",
        choices=["trimmed", "untrimmed"],
        default="untrimmed",
        help="which RSS the tolerance applies to: as the cool-down left it (default), or after the soak "
        "itself asked the server for gc.collect() and malloc_trim(0)",
    )
    parser.add_argument(
        "--max-rss-per-connection",
        type=float,
        default=1.0,
        help="largest allowed (peak RSS - baseline) / open connections at the peak, MiB (default 1)",
    )
    parser.add_argument(
        "--servers",
        default=",".join(ECHO_SERVERS),
        help="servers soaked in turn by the same clients, comma-separated: wskit (checked) and "
        "websockets (a peer, measured for comparison); default: both",
    )
    parser.add_argument(
        "--heap-profile",
        action="store_true",
        help="trace the server's allocations (tracemalloc, slower) and report the largest sites at 75%% of each load",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the clients (default 1)")
    parser.add_argument("--output", help="JSON report path (default reports/soak/soak-deflate-{on,off}.json)")
    # Internal: the server and client processes.
    parser.add_argument(
        "--role", choices=["orchestrator", "server", "client"], default="orchestrator", help=argparse.SUPPRESS
    )
    parser.add_argument("--certfile", help=argparse.SUPPRESS)
    parser.add_argument("--keyfile", help=argparse.SUPPRESS)
    parser.add_argument("--cafile", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tls-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--server", choices=list(ECHO_SERVERS), default="wskit", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = [name for name in args.servers if name not in ECHO_SERVERS]
    if unknown or not args.servers:
        parser.error(f"--servers takes {', '.join(ECHO_SERVERS)}; got {args.servers}")
    if not 0.0 <= args.tls <= 1.0:
        parser.error("--tls must be between 0 and 1")
    if args.clients < 1 or args.client_processes < 1 or args.client_processes > args.clients:
        parser.error("--clients must be >= --client-processes >= 1")
    if not 1 <= args.rounds <= 20:
        parser.error("--rounds must be between 1 and 20")
    if not 0 < args.seconds <= 3600:
        parser.error("--seconds must be in (0, 3600]")
    if args.max_size < 2:
        parser.error("--max-size must be at least 2")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.role == "server":
        return run_server(args)
    if args.role == "client":
        return run_client(args)
    if not sys.platform.startswith("linux"):
        print("the soak test reads /proc: Linux only", file=sys.stderr)
        return 2
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
