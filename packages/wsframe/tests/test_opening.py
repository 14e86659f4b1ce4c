"""Tests for `wsframe._opening`: the sans-IO `ServerHandshake` and `ClientHandshake`."""

from __future__ import annotations

import pathlib
import subprocess
import sys
from collections.abc import Sequence

import pytest

import wsframe
from wsframe import (
    BinaryMessage,
    ClientHandshake,
    ClientPerMessageDeflate,
    Connection,
    ConnectionOptions,
    HandshakeError,
    HandshakeEvent,
    HandshakeInvalid,
    HandshakeState,
    HttpRequestReceived,
    InvalidState,
    NegotiationError,
    RequestReceived,
    ResponseReceived,
    Role,
    ServerHandshake,
    ServerPerMessageDeflate,
    TextMessage,
)
from wsframe.cookies import SetCookie
from wsframe.extensions import Extension, ExtensionParameters, ServerExtensionFactory
from wsframe.frames import Frame, Opcode, encode_frame
from wsframe.handshake import DEFAULT_MAX_EARLY_DATA, accept_key, build_request
from wsframe.http import HttpResponse, ResponseParser

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def request_bytes(
    *,
    version: str = "13",
    extra: str = "",
    method: str = "GET",
    target: str = "/chat?room=1",
    key: str = KEY,
) -> bytes:
    origin = "Origin" if version == "13" else "Sec-WebSocket-Origin"
    return (
        f"{method} {target} HTTP/1.1\r\n"
        "Host: server.example.com\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: {version}\r\n"
        f"{origin}: https://example.com\r\n"
        f"{extra}"
        "\r\n"
    ).encode()


def events(handshake: ServerHandshake | ClientHandshake) -> list[HandshakeEvent]:
    return list(iter(handshake.next_event, None))


def parse(data: bytes) -> HttpResponse:
    parser = ResponseParser()
    response = parser.feed(data)
    if response is None:
        response = parser.feed_eof()
    return response


def client_frame(opcode: Opcode, payload: bytes) -> bytes:
    return encode_frame(Frame(opcode, payload), mask=b"\x01\x02\x03\x04")


def server_frame(opcode: Opcode, payload: bytes) -> bytes:
    return encode_frame(Frame(opcode, payload))


class TestServerAccept:
    @pytest.mark.parametrize("version", [13, 8])
    def test_accept(self, version: int) -> None:
        handshake = ServerHandshake()
        assert handshake.state is HandshakeState.RECEIVING
        handshake.receive_data(request_bytes(version=str(version)))
        (event,) = events(handshake)
        assert isinstance(event, RequestReceived)
        assert event.request is handshake.request
        assert event.request.version == version
        assert event.request.origin == "https://example.com"
        assert event.request.path == "/chat"
        assert event.request.query == {"room": ["1"]}
        assert handshake.state is HandshakeState.PENDING
        assert handshake.data_to_send() == b""
        with pytest.raises(InvalidState):
            handshake.connection  # noqa: B018

        handshake.accept(origin="https://example.com")
        assert handshake.state is HandshakeState.OPEN
        response = parse(handshake.data_to_send())
        assert response.status == 101
        assert response.headers["Sec-WebSocket-Accept"] == ACCEPT
        assert response.headers["Upgrade"] == "websocket"
        # Version 8 wants the origin echoed; RFC 6455 has no such response header.
        assert response.headers.get("Sec-WebSocket-Origin") == ("https://example.com" if version == 8 else None)
        assert handshake.data_to_send() == b""
        connection = handshake.connection
        assert isinstance(connection, Connection)
        assert connection.role is Role.SERVER
        assert handshake.trailing_data == b""
        assert events(handshake) == []

    def test_accept_with_cookies_headers_and_options(self) -> None:
        options = ConnectionOptions(max_message_size=10)
        handshake = ServerHandshake(options=options)
        handshake.receive_data(request_bytes())
        events(handshake)
        handshake.accept(cookies=[SetCookie("session", "xyz")], headers=[("X-Served-By", "test")])
        response = parse(handshake.data_to_send())
        assert response.headers.get_all("Set-Cookie") == ["session=xyz"]
        assert response.headers["X-Served-By"] == "test"
        assert handshake.connection.options is options

    def test_invalid_accept_arguments_leave_the_request_pending(self) -> None:
        handshake = ServerHandshake()
        handshake.receive_data(request_bytes(extra="Sec-WebSocket-Protocol: chat\r\n"))
        events(handshake)
        with pytest.raises(ValueError, match="was not requested"):
            handshake.accept("superchat")
        with pytest.raises(ValueError, match="handshake sets it"):
            handshake.accept(headers=[("Sec-WebSocket-Accept", "x")])
        with pytest.raises(ValueError):
            handshake.accept(headers=[("X-Evil", "a\r\nb")])
        assert handshake.state is HandshakeState.PENDING
        assert handshake.data_to_send() == b""
        handshake.reject(400, "unsupported subprotocol")
        response = parse(handshake.data_to_send())
        assert response.status == 400
        assert response.headers["X-WebSocket-Reject-Reason"] == "unsupported subprotocol"

    def test_subprotocol_negotiation(self) -> None:
        handshake = ServerHandshake()
        handshake.receive_data(request_bytes(extra="Sec-WebSocket-Protocol: Chat.V2, superchat\r\n"))
        (event,) = events(handshake)
        assert isinstance(event, RequestReceived)
        assert event.request.subprotocols == ["Chat.V2", "superchat"]
        handshake.accept("chat.v2")
        assert handshake.subprotocol == "Chat.V2"
        response = parse(handshake.data_to_send())
        assert response.headers.get_all("Sec-WebSocket-Protocol") == ["Chat.V2"]

    def test_extension_negotiation(self) -> None:
        handshake = ServerHandshake(extensions=[ServerPerMessageDeflate()])
        handshake.receive_data(
            request_bytes(extra="Sec-WebSocket-Extensions: x-unknown, permessage-deflate; client_max_window_bits\r\n")
        )
        (event,) = events(handshake)
        assert isinstance(event, RequestReceived)
        assert [e.name for e in handshake.extensions] == ["permessage-deflate"]
        handshake.accept()
        response = parse(handshake.data_to_send())
        assert response.headers["Sec-WebSocket-Extensions"].startswith("permessage-deflate")
        assert [e.name for e in handshake.connection.extensions] == ["permessage-deflate"]

    def test_no_extension_when_none_supported(self) -> None:
        handshake = ServerHandshake()
        handshake.receive_data(request_bytes(extra="Sec-WebSocket-Extensions: permessage-deflate\r\n"))
        events(handshake)
        handshake.accept()
        response = parse(handshake.data_to_send())
        assert "Sec-WebSocket-Extensions" not in response.headers
        assert list(handshake.connection.extensions) == []

    def test_malformed_extension_offer_400(self) -> None:
        class Strict(ServerExtensionFactory):
            name = "x-strict"

            def negotiate(
                self, params: ExtensionParameters, accepted: Sequence[Extension]
            ) -> tuple[ExtensionParameters, Extension] | None:
                raise NegotiationError(f"x-strict refuses {params!r}")

        handshake = ServerHandshake(extensions=[Strict()])
        handshake.receive_data(request_bytes(extra="Sec-WebSocket-Extensions: x-strict; a=1\r\n"))
        (event,) = events(handshake)
        assert isinstance(event, HandshakeInvalid)
        assert isinstance(event.error, NegotiationError)
        response = parse(handshake.data_to_send())
        assert response.status == 400
        assert response.headers["X-WebSocket-Reject-Reason"] == "x-strict refuses [('a', '1')]"
        assert handshake.state is HandshakeState.REFUSED

    def test_declined_extension_offer(self) -> None:
        # permessage-deflate declines an offer it cannot parse rather than failing.
        handshake = ServerHandshake(extensions=[ServerPerMessageDeflate()])
        handshake.receive_data(
            request_bytes(extra="Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99\r\n")
        )
        assert isinstance(handshake.next_event(), RequestReceived)
        assert handshake.extensions == []

    def test_trailing_data_handed_over(self) -> None:
        frames = client_frame(Opcode.TEXT, b"hello") + client_frame(Opcode.BINARY, b"\x01")
        handshake = ServerHandshake()
        handshake.receive_data(request_bytes() + frames[:3])
        events(handshake)
        handshake.receive_data(frames[3:])  # arrived before the answer
        assert events(handshake) == []
        handshake.accept()
        assert handshake.trailing_data == frames
        received = handshake.connection.receive_data(handshake.trailing_data)
        assert received == [TextMessage("hello"), BinaryMessage(b"\x01")]
        with pytest.raises(InvalidState):
            handshake.receive_data(b"more")

    def test_byte_by_byte(self) -> None:
        data = request_bytes(extra="Sec-WebSocket-Protocol: chat\r\n") + client_frame(Opcode.TEXT, b"hi")
        handshake = ServerHandshake()
        seen: list[HandshakeEvent] = []
        for i in range(len(data)):
            handshake.receive_data(data[i : i + 1])
            seen += events(handshake)
            assert handshake.data_to_send() == b""
        assert len(seen) == 1
        assert isinstance(seen[0], RequestReceived)
        assert seen[0].request.subprotocols == ["chat"]
        handshake.accept("chat")
        assert parse(handshake.data_to_send()).status == 101
        assert handshake.connection.receive_data(handshake.trailing_data) == [TextMessage("hi")]

    def test_decisions_allowed_once(self) -> None:
        handshake = ServerHandshake()
        handshake.receive_data(request_bytes())
        events(handshake)
        handshake.accept()
        with pytest.raises(InvalidState):
            handshake.accept()
        with pytest.raises(InvalidState):
            handshake.reject()
        with pytest.raises(InvalidState):
            handshake.require_upgrade()

    def test_repr(self) -> None:
        handshake = ServerHandshake()
        assert repr(handshake) == "<ServerHandshake RECEIVING>"
        handshake.receive_data(request_bytes())
        assert repr(handshake) == "<ServerHandshake PENDING /chat?room=1>"


class TestServerRefusals:
    def refused(self, data: bytes, **kwargs: object) -> tuple[HandshakeError, HttpResponse]:
        handshake = ServerHandshake(**kwargs)  # type: ignore[arg-type]
        handshake.receive_data(data)
        (event,) = events(handshake)
        assert isinstance(event, HandshakeInvalid)
        assert isinstance(event.error, HandshakeError)
        assert handshake.state is HandshakeState.REFUSED
        response = parse(handshake.data_to_send())
        assert response.status == event.error.status
        assert "close" in response.headers["Connection"]
        assert response.headers["X-WebSocket-Reject-Reason"] == str(event.error)
        # Whatever the client sends next is discarded.
        handshake.receive_data(b"GET / HTTP/1.1\r\n\r\n")
        assert handshake.data_to_send() == b""
        assert events(handshake) == []
        with pytest.raises(InvalidState):
            handshake.connection  # noqa: B018
        return event.error, response

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (request_bytes(key="short"), "invalid Sec-WebSocket-Key"),
            (request_bytes().replace(b"Host: server.example.com\r\n", b""), "missing Host"),
            (request_bytes().replace(b"Connection: Upgrade", b"Connection: keep-alive"), "does not list upgrade"),
            (request_bytes(extra="Content-Length: 5\r\n"), "must not have a body"),
            (request_bytes(extra="Origin: https://evil.example\r\n"), "more than one Origin"),
            (request_bytes(extra="Sec-WebSocket-Protocol: chat/1\r\n"), "invalid subprotocol"),
            (b"GET /chat HTTP/1.0\r\nUpgrade: websocket\r\n\r\n", "does not support"),
            (b"GET /chat HTTP/1.1\r\nBad Header: x\r\n\r\n", "invalid header name"),
            (b"GET /chat HTTP/1.1\r\nHost: x\r\n folded: x\r\n\r\n", "folded header line"),
        ],
    )
    def test_400(self, data: bytes, message: str) -> None:
        error, _ = self.refused(data)
        assert error.status == 400
        assert message in str(error)

    @pytest.mark.parametrize("version", ["7", "14", "13, 8", ""])
    def test_426_unsupported_version(self, version: str) -> None:
        error, response = self.refused(request_bytes(version=version))
        assert error.status == 426
        assert response.headers["Sec-WebSocket-Version"] == "13"
        assert response.headers["Upgrade"] == "websocket"

    def test_405_method(self) -> None:
        error, response = self.refused(request_bytes(method="POST"))
        assert error.status == 405
        assert response.headers["Allow"] == "GET"

    def test_431_too_many_headers(self) -> None:
        extra = "".join(f"X-{i}: {i}\r\n" for i in range(10))
        error, _ = self.refused(request_bytes(extra=extra), max_header_count=8)
        assert error.status == 431
        assert "too many header lines" in str(error)

    def test_431_header_section_too_large(self) -> None:
        error, _ = self.refused(request_bytes(extra=f"X-Big: {'a' * 300}\r\n"), max_head_size=256)
        assert error.status == 431

    def test_431_header_line_detected_before_its_end(self) -> None:
        handshake = ServerHandshake(max_header_line_size=100)
        handshake.receive_data(b"GET / HTTP/1.1\r\nX-Endless: ")
        assert events(handshake) == []
        handshake.receive_data(b"a" * 200)  # no line end yet
        (event,) = events(handshake)
        assert isinstance(event, HandshakeInvalid)
        assert isinstance(event.error, HandshakeError)
        assert event.error.status == 431
        assert parse(handshake.data_to_send()).status == 431

    def test_414_request_line(self) -> None:
        error, _ = self.refused(request_bytes(target="/" + "a" * 200), max_start_line_size=100)
        assert error.status == 414

    def test_505_http_version(self) -> None:
        error, _ = self.refused(b"GET / HTTP/2.0\r\n\r\n")
        assert error.status == 505

    def test_reject_with_status_headers_and_body(self) -> None:
        handshake = ServerHandshake()
        handshake.receive_data(request_bytes())
        events(handshake)
        handshake.reject(302, headers=[("Location", "https://elsewhere.example/")], body=b"moved")
        assert handshake.state is HandshakeState.REFUSED
        response = parse(handshake.data_to_send())
        assert response.status == 302
        assert response.headers["Location"] == "https://elsewhere.example/"
        assert response.body == b"moved"

    def test_reject_default_403(self) -> None:
        handshake = ServerHandshake()
        handshake.receive_data(request_bytes())
        events(handshake)
        with pytest.raises(ValueError):
            handshake.reject(200)
        assert handshake.state is HandshakeState.PENDING
        handshake.reject(reason="go away")
        response = parse(handshake.data_to_send())
        assert response.status == 403
        assert response.body == b"go away\n"

    def test_reject_while_reading_the_head(self) -> None:
        handshake = ServerHandshake()
        handshake.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\n")
        handshake.reject(408, "request not received in time")
        assert handshake.state is HandshakeState.REFUSED
        assert parse(handshake.data_to_send()).status == 408
        handshake.receive_data(b"\r\n")
        assert events(handshake) == []

    def test_early_data_limit(self) -> None:
        handshake = ServerHandshake(max_early_data=10)
        handshake.receive_data(request_bytes() + b"x" * 10)
        (event,) = events(handshake)
        assert isinstance(event, RequestReceived)
        handshake.receive_data(b"y")
        (event,) = events(handshake)
        assert isinstance(event, HandshakeInvalid)
        assert isinstance(event.error, HandshakeError)
        assert event.error.status == 400
        assert str(event.error) == "data received before the handshake response"
        response = parse(handshake.data_to_send())
        assert response.status == 400
        assert response.headers["X-WebSocket-Reject-Reason"] == "data received before the handshake response"
        assert handshake.trailing_data == b""

    def test_early_data_checked_after_the_decision(self) -> None:
        # The request comes first, so the application may answer it; only a request
        # still pending is refused for the data that came with it.
        handshake = ServerHandshake(max_early_data=4)
        handshake.receive_data(request_bytes() + b"x" * 5)
        event = handshake.next_event()
        assert isinstance(event, RequestReceived)
        handshake.reject(404, "no handler")
        assert handshake.next_event() is None
        assert parse(handshake.data_to_send()).status == 404

    def test_early_data_default_limit(self) -> None:
        assert DEFAULT_MAX_EARLY_DATA == 64 * 1024
        handshake = ServerHandshake()
        handshake.receive_data(request_bytes() + b"x" * DEFAULT_MAX_EARLY_DATA)
        assert isinstance(handshake.next_event(), RequestReceived)
        assert handshake.next_event() is None
        handshake.receive_data(b"x")
        assert isinstance(handshake.next_event(), HandshakeInvalid)

    def test_invalid_limits(self) -> None:
        with pytest.raises(ValueError, match="max_early_data"):
            ServerHandshake(max_early_data=-1)
        with pytest.raises(ValueError, match="max_head_size"):
            ServerHandshake(max_head_size=0)
        with pytest.raises(TypeError, match="ServerExtensionFactory"):
            ServerHandshake(extensions=[ClientPerMessageDeflate()])  # type: ignore[list-item]


class TestServerPlainHttp:
    def test_plain_request_handed_over_with_its_body(self) -> None:
        handshake = ServerHandshake()
        handshake.receive_data(b"POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nab")
        (event,) = events(handshake)
        assert isinstance(event, HttpRequestReceived)
        assert event.request.method == "POST"
        assert handshake.http_request is event.request
        assert handshake.state is HandshakeState.HTTP
        assert handshake.trailing_data == b"ab"
        with pytest.raises(InvalidState):
            handshake.receive_data(b"c")
        with pytest.raises(InvalidState):
            handshake.accept()

    def test_require_upgrade_426(self) -> None:
        handshake = ServerHandshake()
        handshake.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        events(handshake)
        handshake.require_upgrade()
        response = parse(handshake.data_to_send())
        assert response.status == 426
        assert response.headers["Sec-WebSocket-Version"] == "13"
        assert response.headers["Upgrade"] == "websocket"
        assert response.headers["X-WebSocket-Reject-Reason"] == "this server only accepts WebSocket connections"
        assert handshake.state is HandshakeState.REFUSED

    def test_eof_recorded(self) -> None:
        handshake = ServerHandshake()
        handshake.receive_data(b"GET / HT")
        handshake.receive_eof()
        assert handshake.eof_received
        assert events(handshake) == []
        assert handshake.state is HandshakeState.RECEIVING


def answer(request: bytes, extra: str = "", *, status: str = "101 Switching Protocols") -> bytes:
    """The server side's accept (or `status`) for a client's request, through ServerHandshake."""
    key = next(
        line.split(b": ", 1)[1].decode() for line in request.split(b"\r\n") if line.startswith(b"Sec-WebSocket-Key")
    )
    return (
        f"HTTP/1.1 {status}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept_key(key)}\r\n"
        f"{extra}"
        "\r\n"
    ).encode()


class TestClient:
    @pytest.mark.parametrize("version", [13, 8])
    def test_request_then_accept(self, version: int) -> None:
        handshake = ClientHandshake(
            "server.example.com",
            "/chat",
            random=lambda n: b"the sample nonce",
            version=version,
            origin="https://example.com",
        )
        assert handshake.key == KEY
        request = handshake.data_to_send()
        assert request == handshake.request
        assert handshake.data_to_send() == b""
        assert f"Sec-WebSocket-Version: {version}\r\n".encode() in request
        origin = b"Origin" if version == 13 else b"Sec-WebSocket-Origin"
        assert b"\r\n" + origin + b": https://example.com\r\n" in request
        assert handshake.state is HandshakeState.RECEIVING

        handshake.receive_data(answer(request))
        (event,) = events(handshake)
        assert isinstance(event, ResponseReceived)
        assert event.response is handshake.response
        assert event.response.status == 101
        assert handshake.state is HandshakeState.OPEN
        assert handshake.connection.role is Role.CLIENT
        assert handshake.subprotocol is None
        assert handshake.extensions == []
        assert handshake.trailing_data == b""

    def test_server_rfc_round_trip(self) -> None:
        """A ClientHandshake and a ServerHandshake wired back to back, frames included."""
        client = ClientHandshake("server.example.com", "/chat", subprotocols=["a", "b"])
        server = ServerHandshake()
        server.receive_data(client.data_to_send())
        (event,) = events(server)
        assert isinstance(event, RequestReceived)
        server.accept("b")
        client.receive_data(server.data_to_send() + server_frame(Opcode.TEXT, b"first"))
        assert isinstance(client.next_event(), ResponseReceived)
        assert client.subprotocol == "b"
        assert client.connection.receive_data(client.trailing_data) == [TextMessage("first")]
        with pytest.raises(InvalidState):
            client.receive_data(b"x")

    def test_subprotocol_and_extension_negotiation(self) -> None:
        handshake = ClientHandshake(
            "h", "/", subprotocols=["chat", "superchat"], extensions=[ClientPerMessageDeflate()]
        )
        request = handshake.data_to_send()
        assert b"Sec-WebSocket-Protocol: chat, superchat\r\n" in request
        assert b"Sec-WebSocket-Extensions: permessage-deflate" in request
        handshake.receive_data(
            answer(request, "Sec-WebSocket-Protocol: superchat\r\nSec-WebSocket-Extensions: permessage-deflate\r\n")
        )
        assert isinstance(handshake.next_event(), ResponseReceived)
        assert handshake.subprotocol == "superchat"
        assert [e.name for e in handshake.extensions] == ["permessage-deflate"]
        assert [e.name for e in handshake.connection.extensions] == ["permessage-deflate"]

    @pytest.mark.parametrize(
        ("extra", "error", "message"),
        [
            ("Sec-WebSocket-Protocol: other\r\n", NegotiationError, "not offered"),
            ("Sec-WebSocket-Protocol: chat, chat2\r\n", NegotiationError, "more than one"),
            ("Sec-WebSocket-Extensions: x-unknown\r\n", NegotiationError, "not offered"),
        ],
    )
    def test_negotiation_errors(self, extra: str, error: type[Exception], message: str) -> None:
        handshake = ClientHandshake("h", "/", subprotocols=["chat"])
        handshake.receive_data(answer(handshake.data_to_send(), extra))
        (event,) = events(handshake)
        assert isinstance(event, HandshakeInvalid)
        assert type(event.error) is error
        assert message in str(event.error)
        assert handshake.state is HandshakeState.FAILED
        assert handshake.response is not None
        assert handshake.response.status == 101
        with pytest.raises(InvalidState):
            handshake.connection  # noqa: B018

    def test_wrong_accept(self) -> None:
        handshake = ClientHandshake("h", "/")
        handshake.data_to_send()
        handshake.receive_data(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + ACCEPT.encode() + b"\r\n\r\n"
        )
        (event,) = events(handshake)
        assert isinstance(event, HandshakeInvalid)
        assert type(event.error) is HandshakeError
        assert str(event.error) == "Sec-WebSocket-Accept does not match the key"
        assert event.error.status == 101

    def test_refusal_with_body(self) -> None:
        handshake = ClientHandshake("h", "/")
        handshake.data_to_send()
        handshake.receive_data(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 7\r\n\r\ngo ")
        assert events(handshake) == []
        handshake.receive_data(b"away")
        (event,) = events(handshake)
        assert isinstance(event, ResponseReceived)
        assert event.response.status == 403
        assert event.response.body == b"go away"
        assert handshake.state is HandshakeState.REFUSED
        handshake.receive_data(b"ignored")  # discarded
        assert events(handshake) == []

    def test_refusal_with_body_until_eof(self) -> None:
        handshake = ClientHandshake("h", "/")
        handshake.receive_data(b"HTTP/1.1 503 Service Unavailable\r\n\r\nbusy")
        assert events(handshake) == []
        handshake.receive_eof()
        (event,) = events(handshake)
        assert isinstance(event, ResponseReceived)
        assert event.response.body == b"busy"
        assert handshake.state is HandshakeState.REFUSED

    def test_eof_during_head(self) -> None:
        handshake = ClientHandshake("h", "/")
        handshake.receive_data(b"HTTP/1.1 101 Switching")
        handshake.receive_eof()
        (event,) = events(handshake)
        assert isinstance(event, HandshakeInvalid)
        assert isinstance(event.error, HandshakeError)
        assert handshake.state is HandshakeState.FAILED
        handshake.receive_eof()
        assert events(handshake) == []

    def test_431_response_head_too_large(self) -> None:
        handshake = ClientHandshake("h", "/", max_header_count=2)
        handshake.receive_data(b"HTTP/1.1 101 Switching Protocols\r\nA: 1\r\nB: 2\r\nC: 3\r\n")
        (event,) = events(handshake)
        assert isinstance(event, HandshakeInvalid)
        assert isinstance(event.error, HandshakeError)
        assert event.error.status == 431

    def test_byte_by_byte_with_trailing_frame(self) -> None:
        handshake = ClientHandshake("h", "/", subprotocols=["chat"])
        data = answer(handshake.data_to_send(), "Sec-WebSocket-Protocol: chat\r\n")
        data += server_frame(Opcode.BINARY, b"\x00\x01")
        seen: list[HandshakeEvent] = []
        for i in range(len(data)):
            if handshake.state is HandshakeState.OPEN:
                break
            handshake.receive_data(data[i : i + 1])
            seen += events(handshake)
        assert len(seen) == 1
        assert isinstance(seen[0], ResponseReceived)
        rest = data[len(data) - len(server_frame(Opcode.BINARY, b"\x00\x01")) :]
        assert handshake.trailing_data == b""  # the head ended exactly at the last byte fed
        assert handshake.connection.receive_data(rest) == [BinaryMessage(b"\x00\x01")]

    def test_from_request(self) -> None:
        request = build_request("h", "/", KEY, subprotocols=["chat"])
        handshake = ClientHandshake.from_request(request, key=KEY, subprotocols=["chat"])
        assert handshake.data_to_send() == request
        handshake.receive_data(answer(request, "Sec-WebSocket-Protocol: chat\r\n"))
        assert isinstance(handshake.next_event(), ResponseReceived)
        assert handshake.subprotocol == "chat"
        with pytest.raises(TypeError):
            ClientHandshake.from_request("GET", key=KEY)  # type: ignore[arg-type]

    def test_invalid_arguments(self) -> None:
        with pytest.raises(ValueError, match="version"):
            ClientHandshake("h", "/", version=7)
        with pytest.raises(ValueError, match="handshake sets it"):
            ClientHandshake("h", "/", headers=[("Sec-WebSocket-Key", KEY)])
        with pytest.raises(TypeError, match="ClientExtensionFactory"):
            ClientHandshake("h", "/", extensions=[ServerPerMessageDeflate()])  # type: ignore[list-item]

    def test_repr(self) -> None:
        handshake = ClientHandshake("h", "/")
        assert repr(handshake) == "<ClientHandshake RECEIVING>"
        handshake.receive_data(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        assert repr(handshake) == "<ClientHandshake REFUSED 404>"


def test_no_io_imports() -> None:
    # The handshake objects import nothing that does I/O or reads a clock.
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import wsframe._opening\n"
        "new = set(sys.modules) - before\n"
        "print(sorted(m for m in new if m.split('.')[0] in "
        "('asyncio', 'socket', 'ssl', 'time', 'threading', 'selectors')))\n"
    )
    src = str(pathlib.Path(wsframe.__file__).resolve().parents[1])
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONPATH": src}
    )
    assert result.stdout.strip() == "[]"
