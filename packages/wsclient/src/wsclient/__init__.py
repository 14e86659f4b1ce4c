"""wsclient: the asyncio WebSocket client of wskit, built on the wsframe sans-IO core.

```python
import wsclient

async with wsclient.connect("wss://echo.example/", ["chat.v1"]) as ws:
    await ws.send("hello")
    reply = await ws.recv()
```

[`WebSocketClient`][wsclient.WebSocketClient] holds settings shared by several
connections (WebSocket-Node's `WebSocketClient`); [`connect`][wsclient.connect] is the
one-call shortcut; [`reconnecting`][wsclient.reconnecting] yields a new connection each
time the previous one ends, with backoff. Connections are
[`ClientConnection`][wsclient.ClientConnection] objects with the same API as the
server's (`send`, `recv`, ``async for``, `ping`, `close`).

[`W3CWebSocket`][wsclient.W3CWebSocket] is the browser's WebSocket interface
(`readyState`, `onmessage`, `addEventListener`, `bufferedAmount`...) on an asyncio
loop; `wsclient.sync` is a blocking client for scripts and notebooks
(``from wsclient.sync import connect``); ``python -m wsclient URL`` is a command-line
client like ``wscat``.

Exceptions (see `wsclient._errors` for the whole tree): `HandshakeFailed` when the
server answers with a status other than 101 (with status, headers and body), plain
`HandshakeError` / `NegotiationError` for an invalid 101, `ProxyError`, `OpenTimeout`,
`HandshakeInterrupted`, and the standard library's `OSError`s for network and TLS
failures.

The asyncio machinery is imported on first use, so ``import wsclient`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wsframe import (
    CloseCode,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    Fragment,
    HandshakeError,
    NegotiationError,
    WebSocketError,
)

from ._errors import HandshakeFailed, HandshakeInterrupted, OpenTimeout, ProxyError, RedirectError
from ._url import WebSocketURL, no_proxy_matches, parse_url, proxy_from_environment

if TYPE_CHECKING:
    from ._client import (
        DEFAULT_MAX_MESSAGE_SIZE,
        DEFAULT_MAX_REDIRECTS,
        DEFAULT_OPEN_TIMEOUT,
        DEFAULT_USER_AGENT,
        ClientConnection,
        Connect,
        WebSocketClient,
        connect,
    )
    from ._reconnect import backoff_delay, is_retryable, reconnecting
    from ._w3c import (
        Blob,
        CloseEvent,
        DOMException,
        DOMSyntaxError,
        ErrorEvent,
        Event,
        EventListener,
        InvalidAccessError,
        InvalidStateError,
        MessageEvent,
        W3CWebSocket,
    )

__all__ = [
    # _client
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_OPEN_TIMEOUT",
    "DEFAULT_USER_AGENT",
    "ClientConnection",
    "Connect",
    "WebSocketClient",
    "connect",
    # _reconnect
    "backoff_delay",
    "is_retryable",
    "reconnecting",
    # _w3c
    "W3CWebSocket",
    "Event",
    "MessageEvent",
    "ErrorEvent",
    "CloseEvent",
    "EventListener",
    "Blob",
    "DOMException",
    "InvalidStateError",
    "InvalidAccessError",
    "DOMSyntaxError",
    # _errors
    "HandshakeFailed",
    "HandshakeInterrupted",
    "OpenTimeout",
    "ProxyError",
    "RedirectError",
    # _url
    "WebSocketURL",
    "no_proxy_matches",
    "parse_url",
    "proxy_from_environment",
    # from wsframe
    "CloseCode",
    "ConnectionClosed",
    "ConnectionClosedError",
    "ConnectionClosedOK",
    "Fragment",
    "HandshakeError",
    "NegotiationError",
    "WebSocketError",
]

__version__ = "0.1.0.dev0"

_LAZY = {
    "DEFAULT_MAX_MESSAGE_SIZE": "._client",
    "DEFAULT_MAX_REDIRECTS": "._client",
    "DEFAULT_OPEN_TIMEOUT": "._client",
    "DEFAULT_USER_AGENT": "._client",
    "ClientConnection": "._client",
    "Connect": "._client",
    "WebSocketClient": "._client",
    "connect": "._client",
    "backoff_delay": "._reconnect",
    "is_retryable": "._reconnect",
    "reconnecting": "._reconnect",
    "W3CWebSocket": "._w3c",
    "Event": "._w3c",
    "MessageEvent": "._w3c",
    "ErrorEvent": "._w3c",
    "CloseEvent": "._w3c",
    "EventListener": "._w3c",
    "Blob": "._w3c",
    "DOMException": "._w3c",
    "InvalidStateError": "._w3c",
    "InvalidAccessError": "._w3c",
    "DOMSyntaxError": "._w3c",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name == "sync":  # the public submodule, reachable as an attribute once `wsclient` is imported
        return importlib.import_module(".sync", __name__)
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'wsclient' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
