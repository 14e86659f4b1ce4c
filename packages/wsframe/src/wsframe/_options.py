"""Options: the tunables of wsframe, wsserver and wsclient, and the one way to check them.

Every option of wskit is checked by the validators below, so that one mistake raises
one exception everywhere: `TypeError` for a value of the wrong type (a bool where an
int is expected included), `ValueError` for a value out of range, each naming the
option. Two frozen dataclasses hold the options that every driver shares:
[`ConnectionOptions`][wsframe.ConnectionOptions] those of the sans-IO frame connection,
[`DriverOptions`][wsframe.options.DriverOptions] the timers and flow control of an I/O
driver around it (wsframe.asyncio's connection, wsserver, wsclient).
"""

from __future__ import annotations

import dataclasses

__all__ = [
    "DEFAULT_CLIENT_MAX_MESSAGE_SIZE",
    "DEFAULT_CLOSE_TIMEOUT",
    "DEFAULT_FRAGMENTATION_THRESHOLD",
    "DEFAULT_KEEPALIVE_GRACE",
    "DEFAULT_KEEPALIVE_INTERVAL",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_MAX_QUEUE",
    "DEFAULT_OPEN_TIMEOUT",
    "DEFAULT_WRITE_LIMIT",
    "ConnectionOptions",
    "DriverOptions",
    "check_bool",
    "check_int",
    "check_number",
]

#: Default limit on a received message: 1 MiB, as the seed's server and `websockets`.
#: The server's default, and the sans-IO core's.
DEFAULT_MAX_MESSAGE_SIZE = 1024 * 1024

#: The client's default limit on a received message: 8 MiB, as WebSocket-Node's client.
#: It differs from [`DEFAULT_MAX_MESSAGE_SIZE`][wsframe.DEFAULT_MAX_MESSAGE_SIZE] on
#: purpose: a server holds thousands of connections from peers it does not know, so its
#: bound is multiplied by them; a client holds a few, to servers its user chose, and
#: code migrated from WebSocket-Node's client expects messages up to 8 MiB to arrive.
DEFAULT_CLIENT_MAX_MESSAGE_SIZE = 8 * 1024 * 1024

#: Default size of outgoing fragments: 64 KiB, the largest frame that WebSocket-Node's
#: default `maxReceivedFrameSize` accepts, so that a wskit peer never trips it.
DEFAULT_FRAGMENTATION_THRESHOLD = 64 * 1024

#: Seconds to open a connection: the server's whole opening handshake (the
#: application's decision included), the client's DNS, TCP, TLS, proxy, redirects and
#: handshake.
DEFAULT_OPEN_TIMEOUT = 10.0
#: Seconds to wait for the peer's close frame and TCP close once ours is sent (seed: 5 s).
DEFAULT_CLOSE_TIMEOUT = 5.0
#: Seconds without receiving anything before a keepalive ping (seed: 20 s).
DEFAULT_KEEPALIVE_INTERVAL = 20.0
#: Seconds to wait for any data after a keepalive ping before dropping the peer (seed: 10 s).
DEFAULT_KEEPALIVE_GRACE = 10.0
#: Received messages that may wait for the application before reading pauses.
DEFAULT_MAX_QUEUE = 16
#: Bytes in the transport's write buffer above which `send()` waits (the low mark is a quarter).
DEFAULT_WRITE_LIMIT = 64 * 1024


def check_int(name: str, value: object, *, minimum: int = 0, optional: bool = False) -> None:
    """Check an integer option.

    Args:
        name: the option's name, for the messages.
        value: the value given.
        minimum: the smallest value allowed.
        optional: whether None is allowed (a limit or a timer turned off).

    Raises:
        TypeError: `value` is not an int (a bool is not one here), nor None when `optional`.
        ValueError: `value` is below `minimum`.
    """
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int{' or None' if optional else ''}, not {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}{' or None' if optional else ''}, not {value!r}")


def check_number(
    name: str, value: object, *, minimum: float = 0.0, inclusive: bool = False, optional: bool = False
) -> None:
    """Check a number option, such as a duration in seconds.

    Args:
        name: the option's name, for the messages.
        value: the value given: an int or a float (NaN is out of every range).
        minimum: the bound of the range.
        inclusive: whether `minimum` itself is allowed; by default the value must be
            above it (a positive duration).
        optional: whether None is allowed (a timer turned off).

    Raises:
        TypeError: `value` is not an int or a float (a bool is not a number here), nor
            None when `optional`.
        ValueError: `value` is out of range.
    """
    if value is None and optional:
        return
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number{' or None' if optional else ''}, not {value!r}")
    if not (value >= minimum if inclusive else value > minimum):
        if minimum == 0:
            bound = "non-negative" if inclusive else "positive"
        else:
            bound = f"at least {minimum:g}" if inclusive else f"greater than {minimum:g}"
        raise ValueError(f"{name} must be {bound}{' or None' if optional else ''}, not {value!r}")


def check_bool(name: str, value: object) -> None:
    """Check a flag option.

    Raises:
        TypeError: `value` is not a bool.
    """
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {value!r}")


@dataclasses.dataclass(frozen=True, slots=True)
class ConnectionOptions:
    """Tunables of one connection, validated when built.

    Attributes:
        max_message_size: largest received message, in bytes, after decompression; a
            message above it fails the connection with 1009. The check uses the
            lengths announced in frame headers, before payloads are buffered. None means
            no limit (only for trusted peers). Default 1 MiB, the server's; the client's
            is 8 MiB ([`DEFAULT_CLIENT_MAX_MESSAGE_SIZE`][wsframe.options.DEFAULT_CLIENT_MAX_MESSAGE_SIZE]
            says why). WebSocket-Node: `maxReceivedMessageSize`.
        max_frame_size: largest received frame payload, in bytes, or None (the default)
            to bound frames by `max_message_size` alone. WebSocket-Node's separate 64 KiB
            frame limit (`maxReceivedFrameSize`) refused messages that its message limit
            allowed, a frequent surprise; set this only to refuse large frames on purpose.
        assemble_fragments: True to deliver whole messages; False to deliver every
            data frame as a [`Fragment`][wsframe.Fragment] as it arrives, still checked
            for UTF-8 and size. WebSocket-Node: `assembleFragments`.
        fragment_outgoing_messages: split outgoing messages longer than
            `fragmentation_threshold` into frames. WebSocket-Node: `fragmentOutgoingMessages`.
        fragmentation_threshold: the payload size of outgoing fragments, in bytes, at
            least 1 (default 64 KiB; WebSocket-Node: `fragmentationThreshold`, 16 KiB there).
        auto_pong: answer every ping with a pong automatically (RFC 6455 section 5.5.2).
            WebSocket-Node lets a `ping` listener cancel the pong; here set this False
            and call [`send_pong`][wsframe.Connection.send_pong] yourself.

    Raises:
        TypeError: an option of the wrong type; the message names it.
        ValueError: an option out of range; the message names it.
    """

    max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE
    max_frame_size: int | None = None
    assemble_fragments: bool = True
    fragment_outgoing_messages: bool = True
    fragmentation_threshold: int = DEFAULT_FRAGMENTATION_THRESHOLD
    auto_pong: bool = True

    def __post_init__(self) -> None:
        check_int("max_message_size", self.max_message_size, optional=True)
        check_int("max_frame_size", self.max_frame_size, optional=True)
        check_bool("assemble_fragments", self.assemble_fragments)
        check_bool("fragment_outgoing_messages", self.fragment_outgoing_messages)
        check_int("fragmentation_threshold", self.fragmentation_threshold, minimum=1)
        check_bool("auto_pong", self.auto_pong)

    @property
    def frame_limit(self) -> int | None:
        """The effective limit on one received frame's payload."""
        if self.max_frame_size is None:
            return self.max_message_size
        if self.max_message_size is None:
            return self.max_frame_size
        return min(self.max_frame_size, self.max_message_size)


@dataclasses.dataclass(frozen=True, slots=True)
class DriverOptions:
    """Timers and flow control of an I/O driver, validated when built.

    The sans-IO core reads no clock and holds no queue: these belong to the driver
    around it. wsframe.asyncio's `WebSocketConnection` checks its arguments with this
    class; wsserver and wsclient build one from their keyword arguments of the same
    names. Durations are in seconds, sizes in bytes; None turns a timer off.

    Attributes:
        open_timeout: seconds to open a connection (default 10). The server bounds the
            whole opening handshake with it, TLS and the application's decision
            included (408 or 503 after it); the client bounds DNS, TCP, TLS, the proxy,
            redirects and the handshake. None: no limit (not advised).
        close_timeout: seconds to wait for the closing handshake and the TCP close
            before the transport is aborted (default 5); None waits forever (not advised).
        keepalive_interval: seconds of silence from the peer before a ping is sent
            (default 20); None turns keepalive off.
        keepalive_grace: seconds to wait for any data after that ping before the
            connection is dropped with close code 1006 (default 10); None only pings.
        max_queue: received messages that may wait for the application before reading
            pauses (default 16, at least 1).
        write_limit: bytes in the transport's write buffer above which `send()` waits
            (default 64 KiB, at least 0); the server's `broadcast()` skips connections
            above it.

    Raises:
        TypeError: an option of the wrong type; the message names it.
        ValueError: an option out of range; the message names it.
    """

    open_timeout: float | None = DEFAULT_OPEN_TIMEOUT
    close_timeout: float | None = DEFAULT_CLOSE_TIMEOUT
    keepalive_interval: float | None = DEFAULT_KEEPALIVE_INTERVAL
    keepalive_grace: float | None = DEFAULT_KEEPALIVE_GRACE
    max_queue: int = DEFAULT_MAX_QUEUE
    write_limit: int = DEFAULT_WRITE_LIMIT

    def __post_init__(self) -> None:
        check_number("open_timeout", self.open_timeout, optional=True)
        check_number("close_timeout", self.close_timeout, optional=True)
        check_number("keepalive_interval", self.keepalive_interval, optional=True)
        check_number("keepalive_grace", self.keepalive_grace, optional=True)
        check_int("max_queue", self.max_queue, minimum=1)
        check_int("write_limit", self.write_limit, minimum=0)
