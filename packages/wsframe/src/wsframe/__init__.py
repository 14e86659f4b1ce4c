"""wsframe: the sans-IO WebSocket protocol core of wskit (RFC 6455, versions 13 and 8).

It parses and builds frames, validates text and close frames, runs the connection's
state machine for both roles, checks and builds opening handshakes, parses HTTP heads
within strict limits, and negotiates extensions, permessage-deflate included. It performs
no I/O: drivers such as wsserver and wsclient feed it bytes and write what it returns.
The asyncio driver that both share lives apart, in `wsframe.asyncio`, which this package
never imports.

The top level holds what a user of the codec needs: the frame
[`Connection`][wsframe.Connection], its options, events and exceptions,
[`CloseCode`][wsframe.CloseCode], the sans-IO opening handshake
([`ServerHandshake`][wsframe.ServerHandshake], [`ClientHandshake`][wsframe.ClientHandshake]
and their events), the permessage-deflate factories and [`Headers`][wsframe.Headers].
The building blocks under them live in public submodules, each with its own `__all__`:
[`wsframe.frames`][wsframe.frames] (opcodes, frames, masking, UTF-8),
[`wsframe.close`][wsframe.close] (close codes and payloads),
[`wsframe.extensions`][wsframe.extensions] (the extension API, permessage-deflate),
[`wsframe.handshake`][wsframe.handshake] (the handshake helpers),
[`wsframe.http`][wsframe.http] (HTTP heads and header values),
[`wsframe.cookies`][wsframe.cookies], [`wsframe.typing`][wsframe.typing] and
[`wsframe.options`][wsframe.options] (the options every driver shares, and their validators).
Every name that the top level exported before still imports from it (resolved on first
use), but only the submodule spelling is documented.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._close import CloseCode
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
    ConnectionEvent,
    ConnectionFailed,
    Fragment,
    Ping,
    Pong,
    TextMessage,
)
from ._events import (
    Event as Event,
)
from ._http import Headers
from ._mask import SPEEDUPS
from ._opening import (
    ClientHandshake,
    HandshakeEvent,
    HandshakeInvalid,
    HandshakeState,
    HttpRequestReceived,
    RequestReceived,
    ResponseReceived,
    ServerHandshake,
)
from ._options import DEFAULT_FRAGMENTATION_THRESHOLD, DEFAULT_MAX_MESSAGE_SIZE, ConnectionOptions
from ._permessage_deflate import ClientPerMessageDeflate, ServerPerMessageDeflate
from ._version import __version__

__all__ = [
    # the frame connection
    "Connection",
    "Role",
    "State",
    "ConnectionOptions",
    "DEFAULT_FRAGMENTATION_THRESHOLD",
    "DEFAULT_MAX_MESSAGE_SIZE",
    # events
    "BinaryMessage",
    "CloseReceived",
    "ConnectionFailed",
    "ConnectionEvent",
    "Fragment",
    "Ping",
    "Pong",
    "TextMessage",
    # exceptions
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
    # close codes (wsframe.close has the rest)
    "CloseCode",
    # the opening handshake (wsframe.handshake has the rest)
    "ClientHandshake",
    "HandshakeEvent",
    "HandshakeInvalid",
    "HandshakeState",
    "HttpRequestReceived",
    "RequestReceived",
    "ResponseReceived",
    "ServerHandshake",
    # permessage-deflate (wsframe.extensions has the rest)
    "ClientPerMessageDeflate",
    "ServerPerMessageDeflate",
    # HTTP (wsframe.http has the rest)
    "Headers",
    # the package
    "SPEEDUPS",
    "__version__",
]

#: The public submodules, importable as attributes of `wsframe` once it is imported.
_SUBMODULES = frozenset({"close", "cookies", "extensions", "frames", "handshake", "http", "options", "typing"})

#: Names that `wsframe` exported before they moved to a submodule: each still resolves
#: from `wsframe` (the same object), on first use, without a warning.
_MOVED = {
    # wsframe.close
    "CLOSE_DESCRIPTIONS": "close",
    "MAX_CLOSE_REASON_BYTES": "close",
    "check_close_code": "close",
    "decode_close_payload": "close",
    "encode_close_payload": "close",
    "is_valid_close_code": "close",
    # wsframe.cookies
    "SameSite": "cookies",
    "SetCookie": "cookies",
    "parse_cookie_header": "cookies",
    # wsframe.extensions
    "ClientExtensionFactory": "extensions",
    "Extension": "extensions",
    "ExtensionParameters": "extensions",
    "PerMessageDeflate": "extensions",
    "RSV1": "extensions",
    "RSV2": "extensions",
    "RSV3": "extensions",
    "ServerExtensionFactory": "extensions",
    "negotiate_client_extensions": "extensions",
    "negotiate_server_extensions": "extensions",
    # wsframe.frames
    "CONTROL_OPCODES": "frames",
    "DATA_OPCODES": "frames",
    "Frame": "frames",
    "FrameParser": "frames",
    "MAX_CONTROL_PAYLOAD": "frames",
    "Opcode": "frames",
    "Utf8Decoder": "frames",
    "apply_mask": "frames",
    "apply_mask_python": "frames",
    "check_frame_header": "frames",
    "encode_frame": "frames",
    "frame_header": "frames",
    "is_valid_utf8": "frames",
    # wsframe.handshake
    "DEFAULT_MAX_EARLY_DATA": "handshake",
    "OpeningRequest": "handshake",
    "SUPPORTED_VERSIONS": "handshake",
    "WEBSOCKET_GUID": "handshake",
    "accept_key": "handshake",
    "build_accept_response": "handshake",
    "build_reject_response": "handshake",
    "build_request": "handshake",
    "check_request": "handshake",
    "check_response": "handshake",
    "generate_key": "handshake",
    "is_upgrade_request": "handshake",
    # wsframe.http
    "DEFAULT_MAX_BODY_SIZE": "http",
    "DEFAULT_MAX_HEADER_COUNT": "http",
    "DEFAULT_MAX_HEADER_LINE_SIZE": "http",
    "DEFAULT_MAX_HEAD_SIZE": "http",
    "DEFAULT_MAX_START_LINE_SIZE": "http",
    "ExtensionHeader": "http",
    "HeadersLike": "http",
    "HttpRequest": "http",
    "HttpResponse": "http",
    "RequestParser": "http",
    "ResponseParser": "http",
    "format_extension_header": "http",
    "format_subprotocol_header": "http",
    "is_token": "http",
    "parse_extension_header": "http",
    "parse_subprotocol_header": "http",
    "parse_token_list": "http",
    "reason_phrase": "http",
    "serialize_request": "http",
    "serialize_response": "http",
    # wsframe.typing
    "BytesLike": "typing",
    "Data": "typing",
}

if TYPE_CHECKING:
    # For type checkers, the moved names as explicit re-exports.
    from . import close as close
    from . import cookies as cookies
    from . import extensions as extensions
    from . import frames as frames
    from . import handshake as handshake
    from . import http as http
    from . import typing as typing
    from .close import CLOSE_DESCRIPTIONS as CLOSE_DESCRIPTIONS
    from .close import MAX_CLOSE_REASON_BYTES as MAX_CLOSE_REASON_BYTES
    from .close import check_close_code as check_close_code
    from .close import decode_close_payload as decode_close_payload
    from .close import encode_close_payload as encode_close_payload
    from .close import is_valid_close_code as is_valid_close_code
    from .cookies import SameSite as SameSite
    from .cookies import SetCookie as SetCookie
    from .cookies import parse_cookie_header as parse_cookie_header
    from .extensions import RSV1 as RSV1
    from .extensions import RSV2 as RSV2
    from .extensions import RSV3 as RSV3
    from .extensions import ClientExtensionFactory as ClientExtensionFactory
    from .extensions import Extension as Extension
    from .extensions import ExtensionParameters as ExtensionParameters
    from .extensions import PerMessageDeflate as PerMessageDeflate
    from .extensions import ServerExtensionFactory as ServerExtensionFactory
    from .extensions import negotiate_client_extensions as negotiate_client_extensions
    from .extensions import negotiate_server_extensions as negotiate_server_extensions
    from .frames import CONTROL_OPCODES as CONTROL_OPCODES
    from .frames import DATA_OPCODES as DATA_OPCODES
    from .frames import MAX_CONTROL_PAYLOAD as MAX_CONTROL_PAYLOAD
    from .frames import Frame as Frame
    from .frames import FrameParser as FrameParser
    from .frames import Opcode as Opcode
    from .frames import Utf8Decoder as Utf8Decoder
    from .frames import apply_mask as apply_mask
    from .frames import apply_mask_python as apply_mask_python
    from .frames import check_frame_header as check_frame_header
    from .frames import encode_frame as encode_frame
    from .frames import frame_header as frame_header
    from .frames import is_valid_utf8 as is_valid_utf8
    from .handshake import DEFAULT_MAX_EARLY_DATA as DEFAULT_MAX_EARLY_DATA
    from .handshake import SUPPORTED_VERSIONS as SUPPORTED_VERSIONS
    from .handshake import WEBSOCKET_GUID as WEBSOCKET_GUID
    from .handshake import OpeningRequest as OpeningRequest
    from .handshake import accept_key as accept_key
    from .handshake import build_accept_response as build_accept_response
    from .handshake import build_reject_response as build_reject_response
    from .handshake import build_request as build_request
    from .handshake import check_request as check_request
    from .handshake import check_response as check_response
    from .handshake import generate_key as generate_key
    from .handshake import is_upgrade_request as is_upgrade_request
    from .http import DEFAULT_MAX_BODY_SIZE as DEFAULT_MAX_BODY_SIZE
    from .http import DEFAULT_MAX_HEAD_SIZE as DEFAULT_MAX_HEAD_SIZE
    from .http import DEFAULT_MAX_HEADER_COUNT as DEFAULT_MAX_HEADER_COUNT
    from .http import DEFAULT_MAX_HEADER_LINE_SIZE as DEFAULT_MAX_HEADER_LINE_SIZE
    from .http import DEFAULT_MAX_START_LINE_SIZE as DEFAULT_MAX_START_LINE_SIZE
    from .http import ExtensionHeader as ExtensionHeader
    from .http import HeadersLike as HeadersLike
    from .http import HttpRequest as HttpRequest
    from .http import HttpResponse as HttpResponse
    from .http import RequestParser as RequestParser
    from .http import ResponseParser as ResponseParser
    from .http import format_extension_header as format_extension_header
    from .http import format_subprotocol_header as format_subprotocol_header
    from .http import is_token as is_token
    from .http import parse_extension_header as parse_extension_header
    from .http import parse_subprotocol_header as parse_subprotocol_header
    from .http import parse_token_list as parse_token_list
    from .http import reason_phrase as reason_phrase
    from .http import serialize_request as serialize_request
    from .http import serialize_response as serialize_response
    from .typing import BytesLike as BytesLike
    from .typing import Data as Data
else:

    def __getattr__(name: str) -> Any:
        import importlib

        if name in _SUBMODULES:
            return importlib.import_module(f".{name}", __name__)
        submodule = _MOVED.get(name)
        if submodule is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{submodule}", __name__), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
