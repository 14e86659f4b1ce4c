"""Interoperability matrix: wskit against WebSocket implementations no one here wrote.

Peers: the Python `websockets` library (asyncio API, in this process) and the npm
packages `ws` 8 and `websocket` 1.0.x (WebSocket-Node), run by Node.js from the scripts
in ``node/``. Each peer plays both roles, so six pairings (client-to-server):
``wsclient-to-<peer>`` and ``<peer>-to-wsserver``. Every pairing runs every check of
`CHECKS`; the test ids read as the matrix, ``test_interop[<pairing>:<check>]``.
`test_w3c_api` adds the browser-style clients (wsclient's and WebSocket-Node's
W3CWebSocket). README.md beside this file describes each check.

The peer is an *agent* driven from the wskit side over the connection itself: it echoes
every message with its type, and a text message starting with `CMD` plus JSON is a
command (``digest`` the next message, ``generate`` one, send one in ``fragments``,
``ping``, ``close``, ``info``), answered by a JSON text message. What the peer observes
when the connection ends (close code and reason) comes back out of band: stdout lines
of the Node process, or a list for `websockets`.

The npm packages are installed once with ``npm install --prefix
${WSKIT_CACHE:-~/.cache/wskit}/node-interop`` and reused while the installed majors
match. Without Node.js or npm these tests skip with that reason, except when the `CI`
environment variable is set, where they fail. One Node process per npm package serves
the whole module (its servers listen on 127.0.0.1 only, and it connects its clients on
a command from stdin); it is stopped at the end of the module. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import dataclasses
import functools
import hashlib
import importlib.util
import itertools
import json
import os
import pathlib
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import IO, Any, ClassVar, Protocol

import pytest

import wsclient
import wsserver

HERE = pathlib.Path(__file__).resolve().parent
NODE_DIR = HERE / "node"

#: npm packages and the majors they are pinned to (``npm install NAME@SPEC``).
NPM_PACKAGES = {"ws": "8", "websocket": "1.0"}
NPM_TIMEOUT = 300.0
#: `websockets` 15 added `connect(proxy=...)`; 14 added `send(..., text=...)` for fragments.
WEBSOCKETS_MAJOR = 15

#: Prefix of a command message (never the start of a test payload).
CMD = "\x01cmd "
#: What servers pick among a client's offer, by their own preference.
SERVER_PROTOCOLS = ("chat.v2", "chat.v1")
MAX_MESSAGE_SIZE = 64 * 1024 * 1024
LARGE = 16 * 1024 * 1024

#: Bound of one wait for the peer (a reply, an event, a closing handshake).
STEP_TIMEOUT = 10.0
#: Bound of one 16 MiB transfer and its digest.
LARGE_TIMEOUT = 20.0
#: Bound of one whole test, connections and servers included.
TEST_TIMEOUT = 60.0
#: Bound of the Node process's start (the scripts print their ports once listening).
NODE_START_TIMEOUT = 20.0

CLOSE_REASON_WSKIT = "wskit closes: é"
CLOSE_REASON_PEER = "peer closes: ü"

_ids = itertools.count(1)
#: Every connection id handed out, in order (a test's are the ones after its start).
_conn_ids: list[str] = []


def new_conn_id() -> str:
    conn_id = f"c{next(_ids)}"
    _conn_ids.append(conn_id)
    return conn_id


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def unavailable(reason: str) -> None:
    """Skip with `reason`, or fail in CI, whose machines have every peer."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set: every interop peer must be available)", pytrace=False)
    pytest.skip(reason)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def random_text(size: int) -> str:
    """`size` random characters of 1 to 4 UTF-8 bytes (about 1.09 x `size` bytes), as agent.js."""
    raw = base64.b64encode(os.urandom(size * 3 // 4)).decode("ascii")
    return raw.replace("A", "é").replace("B", "€").replace("C", "\U0001d11e")


def pick_protocol(offered: list[str] | tuple[str, ...]) -> str | None:
    """The server's choice: its first preference that the client offered."""
    return next((protocol for protocol in SERVER_PROTOCOLS if protocol in offered), None)


# --------------------------------------------------------------------------- events


class Events:
    """What peers observed, by connection id; filled from reader threads or the loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str | None, list[dict[str, Any]]] = collections.defaultdict(list)

    def add(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._by_id[event.get("id")].append(event)

    def of(self, conn_id: str | None) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._by_id.get(conn_id, ()))

    def problems(self, conn_ids: list[str]) -> list[dict[str, Any]]:
        """Errors reported for these connections, and the peer's own fatal errors."""
        with self._lock:
            found = [event for conn_id in (None, *conn_ids) for event in self._by_id.get(conn_id, ())]
        return [event for event in found if event["event"] in ("error", "fatal")]

    async def wait(self, conn_id: str, name: str, timeout: float = STEP_TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for event in self.of(conn_id):
                if event["event"] == name:
                    return event
            if time.monotonic() > deadline:
                raise AssertionError(f"the peer reported no {name!r} for {conn_id} in {timeout} s: {self.of(conn_id)}")
            await asyncio.sleep(0.01)


# --------------------------------------------------------------------------- peers


class Peer(Protocol):
    """One foreign implementation, in both roles."""

    name: str
    supports_deflate: bool
    events: Events

    async def server_port(self, deflate: bool) -> int:
        """The port of this peer's server, with permessage-deflate enabled or not."""

    async def start_client(
        self, conn_id: str, url: str, protocols: list[str], deflate: bool, api: str = "native"
    ) -> None:
        """Make this peer's client connect to `url` (offering permessage-deflate or not).

        `api` "w3c" uses the peer's browser-style client (WebSocket-Node's W3CWebSocket).
        """

    async def aclose(self) -> None:
        """Release what this test used."""

    def diagnostics(self) -> str:
        """Recent output of the peer, for failure reports."""


class NodePeer:
    """A Node.js process running ``node/<script>``: servers on 127.0.0.1 and clients on demand."""

    def __init__(self, name: str, script: pathlib.Path, node: str, prefix: pathlib.Path) -> None:
        self.name = name
        self.supports_deflate = name == "ws"
        self.events = Events()
        self.ports: dict[str, int] = {}
        self.version = "?"
        self._stderr: collections.deque[str] = collections.deque(maxlen=200)
        self._listening = threading.Event()
        self._stdin_lock = threading.Lock()
        self.process = subprocess.Popen(
            [node, str(script)],
            cwd=NODE_DIR,
            env={**os.environ, "WSKIT_NODE_PREFIX": str(prefix)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self._threads = [
            threading.Thread(target=self._read_stdout, args=(self.process.stdout,), daemon=True),
            threading.Thread(target=self._read_stderr, args=(self.process.stderr,), daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        if not self._listening.wait(NODE_START_TIMEOUT):
            self.stop()
            raise RuntimeError(f"{name}: the Node process did not start listening:\n{self.diagnostics()}")

    def _read_stdout(self, stream: IO[str]) -> None:
        for line in stream:
            try:
                event = json.loads(line)
            except ValueError:
                self._stderr.append("stdout: " + line.rstrip())
                continue
            if event.get("event") == "listening":
                self.ports = event["ports"]
                self.version = event["version"]
                self._listening.set()
            else:
                self.events.add(event)

    def _read_stderr(self, stream: IO[str]) -> None:
        for line in stream:
            self._stderr.append(line.rstrip())

    def _check_running(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"the {self.name} Node process has exited:\n{self.diagnostics()}")

    async def server_port(self, deflate: bool) -> int:
        self._check_running()
        return self.ports["deflate" if deflate else "plain"]

    async def start_client(
        self, conn_id: str, url: str, protocols: list[str], deflate: bool, api: str = "native"
    ) -> None:
        self._check_running()
        command = {"op": "connect", "id": conn_id, "url": url, "protocols": protocols, "deflate": deflate, "api": api}
        line = json.dumps(command)
        stdin = self.process.stdin
        assert stdin is not None
        with self._stdin_lock:
            stdin.write(line + "\n")
            stdin.flush()

    async def aclose(self) -> None:
        pass  # the process serves the whole module

    def diagnostics(self) -> str:
        fatal = self.events.of(None)
        head = f"{self.name} {self.version} (exit code {self.process.poll()}), fatal errors: {fatal}"
        return head + "\n" + "\n".join(self._stderr)

    def stop(self) -> None:
        process = self.process
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()  # the scripts exit at the end of their input
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        for thread in self._threads:
            thread.join(5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


class WebsocketsPeer:
    """The `websockets` library, in the test's event loop (one per test)."""

    name = "websockets"
    supports_deflate = True

    def __init__(self) -> None:
        self.events = Events()
        self._servers: dict[bool, Any] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def server_port(self, deflate: bool) -> int:
        from websockets.asyncio.server import ServerConnection, serve

        if deflate not in self._servers:
            self._servers[deflate] = await serve(
                self._serve,
                "127.0.0.1",
                0,
                create_connection=counting(ServerConnection),
                compression="deflate" if deflate else None,
                select_subprotocol=self._select_subprotocol,
                max_size=MAX_MESSAGE_SIZE,
                ping_interval=None,
                close_timeout=STEP_TIMEOUT / 2,
            )
        port: int = next(iter(self._servers[deflate].sockets)).getsockname()[1]
        return port

    @staticmethod
    def _select_subprotocol(connection: Any, offered: Any) -> Any:
        return pick_protocol(list(offered))

    async def _serve(self, ws: Any) -> None:
        await websockets_agent(
            ws,
            ws.request.path[1:],
            self.events,
            extensions=ws.response.headers.get("Sec-WebSocket-Extensions", ""),
            offered=ws.request.headers.get("Sec-WebSocket-Extensions", ""),
        )

    async def start_client(
        self, conn_id: str, url: str, protocols: list[str], deflate: bool, api: str = "native"
    ) -> None:
        assert api == "native", f"websockets has no {api} client"
        task = asyncio.create_task(self._client(conn_id, url, protocols, deflate))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _client(self, conn_id: str, url: str, protocols: list[str], deflate: bool) -> None:
        from websockets.asyncio.client import ClientConnection, connect

        try:
            ws = await connect(
                url,
                create_connection=counting(ClientConnection),
                subprotocols=protocols or None,  # type: ignore[arg-type]
                compression="deflate" if deflate else None,
                max_size=MAX_MESSAGE_SIZE,
                ping_interval=None,
                open_timeout=STEP_TIMEOUT,
                close_timeout=STEP_TIMEOUT / 2,
                proxy=None,
            )
        except Exception as exc:  # reported to the test, which fails with it
            self.events.add({"id": conn_id, "event": "error", "error": repr(exc)})
            self.events.add({"id": conn_id, "event": "close", "code": 1006, "reason": ""})
            return
        assert ws.response is not None
        await websockets_agent(
            ws,
            conn_id,
            self.events,
            extensions=ws.response.headers.get("Sec-WebSocket-Extensions", ""),
            offered=None,
        )

    async def aclose(self) -> None:
        for server in self._servers.values():
            server.close()
            await asyncio.wait_for(server.wait_closed(), STEP_TIMEOUT)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def diagnostics(self) -> str:
        return ""


def counting(base: type[Any]) -> type[Any]:
    """A `websockets` connection class that counts the bytes it receives (``bytes_read``)."""

    class Counting(base):  # type: ignore[misc]
        bytes_read = 0

        def data_received(self, data: bytes) -> None:
            self.bytes_read += len(data)
            super().data_received(data)

    return Counting


async def websockets_agent(ws: Any, conn_id: str, events: Events, *, extensions: str, offered: str | None) -> None:
    """The agent of agent.js, written with the `websockets` asyncio API."""
    from websockets.exceptions import ConnectionClosed

    events.add({"id": conn_id, "event": "open"})
    digest_next = False
    background: set[asyncio.Task[None]] = set()

    async def reply(**fields: Any) -> None:
        await ws.send(json.dumps(fields))

    async def ping(payload: bytes) -> None:
        try:
            waiter = await ws.ping(payload)
            try:
                await asyncio.wait_for(waiter, 5)
            except asyncio.TimeoutError:
                await reply(op="ping", pong=None)
            else:
                await reply(op="ping", pong=b64(payload))
        except ConnectionClosed:
            pass
        except Exception as exc:
            events.add({"id": conn_id, "event": "error", "error": repr(exc)})

    try:
        async for message in ws:
            if isinstance(message, str) and message.startswith(CMD):
                command = json.loads(message[len(CMD) :])
                op = command["op"]
                if op == "info":
                    await reply(
                        op="info",
                        protocol=ws.subprotocol,
                        extensions=extensions,
                        offered=offered,
                        bytesRead=ws.bytes_read,
                        bytesWritten=None,
                    )
                elif op == "digest":
                    digest_next = True
                elif op == "generate":
                    binary = command["kind"] == "binary"
                    data = os.urandom(command["size"]) if binary else random_text(command["size"]).encode()
                    await ws.send(data, text=not binary)
                    await reply(op="generate", sha256=sha256(data), length=len(data), kind=command["kind"])
                elif op == "fragments":
                    data = base64.b64decode(command["data"])
                    size = command["size"]
                    chunks = [data[start : start + size] for start in range(0, len(data), size)] or [b""]
                    # An iterable sends one frame per item (plus an empty final frame).
                    await ws.send(chunks, text=command["kind"] == "text")
                elif op == "ping":
                    task = asyncio.create_task(ping(base64.b64decode(command["data"])))
                    background.add(task)
                    task.add_done_callback(background.discard)
                elif op == "close":
                    await ws.close(command["code"], command["reason"])
                else:
                    await reply(op="error", error=f"unknown command {op}")
            elif digest_next:
                digest_next = False
                data = message.encode() if isinstance(message, str) else message
                kind = "text" if isinstance(message, str) else "binary"
                await reply(op="digest", sha256=sha256(data), length=len(data), kind=kind)
            else:
                await ws.send(message)
    except ConnectionClosed:
        pass
    except Exception as exc:
        events.add({"id": conn_id, "event": "error", "error": repr(exc)})
        raise
    finally:
        for task in background:
            task.cancel()
    await ws.wait_closed()
    events.add({"id": conn_id, "event": "close", "code": ws.close_code, "reason": ws.close_reason})


class NodePeers:
    """The Node processes of the module, started on first use and stopped at its end."""

    SCRIPTS: ClassVar[dict[str, str]] = {"ws": "ws_peer.js", "websocket-node": "websocket_node_peer.js"}

    def __init__(self) -> None:
        self._peers: dict[str, NodePeer] = {}
        self._prefix: pathlib.Path | None = None
        self._unavailable: str | None = None
        self._failed: dict[str, str] = {}

    def get(self, name: str) -> NodePeer:
        if name in self._failed:
            raise RuntimeError(self._failed[name])  # once is enough to wait for a start
        if name not in self._peers:
            node = self._node()
            prefix = self._install()
            try:
                self._peers[name] = NodePeer(name, NODE_DIR / self.SCRIPTS[name], node, prefix)
            except RuntimeError as exc:
                self._failed[name] = str(exc)
                raise
        return self._peers[name]

    def _node(self) -> str:
        if self._unavailable is None:
            node, npm = shutil.which("node"), shutil.which("npm")
            if node is None or npm is None:
                self._unavailable = "Node.js and npm are needed to run the npm peers (ws, websocket)"
        if self._unavailable is not None:
            unavailable(self._unavailable)
        node = shutil.which("node")
        assert node is not None
        return node

    def _install(self) -> pathlib.Path:
        if self._prefix is None:
            try:
                self._prefix = install_npm_packages()
            except (OSError, subprocess.SubprocessError) as exc:
                self._unavailable = f"npm install failed: {exc}"
                unavailable(self._unavailable)
        assert self._prefix is not None
        return self._prefix

    def stop(self) -> None:
        for peer in self._peers.values():
            peer.stop()


def npm_prefix() -> pathlib.Path:
    cache = os.environ.get("WSKIT_CACHE") or str(pathlib.Path.home() / ".cache" / "wskit")
    return pathlib.Path(cache) / "node-interop"


def _installed_version(node_modules: pathlib.Path, package: str) -> str | None:
    try:
        version: str = json.loads((node_modules / package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None
    return version


def install_npm_packages() -> pathlib.Path:
    """Install the pinned npm packages into the cache unless there already; return the prefix."""
    prefix = npm_prefix()
    node_modules = prefix / "node_modules"

    def present() -> bool:
        for package, major in NPM_PACKAGES.items():
            version = _installed_version(node_modules, package)
            if version is None or not (version == major or version.startswith(major + ".")):
                return False
        return True

    if present():
        return prefix
    prefix.mkdir(parents=True, exist_ok=True)
    with open(prefix / ".install.lock", "w") as lock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on POSIX
            pass
        else:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another test run may be installing
        if not present():
            npm = shutil.which("npm")
            assert npm is not None
            specs = [f"{package}@{major}" for package, major in NPM_PACKAGES.items()]
            result = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--prefix", str(prefix), *specs],
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT,
            )
            if result.returncode != 0 or not present():
                raise subprocess.SubprocessError(f"exit {result.returncode}: {result.stderr[-2000:]}")
    return prefix


@pytest.fixture(scope="module")
def node_peers() -> Iterator[NodePeers]:
    peers = NodePeers()
    try:
        yield peers
    finally:
        peers.stop()


def get_peer(name: str, node_peers: NodePeers) -> Callable[[], Peer]:
    """A factory of the peer for one test, called inside its event loop."""
    if name == "websockets":
        if importlib.util.find_spec("websockets") is None:
            unavailable("the websockets package (a test dependency) is not installed")
        from websockets.version import version

        if int(version.split(".")[0]) < WEBSOCKETS_MAJOR:
            unavailable(f"websockets {version} is too old: these tests need {WEBSOCKETS_MAJOR} or newer")
        return WebsocketsPeer
    peer = node_peers.get(name)
    return lambda: peer


# --------------------------------------------------------------------------- links


@dataclasses.dataclass
class Link:
    """One connection between wskit and the peer, seen from the wskit side."""

    conn: wsclient.ClientConnection | wsserver.ServerConnection
    conn_id: str
    peer: Peer
    #: The upgrade request as wsserver saw it (wskit server side only).
    request: wsserver.WebSocketRequest | None = None

    @property
    def wskit_is_client(self) -> bool:
        return self.request is None

    async def send_command(self, op: str, **fields: Any) -> None:
        await self.conn.send(CMD + json.dumps({"op": op, **fields}))

    async def recv_frames(self, timeout: float = STEP_TIMEOUT) -> tuple[str | bytes, int]:
        """The next message and the number of frames it came in (1 unless fragments are streamed)."""
        conn = self.conn
        try:
            return await asyncio.wait_for(conn.recv(), timeout), 1
        except wsserver.InvalidState:
            pass  # this connection delivers fragments
        parts: list[str | bytes] = []
        while True:
            fragment = await asyncio.wait_for(conn.recv_fragment(), timeout)
            assert fragment.first == (not parts), fragment
            parts.append(fragment.data)
            if fragment.fin:
                break
        data: str | bytes = "".join(parts) if fragment.text else b"".join(parts)  # type: ignore[arg-type]
        return data, len(parts)

    async def recv(self, timeout: float = STEP_TIMEOUT) -> str | bytes:
        return (await self.recv_frames(timeout))[0]

    async def reply(self, op: str, timeout: float = STEP_TIMEOUT) -> dict[str, Any]:
        message = await self.recv(timeout)
        assert isinstance(message, str), f"expected the peer's {op!r} reply, got {message!r:.200}"
        answer: dict[str, Any] = json.loads(message)
        assert answer.get("op") == op, answer
        return answer

    async def command(self, op: str, **fields: Any) -> dict[str, Any]:
        await self.send_command(op, **fields)
        return await self.reply(op)

    async def echo(self, message: str | bytes) -> None:
        await self.conn.send(message)
        answer = await self.recv()
        assert type(answer) is type(message), (message[:100], answer[:100])
        assert answer == message, f"{len(message)} sent, {len(answer)} echoed, different"

    async def peer_event(self, name: str) -> dict[str, Any]:
        return await self.peer.events.wait(self.conn_id, name)

    def wskit_extensions_header(self) -> str | None:
        """The Sec-WebSocket-Extensions line wskit received: the server's answer, or the client's offer."""
        if self.request is not None:
            return self.request.headers.get("Sec-WebSocket-Extensions")
        response = self.conn.response  # type: ignore[union-attr]
        assert response is not None
        return response.headers.get("Sec-WebSocket-Extensions")


async def _close_quietly(conn: wsclient.ClientConnection | wsserver.ServerConnection) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(conn.close(), STEP_TIMEOUT)
    conn.abort()


@contextlib.asynccontextmanager
async def open_link(
    peer: Peer,
    role: str,
    *,
    protocols: tuple[str, ...] = (),
    wskit_deflate: bool = False,
    peer_deflate: bool = True,
    client_api: str = "native",
    **options: Any,
) -> AsyncIterator[Link]:
    """Connect wskit (`role` "client" or "server") and the peer; close both at the end.

    `options` go to `wsclient.connect` or `wsserver.WebSocketServer`. permessage-deflate
    is off on the wskit side unless `wskit_deflate`, on on the peer's side unless not
    `peer_deflate` (so it is negotiated only when both are set).
    """
    conn_id = new_conn_id()
    settings: dict[str, Any] = {
        "max_message_size": MAX_MESSAGE_SIZE,
        "keepalive_interval": None,
        "close_timeout": STEP_TIMEOUT / 2,
        "permessage_deflate": wskit_deflate,
        **options,
    }
    if role == "client":
        port = await peer.server_port(peer_deflate)
        client = await wsclient.connect(
            f"ws://127.0.0.1:{port}/{conn_id}",
            list(protocols) or None,
            proxy=None,
            open_timeout=STEP_TIMEOUT,
            **settings,
        )
        try:
            yield Link(client, conn_id, peer)
        finally:
            await _close_quietly(client)
        return

    accepted: asyncio.Future[tuple[wsserver.WebSocketRequest, wsserver.ServerConnection]]
    accepted = asyncio.get_running_loop().create_future()

    async def handler(request: wsserver.WebSocketRequest) -> None:
        connection = request.accept(pick_protocol(request.requested_protocols))
        if not accepted.done():
            accepted.set_result((request, connection))
        await connection.wait_closed()

    async with wsserver.WebSocketServer(handler, **settings) as server:
        port = (await server.listen("127.0.0.1", 0))[0][1]
        url = f"ws://127.0.0.1:{port}/{conn_id}"
        await peer.start_client(conn_id, url, list(protocols), peer_deflate, client_api)
        deadline = time.monotonic() + STEP_TIMEOUT
        while not accepted.done():
            failed = [event for event in peer.events.of(conn_id) if event["event"] in ("error", "close")]
            assert not failed, f"the {peer.name} client could not connect: {failed}"
            assert time.monotonic() < deadline, f"the {peer.name} client did not connect in {STEP_TIMEOUT} s"
            await asyncio.sleep(0.01)
        request, connection = accepted.result()
        try:
            yield Link(connection, conn_id, peer, request)
        finally:
            await _close_quietly(connection)


# --------------------------------------------------------------------------- checks

#: A check: ``async def check(peer, role) -> skip reason or None``.
Check = Callable[[Peer, str], Awaitable["str | None"]]
CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    def register(function: Check) -> Check:
        CHECKS[name] = function
        return function

    return register


TEXTS = [
    "hello",
    "",
    "héllo wörld",
    "日本語のテキスト",
    "emoji \U0001f680 \U0001d11e and a NUL \x00 inside",
    "x" * 125,  # the largest 7-bit length
    "y" * 126,  # the smallest 16-bit length
    "é" * 40_000,  # 80,000 bytes: a 64-bit length
]


@check("text")
async def check_text(peer: Peer, role: str) -> None:
    async with open_link(peer, role) as link:
        for text in TEXTS:
            await link.echo(text)


@check("binary")
async def check_binary(peer: Peer, role: str) -> None:
    async with open_link(peer, role) as link:
        for data in [b"", b"\x00", bytes(range(256)), os.urandom(125), os.urandom(126), os.urandom(65_536)]:
            await link.echo(data)


async def _large_both_ways(link: Link, kind: str) -> None:
    """16 MiB from wskit to the peer and from the peer to wskit, each checked by SHA-256."""
    binary = kind == "binary"
    sent = os.urandom(LARGE) if binary else random_text(LARGE)
    raw = sent if isinstance(sent, bytes) else sent.encode()
    await link.send_command("digest")
    await link.conn.send(sent)
    answer = await link.reply("digest", LARGE_TIMEOUT)
    assert (answer["kind"], answer["length"], answer["sha256"]) == (kind, len(raw), sha256(raw)), "wskit -> peer"

    await link.send_command("generate", kind=kind, size=LARGE)
    received = await link.recv(LARGE_TIMEOUT)
    answer = await link.reply("generate", LARGE_TIMEOUT)
    assert isinstance(received, bytes if binary else str)
    raw = received if isinstance(received, bytes) else received.encode()
    assert answer["length"] >= LARGE
    assert (len(raw), sha256(raw)) == (answer["length"], answer["sha256"]), "peer -> wskit"


@check("large-binary")
async def check_large_binary(peer: Peer, role: str) -> None:
    # wskit's default fragmentation (64 KiB frames) must suit the peer's default frame limits.
    async with open_link(peer, role) as link:
        await _large_both_ways(link, "binary")


@check("large-text")
async def check_large_text(peer: Peer, role: str) -> None:
    async with open_link(peer, role) as link:
        await _large_both_ways(link, "text")


@check("fragmented-by-wskit")
async def check_fragmented_by_wskit(peer: Peer, role: str) -> None:
    """wskit splits messages into 7-byte frames (text split inside characters), then by hand."""
    async with open_link(peer, role, fragmentation_threshold=7) as link:
        await link.echo("héllo wörld, 日本語, \U0001f680 " * 8)
        await link.echo(bytes(range(256)) * 4)
        await link.echo("short")  # below the threshold: one frame
        conn = link.conn
        for part, fin in [("frag", False), ("mented ", False), ("", False), ("é\U0001f680", True)]:
            await conn.send_fragment(part, fin=fin)
        assert await link.recv() == "fragmented é\U0001f680"
        for data, fin in [(b"\x00", False), (b"", False), (b"\xff" * 300, True)]:
            await conn.send_fragment(data, fin=fin)
        assert await link.recv() == b"\x00" + b"\xff" * 300


@check("fragmented-by-peer")
async def check_fragmented_by_peer(peer: Peer, role: str) -> None:
    """The peer sends messages in frames of N bytes; wskit streams the frames and counts them."""
    async with open_link(peer, role, assemble_fragments=False) as link:
        text = ("héllo wörld, 日本語, \U0001f680 " * 20).encode()
        binary = os.urandom(10_000)
        for kind, data, size in [("text", text, 5), ("binary", binary, 1000), ("text", text, 4096)]:
            await link.send_command("fragments", kind=kind, data=b64(data), size=size)
            received, frames = await link.recv_frames()
            expected = data.decode() if kind == "text" else data
            assert received == expected, f"{kind} in {size}-byte frames: different"
            needed = -(-len(data) // size)
            # websockets ends an iterable with an empty final frame: one more.
            assert needed <= frames <= needed + 1, f"{kind}: {frames} frames for {needed} fragments"
        await link.echo("still in sync")


@check("ping-by-wskit")
async def check_ping_by_wskit(peer: Peer, role: str) -> None:
    async with open_link(peer, role) as link:
        for payload in [b"wskit ping", b"", bytes(range(125))]:
            latency = await asyncio.wait_for(await link.conn.ping(payload), STEP_TIMEOUT)
            assert latency >= 0
        # Several outstanding at once, each answered.
        waiters = [await link.conn.ping(f"ping {i}".encode()) for i in range(3)]
        await asyncio.wait_for(asyncio.gather(*waiters), STEP_TIMEOUT)
        assert link.conn.latency is not None
        await link.echo("after the pings")


@check("ping-by-peer")
async def check_ping_by_peer(peer: Peer, role: str) -> None:
    async with open_link(peer, role) as link:
        for payload in [b"peer ping", b"", bytes(range(125))]:
            answer = await link.command("ping", data=b64(payload))
            assert answer["pong"] == b64(payload), f"no pong from wskit for {payload!r}: {answer}"
        await link.echo("after the pings")


async def _close_by_wskit(peer: Peer, role: str, code: int) -> None:
    async with open_link(peer, role) as link:
        await link.echo("before the close")
        await asyncio.wait_for(link.conn.close(code, CLOSE_REASON_WSKIT), STEP_TIMEOUT)
        with pytest.raises(wsclient.ConnectionClosed) as info:
            await link.conn.recv()
        # The peer's answer may carry another code (WebSocket-Node always answers 1000).
        assert info.value.was_clean, f"closing handshake incomplete: {info.value}"
        event = await link.peer_event("close")
        assert (event["code"], event["reason"]) == (code, CLOSE_REASON_WSKIT), event


async def _close_by_peer(peer: Peer, role: str, code: int) -> None:
    async with open_link(peer, role) as link:
        await link.echo("before the close")
        await link.send_command("close", code=code, reason=CLOSE_REASON_PEER)
        with pytest.raises(wsclient.ConnectionClosed) as info:
            await asyncio.wait_for(link.conn.recv(), STEP_TIMEOUT)
        closed = info.value
        assert (closed.code, closed.reason, closed.was_clean) == (code, CLOSE_REASON_PEER, True), closed
        expected = wsclient.ConnectionClosedOK if code == 1000 else wsclient.ConnectionClosedError
        assert isinstance(closed, expected)
        await asyncio.wait_for(link.conn.wait_closed(), STEP_TIMEOUT)
        assert (link.conn.close_code, link.conn.close_reason) == (code, CLOSE_REASON_PEER)
        # wskit echoes the code (RFC 6455 section 5.5.1); the peer sees its close complete.
        event = await link.peer_event("close")
        assert event["code"] == code, event


for _code in (1000, 4321):
    check(f"close-{_code}-by-wskit")(functools.partial(_close_by_wskit, code=_code))
    check(f"close-{_code}-by-peer")(functools.partial(_close_by_peer, code=_code))


@check("subprotocol")
async def check_subprotocol(peer: Peer, role: str) -> None:
    """The client offers several, the server picks its preference; both sides agree."""
    for offered, chosen in [
        (("other", "chat.v1", "chat.v2"), "chat.v2"),
        (("chat.v1",), "chat.v1"),
        ((), None),
    ]:
        async with open_link(peer, role, protocols=offered) as link:
            assert link.conn.subprotocol == chosen, offered
            info = await link.command("info")
            assert (info["protocol"] or None) == chosen, (offered, info)
            if link.request is not None:
                assert link.request.requested_protocols == list(offered)
            await link.echo("with a subprotocol")


async def _compressed_traffic(link: Link) -> None:
    """Messages through a compressed connection, and the bytes on the wire."""
    compressible = "compressible text, " * 50_000  # 950,000 bytes
    before = await link.command("info")
    await link.echo(compressible)
    after = await link.command("info")
    # What wskit sent, as the peer counted it on its socket (all peers count it).
    read = after["bytesRead"] - before["bytesRead"]
    assert read < len(compressible) // 20, f"wskit sent {read} bytes for {len(compressible)}: not compressed"
    if before["bytesWritten"] is not None:
        written = after["bytesWritten"] - before["bytesWritten"]
        assert written < len(compressible) // 20, f"the peer sent {written} bytes: not compressed"
    messages: list[str | bytes] = [compressible, compressible, "", "small", b"", os.urandom(70_000), b"abc" * 30_000]
    for message in messages:
        await link.echo(message)  # context takeover: the same text again compresses to little
    for text in TEXTS:
        await link.echo(text)
    # Compressed messages in several frames, both ways.
    data = ("deflate and fragments, " * 2000).encode()
    await link.send_command("fragments", kind="text", data=b64(data), size=1000)
    assert await link.recv() == data.decode()


@check("deflate")
async def check_deflate(peer: Peer, role: str) -> str | None:
    if not peer.supports_deflate:
        # Still connect with wskit offering (client) or accepting (server) it.
        async with open_link(peer, role, wskit_deflate=True) as link:
            assert link.conn.extensions == []
            assert (await link.command("info"))["extensions"] == ""
            await link.echo("compressible text, " * 1000)
        return (
            f"permessage-deflate not supported by peer: {peer.name} implements no extension "
            "(its server ignores the offer, its client offers none); the connection without it "
            "was checked here and in deflate-declined-by-peer"
        )
    async with open_link(peer, role, wskit_deflate=True, fragmentation_threshold=4096) as link:
        assert link.conn.extensions == ["permessage-deflate"]
        info = await link.command("info")
        header = link.wskit_extensions_header()
        assert header is not None
        assert header.startswith("permessage-deflate"), header
        if link.wskit_is_client:
            # What the peer's server answered is what wsclient received.
            assert info["extensions"] == header, (info, header)
            assert "permessage-deflate" in info["offered"], info
        else:
            # The peer's client offered it and received wsserver's answer.
            assert info["extensions"].startswith("permessage-deflate"), info
        await _compressed_traffic(link)
    return None


@check("deflate-declined-by-peer")
async def check_deflate_declined_by_peer(peer: Peer, role: str) -> None:
    """wskit offers (client) or accepts (server) permessage-deflate; the peer does not."""
    async with open_link(peer, role, wskit_deflate=True, peer_deflate=False) as link:
        assert link.conn.extensions == []
        info = await link.command("info")
        assert info["extensions"] == "", info
        if link.wskit_is_client:
            assert link.wskit_extensions_header() is None
        else:
            offered = link.wskit_extensions_header()
            assert offered is None or "permessage-deflate" not in offered, offered
        await link.echo("compressible text, " * 1000)
        await link.echo(b"\x00" * 10_000)


@check("deflate-declined-by-wskit")
async def check_deflate_declined_by_wskit(peer: Peer, role: str) -> None:
    """The peer offers (client) or accepts (server) permessage-deflate; wskit does not."""
    async with open_link(peer, role, wskit_deflate=False, peer_deflate=True) as link:
        assert link.conn.extensions == []
        info = await link.command("info")
        assert info["extensions"] == "", info
        if link.wskit_is_client:
            assert link.wskit_extensions_header() is None
        elif peer.supports_deflate:
            offered = link.wskit_extensions_header()
            assert offered is not None
            assert "permessage-deflate" in offered, offered
        await link.echo("compressible text, " * 1000)
        await link.echo(b"\x00" * 10_000)


# --------------------------------------------------------------------------- the matrix

PEERS = ["websockets", "ws", "websocket-node"]
#: (pairing id, peer, wskit's role); pairing ids read client-to-server.
PAIRINGS = [
    pairing
    for peer in PEERS
    for pairing in ((f"wsclient-to-{peer}", peer, "client"), (f"{peer}-to-wsserver", peer, "server"))
]


def run_with_peer(make_peer: Callable[[], Peer], body: Callable[[Peer], Awaitable[str | None]]) -> str | None:
    """Run `body` with a peer in a new event loop, bounded by `TEST_TIMEOUT`; return its skip reason.

    Fails when the peer reported an error on one of the test's connections (or a fatal
    one of its own), even if the checks passed.
    """
    first = len(_conn_ids)

    async def main() -> str | None:
        peer = make_peer()
        try:
            result = await body(peer)
            problems = peer.events.problems(_conn_ids[first:])
            assert not problems, f"the {peer.name} peer reported errors: {problems}"
            return result
        except BaseException:
            diagnostics = peer.diagnostics()
            if diagnostics:
                print(f"--- {peer.name} output ---\n{diagnostics}", file=sys.stderr)
            raise
        finally:
            await peer.aclose()

    async def bounded() -> str | None:
        return await asyncio.wait_for(main(), TEST_TIMEOUT)

    return asyncio.run(bounded())


@pytest.mark.parametrize(
    ("peer_name", "role", "check_name"),
    [pytest.param(peer, role, name, id=f"{pairing}:{name}") for pairing, peer, role in PAIRINGS for name in CHECKS],
)
def test_interop(node_peers: NodePeers, peer_name: str, role: str, check_name: str) -> None:
    skip_reason = run_with_peer(get_peer(peer_name, node_peers), lambda peer: CHECKS[check_name](peer, role))
    if skip_reason is not None:
        pytest.skip(skip_reason)


# --------------------------------------------------------------------------- W3C APIs

W3C_MESSAGES: list[str | bytes] = ["hello", "", "héllo wörld \U0001f680", b"\x00\xff", b"", os.urandom(1024 * 1024)]


async def _wsclient_w3c(peer: Peer) -> None:
    """wsclient's W3CWebSocket against the peer's server: open, messages, close both ways."""
    for closer in ("wskit", "peer"):
        conn_id = new_conn_id()
        url = f"ws://127.0.0.1:{await peer.server_port(True)}/{conn_id}"
        received: asyncio.Queue[str | bytes] = asyncio.Queue()
        ws = wsclient.W3CWebSocket(
            url, ["other", "chat.v1", "chat.v2"], proxy=None, max_message_size=MAX_MESSAGE_SIZE, keepalive_interval=None
        )
        ws.onmessage = lambda event, queue=received: queue.put_nowait(event.data)
        try:
            await asyncio.wait_for(ws.wait_open(), STEP_TIMEOUT)
            assert ws.protocol == "chat.v2"
            ws.send(CMD + json.dumps({"op": "info"}))
            info = json.loads(await asyncio.wait_for(received.get(), STEP_TIMEOUT))
            assert info["protocol"] == "chat.v2", info
            # `extensions` is the server's Sec-WebSocket-Extensions value.
            assert ws.extensions == info["extensions"], (ws.extensions, info)
            assert ws.extensions.startswith("permessage-deflate") == peer.supports_deflate
            for message in W3C_MESSAGES:
                ws.send(message)
                assert await asyncio.wait_for(received.get(), STEP_TIMEOUT) == message
            if closer == "wskit":
                ws.close(4321, CLOSE_REASON_WSKIT)
                event = await asyncio.wait_for(ws.wait_closed(), STEP_TIMEOUT)
                assert event.wasClean, event
                closed = await peer.events.wait(conn_id, "close")
                assert (closed["code"], closed["reason"]) == (4321, CLOSE_REASON_WSKIT), closed
            else:
                ws.send(CMD + json.dumps({"op": "close", "code": 4321, "reason": CLOSE_REASON_PEER}))
                event = await asyncio.wait_for(ws.wait_closed(), STEP_TIMEOUT)
                assert (event.code, event.reason, event.wasClean) == (4321, CLOSE_REASON_PEER, True), event
        finally:
            if ws.readyState != ws.CLOSED:
                ws.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(ws.wait_closed(), STEP_TIMEOUT)


async def _w3c_to_wsserver(peer: Peer) -> None:
    """WebSocket-Node's W3CWebSocket against wsserver: open, messages, close both ways."""
    offered = ("other", "chat.v1", "chat.v2")
    async with open_link(peer, "server", protocols=offered, client_api="w3c") as link:
        assert link.conn.subprotocol == "chat.v2"
        info = await link.command("info")
        assert (info["protocol"], info["extensions"]) == ("chat.v2", ""), info
        for message in W3C_MESSAGES:
            if message == "":
                continue  # WebSocket-Node's W3CWebSocket drops empty text messages (its onMessage tests utf8Data)
            await link.echo(message)
        await asyncio.wait_for(link.conn.close(4321, CLOSE_REASON_WSKIT), STEP_TIMEOUT)
        event = await link.peer_event("w3c-close")
        assert (event["code"], event["reason"]) == (4321, CLOSE_REASON_WSKIT), event
    async with open_link(peer, "server", protocols=offered, client_api="w3c") as link:
        await link.send_command("close", code=4321, reason=CLOSE_REASON_PEER)
        with pytest.raises(wsclient.ConnectionClosed) as info_closed:
            await asyncio.wait_for(link.conn.recv(), STEP_TIMEOUT)
        closed = info_closed.value
        assert (closed.code, closed.reason, closed.was_clean) == (4321, CLOSE_REASON_PEER, True), closed
        event = await link.peer_event("w3c-close")
        assert event["code"] == 4321, event


@pytest.mark.parametrize(
    ("peer_name", "role"),
    [
        pytest.param("websockets", "client", id="wsclient-W3CWebSocket-to-websockets"),
        pytest.param("ws", "client", id="wsclient-W3CWebSocket-to-ws"),
        pytest.param("websocket-node", "client", id="wsclient-W3CWebSocket-to-websocket-node"),
        pytest.param("websocket-node", "server", id="websocket-node-W3CWebSocket-to-wsserver"),
    ],
)
def test_w3c_api(node_peers: NodePeers, peer_name: str, role: str) -> None:
    """The browser-style APIs: wsclient's W3CWebSocket, and WebSocket-Node's against wsserver."""
    run_with_peer(get_peer(peer_name, node_peers), _wsclient_w3c if role == "client" else _w3c_to_wsserver)
