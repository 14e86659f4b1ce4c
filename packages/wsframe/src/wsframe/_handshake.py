"""The opening handshake (RFC 6455 section 4), both roles, protocol versions 13 and 8.

Server side: parse the request head with a [`RequestParser`][wsframe.http.RequestParser],
route it with [`is_upgrade_request`][wsframe.handshake.is_upgrade_request], validate it with
[`check_request`][wsframe.handshake.check_request], then answer with
[`build_accept_response`][wsframe.handshake.build_accept_response] or
[`build_reject_response`][wsframe.handshake.build_reject_response]. A
[`HandshakeError`][wsframe.HandshakeError] carries the status and headers to refuse with::

    try:
        opening = check_request(request)
    except HandshakeError as exc:
        writer.write(build_reject_response(exc.status, str(exc), exc.headers))

Client side: [`generate_key`][wsframe.handshake.generate_key], then
[`build_request`][wsframe.handshake.build_request]; parse the answer with a
[`ResponseParser`][wsframe.http.ResponseParser] and check it with
[`check_response`][wsframe.handshake.check_response].

Version 8 (hybi-10, the draft some old clients still speak) differs from 13 only in
the name of the origin header: `Sec-WebSocket-Origin` instead of `Origin`.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import secrets
import urllib.parse
from collections.abc import Callable, Sequence

from ._cookies import SetCookie, parse_cookie_header
from ._errors import HandshakeError, NegotiationError
from ._headers import (
    ExtensionHeader,
    format_subprotocol_header,
    parse_extension_header,
    parse_subprotocol_header,
    parse_token_list,
)
from ._http import (
    Headers,
    HeadersLike,
    HttpRequest,
    HttpResponse,
    serialize_request,
    serialize_response,
)

__all__ = [
    "SUPPORTED_VERSIONS",
    "WEBSOCKET_GUID",
    "OpeningRequest",
    "accept_key",
    "build_accept_response",
    "build_reject_response",
    "build_request",
    "check_request",
    "check_response",
    "generate_key",
    "is_upgrade_request",
]

#: The GUID that RFC 6455 section 1.3 appends to `Sec-WebSocket-Key`.
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

#: The protocol versions (`Sec-WebSocket-Version`) wskit speaks, preferred first.
SUPPORTED_VERSIONS = (13, 8)

_VERSION_VALUES = {"13": 13, "8": 8}
_EXCERPT = 60


def _excerpt(value: str) -> str:
    if len(value) > _EXCERPT:
        return repr(value[:_EXCERPT]) + "..."
    return repr(value)


def _has_token(headers: Headers, name: str, token: str) -> bool:
    """Whether any `name` line lists `token`, ignoring case."""
    return any(element.lower() == token for value in headers.get_all(name) for element in parse_token_list(value))


def generate_key(random: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """A new `Sec-WebSocket-Key`: 16 random bytes, base64-encoded (RFC 6455 section 4.1).

    Args:
        random: the source of randomness, called with 16; inject one for tests.

    Returns:
        A 24-character key.

    Raises:
        ValueError: `random` did not return 16 bytes.
    """
    nonce = random(16)
    if not isinstance(nonce, bytes) or len(nonce) != 16:
        raise ValueError("random must return 16 bytes")
    return base64.b64encode(nonce).decode("ascii")


def accept_key(key: str) -> str:
    """The `Sec-WebSocket-Accept` value for `key`: base64 of SHA-1 of key + GUID.

    Args:
        key: the `Sec-WebSocket-Key` value, as sent.

    Returns:
        The accept value (``"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="`` for the RFC's example key).

    Raises:
        ValueError: `key` is not ASCII.
    """
    try:
        data = (key + WEBSOCKET_GUID).encode("ascii")
    except UnicodeEncodeError:
        raise ValueError("key must be ASCII") from None
    return base64.b64encode(hashlib.sha1(data).digest()).decode("ascii")


def _is_valid_key(key: str) -> bool:
    if len(key) != 24:
        return False
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        return False


@dataclasses.dataclass(slots=True)
class OpeningRequest:
    """A validated opening handshake request (what WebSocket-Node calls `WebSocketRequest`).

    Attributes:
        version: the protocol version, 13 or 8.
        key: the `Sec-WebSocket-Key` value.
        host: the `Host` header (it may include a port).
        target: the request-target as sent, query included (WebSocket-Node: `resource`).
        path: the path of the target, not percent-decoded.
        query: the query string parsed by `urllib.parse.parse_qs` (percent-decoded,
            blank values kept): ``{"room": ["1"]}``.
        origin: `Origin` (version 13) or `Sec-WebSocket-Origin` (version 8), None when
            absent, as non-browser clients may do. wskit never checks it: compare it
            with the origins you trust before accepting.
        subprotocols: the offered subprotocols in the client's order, original case.
        extensions: the parsed extension offers, for
            [`negotiate_server_extensions`][wsframe.extensions.negotiate_server_extensions].
        cookies: the ``(name, value)`` pairs of the `Cookie` header, not decoded.
        headers: every request header.
        request: the parsed request.
    """

    version: int
    key: str
    host: str
    target: str
    path: str
    query: dict[str, list[str]]
    origin: str | None
    subprotocols: list[str]
    extensions: ExtensionHeader
    cookies: list[tuple[str, str]]
    headers: Headers = dataclasses.field(repr=False)
    request: HttpRequest = dataclasses.field(repr=False)


def is_upgrade_request(request: HttpRequest) -> bool:
    """Whether the request asks to switch to WebSocket.

    True when an `Upgrade` header lists ``websocket`` (in any case). A server routes
    other requests to its plain HTTP handler; for these it calls
    [`check_request`][wsframe.handshake.check_request], which validates everything else.

    Args:
        request: a parsed request.

    Returns:
        True for a WebSocket upgrade request, valid or not.
    """
    return _has_token(request.headers, "Upgrade", "websocket")


def _is_http11_or_later(version: str) -> bool:
    major, _, minor = version.removeprefix("HTTP/").partition(".")
    if not version.startswith("HTTP/") or not major.isdigit() or not (minor.isdigit() or not minor):
        return False
    return (int(major), int(minor or "0")) >= (1, 1)


def _split_target(target: str) -> tuple[str, str]:
    """The path and query of an origin-form or absolute-form target (RFC 7230 section 5.3)."""
    if target.startswith("/"):
        path, _, query = target.partition("?")
        return path, query
    parts = urllib.parse.urlsplit(target)
    if parts.scheme.lower() in ("http", "https", "ws", "wss") and parts.netloc:
        return parts.path or "/", parts.query
    raise HandshakeError(f"invalid request target {_excerpt(target)}")


def check_request(request: HttpRequest) -> OpeningRequest:
    """Validate an opening handshake request (RFC 6455 section 4.2.1).

    Checks, in order, each failure with its status:

    * the method is ``GET`` (405, with `Allow: GET`);
    * HTTP/1.1 or later (400);
    * the target is origin-form (``/path?query``) or absolute-form (400);
    * one non-empty `Host` header (400);
    * `Upgrade` lists ``websocket`` and `Connection` lists ``upgrade``, ignoring case (400);
    * one `Sec-WebSocket-Version`, 13 or 8 (426, with `Sec-WebSocket-Version: 13` as
      WebSocket-Node sends; version 8 is accepted all the same);
    * one `Sec-WebSocket-Key`, the base64 encoding of 16 bytes (400);
    * `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions` parse (400);
    * at most one origin header (400);
    * no body: no `Transfer-Encoding`, no `Content-Length` other than 0 (400), since
      the bytes after the head must be WebSocket frames.

    Cookies are parsed leniently and never cause a failure.

    Args:
        request: a request from a [`RequestParser`][wsframe.http.RequestParser].

    Returns:
        The validated request.

    Raises:
        HandshakeError: the request is not a valid opening handshake; `status` and
            `headers` say how to refuse it.
    """
    headers = request.headers
    if request.method != "GET":
        raise HandshakeError(f"method {request.method} not allowed", status=405, headers=[("Allow", "GET")])
    if not _is_http11_or_later(request.version):
        raise HandshakeError(f"{_excerpt(request.version)} does not support the opening handshake")
    path, query = _split_target(request.target)

    hosts = headers.get_all("Host")
    if len(hosts) != 1:
        raise HandshakeError("missing Host header" if not hosts else "more than one Host header")
    if not hosts[0]:
        raise HandshakeError("empty Host header")

    if "Upgrade" not in headers:
        raise HandshakeError("missing Upgrade header")
    if not _has_token(headers, "Upgrade", "websocket"):
        raise HandshakeError(
            f"Upgrade header does not list websocket: {_excerpt(', '.join(headers.get_all('Upgrade')))}"
        )
    if "Connection" not in headers:
        raise HandshakeError("missing Connection header")
    if not _has_token(headers, "Connection", "upgrade"):
        raise HandshakeError(
            f"Connection header does not list upgrade: {_excerpt(', '.join(headers.get_all('Connection')))}"
        )

    versions = headers.get_all("Sec-WebSocket-Version")
    version = _VERSION_VALUES.get(versions[0]) if len(versions) == 1 else None
    if version is None:
        if not versions:
            message = "missing Sec-WebSocket-Version header"
        elif len(versions) > 1:
            message = "more than one Sec-WebSocket-Version header"
        else:
            message = f"unsupported Sec-WebSocket-Version {_excerpt(versions[0])}"
        raise HandshakeError(message, status=426, headers=[("Sec-WebSocket-Version", "13")])

    keys = headers.get_all("Sec-WebSocket-Key")
    if len(keys) != 1:
        raise HandshakeError(
            "missing Sec-WebSocket-Key header" if not keys else "more than one Sec-WebSocket-Key header"
        )
    key = keys[0]
    if not _is_valid_key(key):
        raise HandshakeError(f"invalid Sec-WebSocket-Key {_excerpt(key)}")

    subprotocols = parse_subprotocol_header(headers.get_all("Sec-WebSocket-Protocol"))
    extensions = parse_extension_header(headers.get_all("Sec-WebSocket-Extensions"))

    origin_header = "Origin" if version == 13 else "Sec-WebSocket-Origin"
    origins = headers.get_all(origin_header)
    if len(origins) > 1:
        raise HandshakeError(f"more than one {origin_header} header")

    if "Transfer-Encoding" in headers or any(value != "0" for value in headers.get_all("Content-Length")):
        raise HandshakeError("opening handshake request must not have a body")

    cookies = parse_cookie_header("; ".join(headers.get_all("Cookie")))
    return OpeningRequest(
        version=version,
        key=key,
        host=hosts[0],
        target=request.target,
        path=path,
        query=urllib.parse.parse_qs(query, keep_blank_values=True),
        origin=origins[0] if origins else None,
        subprotocols=subprotocols,
        extensions=extensions,
        cookies=cookies,
        headers=headers,
        request=request,
    )


# Headers that the handshake builders set themselves.
_RESERVED_RESPONSE = ("Upgrade", "Connection", "Content-Length", "Transfer-Encoding")
_RESERVED_REQUEST = ("Upgrade", "Connection", "Content-Length", "Transfer-Encoding")


def _user_headers(headers: HeadersLike, reserved: Sequence[str]) -> Headers:
    result = headers.copy() if isinstance(headers, Headers) else Headers(headers)
    refused = {name.lower() for name in reserved}
    for name in result:
        lower = name.lower()
        if lower.startswith("sec-websocket-") or lower in refused:
            raise ValueError(f"headers must not include {name}; the handshake sets it")
    return result


def build_accept_response(
    request: OpeningRequest,
    *,
    subprotocol: str | None = None,
    extensions: str | None = None,
    origin: str | None = None,
    cookies: Sequence[SetCookie] = (),
    headers: HeadersLike = (),
) -> bytes:
    """Build the ``101 Switching Protocols`` response that accepts `request`.

    Args:
        request: the validated request.
        subprotocol: the chosen subprotocol; it must be one the client offered,
            compared case-insensitively, and the response echoes the client's spelling.
            None sends no `Sec-WebSocket-Protocol`.
        extensions: the `Sec-WebSocket-Extensions` value, as
            [`format_extension_header`][wsframe.http.format_extension_header] builds it.
        origin: for a version 8 client, sent as `Sec-WebSocket-Origin`, as that draft
            requires. Ignored for version 13: RFC 6455 has no origin response header
            (WebSocket-Node sent a non-standard `Origin`; wskit does not).
        cookies: cookies to set; their names must be distinct.
        headers: extra headers; `Upgrade`, `Connection`, `Content-Length`,
            `Transfer-Encoding` and `Sec-WebSocket-*` are set here and refused there.

    Returns:
        The response bytes.

    Raises:
        ValueError: the subprotocol was not offered, duplicate cookie names, an
            invalid extensions value, or an invalid or reserved header. No CR or LF
            can reach the wire.
    """
    response = Headers()
    response.add("Upgrade", "websocket")
    response.add("Connection", "Upgrade")
    response.add("Sec-WebSocket-Accept", accept_key(request.key))
    if subprotocol is not None:
        wanted = subprotocol.lower() if isinstance(subprotocol, str) else None
        spelling = next((p for p in request.subprotocols if p.lower() == wanted), None)
        if spelling is None:
            raise ValueError(f"subprotocol {subprotocol!r} was not requested")
        response.add("Sec-WebSocket-Protocol", spelling)
    if extensions is not None:
        response.add("Sec-WebSocket-Extensions", extensions)
        try:
            parse_extension_header(extensions)
        except HandshakeError as exc:
            raise ValueError(f"invalid extensions value: {exc}") from None
    if origin is not None:
        checked = Headers([("Sec-WebSocket-Origin", origin)])  # validated for both versions
        if request.version == 8:
            response.add("Sec-WebSocket-Origin", checked["Sec-WebSocket-Origin"])
    names: set[str] = set()
    for cookie in cookies:
        if not isinstance(cookie, SetCookie):
            raise TypeError(f"cookies must be SetCookie objects, not {type(cookie).__name__}")
        if cookie.name in names:
            raise ValueError(f"cookie {cookie.name!r} set twice")
        names.add(cookie.name)
        response.add("Set-Cookie", cookie.to_header())
    for name, value in _user_headers(headers, _RESERVED_RESPONSE).items():
        response.add(name, value)
    return serialize_response(101, "Switching Protocols", response)


def build_reject_response(
    status: int = 403,
    reason: str | None = None,
    headers: HeadersLike = (),
    body: bytes | None = None,
) -> bytes:
    """Build a response that refuses the handshake and closes the connection.

    The status line carries the standard phrase of `status`. The response always has
    `Connection: close`; a 426 response also gets `Upgrade: websocket` unless `headers`
    has an `Upgrade` (RFC 7231 section 6.5.15 requires one).

    Args:
        status: 300 to 599 (a redirect, a client or a server error).
        reason: why, sent as `X-WebSocket-Reject-Reason` (as WebSocket-Node does) and,
            when `body` is None, as a ``text/plain`` body.
        headers: extra headers, such as the `headers` of a
            [`HandshakeError`][wsframe.HandshakeError] or a `Location`; not
            `Connection`, `Content-Length` or `Transfer-Encoding`.
        body: the body; None for the reason (or nothing).

    Returns:
        The response bytes.

    Raises:
        ValueError: the status is out of range, or the reason or a header is invalid
            (no CR or LF can reach the wire).
    """
    if not isinstance(status, int) or isinstance(status, bool) or not 300 <= status <= 599:
        raise ValueError(f"status must be an int from 300 to 599, not {status!r}")
    extra = headers.copy() if isinstance(headers, Headers) else Headers(headers)
    for name in ("Connection", "Content-Length", "Transfer-Encoding"):
        if name in extra:
            raise ValueError(f"headers must not include {name}; the response sets it")
    response = Headers()
    if status == 426 and "Upgrade" not in extra:
        response.add("Upgrade", "websocket")
    response.add("Connection", "Upgrade, close" if (status == 426 or "Upgrade" in extra) else "close")
    if reason is not None:
        response.add("X-WebSocket-Reject-Reason", reason)
        if body is None:
            response.add("Content-Type", "text/plain; charset=utf-8")
            body = reason.encode("utf-8") + b"\n"
    for name, value in extra.items():
        response.add(name, value)
    return serialize_response(status, None, response, b"" if body is None else body)


def build_request(
    host: str,
    target: str,
    key: str,
    *,
    version: int = 13,
    subprotocols: Sequence[str] = (),
    extensions: str | None = None,
    origin: str | None = None,
    headers: HeadersLike = (),
) -> bytes:
    """Build an opening handshake request (RFC 6455 section 4.1).

    Args:
        host: the `Host` value: the host, with ``:port`` when not the scheme's default.
            A `Host` in `headers` replaces it.
        target: the resource: path and query, such as ``"/chat?room=1"``.
        key: from [`generate_key`][wsframe.handshake.generate_key].
        version: 13, or 8 for servers that only speak that draft.
        subprotocols: subprotocols to offer, preferred first; distinct tokens.
        extensions: the `Sec-WebSocket-Extensions` value to offer, as
            [`format_extension_header`][wsframe.http.format_extension_header] builds it.
        origin: sent as `Origin` (version 13) or `Sec-WebSocket-Origin` (version 8).
        headers: extra headers (cookies, authorization...); `Upgrade`, `Connection`,
            `Content-Length`, `Transfer-Encoding` and `Sec-WebSocket-*` are refused;
            `Origin` only when `origin` is None.

    Returns:
        The request bytes.

    Raises:
        ValueError: an invalid argument or header; no CR or LF can reach the wire.
    """
    if not isinstance(version, int) or isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        raise ValueError(f"version must be 13 or 8, not {version!r}")
    if not isinstance(key, str) or not _is_valid_key(key):
        raise ValueError(f"key {key!r} is not the base64 encoding of 16 bytes")
    if isinstance(subprotocols, str):
        raise TypeError("subprotocols must be a sequence of names, not a string")
    if len(set(subprotocols)) != len(subprotocols):
        raise ValueError("subprotocols must be distinct")
    extra = _user_headers(headers, _RESERVED_REQUEST)
    origin_header = "Origin" if version == 13 else "Sec-WebSocket-Origin"
    if origin is not None and origin_header in extra:
        raise ValueError(f"headers must not include {origin_header} when origin is given")

    request = Headers()
    if "Host" in extra:
        for value in extra.get_all("Host"):
            request.add("Host", value)
        del extra["Host"]
    else:
        if not isinstance(host, str) or not host or any(c in host for c in " \t"):
            raise ValueError(f"host {host!r} must be a non-empty string without whitespace")
        request.add("Host", host)
    request.add("Upgrade", "websocket")
    request.add("Connection", "Upgrade")
    request.add("Sec-WebSocket-Key", key)
    request.add("Sec-WebSocket-Version", str(version))
    if origin is not None:
        request.add(origin_header, origin)
    if subprotocols:
        request.add("Sec-WebSocket-Protocol", format_subprotocol_header(subprotocols))
    if extensions is not None:
        request.add("Sec-WebSocket-Extensions", extensions)
        try:
            parse_extension_header(extensions)
        except HandshakeError as exc:
            raise ValueError(f"invalid extensions value: {exc}") from None
    for name, value in extra.items():
        request.add(name, value)
    return serialize_request("GET", target, request)


def check_response(
    response: HttpResponse, *, key: str, subprotocols: Sequence[str]
) -> tuple[str | None, ExtensionHeader]:
    """Validate the server's answer to an opening handshake (RFC 6455 section 4.1).

    Subprotocols are compared case-sensitively, as browsers do: a server must answer
    with one of the offered names as offered (wskit's server echoes the client's
    spelling). A server may choose none even when some were offered; the application
    decides whether that is acceptable.

    Args:
        response: the response from a [`ResponseParser`][wsframe.http.ResponseParser].
        key: the `Sec-WebSocket-Key` sent.
        subprotocols: the subprotocols offered.

    Returns:
        The chosen subprotocol (None when the server chose none) and the parsed
        `Sec-WebSocket-Extensions` answer, for
        [`negotiate_client_extensions`][wsframe.extensions.negotiate_client_extensions].

    Raises:
        HandshakeError: the status is not 101, or the response is not a valid
            acceptance; `status` is the response's status.
        NegotiationError: the server chose a subprotocol that was not offered, or more
            than one.
    """
    status = response.status
    headers = response.headers
    if status != 101:
        phrase = f" {response.reason}" if response.reason else ""
        raise HandshakeError(f"server answered {status}{phrase} instead of 101", status=status)
    if not _has_token(headers, "Upgrade", "websocket"):
        raise HandshakeError("Upgrade header of the response does not list websocket", status=status)
    if not _has_token(headers, "Connection", "upgrade"):
        raise HandshakeError("Connection header of the response does not list upgrade", status=status)
    accepts = headers.get_all("Sec-WebSocket-Accept")
    if len(accepts) != 1:
        raise HandshakeError(
            "missing Sec-WebSocket-Accept header" if not accepts else "more than one Sec-WebSocket-Accept header",
            status=status,
        )
    if accepts[0] != accept_key(key):
        raise HandshakeError("Sec-WebSocket-Accept does not match the key", status=status)

    chosen: str | None = None
    protocol_values = headers.get_all("Sec-WebSocket-Protocol")
    if protocol_values:
        try:
            names = parse_subprotocol_header(protocol_values)
        except HandshakeError as exc:
            raise NegotiationError(str(exc), status=status) from None
        if len(names) > 1:
            raise NegotiationError("server chose more than one subprotocol", status=status)
        if names:
            chosen = names[0]
            if not subprotocols:
                raise NegotiationError(f"server chose subprotocol {chosen!r} but none was offered", status=status)
            if chosen not in subprotocols:
                raise NegotiationError(f"server chose subprotocol {chosen!r}, which was not offered", status=status)
    try:
        extensions = parse_extension_header(headers.get_all("Sec-WebSocket-Extensions"))
    except HandshakeError as exc:
        raise HandshakeError(str(exc), status=status) from None
    return chosen, extensions
