"""A bounded, incremental HTTP/1.1 head parser and serializer for the opening handshake.

wsframe has no dependencies, so it does not use h11; it only needs message heads (and
the body of a refusal, so that a client can report it). The parsers are sans-IO: feed
them bytes as they arrive, they return the message once it is complete.

Limits (keyword arguments, defaults in module constants; None disables one):

| argument | default | when exceeded |
|---|---|---|
| `max_start_line_size` | 8 KiB | request line: 414; status line: 431 |
| `max_header_count` | 128 | 431 |
| `max_head_size` | 16 KiB | 431 (all header lines with their line ends) |
| `max_header_line_size` | 8 KiB | 431 (one header line, without its line end) |
| `max_body_size` | 64 KiB | responses only: the body is cut there (not an error) |

Each limit is checked as soon as it is exceeded, also while a line is still incomplete,
so a peer dribbling an endless header is refused after about the limit, not at the blank
line. The parser copies at most ``max_start_line_size + max_head_size + 4`` bytes of a
head into its buffer, however large the chunks fed to it, and it resumes the search for
the end of a line where the previous search stopped: parsing is linear in the input.

Syntax (RFC 7230 section 3): lines end with CRLF; a bare LF is accepted too (RFC 7230
section 3.5 allows recipients to do so; the opening handshake has no body whose framing
could be disputed by a proxy). A bare CR is refused. Refused with status 400: a folded
header line (obs-fold), a header name that is not a token or is followed by whitespace
before the colon, NUL or CR in a value, a malformed request or status line. An HTTP
version other than 1.x gets 505. Empty lines before the request line are skipped
(section 3.5) and count toward ``max_head_size``. Values are decoded as ISO-8859-1 and
stripped of surrounding spaces and tabs.

For a [`ResponseParser`][wsframe.http.ResponseParser], the status of a
[`HandshakeError`][wsframe.HandshakeError] only classifies the failure (400 malformed,
431 too large, 505 version): the server did not send it.
"""

from __future__ import annotations

import dataclasses
import http
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import overload

from ._errors import HandshakeError, InvalidState
from ._options import check_int

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MAX_HEADER_COUNT",
    "DEFAULT_MAX_HEADER_LINE_SIZE",
    "DEFAULT_MAX_HEAD_SIZE",
    "DEFAULT_MAX_START_LINE_SIZE",
    "Headers",
    "HeadersLike",
    "HttpRequest",
    "HttpResponse",
    "RequestParser",
    "ResponseParser",
    "reason_phrase",
    "serialize_request",
    "serialize_response",
]

#: Longest request line or status line, without its line end: 8 KiB.
DEFAULT_MAX_START_LINE_SIZE = 8 * 1024
#: Most header lines in one head: 128.
DEFAULT_MAX_HEADER_COUNT = 128
#: Largest header section (every header line with its line end): 16 KiB.
DEFAULT_MAX_HEAD_SIZE = 16 * 1024
#: Longest single header line, without its line end: 8 KiB.
DEFAULT_MAX_HEADER_LINE_SIZE = 8 * 1024
#: Largest response body kept by a [`ResponseParser`][wsframe.http.ResponseParser]: 64 KiB.
DEFAULT_MAX_BODY_SIZE = 64 * 1024

# Longest chunk-size line (size and chunk extensions) of a chunked body.
_MAX_CHUNK_LINE = 1024

_TOKEN_BYTES_RE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN_STR_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# A request-target: visible ASCII, no whitespace (RFC 7230 section 5.3, permissively).
_TARGET_RE = re.compile(rb"[\x21-\x7e]+")
_TARGET_STR_RE = re.compile(r"[\x21-\x7e]+")
_VERSION_RE = re.compile(rb"HTTP/([0-9])\.([0-9])")
_FUTURE_VERSION_RE = re.compile(rb"HTTP/[0-9]+(\.[0-9]+)?")
_STATUS_RE = re.compile(rb"[0-9]{3}")
# reason-phrase = *( HTAB / SP / VCHAR / obs-text )
_REASON_RE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
_HEX_RE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_DIGITS_RE = re.compile(r"[0-9]{1,18}")
_FORBIDDEN_IN_VALUE = ("\r", "\n", "\x00")

_CR = 13
_LF = 10
_SP = 32
_HTAB = 9

_EXCERPT = 60


def _excerpt(data: bytes | str) -> str:
    if len(data) > _EXCERPT:
        return repr(data[:_EXCERPT]) + "..."
    return repr(data)


def _check_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"header name must be a str, not {type(name).__name__}")
    if _TOKEN_STR_RE.fullmatch(name) is None:
        raise ValueError(f"header name {name!r} is not a token")
    return name


def _check_value(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"value of header {name!r} must be a str, not {type(value).__name__}")
    for char in _FORBIDDEN_IN_VALUE:
        if char in value:
            raise ValueError(f"value of header {name!r} contains {char!r}")
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"value of header {name!r} has characters outside ISO-8859-1") from None
    return value


# Header names that most requests and responses carry, lowercased, each kept as one str
# object: the names of every connection's headers share these instead of holding their
# own copies (a connection keeps its request's headers). A fixed set: names that peers
# choose are never added, so this cannot grow.
_COMMON_NAMES = {
    name: name
    for name in (
        "host",
        "upgrade",
        "connection",
        "origin",
        "user-agent",
        "cookie",
        "authorization",
        "accept",
        "accept-encoding",
        "accept-language",
        "cache-control",
        "pragma",
        "referer",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-real-ip",
        "forwarded",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-protocol",
        "sec-websocket-extensions",
        "sec-websocket-accept",
        "sec-fetch-dest",
        "sec-fetch-mode",
        "sec-fetch-site",
        "content-length",
        "content-type",
        "date",
        "server",
        "set-cookie",
    )
}


# The usual spellings of those names on the wire, shared the same way.
_COMMON_SPELLINGS = {
    name: name
    for name in (
        "Host",
        "Upgrade",
        "Connection",
        "Origin",
        "User-Agent",
        "Cookie",
        "Authorization",
        "Accept",
        "Accept-Encoding",
        "Accept-Language",
        "Cache-Control",
        "Pragma",
        "Referer",
        "X-Forwarded-For",
        "X-Forwarded-Proto",
        "X-Real-IP",
        "Forwarded",
        "Sec-WebSocket-Key",
        "Sec-WebSocket-Version",
        "Sec-WebSocket-Protocol",
        "Sec-WebSocket-Extensions",
        "Sec-WebSocket-Accept",
        "Sec-Fetch-Dest",
        "Sec-Fetch-Mode",
        "Sec-Fetch-Site",
        "Content-Length",
        "Content-Type",
        "Date",
        "Server",
        "Set-Cookie",
    )
}


class Headers:
    """An ordered, case-insensitive multi-dict of HTTP header lines.

    Names keep the case they were given in; lookups ignore case. Iterating yields the
    name of every line in order (repeated names repeat), and ``len()`` counts lines.

    Example:
        ```python
        headers = Headers([("Host", "example.com"), ("Cookie", "a=1")])
        headers.add("Cookie", "b=2")
        headers["host"]            # "example.com"
        headers.get_all("cookie")  # ["a=1", "b=2"]
        ```

    Args:
        headers: initial lines: another `Headers`, a mapping, or an iterable of
            ``(name, value)`` pairs; each is validated as by [`add`][wsframe.Headers.add].

    Raises:
        ValueError: a name is not a token or a value contains CR, LF or NUL.
    """

    __slots__ = ("_index", "_items")

    def __init__(self, headers: HeadersLike = ()) -> None:
        self._items: list[tuple[str, str]] = []
        # Lowercased name -> its value, or the list of its values once it repeats.
        self._index: dict[str, str | list[str]] = {}
        if isinstance(headers, Headers):
            pairs: Iterable[tuple[str, str]] = headers.items()
        elif isinstance(headers, Mapping):
            pairs = headers.items()
        else:
            pairs = headers
        for pair in pairs:
            if isinstance(pair, (str, bytes)) or len(pair) != 2:
                raise TypeError(f"headers must be (name, value) pairs, not {pair!r}")
            name, value = pair
            self.add(name, value)

    def _append(self, name: str, value: str) -> None:
        """Add a line without validation (the parsers validated it already)."""
        key = name.lower()
        key = _COMMON_NAMES.get(key, key)
        name = key if name == key else _COMMON_SPELLINGS.get(name, name)  # shared objects
        self._items.append((name, value))
        index = self._index
        old = index.get(key)
        if old is None:
            index[key] = value
        elif isinstance(old, str):
            index[key] = [old, value]
        else:
            old.append(value)

    def add(self, name: str, value: str) -> None:
        """Append a header line.

        Args:
            name: an RFC 7230 token.
            value: the value; it must not contain CR, LF or NUL, and must be encodable
                as ISO-8859-1, the encoding used on the wire.

        Raises:
            ValueError: the name is not a token or the value is invalid; the message
                names the header.
            TypeError: the name or value is not a str.
        """
        self._append(_check_name(name), _check_value(name, value))

    def __getitem__(self, name: str) -> str:
        """The first value of `name`; KeyError when absent."""
        values = self._index.get(name.lower()) if isinstance(name, str) else None
        if values is None:
            raise KeyError(name)
        return values if type(values) is str else values[0]

    @overload
    def get(self, name: str) -> str | None: ...

    @overload
    def get(self, name: str, default: str) -> str: ...

    @overload
    def get(self, name: str, default: None) -> str | None: ...

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of `name`, or `default` when absent.

        Args:
            name: the header name, in any case.
            default: returned when there is no such header.

        Returns:
            The value or `default`.
        """
        values = self._index.get(name.lower())
        if values is None:
            return default
        return values if type(values) is str else values[0]

    def get_all(self, name: str) -> list[str]:
        """Every value of `name`, in order; an empty list when absent.

        Args:
            name: the header name, in any case.

        Returns:
            A new list of the values.
        """
        values = self._index.get(name.lower())
        if values is None:
            return []
        return [values] if type(values) is str else list(values)

    def __delitem__(self, name: str) -> None:
        """Remove every line named `name`; KeyError when absent."""
        key = name.lower()
        if key not in self._index:
            raise KeyError(name)
        del self._index[key]
        self._items = [item for item in self._items if item[0].lower() != key]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[tuple[str, str]]:
        """Every ``(name, value)`` line, in order.

        Returns:
            A new list of pairs.
        """
        return list(self._items)

    def copy(self) -> Headers:
        """A shallow copy.

        Returns:
            A new `Headers` with the same lines.
        """
        new = Headers()
        for name, value in self._items:
            new._append(name, value)
        return new

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return [(n.lower(), v) for n, v in self._items] == [(n.lower(), v) for n, v in other._items]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


#: Anything that [`Headers`][wsframe.Headers] can be built from.
HeadersLike = Headers | Mapping[str, str] | Iterable[tuple[str, str]]


@dataclasses.dataclass(slots=True)
class HttpRequest:
    """A parsed request head.

    Attributes:
        method: the method, such as ``"GET"`` (case-sensitive).
        target: the request-target as sent, such as ``"/chat?room=1"``.
        version: ``"HTTP/1.1"`` or another ``"HTTP/1.x"``.
        headers: the header lines.
    """

    method: str
    target: str
    version: str
    headers: Headers


@dataclasses.dataclass(slots=True)
class HttpResponse:
    """A parsed response: head and, for responses other than 101, the body.

    Attributes:
        status: the status code, 100 to 599.
        reason: the reason phrase, possibly empty.
        version: ``"HTTP/1.1"`` or another ``"HTTP/1.x"``.
        headers: the header lines.
        body: the body, decoded from chunked transfer coding when the server used it;
            empty for 1xx, 204 and 304 responses.
        body_truncated: True when the body was cut at the parser's `max_body_size`, or
            the connection closed before the announced end of the body.
    """

    status: int
    reason: str
    version: str
    headers: Headers
    body: bytes = b""
    body_truncated: bool = False


def _check_limit(name: str, value: int | None) -> int | None:
    check_int(name, value, minimum=1, optional=True)
    return value


_Data = bytes | bytearray | memoryview


class _HeadParser:
    """The shared line machinery of the request and response parsers."""

    __slots__ = (
        "_buffer",
        "_capacity",
        "_done",
        "_error",
        "_head_bytes",
        "_headers",
        "_max_head_size",
        "_max_header_count",
        "_max_header_line_size",
        "_max_start_line_size",
        "_pos",
        "_scan",
        "_start",
        "_trailing",
    )

    #: Status of a HandshakeError for a start line above the limit.
    _start_line_status = 431
    _start_line_name = "start line"

    def __init__(
        self,
        *,
        max_start_line_size: int | None,
        max_header_count: int | None,
        max_head_size: int | None,
        max_header_line_size: int | None,
    ) -> None:
        self._max_start_line_size = _check_limit("max_start_line_size", max_start_line_size)
        self._max_header_count = _check_limit("max_header_count", max_header_count)
        self._max_head_size = _check_limit("max_head_size", max_head_size)
        self._max_header_line_size = _check_limit("max_header_line_size", max_header_line_size)
        # Any complete head fits in start line + CRLF + header section + final CRLF.
        if max_start_line_size is None or max_head_size is None:
            self._capacity: int | None = None
        else:
            self._capacity = max_start_line_size + max_head_size + 4
        self._buffer = bytearray()
        self._pos = 0  # start of the first line not parsed yet
        self._scan = 0  # where the search for the next LF resumes
        self._start: bytes | None = None  # the start line, once complete
        self._headers = Headers()
        self._head_bytes = 0  # bytes of header lines (and skipped empty lines) so far
        self._error: HandshakeError | None = None
        self._done = False
        self._trailing = b""

    @property
    def trailing_data(self) -> bytes:
        """The bytes received after the message; empty until the message is complete.

        After a request or a 101 response, these are the first WebSocket frames: feed
        them to the connection before anything read later.
        """
        return self._trailing

    def _fail(self, message: str, status: int = 400) -> HandshakeError:
        self._error = HandshakeError(message, status=status)
        return self._error

    def _feed_head(self, data: _Data) -> memoryview | None:
        """Consume head bytes; return the bytes after the head once complete, else None."""
        if self._error is not None:
            raise self._error
        if self._done:
            raise InvalidState(f"{type(self).__name__} already returned a complete message")
        view = memoryview(data).cast("B")
        buf = self._buffer
        if self._capacity is not None:
            # Never copy more than a complete head can be: beyond that, a limit is broken.
            room = max(self._capacity - len(buf), 0)
            buf += view[:room]
            rest = view[room:]
        else:
            buf += view
            rest = view[len(view) :]
        end = self._parse_lines()
        if end is None:
            if len(rest):
                # Unreachable while the limits above hold; a safety net for the bound.
                raise self._fail("message head too large", 431)
            return None
        tail = bytes(buf[end:]) + bytes(rest)
        self._buffer = bytearray()
        return memoryview(tail)

    def _parse_lines(self) -> int | None:
        """Parse every complete line; return the offset after the blank line, or None."""
        buf = self._buffer
        while True:
            nl = buf.find(b"\n", self._scan)
            if nl < 0:
                self._scan = len(buf)
                self._check_partial(len(buf) - self._pos)
                return None
            start = self._pos
            end = nl - 1 if nl > start and buf[nl - 1] == _CR else nl
            size = nl + 1 - start
            self._pos = self._scan = nl + 1
            if self._start is None:
                if end == start:
                    self._add_head_bytes(size)  # empty line before the start line
                    continue
                if self._max_start_line_size is not None and end - start > self._max_start_line_size:
                    raise self._fail(f"{self._start_line_name} too long", self._start_line_status)
                self._start = bytes(buf[start:end])
                self._parse_start_line(self._start)
            elif end == start:
                return nl + 1
            else:
                if self._max_header_line_size is not None and end - start > self._max_header_line_size:
                    raise self._fail("header line too long", 431)
                self._add_head_bytes(size)
                self._parse_header_line(bytes(buf[start:end]))

    def _add_head_bytes(self, size: int) -> None:
        self._head_bytes += size
        if self._max_head_size is not None and self._head_bytes > self._max_head_size:
            raise self._fail("message head too large", 431)

    def _check_partial(self, pending: int) -> None:
        """Fail early when the incomplete line can only end above a limit."""
        if not pending:
            return
        if self._start is None:
            # `pending` may end with the CR of the line end.
            limit = self._max_start_line_size
            if limit is not None and pending > limit + 1:
                raise self._fail(f"{self._start_line_name} too long", self._start_line_status)
            return
        if pending == 1 and self._buffer[self._pos] == _CR:
            return  # perhaps the blank line that ends the head
        if self._max_header_line_size is not None and pending > self._max_header_line_size + 1:
            raise self._fail("header line too long", 431)
        # The line will take at least one more byte (its LF).
        if self._max_head_size is not None and self._head_bytes + pending + 1 > self._max_head_size:
            raise self._fail("message head too large", 431)

    def _parse_start_line(self, line: bytes) -> None:
        raise NotImplementedError

    def _parse_header_line(self, line: bytes) -> None:
        if line[0] in (_SP, _HTAB):
            raise self._fail("folded header line (obs-fold) not allowed")
        colon = line.find(b":")
        if colon < 0:
            raise self._fail(f"header line without colon: {_excerpt(line)}")
        if colon == 0:
            raise self._fail("empty header name")
        if line[colon - 1] in (_SP, _HTAB):
            raise self._fail(f"whitespace before colon in header {_excerpt(line[:colon].rstrip())}")
        if _TOKEN_BYTES_RE.fullmatch(line, 0, colon) is None:
            raise self._fail(f"invalid header name {_excerpt(line[:colon])}")
        name = line[:colon].decode("ascii")
        value = line[colon + 1 :]
        if b"\x00" in value:
            raise self._fail(f"NUL in value of header {name!r}")
        if b"\r" in value:
            raise self._fail(f"CR in value of header {name!r}")
        if self._max_header_count is not None and len(self._headers) >= self._max_header_count:
            raise self._fail("too many header lines", 431)
        self._headers._append(name, value.strip(b" \t").decode("latin-1"))

    def _parse_version(self, version: bytes) -> str:
        match = _VERSION_RE.fullmatch(version)
        if match is not None and match.group(1) == b"1":
            return version.decode("ascii")
        if _FUTURE_VERSION_RE.fullmatch(version) is not None:
            raise self._fail(f"unsupported HTTP version {_excerpt(version)}", 505)
        raise self._fail(f"invalid HTTP version {_excerpt(version)}")


class RequestParser(_HeadParser):
    """Parse a request head incrementally (the server side of the opening handshake).

    Feed it the bytes read from the connection until [`feed`][wsframe.http.RequestParser.feed]
    returns the request. Bytes that arrived after the head are in
    [`trailing_data`][wsframe.http.RequestParser.trailing_data]. A request body is not read:
    a handler of plain HTTP requests finds it at the start of `trailing_data`
    ([`check_request`][wsframe.handshake.check_request] refuses upgrade requests with a body).

    Args:
        max_start_line_size: longest request line; above it, status 414.
        max_header_count: most header lines; above it, 431.
        max_head_size: largest header section, line ends included; above it, 431.
        max_header_line_size: longest header line; above it, 431.

    Raises:
        TypeError: a limit is not an int or None (a bool is not an int here).
        ValueError: a limit is below 1.
    """

    __slots__ = ("_request",)

    _start_line_status = 414
    _start_line_name = "request line"

    def __init__(
        self,
        *,
        max_start_line_size: int | None = DEFAULT_MAX_START_LINE_SIZE,
        max_header_count: int | None = DEFAULT_MAX_HEADER_COUNT,
        max_head_size: int | None = DEFAULT_MAX_HEAD_SIZE,
        max_header_line_size: int | None = DEFAULT_MAX_HEADER_LINE_SIZE,
    ) -> None:
        super().__init__(
            max_start_line_size=max_start_line_size,
            max_header_count=max_header_count,
            max_head_size=max_head_size,
            max_header_line_size=max_header_line_size,
        )
        self._request: tuple[str, str, str] | None = None

    def feed(self, data: bytes | bytearray | memoryview) -> HttpRequest | None:
        """Consume received bytes.

        Args:
            data: the next bytes from the connection (any size; an empty chunk is
                allowed and changes nothing).

        Returns:
            The request once its head is complete, else None (more data needed).

        Raises:
            HandshakeError: the head is malformed (400), too large (414, 431) or of an
                unsupported HTTP version (505). Later calls raise the same error.
            InvalidState: the request was already returned.
        """
        tail = self._feed_head(data)
        if tail is None:
            return None
        self._done = True
        self._trailing = bytes(tail)
        assert self._request is not None
        method, target, version = self._request
        return HttpRequest(method, target, version, self._headers)

    def _parse_start_line(self, line: bytes) -> None:
        parts = line.split(b" ")
        if len(parts) != 3:
            raise self._fail(f"invalid request line {_excerpt(line)}")
        method, target, version = parts
        if _TOKEN_BYTES_RE.fullmatch(method) is None:
            raise self._fail(f"invalid method {_excerpt(method)}")
        if _TARGET_RE.fullmatch(target) is None:
            raise self._fail(f"invalid request target {_excerpt(target)}")
        self._request = (method.decode("ascii"), target.decode("ascii"), self._parse_version(version))


class ResponseParser(_HeadParser):
    """Parse a response incrementally (the client side of the opening handshake).

    A 101 response ends with its head: the bytes after it are the first WebSocket
    frames, in [`trailing_data`][wsframe.http.ResponseParser.trailing_data]. Other responses
    are read with their body, so that a client can report a refusal: 1xx (other than
    101), 204 and 304 have none; a `Transfer-Encoding` ending in ``chunked`` is decoded
    (chunk extensions and trailers are discarded); a `Content-Length` gives the size;
    otherwise the body lasts until the connection closes: call
    [`feed_eof`][wsframe.http.ResponseParser.feed_eof] then. A body longer than
    `max_body_size` is cut there and the response returned at once with
    `body_truncated` set; the rest of the body is never buffered. The parser returns
    the first response it reads, interim 1xx responses included.

    Args:
        max_start_line_size: longest status line; above it, 431.
        max_header_count: most header lines; above it, 431.
        max_head_size: largest header section, line ends included; above it, 431
            (also the limit on the trailer section of a chunked body).
        max_header_line_size: longest header (or trailer) line; above it, 431.
        max_body_size: most body bytes kept.

    Raises:
        TypeError: a limit is not an int or None (a bool is not an int here).
        ValueError: a limit is below 1.
    """

    __slots__ = (
        "_body",
        "_body_mode",
        "_chunk_left",
        "_chunk_state",
        "_line",
        "_max_body_size",
        "_remaining",
        "_response",
        "_start_status",
        "_trailer_bytes",
    )

    _start_line_status = 431
    _start_line_name = "status line"

    def __init__(
        self,
        *,
        max_start_line_size: int | None = DEFAULT_MAX_START_LINE_SIZE,
        max_header_count: int | None = DEFAULT_MAX_HEADER_COUNT,
        max_head_size: int | None = DEFAULT_MAX_HEAD_SIZE,
        max_header_line_size: int | None = DEFAULT_MAX_HEADER_LINE_SIZE,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        super().__init__(
            max_start_line_size=max_start_line_size,
            max_header_count=max_header_count,
            max_head_size=max_head_size,
            max_header_line_size=max_header_line_size,
        )
        self._max_body_size = _check_limit("max_body_size", max_body_size)
        self._response: HttpResponse | None = None  # once the head is complete
        self._body = bytearray()
        self._body_mode = ""  # "length", "chunked" or "eof" once the head is complete
        self._remaining = 0  # body bytes still expected ("length" mode)
        self._chunk_state = "size"  # "size", "data", "data-end" or "trailer"
        self._chunk_left = 0
        self._line = bytearray()  # an incomplete chunk-size, data-end or trailer line
        self._trailer_bytes = 0
        self._start_status: tuple[int, str, str] = (0, "", "")

    def feed(self, data: bytes | bytearray | memoryview) -> HttpResponse | None:
        """Consume received bytes.

        Args:
            data: the next bytes from the connection.

        Returns:
            The response once complete, else None (more data needed; for a body that
            lasts until the connection closes, call `feed_eof` at the end).

        Raises:
            HandshakeError: the response is malformed (400), too large (431), or of an
                unsupported HTTP version (505). Later calls raise the same error.
            InvalidState: the response was already returned.
        """
        if self._response is None:
            tail = self._feed_head(data)
            if tail is None:
                return None
            self._response = self._make_response()
            if not self._body_mode:
                return self._finish(tail)
        else:
            if self._error is not None:
                raise self._error
            if self._done:
                raise InvalidState("ResponseParser already returned a complete message")
            tail = memoryview(data).cast("B")
        return self._feed_body(tail)

    def feed_eof(self) -> HttpResponse:
        """Signal that the connection closed; return the response read so far.

        Returns:
            The response. A body that had no `Content-Length` ends here; a body
            shorter than announced is returned with `body_truncated` set. Once the
            response is complete, this returns it again.

        Raises:
            HandshakeError: the connection closed before the end of the head.
        """
        if self._error is not None:
            raise self._error
        if self._response is None:
            raise self._fail("connection closed before the end of the response head")
        if not self._done:
            self._response.body_truncated = self._body_mode != "eof"
            self._finish(memoryview(b""))
        return self._response

    def _parse_start_line(self, line: bytes) -> None:
        # status-line = HTTP-version SP status-code SP reason-phrase; a missing
        # "SP reason-phrase" is tolerated.
        parts = line.split(b" ", 2)
        if len(parts) < 2:
            raise self._fail(f"invalid status line {_excerpt(line)}")
        version = self._parse_version(parts[0])
        if _STATUS_RE.fullmatch(parts[1]) is None or not 100 <= int(parts[1]) <= 599:
            raise self._fail(f"invalid status code {_excerpt(parts[1])}")
        reason = parts[2] if len(parts) == 3 else b""
        if _REASON_RE.fullmatch(reason) is None:
            raise self._fail(f"invalid reason phrase {_excerpt(reason)}")
        self._start_status = (int(parts[1]), reason.decode("latin-1"), version)

    def _make_response(self) -> HttpResponse:
        status, reason, version = self._start_status
        response = HttpResponse(status, reason, version, self._headers)
        headers = self._headers
        if status < 200 or status in (204, 304):
            return response
        codings = headers.get_all("Transfer-Encoding")
        if codings:
            elements = ",".join(codings).split(",")
            last = elements[-1].strip(" \t").lower() if elements else ""
            # RFC 7230 section 3.3.3: chunked last means chunked; otherwise until close.
            self._body_mode = "chunked" if last == "chunked" else "eof"
            return response
        lengths = headers.get_all("Content-Length")
        if lengths:
            values = {element.strip(" \t") for value in lengths for element in value.split(",")}
            if len(values) != 1:
                raise self._fail("conflicting Content-Length values")
            (value,) = values
            if _DIGITS_RE.fullmatch(value) is None:
                raise self._fail(f"invalid Content-Length {_excerpt(value)}")
            self._body_mode = "length"
            self._remaining = int(value)
            return response
        self._body_mode = "eof"
        return response

    def _finish(self, tail: memoryview) -> HttpResponse:
        assert self._response is not None
        self._done = True
        self._trailing = bytes(tail)
        self._response.body = bytes(self._body)
        self._body = bytearray()
        return self._response

    def _keep(self, data: memoryview) -> bool:
        """Append body bytes up to `max_body_size`; return True when the body was cut."""
        assert self._response is not None
        limit = self._max_body_size
        if limit is not None and len(self._body) + len(data) > limit:
            self._body += data[: limit - len(self._body)]
            self._response.body_truncated = True
            return True
        self._body += data
        return False

    def _feed_body(self, data: memoryview) -> HttpResponse | None:
        if self._body_mode == "eof":
            if self._keep(data):
                return self._finish(memoryview(b""))
            return None
        if self._body_mode == "length":
            take = data[: self._remaining]
            self._remaining -= len(take)
            if self._keep(take):
                return self._finish(memoryview(b""))
            if self._remaining == 0:
                return self._finish(data[len(take) :])
            return None
        return self._feed_chunked(data)

    def _read_line(
        self, data: memoryview, i: int, limit: int | None, too_long: str, status: int
    ) -> tuple[bytes | None, int]:
        """Collect one line of a chunked body from ``data[i:]``.

        Returns the line without its line end (None while incomplete) and the index
        after what was consumed. At most ``limit + 2`` bytes are searched and kept.
        """
        if limit is None:
            chunk = bytes(data[i:])
        else:
            chunk = bytes(data[i : i + limit + 2 - len(self._line)])
        nl = chunk.find(b"\n")
        if nl < 0:
            self._line += chunk
            if limit is not None and len(self._line) > limit + 1:
                raise self._fail(too_long, status)
            return None, i + len(chunk)
        line = bytes(self._line) + chunk[:nl]
        self._line = bytearray()
        if line.endswith(b"\r"):
            line = line[:-1]
        if limit is not None and len(line) > limit:
            raise self._fail(too_long, status)
        return line, i + nl + 1

    def _feed_chunked(self, data: memoryview) -> HttpResponse | None:
        i = 0
        n = len(data)
        while i < n:
            state = self._chunk_state
            if state == "data":
                take = data[i : i + self._chunk_left]
                i += len(take)
                self._chunk_left -= len(take)
                if self._keep(take):
                    return self._finish(memoryview(b""))
                if self._chunk_left == 0:
                    self._chunk_state = "data-end"
                continue
            if state == "size":
                line, i = self._read_line(data, i, _MAX_CHUNK_LINE, "chunk size line too long", 400)
                if line is None:
                    return None
                size = line.split(b";", 1)[0].strip(b" \t")
                if _HEX_RE.fullmatch(size) is None:
                    raise self._fail(f"invalid chunk size {_excerpt(size)}")
                self._chunk_left = int(size, 16)
                self._chunk_state = "data" if self._chunk_left else "trailer"
            elif state == "data-end":
                line, i = self._read_line(data, i, 0, "missing line end after chunk data", 400)
                if line is None:
                    return None
                self._chunk_state = "size"
            else:  # trailer section: header lines up to an empty line, discarded
                line, i = self._read_line(data, i, self._max_header_line_size, "trailer line too long", 431)
                if line is None:
                    return None
                if not line:
                    return self._finish(data[i:])
                self._trailer_bytes += len(line) + 2
                if self._max_head_size is not None and self._trailer_bytes > self._max_head_size:
                    raise self._fail("trailer section too large", 431)
        return None


def reason_phrase(status: int) -> str:
    """The standard reason phrase of `status`, or a generic one for unregistered codes.

    Args:
        status: an HTTP status code.

    Returns:
        For example ``"Forbidden"`` for 403, ``"Client Error"`` for 499.
    """
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        pass
    return {
        1: "Informational",
        2: "Success",
        3: "Redirection",
        4: "Client Error",
        5: "Server Error",
    }.get(status // 100, "Unknown")


def _encode_headers(lines: list[bytes], headers: Headers) -> None:
    for name, value in headers.items():
        lines.append(f"{name}: {value}\r\n".encode("latin-1"))


def _to_headers(headers: HeadersLike) -> Headers:
    """Validated copy of `headers` (a Headers given by the caller is copied, not aliased)."""
    return headers.copy() if isinstance(headers, Headers) else Headers(headers)


def serialize_request(method: str, target: str, headers: HeadersLike) -> bytes:
    """Build an HTTP/1.1 request head.

    Args:
        method: a token such as ``"GET"``.
        target: the request-target: visible ASCII without spaces.
        headers: the header lines, validated as by [`Headers.add`][wsframe.Headers.add].

    Returns:
        The request line, the header lines and the blank line.

    Raises:
        ValueError: the method, target or a header is invalid: CR and LF can never
            reach the wire.
    """
    if not isinstance(method, str) or _TOKEN_STR_RE.fullmatch(method) is None:
        raise ValueError(f"method {method!r} is not a token")
    if not isinstance(target, str) or _TARGET_STR_RE.fullmatch(target) is None:
        raise ValueError(f"target {target!r} must be visible ASCII without spaces")
    lines = [f"{method} {target} HTTP/1.1\r\n".encode("ascii")]
    _encode_headers(lines, _to_headers(headers))
    lines.append(b"\r\n")
    return b"".join(lines)


def serialize_response(
    status: int,
    reason: str | None = None,
    headers: HeadersLike = (),
    body: bytes = b"",
) -> bytes:
    """Build an HTTP/1.1 response: status line, headers, blank line and body.

    `Content-Length` is added when a body is given, and for every status that can
    carry a body (all but 1xx, 204 and 304), so that the peer knows where it ends.
    No `Date` or `Server` header is added: wsframe reads no clock.

    Args:
        status: 100 to 599.
        reason: the reason phrase; by default the standard one (a generic phrase
            such as ``"Client Error"`` for unregistered codes).
        headers: the header lines; they must not include `Content-Length` or
            `Transfer-Encoding`.
        body: the body, which 1xx, 204 and 304 responses cannot have.

    Returns:
        The serialized response.

    Raises:
        ValueError: an invalid status, reason or header, a framing header in
            `headers`, or a body on a status that cannot have one.
    """
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError(f"status must be an int from 100 to 599, not {status!r}")
    if reason is None:
        reason = reason_phrase(status)
    _check_value("reason", reason)
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError(f"body must be bytes, not {type(body).__name__}")
    hdrs = _to_headers(headers)
    for name in ("Content-Length", "Transfer-Encoding"):
        if name in hdrs:
            raise ValueError(f"headers must not include {name}; it is computed from body")
    bodiless = status < 200 or status in (204, 304)
    if bodiless and body:
        raise ValueError(f"a {status} response cannot have a body")
    if not bodiless:
        hdrs._append("Content-Length", str(len(body)))
    lines = [f"HTTP/1.1 {status} {reason}\r\n".encode("latin-1")]
    _encode_headers(lines, hdrs)
    lines.append(b"\r\n")
    lines.append(bytes(body))
    return b"".join(lines)
