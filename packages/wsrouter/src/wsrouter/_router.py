"""The router: mounts handlers by path and subprotocol, as WebSocket-Node's `WebSocketRouter`.

Matching rules (every one is table-tested in `tests/test_router.py`):

* **Paths** match the request path only (the query is ignored), as sent (not
  percent-decoded), in four forms:
    - an exact path, ``"/chat"``;
    - ``"*"``, any path;
    - a pattern with named parameters, ``"/rooms/{room}"``: each ``{name}`` matches one
      non-empty path segment (no ``/``); the captured values are percent-decoded and
      reach the handler as `request.params`. Two parameters must be separated by
      literal text, and a parameter stops at the first character of the text that
      follows it (in ``"/{x}-{y}"``, `x` holds no ``-``), so matching is linear;
    - a compiled regular expression, which must match the whole path
      (`re.Pattern.fullmatch`); its named groups become `request.params`. Its cost is
      yours: avoid nested quantifiers on user input.
* **Subprotocols** are compared case-insensitively; ``"*"`` matches any, including a
  request that asks for none; `None` (`NO_PROTOCOL`) matches only requests that ask for
  no subprotocol.
* **Order**, as in the seed: the client's subprotocols in its order of preference come
  first; for each, the first route in mount order whose path and subprotocol match wins.
  A request without subprotocols is matched as asking for `None`.
* **No match**: 404 when no route matches the path; 400 when some route matches the
  path but none of the requested subprotocols (RFC 6455 section 4.2.2 names 400 for a
  handshake the server will not complete; the reason lists nothing internal).
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Union

from wsserver import InvalidState, WebSocketRequest

if TYPE_CHECKING:
    from wsserver import Headers, ServerConnection, SetCookie, WebSocketServer

__all__ = ["ANY", "NO_PROTOCOL", "Route", "RoutedRequest", "RouteHandler", "WebSocketRouter"]

#: Mount with this path, or this subprotocol, to match anything.
ANY: Final = "*"
#: Mount with this subprotocol to match clients that request none.
NO_PROTOCOL: Final = None

PathSpec = Union[str, "re.Pattern[str]"]
RouteHandler = Callable[["RoutedRequest"], Awaitable[None]]
"""`async def handler(request: RoutedRequest) -> None`."""

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _compile_pattern(path: str) -> re.Pattern[str] | None:
    """Compile ``"/rooms/{room}"`` into a regular expression; None for a path without parameters."""
    if "{" not in path and "}" not in path:
        return None
    # Split into alternating literal texts and parameter names: [lit, name, lit, ..., lit].
    pieces: list[str] = []
    names: set[str] = set()
    pos = 0
    for match in _PARAM.finditer(path):
        literal = path[pos : match.start()]
        if "{" in literal or "}" in literal:
            raise ValueError(f"invalid path pattern {path!r}: braces must enclose a parameter name")
        if pieces and not literal:
            raise ValueError(f"invalid path pattern {path!r}: parameters must be separated by literal text")
        name = match.group(1)
        if name in names:
            raise ValueError(f"invalid path pattern {path!r}: parameter {name!r} appears twice")
        names.add(name)
        pieces += [literal, name]
        pos = match.end()
    rest = path[pos:]
    if "{" in rest or "}" in rest:
        raise ValueError(f"invalid path pattern {path!r}: braces must enclose a parameter name")
    pieces.append(rest)
    parts: list[str] = []
    for index in range(0, len(pieces) - 1, 2):
        parts.append(re.escape(pieces[index]))
        # A parameter stops at a "/" and at the first character of the text after it, so
        # every match is unambiguous and the engine never backtracks more than one step.
        following = pieces[index + 2][:1]
        stop = "/" + (following if following not in ("", "/") else "")
        parts.append(f"(?P<{pieces[index + 1]}>[^{re.escape(stop)}]+)")
    parts.append(re.escape(pieces[-1]))
    return re.compile("".join(parts))


class Route:
    """One mount: a path, a subprotocol and a handler.

    Attributes:
        path: the path as mounted (a string or a compiled regular expression).
        protocol: the subprotocol as mounted, lower-cased; ``"*"`` for any, None for none.
        handler: the coroutine function called with a [`RoutedRequest`][wsrouter.RoutedRequest].
    """

    __slots__ = ("_exact", "_regex", "handler", "path", "protocol")

    def __init__(self, path: PathSpec, protocol: str | None, handler: RouteHandler) -> None:
        self.path = path
        self.protocol = protocol
        self.handler = handler
        self._exact: str | None = None
        self._regex: re.Pattern[str] | None = None
        if isinstance(path, re.Pattern):
            self._regex = path
        elif path != ANY:
            compiled = _compile_pattern(path)
            if compiled is None:
                self._exact = path
            else:
                self._regex = compiled

    def match_path(self, path: str) -> dict[str, str] | None:
        """The parameters if `path` matches this route, else None."""
        if self._exact is not None:
            return {} if path == self._exact else None
        regex = self._regex
        if regex is None:  # "*"
            return {}
        match = regex.fullmatch(path)
        if match is None:
            return None
        return {name: urllib.parse.unquote(value) for name, value in match.groupdict().items() if value is not None}

    def matches_protocol(self, protocol: str | None) -> bool:
        """Whether this route serves `protocol` (lower-cased; None for "no subprotocol")."""
        return self.protocol == ANY or self.protocol == protocol

    def __repr__(self) -> str:
        path = self.path.pattern if isinstance(self.path, re.Pattern) else self.path
        return (
            f"<Route {path!r} protocol={self.protocol!r} handler={getattr(self.handler, '__qualname__', self.handler)}>"
        )


def _normalize_protocol(protocol: str | None) -> str | None:
    if protocol is None:
        return None
    if not isinstance(protocol, str) or not protocol:
        raise TypeError(f"protocol must be a non-empty str, '*' or None, not {protocol!r}")
    return protocol.lower()


def _path_key(path: PathSpec) -> tuple[str, str, int]:
    if isinstance(path, re.Pattern):
        return ("re", path.pattern, path.flags)
    return ("str", path, 0)


class RoutedRequest:
    """A WebSocket request that a route matched, as its handler receives it.

    It carries what the route decided (`protocol`, `params`) and forwards everything
    else to the underlying [`WebSocketRequest`][wsserver.WebSocketRequest] (`origin`,
    `path`, `query`, `headers`, `cookies`, `remote_address`, `version`, ...).

    Attributes:
        request: the underlying request.
        protocol: the subprotocol that matched, in the client's spelling, or None when
            the client asked for none. [`accept`][wsrouter.RoutedRequest.accept] selects it.
        params: the path parameters the route captured (percent-decoded).
        route: the route that matched.
    """

    __slots__ = ("params", "protocol", "request", "route")

    def __init__(self, request: WebSocketRequest, protocol: str | None, params: dict[str, str], route: Route) -> None:
        self.request = request
        self.protocol = protocol
        self.params = params
        self.route = route

    @property
    def origin(self) -> str | None:
        """The request's origin (see `WebSocketRequest.origin`)."""
        return self.request.origin

    @property
    def path(self) -> str:
        """The request path, not percent-decoded."""
        return self.request.path

    @property
    def resource(self) -> str:
        """The request target, query included."""
        return self.request.resource

    @property
    def query(self) -> dict[str, list[str]]:
        """The parsed query string."""
        return self.request.query

    @property
    def headers(self) -> Headers:
        """The request headers."""
        return self.request.headers

    @property
    def cookies(self) -> list[tuple[str, str]]:
        """The request's cookies, as `(name, value)` pairs."""
        return self.request.cookies

    @property
    def remote_address(self) -> str | None:
        """The client's address (see `WebSocketRequest.remote_address`)."""
        return self.request.remote_address

    @property
    def version(self) -> int:
        """The protocol version, 13 or 8."""
        return self.request.version

    @property
    def connection(self) -> ServerConnection | None:
        """The connection once accepted, else None."""
        return self.request.connection

    def __getattr__(self, name: str) -> Any:
        # Forward the request's other public attributes (host, requested_protocols, ...).
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.request, name)

    def accept(
        self,
        *,
        origin: str | None = None,
        cookies: Sequence[SetCookie] = (),
        headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
    ) -> ServerConnection:
        """Accept with the matched subprotocol; see [`WebSocketRequest.accept`][wsserver.WebSocketRequest.accept]."""
        return self.request.accept(self.protocol, origin=origin, cookies=cookies, headers=headers)

    def reject(
        self,
        status: int = 403,
        reason: str | None = None,
        *,
        headers: Mapping[str, str] | Sequence[tuple[str, str]] = (),
        body: bytes | None = None,
    ) -> None:
        """Refuse the request; see [`WebSocketRequest.reject`][wsserver.WebSocketRequest.reject]."""
        self.request.reject(status, reason, headers=headers, body=body)

    def __repr__(self) -> str:
        return f"<RoutedRequest {self.request.resource!r} protocol={self.protocol!r} params={self.params!r}>"


class WebSocketRouter:
    """Dispatch WebSocket requests to handlers by path and subprotocol.

    A router is a request handler for [`WebSocketServer`][wsserver.WebSocketServer]:
    attach it (`WebSocketRouter(server)` or [`attach`][wsrouter.WebSocketRouter.attach]),
    or pass it as the server's handler. See the module documentation for the rules.

    Example:
        ```python
        router = WebSocketRouter()

        @router.route("/rooms/{room}", "chat")
        async def chat(request: RoutedRequest) -> None:
            connection = request.accept()
            async for message in connection:
                ...

        server = WebSocketServer(router)
        ```

    Args:
        server: a server to attach to at once.
    """

    def __init__(self, server: WebSocketServer | None = None) -> None:
        self.routes: list[Route] = []
        """The mounted routes, in mount order."""
        self.server: WebSocketServer | None = None
        """The server this router is attached to, if any."""
        self._previous_handler: Any = None
        if server is not None:
            self.attach(server)

    # ---------------------------------------------------------- attach/detach

    def attach(self, server: WebSocketServer) -> None:
        """Become `server`'s request handler (its previous handler comes back on detach).

        Raises:
            InvalidState: this router is already attached.
        """
        if self.server is not None:
            raise InvalidState("router is already attached to a server; detach it first")
        self._previous_handler = server.handler
        server.handler = self
        self.server = server

    def detach(self) -> None:
        """Stop handling the server's requests; restores the handler it had before.

        Connections already accepted go on.

        Raises:
            InvalidState: this router is not attached.
        """
        server = self.server
        if server is None:
            raise InvalidState("router is not attached to a server")
        if server.handler is self:
            server.handler = self._previous_handler
        self._previous_handler = None
        self.server = None

    # ------------------------------------------------------------- mounting

    def mount(self, path: PathSpec, protocol: str | None, handler: RouteHandler) -> Route:
        """Mount `handler` for `path` and `protocol`.

        Args:
            path: an exact path, ``"*"``, a pattern such as ``"/rooms/{room}"``, or a
                compiled regular expression (matched against the whole path).
            protocol: a subprotocol (case-insensitive), ``"*"`` for any, or None for
                clients that request no subprotocol.
            handler: `async def handler(request: RoutedRequest) -> None`.

        Returns:
            The new route.

        Raises:
            ValueError: the same path and subprotocol are already mounted, or the
                pattern is invalid.
            TypeError: an argument has the wrong type.
        """
        if not isinstance(path, (str, re.Pattern)) or path == "":
            raise TypeError(f"path must be a non-empty str or a compiled regular expression, not {path!r}")
        if not callable(handler):
            raise TypeError(f"handler must be a coroutine function, not {handler!r}")
        normalized = _normalize_protocol(protocol)
        key = _path_key(path)
        for route in self.routes:
            if _path_key(route.path) == key and route.protocol == normalized:
                raise ValueError(f"path {key[1]!r} with protocol {protocol!r} is already mounted")
        route = Route(path, normalized, handler)
        self.routes.append(route)
        return route

    def route(self, path: PathSpec, protocol: str | None = None) -> Callable[[RouteHandler], RouteHandler]:
        """Decorator form of [`mount`][wsrouter.WebSocketRouter.mount]."""

        def decorator(handler: RouteHandler) -> RouteHandler:
            self.mount(path, protocol, handler)
            return handler

        return decorator

    def unmount(self, path: PathSpec, protocol: str | None = NO_PROTOCOL) -> None:
        """Remove the route mounted for `path` and `protocol`.

        Without `protocol`, removes the route mounted for clients that request no
        subprotocol (WebSocket-Node crashes on that call).

        Raises:
            ValueError: no such route is mounted.
        """
        normalized = _normalize_protocol(protocol)
        key = _path_key(path)
        for index, route in enumerate(self.routes):
            if _path_key(route.path) == key and route.protocol == normalized:
                del self.routes[index]
                return
        raise ValueError(f"no route is mounted for path {key[1]!r} with protocol {protocol!r}")

    # -------------------------------------------------------------- dispatch

    def match(self, path: str, protocols: Sequence[str]) -> tuple[Route, str | None, dict[str, str]] | None:
        """Find the route for a request path and its requested subprotocols.

        Returns:
            The route, the subprotocol it matched (the client's spelling, None when the
            client asked for none) and the path parameters; None when nothing matches.
        """
        wanted: Sequence[str | None] = protocols if protocols else (None,)
        path_matches: list[tuple[Route, dict[str, str]]] = []
        for route in self.routes:
            params = route.match_path(path)
            if params is not None:
                path_matches.append((route, params))
        for protocol in wanted:
            key = protocol.lower() if protocol is not None else None
            for route, params in path_matches:
                if route.matches_protocol(key):
                    return route, protocol, params
        return None

    def path_is_mounted(self, path: str) -> bool:
        """Whether any route matches `path`, whatever its subprotocol."""
        return any(route.match_path(path) is not None for route in self.routes)

    async def __call__(self, request: WebSocketRequest) -> None:
        """Handle one request: run the matching route's handler, or reject (404 or 400)."""
        found = self.match(request.path, request.requested_protocols)
        if found is None:
            if self.path_is_mounted(request.path):
                request.reject(400, "no handler for the requested subprotocols at this path")
            else:
                request.reject(404, "no handler is available for the given request")
            return
        route, protocol, params = found
        await route.handler(RoutedRequest(request, protocol, params, route))

    def __repr__(self) -> str:
        return f"<WebSocketRouter {len(self.routes)} routes{' attached' if self.server is not None else ''}>"
