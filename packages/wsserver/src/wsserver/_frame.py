"""The wsframe names that wsserver uses, imported in one place (public names only)."""

from __future__ import annotations

from wsframe import (
    CloseCode,
    ConnectionClosed,
    ConnectionOptions,
    HandshakeEvent,
    HandshakeInvalid,
    HandshakeState,
    Headers,
    HttpRequestReceived,
    InvalidState,
    RequestReceived,
    ServerHandshake,
    ServerPerMessageDeflate,
    State,
)
from wsframe.cookies import SetCookie
from wsframe.extensions import ServerExtensionFactory
from wsframe.handshake import OpeningRequest, build_reject_response
from wsframe.http import (
    DEFAULT_MAX_HEAD_SIZE,
    DEFAULT_MAX_HEADER_COUNT,
    DEFAULT_MAX_HEADER_LINE_SIZE,
    DEFAULT_MAX_START_LINE_SIZE,
    ExtensionHeader,
    HeadersLike,
    HttpRequest,
    serialize_response,
)
from wsframe.options import (
    DEFAULT_CLOSE_TIMEOUT,
    DEFAULT_FRAGMENTATION_THRESHOLD,
    DEFAULT_KEEPALIVE_GRACE,
    DEFAULT_KEEPALIVE_INTERVAL,
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MAX_QUEUE,
    DEFAULT_OPEN_TIMEOUT,
    DEFAULT_WRITE_LIMIT,
    DriverOptions,
    check_int,
    check_number,
)

__all__ = [
    "DEFAULT_CLOSE_TIMEOUT",
    "DEFAULT_FRAGMENTATION_THRESHOLD",
    "DEFAULT_KEEPALIVE_GRACE",
    "DEFAULT_KEEPALIVE_INTERVAL",
    "DEFAULT_MAX_HEADER_COUNT",
    "DEFAULT_MAX_HEADER_LINE_SIZE",
    "DEFAULT_MAX_HEAD_SIZE",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_MAX_QUEUE",
    "DEFAULT_MAX_START_LINE_SIZE",
    "DEFAULT_OPEN_TIMEOUT",
    "DEFAULT_WRITE_LIMIT",
    "CloseCode",
    "ConnectionClosed",
    "ConnectionOptions",
    "DriverOptions",
    "ExtensionHeader",
    "HandshakeEvent",
    "HandshakeInvalid",
    "HandshakeState",
    "Headers",
    "HeadersLike",
    "HttpRequest",
    "HttpRequestReceived",
    "InvalidState",
    "OpeningRequest",
    "RequestReceived",
    "ServerExtensionFactory",
    "ServerHandshake",
    "ServerPerMessageDeflate",
    "SetCookie",
    "State",
    "build_reject_response",
    "check_int",
    "check_number",
    "serialize_response",
]
