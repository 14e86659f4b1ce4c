"""HTTP/1.1 heads for the opening handshake: bounded parsers, serializers, headers, header values.

[`Headers`][wsframe.Headers] is also importable from `wsframe` itself.
[`RequestParser`][wsframe.http.RequestParser] and
[`ResponseParser`][wsframe.http.ResponseParser] read a head incrementally within the
limits below (each a keyword argument; None disables it) and return an
[`HttpRequest`][wsframe.http.HttpRequest] or an [`HttpResponse`][wsframe.http.HttpResponse];
[`serialize_request`][wsframe.http.serialize_request] and
[`serialize_response`][wsframe.http.serialize_response] write them.

The header value grammar (RFC 7230 section 3.2.6 and 7, RFC 6455 sections 4.3 and 9.1):
tokens ([`is_token`][wsframe.http.is_token],
[`parse_token_list`][wsframe.http.parse_token_list]), `Sec-WebSocket-Protocol`
([`parse_subprotocol_header`][wsframe.http.parse_subprotocol_header],
[`format_subprotocol_header`][wsframe.http.format_subprotocol_header]) and
`Sec-WebSocket-Extensions` ([`parse_extension_header`][wsframe.http.parse_extension_header],
[`format_extension_header`][wsframe.http.format_extension_header]).
"""

from __future__ import annotations

from ._headers import (
    ExtensionHeader,
    format_extension_header,
    format_subprotocol_header,
    is_token,
    parse_extension_header,
    parse_subprotocol_header,
    parse_token_list,
)
from ._http import (
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_HEAD_SIZE,
    DEFAULT_MAX_HEADER_COUNT,
    DEFAULT_MAX_HEADER_LINE_SIZE,
    DEFAULT_MAX_START_LINE_SIZE,
    Headers,
    HeadersLike,
    HttpRequest,
    HttpResponse,
    RequestParser,
    ResponseParser,
    reason_phrase,
    serialize_request,
    serialize_response,
)

__all__ = [
    # _http
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
    # _headers
    "ExtensionHeader",
    "format_extension_header",
    "format_subprotocol_header",
    "is_token",
    "parse_extension_header",
    "parse_subprotocol_header",
    "parse_token_list",
]
