"""The public extension API (RFC 6455 section 9).

An extension has two halves:

* a *factory*, which takes part in the opening handshake: a
  [`ClientExtensionFactory`][wsframe.extensions.ClientExtensionFactory] offers parameters and checks
  the server's answer; a [`ServerExtensionFactory`][wsframe.extensions.ServerExtensionFactory]
  answers one of the client's offers;
* an [`Extension`][wsframe.extensions.Extension], made by the factory for one connection once
  negotiated, which transforms the data frames that connection sends and receives and
  claims the RSV bits it uses.

[`Connection`][wsframe.Connection] calls the negotiated extensions in order on every
outgoing data frame, and in reverse order on every incoming one. Control frames never go
through extensions (RFC 7692 section 6.1 forbids compressing them, and RSV bits on a
control frame are always a protocol error).

Contract for outgoing messages: the connection calls [`encode`][wsframe.extensions.Extension.encode]
on each data frame *before* splitting it for `fragmentation_threshold`. When it splits an
encoded frame, the first piece carries the encoded frame's RSV bits and the continuation
pieces carry none. That is what per-message extensions such as permessage-deflate need.
A message that the application sends in fragments itself goes through `encode` one
fragment at a time, with `fin` telling the extension where the message ends.

Example: a toy extension that claims RSV2 and reverses each frame's bytes::

    class Reverse(Extension):
        name = "x-reverse"
        rsv_bits = RSV2

        def encode(self, frame):
            return dataclasses.replace(frame, payload=frame.payload[::-1], rsv2=True)

        def decode(self, frame, *, max_size):
            if not frame.rsv2:
                return frame
            return dataclasses.replace(frame, payload=frame.payload[::-1], rsv2=False)
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import ClassVar

from ._errors import NegotiationError
from ._frames import RSV1, RSV2, RSV3, Frame

__all__ = [
    "RSV1",
    "RSV2",
    "RSV3",
    "ClientExtensionFactory",
    "Extension",
    "ExtensionParameters",
    "ServerExtensionFactory",
    "negotiate_client_extensions",
    "negotiate_server_extensions",
]

#: Parameters of one extension offer or answer, in order: ``[("client_max_window_bits", None), ...]``.
#: A parameter without a value has ``None``.
ExtensionParameters = list[tuple[str, "str | None"]]


class Extension(abc.ABC):
    """An extension in use on one connection.

    Attributes:
        name: the registered extension token, such as ``"permessage-deflate"``.
        rsv_bits: the RSV bits this extension uses, as they stand in the first header
            byte (``RSV1`` = 0x40, ``RSV2`` = 0x20, ``RSV3`` = 0x10). A received frame with
            an RSV bit that no negotiated extension claims fails the connection with 1002.
    """

    name: ClassVar[str]
    rsv_bits: ClassVar[int] = 0

    @abc.abstractmethod
    def encode(self, frame: Frame) -> Frame:
        """Transform an outgoing data frame (text, binary or continuation).

        Return the frame to send, with the extension's RSV bits set where it applies.
        """

    @abc.abstractmethod
    def decode(self, frame: Frame, *, max_size: int | None) -> Frame:
        """Transform an incoming data frame (text, binary or continuation).

        Args:
            frame: the received frame, unmasked, as the previous extension left it.
            max_size: the largest payload the result may have, in bytes (what is left of
                the connection's `max_message_size` for this message), or None for no
                limit. An extension that expands data must stop as soon as it would pass
                this bound and raise [`MessageTooBig`][wsframe.MessageTooBig]: this is what
                keeps a small compressed frame from inflating without bound.

        Returns:
            The frame with the extension's RSV bits cleared.

        Raises:
            ProtocolError: the frame breaks the extension's rules.
            MessageTooBig: the result would exceed `max_size`.
        """

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class ClientExtensionFactory(abc.ABC):
    """The client side of an extension's negotiation."""

    name: ClassVar[str]

    @abc.abstractmethod
    def offer(self) -> ExtensionParameters:
        """The parameters to offer in the client's `Sec-WebSocket-Extensions` header."""

    @abc.abstractmethod
    def accept(self, params: ExtensionParameters, accepted: Sequence[Extension]) -> Extension:
        """Build the extension from the server's answer.

        Args:
            params: the parameters the server answered with.
            accepted: the extensions accepted so far for this connection, in order.

        Raises:
            NegotiationError: the answer is not acceptable; the client fails the handshake.
        """


class ServerExtensionFactory(abc.ABC):
    """The server side of an extension's negotiation."""

    name: ClassVar[str]

    @abc.abstractmethod
    def negotiate(
        self, params: ExtensionParameters, accepted: Sequence[Extension]
    ) -> tuple[ExtensionParameters, Extension] | None:
        """Answer one offer of this extension.

        Args:
            params: the parameters of the client's offer.
            accepted: the extensions accepted so far for this connection, in order.

        Returns:
            The parameters of the answer and the extension to use, or None to decline
            this offer (the server then considers the client's next offer, if any).

        Raises:
            NegotiationError: the offer is malformed; the server refuses the handshake (400).
        """


def negotiate_server_extensions(
    offers: Sequence[tuple[str, ExtensionParameters]],
    factories: Sequence[ServerExtensionFactory],
) -> tuple[list[tuple[str, ExtensionParameters]], list[Extension]]:
    """Choose extensions from a client's offers, in the client's order of preference.

    Each offer goes to the factory of the same name; offers of unknown extensions are
    ignored, as are offers whose RSV bits an already accepted extension uses.

    Args:
        offers: the parsed `Sec-WebSocket-Extensions` header of the request.
        factories: the extensions the server supports.

    Returns:
        The answers for the response header (format them with
        [`format_extension_header`][wsframe.http.format_extension_header]) and the extensions
        to hand to the connection, in order.

    Raises:
        NegotiationError: a factory found an offer malformed.
    """
    by_name = {factory.name.lower(): factory for factory in factories}
    answers: list[tuple[str, ExtensionParameters]] = []
    accepted: list[Extension] = []
    accepted_names: set[str] = set()
    used_bits = 0
    for name, params in offers:
        key = name.lower()
        factory = by_name.get(key)
        # An extension is used once: later offers of an accepted one are alternatives.
        if factory is None or key in accepted_names:
            continue
        result = factory.negotiate(params, accepted)
        if result is None:
            continue
        answer, extension = result
        if extension.rsv_bits & used_bits:
            continue
        used_bits |= extension.rsv_bits
        accepted_names.add(key)
        answers.append((factory.name, answer))
        accepted.append(extension)
    return answers, accepted


def negotiate_client_extensions(
    answers: Sequence[tuple[str, ExtensionParameters]],
    factories: Sequence[ClientExtensionFactory],
) -> list[Extension]:
    """Check the server's answer against what the client offered.

    Args:
        answers: the parsed `Sec-WebSocket-Extensions` header of the response.
        factories: the extensions the client offered.

    Returns:
        The extensions to hand to the connection, in the server's order.

    Raises:
        NegotiationError: the server answered with an extension that was not offered,
            answered one twice, used RSV bits twice, or a factory refused its parameters.
    """
    by_name = {factory.name.lower(): factory for factory in factories}
    accepted: list[Extension] = []
    seen: set[str] = set()
    used_bits = 0
    for name, params in answers:
        key = name.lower()
        factory = by_name.get(key)
        if factory is None:
            raise NegotiationError(f"server answered with extension {name!r}, which was not offered")
        if key in seen:
            raise NegotiationError(f"server answered with extension {name!r} twice")
        seen.add(key)
        extension = factory.accept(params, accepted)
        if extension.rsv_bits & used_bits:
            raise NegotiationError(f"extension {name!r} uses RSV bits that another extension uses")
        used_bits |= extension.rsv_bits
        accepted.append(extension)
    return accepted
