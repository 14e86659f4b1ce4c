"""`W3CWebSocket`: the WHATWG WebSocket interface on an asyncio loop.

For code ported from browsers or from WebSocket-Node's `W3CWebSocket`::

    ws = W3CWebSocket("wss://echo.example/chat", ["chat.v1"])
    ws.onopen = lambda event: ws.send("hello")
    ws.onmessage = lambda event: print(event.data)
    ws.onclose = lambda event: print("closed", event.code, event.reason, event.wasClean)
    await ws.wait_closed()

The object is a thin facade over [`WebSocketClient`][wsclient.WebSocketClient] and
[`ClientConnection`][wsclient.ClientConnection]: one task opens the connection,
dispatches `open`, one `message` event per message, then `error` (when the connection
failed) and `close`, exactly once. A second task writes what `send()` queued, in
order, waiting while the transport's buffer is full: `bufferedAmount` counts the
bytes still waiting, as the standard wants (WebSocket-Node always reports 0).

Names follow the standard (`readyState`, `binaryType`, `addEventListener`,
`wasClean`) so that ported code reads the same; the Python additions are snake_case
(`wait_open`, `wait_closed`, `connection`).
"""

from __future__ import annotations

import asyncio
import builtins
import collections
import inspect
import sys
import time
import types
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, Protocol, TypeAlias, runtime_checkable

from wsframe import ConnectionClosed, InvalidState, State, WebSocketError
from wsframe.http import HeadersLike, is_token

from ._client import ClientConnection, WebSocketClient, split_arguments
from ._url import WebSocketURL, parse_url

if TYPE_CHECKING:
    from collections.abc import Callable

    if sys.version_info >= (3, 11):
        from typing import Self
    else:  # pragma: no cover
        from typing_extensions import Self

__all__ = [
    "Blob",
    "CloseEvent",
    "DOMException",
    "DOMSyntaxError",
    "ErrorEvent",
    "Event",
    "EventListener",
    "InvalidAccessError",
    "InvalidStateError",
    "MessageEvent",
    "W3CWebSocket",
]

BinaryType: TypeAlias = Literal["arraybuffer", "blob"]

#: The values `binaryType` accepts.
BINARY_TYPES: Final = ("arraybuffer", "blob")


# ---------------------------------------------------------------- exceptions


class DOMException(WebSocketError):
    """Root of the exceptions the standard names after `DOMException`.

    Attributes:
        name: the standard's name of the error (``"InvalidStateError"``, ...).
    """

    name: ClassVar[str] = "Error"


class InvalidStateError(DOMException, InvalidState):
    """`send()` was called before the connection was open (the standard's ``InvalidStateError``)."""

    name = "InvalidStateError"


class InvalidAccessError(DOMException, ValueError):
    """`close()` got a code other than 1000 or 3000-4999 (the standard's ``InvalidAccessError``)."""

    name = "InvalidAccessError"


class DOMSyntaxError(DOMException, ValueError):
    """An invalid URL, subprotocol list, close reason or `binaryType` (the standard's ``SyntaxError``).

    Not Python's built-in `SyntaxError`, which means invalid Python source: this is a
    `ValueError`.
    """

    name = "SyntaxError"


# -------------------------------------------------------------------- events


class Event:
    """An event dispatched by a [`W3CWebSocket`][wsclient.W3CWebSocket] (the DOM `Event`).

    Args:
        type: the event type, such as ``"open"``.
        cancelable: whether `preventDefault()` has an effect (False for every event
            the WebSocket itself fires).

    Attributes:
        type: the event type.
        target: the object the event was dispatched at, once dispatched.
        currentTarget: the object whose listeners are running, during dispatch.
        cancelable: as above.
        defaultPrevented: True once `preventDefault()` was called on a cancelable event.
        timeStamp: when the event was created, in milliseconds since the epoch.
    """

    def __init__(self, type: str, *, cancelable: bool = False) -> None:
        if not isinstance(type, str):
            raise TypeError(f"event type must be a str, not {type!r}")
        self.type = type
        self.target: Any = None
        self.currentTarget: Any = None
        self.cancelable = cancelable
        self.defaultPrevented = False
        self.timeStamp = time.time() * 1000.0
        self._stop = False

    @property
    def bubbles(self) -> bool:
        """Always False: a WebSocket has no parent to bubble to."""
        return False

    def preventDefault(self) -> None:
        """Set `defaultPrevented` if the event is cancelable."""
        if self.cancelable:
            self.defaultPrevented = True

    def stopPropagation(self) -> None:
        """Does nothing more than `stopImmediatePropagation` here: there is no propagation path."""

    def stopImmediatePropagation(self) -> None:
        """Call no further listeners for this event."""
        self._stop = True

    def _fields(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.type!r}{self._fields()}>"


class MessageEvent(Event):
    """A ``message`` event.

    Args:
        type: ``"message"``.
        data: the message: `str` for text, `bytes` (or a [`Blob`][wsclient.Blob] when
            `binaryType` is ``"blob"``) for binary.
        origin: the origin of the WebSocket's URL, such as ``"wss://echo.example"``.
        lastEventId: always ``""`` for WebSocket messages.

    Attributes:
        data: as above.
        origin: as above.
        lastEventId: as above.
    """

    def __init__(self, type: str, *, data: Any = None, origin: str = "", lastEventId: str = "") -> None:
        super().__init__(type)
        self.data = data
        self.origin = origin
        self.lastEventId = lastEventId

    def _fields(self) -> str:
        data = self.data
        if isinstance(data, (str, bytes)) and len(data) > 40:
            return f" data={data[:40]!r}... ({len(data)})"
        return f" data={data!r}"


class ErrorEvent(Event):
    """An ``error`` event, fired just before ``close`` when the connection failed.

    Browsers give no detail (privacy); Python code may want it, so the exception is
    attached.

    Args:
        type: ``"error"``.
        error: what failed: [`HandshakeFailed`][wsclient.HandshakeFailed] (with the
            status), an `OSError` (refused, TLS, timeout), a
            [`ConnectionClosed`][wsframe.ConnectionClosed] for a connection that ended
            without a clean closing handshake, ...
        message: a one-line description.

    Attributes:
        error: as above.
        message: as above.
    """

    def __init__(self, type: str, *, error: BaseException | None = None, message: str = "") -> None:
        super().__init__(type)
        self.error = error
        self.message = message

    def _fields(self) -> str:
        return f" message={self.message!r}"


class CloseEvent(Event):
    """The ``close`` event, fired once when the connection is closed.

    Args:
        type: ``"close"``.
        code: the close code: the server's (1005 when its close frame had none), 1006
            when the connection ended without a close frame or never opened.
        reason: the close reason, ``""`` if none.
        wasClean: True when the closing handshake completed (both close frames).

    Attributes:
        code: as above.
        reason: as above.
        wasClean: as above.
    """

    def __init__(self, type: str, *, code: int = 0, reason: str = "", wasClean: bool = False) -> None:
        super().__init__(type)
        self.code = code
        self.reason = reason
        self.wasClean = wasClean

    def _fields(self) -> str:
        return f" code={self.code} reason={self.reason!r} wasClean={self.wasClean}"


@runtime_checkable
class EventListener(Protocol):
    """An object with a `handleEvent(event)` method, accepted as a listener (the DOM `EventListener`)."""

    def handleEvent(self, event: Any) -> Any:
        """Handle `event`."""


Listener: TypeAlias = "Callable[[Any], Any] | EventListener"


class Blob:
    """Binary message data when `binaryType` is ``"blob"`` (an immutable bytes wrapper).

    Mirrors the browser `Blob` that JavaScript code reads with ``await blob.text()`` or
    ``await blob.arrayBuffer()``; ``bytes(blob)`` gets the data at once.

    Args:
        data: the bytes.
        type: a media type, ``""`` for WebSocket messages.

    Attributes:
        type: as above.
    """

    __slots__ = ("_data", "type")

    def __init__(self, data: bytes | bytearray | memoryview = b"", type: str = "") -> None:
        self._data = bytes(data)
        self.type = type

    @property
    def size(self) -> int:
        """The length in bytes."""
        return len(self._data)

    async def arrayBuffer(self) -> bytes:
        """The data, as `bytes`."""
        return self._data

    async def bytes(self) -> builtins.bytes:
        """The data, as `bytes`."""
        return self._data

    async def text(self) -> str:
        """The data decoded as UTF-8, invalid sequences replaced (as browsers do)."""
        return self._data.decode("utf-8", "replace")

    def __bytes__(self) -> builtins.bytes:
        return self._data

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Blob):
            return self._data == other._data and self.type == other.type
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._data, self.type))

    def __repr__(self) -> str:
        return f"<Blob size={len(self._data)}>"


class _Entry:
    """One registered listener; `handler` names the ``onX`` attribute it stands for."""

    __slots__ = ("callback", "handler", "once", "removed")

    def __init__(self, callback: Listener | None, *, once: bool = False, handler: str | None = None) -> None:
        self.callback = callback
        self.once = once
        self.handler = handler
        self.removed = False


class _Close:
    """The closing handshake, queued after the messages sent before `close()`."""

    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason


#: Running W3CWebSocket tasks: the event loop only keeps weak references to tasks.
_running: set[asyncio.Task[None]] = set()


def _check_listener(listener: object, what: str) -> None:
    if not (callable(listener) or isinstance(listener, EventListener)):
        raise TypeError(f"{what} must be callable or have a handleEvent method, not {listener!r}")


def _parse_w3c_url(url: str) -> WebSocketURL:
    """The standard's URL steps: http(s) become ws(s); anything else invalid is a SyntaxError."""
    if not isinstance(url, str):
        raise TypeError(f"url must be a str, not {type(url).__name__}")
    stripped = url.strip()
    scheme, sep, rest = stripped.partition(":")
    mapped = {"http": "ws", "https": "wss"}.get(scheme.lower())
    if sep and mapped is not None:
        stripped = f"{mapped}:{rest}"
    try:
        return parse_url(stripped)
    except ValueError as exc:
        raise DOMSyntaxError(str(exc)) from None


def _parse_w3c_protocols(protocols: str | Sequence[str] | None) -> tuple[str, ...]:
    if protocols is None:
        return ()
    if isinstance(protocols, str):
        protocols = [protocols]
    result = tuple(protocols)
    for name in result:
        if not isinstance(name, str):
            raise TypeError(f"subprotocols must be str, not {name!r}")
        if not is_token(name):
            raise DOMSyntaxError(f"subprotocol {name!r} is not a token")
    if len(set(result)) != len(result):
        raise DOMSyntaxError("subprotocols must be distinct")
    return result


class W3CWebSocket:
    """The WHATWG `WebSocket` interface, on the running asyncio loop (WebSocket-Node's `W3CWebSocket`).

    Create it inside a running event loop: it starts connecting at once, in a task,
    and reports through events. Use it from that loop's thread only (it is not
    thread-safe; see `wsclient.sync` for threads). Listeners (``onopen`` ... and `addEventListener`) are
    plain functions or coroutine functions: a coroutine is scheduled as a task, so
    events never wait for it (an exception it raises goes to the loop's exception
    handler, as does one raised by a plain listener; the other listeners still run).

    Listeners of one event run in registration order; an ``onX`` handler takes the
    place where it was first set (to something other than None), as the standard's
    event handler attributes do; setting it to None removes it, setting it again
    appends it.

    Events, in this order: ``open``; one ``message`` per message (empty text messages
    included); then, only when the connection failed (the opening failed, or it ended
    without a clean closing handshake), ``error`` (an [`ErrorEvent`][wsclient.ErrorEvent]
    carrying the exception); finally ``close`` (a [`CloseEvent`][wsclient.CloseEvent]),
    exactly once. `readyState` is already `CLOSED` when ``error`` and ``close`` run.

    Args:
        url: ``ws://`` or ``wss://`` URL (``http://`` and ``https://`` are mapped to
            them, as the standard does); no fragment.
        protocols: subprotocols to offer: a token or a sequence of distinct tokens.
        origin: the `Origin` header; none by default.
        headers: extra request headers (cookies, authorization...).
        client: a [`WebSocketClient`][wsclient.WebSocketClient] whose settings (limits,
            timeouts, compression...) to use; it must assemble fragments.
        **kwargs: settings for a new `WebSocketClient` (when `client` is None) and the
            keyword-only arguments of
            [`WebSocketClient.connect`][wsclient.WebSocketClient.connect] (`ssl`,
            `server_hostname`, `unix_socket`, `proxy`, `proxy_ssl`).

    Raises:
        DOMSyntaxError: an invalid URL, or subprotocols that are not distinct tokens.
        RuntimeError: no event loop is running in this thread.
        ValueError: an invalid origin, header or setting.
        TypeError: an argument of the wrong type; client settings with `client`.

    Attributes:
        CONNECTING: 0, also on the class.
        OPEN: 1.
        CLOSING: 2.
        CLOSED: 3.
    """

    # The W3C numbers, derived from the one state enum of every wskit connection.
    CONNECTING: Final = int(State.CONNECTING)
    OPEN: Final = int(State.OPEN)
    CLOSING: Final = int(State.CLOSING)
    CLOSED: Final = int(State.CLOSED)

    _EVENT_TYPES: ClassVar[tuple[str, ...]] = ("open", "message", "error", "close")

    def __init__(
        self,
        url: str,
        protocols: str | Sequence[str] | None = None,
        *,
        origin: str | None = None,
        headers: HeadersLike | None = None,
        client: WebSocketClient | None = None,
        **kwargs: Any,
    ) -> None:
        self._url = _parse_w3c_url(url)
        self._protocols = _parse_w3c_protocols(protocols)
        loop = asyncio.get_running_loop()  # RuntimeError outside a running loop
        client_kwargs, connect_kwargs = split_arguments(kwargs)
        if client is None:
            if client_kwargs.get("assemble_fragments") is False:
                raise ValueError("W3CWebSocket delivers whole messages: assemble_fragments must be True")
            client_kwargs["assemble_fragments"] = True
            client = WebSocketClient(**client_kwargs)
        elif client_kwargs:
            raise TypeError(f"client settings {sorted(client_kwargs)} given together with client")
        elif not isinstance(client, WebSocketClient):
            raise TypeError(f"client must be a WebSocketClient, not {client!r}")
        elif not client.options.assemble_fragments:
            raise ValueError("W3CWebSocket delivers whole messages: the client must assemble fragments")
        if origin is not None and not isinstance(origin, str):
            raise TypeError(f"origin must be a str, not {origin!r}")
        from wsframe import Headers

        request_headers = Headers(headers) if headers is not None else Headers()
        if origin is not None:
            Headers([("Origin", origin)])  # validates: ValueError on CR/LF

        self.client = client
        """The client that opens the connection."""
        self.connection: ClientConnection | None = None
        """The underlying connection, once open (for `ping()`, `latency`, `response`...)."""
        self._origin = origin
        self._headers = request_headers
        self._connect_kwargs = connect_kwargs
        self._loop = loop
        self._ready = self.CONNECTING
        self._protocol = ""
        self._extensions = ""
        self._message_origin = f"{self._url.scheme}://{self._url.host_header}"
        self._binary_type: BinaryType = "arraybuffer"
        self._listeners: dict[str, list[_Entry]] = {}
        self._handlers: dict[str, Listener | None] = {}
        self._listener_tasks: set[asyncio.Future[Any]] = set()
        # Sending: messages not yet handed to the connection, and their size.
        self._outbox: collections.deque[tuple[str | bytes | _Close, int]] = collections.deque()
        self._pending_bytes = 0
        self._unsendable_bytes = 0  # sent while CLOSING/CLOSED, or left over at the close
        self._wakeup = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        # Closing
        self._abort_requested = False
        self._failure: BaseException | None = None
        self._opened: asyncio.Future[None] = loop.create_future()
        self._closed: asyncio.Future[CloseEvent] = loop.create_future()
        self._connecting: asyncio.Task[ClientConnection] = loop.create_task(
            client.connect(self._url, self._protocols, origin, request_headers, **connect_kwargs)
        )
        task = loop.create_task(self._run())
        _running.add(task)
        task.add_done_callback(_running.discard)
        self._task = task

    # ---------------------------------------------------------- attributes

    @property
    def url(self) -> str:
        """The URL, as parsed (``http`` mapped to ``ws``, without credentials)."""
        return str(self._url)

    @property
    def readyState(self) -> int:
        """CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3).

        CLOSING from `close()`, or once the messages that came before the server's
        close frame (or the end of the connection) were dispatched; CLOSED when the
        ``close`` event is dispatched.
        """
        return self._ready

    @property
    def protocol(self) -> str:
        """The subprotocol the server chose; ``""`` before the connection is open or if none."""
        return self._protocol

    @property
    def extensions(self) -> str:
        """The server's `Sec-WebSocket-Extensions` value; ``""`` before the connection is open or if none."""
        return self._extensions

    @property
    def binaryType(self) -> BinaryType:
        """How binary messages are delivered: ``"arraybuffer"`` (the default) as `bytes`, ``"blob"`` as `Blob`.

        Setting another value raises [`DOMSyntaxError`][wsclient.DOMSyntaxError] (a
        `ValueError`); the standard ignores it, WebSocket-Node throws.
        """
        return self._binary_type

    @binaryType.setter
    def binaryType(self, value: BinaryType) -> None:
        if value not in BINARY_TYPES:
            raise DOMSyntaxError(f"binaryType must be 'arraybuffer' or 'blob', not {value!r}")
        self._binary_type = value

    @property
    def bufferedAmount(self) -> int:
        """Bytes that `send()` accepted and the network has not taken yet.

        The UTF-8 or binary size of messages still waiting to be handed to the
        connection, plus the bytes in the transport's write buffer (frames, after
        compression). Right after ``send(data)`` it has grown by the size of `data`.
        Once the connection is closing or closed, `send()` only adds to it.
        """
        amount = self._pending_bytes + self._unsendable_bytes
        connection = self.connection
        if connection is not None and self._ready != self.CLOSED:
            amount += connection.buffered_amount
        return amount

    # ------------------------------------------------------ event handlers

    def _get_handler(self, type: str) -> Listener | None:
        return self._handlers.get(type)

    def _set_handler(self, type: str, value: Listener | None) -> None:
        if value is not None:
            _check_listener(value, f"on{type}")
        old = self._handlers.get(type)
        self._handlers[type] = value
        entries = self._listeners.setdefault(type, [])
        if value is None:
            if old is not None:
                for entry in entries:
                    if entry.handler == type:
                        entry.removed = True
                self._listeners[type] = [entry for entry in entries if entry.handler != type]
        elif old is None:
            entries.append(_Entry(None, handler=type))

    @property
    def onopen(self) -> Listener | None:
        """Called with the ``open`` event; None by default."""
        return self._get_handler("open")

    @onopen.setter
    def onopen(self, value: Listener | None) -> None:
        self._set_handler("open", value)

    @property
    def onmessage(self) -> Listener | None:
        """Called with each ``message`` event (a [`MessageEvent`][wsclient.MessageEvent])."""
        return self._get_handler("message")

    @onmessage.setter
    def onmessage(self, value: Listener | None) -> None:
        self._set_handler("message", value)

    @property
    def onerror(self) -> Listener | None:
        """Called with the ``error`` event (an [`ErrorEvent`][wsclient.ErrorEvent])."""
        return self._get_handler("error")

    @onerror.setter
    def onerror(self, value: Listener | None) -> None:
        self._set_handler("error", value)

    @property
    def onclose(self) -> Listener | None:
        """Called with the ``close`` event (a [`CloseEvent`][wsclient.CloseEvent])."""
        return self._get_handler("close")

    @onclose.setter
    def onclose(self, value: Listener | None) -> None:
        self._set_handler("close", value)

    def addEventListener(self, type: str, listener: Listener | None, *, once: bool = False) -> None:
        """Call `listener(event)` for each event of `type`, after the listeners already there.

        Adding the same listener for the same type twice has no effect.

        Args:
            type: ``"open"``, ``"message"``, ``"error"``, ``"close"`` (or a type you
                dispatch yourself).
            listener: a function or coroutine function taking the event, or an object
                with a `handleEvent(event)` method; None does nothing.
            once: remove the listener before its first call.

        Raises:
            TypeError: `listener` is not callable.
        """
        if listener is None:
            return
        _check_listener(listener, "listener")
        entries = self._listeners.setdefault(type, [])
        for entry in entries:
            if entry.handler is None and entry.callback == listener:
                return
        entries.append(_Entry(listener, once=once))

    def removeEventListener(self, type: str, listener: Listener | None) -> None:
        """Remove a listener added with `addEventListener`; an unknown one is ignored.

        Args:
            type: the event type it was added for.
            listener: the listener.
        """
        entries = self._listeners.get(type)
        if not entries or listener is None:
            return
        for index, entry in enumerate(entries):
            if entry.handler is None and entry.callback == listener:
                entry.removed = True
                del entries[index]
                return

    def dispatchEvent(self, event: Event) -> bool:
        """Call the listeners of `event.type` with `event`, in order.

        Args:
            event: the event; its `target` becomes this object.

        Returns:
            False if a listener called `preventDefault()` on a cancelable event, else True.

        Raises:
            TypeError: `event` is not an [`Event`][wsclient.Event].
        """
        if not isinstance(event, Event):
            raise TypeError(f"dispatchEvent needs an Event, not {event!r}")
        event.target = self
        event.currentTarget = self
        event._stop = False
        try:
            for entry in list(self._listeners.get(event.type, ())):
                if entry.removed:
                    continue
                if entry.handler is not None:
                    callback = self._handlers.get(entry.handler)
                    if callback is None:  # pragma: no cover - the entry is removed with the handler
                        continue
                else:
                    callback = entry.callback
                    if entry.once:
                        self.removeEventListener(event.type, callback)
                self._call(callback, event)
                if event._stop:
                    break
        finally:
            event.currentTarget = None
        return not event.defaultPrevented

    def _call(self, callback: Listener | None, event: Event) -> None:
        try:
            if callable(callback):
                result = callback(event)
            elif isinstance(callback, EventListener):
                result = callback.handleEvent(event)
            else:  # pragma: no cover - checked when added
                return
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result, loop=self._loop)
                self._listener_tasks.add(task)
                task.add_done_callback(self._listener_done)
        except Exception as exc:
            self._report(exc, event)

    def _listener_done(self, task: asyncio.Future[Any]) -> None:
        self._listener_tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._report(exc, None)

    def _report(self, exc: BaseException, event: Event | None) -> None:
        kind = f" {event.type!r}" if event is not None else ""
        self._loop.call_exception_handler(
            {"message": f"exception in a{kind} listener of {self!r}", "exception": exc, "websocket": self}
        )

    # ------------------------------------------------------------- methods

    def send(self, data: str | bytes | bytearray | memoryview | Blob) -> None:
        """Queue a message: text for `str`, binary for bytes-like data or a `Blob`.

        Returns at once; `bufferedAmount` tells how much is still waiting. Bytes-like
        data is copied, so the caller may reuse its buffer.

        When the connection is closing or closed, the message is dropped and only
        `bufferedAmount` grows, as the standard says (no exception). Lone surrogates
        in a `str` are sent as U+FFFD, as the standard's USVString conversion does.

        Raises:
            InvalidStateError: the connection is not open yet (CONNECTING).
            TypeError: `data` is of another type.
        """
        state = self.readyState
        if state == self.CONNECTING:
            raise InvalidStateError("still in CONNECTING state")
        item: str | bytes
        if isinstance(data, str):
            try:
                size = len(data.encode())
            except UnicodeEncodeError:
                # A USVString in the standard: lone surrogates become U+FFFD.
                data = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in data)
                size = len(data.encode())
            item = data
        elif isinstance(data, (bytes, bytearray, memoryview, Blob)):
            item = bytes(data)
            size = len(item)
        else:
            raise TypeError(f"data must be str, bytes-like or Blob, not {type(data).__name__}")
        if state != self.OPEN:
            self._unsendable_bytes += size
            return
        self._outbox.append((item, size))
        self._pending_bytes += size
        self._wakeup.set()

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Start closing the connection; the ``close`` event tells when it is done.

        While connecting, the opening is abandoned: ``error`` then ``close`` with 1006
        follow. When open, the messages sent before go out first, then the close
        frame. Closing or closed: nothing happens.

        Without a code, 1000 is sent (the standard sends a close frame without a code,
        which servers report as 1005; 1000 is what WebSocket-Node and most clients send).

        Args:
            code: 1000, or an application code from 3000 to 4999.
            reason: at most 123 bytes of UTF-8.

        Raises:
            InvalidAccessError: any other code (a `ValueError`).
            DOMSyntaxError: a reason over 123 bytes (a `ValueError`).
            TypeError: a code that is not an int, a reason that is not a str.
        """
        if code is not None:
            if isinstance(code, bool) or not isinstance(code, int):
                raise TypeError(f"close code must be an int, not {code!r}")
            if code != 1000 and not 3000 <= code <= 4999:
                raise InvalidAccessError(f"close code must be 1000 or 3000-4999, not {code}")
        if reason is not None:
            if not isinstance(reason, str):
                raise TypeError(f"close reason must be a str, not {reason!r}")
            size = len(reason.encode("utf-8", "surrogatepass"))
            if size > 123:
                raise DOMSyntaxError(f"close reason is {size} bytes of UTF-8; at most 123 are allowed")
        state = self.readyState
        if state in (self.CLOSING, self.CLOSED):
            return
        self._ready = self.CLOSING
        if state == self.CONNECTING:
            self._abort_requested = True
            self._connecting.cancel()
            return
        self._outbox.append((_Close(1000 if code is None else code, reason or ""), 0))
        self._wakeup.set()

    # ---------------------------------------------------- Python additions

    async def wait_open(self) -> None:
        """Wait until the connection is open.

        Raises:
            Exception: why the connection could not open: `HandshakeFailed`, an
                `OSError`, `OpenTimeout`... or
                [`ConnectionClosed`][wsframe.ConnectionClosed] (1006) after `close()`.
        """
        await asyncio.shield(self._opened)

    async def wait_closed(self) -> CloseEvent:
        """Wait until the ``close`` event was dispatched.

        Returns:
            The ``close`` event (code, reason, wasClean).
        """
        return await asyncio.shield(self._closed)

    def __await__(self) -> Generator[Any, None, Self]:
        """``ws = await W3CWebSocket(url)``: wait until the connection is open (see `wait_open`)."""
        yield from self.wait_open().__await__()
        return self

    async def __aenter__(self) -> Self:
        """Wait until open; `close()` and `wait_closed()` when the block ends."""
        await self.wait_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.close()
        await self.wait_closed()

    def __repr__(self) -> str:
        names = ("CONNECTING", "OPEN", "CLOSING", "CLOSED")
        return f"<W3CWebSocket {self.url} {names[self.readyState]}>"

    # ------------------------------------------------------------ the task

    async def _run(self) -> None:
        close_event: CloseEvent | None = None
        try:
            try:
                connection = await self._connecting
            except BaseException as exc:
                if isinstance(exc, asyncio.CancelledError) and not self._abort_requested:
                    raise  # this task was cancelled (the loop is shutting down)
                if self._abort_requested:
                    error: BaseException = ConnectionClosed.for_close(
                        1006, "closed before the connection was established", was_clean=False
                    )
                    message = "closed before the connection was established"
                else:
                    error = exc
                    message = str(exc) or type(exc).__name__
                self._fail_opening(error)
                close_event = CloseEvent("close", code=1006, reason="", wasClean=False)
                self._finish(ErrorEvent("error", error=error, message=message), close_event)
                return
            if self._abort_requested:  # close() came after the handshake completed, before this step
                connection.abort("closed before the connection was established")
                error = ConnectionClosed.for_close(
                    1006, "closed before the connection was established", was_clean=False
                )
                self._fail_opening(error)
                await connection.wait_closed()
                close_event = CloseEvent("close", code=1006, reason="", wasClean=False)
                self._finish(ErrorEvent("error", error=error, message=str(error)), close_event)
                return
            self.connection = connection
            self._protocol = connection.subprotocol or ""
            response = connection.response
            if response is not None:
                self._extensions = ", ".join(response.headers.get_all("Sec-WebSocket-Extensions"))
            try:
                final = parse_url(connection.url)  # after redirects
                self._message_origin = f"{final.scheme}://{final.host_header}"
            except ValueError:  # pragma: no cover - the client made it
                pass
            self._ready = self.OPEN
            self._opened.set_result(None)
            self._writer = self._loop.create_task(self._write_loop(connection))
            self.dispatchEvent(Event("open"))
            closed = await self._read_loop(connection)
            close_event = CloseEvent("close", code=closed.code, reason=closed.reason, wasClean=closed.was_clean)
            error_event = None
            if not closed.was_clean:
                error_event = ErrorEvent("error", error=closed, message=str(closed))
            self._finish(error_event, close_event)
        finally:
            if close_event is None:  # cancelled from outside: still end as the standard says
                self._connecting.cancel()
                if self.connection is not None:
                    self.connection.abort()
                self._fail_opening(ConnectionClosed.for_close(1006, "cancelled", was_clean=False))
                self._finish(None, CloseEvent("close", code=1006, reason="", wasClean=False))

    def _fail_opening(self, error: BaseException) -> None:
        self._failure = error
        if not self._opened.done():
            self._opened.set_exception(error)
            self._opened.exception()  # retrieved: nobody has to call wait_open()

    async def _read_loop(self, connection: ClientConnection) -> ConnectionClosed:
        """Dispatch messages until the connection is closed; return how it ended."""
        ended = False
        while True:
            try:
                message = await connection.recv()
            except ConnectionClosed as exc:
                if ended:
                    return exc
                if self._ready == self.OPEN:
                    self._ready = self.CLOSING
                # The peer's close frame or the failure is known; wait for the TCP close
                # (the standard's "connection is closed"), then read the final outcome.
                await connection.wait_closed()
                ended = True
                continue
            if isinstance(message, str):
                data: Any = message
            elif self._binary_type == "blob":
                data = Blob(message)
            else:
                data = message
            self.dispatchEvent(MessageEvent("message", data=data, origin=self._message_origin))

    async def _write_loop(self, connection: ClientConnection) -> None:
        """Hand queued messages to the connection in order; then the close frame."""
        outbox = self._outbox
        wakeup = self._wakeup
        while True:
            while not outbox:
                wakeup.clear()
                await wakeup.wait()
            item, size = outbox.popleft()
            if isinstance(item, _Close):
                try:
                    await connection.close(item.code, item.reason)
                except ConnectionClosed:  # pragma: no cover - close() only waits once closed
                    pass
                return
            # send() hands the frames to the transport before its first await: from here
            # on they count in the transport's write buffer instead.
            self._pending_bytes -= size
            try:
                await connection.send(item)
            except ConnectionClosed:
                self._unsendable_bytes += size
                return

    def _finish(self, error_event: ErrorEvent | None, close_event: CloseEvent) -> None:
        """The standard's "the WebSocket connection is closed": CLOSED, error, close."""
        if self._closed.done():
            return
        self._ready = self.CLOSED
        # What was not handed over will never be: it stays counted in bufferedAmount.
        self._unsendable_bytes += self._pending_bytes
        self._pending_bytes = 0
        self._outbox.clear()
        writer = self._writer
        if writer is not None and not writer.done():
            writer.cancel()
        try:
            if error_event is not None:
                self.dispatchEvent(error_event)
            self.dispatchEvent(close_event)
        finally:
            self._closed.set_result(close_event)
