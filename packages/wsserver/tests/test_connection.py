"""Accepted connections: interop with `websockets`, close codes, keepalive, close timeout,
backpressure both ways, streaming mode, strict protocol behaviour, handler endings."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError as WsClosedError

import wsserver
from wsserver import CloseCode, ConnectionClosedOK, Fragment, ServerConnection, WebSocketRequest


async def echo(request: WebSocketRequest) -> None:
    connection = request.accept(request.requested_protocols[0] if request.requested_protocols else None)
    async for message in connection:
        await connection.send(message)


class Accepting:
    """A handler that accepts, publishes the connection, and waits until told to return."""

    def __init__(self) -> None:
        self.connection: ServerConnection | None = None
        self.opened = asyncio.Event()
        self.done = asyncio.Event()
        self.error: BaseException | None = None

    async def __call__(self, request: WebSocketRequest) -> None:
        self.connection = request.accept()
        self.opened.set()
        try:
            await self.done.wait()
        except BaseException as exc:  # record, for the test to inspect
            self.error = exc
            raise

    async def wait(self) -> ServerConnection:
        await asyncio.wait_for(self.opened.wait(), 10)
        assert self.connection is not None
        return self.connection


# ---------------------------------------------------------- interoperability


async def test_websockets_client_interop(tools: Any) -> None:
    async with (
        tools.serve(echo) as (_, port),
        connect(f"ws://127.0.0.1:{port}/", subprotocols=["proto.a", "proto.b"]) as ws,  # type: ignore[list-item]
    ):
        assert ws.subprotocol == "proto.a"
        assert [extension.name for extension in ws.protocol.extensions] == ["permessage-deflate"]
        await ws.send("text é")
        assert await ws.recv() == "text é"
        await ws.send(b"\x00\xff" * 10)
        assert await ws.recv() == b"\x00\xff" * 10
        big = bytes(range(256)) * 4096  # 1 MiB: the default limit, inclusive
        await ws.send(big)
        assert await ws.recv() == big
        latency = await asyncio.wait_for(await ws.ping(b"abc"), 5)
        assert latency >= 0


async def test_websockets_client_without_deflate(tools: Any) -> None:
    async with tools.serve(echo, permessage_deflate=False) as (_, port), connect(f"ws://127.0.0.1:{port}/") as ws:
        assert ws.protocol.extensions == []
        await ws.send("x" * 100_000)
        assert await ws.recv() == "x" * 100_000


async def test_close_codes_both_ways(tools: Any) -> None:
    handler = Accepting()
    async with tools.serve(handler) as (_, port):
        # The client closes with a code and reason: the server reports them.
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            connection = await handler.wait()
            await ws.close(4000, "client done")
            await connection.wait_closed()
            assert (connection.close_code, connection.close_reason) == (4000, "client done")
            with pytest.raises(wsserver.ConnectionClosedError) as info:
                await connection.recv()
            assert info.value.code == 4000
        # The server closes: the client sees the code and reason.
        handler.opened.clear()
        async with connect(f"ws://127.0.0.1:{port}/") as ws:
            connection = await handler.wait()
            await connection.close(4001, "server done")
            with pytest.raises(WsClosedError):
                await ws.recv()
            assert ws.close_code == 4001
            assert ws.close_reason == "server done"
            with pytest.raises(ValueError, match="125"):
                await connection.ping(b"x" * 126)
        handler.done.set()


async def test_close_without_code_is_1005_and_lost_connection_1006(tools: Any) -> None:
    handler = Accepting()
    async with tools.serve(handler) as (_, port):
        reader, writer, _ = await tools.upgrade(port)
        connection = await handler.wait()
        writer.write(tools.close_frame(None))
        assert await tools.read_close(reader) == (None, b"")
        writer.close()
        await connection.wait_closed()
        assert connection.close_code == CloseCode.NO_STATUS_RCVD

        handler.opened.clear()
        reader, writer, _ = await tools.upgrade(port)
        connection = await handler.wait()
        with pytest.raises(ValueError, match="1005"):
            await connection.close(1005)  # may not be sent
        writer.transport.abort()
        await connection.wait_closed()
        assert connection.close_code == CloseCode.ABNORMAL_CLOSURE
        handler.done.set()


async def test_message_too_big_fails_with_1009(tools: Any) -> None:
    async with tools.serve(echo, max_message_size=1000) as (_, port):
        reader, writer, _ = await tools.upgrade(port)
        writer.write(tools.frame(0x2, b"x" * 1000))
        assert await tools.read_frame(reader) == (True, 0x2, b"x" * 1000)
        writer.write(tools.frame(0x2, b"x" * 1001))
        code, _ = await tools.read_close(reader)
        assert code == 1009
        writer.close()


# ------------------------------------------------------------- handler ends


async def test_handler_return_closes_1000_and_error_closes_1011(tools: Any, caplog: pytest.LogCaptureFixture) -> None:
    async def handler(request: WebSocketRequest) -> None:
        connection = request.accept()
        message = await connection.recv()
        if message == "fail":
            raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="wsserver"):
        async with tools.serve(handler) as (_, port):
            reader, writer, _ = await tools.upgrade(port)
            writer.write(tools.frame(0x1, b"return"))
            assert await tools.read_close(reader) == (1000, b"")
            writer.close()
            reader, writer, _ = await tools.upgrade(port)
            writer.write(tools.frame(0x1, b"fail"))
            assert await tools.read_close(reader) == (1011, b"")  # no detail on the wire
            writer.close()
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "handler failed" in errors[0].getMessage()
    assert errors[0].exc_info is not None


async def test_connection_closed_escaping_the_handler_is_not_an_error(
    tools: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ended = asyncio.Event()

    async def handler(request: WebSocketRequest) -> None:
        connection = request.accept()
        try:
            while True:
                await connection.recv()  # raises ConnectionClosedOK after the client's close
        finally:
            ended.set()

    with caplog.at_level(logging.DEBUG, logger="wsserver"):
        async with tools.serve(handler) as (_, port):
            reader, writer, _ = await tools.upgrade(port)
            writer.write(tools.close_frame(1000))
            assert await tools.read_close(reader) == (1000, b"")
            await asyncio.wait_for(ended.wait(), 5)
            writer.close()
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


# ------------------------------------------------------ keepalive and close


async def test_keepalive_drops_a_silent_peer(tools: Any) -> None:
    handler = Accepting()
    async with tools.serve(handler, keepalive_interval=0.2, keepalive_grace=0.2) as (_, port):
        reader, writer, _ = await tools.upgrade(port)
        connection = await handler.wait()
        fin, opcode, _ = await tools.read_frame(reader)
        assert (fin, opcode) == (True, 0x9)  # the keepalive ping, never answered
        await asyncio.wait_for(connection.wait_closed(), 5)
        assert connection.close_code == CloseCode.ABNORMAL_CLOSURE
        assert connection.close_reason == "keepalive timeout"
        assert await tools.at_eof(reader) == b""
        writer.close()
        handler.done.set()


async def test_keepalive_keeps_an_answering_peer(tools: Any) -> None:
    handler = Accepting()
    async with tools.serve(handler, keepalive_interval=0.1, keepalive_grace=0.1) as (_, port):
        reader, writer, _ = await tools.upgrade(port)
        connection = await handler.wait()
        for _ in range(4):  # four rounds: well past interval + grace
            _, opcode, payload = await tools.read_frame(reader)
            assert opcode == 0x9
            writer.write(tools.frame(0xA, payload))
        assert connection.open
        assert connection.latency is not None
        writer.close()
        handler.done.set()


async def test_close_timeout_aborts_a_peer_that_never_answers(tools: Any) -> None:
    handler = Accepting()
    async with tools.serve(handler, close_timeout=0.2) as (_, port):
        reader, writer, _ = await tools.upgrade(port)
        connection = await handler.wait()
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.wait_for(connection.close(1000), 5)  # the peer never answers
        assert 0.15 < loop.time() - start < 3
        assert connection.close_code == CloseCode.ABNORMAL_CLOSURE
        assert await tools.read_close(reader) == (1000, b"")
        try:
            assert await tools.at_eof(reader) == b""
        except ConnectionResetError:
            pass  # aborted: a reset is what a peer that never answers gets
        writer.close()
        handler.done.set()


# -------------------------------------------------------------- backpressure


async def test_send_blocks_and_memory_stays_bounded_when_the_client_never_reads(tools: Any) -> None:
    write_limit = 64 * 1024
    message = b"m" * 16 * 1024
    total = 2000  # 32 MiB: far more than the socket buffers hold
    sent = 0
    max_buffered = 0
    handler = Accepting()

    async def sender(connection: ServerConnection) -> None:
        nonlocal sent, max_buffered
        for _ in range(total):
            await connection.send(message)
            sent += 1
            max_buffered = max(max_buffered, connection.buffered_amount)

    async with tools.serve(handler, write_limit=write_limit, permessage_deflate=False) as (_, port):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        sock.setblocking(False)
        reader, writer = await asyncio.open_connection(sock=sock)
        writer.write(tools.request())
        assert (await tools.read_response(reader)).status == 101
        connection = await handler.wait()
        task = asyncio.create_task(sender(connection))
        # The transport's buffer fills up to the limit; then send() waits.
        await tools.wait_until(lambda: connection.buffered_amount >= write_limit)
        stalled = sent
        for _ in range(200):
            await asyncio.sleep(0)
        assert sent == stalled < total
        assert not task.done()
        assert max_buffered <= write_limit + len(message) + 14
        # Once the client reads, every message arrives, in order.
        for _ in range(total):
            fin, opcode, payload = await tools.read_frame(reader)
            assert (fin, opcode, payload) == (True, 0x2, message)
        await asyncio.wait_for(task, 10)
        assert max_buffered <= write_limit + len(message) + 14
        writer.close()
        handler.done.set()


async def test_reading_pauses_while_the_application_does_not_read(tools: Any) -> None:
    handler = Accepting()
    message = b"r" * 16 * 1024
    total = 4096  # 64 MiB: more than the kernel's buffers can take (tcp_rmem max is often 32 MiB)
    async with tools.serve(handler, max_queue=4, permessage_deflate=False) as (_, port):
        _, writer, _ = await tools.upgrade(port)
        connection = await handler.wait()
        frame = tools.frame(0x2, message)
        for _ in range(total):
            writer.write(frame)
        # Wait until the server stops reading: the client's buffer stops shrinking.
        buffer = writer.transport.get_write_buffer_size
        stable = 0
        last = buffer()
        while stable < 200:
            await asyncio.sleep(0)
            stable = stable + 1 if buffer() == last else 0
            last = buffer()
        # The server holds at most max_queue messages (plus one read's worth); the rest
        # waits in the kernel and, mostly, in the client.
        assert buffer() > 16 * 1024 * 1024
        for _ in range(total):
            assert await asyncio.wait_for(connection.recv(), 10) == message
        await writer.drain()
        writer.close()
        handler.done.set()


# ------------------------------------------------------------ streaming mode


async def test_streaming_mode_delivers_fragments_and_checks_utf8(tools: Any) -> None:
    handler = Accepting()
    async with tools.serve(handler, assemble_fragments=False) as (_, port):
        reader, writer, _ = await tools.upgrade(port)
        connection = await handler.wait()
        text = "hé€".encode()  # split inside multi-byte characters
        writer.write(tools.frame(0x1, text[:2], fin=False))
        first = await connection.recv_fragment()
        assert first == Fragment("h", True, True, False)
        writer.write(tools.frame(0x0, text[2:5], fin=False))
        assert await connection.recv_fragment() == Fragment("é", True, False, False)
        writer.write(tools.frame(0x0, text[5:], fin=True))
        assert await connection.recv_fragment() == Fragment("€", True, False, True)
        writer.write(tools.frame(0x2, b"\x01"))
        with pytest.raises(wsserver.InvalidState, match="recv_fragment"):
            await connection.recv()
        assert await connection.recv_fragment() == Fragment(b"\x01", False, True, True)
        # Invalid UTF-8 fails the connection at the fragment, before the message ends.
        writer.write(tools.frame(0x1, b"ok\xff", fin=False))
        code, _ = await tools.read_close(reader)
        assert code == 1007
        writer.close()
        handler.done.set()


async def test_messages_before_a_violation_are_answered_first(tools: Any) -> None:
    async with tools.serve(echo) as (_, port):
        reader, writer, _ = await tools.upgrade(port)
        # A valid message and a frame with RSV1 (no extension negotiated) in one write.
        writer.write(tools.frame(0x1, b"first") + tools.frame(0x1, b"bad", rsv=0x40))
        assert await tools.read_frame(reader) == (True, 0x1, b"first")
        code, _ = await tools.read_close(reader)
        assert code == 1002
        writer.close()


async def test_unmasked_client_frame_fails_with_1002(tools: Any) -> None:
    async with tools.serve(echo) as (_, port):
        reader, writer, _ = await tools.upgrade(port)
        writer.write(b"\x81\x02hi")
        code, _ = await tools.read_close(reader)
        assert code == 1002
        writer.close()


async def test_async_iteration_ends_on_normal_close(tools: Any) -> None:
    received: list[Any] = []
    finished = asyncio.Event()

    async def handler(request: WebSocketRequest) -> None:
        connection = request.accept()
        async for message in connection:
            received.append(message)
        finished.set()
        with pytest.raises(ConnectionClosedOK):
            await connection.send("late")

    async with tools.serve(handler) as (_, port):
        reader, writer, _ = await tools.upgrade(port)
        writer.write(tools.frame(0x1, b"a") + tools.frame(0x2, b"b") + tools.close_frame(1001))
        assert await tools.read_close(reader) == (1001, b"")
        await asyncio.wait_for(finished.wait(), 5)
        writer.close()
    assert received == ["a", b"b"]


def test_hand_built_frames_match_rfc_6455(tools: Any) -> None:
    # The frames above are built by hand, independently of wsframe: check them against
    # RFC 6455 section 5.7's masked "Hello".
    assert tools.frame(0x1, b"Hello") == bytes.fromhex("818537fa213d7f9f4d5158")


# ------------------------------------------------------------- slots


async def test_applications_can_attach_attributes_to_connections(tools: Any) -> None:
    """ServerConnection and ClientConnection declare __slots__; extra attributes still work."""
    import weakref

    import wsclient

    attached: dict[str, object] = {}

    async def handler(request: WebSocketRequest) -> None:
        connection = request.accept()
        connection.user = "alice"  # type: ignore[attr-defined]
        attached["server"] = connection.user  # type: ignore[attr-defined]
        attached["ref"] = weakref.ref(connection)
        async for message in connection:
            await connection.send(f"{connection.user}: {message}")  # type: ignore[attr-defined]

    async with tools.serve(handler) as (_, port):
        client = await wsclient.connect(f"ws://127.0.0.1:{port}/")
        client.session = 42  # type: ignore[attr-defined]
        await client.send("hi")
        assert await asyncio.wait_for(client.recv(), 5) == "alice: hi"
        assert client.session == 42  # type: ignore[attr-defined]
        assert weakref.ref(client)() is client
        await client.close()
    assert attached["server"] == "alice"
