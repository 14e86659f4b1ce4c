"""The libwebsockets test server: Andy Green's two test protocols, served through wsrouter.

A port of WebSocket-Node's ``scripts/libwebsockets-test-server.js``. Both protocols are
mounted on every path (``"*"``), so the subprotocol alone picks the handler:

* ``dumb-increment-protocol``: sends a counter as text every 50 ms; ``reset\\n`` sets it
  back to 0.
* ``lws-mirror-protocol``: accepts with the test cookie ``TestCookie`` (path ``/``,
  Max-Age 5000, HttpOnly); replays the drawing history to each client that joins, then
  rebroadcasts every text message to every mirror client; ``clear;`` empties the
  history (and is rebroadcast, so every canvas clears). The history is bounded: the
  last 10,000 messages and at most 1 MiB, oldest dropped first.

Run it, then open the printed URL in a browser (two windows draw on the same canvas)::

    python examples/libwebsockets_test_server.py --port 8080

Other clients of these protocols work too, such as WebSocket-Node's
``node scripts/libwebsockets-test-client.js --host=127.0.0.1 --port=8080``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
from collections import deque
from pathlib import Path

from wsrouter import RoutedRequest, WebSocketRouter
from wsserver import ConnectionClosed, Request, Response, ServerConnection, SetCookie, WebSocketServer

PAGE = Path(__file__).with_name("static") / "libwebsockets-test.html"

#: Bounds of the mirror history replayed to each new client.
HISTORY_MAX_MESSAGES = 10_000
HISTORY_MAX_BYTES = 1024 * 1024


class History:
    """The last messages of the mirror, bounded in count and in total UTF-8 size."""

    def __init__(self, max_messages: int = HISTORY_MAX_MESSAGES, max_bytes: int = HISTORY_MAX_BYTES) -> None:
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.size = 0
        self._messages: deque[tuple[str, int]] = deque()

    def append(self, message: str) -> None:
        """Remember `message`, dropping the oldest ones beyond the bounds."""
        size = len(message.encode())
        if size > self.max_bytes:
            return  # it could never be replayed within the bound
        self._messages.append((message, size))
        self.size += size
        while len(self._messages) > self.max_messages or self.size > self.max_bytes:
            self.size -= self._messages.popleft()[1]

    def clear(self) -> None:
        """Forget every message."""
        self._messages.clear()
        self.size = 0

    def replay(self) -> str:
        """The whole history as one message, as the seed replays it."""
        return "".join(message for message, _ in self._messages)


async def dumb_increment(request: RoutedRequest) -> None:
    """Send 0, 1, 2, ... every 50 ms; ``reset\\n`` starts again from 0."""
    # The origin is echoed to version 8 clients only (the libwebsockets test client speaks it).
    connection = request.accept(origin=request.origin)
    counter = 0

    async def tick() -> None:
        nonlocal counter
        with contextlib.suppress(ConnectionClosed):
            while True:
                await connection.send(str(counter))
                counter += 1
                await asyncio.sleep(0.05)

    ticker = asyncio.create_task(tick())
    try:
        async for message in connection:
            if message == "reset\n":
                counter = 0
    finally:
        ticker.cancel()


class Mirror:
    """The lws-mirror-protocol: one shared drawing, replayed and rebroadcast."""

    def __init__(self, server: WebSocketServer) -> None:
        self.server = server
        self.clients: set[ServerConnection] = set()
        self.history = History()

    async def __call__(self, request: RoutedRequest) -> None:
        """Handle one mirror client from its handshake to its end."""
        value = f"CookieValue{secrets.randbelow(1000)}"
        cookie = SetCookie("TestCookie", value, path="/", max_age=5000, http_only=True)
        connection = request.accept(origin=request.origin, cookies=[cookie])
        # No await between the replay and joining the audience: no message falls in between.
        if history := self.history.replay():
            connection.send_nowait(history)
        self.clients.add(connection)
        try:
            async for message in connection:
                if not isinstance(message, str):
                    continue  # the protocol is text only
                if message == "clear;":
                    self.history.clear()
                else:
                    self.history.append(message)
                # Never waits: a client that stops reading misses messages, the others don't wait.
                self.server.broadcast(message, connections=self.clients)
        finally:
            self.clients.discard(connection)


async def serve_page(request: Request) -> Response | None:
    """Serve the test page at ``/``; anything else is 404."""
    if request.path != "/":
        return None
    return Response(200, [("Content-Type", "text/html; charset=utf-8")], PAGE.read_bytes())


def build_server() -> WebSocketServer:
    """A server with both protocols mounted on every path, and the page at ``/``."""
    server = WebSocketServer(http_handler=serve_page)
    router = WebSocketRouter(server)
    router.mount("*", "dumb-increment-protocol", dumb_increment)
    router.mount("*", "lws-mirror-protocol", Mirror(server))
    return server


async def main(host: str, port: int) -> None:
    """Serve until interrupted (Ctrl-C)."""
    async with build_server() as server:
        await server.listen(host, port)
        bound_host, bound_port = server.addresses[0][:2]
        if ":" in bound_host:  # IPv6
            bound_host = f"[{bound_host}]"
        print(f"listening on http://{bound_host}:{bound_port}/ (Ctrl-C stops)", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port, 0 for any free one (default 8080)")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.host, args.port))
