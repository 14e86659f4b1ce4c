"""The opening handshake (RFC 6455 section 4), both roles, protocol versions 13 and 8.

Most drivers need only the sans-IO handshake objects, which `wsframe` also exports:
[`ServerHandshake`][wsframe.ServerHandshake] and
[`ClientHandshake`][wsframe.ClientHandshake], their [`HandshakeState`][wsframe.HandshakeState]
and their events ([`HandshakeEvent`][wsframe.HandshakeEvent]). The helpers those
objects are built on stay public here, for a driver that needs one step alone:
[`is_upgrade_request`][wsframe.handshake.is_upgrade_request] and
[`check_request`][wsframe.handshake.check_request] (the server reading a request, as an
[`OpeningRequest`][wsframe.handshake.OpeningRequest]),
[`build_accept_response`][wsframe.handshake.build_accept_response] and
[`build_reject_response`][wsframe.handshake.build_reject_response] (its answer),
[`build_request`][wsframe.handshake.build_request] and
[`check_response`][wsframe.handshake.check_response] (the client),
[`generate_key`][wsframe.handshake.generate_key] and
[`accept_key`][wsframe.handshake.accept_key] (`Sec-WebSocket-Key` and `-Accept`).
The HTTP heads themselves are parsed and written by [`wsframe.http`][wsframe.http].
"""

from __future__ import annotations

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

__all__ = [
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
]
