"""The wsframe names that wsserver uses, imported in one place.

Names that `wsframe/__init__.py` does not export yet are imported from their private
modules here, and only here, each marked for the lead; once exported, only this file
changes.
"""

from __future__ import annotations

from wsframe import (
    CloseCode,
    Connection,
    ConnectionClosed,
    ConnectionOptions,
    Extension,
    HandshakeError,
    InvalidState,
    NegotiationError,
    Role,
    ServerExtensionFactory,
    State,
    negotiate_server_extensions,
)
from wsframe._cookies import SetCookie  # TODO(lead): export
from wsframe._handshake import (  # TODO(lead): export
    OpeningRequest,
    build_accept_response,
    build_reject_response,
    check_request,
    is_upgrade_request,
)
from wsframe._headers import ExtensionHeader, format_extension_header  # TODO(lead): export
from wsframe._http import (  # TODO(lead): export
    DEFAULT_MAX_HEAD_SIZE,
    DEFAULT_MAX_HEADER_COUNT,
    DEFAULT_MAX_HEADER_LINE_SIZE,
    DEFAULT_MAX_START_LINE_SIZE,
    Headers,
    HeadersLike,
    HttpRequest,
    RequestParser,
    serialize_response,
)
from wsframe._permessage_deflate import ServerPerMessageDeflate  # TODO(lead): export

__all__ = [
    "DEFAULT_MAX_HEADER_COUNT",
    "DEFAULT_MAX_HEADER_LINE_SIZE",
    "DEFAULT_MAX_HEAD_SIZE",
    "DEFAULT_MAX_START_LINE_SIZE",
    "CloseCode",
    "Connection",
    "ConnectionClosed",
    "ConnectionOptions",
    "Extension",
    "ExtensionHeader",
    "HandshakeError",
    "Headers",
    "HeadersLike",
    "HttpRequest",
    "InvalidState",
    "NegotiationError",
    "OpeningRequest",
    "RequestParser",
    "Role",
    "ServerExtensionFactory",
    "ServerPerMessageDeflate",
    "SetCookie",
    "State",
    "build_accept_response",
    "build_reject_response",
    "check_request",
    "format_extension_header",
    "is_upgrade_request",
    "negotiate_server_extensions",
    "serialize_response",
]
