"""wsrouter: mount WebSocket handlers by path and subprotocol on a wsserver server.

The Python home of WebSocket-Node's `WebSocketRouter`: one server, many applications,
each mounted at a path (exact, ``"*"``, ``"/rooms/{room}"`` or a regular expression)
and a subprotocol (exact, ``"*"`` or none).
"""

from __future__ import annotations

from ._router import ANY, NO_PROTOCOL, Route, RoutedRequest, RouteHandler, WebSocketRouter

__all__ = ["ANY", "NO_PROTOCOL", "Route", "RouteHandler", "RoutedRequest", "WebSocketRouter"]

__version__ = "0.1.0.dev0"
