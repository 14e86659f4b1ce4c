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

__all__ = [
    "DEFAULT_MAX_HEADER_COUNT",
    "DEFAULT_MAX_HEADER_LINE_SIZE",
    "DEFAULT_MAX_HEAD_SIZE",
    "DEFAULT_MAX_START_LINE_SIZE",
    "CloseCode",
    "ConnectionClosed",
    "ConnectionOptions",
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
    "serialize_response",
]
