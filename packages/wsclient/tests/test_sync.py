"""`wsclient.sync`: the blocking client, against servers running in other threads."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any

import pytest

import wsclient
from wsclient import ConnectionClosed, ConnectionClosedError, ConnectionClosedOK, HandshakeFailed, WebSocketClient
from wsclient.sync import SyncConnection, connect
from wsframe import InvalidState, State

sync_server = pytest.importorskip("websockets.sync.server", reason="the websockets package is a test dependency")
wsserver = pytest.importorskip("wsserver", reason="wsserver is not importable")

ThreadServer = Callable[..., AbstractContextManager[int]]
Server = Callable[..., AbstractAsyncContextManager[int]]

TIMEOUT = 10.0


def sync_echo(ws: Any) -> None:
    for message in ws:
        ws.send(message)


@pytest.fixture
def websockets_thread() -> ThreadServer:
    """``with websockets_thread(handler) as port``: a `websockets.sync` server in a thread."""

    @contextlib.contextmanager
    def start(handler: Callable[[Any], None] = sync_echo, **kwargs: Any) -> Iterator[int]:
        kwargs.setdefault("max_size", None)
        with sync_server.serve(handler, "127.0.0.1", 0, **kwargs) as server:
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                yield server.socket.getsockname()[1]
            finally:
                server.shutdown()
                thread.join(TIMEOUT)

    return start


async def async_echo(request: Any) -> None:
    connection = request.accept(request.requested_protocols[0] if request.requested_protocols else None)
    async for message in connection:
        await connection.send(message)


@pytest.fixture
def wsserver_thread() -> ThreadServer:
    """``with wsserver_thread(handler) as port``: a wsserver on its own loop in a thread."""

    @contextlib.contextmanager
    def start(handler: Callable[[Any], Any] = async_echo, **kwargs: Any) -> Iterator[int]:
        kwargs.setdefault("max_message_size", None)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        stop = threading.Event()
        tasks: list[asyncio.Task[None]] = []

        async def serve(ready: asyncio.Future[int]) -> None:
            async with wsserver.WebSocketServer(handler, **kwargs) as server:
                addresses = await server.listen("127.0.0.1", 0)
                ready.set_result(addresses[0][1])
                await asyncio.to_thread(stop.wait)

        async def run() -> int:
            ready: asyncio.Future[int] = loop.create_future()
            tasks.append(loop.create_task(serve(ready)))
            return await ready

        async def finish() -> None:
            await asyncio.wait_for(tasks[0], TIMEOUT)

        port = asyncio.run_coroutine_threadsafe(run(), loop).result(TIMEOUT)
        try:
            yield port
        finally:
            stop.set()
            asyncio.run_coroutine_threadsafe(finish(), loop).result(TIMEOUT * 2)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(TIMEOUT)
            loop.close()

    return start


@pytest.fixture(params=["websockets", "wsserver"])
def echo_server(request: pytest.FixtureRequest, websockets_thread: ThreadServer, wsserver_thread: ThreadServer) -> Any:
    return websockets_thread if request.param == "websockets" else wsserver_thread


# -------------------------------------------------------------------- basics


def test_echo(echo_server: ThreadServer) -> None:
    with echo_server() as port, connect(f"ws://127.0.0.1:{port}/", ["chat"]) as ws:
        assert isinstance(ws, SyncConnection)
        assert ws.state is State.OPEN
        assert ws.url == f"ws://127.0.0.1:{port}/"
        assert ws.response is not None
        assert ws.response.status == 101
        assert ws.extensions == ["permessage-deflate"]
        big = os.urandom(2 * 1024 * 1024)
        for message in ("hello", "", b"\x00\x01", "\u00e9" * 70_000, big):
            ws.send(message)
            assert ws.recv(timeout=TIMEOUT) == message
        assert ws.close_code is None
    assert ws.state.name == "CLOSED"
    assert ws.close_code == 1000
    assert ws.close_reason == ""


def test_subprotocol_and_headers_reach_the_server(websockets_thread: ThreadServer) -> None:
    def handler(ws: Any) -> None:
        ws.send(f"{ws.request.headers.get('Origin')} {ws.request.headers.get('X-Token')} {ws.subprotocol}")
        with contextlib.suppress(Exception):
            ws.recv()

    with (
        websockets_thread(handler, subprotocols=["b"]) as port,
        connect(f"ws://127.0.0.1:{port}/", ["a", "b"], "https://o.example", {"X-Token": "t"}) as ws,
    ):
        assert ws.subprotocol == "b"
        assert ws.recv(timeout=TIMEOUT) == "https://o.example t b"


def test_recv_timeout_loses_nothing(websockets_thread: ThreadServer) -> None:
    def handler(ws: Any) -> None:
        for message in ws:
            if message == "later":
                ws.send("now")

    with websockets_thread(handler) as port, connect(f"ws://127.0.0.1:{port}/") as ws:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.2)
        elapsed = time.monotonic() - started
        assert 0.15 <= elapsed < TIMEOUT
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0)  # nothing there: a poll
        ws.send("later")
        assert ws.recv(timeout=TIMEOUT) == "now"
        assert ws.state is State.OPEN


def test_recv_timeout_zero_takes_a_waiting_message(websockets_thread: ThreadServer) -> None:
    def handler(ws: Any) -> None:
        ws.send("queued")
        ws.close()

    with websockets_thread(handler) as port, connect(f"ws://127.0.0.1:{port}/") as ws:
        deadline = time.monotonic() + TIMEOUT
        while ws.state is not State.CLOSED:  # the message is in the queue by then
            assert time.monotonic() < deadline
            time.sleep(0.005)
        assert ws.recv(timeout=0) == "queued"
        with pytest.raises(ConnectionClosedOK):
            ws.recv(timeout=0)


def test_iteration_ends_on_normal_close(websockets_thread: ThreadServer) -> None:
    def handler(ws: Any) -> None:
        for i in range(3):
            ws.send(f"m{i}")
        ws.close(1000, "done")

    with websockets_thread(handler) as port, connect(f"ws://127.0.0.1:{port}/") as ws:
        assert list(ws) == ["m0", "m1", "m2"]
        assert ws.close_code == 1000
        assert ws.close_reason == "done"
        with pytest.raises(ConnectionClosedOK):
            ws.recv()
        with pytest.raises(ConnectionClosed):
            ws.send("late")


def test_iteration_raises_on_error_close(websockets_thread: ThreadServer) -> None:
    def handler(ws: Any) -> None:
        ws.send("one")
        ws.close(1011, "oops")

    with websockets_thread(handler) as port, connect(f"ws://127.0.0.1:{port}/") as ws:
        received: list[Any] = []

        def iterate() -> None:
            received.extend(ws)

        with pytest.raises(ConnectionClosedError) as info:
            iterate()
        assert received == ["one"]
        assert info.value.code == 1011


def test_concurrent_sender_and_receiver_threads(echo_server: ThreadServer) -> None:
    count = 300
    received: list[Any] = []
    errors: list[BaseException] = []
    with echo_server() as port, connect(f"ws://127.0.0.1:{port}/") as ws:

        def send() -> None:
            try:
                for i in range(count):
                    ws.send(f"message {i}" if i % 2 else f"{i}".encode() * 100)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        def receive() -> None:
            try:
                for _ in range(count):
                    received.append(ws.recv(timeout=TIMEOUT))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=send), threading.Thread(target=receive)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT * 3)
        assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert received == [f"message {i}" if i % 2 else f"{i}".encode() * 100 for i in range(count)]


def test_two_receivers_at_once_are_refused(websockets_thread: ThreadServer) -> None:
    outcome: list[BaseException] = []

    def wait_for_message() -> None:
        while True:
            try:
                ws.recv(timeout=TIMEOUT)
            except InvalidState:  # collided with the main thread's poll: retry
                continue
            except BaseException as exc:
                outcome.append(exc)
                return

    with websockets_thread() as port, connect(f"ws://127.0.0.1:{port}/") as ws:
        waiting = threading.Thread(target=wait_for_message, daemon=True)
        waiting.start()
        deadline = time.monotonic() + TIMEOUT
        refusal: InvalidState | None = None
        while refusal is None:  # until the other thread is the one waiting on the loop
            try:
                ws.recv(timeout=0)
            except InvalidState as exc:
                refusal = exc
            except TimeoutError:
                assert time.monotonic() < deadline
        assert "already waiting" in str(refusal)
    waiting.join(TIMEOUT)
    assert not waiting.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], ConnectionClosedOK)


def test_ping_returns_the_latency(echo_server: ThreadServer) -> None:
    with echo_server() as port, connect(f"ws://127.0.0.1:{port}/") as ws:
        latency = ws.ping(b"abc", timeout=TIMEOUT)
        assert isinstance(latency, float)
        assert 0 <= latency < TIMEOUT
        assert ws.latency == latency
        with pytest.raises(ValueError):
            ws.ping(b"x" * 126)


@contextlib.contextmanager
def silent_server() -> Iterator[tuple[int, threading.Event]]:
    """A thread that completes the handshake, then neither reads nor writes until released."""
    listener = socket.create_server(("127.0.0.1", 0))
    release = threading.Event()

    def run() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            key = next(
                line.split(b":", 1)[1].strip()
                for line in data.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key:")
            )
            accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
            conn.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            release.wait(TIMEOUT * 3)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], release
    finally:
        release.set()
        thread.join(TIMEOUT)
        listener.close()


def test_ping_timeout_and_abort() -> None:
    with silent_server() as (port, _):
        ws = connect(f"ws://127.0.0.1:{port}/", permessage_deflate=False)
        with pytest.raises(TimeoutError):
            ws.ping(timeout=0.2)
        ws.abort()
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=TIMEOUT)
        assert ws.close_code == 1006


# ------------------------------------------------------------------ failures


def test_handshake_failure_and_refused(wsserver_thread: ThreadServer, free_port: int) -> None:
    async def reject(request: Any) -> None:
        request.reject(403, "no")

    with wsserver_thread(reject) as port, pytest.raises(HandshakeFailed) as info:
        connect(f"ws://127.0.0.1:{port}/")
    assert info.value.status == 403
    with pytest.raises(ConnectionRefusedError):
        connect(f"ws://127.0.0.1:{free_port}/")


def test_argument_errors() -> None:
    with pytest.raises(TypeError, match="unexpected keyword"):
        connect("ws://127.0.0.1:1/", nonsense=True)
    with pytest.raises(TypeError, match="client settings"):
        connect("ws://127.0.0.1:1/", client=WebSocketClient(), max_queue=3)
    with pytest.raises(TypeError, match="WebSocketClient"):
        connect("ws://127.0.0.1:1/", client="nope")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        connect("ftp://127.0.0.1:1/")
    with pytest.raises(ValueError):
        connect("ws://127.0.0.1:1/", max_queue=0)


def test_client_argument_and_client_settings(websockets_thread: ThreadServer) -> None:
    with websockets_thread() as port:
        with connect(f"ws://127.0.0.1:{port}/", client=WebSocketClient(permessage_deflate=False)) as ws:
            assert ws.extensions == []
        with connect(f"ws://127.0.0.1:{port}/", max_message_size=10) as ws:
            ws.send("x" * 11)
            with pytest.raises(ConnectionClosedError) as info:
                ws.recv(timeout=TIMEOUT)
            assert info.value.code == 1009


def test_calling_from_the_loop_thread_raises() -> None:
    from wsclient import sync

    loop = sync._loop_thread.get()

    async def inside() -> None:
        connect("ws://127.0.0.1:1/")

    future = asyncio.run_coroutine_threadsafe(inside(), loop)
    with pytest.raises(RuntimeError, match="own event loop thread"):
        future.result(TIMEOUT)


# ------------------------------------------------- with another loop running


async def test_used_from_a_thread_while_the_main_loop_serves(ws_server: Server) -> None:
    async with ws_server() as port:

        def work() -> list[Any]:
            with connect(f"ws://127.0.0.1:{port}/") as ws:
                ws.send("from a thread")
                return [ws.recv(timeout=TIMEOUT), ws.ping(timeout=TIMEOUT) >= 0]

        assert await asyncio.to_thread(work) == ["from a thread", True]


async def test_blocking_calls_inside_a_running_loop_like_jupyter(websockets_thread: ThreadServer) -> None:
    # Jupyter runs cells inside a running loop in the main thread: the blocking client
    # must not need that loop.
    asyncio.get_running_loop()
    with websockets_thread() as port, connect(f"ws://127.0.0.1:{port}/") as ws:
        ws.send("notebook")
        assert ws.recv(timeout=TIMEOUT) == "notebook"


# ------------------------------------------------------- process lifecycle


def _run_python(code: str, timeout: float = TIMEOUT * 3) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout)


def test_no_thread_before_first_use_and_import_is_lazy() -> None:
    code = (
        "import threading, sys, wsclient\n"
        "print('wsclient.sync' in sys.modules)\n"
        "import wsclient.sync\n"
        "print(any(t.name == 'wsclient.sync' for t in threading.enumerate()))\n"
        "print(wsclient.sync.connect is wsclient.sync.connect)\n"
    )
    out = _run_python(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False", "True"]


async def test_open_connections_are_closed_at_exit(ws_server: Server) -> None:
    codes: list[int | None] = []
    closed = asyncio.Event()

    async def handler(ws: Any) -> None:
        with contextlib.suppress(Exception):
            async for _ in ws:
                pass
        codes.append(ws.close_code)
        closed.set()

    async with ws_server(handler) as port:
        code = (
            "from wsclient.sync import connect\n"
            f"ws = connect('ws://127.0.0.1:{port}/')\n"
            "ws.send('bye')\n"
            "print('exiting')\n"
        )
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT * 3)
        assert process.returncode == 0, stderr.decode()
        assert stdout.decode().strip() == "exiting"
        await asyncio.wait_for(closed.wait(), TIMEOUT)
    assert codes == [1001]


def test_exports() -> None:
    assert wsclient.sync.connect is connect
    assert set(wsclient.sync.__all__) == {"SyncConnection", "connect"}
