"""Tests for `wsframe._handshake`: the opening handshake, both roles, versions 13 and 8."""

from __future__ import annotations

import datetime
import pathlib
import subprocess
import sys

import pytest

import wsframe._http as wsframe_http
from wsframe._cookies import SetCookie
from wsframe._errors import HandshakeError, NegotiationError
from wsframe._handshake import (
    SUPPORTED_VERSIONS,
    WEBSOCKET_GUID,
    OpeningRequest,
    accept_key,
    build_accept_response,
    build_reject_response,
    build_request,
    check_request,
    check_response,
    generate_key,
    is_upgrade_request,
)
from wsframe._http import Headers, HttpRequest, HttpResponse, RequestParser, ResponseParser

# RFC 6455 section 1.3.
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

INJECTIONS = ["a\r\nX-Evil: 1", "a\nX-Evil: 1", "a\rb", "a\x00b"]

BASE = [
    ("Host", "server.example.com"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", KEY),
    ("Sec-WebSocket-Version", "13"),
]


def make_request(
    *,
    method: str = "GET",
    target: str = "/chat",
    version: str = "HTTP/1.1",
    drop: tuple[str, ...] = (),
    replace: dict[str, str] | None = None,
    extra: list[tuple[str, str]] | None = None,
) -> HttpRequest:
    """A valid version 13 request, with headers dropped, replaced or added."""
    replace = replace or {}
    headers = Headers()
    for name, value in BASE:
        if name in drop:
            continue
        headers.add(name, replace.pop(name, value))
    for name, value in [*replace.items(), *(extra or [])]:
        headers.add(name, value)
    return HttpRequest(method, target, version, headers)


def accepted(request: HttpRequest | None = None, **kwargs: object) -> HttpResponse:
    """The parsed accept response for `request`."""
    opening = check_request(request or make_request())
    response = ResponseParser().feed(build_accept_response(opening, **kwargs))  # type: ignore[arg-type]
    assert response is not None
    return response


def response(status: int = 101, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    if headers is None:
        headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", ACCEPT)]
    return HttpResponse(status, "Switching Protocols", "HTTP/1.1", Headers(headers))


class TestKeys:
    def test_constants(self) -> None:
        assert WEBSOCKET_GUID == "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
        assert SUPPORTED_VERSIONS == (13, 8)

    def test_accept_key_rfc_example(self) -> None:
        assert accept_key(KEY) == ACCEPT

    def test_accept_key_non_ascii(self) -> None:
        with pytest.raises(ValueError):
            accept_key("é")

    def test_generate_key_uses_injected_random(self) -> None:
        calls: list[int] = []

        def random(n: int) -> bytes:
            calls.append(n)
            return b"the sample nonce"

        assert generate_key(random) == KEY
        assert calls == [16]

    def test_generate_key_default(self) -> None:
        keys = {generate_key() for _ in range(20)}
        assert len(keys) == 20
        assert all(len(key) == 24 and key.endswith("==") for key in keys)

    def test_generate_key_bad_random(self) -> None:
        with pytest.raises(ValueError):
            generate_key(lambda n: b"short")


class TestCheckRequest:
    def test_valid(self) -> None:
        request = make_request(
            target="/chat?room=1&room=2&flag",
            extra=[
                ("Origin", "http://example.com"),
                ("Sec-WebSocket-Protocol", "chat, SuperChat"),
                ("Sec-WebSocket-Protocol", "v2"),
                ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"),
                ("Cookie", "a=1; b=%zz"),
                ("Cookie", "c=3"),
            ],
        )
        opening = check_request(request)
        assert isinstance(opening, OpeningRequest)
        assert opening.version == 13
        assert opening.key == KEY
        assert opening.host == "server.example.com"
        assert opening.target == "/chat?room=1&room=2&flag"
        assert opening.path == "/chat"
        assert opening.query == {"room": ["1", "2"], "flag": [""]}
        assert opening.origin == "http://example.com"
        assert opening.subprotocols == ["chat", "SuperChat", "v2"]
        assert opening.extensions == [("permessage-deflate", [("client_max_window_bits", None)])]
        assert opening.cookies == [("a", "1"), ("b", "%zz"), ("c", "3")]
        assert opening.headers is request.headers
        assert opening.request is request

    def test_version_8_uses_sec_websocket_origin(self) -> None:
        request = make_request(
            replace={"Sec-WebSocket-Version": "8"},
            extra=[("Sec-WebSocket-Origin", "http://old.example"), ("Origin", "http://ignored")],
        )
        opening = check_request(request)
        assert opening.version == 8
        assert opening.origin == "http://old.example"

    def test_no_origin(self) -> None:
        assert check_request(make_request()).origin is None

    def test_token_lists_and_case(self) -> None:
        request = make_request(replace={"Upgrade": "h2c, WebSocket", "Connection": "keep-alive, UPGRADE"})
        assert check_request(request).version == 13

    def test_absolute_form_target(self) -> None:
        opening = check_request(make_request(target="ws://server.example.com/chat?x=1"))
        assert (opening.path, opening.query) == ("/chat", {"x": ["1"]})
        assert check_request(make_request(target="http://h")).path == "/"

    def test_content_length_zero_allowed(self) -> None:
        check_request(make_request(extra=[("Content-Length", "0")]))

    def test_http_11_or_later(self) -> None:
        check_request(make_request(version="HTTP/1.2"))

    def test_method_not_allowed(self) -> None:
        with pytest.raises(HandshakeError) as info:
            check_request(make_request(method="POST"))
        assert info.value.status == 405
        assert info.value.headers == [("Allow", "GET")]

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"version": "HTTP/1.0"}, "does not support"),
            ({"version": "garbage"}, "does not support"),
            ({"target": "*"}, "invalid request target"),
            ({"target": "server.example.com:80"}, "invalid request target"),
            ({"drop": ("Host",)}, "missing Host"),
            ({"extra": [("Host", "other")]}, "more than one Host"),
            ({"replace": {"Host": ""}}, "empty Host"),
            ({"drop": ("Upgrade",)}, "missing Upgrade"),
            ({"replace": {"Upgrade": "h2c"}}, "does not list websocket"),
            ({"replace": {"Upgrade": "websockets"}}, "does not list websocket"),
            ({"drop": ("Connection",)}, "missing Connection"),
            ({"replace": {"Connection": "keep-alive"}}, "does not list upgrade"),
            ({"drop": ("Sec-WebSocket-Key",)}, "missing Sec-WebSocket-Key"),
            ({"extra": [("Sec-WebSocket-Key", KEY)]}, "more than one Sec-WebSocket-Key"),
            ({"replace": {"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ"}}, "invalid Sec-WebSocket-Key"),
            ({"replace": {"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZSE="}}, "invalid Sec-WebSocket-Key"),
            ({"replace": {"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25j!Q=="}}, "invalid Sec-WebSocket-Key"),
            ({"replace": {"Sec-WebSocket-Key": "x" * 1000}}, "invalid Sec-WebSocket-Key"),
            ({"extra": [("Sec-WebSocket-Protocol", "chat/1")]}, "invalid subprotocol"),
            ({"extra": [("Sec-WebSocket-Extensions", "x; =1")]}, "parameter name"),
            ({"extra": [("Origin", "a"), ("origin", "b")]}, "more than one Origin"),
            ({"extra": [("Content-Length", "5")]}, "must not have a body"),
            ({"extra": [("Transfer-Encoding", "chunked")]}, "must not have a body"),
        ],
    )
    def test_rejections_400(self, kwargs: dict[str, object], message: str) -> None:
        with pytest.raises(HandshakeError) as info:
            check_request(make_request(**kwargs))  # type: ignore[arg-type]
        assert info.value.status == 400
        assert message in str(info.value)

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"drop": ("Sec-WebSocket-Version",)},
            {"replace": {"Sec-WebSocket-Version": "7"}},
            {"replace": {"Sec-WebSocket-Version": "14"}},
            {"replace": {"Sec-WebSocket-Version": "013"}},
            {"replace": {"Sec-WebSocket-Version": "13, 8"}},
            {"replace": {"Sec-WebSocket-Version": "abc"}},
            {"extra": [("Sec-WebSocket-Version", "13")]},
        ],
    )
    def test_unsupported_version_426(self, kwargs: dict[str, object]) -> None:
        with pytest.raises(HandshakeError) as info:
            check_request(make_request(**kwargs))  # type: ignore[arg-type]
        assert info.value.status == 426
        assert info.value.headers == [("Sec-WebSocket-Version", "13")]

    def test_is_upgrade_request(self) -> None:
        assert is_upgrade_request(make_request())
        assert is_upgrade_request(make_request(replace={"Upgrade": "foo, WEBSOCKET"}))
        assert not is_upgrade_request(make_request(drop=("Upgrade",)))
        assert not is_upgrade_request(make_request(replace={"Upgrade": "h2c"}))

    def test_repr_is_short(self) -> None:
        text = repr(check_request(make_request()))
        assert "OpeningRequest(version=13" in text
        assert "Headers(" not in text


class TestAcceptResponse:
    def test_basic(self) -> None:
        data = build_accept_response(check_request(make_request()))
        assert data == (
            b"HTTP/1.1 101 Switching Protocols\r\n"
            b"Upgrade: websocket\r\n"
            b"Connection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            b"\r\n"
        )

    def test_subprotocol_echoes_client_spelling(self) -> None:
        request = make_request(extra=[("Sec-WebSocket-Protocol", "chat, SuperChat")])
        assert accepted(request, subprotocol="superchat").headers.get_all("Sec-WebSocket-Protocol") == ["SuperChat"]
        assert accepted(request, subprotocol="chat").headers["Sec-WebSocket-Protocol"] == "chat"
        assert "Sec-WebSocket-Protocol" not in accepted(request).headers

    @pytest.mark.parametrize("bad", ["other", "chat\r\nX-Evil: 1", ""])
    def test_subprotocol_not_requested(self, bad: str) -> None:
        opening = check_request(make_request(extra=[("Sec-WebSocket-Protocol", "chat")]))
        with pytest.raises(ValueError, match="was not requested"):
            build_accept_response(opening, subprotocol=bad)

    def test_extensions(self) -> None:
        headers = accepted(extensions="permessage-deflate; server_no_context_takeover").headers
        assert headers["Sec-WebSocket-Extensions"] == "permessage-deflate; server_no_context_takeover"
        opening = check_request(make_request())
        with pytest.raises(ValueError, match="invalid extensions"):
            build_accept_response(opening, extensions="a b")

    def test_origin_only_for_version_8(self) -> None:
        assert "Sec-WebSocket-Origin" not in accepted(origin="http://a").headers
        assert "Origin" not in accepted(origin="http://a").headers
        v8 = make_request(replace={"Sec-WebSocket-Version": "8"})
        assert accepted(v8, origin="http://a").headers["Sec-WebSocket-Origin"] == "http://a"

    def test_cookies(self) -> None:
        expires = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
        headers = accepted(
            cookies=[SetCookie("a", "1", path="/", http_only=True), SetCookie("b", "2", expires=expires)]
        ).headers
        assert headers.get_all("Set-Cookie") == ["a=1; Path=/; HttpOnly", "b=2; Expires=Tue, 01 Jan 2030 00:00:00 GMT"]

    def test_duplicate_cookie_names(self) -> None:
        opening = check_request(make_request())
        with pytest.raises(ValueError, match="'a' set twice"):
            build_accept_response(opening, cookies=[SetCookie("a", "1"), SetCookie("a", "2", path="/x")])

    def test_extra_headers(self) -> None:
        headers = accepted(headers={"X-Server": "wskit"}).headers
        assert headers["X-Server"] == "wskit"

    @pytest.mark.parametrize(
        "name",
        [
            "Upgrade",
            "connection",
            "Sec-WebSocket-Accept",
            "sec-websocket-protocol",
            "Sec-WebSocket-Extensions",
            "Content-Length",
            "Transfer-Encoding",
        ],
    )
    def test_reserved_headers(self, name: str) -> None:
        opening = check_request(make_request())
        with pytest.raises(ValueError, match="must not include"):
            build_accept_response(opening, headers=[(name, "x")])

    @pytest.mark.parametrize("bad", INJECTIONS)
    def test_injection(self, bad: str) -> None:
        opening = check_request(make_request())
        v8 = check_request(make_request(replace={"Sec-WebSocket-Version": "8"}))
        with pytest.raises(ValueError):
            build_accept_response(opening, extensions=bad)
        with pytest.raises(ValueError):
            build_accept_response(opening, origin=bad)
        with pytest.raises(ValueError):
            build_accept_response(v8, origin=bad)
        with pytest.raises(ValueError):
            build_accept_response(opening, headers=[("X", bad)])
        with pytest.raises(ValueError):
            build_accept_response(opening, headers=[(bad, "x")])


class TestRejectResponse:
    def test_default(self) -> None:
        data = build_reject_response()
        assert data == b"HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"

    def test_reason_as_header_and_body(self) -> None:
        parsed = ResponseParser().feed(build_reject_response(401, "token expired", {"WWW-Authenticate": "Bearer"}))
        assert parsed is not None
        assert (parsed.status, parsed.reason) == (401, "Unauthorized")
        assert parsed.headers["X-WebSocket-Reject-Reason"] == "token expired"
        assert parsed.headers["Connection"] == "close"
        assert parsed.headers["WWW-Authenticate"] == "Bearer"
        assert parsed.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert parsed.body == b"token expired\n"

    def test_explicit_body(self) -> None:
        parsed = ResponseParser().feed(build_reject_response(400, "bad", [("Content-Type", "text/html")], b"<p>no</p>"))
        assert parsed is not None
        assert parsed.body == b"<p>no</p>"
        assert parsed.headers.get_all("Content-Type") == ["text/html"]

    def test_handshake_error_round_trip(self) -> None:
        with pytest.raises(HandshakeError) as info:
            check_request(make_request(method="PUT"))
        exc = info.value
        parsed = ResponseParser().feed(build_reject_response(exc.status, str(exc), exc.headers))
        assert parsed is not None
        assert parsed.status == 405
        assert parsed.headers["Allow"] == "GET"

    def test_426_gets_upgrade(self) -> None:
        parsed = ResponseParser().feed(build_reject_response(426, None, [("Sec-WebSocket-Version", "13")]))
        assert parsed is not None
        assert parsed.headers["Upgrade"] == "websocket"
        assert parsed.headers["Connection"] == "Upgrade, close"
        assert parsed.headers["Sec-WebSocket-Version"] == "13"

    def test_redirect(self) -> None:
        parsed = ResponseParser().feed(build_reject_response(302, headers={"Location": "/elsewhere"}))
        assert parsed is not None
        assert parsed.status == 302
        assert parsed.headers["Location"] == "/elsewhere"

    @pytest.mark.parametrize("status", [101, 200, 299, 600, 0, True, "403"])
    def test_invalid_status(self, status: object) -> None:
        with pytest.raises(ValueError, match="status"):
            build_reject_response(status)  # type: ignore[arg-type]

    @pytest.mark.parametrize("name", ["Connection", "content-length", "Transfer-Encoding"])
    def test_reserved_headers(self, name: str) -> None:
        with pytest.raises(ValueError, match="must not include"):
            build_reject_response(400, headers=[(name, "x")])

    @pytest.mark.parametrize("bad", INJECTIONS)
    def test_injection(self, bad: str) -> None:
        with pytest.raises(ValueError):
            build_reject_response(400, bad)
        with pytest.raises(ValueError):
            build_reject_response(400, headers=[("X", bad)])
        with pytest.raises(ValueError):
            build_reject_response(400, headers=[(bad, "x")])


class TestBuildRequest:
    def test_basic(self) -> None:
        data = build_request("server.example.com", "/chat", KEY)
        assert data == (
            b"GET /chat HTTP/1.1\r\n"
            b"Host: server.example.com\r\n"
            b"Upgrade: websocket\r\n"
            b"Connection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n"
            b"\r\n"
        )

    def test_options(self) -> None:
        data = build_request(
            "h:8080",
            "/a?b=c",
            KEY,
            subprotocols=["chat", "superchat"],
            extensions="permessage-deflate; client_max_window_bits",
            origin="http://example.com",
            headers=[("Cookie", "a=1"), ("Authorization", "Bearer x")],
        )
        request = RequestParser().feed(data)
        assert request is not None
        assert request.target == "/a?b=c"
        headers = request.headers
        assert headers["Host"] == "h:8080"
        assert headers["Origin"] == "http://example.com"
        assert headers["Sec-WebSocket-Protocol"] == "chat, superchat"
        assert headers["Sec-WebSocket-Extensions"] == "permessage-deflate; client_max_window_bits"
        assert headers["Cookie"] == "a=1"
        assert headers["Authorization"] == "Bearer x"

    def test_version_8(self) -> None:
        request = RequestParser().feed(build_request("h", "/", KEY, version=8, origin="http://o"))
        assert request is not None
        assert request.headers["Sec-WebSocket-Version"] == "8"
        assert request.headers["Sec-WebSocket-Origin"] == "http://o"
        assert "Origin" not in request.headers

    def test_user_host_overrides(self) -> None:
        request = RequestParser().feed(build_request("h", "/", KEY, headers={"host": "virtual.example"}))
        assert request is not None
        assert request.headers.get_all("Host") == ["virtual.example"]
        assert request.headers.items()[0] == ("Host", "virtual.example")

    def test_user_origin_when_no_origin_argument(self) -> None:
        request = RequestParser().feed(build_request("h", "/", KEY, headers={"Origin": "http://o"}))
        assert request is not None
        assert request.headers["Origin"] == "http://o"
        with pytest.raises(ValueError, match="Origin"):
            build_request("h", "/", KEY, origin="http://p", headers={"Origin": "http://o"})

    @pytest.mark.parametrize(
        "name",
        [
            "Upgrade",
            "Connection",
            "Sec-WebSocket-Key",
            "sec-websocket-version",
            "Sec-WebSocket-Protocol",
            "Sec-WebSocket-Extensions",
            "Sec-WebSocket-Origin",
            "Content-Length",
            "Transfer-Encoding",
        ],
    )
    def test_reserved_headers(self, name: str) -> None:
        with pytest.raises(ValueError, match="must not include"):
            build_request("h", "/", KEY, headers=[(name, "x")])

    @pytest.mark.parametrize("version", [7, 14, True, 13.0, "13"])
    def test_invalid_version(self, version: object) -> None:
        with pytest.raises(ValueError, match="version"):
            build_request("h", "/", KEY, version=version)  # type: ignore[arg-type]

    @pytest.mark.parametrize("key", ["", "abc", "dGhlIHNhbXBsZSBub25jZSE=", KEY + "\r\nX: y"])
    def test_invalid_key(self, key: str) -> None:
        with pytest.raises(ValueError, match="key"):
            build_request("h", "/", key)

    def test_invalid_subprotocols(self) -> None:
        with pytest.raises(ValueError, match="not a token"):
            build_request("h", "/", KEY, subprotocols=["a b"])
        with pytest.raises(ValueError, match="distinct"):
            build_request("h", "/", KEY, subprotocols=["a", "a"])
        with pytest.raises(TypeError):
            build_request("h", "/", KEY, subprotocols="chat")

    def test_invalid_extensions(self) -> None:
        with pytest.raises(ValueError, match="invalid extensions"):
            build_request("h", "/", KEY, extensions="a; b=")

    @pytest.mark.parametrize("bad", INJECTIONS)
    def test_injection(self, bad: str) -> None:
        for kwargs in (
            {"host": bad},
            {"target": "/" + bad},
            {"subprotocols": [bad]},
            {"extensions": bad},
            {"origin": bad},
            {"headers": [("X", bad)]},
            {"headers": [(bad, "x")]},
            {"headers": [("Host", bad)]},
        ):
            args: dict[str, object] = {"host": "h", "target": "/", "key": KEY, **kwargs}
            with pytest.raises(ValueError):
                build_request(**args)  # type: ignore[arg-type]

    def test_invalid_host_and_target(self) -> None:
        with pytest.raises(ValueError, match="host"):
            build_request("", "/", KEY)
        with pytest.raises(ValueError, match="host"):
            build_request("a b", "/", KEY)
        with pytest.raises(ValueError, match="target"):
            build_request("h", "/a b", KEY)


class TestCheckResponse:
    def test_valid(self) -> None:
        assert check_response(response(), key=KEY, subprotocols=[]) == (None, [])

    def test_token_lists_and_case(self) -> None:
        resp = response(
            headers=[("Upgrade", "WebSocket"), ("Connection", "keep-alive, upgrade"), ("Sec-WebSocket-Accept", ACCEPT)]
        )
        assert check_response(resp, key=KEY, subprotocols=[]) == (None, [])

    def test_non_101(self) -> None:
        resp = HttpResponse(403, "Forbidden", "HTTP/1.1", Headers(), b"go away")
        with pytest.raises(HandshakeError) as info:
            check_response(resp, key=KEY, subprotocols=[])
        assert info.value.status == 403
        assert "403 Forbidden" in str(info.value)

    @pytest.mark.parametrize(
        ("headers", "message"),
        [
            ([("Connection", "Upgrade"), ("Sec-WebSocket-Accept", ACCEPT)], "Upgrade"),
            ([("Upgrade", "h2c"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", ACCEPT)], "Upgrade"),
            ([("Upgrade", "websocket"), ("Sec-WebSocket-Accept", ACCEPT)], "Connection"),
            ([("Upgrade", "websocket"), ("Connection", "close"), ("Sec-WebSocket-Accept", ACCEPT)], "Connection"),
            ([("Upgrade", "websocket"), ("Connection", "Upgrade")], "missing Sec-WebSocket-Accept"),
            (
                [
                    ("Upgrade", "websocket"),
                    ("Connection", "Upgrade"),
                    ("Sec-WebSocket-Accept", ACCEPT),
                    ("Sec-WebSocket-Accept", ACCEPT),
                ],
                "more than one",
            ),
            (
                [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", ACCEPT.lower())],
                "does not match",
            ),
            (
                [
                    ("Upgrade", "websocket"),
                    ("Connection", "Upgrade"),
                    ("Sec-WebSocket-Accept", ACCEPT),
                    ("Sec-WebSocket-Extensions", "a; b c"),
                ],
                "Sec-WebSocket-Extensions",
            ),
        ],
    )
    def test_invalid(self, headers: list[tuple[str, str]], message: str) -> None:
        with pytest.raises(HandshakeError) as info:
            check_response(response(headers=headers), key=KEY, subprotocols=[])
        assert message in str(info.value)
        assert info.value.status == 101
        assert not isinstance(info.value, NegotiationError)

    def test_subprotocol_chosen(self) -> None:
        resp = response(headers=[*response().headers.items(), ("Sec-WebSocket-Protocol", "chat")])
        assert check_response(resp, key=KEY, subprotocols=["superchat", "chat"]) == ("chat", [])

    def test_no_subprotocol_chosen(self) -> None:
        assert check_response(response(), key=KEY, subprotocols=["chat"]) == (None, [])

    @pytest.mark.parametrize(
        ("values", "offered", "message"),
        [
            (["other"], ["chat"], "not offered"),
            (["Chat"], ["chat"], "not offered"),  # compared case-sensitively
            (["chat"], [], "none was offered"),
            (["chat, superchat"], ["chat", "superchat"], "more than one"),
            (["chat", "superchat"], ["chat", "superchat"], "more than one"),
            (["chat/1"], ["chat"], "invalid subprotocol"),
        ],
    )
    def test_subprotocol_negotiation_errors(self, values: list[str], offered: list[str], message: str) -> None:
        resp = response(headers=[*response().headers.items(), *(("Sec-WebSocket-Protocol", v) for v in values)])
        with pytest.raises(NegotiationError) as info:
            check_response(resp, key=KEY, subprotocols=offered)
        assert message in str(info.value)

    def test_extensions_parsed(self) -> None:
        resp = response(
            headers=[
                *response().headers.items(),
                ("Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=10"),
            ]
        )
        assert check_response(resp, key=KEY, subprotocols=[]) == (
            None,
            [("permessage-deflate", [("server_max_window_bits", "10")])],
        )


class TestRoundTrip:
    @pytest.mark.parametrize("version", [13, 8])
    @pytest.mark.parametrize("bytewise", [False, True])
    def test_full_handshake(self, version: int, bytewise: bool) -> None:
        key = generate_key()
        request_bytes = build_request(
            "server.example.com:8080",
            "/chat?room=lobby",
            key,
            version=version,
            subprotocols=["v2.chat", "v1.chat"],
            extensions="permessage-deflate; client_max_window_bits",
            origin="https://example.com",
            headers=[("Cookie", 'session="abc"; theme=dark')],
        )
        client_frame = b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"

        server_parser = RequestParser()
        wire = request_bytes + client_frame
        if bytewise:
            request = None
            for i in range(len(wire)):
                request = server_parser.feed(wire[i : i + 1])
                if request is not None:
                    assert wire[i + 1 :] == client_frame
                    break
        else:
            request = server_parser.feed(wire)
            assert server_parser.trailing_data == client_frame
        assert request is not None
        assert is_upgrade_request(request)
        opening = check_request(request)
        assert opening.version == version
        assert opening.origin == "https://example.com"
        assert opening.path == "/chat"
        assert opening.query == {"room": ["lobby"]}
        assert opening.cookies == [("session", "abc"), ("theme", "dark")]
        assert opening.subprotocols == ["v2.chat", "v1.chat"]
        assert opening.extensions == [("permessage-deflate", [("client_max_window_bits", None)])]

        response_bytes = build_accept_response(
            opening,
            subprotocol="V1.CHAT",
            extensions="permessage-deflate; client_max_window_bits=15",
            origin=opening.origin,
            cookies=[SetCookie("seen", "1", path="/chat")],
        )
        server_frame = b"\x81\x05Hello"
        client_parser = ResponseParser()
        parsed = client_parser.feed(response_bytes + server_frame)
        assert parsed is not None
        assert parsed.status == 101
        assert client_parser.trailing_data == server_frame
        assert ("Sec-WebSocket-Origin" in parsed.headers) == (version == 8)
        assert parsed.headers["Set-Cookie"] == "seen=1; Path=/chat"
        subprotocol, extensions = check_response(parsed, key=key, subprotocols=["v2.chat", "v1.chat"])
        assert subprotocol == "v1.chat"
        assert extensions == [("permessage-deflate", [("client_max_window_bits", "15")])]

    def test_rejected_handshake(self) -> None:
        key = generate_key()
        request = RequestParser().feed(build_request("h", "/", key, version=8))
        assert request is not None
        opening = check_request(request)
        assert opening.version == 8
        parsed = ResponseParser().feed(build_reject_response(403, "origin not allowed"))
        assert parsed is not None
        with pytest.raises(HandshakeError) as info:
            check_response(parsed, key=key, subprotocols=[])
        assert info.value.status == 403
        assert parsed.body == b"origin not allowed\n"
        assert parsed.headers["X-WebSocket-Reject-Reason"] == "origin not allowed"

    def test_wrong_key(self) -> None:
        opening = check_request(make_request())
        parsed = ResponseParser().feed(build_accept_response(opening))
        assert parsed is not None
        with pytest.raises(HandshakeError, match="does not match"):
            check_response(parsed, key=generate_key(), subprotocols=[])


def test_no_io_imports() -> None:
    # The sans-IO modules import nothing that does I/O or reads a clock.
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import wsframe._http, wsframe._headers, wsframe._cookies, wsframe._handshake\n"
        "new = set(sys.modules) - before\n"
        "print(sorted(m for m in new if m.split('.')[0] in "
        "('asyncio', 'socket', 'ssl', 'time', 'threading', 'selectors')))\n"
    )
    src = str(pathlib.Path(wsframe_http.__file__).resolve().parents[1])
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONPATH": src}
    )
    assert result.stdout.strip() == "[]"
