"""wsframe: the sans-IO WebSocket protocol core of wskit (RFC 6455, versions 13 and 8).

It parses and builds frames, validates text and close frames, runs the connection's
state machine for both roles, checks and builds opening handshakes, and negotiates
extensions, permessage-deflate included. It performs no I/O: drivers such as wsserver
and wsclient feed it bytes and write what it returns.
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
from ._connection import Connection, Role, State
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
from ._mask import SPEEDUPS, apply_mask, apply_mask_python
from ._options import (
    DEFAULT_FRAGMENTATION_THRESHOLD,
    DEFAULT_MAX_MESSAGE_SIZE,
    ConnectionOptions,
)
from ._typing import BytesLike, Data
from ._utf8 import Utf8Decoder, is_valid_utf8
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
    # _mask
    "SPEEDUPS",
    "apply_mask",
    "apply_mask_python",
    # _options
    "DEFAULT_FRAGMENTATION_THRESHOLD",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "ConnectionOptions",
    # _typing
    "BytesLike",
    "Data",
    # _utf8
    "Utf8Decoder",
    "is_valid_utf8",
    "__version__",
]
