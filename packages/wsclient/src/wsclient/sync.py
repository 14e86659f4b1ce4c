"""A blocking WebSocket client, for scripts and notebooks: no asyncio in your code.

```python
from wsclient.sync import connect

with connect("wss://echo.example/chat", ["chat.v1"]) as ws:
    ws.send("hello")
    print(ws.recv(timeout=5))
    for message in ws:  # until the server closes normally
        print(message)
```

It is the asyncio client (same handshake, TLS, proxies, redirects, compression,
keepalive, limits) running on one background event loop thread per process, started
on first use (a daemon thread named ``wsclient.sync``; at exit, connections still
open get a 1001 close, bounded to one second in all). Each blocking call hands a
coroutine to that loop and waits for it. So it works where a loop already runs in the
calling thread, as in Jupyter, and from any number of threads.

A [`SyncConnection`][wsclient.sync.SyncConnection] may be used by one sending thread
and one receiving thread at the same time (two threads in `recv()` at once raise
[`InvalidState`][wsframe.InvalidState]). Do not call it from the loop thread itself
(from a callback of the asyncio connection): that raises `RuntimeError` instead of
deadlocking.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import sys
import threading
import types
import weakref
from collections.abc import Coroutine, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from wsframe import ConnectionClosedOK, State
from wsframe.asyncio import Data
from wsframe.http import HeadersLike, HttpResponse

from ._client import ClientConnection, WebSocketClient, split_arguments

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from typing import Self
    else:  # pragma: no cover
        from typing_extensions import Self

__all__ = ["SyncConnection", "connect"]

_T = TypeVar("_T")

#: Seconds allowed at exit for closing the connections still open.
EXIT_CLOSE_TIMEOUT = 1.0


class _LoopThread:
    """The background event loop shared by every blocking connection of the process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.pid = 0
        self.connections: weakref.WeakSet[ClientConnection] = weakref.WeakSet()
        self.registered = False

    def get(self) -> asyncio.AbstractEventLoop:
        """The running loop, started if needed (again after a fork)."""
        with self.lock:
            loop, thread = self.loop, self.thread
            if loop is not None and thread is not None and thread.is_alive() and self.pid == os.getpid():
                return loop
            loop = asyncio.new_event_loop()
            started = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(started.set)
                try:
                    loop.run_forever()
                finally:
                    try:
                        loop.run_until_complete(loop.shutdown_asyncgens())
                    finally:
                        loop.close()

            thread = threading.Thread(target=run, name="wsclient.sync", daemon=True)
            thread.start()
            started.wait()
            self.loop, self.thread, self.pid = loop, thread, os.getpid()
            self.connections = weakref.WeakSet()
            if not self.registered:
                atexit.register(self.shutdown)
                self.registered = True
            return loop

    def shutdown(self) -> None:
        """Close the connections still open (1001, bounded), then stop the loop."""
        with self.lock:
            loop, thread = self.loop, self.thread
            self.loop = self.thread = None
        if loop is None or thread is None or not thread.is_alive() or self.pid != os.getpid():
            return
        connections = list(self.connections)

        async def close_all() -> None:
            if connections:
                closing = [asyncio.ensure_future(connection.close(1001)) for connection in connections]
                _, pending = await asyncio.wait(closing, timeout=EXIT_CLOSE_TIMEOUT)
                for connection in connections:
                    connection.abort()
                for future in pending:
                    future.cancel()

        try:
            asyncio.run_coroutine_threadsafe(close_all(), loop).result(EXIT_CLOSE_TIMEOUT + 1.0)
        except Exception:
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(EXIT_CLOSE_TIMEOUT)


_loop_thread = _LoopThread()


def _run(coroutine: Coroutine[Any, Any, _T], loop: asyncio.AbstractEventLoop | None = None) -> _T:
    """Run `coroutine` on the background loop and wait for its result in this thread."""
    if loop is None:
        loop = _loop_thread.get()
    if threading.current_thread() is _loop_thread.thread:
        coroutine.close()
        raise RuntimeError("the blocking client cannot be called from its own event loop thread")
    future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    try:
        return future.result()
    except concurrent.futures.CancelledError:
        raise ConnectionError("the background event loop stopped") from None
    except BaseException:
        # KeyboardInterrupt in this thread: stop the operation on the loop too.
        future.cancel()
        raise


async def _with_timeout(awaitable: Coroutine[Any, Any, _T], timeout: float | None) -> _T:
    if timeout is None:
        return await awaitable
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(timeout):
            return await awaitable
    else:  # pragma: no cover - Python 3.10
        # Not asyncio.wait_for: on 3.10 a timeout of 0 never starts the awaitable, and a
        # result that arrives as the timeout fires is dropped (a lost message).
        task = asyncio.ensure_future(awaitable)
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if task not in done:
            task.cancel()
            try:
                return await task  # it may have finished meanwhile: keep its result
            except asyncio.CancelledError:
                raise TimeoutError from None
        return task.result()


class SyncConnection:
    """A blocking WebSocket connection (what [`connect`][wsclient.sync.connect] returns).

    A context manager that closes the connection on exit, and an iterator over
    messages that ends when the connection closes normally (1000 or 1001).

    Attributes:
        connection: the asyncio [`ClientConnection`][wsclient.ClientConnection] it
            drives, living on the background loop (for reading attributes; call its
            coroutines with care, on that loop).
    """

    def __init__(self, connection: ClientConnection, loop: asyncio.AbstractEventLoop) -> None:
        self.connection = connection
        self._loop = loop

    # ---------------------------------------------------------- attributes

    @property
    def url(self) -> str:
        """The URL of the connection, after redirects, without credentials."""
        return self.connection.url

    @property
    def response(self) -> HttpResponse | None:
        """The server's ``101 Switching Protocols`` response."""
        return self.connection.response

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the server chose, or None."""
        return self.connection.subprotocol

    @property
    def extensions(self) -> list[str]:
        """Names of the negotiated extensions, such as ``["permessage-deflate"]``."""
        return self.connection.extensions

    @property
    def state(self) -> State:
        """OPEN, CLOSING or CLOSED."""
        return self.connection.state

    @property
    def close_code(self) -> int | None:
        """The close code once closed (1005: none given, 1006: connection lost), else None."""
        return self.connection.close_code

    @property
    def close_reason(self) -> str | None:
        """The close reason once closed, else None."""
        return self.connection.close_reason

    @property
    def latency(self) -> float | None:
        """Seconds of the last ping's round trip (keepalive or `ping()`), once measured."""
        return self.connection.latency

    # ------------------------------------------------------------- methods

    def send(self, message: str | bytes | bytearray | memoryview) -> None:
        """Send a message: text for `str`, binary for bytes-like data.

        Returns once the message is handed to the network; blocks while the write
        buffer is full (a slow server slows the sender down).

        Raises:
            ConnectionClosed: the connection is closing or closed.
            TypeError: `message` is neither str nor bytes-like.
        """
        _run(self.connection.send(message), self._loop)

    def recv(self, timeout: float | None = None) -> Data:
        """Wait for the next message: `str` for text, `bytes` for binary.

        Args:
            timeout: seconds to wait at most; None waits as long as it takes, 0 only
                takes a message that is already there.

        Returns:
            The message.

        Raises:
            TimeoutError: no message arrived within `timeout` (the connection stays
                usable; no message is lost).
            ConnectionClosed: the connection is closed and every message was read.
        """
        return _run(_with_timeout(self.connection.recv(), timeout), self._loop)

    def __iter__(self) -> Iterator[Data]:
        """Yield messages until the connection closes normally (1000 or 1001).

        Any other ending raises [`ConnectionClosedError`][wsframe.ConnectionClosedError].
        """
        while True:
            try:
                yield self.recv()
            except ConnectionClosedOK:
                return

    def ping(self, data: bytes = b"", *, timeout: float | None = None) -> float:
        """Send a ping and wait for its pong.

        Args:
            data: the payload, at most 125 bytes; pings are matched to pongs by it.
            timeout: seconds to wait for the pong at most; None waits until it comes
                or the connection closes.

        Returns:
            The round-trip time in seconds.

        Raises:
            TimeoutError: no pong within `timeout`.
            ConnectionClosed: the connection is closed.
            ValueError: `data` is longer than 125 bytes.
        """

        async def ping() -> float:
            pong = await self.connection.ping(data)
            return await _with_timeout(_wait(pong), timeout)

        return _run(ping(), self._loop)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection and wait until it is closed (at most `close_timeout`).

        Args:
            code: the close code.
            reason: the close reason, at most 123 bytes of UTF-8.

        Raises:
            ValueError: a code that may not be sent, or a reason too long.
        """
        _run(self.connection.close(code, reason), self._loop)

    def abort(self) -> None:
        """Drop the connection at once, without a closing handshake (close code 1006)."""
        self._loop.call_soon_threadsafe(self.connection.abort)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        """Close the connection (1000) when the `with` block ends."""
        self.close()

    def __repr__(self) -> str:
        return f"<SyncConnection {self.connection.id} {self.state.name} {self.url}>"


async def _wait(future: asyncio.Future[float]) -> float:
    return await future


def connect(
    url: str,
    protocols: str | Sequence[str] | None = None,
    origin: str | None = None,
    headers: HeadersLike | None = None,
    *,
    client: WebSocketClient | None = None,
    **kwargs: Any,
) -> SyncConnection:
    """Open a WebSocket connection and return it once open (blocking).

    Example:
        ```python
        with connect("ws://127.0.0.1:8080/") as ws:
            ws.send("hello")
            print(ws.recv())
        ```

    Args:
        url: ``ws://`` or ``wss://`` URL.
        protocols: subprotocols to offer, preferred first.
        origin: the `Origin` header, if any.
        headers: extra request headers.
        client: a [`WebSocketClient`][wsclient.WebSocketClient] whose settings to use
            instead of `kwargs`' client settings.
        **kwargs: settings of a new [`WebSocketClient`][wsclient.WebSocketClient]
            (`max_message_size`, `open_timeout`, `permessage_deflate`, ...) and the
            keyword-only arguments of
            [`WebSocketClient.connect`][wsclient.WebSocketClient.connect] (`ssl`,
            `server_hostname`, `unix_socket`, `proxy`, `proxy_ssl`).

    Returns:
        The open connection.

    Raises:
        HandshakeFailed: the server answered with a status other than 101.
        OSError: the network failed (refused, DNS, TLS, `OpenTimeout`...).
        WebSocketError: the other failures of
            [`WebSocketClient.connect`][wsclient.WebSocketClient.connect].
        TypeError: an unknown keyword argument, a setting of the wrong type; client
            settings with `client`.
        ValueError: an invalid argument.
    """
    client_kwargs, connect_kwargs = split_arguments(kwargs)
    if client is None:
        client = WebSocketClient(**client_kwargs)
    elif client_kwargs:
        raise TypeError(f"client settings {sorted(client_kwargs)} given together with client")
    elif not isinstance(client, WebSocketClient):
        raise TypeError(f"client must be a WebSocketClient, not {client!r}")
    loop = _loop_thread.get()
    opener = client

    async def opening() -> ClientConnection:
        connection = await opener.connect(url, protocols, origin, headers, **connect_kwargs)
        _loop_thread.connections.add(connection)
        return connection

    return SyncConnection(_run(opening(), loop), loop)
