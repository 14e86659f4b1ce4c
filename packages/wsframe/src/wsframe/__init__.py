"""wsframe: the sans-IO WebSocket protocol core of wskit (RFC 6455, versions 13 and 8).

It parses and builds frames, validates text and close frames, runs the connection's
state machine for both roles, checks and builds opening handshakes, parses HTTP heads
within strict limits, and negotiates extensions, permessage-deflate included. It performs
no I/O: drivers such as wsserver and wsclient feed it bytes and write what it returns.
The asyncio driver that both share lives apart, in `wsframe.asyncio`, which this package
never imports.
"""

from __future__ import annotations

from ._close import (
    CLOSE_DESCRIPTIONS,
    MAX_CLOSE_REASON_BYTES,
    CloseCode,
    check_close_code,
    decode_close_payload,
    encode_close_payload,
    is_valid_close_code,
)
from ._connection import (
    Connection,
    Role,
    State,
)
from ._cookies import (
    SameSite,
    SetCookie,
    parse_cookie_header,
)
from ._errors import (
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    HandshakeError,
    InvalidData,
    InvalidState,
    MessageTooBig,
    NegotiationError,
    ProtocolError,
    WebSocketError,
)
from ._events import (
    BinaryMessage,
    CloseReceived,
    ConnectionFailed,
    Event,
    Fragment,
    Ping,
    Pong,
    TextMessage,
)
from ._extensions import (
    RSV1,
    RSV2,
    RSV3,
    ClientExtensionFactory,
    Extension,
    ExtensionParameters,
    ServerExtensionFactory,
    negotiate_client_extensions,
    negotiate_server_extensions,
)
from ._frames import (
    CONTROL_OPCODES,
    DATA_OPCODES,
    MAX_CONTROL_PAYLOAD,
    Frame,
    FrameParser,
    Opcode,
    check_frame_header,
    encode_frame,
    frame_header,
)
from ._handshake import (
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
from ._mask import (
    SPEEDUPS,
    apply_mask,
    apply_mask_python,
)
from ._opening import (
    DEFAULT_MAX_EARLY_DATA,
    ClientHandshake,
    HandshakeEvent,
    HandshakeInvalid,
    HandshakeState,
    HttpRequestReceived,
    RequestReceived,
    ResponseReceived,
    ServerHandshake,
)
from ._options import (
    DEFAULT_FRAGMENTATION_THRESHOLD,
    DEFAULT_MAX_MESSAGE_SIZE,
    ConnectionOptions,
)
from ._permessage_deflate import (
    ClientPerMessageDeflate,
    PerMessageDeflate,
    ServerPerMessageDeflate,
)
from ._typing import (
    BytesLike,
    Data,
)
from ._utf8 import (
    Utf8Decoder,
    is_valid_utf8,
)
from ._version import __version__

__all__ = [
    # _close
    "CLOSE_DESCRIPTIONS",
    "MAX_CLOSE_REASON_BYTES",
    "CloseCode",
    "check_close_code",
    "decode_close_payload",
    "encode_close_payload",
    "is_valid_close_code",
    # _connection
    "Connection",
    "Role",
    "State",
    # _cookies
    "SameSite",
    "SetCookie",
    "parse_cookie_header",
    # _errors
    "ConnectionClosed",
    "ConnectionClosedError",
    "ConnectionClosedOK",
    "HandshakeError",
    "InvalidData",
    "InvalidState",
    "MessageTooBig",
    "NegotiationError",
    "ProtocolError",
    "WebSocketError",
    # _events
    "BinaryMessage",
    "CloseReceived",
    "ConnectionFailed",
    "Event",
    "Fragment",
    "Ping",
    "Pong",
    "TextMessage",
    # _extensions
    "RSV1",
    "RSV2",
    "RSV3",
    "ClientExtensionFactory",
    "Extension",
    "ExtensionParameters",
    "ServerExtensionFactory",
    "negotiate_client_extensions",
    "negotiate_server_extensions",
    # _frames
    "CONTROL_OPCODES",
    "DATA_OPCODES",
    "MAX_CONTROL_PAYLOAD",
    "Frame",
    "FrameParser",
    "Opcode",
    "check_frame_header",
    "encode_frame",
    "frame_header",
    # _handshake
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
    # _headers
    "ExtensionHeader",
    "format_extension_header",
    "format_subprotocol_header",
    "is_token",
    "parse_extension_header",
    "parse_subprotocol_header",
    "parse_token_list",
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
    # _mask
    "SPEEDUPS",
    "apply_mask",
    "apply_mask_python",
    # _opening
    "DEFAULT_MAX_EARLY_DATA",
    "ClientHandshake",
    "HandshakeEvent",
    "HandshakeInvalid",
    "HandshakeState",
    "HttpRequestReceived",
    "RequestReceived",
    "ResponseReceived",
    "ServerHandshake",
    # _options
    "DEFAULT_FRAGMENTATION_THRESHOLD",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "ConnectionOptions",
    # _permessage_deflate
    "ClientPerMessageDeflate",
    "PerMessageDeflate",
    "ServerPerMessageDeflate",
    # _typing
    "BytesLike",
    "Data",
    # _utf8
    "Utf8Decoder",
    "is_valid_utf8",
    "__version__",
]
