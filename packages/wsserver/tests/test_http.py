"""Plain HTTP requests: the optional http_handler, 426 without one, body limits."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

import wsserver
from wsserver import Request, Response

PAGE = "<!doctype html><title>demo</title><p>héllo</p>"


async def http_handler(request: Request) -> Response | None:
    if request.path == "/":
        return Response(200, [("Content-Type", "text/html; charset=utf-8")], PAGE)
    if request.path == "/echo":
        return Response(200, [("X-Method", request.method), ("X-Query", repr(request.query))], request.body)
    if request.path == "/text":
        return Response(body="plain")
    if request.path == "/boom":
        raise RuntimeError("secret detail")
    if request.path == "/bad":
        return Response(200, [("X-Bad", "a\r\nInjected: 1")], b"")
    return None


async def ws_handler(request: wsserver.WebSocketRequest) -> None:
    connection = request.accept()
    async for message in connection:
        await connection.send(message)


def get(path: str, method: str = "GET", headers: str = "", body: bytes = b"") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode() + body


async def test_page_and_websocket_on_one_server(tools: Any) -> None:
    async with tools.serve(ws_handler, http_handler=http_handler) as (_, port):
        reader, writer = await tools.open(port)
        writer.write(get("/"))
        response = await tools.read_response(reader)
        assert await tools.at_eof(reader) == b""  # one request per connection
        writer.close()
        assert response.status == 200
        assert response.body.decode() == PAGE
        assert response.get("Content-Type") == "text/html; charset=utf-8"
        assert response.get("Connection") == "close"
        reader, writer, _ = await tools.upgrade(port)
        writer.write(tools.frame(0x1, b"ws"))
        assert await tools.read_frame(reader) == (True, 0x1, b"ws")
        writer.close()


async def test_str_body_defaults_to_text_plain(tools: Any) -> None:
    async with tools.serve(None, http_handler=http_handler) as (_, port):
        response = await tools.exchange(port, get("/text"))
    assert (response.status, response.body, response.get("Content-Type")) == (
        200,
        b"plain",
        "text/plain; charset=utf-8",
    )


async def test_head_gets_headers_without_body(tools: Any) -> None:
    async with tools.serve(None, http_handler=http_handler) as (_, port):
        reader, writer = await tools.open(port)
        writer.write(get("/", "HEAD"))
        head = await tools.at_eof(reader)
        writer.close()
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert f"Content-Length: {len(PAGE.encode())}".encode() in head
    assert head.endswith(b"\r\n\r\n")


async def test_body_with_content_length(tools: Any) -> None:
    async with tools.serve(None, http_handler=http_handler) as (_, port):
        reader, writer = await tools.open(port)
        writer.write(get("/echo?a=1", "POST", "Content-Length: 10\r\n", b"01234"))
        writer.write(b"56789")
        response = await tools.read_response(reader)
        writer.close()
    assert response.status == 200
    assert response.body == b"0123456789"
    assert response.get("X-Method") == "POST"
    assert response.get("X-Query") == "{'a': ['1']}"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ("Content-Length: 70000\r\n", 413),
        ("Transfer-Encoding: chunked\r\n", 411),
        ("Content-Length: 12abc\r\n", 400),
        ("Content-Length: 5\r\nContent-Length: 6\r\n", 400),
    ],
)
async def test_body_limits(tools: Any, headers: str, status: int) -> None:
    async with tools.serve(None, http_handler=http_handler) as (_, port):
        response = await tools.exchange(port, get("/echo", "POST", headers))
    assert response.status == status


async def test_none_is_404_and_errors_are_500_without_details(tools: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="wsserver"):
        async with tools.serve(None, http_handler=http_handler) as (_, port):
            missing = await tools.exchange(port, get("/missing"))
            boom = await tools.exchange(port, get("/boom"))
            bad = await tools.exchange(port, get("/bad"))
    assert missing.status == 404
    assert (boom.status, boom.body) == (500, b"internal server error\n")
    assert bad.status == 500
    assert all("Injected" not in name for name, _ in bad.headers)
    messages = [record.getMessage() for record in caplog.records]
    assert any("http_handler failed" in m for m in messages)
    assert any("invalid response from http_handler" in m for m in messages)


async def test_plain_request_without_http_handler_gets_426(tools: Any) -> None:
    async with tools.serve(ws_handler) as (_, port):
        response = await tools.exchange(port, get("/"))
    assert response.status == 426
    assert response.get("Upgrade") == "websocket"
    assert response.get("Sec-WebSocket-Version") == "13"


async def test_slow_body_hits_open_timeout_408(tools: Any) -> None:
    async with tools.serve(None, http_handler=http_handler, open_timeout=0.2) as (_, port):
        response = await tools.exchange(port, get("/echo", "POST", "Content-Length: 10\r\n", b"012"))
    assert response.status == 408


async def test_client_half_closing_after_its_request_still_gets_the_answer(tools: Any) -> None:
    async with tools.serve(None, http_handler=http_handler) as (server, port):
        reader, writer = await tools.open(port)
        writer.write(get("/text"))
        writer.write_eof()
        loop = asyncio.get_running_loop()
        start = loop.time()
        data = await tools.at_eof(reader)
        assert data.startswith(b"HTTP/1.1 200 OK\r\n")
        assert data.endswith(b"plain")
        await tools.wait_until(lambda: not server._registry.all)
        assert loop.time() - start < 2  # closed at once, not after the 5 s linger
        writer.close()
