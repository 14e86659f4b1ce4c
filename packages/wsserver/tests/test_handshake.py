"""The opening handshake through real sockets: acceptance, every rejection, request fields."""

from __future__ import annotations

import asyncio
import base64
import gc
import hashlib
import logging
import weakref
from typing import Any

import pytest

import wsserver
from wsserver import InvalidState, SetCookie, WebSocketRequest


def expected_accept(key: str) -> str:
    digest = hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    return base64.b64encode(digest).decode()


async def echo(request: WebSocketRequest) -> None:
    connection = request.accept()
    async for message in connection:
        await connection.send(message)


# --------------------------------------------------------------- acceptance


async def test_accept_sends_101_with_accept_key_and_echoes(tools: Any) -> None:
    async with tools.serve(echo) as (server, port):
        reader, writer, response = await tools.upgrade(port)
        assert response.get("Sec-WebSocket-Accept") == expected_accept(tools.key)
        assert response.get("Upgrade").lower() == "websocket"
        assert response.get("Sec-WebSocket-Protocol") is None
        writer.write(tools.frame(0x1, b"hello"))
        assert await tools.read_frame(reader) == (True, 0x1, b"hello")
        await tools.wait_until(lambda: len(server.connections) == 1)
        writer.write(tools.close_frame(1000))
        assert await tools.read_close(reader) == (1000, b"")
        assert await tools.at_eof(reader) == b""
        await tools.wait_until(lambda: not server.connections)
        writer.close()


async def test_request_fields(tools: Any) -> None:
    seen: list[WebSocketRequest] = []

    async def handler(request: WebSocketRequest) -> None:
        seen.append(request)
        request.reject(403)

    async with tools.serve(handler) as (_, port):
        request = tools.request(
            "/chat/room%201?user=ann&tag=a&tag=b&empty=",
            host="example.com:8080",
            headers=[
                ("Origin", "https://example.com"),
                ("Sec-WebSocket-Protocol", "Chat.V2, superchat"),
                ("Sec-WebSocket-Extensions", "x-custom; a=1, permessage-deflate; client_max_window_bits"),
                ("Cookie", 'session=abc%20def; theme="dark"; session=second'),
                ("X-Custom", "value"),
            ],
        )
        response = await tools.exchange(port, request)
        assert response.status == 403
    (req,) = seen
    assert req.origin == "https://example.com"
    assert req.host == "example.com:8080"
    assert req.resource == "/chat/room%201?user=ann&tag=a&tag=b&empty="
    assert req.path == "/chat/room%201"
    assert req.query == {"user": ["ann"], "tag": ["a", "b"], "empty": [""]}
    assert req.headers["x-custom"] == "value"
    assert req.cookies == [("session", "abc%20def"), ("theme", "dark"), ("session", "second")]
    assert req.cookie_dict == {"session": "abc%20def", "theme": "dark"}
    assert req.requested_protocols == ["Chat.V2", "superchat"]
    assert req.requested_extensions == [
        ("x-custom", [("a", "1")]),
        ("permessage-deflate", [("client_max_window_bits", None)]),
    ]
    assert req.version == 13
    assert req.remote_address == "127.0.0.1"
    assert req.socket_address[0] == "127.0.0.1"
    assert req.forwarded_for == []
    assert req.secure is False
    assert req.rejected
    assert req.resolved
    assert not req.accepted


async def test_origin_version_8_and_echo(tools: Any) -> None:
    seen: list[WebSocketRequest] = []

    async def handler(request: WebSocketRequest) -> None:
        seen.append(request)
        connection = request.accept(origin=request.origin)
        await connection.close()

    async with tools.serve(handler) as (_, port):
        # Version 8 takes the origin from Sec-WebSocket-Origin, and gets it echoed.
        _, writer, response = await tools.upgrade(
            port, version="8", headers=[("Sec-WebSocket-Origin", "http://old.example"), ("Origin", "http://ignored")]
        )
        assert response.get("Sec-WebSocket-Origin") == "http://old.example"
        writer.close()
        # Version 13 takes Origin; RFC 6455 has no origin response header.
        _, writer, response = await tools.upgrade(port, headers=[("Origin", "https://new.example")])
        assert response.get("Sec-WebSocket-Origin") is None
        assert response.get("Origin") is None
        writer.close()
        # No origin at all (non-browser clients).
        _reader, writer, response = await tools.upgrade(port)
        writer.close()
    assert [r.version for r in seen] == [8, 13, 13]
    assert [r.origin for r in seen] == ["http://old.example", "https://new.example", None]


# ------------------------------------------------------------- subprotocols


async def test_subprotocol_matched_case_insensitively_and_client_spelling_echoed(tools: Any) -> None:
    connections: list[wsserver.ServerConnection] = []

    async def handler(request: WebSocketRequest) -> None:
        connection = request.accept("CHAT.v2")
        connections.append(connection)
        await connection.close()

    async with tools.serve(handler) as (_, port):
        _, writer, response = await tools.upgrade(port, headers=[("Sec-WebSocket-Protocol", "other, Chat.V2")])
        assert response.get_all("Sec-WebSocket-Protocol") == ["Chat.V2"]
        writer.close()
    assert connections[0].subprotocol == "Chat.V2"


async def test_unrequested_subprotocol_raises_and_leaves_request_unresolved(tools: Any) -> None:
    errors: list[Exception] = []

    async def handler(request: WebSocketRequest) -> None:
        try:
            request.accept("notoffered")
        except ValueError as exc:
            errors.append(exc)
        assert not request.resolved
        request.reject(400, "unsupported subprotocol")

    async with tools.serve(handler) as (_, port):
        response = await tools.exchange(port, tools.request(headers=[("Sec-WebSocket-Protocol", "chat")]))
    assert response.status == 400
    assert response.get("X-WebSocket-Reject-Reason") == "unsupported subprotocol"
    assert "was not requested" in str(errors[0])


async def test_auto_accept_picks_first_requested_subprotocol(tools: Any) -> None:
    seen: list[WebSocketRequest] = []
    kept: list[Any] = []  # keeps the connection alive: the request refers to it weakly

    async def handler(request: WebSocketRequest) -> None:
        seen.append(request)
        kept.append(request.connection)
        assert request.accepted
        assert request.connection is not None
        with pytest.raises(InvalidState, match="already accepted"):
            request.accept()
        async for message in request.connection:
            await request.connection.send(message)

    async with tools.serve(handler, auto_accept=True) as (_, port):
        reader, writer, response = await tools.upgrade(port, headers=[("Sec-WebSocket-Protocol", "First, second")])
        assert response.get("Sec-WebSocket-Protocol") == "First"
        writer.write(tools.frame(0x2, b"\x01\x02"))
        assert await tools.read_frame(reader) == (True, 0x2, b"\x01\x02")
        writer.close()
    assert seen[0].connection is kept[0]
    assert seen[0].connection.subprotocol == "First"


async def test_closed_connections_are_freed_without_the_cycle_collector(tools: Any) -> None:
    # The connection refers to its request and the request to its connection: unless
    # one of the two is weak, every closed connection (with its TLS buffers and deflate
    # contexts) waits for the cycle collector.
    refs: list[weakref.ref[Any]] = []

    async def handler(request: WebSocketRequest) -> None:
        connection = request.accept()
        refs.append(weakref.ref(connection))
        async for message in connection:
            await connection.send(message)

    gc.collect()
    gc.disable()
    try:
        async with tools.serve(handler) as (_server, port):
            for _ in range(3):
                reader, writer, _ = await tools.upgrade(port)
                writer.write(tools.frame(0x1, b"hi"))
                assert await tools.read_frame(reader) == (True, 0x1, b"hi")
                writer.write(tools.frame(0x8, b"\x03\xe8"))
                await tools.read_frame(reader)
                writer.close()
            for _ in range(500):  # the server closes each one soon after the close frame
                if all(ref() is None for ref in refs):
                    break
                await asyncio.sleep(0.02)
            assert len(refs) == 3
            assert [ref() for ref in refs] == [None, None, None]
    finally:
        gc.enable()


# ----------------------------------------------------- accept/reject once only


async def test_accept_and_reject_allowed_once(tools: Any) -> None:
    outcomes: list[str] = []

    async def handler(request: WebSocketRequest) -> None:
        request.reject(403, "go away")
        for call in (request.reject, request.accept):
            try:
                call()
            except InvalidState as exc:
                outcomes.append(str(exc))

    async with tools.serve(handler) as (_, port):
        response = await tools.exchange(port, tools.request())
    assert response.status == 403
    assert response.get("X-WebSocket-Reject-Reason") == "go away"
    assert response.body == b"go away\n"
    assert response.get("Connection") == "close"
    assert outcomes == ["request was already rejected; accept() and reject() are allowed once"] * 2


async def test_reject_with_headers_and_body(tools: Any) -> None:
    async def handler(request: WebSocketRequest) -> None:
        request.reject(302, headers=[("Location", "https://elsewhere.example/")], body=b"moved")

    async with tools.serve(handler) as (_, port):
        response = await tools.exchange(port, tools.request())
    assert response.status == 302
    assert response.get("Location") == "https://elsewhere.example/"
    assert response.body == b"moved"


# ---------------------------------------------------------- header injection


@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.accept(headers=[("X-Evil", "a\r\nSet-Cookie: pwned=1")]),
        lambda r: r.accept(headers=[("X-Evil\r\nInjected", "v")]),
        lambda r: r.accept(headers=[("Sec-WebSocket-Accept", "forged")]),
        lambda r: r.accept(origin="http://a\r\nX-Injected: 1"),
        lambda r: r.accept(cookies=[SetCookie("a", "1"), SetCookie("a", "2")]),
        lambda r: r.reject(403, "bad\r\nX-Injected: 1"),
        lambda r: r.reject(403, headers=[("X-Evil", "a\nb")]),
        lambda r: r.reject(200),
    ],
)
async def test_invalid_values_refused_before_reaching_the_wire(tools: Any, call: Any) -> None:
    errors: list[Exception] = []

    async def handler(request: WebSocketRequest) -> None:
        try:
            call(request)
        except ValueError as exc:
            errors.append(exc)
        assert not request.resolved
        request.reject(400, "refused")

    async with tools.serve(handler) as (_, port):
        reader, writer = await tools.open(port)
        writer.write(tools.request())
        response = await tools.read_response(reader)
        rest = await tools.at_eof(reader)
        writer.close()
    assert len(errors) == 1
    assert response.status == 400
    assert b"Injected" not in rest
    assert all("Injected" not in n and "pwned" not in v for n, v in response.headers)


def test_set_cookie_validates_values() -> None:
    with pytest.raises(ValueError, match="value"):
        SetCookie("name", "a;b")
    with pytest.raises(ValueError, match="token"):
        SetCookie("bad name", "v")


async def test_cookies_set_on_accept(tools: Any) -> None:
    async def handler(request: WebSocketRequest) -> None:
        connection = request.accept(
            cookies=[SetCookie("session", "xyz", path="/", http_only=True, max_age=60), SetCookie("theme", "dark")],
            headers=[("X-Served-By", "wsserver")],
        )
        await connection.close()

    async with tools.serve(handler) as (_, port):
        _, writer, response = await tools.upgrade(port)
        writer.close()
    assert response.get_all("Set-Cookie") == ["session=xyz; Path=/; Max-Age=60; HttpOnly", "theme=dark"]
    assert response.get("X-Served-By") == "wsserver"


# ------------------------------------------------------------ X-Forwarded-For


async def test_x_forwarded_for_ignored_unless_peer_is_trusted(tools: Any) -> None:
    seen: list[WebSocketRequest] = []

    async def handler(request: WebSocketRequest) -> None:
        seen.append(request)
        request.reject(403)

    request = tools.request(headers=[("X-Forwarded-For", "6.6.6.6, 203.0.113.9")])
    async with tools.serve(handler) as (_, port):
        await tools.exchange(port, request)
    async with tools.serve(handler, trusted_proxies=["127.0.0.0/8"]) as (_, port):
        await tools.exchange(port, request)
    async with tools.serve(handler, trusted_proxies=["127.0.0.1", "203.0.113.0/24"]) as (_, port):
        await tools.exchange(port, request)
    # Untrusted peer: the header is kept for information but never believed.
    assert seen[0].remote_address == "127.0.0.1"
    assert seen[0].forwarded_for == ["6.6.6.6", "203.0.113.9"]
    # Trusted peer: the right-most entry that is not a trusted proxy, not the left-most.
    assert seen[1].remote_address == "203.0.113.9"
    assert seen[2].remote_address == "6.6.6.6"


# ------------------------------------------------------------ rejection paths


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400),
        (b"NOT A REQUEST LINE AT ALL\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    ],
)
async def test_malformed_http(tools: Any, data: bytes, status: int) -> None:
    async with tools.serve(echo) as (_, port):
        response = await tools.exchange(port, data)
    assert response.status == status
    assert response.get("Connection") == "close"


@pytest.mark.parametrize(
    ("kwargs", "status", "reason"),
    [
        ({"omit": ("Sec-WebSocket-Key",)}, 400, "missing Sec-WebSocket-Key header"),
        ({"key": "short"}, 400, "invalid Sec-WebSocket-Key 'short'"),
        ({"omit": ("Host",)}, 400, "missing Host header"),
        ({"omit": ("Connection",)}, 400, "missing Connection header"),
        ({"method": "POST"}, 405, "method POST not allowed"),
        ({"headers": [("Sec-WebSocket-Protocol", "bad protocol name")]}, 400, None),
        ({"headers": [("Sec-WebSocket-Extensions", "permessage-deflate; =")]}, 400, None),
        ({"headers": [("Content-Length", "5")]}, 400, "opening handshake request must not have a body"),
    ],
)
async def test_invalid_upgrade_requests(tools: Any, kwargs: dict[str, Any], status: int, reason: str | None) -> None:
    called = asyncio.Event()

    async def handler(request: WebSocketRequest) -> None:
        called.set()

    async with tools.serve(handler) as (_, port):
        response = await tools.exchange(port, tools.request(**kwargs))
    assert response.status == status
    if reason is not None:
        assert response.get("X-WebSocket-Reject-Reason") == reason
    if status == 405:
        assert response.get("Allow") == "GET"
    assert not called.is_set()


async def test_unsupported_version_gets_426_with_version_header(tools: Any) -> None:
    async with tools.serve(echo) as (_, port):
        response = await tools.exchange(port, tools.request(version="12"))
    assert response.status == 426
    assert response.get("Sec-WebSocket-Version") == "13"
    assert response.get("Upgrade") == "websocket"


async def test_no_handler_configured_rejects_404(tools: Any) -> None:
    async with tools.serve(None) as (server, port):
        response = await tools.exchange(port, tools.request())
        assert response.status == 404
        assert response.get("X-WebSocket-Reject-Reason") == "no handler is configured to accept the connection"
        # The handler is a public attribute: attach one later.
        server.handler = echo
        _, writer, _ = await tools.upgrade(port)
        writer.close()
        # auto_accept does not accept when nothing would read the connection.
        server.handler = None
        server.auto_accept = True
        response = await tools.exchange(port, tools.request())
        assert response.status == 404


async def test_handler_returning_without_deciding_rejects_404(tools: Any) -> None:
    async def handler(request: WebSocketRequest) -> None:
        pass

    async with tools.serve(handler) as (_, port):
        response = await tools.exchange(port, tools.request())
    assert response.status == 404
    assert response.get("X-WebSocket-Reject-Reason") == "no handler accepted the request"


async def test_handler_error_before_accept_rejects_500_without_details(
    tools: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def handler(request: WebSocketRequest) -> None:
        raise RuntimeError("database password is hunter2")

    with caplog.at_level(logging.ERROR, logger="wsserver"):
        async with tools.serve(handler) as (_, port):
            reader, writer = await tools.open(port)
            writer.write(tools.request())
            response = await tools.read_response(reader)
            rest = await tools.at_eof(reader)
            writer.close()
    assert response.status == 500
    assert b"hunter2" not in response.body + rest
    assert all("hunter2" not in value for _, value in response.headers)
    assert any("handler failed" in record.getMessage() and record.exc_info for record in caplog.records)


async def test_request_line_too_long_414(tools: Any) -> None:
    async with tools.serve(echo, max_start_line_size=100) as (_, port):
        response = await tools.exchange(port, tools.request("/" + "a" * 200))
    assert response.status == 414


async def test_too_many_headers_431(tools: Any) -> None:
    headers = [(f"X-H{i}", "v") for i in range(20)]
    async with tools.serve(echo, max_header_count=10) as (_, port):
        response = await tools.exchange(port, tools.request(headers=headers))
    assert response.status == 431


async def test_header_section_too_large_431(tools: Any) -> None:
    async with tools.serve(echo) as (_, port):
        # Default limit: 16 KiB of header lines; sent in one piece, never completed.
        reader, writer = await tools.open(port)
        writer.write(b"GET / HTTP/1.1\r\n" + b"X-Filler: " + b"a" * 8000 + b"\r\n")
        writer.write(b"X-Filler2: " + b"a" * 8000 + b"\r\n" + b"X-Filler3: " + b"a" * 1000 + b"\r\n")
        response = await tools.read_response(reader)
        writer.close()
    assert response.status == 431


async def test_open_timeout_408_when_the_head_never_completes(tools: Any) -> None:
    async with tools.serve(echo, open_timeout=0.2) as (server, port):
        reader, writer = await tools.open(port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and nothing more
        response = await tools.read_response(reader)
        assert response.status == 408
        assert await tools.at_eof(reader) == b""
        writer.close()
        await tools.wait_until(lambda: not server._registry.all)


async def test_open_timeout_503_when_the_handler_does_not_decide(tools: Any) -> None:
    cancelled = asyncio.Event()

    async def handler(request: WebSocketRequest) -> None:
        try:
            await asyncio.Event().wait()  # never decides
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with tools.serve(handler, open_timeout=0.2) as (server, port):
        response = await tools.exchange(port, tools.request())
        assert response.status == 503
        await asyncio.wait_for(cancelled.wait(), 5)
        assert not server.pending_requests


async def test_max_pending_handshakes_503(tools: Any) -> None:
    async with tools.serve(echo, max_pending_handshakes=2) as (server, port):
        idle = [await tools.open(port) for _ in range(2)]
        await tools.wait_until(lambda: len(server._registry.handshaking) == 2)
        response = await tools.exchange(port, tools.request())
        assert response.status == 503
        assert response.body == b"too many pending handshakes\n"
        for _, writer in idle:
            writer.close()
        await tools.wait_until(lambda: not server._registry.handshaking)
        _, writer, _ = await tools.upgrade(port)
        writer.close()


async def test_pending_requests_get_503_at_shutdown(tools: Any) -> None:
    deciding = asyncio.Event()

    async def handler(request: WebSocketRequest) -> None:
        deciding.set()
        await asyncio.Event().wait()

    server = wsserver.WebSocketServer(handler)
    port = (await server.listen())[0][1]
    reader, writer = await tools.open(port)
    writer.write(tools.request())
    await asyncio.wait_for(deciding.wait(), 5)
    assert len(server.pending_requests) == 1
    head_only, head_writer = await tools.open(port)  # a handshake not even started
    await tools.wait_until(lambda: len(server._registry.handshaking) == 2)
    await server.shutdown(timeout=2)
    response = await tools.read_response(reader)
    assert response.status == 503
    assert response.get("X-WebSocket-Reject-Reason") == "server is shutting down"
    assert (await tools.read_response(head_only)).status == 503
    writer.close()
    head_writer.close()


async def test_client_disconnecting_before_accept_gets_a_closed_connection(tools: Any) -> None:
    deciding = asyncio.Event()
    proceed = asyncio.Event()
    results: list[Any] = []

    async def handler(request: WebSocketRequest) -> None:
        deciding.set()
        await proceed.wait()
        connection = request.accept()
        results.append((connection.state, connection.close_code, request.accepted))
        try:
            await connection.recv()
        except wsserver.ConnectionClosedError as exc:
            results.append(exc.code)

    async with tools.serve(handler) as (server, port):
        _reader, writer = await tools.open(port)
        writer.write(tools.request())
        await asyncio.wait_for(deciding.wait(), 5)
        writer.close()
        await tools.wait_until(lambda: not server._registry.all)
        proceed.set()
        await tools.wait_until(lambda: len(results) == 2)
    state, code, accepted = results[0]
    assert (state.name, code, accepted) == ("CLOSED", 1006, True)
    assert results[1] == 1006


async def test_frames_sent_right_after_the_request_are_kept(tools: Any) -> None:
    async with tools.serve(echo) as (_, port):
        reader, writer = await tools.open(port)
        writer.write(tools.request() + tools.frame(0x1, b"early"))
        response = await tools.read_response(reader)
        assert response.status == 101
        assert await tools.read_frame(reader) == (True, 0x1, b"early")
        writer.close()


async def test_permessage_deflate_negotiated_and_refused(tools: Any) -> None:
    offer = [("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")]
    async with tools.serve(echo) as (_, port):
        _, writer, response = await tools.upgrade(port, headers=offer)
        writer.close()
    assert response.get("Sec-WebSocket-Extensions").startswith("permessage-deflate")
    async with tools.serve(echo, permessage_deflate=False) as (_, port):
        _, writer, response = await tools.upgrade(port, headers=offer)
        writer.close()
    assert response.get("Sec-WebSocket-Extensions") is None


async def test_too_much_data_before_the_answer_rejects_400(tools: Any) -> None:
    deciding = asyncio.Event()
    seen: list[Any] = []

    async def waiting(request: Any) -> None:
        seen.append(request)
        deciding.set()
        await asyncio.sleep(30)

    async with tools.serve(waiting) as (_, port):
        reader, writer = await tools.open(port)
        writer.write(tools.request())
        await asyncio.wait_for(deciding.wait(), 5)
        writer.write(b"x" * (64 * 1024 + 1))
        response = await tools.read_response(reader)
        writer.close()
    assert response.status == 400
    assert response.get("X-WebSocket-Reject-Reason") == "data received before the handshake response"
    assert seen[0].rejected
