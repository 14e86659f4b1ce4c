"""`W3CWebSocket` against wsserver, the `websockets` server and scripted servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import os
import types
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

import wsclient
from wsclient import (
    Blob,
    CloseEvent,
    ConnectionClosed,
    DOMSyntaxError,
    ErrorEvent,
    Event,
    HandshakeFailed,
    InvalidAccessError,
    InvalidStateError,
    MessageEvent,
    W3CWebSocket,
    WebSocketClient,
    WebSocketError,
)
from wsframe import InvalidState

Server = Callable[..., AbstractAsyncContextManager[int]]

wsserver = pytest.importorskip("wsserver", reason="wsserver is not importable")


async def echo(request: Any) -> None:
    connection = request.accept(request.requested_protocols[0] if request.requested_protocols else None)
    async for message in connection:
        await connection.send(message)


@contextlib.asynccontextmanager
async def serving(handler: Callable[[Any], Awaitable[None]] = echo, **kwargs: Any) -> AsyncIterator[int]:
    """A wsserver on 127.0.0.1; yields its port."""
    async with wsserver.WebSocketServer(handler, **kwargs) as server:
        addresses = await server.listen("127.0.0.1", 0)
        yield addresses[0][1]


def record(ws: W3CWebSocket) -> list[tuple[Any, ...]]:
    """Log every event of `ws` as (type, readyState, details)."""
    log: list[tuple[Any, ...]] = []

    def listener(event: Event) -> None:
        if isinstance(event, MessageEvent):
            log.append(("message", ws.readyState, event.data))
        elif isinstance(event, CloseEvent):
            log.append(("close", ws.readyState, event.code, event.reason, event.wasClean))
        elif isinstance(event, ErrorEvent):
            log.append(("error", ws.readyState, type(event.error)))
        else:
            log.append((event.type, ws.readyState))

    for kind in ("open", "message", "error", "close"):
        ws.addEventListener(kind, listener)
    return log


async def poll(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until `condition()` holds, checking on every loop turn (bounded)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


# ------------------------------------------------------------ event order


async def test_event_order_with_websockets_server(ws_server: Server) -> None:
    async def handler(ws: Any) -> None:
        await ws.send("a")
        await ws.send("")
        await ws.send(b"\x00bin")
        await ws.close(1000, "bye")

    async with ws_server(handler) as port:
        ws = W3CWebSocket(f"ws://127.0.0.1:{port}/")
        log = record(ws)
        origins: list[str] = []
        targets: list[Any] = []

        def on_message(event: MessageEvent) -> None:
            origins.append(event.origin)
            targets.append(event.target)

        ws.addEventListener("message", on_message)
        assert ws.readyState == W3CWebSocket.CONNECTING
        close = await ws.wait_closed()
    assert log == [
        ("open", ws.OPEN),
        ("message", ws.OPEN, "a"),
        ("message", ws.OPEN, ""),  # the seed drops empty text messages
        ("message", ws.OPEN, b"\x00bin"),
        ("close", ws.CLOSED, 1000, "bye", True),
    ]
    assert origins == [f"ws://127.0.0.1:{port}"] * 3
    assert targets == [ws] * 3
    assert isinstance(close, CloseEvent)
    assert (close.code, close.reason, close.wasClean) == (1000, "bye", True)
    assert ws.readyState == ws.CLOSED


async def test_echo_with_wsserver_subprotocol_extensions_and_clean_close() -> None:
    async with serving() as port:
        ws = W3CWebSocket(f"ws://127.0.0.1:{port}/chat", ["chat", "superchat"])
        assert ws.protocol == ""
        assert ws.extensions == ""
        assert ws.url == f"ws://127.0.0.1:{port}/chat"
        log = record(ws)
        await ws.wait_open()
        assert ws.protocol == "chat"
        assert isinstance(ws.extensions, str)
        assert ws.extensions.startswith("permessage-deflate")
        payloads: list[Any] = [
            "text",
            "",
            "\u00e9\u20ac",
            b"\x00\xff",
            bytearray(b"ba"),
            memoryview(b"mv"),
            Blob(b"bl"),
        ]
        for payload in payloads:
            ws.send(payload)
        await poll(lambda: len(log) == 1 + len(payloads))
        ws.close()
        assert ws.readyState == ws.CLOSING
        close = await ws.wait_closed()
    assert [entry[2] for entry in log[1:-1]] == ["text", "", "\u00e9\u20ac", b"\x00\xff", b"ba", b"mv", b"bl"]
    assert log[-1] == ("close", ws.CLOSED, 1000, "", True)
    assert close.wasClean
    assert not any(entry[0] == "error" for entry in log)


async def test_messages_sent_before_close_go_out_first(ws_server: Server) -> None:
    received: list[Any] = []
    closes: list[tuple[int | None, str | None]] = []

    async def handler(ws: Any) -> None:
        with contextlib.suppress(Exception):
            async for message in ws:
                received.append(message)
        closes.append((ws.close_code, ws.close_reason))

    async with ws_server(handler) as port:
        ws = W3CWebSocket(f"ws://127.0.0.1:{port}/")

        def on_open(event: Event) -> None:
            ws.send("one")
            ws.send(b"two")
            ws.close(3001, "done")
            ws.send("dropped: closing")

        ws.onopen = on_open
        close = await ws.wait_closed()
        await poll(lambda: bool(closes))
    assert received == ["one", b"two"]
    assert closes == [(3001, "done")]
    assert (close.code, close.reason, close.wasClean) == (3001, "done", True)


# ---------------------------------------------------------------- failures


async def test_refused_connection_fires_error_then_close(free_port: int) -> None:
    ws = W3CWebSocket(f"ws://127.0.0.1:{free_port}/")
    log = record(ws)
    errors: list[ErrorEvent] = []
    ws.onerror = errors.append
    close = await ws.wait_closed()
    assert log == [("error", ws.CLOSED, ConnectionRefusedError), ("close", ws.CLOSED, 1006, "", False)]
    assert isinstance(errors[0].error, ConnectionRefusedError)
    assert errors[0].message
    assert (close.code, close.wasClean) == (1006, False)
    with pytest.raises(ConnectionRefusedError):
        await ws.wait_open()


async def test_403_handshake_fires_error_with_status_then_close_1006() -> None:
    async def handler(request: Any) -> None:
        request.reject(403, "go away")

    async with serving(handler) as port:
        ws = W3CWebSocket(f"ws://127.0.0.1:{port}/")
        log = record(ws)
        errors: list[ErrorEvent] = []
        ws.addEventListener("error", errors.append)
        close = await ws.wait_closed()
    assert log == [("error", ws.CLOSED, HandshakeFailed), ("close", ws.CLOSED, 1006, "", False)]
    error = errors[0].error
    assert isinstance(error, HandshakeFailed)
    assert error.status == 403
    assert "403" in errors[0].message
    assert close.wasClean is False
    assert ws.protocol == ""
    with pytest.raises(HandshakeFailed):
        await ws.wait_open()


async def test_connection_dropped_without_close_frame(raw_server: Server, helpers: types.SimpleNamespace) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await helpers.read_head(reader)
        writer.write(helpers.switching(head["sec-websocket-key"]))
        writer.write(b"\x81\x02hi")
        await writer.drain()
        writer.transport.abort()

    async with raw_server(handler) as port:
        ws = W3CWebSocket(f"ws://127.0.0.1:{port}/", permessage_deflate=False)
        log = record(ws)
        errors: list[ErrorEvent] = []
        ws.onerror = errors.append
        await ws.wait_closed()
    assert log == [
        ("open", ws.OPEN),
        ("message", ws.OPEN, "hi"),
        ("error", ws.CLOSED, wsclient.ConnectionClosedError),
        ("close", ws.CLOSED, 1006, "", False),
    ]
    assert isinstance(errors[0].error, ConnectionClosed)
    assert errors[0].error.code == 1006


async def test_close_while_connecting_fails_the_connection(raw_server: Server, helpers: types.SimpleNamespace) -> None:
    got_request = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await helpers.read_head(reader)
        got_request.set()
        await reader.read()  # never answers

    async with raw_server(handler) as port:
        ws = W3CWebSocket(f"ws://127.0.0.1:{port}/")
        log = record(ws)
        await got_request.wait()
        assert ws.readyState == ws.CONNECTING
        ws.close(3000, "never mind")
        assert ws.readyState == ws.CLOSING
        ws.close()  # closing already: nothing happens
        close = await ws.wait_closed()
    assert log == [("error", ws.CLOSED, wsclient.ConnectionClosedError), ("close", ws.CLOSED, 1006, "", False)]
    assert close.code == 1006
    with pytest.raises(ConnectionClosed):
        await ws.wait_open()


async def test_close_right_after_construction(free_port: int) -> None:
    ws = W3CWebSocket(f"ws://127.0.0.1:{free_port}/")
    log = record(ws)
    ws.close()
    await ws.wait_closed()
    assert log == [("error", ws.CLOSED, wsclient.ConnectionClosedError), ("close", ws.CLOSED, 1006, "", False)]


# ------------------------------------------------------- readyState, send


async def test_constants_on_class_and_instance() -> None:
    assert (W3CWebSocket.CONNECTING, W3CWebSocket.OPEN, W3CWebSocket.CLOSING, W3CWebSocket.CLOSED) == (0, 1, 2, 3)
    async with serving() as port:
        ws = W3CWebSocket(f"ws://127.0.0.1:{port}/")
        assert (ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED) == (0, 1, 2, 3)
        ws.close()
        await ws.wait_closed()


async def test_ready_state_transitions_and_send_states() -> None:
    async with serving() as port:
        ws = W3CWebSocket(f"ws://127.0.0.1:{port}/")
        states: list[int] = [ws.readyState]
        with pytest.raises(InvalidStateError) as info:
            ws.send("too early")
        assert isinstance(info.value, InvalidState)
        assert isinstance(info.value, WebSocketError)
        assert info.value.name == "InvalidStateError"
        ws.onopen = lambda event: states.append(ws.readyState)
        ws.onclose = lambda event: states.append(ws.readyState)
        await ws.wait_open()
        with pytest.raises(TypeError):
            ws.send(42)  # type: ignore[arg-type]
        ws.close()
        states.append(ws.readyState)
        before = ws.bufferedAmount
        ws.send("abc")  # CLOSING: no exception, counted
        assert ws.bufferedAmount == before + 3
        await ws.wait_closed()
        states.append(ws.readyState)
    assert states == [ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED, ws.CLOSED]


async def test_server_close_frame_makes_ready_state_closing(raw_server: Server, helpers: types.SimpleNamespace) -> None:
    release = asyncio.Event()
    echoed: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await helpers.read_head(reader)
        writer.write(helpers.switching(head["sec-websocket-key"]))
        writer.write(b"\x88\x05\x03\xe8bye")  # close 1000 "bye"
        await writer.drain()
        _, opcode, payload = await helpers.read_frame(reader)
        echoed.append(bytes([opcode]) + payload)
        await release.wait()  # hold the TCP connection: the client waits for our close
        writer.close()

    async with raw_server(handler) as port:
        ws = W3CWebSocket(f"ws://127.0.0.1:{port}/", permessage_deflate=False)
        log = record(ws)
        await ws.wait_open()
        await poll(lambda: ws.readyState == ws.CLOSING)
        assert log == [("open", ws.OPEN)]  # no close event before the TCP close
        ws.send("ignored")  # CLOSING: counted, not sent, no exception
        assert ws.bufferedAmount == len("ignored")
        release.set()
        close = await ws.wait_closed()
    assert log[-1] == ("close", ws.CLOSED, 1000, "bye", True)
    assert echoed == [b"\x08\x03\xe8"]
    assert close.wasClean


async def test_lone_surrogates_are_sent_as_replacement_characters() -> None:
    async with serving() as port:
        ws = W3CWebSocket(f"ws://127.0.0.1:{port}/")
        got: asyncio.Queue[Any] = asyncio.Queue()
        ws.onmessage = lambda event: got.put_nowait(event.data)
        await ws.wait_open()
        ws.send("a\ud800b")
        assert ws.bufferedAmount == 5  # "a\ufffdb" in UTF-8
        assert await got.get() == "a\ufffdb"
        ws.close()
        await ws.wait_closed()


async def test_send_after_close_only_grows_buffered_amount() -> None:
    async with serving() as port:
        ws = W3CWebSocket(f"ws://127.0.0.1:{port}/")
        await ws.wait_open()
        ws.close()
        await ws.wait_closed()
    amount = ws.bufferedAmount
    ws.send("\u00e9")
    ws.send(b"1234")
    assert ws.bufferedAmount == amount + 2 + 4


async def test_buffered_amount_grows_while_the_server_does_not_read(
    raw_server: Server, helpers: types.SimpleNamespace
) -> None:
    release = asyncio.Event()
    received = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal received
        head = await helpers.read_head(reader)
        writer.write(helpers.switching(head["sec-websocket-key"]))
        await writer.drain()
        await release.wait()
        while True:
            _, opcode, payload = await helpers.read_frame(reader)
            if opcode == 8:
                writer.write(bytes([0x88, 2]) + payload[:2])
                await writer.drain()
                writer.close()
                return
            received += len(payload)

    chunk = os.urandom(1024 * 1024)
    count = 32
    async with raw_server(handler) as port:
        ws = W3CWebSocket(f"ws://127.0.0.1:{port}/", permessage_deflate=False)
        await ws.wait_open()
        assert ws.bufferedAmount == 0
        ws.send("h\u00e9llo")
        assert ws.bufferedAmount == 6  # UTF-8 bytes, counted at once
        for _ in range(count):
            ws.send(chunk)
        total = 6 + count * len(chunk)
        assert ws.bufferedAmount == total
        # The writer hands messages to the network until the transport's buffer is
        # full; the kernel cannot take 32 MiB from a peer that does not read.
        await poll(lambda: ws.bufferedAmount < total)
        for _ in range(20):
            await asyncio.sleep(0)
            assert ws.bufferedAmount > total // 2
        release.set()
        await poll(lambda: ws.bufferedAmount == 0)
        ws.close()
        close = await ws.wait_closed()
    assert received == total
    assert close.wasClean


# ------------------------------------------------------------------ close()


@pytest.mark.parametrize("code", [999, 1001, 1005, 1006, 2999, 5000, 0, -1, 65536])
async def test_close_rejects_codes(code: int) -> None:
    async with serving() as port:
        ws = W3CWebSocket(f"ws://127.0.0.1:{port}/")
        with pytest.raises(InvalidAccessError) as info:
            ws.close(code)
        assert isinstance(info.value, ValueError)
        assert info.value.name == "InvalidAccessError"
        assert ws.readyState == ws.CONNECTING  # nothing happened
        await ws.wait_open()
        with pytest.raises(InvalidAccessError):
            ws.close(code, "reason")
        assert ws.readyState == ws.OPEN
        ws.close()
        await ws.wait_closed()
        with pytest.raises(InvalidAccessError):  # checked even when closed
            ws.close(code)


async def test_close_rejects_long_reasons_and_wrong_types(ws_server: Server) -> None:
    async with ws_server() as port:
        ws = W3CWebSocket(f"ws://127.0.0.1:{port}/")
        await ws.wait_open()
        with pytest.raises(DOMSyntaxError) as info:
            ws.close(1000, "\u00e9" * 62)  # 124 bytes of UTF-8
        assert isinstance(info.value, ValueError)
        assert info.value.name == "SyntaxError"
        with pytest.raises(DOMSyntaxError):
            ws.close(None, "x" * 124)
        with pytest.raises(TypeError):
            ws.close("1000")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            ws.close(True)
        with pytest.raises(TypeError):
            ws.close(1000, b"bytes")  # type: ignore[arg-type]
        assert ws.readyState == ws.OPEN
        ws.close(1000, "\u00e9" * 61 + "x")  # 123 bytes: allowed
        close = await ws.wait_closed()
    assert close.reason == "\u00e9" * 61 + "x"  # the websockets server echoes the reason


@pytest.mark.parametrize("code", [None, 1000, 3000, 4999])
async def test_close_accepts_codes(ws_server: Server, code: int | None) -> None:
    seen: list[int | None] = []

    async def handler(ws: Any) -> None:
        with contextlib.suppress(Exception):
            await ws.recv()
        seen.append(ws.close_code)

    async with ws_server(handler) as port:
        ws = W3CWebSocket(f"ws://127.0.0.1:{port}/")
        await ws.wait_open()
        ws.close(code, "bye")
        close = await ws.wait_closed()
        await poll(lambda: bool(seen))
    expected = 1000 if code is None else code
    assert seen == [expected]
    assert (close.code, close.reason, close.wasClean) == (expected, "bye", True)


# ---------------------------------------------------------------- binaryType


async def test_binary_type() -> None:
    async with serving() as port:
        ws = W3CWebSocket(f"ws://127.0.0.1:{port}/")
        assert ws.binaryType == "arraybuffer"
        with pytest.raises(DOMSyntaxError):
            ws.binaryType = "buffer"  # type: ignore[assignment]
        with pytest.raises(ValueError):
            ws.binaryType = "Blob"  # type: ignore[assignment]
        assert ws.binaryType == "arraybuffer"
        messages: asyncio.Queue[Any] = asyncio.Queue()
        ws.onmessage = lambda event: messages.put_nowait(event.data)
        await ws.wait_open()
        ws.send(b"\x00\x01")
        assert await messages.get() == b"\x00\x01"
        ws.binaryType = "blob"
        ws.send("h\u00e9".encode())
        ws.send("text stays str")
        blob = await messages.get()
        assert isinstance(blob, Blob)
        assert blob.size == len(blob) == 3
        assert bytes(blob) == "h\u00e9".encode()
        assert await blob.text() == "h\u00e9"
        assert await blob.arrayBuffer() == "h\u00e9".encode()
        assert await blob.bytes() == "h\u00e9".encode()
        assert blob == Blob("h\u00e9".encode())
        assert await messages.get() == "text stays str"
        ws.binaryType = "arraybuffer"
        ws.send(b"back")
        assert await messages.get() == b"back"
        ws.close()
        await ws.wait_closed()


# ----------------------------------------------------------------- listeners


async def test_listener_order_handler_position_once_and_remove(free_port: int) -> None:
    ws = W3CWebSocket(f"ws://127.0.0.1:{free_port}/")
    calls: list[str] = []

    def one(event: Event) -> None:
        calls.append("one")

    def two(event: Event) -> None:
        calls.append("two")

    def once(event: Event) -> None:
        calls.append("once")

    class Handler:
        def handleEvent(self, event: Event) -> None:
            calls.append("object")

    obj = Handler()
    ws.addEventListener("message", one)
    ws.onmessage = lambda event: calls.append("h1")
    ws.addEventListener("message", two)
    ws.addEventListener("message", one)  # duplicate: ignored
    ws.addEventListener("message", once, once=True)
    ws.addEventListener("message", obj)
    ws.addEventListener("message", None)  # ignored
    assert ws.dispatchEvent(MessageEvent("message", data="x")) is True
    assert calls == ["one", "h1", "two", "once", "object"]

    calls.clear()
    ws.onmessage = lambda event: calls.append("h2")  # replaced: same position
    ws.dispatchEvent(MessageEvent("message", data="x"))
    assert calls == ["one", "h2", "two", "object"]

    calls.clear()
    ws.onmessage = None  # removed
    assert ws.onmessage is None
    ws.dispatchEvent(MessageEvent("message", data="x"))
    assert calls == ["one", "two", "object"]

    calls.clear()
    h3 = lambda event: calls.append("h3")  # noqa: E731
    ws.onmessage = h3  # set again: last
    assert ws.onmessage is h3
    ws.removeEventListener("message", one)
    ws.removeEventListener("message", obj)
    ws.removeEventListener("message", once)  # already gone: ignored
    ws.removeEventListener("nothing", one)  # unknown type: ignored
    ws.dispatchEvent(MessageEvent("message", data="x"))
    assert calls == ["two", "h3"]

    with pytest.raises(TypeError):
        ws.addEventListener("message", 42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ws.onopen = "not callable"  # type: ignore[assignment]
    with pytest.raises(TypeError):
        ws.dispatchEvent("message")  # type: ignore[arg-type]
    ws.close()
    await ws.wait_closed()


async def test_bound_methods_remove_and_stop_immediate_propagation(free_port: int) -> None:
    ws = W3CWebSocket(f"ws://127.0.0.1:{free_port}/")
    calls: list[str] = []

    class Listener:
        def on_event(self, event: Event) -> None:
            calls.append("method")

    listener = Listener()
    ws.addEventListener("custom", listener.on_event)
    ws.removeEventListener("custom", listener.on_event)  # a new bound method object, equal
    ws.dispatchEvent(Event("custom"))
    assert calls == []

    def stopper(event: Event) -> None:
        calls.append("stopper")
        event.stopImmediatePropagation()

    def remover(event: Event) -> None:
        calls.append("remover")
        ws.removeEventListener("custom", later)

    def later(event: Event) -> None:
        calls.append("later")

    ws.addEventListener("custom", remover)
    ws.addEventListener("custom", later)
    ws.dispatchEvent(Event("custom"))
    assert calls == ["remover"]  # removed during dispatch: not called
    calls.clear()
    ws.addEventListener("custom", stopper)
    ws.addEventListener("custom", later)
    event = Event("custom", cancelable=True)
    event.preventDefault()
    assert ws.dispatchEvent(event) is False
    assert calls == ["remover", "stopper"]
    assert event.target is ws
    assert event.currentTarget is None
    ws.close()
    await ws.wait_closed()


async def test_listener_exceptions_are_reported_and_do_not_stop_others(free_port: int) -> None:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda loop, context: reported.append(context))
    ws = W3CWebSocket(f"ws://127.0.0.1:{free_port}/")
    calls: list[str] = []

    def broken(event: Event) -> None:
        raise RuntimeError("listener bug")

    async def broken_async(event: Event) -> None:
        raise KeyError("async bug")

    ws.addEventListener("close", broken)
    ws.addEventListener("close", broken_async)
    ws.onclose = lambda event: calls.append("onclose")
    await ws.wait_closed()
    await poll(lambda: len(reported) == 2)
    assert calls == ["onclose"]
    assert isinstance(reported[0]["exception"], RuntimeError)
    assert "'close' listener" in reported[0]["message"]
    assert isinstance(reported[1]["exception"], KeyError)


async def test_on_handlers_sync_and_coroutine_with_real_connection() -> None:
    async with serving() as port:
        ws = W3CWebSocket(f"ws://127.0.0.1:{port}/")
        seen: list[Any] = []
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_open(event: Event) -> None:
            seen.append(event.type)
            ws.send("ping")

        async def on_message(event: MessageEvent) -> None:
            await asyncio.sleep(0)
            seen.append(event.data)
            ws.close(4000, "thanks")

        async def on_close(event: CloseEvent) -> None:
            seen.append((event.code, event.reason, event.wasClean))
            done.set_result(None)

        ws.onopen = on_open
        ws.onmessage = on_message
        ws.onclose = on_close
        assert ws.onopen is on_open
        await asyncio.wait_for(done, 10)
    assert seen == ["open", "ping", (4000, "", True)]  # wsserver echoes the code, not the reason


# ------------------------------------------------------------ construction


def test_url_and_protocol_checks_outside_a_loop() -> None:
    for url in ("ftp://example.com/", "ws://example.com/#fragment", "not a url", "ws://"):
        with pytest.raises(DOMSyntaxError):
            W3CWebSocket(url)
    for protocols in (["chat", "chat"], ["bad protocol"], "a,b", [""]):
        with pytest.raises(DOMSyntaxError):
            W3CWebSocket("ws://example.com/", protocols)
    with pytest.raises(RuntimeError):
        W3CWebSocket("ws://example.com/")


async def test_http_urls_map_to_ws_and_argument_errors() -> None:
    async with serving() as port:
        ws = W3CWebSocket(f"http://127.0.0.1:{port}/x?y=1")
        assert ws.url == f"ws://127.0.0.1:{port}/x?y=1"
        await ws.wait_open()
        ws.close()
        await ws.wait_closed()
    client = WebSocketClient()
    with pytest.raises(TypeError, match="client settings"):
        W3CWebSocket("ws://127.0.0.1:1/", client=client, max_queue=4)
    with pytest.raises(TypeError, match="unexpected keyword"):
        W3CWebSocket("ws://127.0.0.1:1/", nonsense=1)
    with pytest.raises(ValueError, match="assemble"):
        W3CWebSocket("ws://127.0.0.1:1/", assemble_fragments=False)
    with pytest.raises(ValueError, match="assemble"):
        W3CWebSocket("ws://127.0.0.1:1/", client=WebSocketClient(assemble_fragments=False))
    with pytest.raises(ValueError):
        W3CWebSocket("ws://127.0.0.1:1/", origin="bad\r\norigin")


async def test_origin_headers_and_client_reach_the_server(ws_server: Server) -> None:
    seen: dict[str, str | None] = {}

    async def handler(ws: Any) -> None:
        seen["origin"] = ws.request.headers.get("Origin")
        seen["x-token"] = ws.request.headers.get("X-Token")
        seen["extensions"] = ws.request.headers.get("Sec-WebSocket-Extensions")
        await ws.wait_closed()

    async with ws_server(handler) as port:
        client = WebSocketClient(permessage_deflate=False)
        ws = W3CWebSocket(
            f"ws://127.0.0.1:{port}/", origin="https://app.example", headers={"X-Token": "t"}, client=client
        )
        assert ws.client is client
        async with ws:
            assert ws.readyState == ws.OPEN
            assert ws.extensions == ""
        assert ws.readyState == ws.CLOSED
    assert seen == {"origin": "https://app.example", "x-token": "t", "extensions": None}


async def test_await_gives_the_open_socket_and_wss(ws_server: Server, tls: Any) -> None:
    async with ws_server(ssl=tls.server_context()) as port:
        ws = await W3CWebSocket(f"wss://localhost:{port}/", ssl=tls.client_context())
        assert ws.readyState == ws.OPEN
        assert ws.url == f"wss://localhost:{port}/"
        got: asyncio.Queue[Any] = asyncio.Queue()
        ws.onmessage = lambda event: got.put_nowait((event.data, event.origin))
        ws.send("secure")
        assert await got.get() == ("secure", f"wss://localhost:{port}")
        assert ws.connection is not None
        assert ws.connection.state.name == "OPEN"
        assert "OPEN" in repr(ws)
        ws.close()
        await ws.wait_closed()


async def test_certificate_failure_is_an_error_event(ws_server: Server, tls: Any) -> None:
    async with ws_server(ssl=tls.server_context()) as port:
        ws = W3CWebSocket(f"wss://localhost:{port}/", ssl=tls.client_context(trust=False))
        errors: list[ErrorEvent] = []
        ws.onerror = errors.append
        close = await ws.wait_closed()
    import ssl

    assert isinstance(errors[0].error, ssl.SSLCertVerificationError)
    assert (close.code, close.wasClean) == (1006, False)


def test_events_repr_and_fields() -> None:
    event = MessageEvent("message", data="x" * 100, origin="ws://a")
    assert "message" in repr(event)
    assert event.lastEventId == ""
    assert event.bubbles is False
    close = CloseEvent("close", code=1000, reason="r", wasClean=True)
    assert "wasClean=True" in repr(close)
    error = ErrorEvent("error", error=ValueError("v"), message="m")
    assert error.message == "m"
    with pytest.raises(TypeError):
        Event(3)  # type: ignore[arg-type]
    assert repr(Blob(b"abc")) == "<Blob size=3>"
    assert hash(Blob(b"a")) == hash(Blob(b"a"))
