"""The server: TLS, IPv6, Unix sockets, several listeners, registry, broadcast, shutdown."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import tempfile
from typing import Any

import pytest
import trustme
from websockets.asyncio.client import connect, unix_connect

import wsserver
from wsserver import InvalidState, ServerConnection, WebSocketRequest, WebSocketServer


async def echo(request: WebSocketRequest) -> None:
    connection = request.accept()
    async for message in connection:
        await connection.send(message)


class Collecting:
    """Accepts every request and keeps the connection open until the client closes it."""

    def __init__(self) -> None:
        self.connections: list[ServerConnection] = []
        self.requests: list[WebSocketRequest] = []

    async def __call__(self, request: WebSocketRequest) -> None:
        self.requests.append(request)
        connection = request.accept()
        self.connections.append(connection)
        async for message in connection:
            await connection.send(message)


@pytest.fixture(scope="module")
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server and a client context trusting a throwaway CA."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(client_context)
    return server_context, client_context


# ----------------------------------------------------------------- listening


async def test_tls(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_context, client_context = tls
    handler = Collecting()
    async with WebSocketServer(handler) as server:
        ((_host, port),) = await server.listen("127.0.0.1", 0, ssl=server_context)
        async with connect(f"wss://localhost:{port}/", ssl=client_context) as ws:
            await ws.send("secure")
            assert await ws.recv() == "secure"
        assert handler.requests[0].secure
        assert handler.connections[0].secure


async def test_plain_and_tls_at_once(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_context, client_context = tls
    handler = Collecting()
    async with WebSocketServer(handler) as server:
        plain_port = (await server.listen("127.0.0.1", 0))[0][1]
        tls_port = (await server.listen("127.0.0.1", 0, ssl=server_context))[0][1]
        assert {address[1] for address in server.addresses} == {plain_port, tls_port}
        async with (
            connect(f"ws://127.0.0.1:{plain_port}/") as a,
            connect(f"wss://localhost:{tls_port}/", ssl=client_context) as b,
        ):
            await a.send("a")
            await b.send("b")
            assert (await a.recv(), await b.recv()) == ("a", "b")
            assert len(server.connections) == 2
    assert sorted(request.secure for request in handler.requests) == [False, True]


async def test_tls_handshake_counts_toward_open_timeout(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_context, _ = tls
    async with WebSocketServer(echo, open_timeout=0.2) as server:
        port = (await server.listen("127.0.0.1", 0, ssl=server_context))[0][1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)  # no TLS handshake
        assert await asyncio.wait_for(reader.read(), 10) == b""
        writer.close()


async def test_ipv6(tools: Any) -> None:
    if not tools.has_ipv6():
        pytest.skip("this machine has no IPv6 loopback (::1)")
    handler = Collecting()
    async with WebSocketServer(handler) as server:
        addresses = await server.listen("::1", 0)
        port = addresses[0][1]
        assert addresses[0][0] == "::1"
        async with connect(f"ws://[::1]:{port}/") as ws:
            await ws.send("six")
            assert await ws.recv() == "six"
    assert handler.requests[0].remote_address == "::1"


async def test_unix_socket() -> None:
    handler = Collecting()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "ws.sock")
        async with WebSocketServer(handler, trusted_proxies=["unix"]) as server:
            assert await server.listen_unix(path) == [path]
            async with unix_connect(path, "ws://localhost/", additional_headers={"X-Forwarded-For": "192.0.2.7"}) as ws:
                await ws.send("local")
                assert await ws.recv() == "local"
        # A proxy on the Unix socket was trusted: the client's address comes from it.
        assert handler.requests[0].remote_address == "192.0.2.7"
        async with WebSocketServer(handler) as server:
            await server.listen_unix(path)  # the stale socket file is replaced
            async with unix_connect(path, "ws://localhost/", additional_headers={"X-Forwarded-For": "192.0.2.7"}):
                pass
        assert handler.requests[1].remote_address is None


async def test_localhost_name_and_reuse_port() -> None:
    async with WebSocketServer(echo) as server:
        addresses = await server.listen("localhost", 0, reuse_port=hasattr(socket, "SO_REUSEPORT"))
        assert addresses
        async with (
            connect(f"ws://127.0.0.1:{addresses[0][1]}/")
            if addresses[0][0] == "127.0.0.1"
            else connect(f"ws://[::1]:{addresses[0][1]}/") as ws
        ):
            await ws.send("x")
            assert await ws.recv() == "x"


# ---------------------------------------------------------- registry, serve


async def test_registry_tracks_open_connections(tools: Any) -> None:
    handler = Collecting()
    async with tools.serve(handler) as (server, port):
        clients = [await connect(f"ws://127.0.0.1:{port}/") for _ in range(3)]
        await tools.wait_until(lambda: len(server.connections) == 3)
        assert set(server.connections) == set(handler.connections)
        await clients[0].close()
        await handler.connections[0].wait_closed()
        await tools.wait_until(lambda: len(server.connections) == 2)
        assert handler.connections[0] not in server.connections
        for client in clients[1:]:
            await client.close()
        await tools.wait_until(lambda: not server.connections)


async def test_serve_forever_until_shutdown_and_cancellation() -> None:
    server = WebSocketServer(echo)
    with pytest.raises(InvalidState, match="listen"):
        await server.serve_forever()
    await server.listen()
    task = asyncio.create_task(server.serve_forever())
    await asyncio.sleep(0)
    assert not task.done()
    await server.shutdown()
    await asyncio.wait_for(task, 5)
    with pytest.raises(InvalidState, match="shutting down"):
        await server.listen()

    # Cancelling serve_forever (Ctrl-C under asyncio.run) shuts the server down.
    server = WebSocketServer(echo)
    port = (await server.listen())[0][1]
    client = await connect(f"ws://127.0.0.1:{port}/")
    task = asyncio.create_task(server.serve_forever())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(client.wait_closed(), 5)
    assert client.close_code == 1001
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


# -------------------------------------------------------------------- shutdown


async def test_graceful_shutdown_sends_1001_and_waits_for_handlers(tools: Any) -> None:
    finished: list[str] = []

    async def handler(request: WebSocketRequest) -> None:
        connection = request.accept()
        async for _ in connection:
            pass
        finished.append(request.path)

    server = WebSocketServer(handler)
    port = (await server.listen())[0][1]
    clients = [await connect(f"ws://127.0.0.1:{port}/{i}") for i in range(3)]
    await tools.wait_until(lambda: len(server.connections) == 3)
    await server.shutdown()
    for client in clients:
        await asyncio.wait_for(client.wait_closed(), 5)
        assert client.close_code == 1001
    assert sorted(finished) == ["/0", "/1", "/2"]
    assert not server.connections
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


async def test_shutdown_aborts_what_does_not_close_in_time(tools: Any) -> None:
    cancelled = asyncio.Event()

    async def stubborn(request: WebSocketRequest) -> None:
        request.accept()
        try:
            await asyncio.Event().wait()  # ignores the connection closing
        except asyncio.CancelledError:
            cancelled.set()
            raise

    server = WebSocketServer(stubborn, close_timeout=30)
    port = (await server.listen())[0][1]
    reader, writer, _ = await tools.upgrade(port)  # a raw peer that never answers the close
    await tools.wait_until(lambda: len(server.connections) == 1)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await server.shutdown(timeout=0.3)
    assert loop.time() - start < 5
    assert await tools.read_close(reader) == (1001, b"")
    try:
        await tools.at_eof(reader)
    except ConnectionResetError:
        pass
    assert cancelled.is_set()
    assert not server.connections
    writer.close()


async def test_shutdown_twice_and_custom_code(tools: Any) -> None:
    server = WebSocketServer(echo)
    port = (await server.listen())[0][1]
    client = await connect(f"ws://127.0.0.1:{port}/")
    await tools.wait_until(lambda: len(server.connections) == 1)
    with pytest.raises(ValueError, match="1006"):
        await server.shutdown(1006)
    await asyncio.gather(server.shutdown(1012, "restart"), server.shutdown())
    await asyncio.wait_for(client.wait_closed(), 5)
    assert (client.close_code, client.close_reason) == (1012, "restart")


# -------------------------------------------------------------------- broadcast


async def test_broadcast_skips_a_slow_client(tools: Any) -> None:
    handler = Collecting()
    write_limit = 16 * 1024
    async with tools.serve(handler, write_limit=write_limit, permessage_deflate=False) as (server, port):
        fast = await connect(f"ws://127.0.0.1:{port}/fast", max_size=None)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        sock.setblocking(False)
        slow_reader, slow_writer = await asyncio.open_connection(sock=sock)
        slow_writer.write(tools.request("/slow"))
        assert (await tools.read_response(slow_reader)).status == 101
        await tools.wait_until(lambda: len(server.connections) == 2)
        slow = next(c for c in server.connections if c.request and c.request.path == "/slow")
        message = b"b" * 8192
        counts = []
        rounds = 0
        # The slow client never reads: its buffer fills and broadcasts start skipping it.
        while True:
            counts.append(server.broadcast(message))
            assert await fast.recv() == message  # the fast client never waits
            assert slow.buffered_amount <= write_limit + len(message) + 14
            rounds += 1
            if counts[-1] == 1:
                break
            assert rounds < 5000
        assert counts[:-1] == [2] * (len(counts) - 1)
        for _ in range(10):
            assert server.broadcast(message) == 1
            assert await fast.recv() == message
        assert server.broadcast("only fast", connections=[c for c in server.connections if c is not slow]) == 1
        assert await fast.recv() == "only fast"
        with pytest.raises(TypeError):
            server.broadcast(42)  # type: ignore[arg-type]
        await fast.close()
        slow_writer.close()


# ------------------------------------------------------------------ tunables


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_message_size": -1},
        {"fragmentation_threshold": 0},
        {"keepalive_interval": 0},
        {"close_timeout": -1.0},
        {"open_timeout": 0},
        {"max_queue": 0},
        {"write_limit": -1},
        {"max_pending_handshakes": 0},
        {"max_header_count": 0},
        {"trusted_proxies": ["not an address"]},
    ],
)
def test_invalid_tunables(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        WebSocketServer(echo, **kwargs)


def test_permessage_deflate_of_the_wrong_type() -> None:
    with pytest.raises(TypeError, match="permessage_deflate"):
        WebSocketServer(echo, permessage_deflate="yes")  # type: ignore[arg-type]


def test_defaults_are_documented_constants() -> None:
    server = WebSocketServer()
    assert server.handler is None
    assert server.http_handler is None
    assert not server.auto_accept
    assert wsserver.DEFAULT_OPEN_TIMEOUT == 10.0
    assert wsserver.DEFAULT_MAX_PENDING_HANDSHAKES == 1024
    options = server._settings.options
    assert options.max_message_size == 1024 * 1024
    assert options.max_frame_size is None
    assert [factory.name for factory in server._settings.factories] == ["permessage-deflate"]


async def test_accept_takes_subprotocol_and_its_former_name_protocol(tools: Any) -> None:
    import warnings

    outcomes: list[str | None] = []

    async def handler(request: wsserver.WebSocketRequest) -> None:
        if request.path == "/new":
            connection = request.accept(subprotocol="chat")
        elif request.path == "/both":
            try:
                request.accept(subprotocol="chat", protocol="chat")
            except TypeError as exc:
                outcomes.append(str(exc))
            request.reject(400)
            return
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                connection = request.accept(protocol="chat")
            outcomes.append(str(caught[0].message) if caught else None)
        outcomes.append(connection.subprotocol)
        await connection.close()

    async with tools.serve(handler) as (_, port):
        for path in ("/new", "/old", "/both"):
            reader, writer = await tools.open(port)
            writer.write(tools.request(path, headers=[("Sec-WebSocket-Protocol", "chat")]))
            response = await tools.read_response(reader)
            assert response.status == (400 if path == "/both" else 101)
            writer.close()
        await tools.wait_until(lambda: len(outcomes) == 4)
    assert outcomes[0] == "chat"
    assert "deprecated" in str(outcomes[1])
    assert outcomes[2] == "chat"
    assert "not both" in str(outcomes[3])
