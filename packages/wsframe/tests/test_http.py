"""Tests for `wsframe._http`: Headers, the bounded head parsers and the serializers."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import pytest

from wsframe._errors import HandshakeError, InvalidState
from wsframe._http import (
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_HEAD_SIZE,
    DEFAULT_MAX_HEADER_COUNT,
    DEFAULT_MAX_HEADER_LINE_SIZE,
    DEFAULT_MAX_START_LINE_SIZE,
    Headers,
    HttpRequest,
    HttpResponse,
    RequestParser,
    ResponseParser,
    reason_phrase,
    serialize_request,
    serialize_response,
)

REQUEST = (
    b"GET /chat?room=1 HTTP/1.1\r\n"
    b"Host: example.com\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Cookie: a=1\r\n"
    b"cookie: b=2\r\n"
    b"\r\n"
)

INJECTIONS = ["a\r\nX-Evil: 1", "a\nX-Evil: 1", "a\rb", "a\x00b"]


def feed_bytewise(
    parser: RequestParser | ResponseParser, data: bytes
) -> tuple[HttpRequest | HttpResponse | None, bytes]:
    """Feed `data` one byte at a time; return the first non-None result and the bytes left."""
    for i in range(len(data)):
        result = parser.feed(data[i : i + 1])
        if result is not None:
            return result, data[i + 1 :]
    return None, b""


def parse_error(data: bytes, **limits: int | None) -> HandshakeError:
    with pytest.raises(HandshakeError) as info:
        RequestParser(**limits).feed(data)
    return info.value


def feed_until_error(parser: RequestParser | ResponseParser, chunks: Iterable[bytes]) -> tuple[HandshakeError, int]:
    """Feed `chunks` until the parser raises; return the error and how many bytes were fed before it."""
    fed = 0
    for chunk in chunks:
        try:
            parser.feed(chunk)
        except HandshakeError as exc:
            return exc, fed
        fed += len(chunk)
    raise AssertionError("the parser accepted every chunk")


class TestHeaders:
    def test_lookup_ignores_case_and_keeps_original_case(self) -> None:
        headers = Headers([("Content-Type", "text/plain"), ("X-A", "1"), ("x-a", "2")])
        assert headers["content-type"] == "text/plain"
        assert headers["X-A"] == "1"
        assert headers.get_all("X-a") == ["1", "2"]
        assert headers.items() == [("Content-Type", "text/plain"), ("X-A", "1"), ("x-a", "2")]
        assert list(headers) == ["Content-Type", "X-A", "x-a"]
        assert len(headers) == 3

    def test_missing(self) -> None:
        headers = Headers()
        with pytest.raises(KeyError):
            headers["Host"]
        assert headers.get("Host") is None
        assert headers.get("Host", "x") == "x"
        assert headers.get_all("Host") == []
        assert "Host" not in headers
        assert 3 not in headers

    def test_contains(self) -> None:
        assert "HOST" in Headers({"Host": "a"})

    def test_from_mapping_pairs_and_headers(self) -> None:
        from_mapping = Headers({"A": "1", "B": "2"})
        from_pairs = Headers([("A", "1"), ("B", "2")])
        from_headers = Headers(from_pairs)
        assert from_mapping == from_pairs == from_headers
        from_headers.add("C", "3")
        assert "C" not in from_pairs

    def test_equality_ignores_name_case_only(self) -> None:
        assert Headers([("a", "1")]) == Headers([("A", "1")])
        assert Headers([("a", "1")]) != Headers([("a", "2")])
        assert Headers([("a", "1"), ("b", "2")]) != Headers([("b", "2"), ("a", "1")])

    def test_add_validates(self) -> None:
        headers = Headers()
        for name in ["", "X A", "X:A", "X\r\nY", "X\x00", "é"]:
            with pytest.raises(ValueError, match="not a token"):
                headers.add(name, "v")
        for value in INJECTIONS:
            with pytest.raises(ValueError, match="'X-Name'"):
                headers.add("X-Name", value)
        with pytest.raises(ValueError, match="ISO-8859-1"):
            headers.add("X-Name", "\u2603")
        with pytest.raises(TypeError):
            headers.add("X-Name", 3)  # type: ignore[arg-type]
        assert len(headers) == 0

    def test_constructor_validates(self) -> None:
        with pytest.raises(ValueError):
            Headers({"X": "a\r\nb"})
        with pytest.raises(TypeError):
            Headers(["ab"])  # type: ignore[list-item]

    def test_latin1_value_allowed(self) -> None:
        assert Headers([("X", "café\t1")])["x"] == "café\t1"

    def test_delete_and_copy(self) -> None:
        headers = Headers([("A", "1"), ("B", "2"), ("a", "3")])
        copy = headers.copy()
        del headers["A"]
        assert headers.items() == [("B", "2")]
        assert copy.get_all("a") == ["1", "3"]
        with pytest.raises(KeyError):
            del headers["A"]

    def test_repr(self) -> None:
        assert repr(Headers([("A", "1")])) == "Headers([('A', '1')])"


class TestRequestParser:
    def test_parse(self) -> None:
        parser = RequestParser()
        request = parser.feed(REQUEST + b"\x81\x80frames")
        assert isinstance(request, HttpRequest)
        assert (request.method, request.target, request.version) == ("GET", "/chat?room=1", "HTTP/1.1")
        assert request.headers["host"] == "example.com"
        assert request.headers.get_all("Cookie") == ["a=1", "b=2"]
        assert parser.trailing_data == b"\x81\x80frames"

    def test_incomplete_returns_none(self) -> None:
        parser = RequestParser()
        assert parser.feed(REQUEST[:-1]) is None
        assert parser.trailing_data == b""
        assert parser.feed(b"") is None
        request = parser.feed(REQUEST[-1:])
        assert request is not None
        assert parser.trailing_data == b""

    @pytest.mark.parametrize(
        "data",
        [
            REQUEST,
            REQUEST.replace(b"\r\n", b"\n"),
            b"\r\n" + REQUEST,
            b"GET / HTTP/1.1\r\nX: \t spaced \t \r\nEmpty:\r\n\r\n",
        ],
    )
    def test_slow_drip_equals_one_chunk(self, data: bytes) -> None:
        whole = RequestParser()
        expected = whole.feed(data + b"tail")
        assert expected is not None
        result, rest = feed_bytewise(RequestParser(), data + b"tail")
        assert result == expected
        assert rest == b"tail"
        assert whole.trailing_data == b"tail"

    def test_bare_lf_accepted(self) -> None:
        request = RequestParser().feed(b"GET / HTTP/1.1\nHost: a\n\n")
        assert request is not None
        assert request.headers["Host"] == "a"

    def test_leading_empty_line_skipped(self) -> None:
        request = RequestParser().feed(b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert request is not None
        assert request.method == "GET"

    def test_values_latin1_and_stripped(self) -> None:
        request = RequestParser().feed(b"GET / HTTP/1.1\r\nX:  caf\xe9 \t\r\nY:\r\n\r\n")
        assert request is not None
        assert request.headers["X"] == "caf\xe9"
        assert request.headers["Y"] == ""

    def test_http_10_parses(self) -> None:
        request = RequestParser().feed(b"GET / HTTP/1.0\r\n\r\n")
        assert request is not None
        assert request.version == "HTTP/1.0"

    def test_search_position_advances(self) -> None:
        # White-box: the search for the next LF resumes where it stopped.
        parser = RequestParser()
        parser.feed(b"GET / HTTP/1.1\r\nHost: exa")
        assert parser._scan == len(parser._buffer) == 25
        parser.feed(b"mple.com")
        assert parser._scan == 33
        assert parser._pos == 16  # start of the incomplete "Host" line

    @pytest.mark.parametrize(
        ("data", "status", "message"),
        [
            (b"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400, "obs-fold"),
            (b"GET / HTTP/1.1\r\n X: a\r\n\r\n", 400, "obs-fold"),
            (b"GET / HTTP/1.1\r\nX : a\r\n\r\n", 400, "whitespace before colon"),
            (b"GET / HTTP/1.1\r\nX\t: a\r\n\r\n", 400, "whitespace before colon"),
            (b"GET / HTTP/1.1\r\nX(y): a\r\n\r\n", 400, "invalid header name"),
            (b"GET / HTTP/1.1\r\nX\xff: a\r\n\r\n", 400, "invalid header name"),
            (b"GET / HTTP/1.1\r\n: a\r\n\r\n", 400, "empty header name"),
            (b"GET / HTTP/1.1\r\nno colon\r\n\r\n", 400, "without colon"),
            (b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", 400, "NUL"),
            (b"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400, "CR"),
            (b"GET / HTTP/2.0\r\n\r\n", 505, "unsupported HTTP version"),
            (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "unsupported HTTP version"),
            (b"GET / HTTP/3\r\n\r\n", 505, "unsupported HTTP version"),
            (b"GET / HTTP/0.9\r\n\r\n", 505, "unsupported HTTP version"),
            (b"GET / HTTP/1.1x\r\n\r\n", 400, "invalid HTTP version"),
            (b"GET / http/1.1\r\n\r\n", 400, "invalid HTTP version"),
            (b"GET / FOO\r\n\r\n", 400, "invalid HTTP version"),
            (b"GET /\r\n\r\n", 400, "invalid request line"),
            (b"GET  / HTTP/1.1\r\n\r\n", 400, "invalid request line"),
            (b"GET / HTTP/1.1 \r\n\r\n", 400, "invalid request line"),
            (b"G(T / HTTP/1.1\r\n\r\n", 400, "invalid method"),
            (b"GET /\x7f HTTP/1.1\r\n\r\n", 400, "invalid request target"),
            (b"GET /\rx HTTP/1.1\r\n\r\n", 400, "invalid request target"),
            (b"GET /\xe9 HTTP/1.1\r\n\r\n", 400, "invalid request target"),
        ],
    )
    def test_rejections(self, data: bytes, status: int, message: str) -> None:
        error = parse_error(data)
        assert error.status == status
        assert message in str(error)
        # The same result when the bytes arrive one at a time.
        with pytest.raises(HandshakeError) as info:
            feed_bytewise(RequestParser(), data)
        assert info.value.status == status

    def test_error_is_sticky(self) -> None:
        parser = RequestParser()
        with pytest.raises(HandshakeError) as first:
            parser.feed(b"GET / HTTP/1.1\r\n X\r\n")
        with pytest.raises(HandshakeError) as second:
            parser.feed(b"\r\n")
        assert second.value is first.value

    def test_feed_after_complete(self) -> None:
        parser = RequestParser()
        assert parser.feed(REQUEST) is not None
        with pytest.raises(InvalidState):
            parser.feed(b"more")


class TestRequestLimits:
    def test_defaults(self) -> None:
        assert DEFAULT_MAX_START_LINE_SIZE == 8192
        assert DEFAULT_MAX_HEADER_COUNT == 128
        assert DEFAULT_MAX_HEAD_SIZE == 16384
        assert DEFAULT_MAX_HEADER_LINE_SIZE == 8192
        assert DEFAULT_MAX_BODY_SIZE == 65536

    @pytest.mark.parametrize("limit", ["max_start_line_size", "max_header_count", "max_head_size"])
    @pytest.mark.parametrize("value", [0, -1])
    def test_invalid_limits(self, limit: str, value: object) -> None:
        with pytest.raises(ValueError, match=limit):
            RequestParser(**{limit: value})  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=limit):
            ResponseParser(**{limit: value})  # type: ignore[arg-type]

    @pytest.mark.parametrize("limit", ["max_start_line_size", "max_header_count", "max_head_size"])
    @pytest.mark.parametrize("value", [True, 1.5, "8"])
    def test_limits_of_the_wrong_type(self, limit: str, value: object) -> None:
        with pytest.raises(TypeError, match=limit):
            RequestParser(**{limit: value})  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=limit):
            ResponseParser(**{limit: value})  # type: ignore[arg-type]

    def test_request_line_limit(self) -> None:
        def line(size: int) -> bytes:
            target = b"/" + b"a" * (size - len(b"GET / HTTP/1.1"))
            return b"GET " + target + b" HTTP/1.1"

        assert len(line(8192)) == 8192
        assert RequestParser().feed(line(8192) + b"\r\n\r\n") is not None
        assert parse_error(line(8193) + b"\r\n\r\n").status == 414
        # Detected before the line ends: 8192 bytes plus a CR may still be fine, one more is not.
        parser = RequestParser()
        assert parser.feed(line(8192) + b"\r") is None
        with pytest.raises(HandshakeError) as info:
            RequestParser().feed(line(8193) + b"\r")
        assert info.value.status == 414
        assert "request line too long" in str(info.value)

    def test_header_line_limit(self) -> None:
        def header(size: int) -> bytes:
            return b"X: " + b"v" * (size - 3)

        ok = b"GET / HTTP/1.1\r\n" + header(8192) + b"\r\n\r\n"
        assert RequestParser().feed(ok) is not None
        over = b"GET / HTTP/1.1\r\n" + header(8193) + b"\r\n\r\n"
        error = parse_error(over)
        assert error.status == 431
        assert "header line too long" in str(error)
        # Early, without a line end: a slowloris line is refused at limit + 2 bytes.
        parser = RequestParser()
        parser.feed(b"GET / HTTP/1.1\r\n")
        error, fed = feed_until_error(parser, itertools.chain([b"X"], itertools.repeat(b"v", 100_000)))
        assert error.status == 431
        assert fed == 8192 + 1  # the byte that made it 8194 raised

    def test_header_count_limit(self) -> None:
        def request(count: int) -> bytes:
            return b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(count)) + b"\r\n"

        parsed = RequestParser().feed(request(128))
        assert parsed is not None
        assert len(parsed.headers) == 128
        error = parse_error(request(129))
        assert error.status == 431
        assert "too many header lines" in str(error)
        assert RequestParser(max_header_count=3).feed(request(3)) is not None
        assert parse_error(request(4), max_header_count=3).status == 431

    def test_head_size_limit(self) -> None:
        # Ten header lines of 1000 bytes each (with CRLF): 10_000 bytes of header section.
        lines = b"".join(b"X-%d: " % i + b"v" * (1000 - 7) + b"\r\n" for i in range(10))
        assert len(lines) == 10_000
        data = b"GET / HTTP/1.1\r\n" + lines + b"\r\n"
        assert RequestParser(max_head_size=10_000).feed(data) is not None
        error = parse_error(data, max_head_size=9_999)
        assert error.status == 431
        assert "message head too large" in str(error)
        # The final CR alone does not trip the limit; the byte after it does.
        parser = RequestParser(max_head_size=10_000)
        assert parser.feed(data[:-2] + b"\r") is None
        assert parser.feed(b"\n") is not None

    def test_head_size_limit_detected_early(self) -> None:
        parser = RequestParser(max_head_size=100)
        parser.feed(b"GET / HTTP/1.1\r\n" + b"X: " + b"v" * 90 + b"\r\n")
        with pytest.raises(HandshakeError) as info:
            parser.feed(b"Y: 12345")  # no line end yet: 94 + 8 + 1 > 100
        assert info.value.status == 431

    def test_huge_header_stream_refused_after_about_the_limit(self) -> None:
        parser = RequestParser()
        capacity = DEFAULT_MAX_START_LINE_SIZE + DEFAULT_MAX_HEAD_SIZE + 4
        parser.feed(b"GET / HTTP/1.1\r\n")
        chunk = b"X-Header: " + b"v" * 90 + b"\r\n"  # 102-byte lines: only the head size limit applies
        sizes: list[int] = []

        def chunks() -> Iterable[bytes]:
            for _ in range(10_000_000 // len(chunk)):
                yield chunk
                sizes.append(len(parser._buffer))

        error, fed = feed_until_error(parser, chunks())
        assert error.status == 431
        assert fed <= DEFAULT_MAX_HEAD_SIZE
        assert max(sizes) <= capacity

    def test_single_huge_chunk_is_not_buffered(self) -> None:
        parser = RequestParser()
        capacity = DEFAULT_MAX_START_LINE_SIZE + DEFAULT_MAX_HEAD_SIZE + 4
        with pytest.raises(HandshakeError) as info:
            parser.feed(b"GET / HTTP/1.1\r\n" + b"X: " + b"v" * 10_000_000)
        assert info.value.status == 431
        assert len(parser._buffer) <= capacity
        parser = RequestParser()
        with pytest.raises(HandshakeError) as info:
            parser.feed(b"GET /" + b"a" * 10_000_000)
        assert info.value.status == 414
        assert len(parser._buffer) <= capacity

    def test_huge_trailing_data_kept_whole(self) -> None:
        # The head is bounded, not what follows it: those bytes belong to the connection.
        parser = RequestParser()
        assert parser.feed(REQUEST + b"f" * 100_000) is not None
        assert parser.trailing_data == b"f" * 100_000

    def test_none_disables_limits(self) -> None:
        parser = RequestParser(
            max_start_line_size=None, max_header_count=None, max_head_size=None, max_header_line_size=None
        )
        data = b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\n" + b"X: v\r\n" * 3000 + b"Y: " + b"v" * 20_000 + b"\r\n\r\n"
        request = parser.feed(data)
        assert request is not None
        assert len(request.headers) == 3001


def response_error(data: bytes, **limits: int | None) -> HandshakeError:
    with pytest.raises(HandshakeError) as info:
        ResponseParser(**limits).feed(data)
    return info.value


class TestResponseParser:
    def test_101_has_no_body(self) -> None:
        parser = ResponseParser()
        data = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\n\x81\x02hi"
        response = parser.feed(data)
        assert isinstance(response, HttpResponse)
        assert (response.status, response.reason, response.version) == (101, "Switching Protocols", "HTTP/1.1")
        assert response.body == b""
        assert not response.body_truncated
        assert parser.trailing_data == b"\x81\x02hi"

    def test_slow_drip_101(self) -> None:
        data = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00"
        result, rest = feed_bytewise(ResponseParser(), data)
        assert isinstance(result, HttpResponse)
        assert result.status == 101
        assert rest == b"\x81\x00"

    def test_missing_reason(self) -> None:
        for line in (b"HTTP/1.1 403", b"HTTP/1.1 403 "):
            response = ResponseParser().feed(line + b"\r\nContent-Length: 0\r\n\r\n")
            assert response is not None
            assert response.reason == ""

    def test_content_length_body(self) -> None:
        parser = ResponseParser()
        assert parser.feed(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 11\r\n\r\nhello") is None
        response = parser.feed(b" worldEXTRA")
        assert response is not None
        assert response.body == b"hello world"
        assert not response.body_truncated
        assert parser.trailing_data == b"EXTRA"

    def test_content_length_repeated_same_value(self) -> None:
        response = ResponseParser().feed(b"HTTP/1.1 400 Bad\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok")
        assert response is not None
        assert response.body == b"ok"

    @pytest.mark.parametrize("value", [b"1, 2", b"-1", b"abc", b"1e3", b"", b"9" * 19])
    def test_invalid_content_length(self, value: bytes) -> None:
        error = response_error(b"HTTP/1.1 400 Bad\r\nContent-Length: " + value + b"\r\n\r\n")
        assert error.status == 400

    def test_body_truncated_at_limit(self) -> None:
        parser = ResponseParser(max_body_size=10)
        response = parser.feed(b"HTTP/1.1 500 Oops\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 50)
        assert response is not None
        assert response.body == b"x" * 10
        assert response.body_truncated

    def test_body_until_eof(self) -> None:
        parser = ResponseParser()
        assert parser.feed(b"HTTP/1.1 403 Forbidden\r\n\r\nno") is None
        assert parser.feed(b" way") is None
        response = parser.feed_eof()
        assert response.body == b"no way"
        assert not response.body_truncated
        assert parser.feed_eof() is response

    def test_body_until_eof_bounded(self) -> None:
        parser = ResponseParser(max_body_size=4)
        assert parser.feed(b"HTTP/1.1 403 Forbidden\r\n\r\nab") is None
        response = parser.feed(b"cdefgh")
        assert response is not None
        assert response.body == b"abcd"
        assert response.body_truncated

    def test_eof_before_announced_end(self) -> None:
        parser = ResponseParser()
        assert parser.feed(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 10\r\n\r\nabc") is None
        response = parser.feed_eof()
        assert response.body == b"abc"
        assert response.body_truncated

    def test_eof_before_head(self) -> None:
        parser = ResponseParser()
        parser.feed(b"HTTP/1.1 403 Forbidden\r\n")
        with pytest.raises(HandshakeError, match="before the end of the response head"):
            parser.feed_eof()

    @pytest.mark.parametrize("status", [100, 103, 204, 304])
    def test_no_body_statuses(self, status: int) -> None:
        parser = ResponseParser()
        response = parser.feed(b"HTTP/1.1 %d X\r\nContent-Length: 3\r\n\r\nabc" % status)
        assert response is not None
        assert response.body == b""
        assert parser.trailing_data == b"abc"

    def test_chunked(self) -> None:
        data = (
            b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 1\r\n\r\n"
            b"5;ext=1\r\nhello\r\n6 \r\n world\r\nA\r\n0123456789\r\n0\r\nTrailer: v\r\n\r\nNEXT"
        )
        parser = ResponseParser()
        response = parser.feed(data)
        assert response is not None
        assert response.body == b"hello world0123456789"
        assert not response.body_truncated
        assert parser.trailing_data == b"NEXT"
        slow = ResponseParser()
        result, rest = feed_bytewise(slow, data)
        assert result == response
        assert rest == b"NEXT"

    def test_chunked_bare_lf(self) -> None:
        response = ResponseParser().feed(b"HTTP/1.1 403 F\nTransfer-Encoding: chunked\n\n2\nhi\n0\n\n")
        assert response is not None
        assert response.body == b"hi"

    def test_chunked_truncated(self) -> None:
        parser = ResponseParser(max_body_size=8)
        response = parser.feed(b"HTTP/1.1 403 F\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n")
        assert response is not None
        assert response.body == b"hellowor"
        assert response.body_truncated

    @pytest.mark.parametrize(
        "body",
        [b"x\r\n", b"5\r\nhelloXX\r\n", b"-1\r\n", b"1" * 17 + b"\r\n", b"5" + b";e" * 600 + b"\r\n"],
    )
    def test_chunked_invalid(self, body: bytes) -> None:
        error = response_error(b"HTTP/1.1 403 F\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
        assert error.status == 400

    def test_chunked_trailer_bounded(self) -> None:
        parser = ResponseParser(max_head_size=100)
        parser.feed(b"HTTP/1.1 403 F\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n")
        error, fed = feed_until_error(parser, itertools.repeat(b"T: " + b"v" * 20 + b"\r\n", 100))
        assert error.status == 431
        assert fed <= 100

    def test_non_chunked_transfer_encoding_reads_until_eof(self) -> None:
        parser = ResponseParser()
        assert parser.feed(b"HTTP/1.1 403 F\r\nTransfer-Encoding: gzip\r\n\r\nzz") is None
        assert parser.feed_eof().body == b"zz"

    @pytest.mark.parametrize(
        ("data", "status"),
        [
            (b"HTTP/2 101 Switching Protocols\r\n\r\n", 505),
            (b"HTTP/1.1 99 Low\r\n\r\n", 400),
            (b"HTTP/1.1 600 High\r\n\r\n", 400),
            (b"HTTP/1.1 1011 X\r\n\r\n", 400),
            (b"HTTP/1.1 abc X\r\n\r\n", 400),
            (b"HTTP/1.1\r\n\r\n", 400),
            (b"HTTP/1.1 101 Bad\x00Reason\r\n\r\n", 400),
            (b"ICY 200 OK\r\n\r\n", 400),
            (b"HTTP/1.1 101 OK\r\nX : y\r\n\r\n", 400),
            (b"HTTP/1.1 " + b"1" * 9000 + b"\r\n\r\n", 431),
        ],
    )
    def test_rejections(self, data: bytes, status: int) -> None:
        assert response_error(data).status == status

    def test_feed_after_complete(self) -> None:
        parser = ResponseParser()
        assert parser.feed(b"HTTP/1.1 101 Switching Protocols\r\n\r\n") is not None
        with pytest.raises(InvalidState):
            parser.feed(b"x")


class TestSerialize:
    def test_request(self) -> None:
        data = serialize_request("GET", "/a?b=c", [("Host", "example.com"), ("X", "1")])
        assert data == b"GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nX: 1\r\n\r\n"
        request = RequestParser().feed(data)
        assert request is not None
        assert request.headers.items() == [("Host", "example.com"), ("X", "1")]

    def test_request_latin1(self) -> None:
        assert serialize_request("GET", "/", {"X": "café"}).endswith(b"X: caf\xe9\r\n\r\n")

    @pytest.mark.parametrize("bad", [*INJECTIONS, "a b", ""])
    def test_request_injection(self, bad: str) -> None:
        with pytest.raises(ValueError):
            serialize_request(bad, "/", {})
        with pytest.raises(ValueError):
            serialize_request("GET", bad, {})
        with pytest.raises(ValueError):
            serialize_request("GET", "/", {bad: "v"})

    @pytest.mark.parametrize("bad", INJECTIONS)
    def test_value_injection(self, bad: str) -> None:
        with pytest.raises(ValueError):
            serialize_request("GET", "/", [("X", bad)])
        with pytest.raises(ValueError):
            serialize_response(200, None, [("X", bad)])
        with pytest.raises(ValueError):
            serialize_response(200, bad)

    def test_response_content_length(self) -> None:
        assert serialize_response(200) == b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        assert serialize_response(403, None, {"X": "1"}, b"no") == (
            b"HTTP/1.1 403 Forbidden\r\nX: 1\r\nContent-Length: 2\r\n\r\nno"
        )
        for status in (101, 100, 204, 304):
            assert b"Content-Length" not in serialize_response(status)

    def test_response_body_not_allowed(self) -> None:
        for status in (101, 204, 304):
            with pytest.raises(ValueError, match="cannot have a body"):
                serialize_response(status, None, (), b"x")

    def test_response_framing_headers_refused(self) -> None:
        for name in ("Content-Length", "transfer-encoding"):
            with pytest.raises(ValueError, match="must not include"):
                serialize_response(200, None, {name: "1"})

    @pytest.mark.parametrize("status", [99, 600, True, "200", 200.0])
    def test_response_invalid_status(self, status: object) -> None:
        with pytest.raises(ValueError, match="status"):
            serialize_response(status)  # type: ignore[arg-type]

    def test_response_custom_reason_round_trip(self) -> None:
        data = serialize_response(418, "Short and stout", {}, b"tea")
        response = ResponseParser().feed(data)
        assert response is not None
        assert (response.status, response.reason, response.body) == (418, "Short and stout", b"tea")

    def test_reason_phrase(self) -> None:
        assert reason_phrase(101) == "Switching Protocols"
        assert reason_phrase(426) == "Upgrade Required"
        assert reason_phrase(499) == "Client Error"
        assert reason_phrase(599) == "Server Error"
        assert reason_phrase(299) == "Success"
        assert reason_phrase(199) == "Informational"
        assert reason_phrase(399) == "Redirection"
        assert b"undefined" not in serialize_response(499)
        assert serialize_response(499).startswith(b"HTTP/1.1 499 Client Error\r\n")
