"""Connection options: the tunables shared by wsframe, wsserver and wsclient."""

from __future__ import annotations

import dataclasses

__all__ = [
    "DEFAULT_FRAGMENTATION_THRESHOLD",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "ConnectionOptions",
]

#: Default limit on a received message: 1 MiB, as the seed's server and `websockets`.
DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024

#: Default size of outgoing fragments: 64 KiB, the largest frame that WebSocket-Node's
#: default `maxReceivedFrameSize` accepts, so that a wskit peer never trips it.
DEFAULT_FRAGMENTATION_THRESHOLD = 64 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class ConnectionOptions:
    """Tunables of one connection, validated when built.

    Attributes:
        max_message_size: largest received message, in bytes, after decompression; a
            message above it fails the connection with 1009. The check uses the
            lengths announced in frame headers, before payloads are buffered. None means
            no limit (only for trusted peers). WebSocket-Node: `maxReceivedMessageSize`.
        max_frame_size: largest received frame payload, in bytes, or None (the default)
            to bound frames by `max_message_size` alone. WebSocket-Node's separate 64 KiB
            frame limit (`maxReceivedFrameSize`) refused messages that its message limit
            allowed, a frequent surprise; set this only to refuse large frames on purpose.
        assemble_fragments: True to deliver whole messages; False to deliver every
            data frame as a [`Fragment`][wsframe.Fragment] as it arrives, still checked
            for UTF-8 and size. WebSocket-Node: `assembleFragments`.
        fragment_outgoing_messages: split outgoing messages longer than
            `fragmentation_threshold` into frames. WebSocket-Node: `fragmentOutgoingMessages`.
        fragmentation_threshold: the payload size of outgoing fragments, in bytes
            (default 64 KiB; WebSocket-Node: `fragmentationThreshold`, 16 KiB there).
        auto_pong: answer every ping with a pong automatically (RFC 6455 section 5.5.2).
            WebSocket-Node lets a `ping` listener cancel the pong; here set this False
            and call [`send_pong`][wsframe.Connection.send_pong] yourself.
    """

    max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE
    max_frame_size: int | None = None
    assemble_fragments: bool = True
    fragment_outgoing_messages: bool = True
    fragmentation_threshold: int = DEFAULT_FRAGMENTATION_THRESHOLD
    auto_pong: bool = True

    def __post_init__(self) -> None:
        for name in ("max_message_size", "max_frame_size"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise TypeError(f"{name} must be an int or None, not {value!r}")
            if value is not None and value < 0:
                raise ValueError(f"{name} must be non-negative or None, not {value!r}")
        threshold = self.fragmentation_threshold
        if not isinstance(threshold, int) or isinstance(threshold, bool):
            raise TypeError(f"fragmentation_threshold must be an int, not {threshold!r}")
        if threshold < 1:
            raise ValueError(f"fragmentation_threshold must be positive, not {threshold!r}")
        for name in ("assemble_fragments", "fragment_outgoing_messages", "auto_pong"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, not {getattr(self, name)!r}")

    @property
    def frame_limit(self) -> int | None:
        """The effective limit on one received frame's payload."""
        if self.max_frame_size is None:
            return self.max_message_size
        if self.max_message_size is None:
            return self.max_frame_size
        return min(self.max_frame_size, self.max_message_size)
