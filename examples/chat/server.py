"""A chat server with rooms: wskit's live demo (``nox -s demo`` runs it).

One wsserver serves the page at ``/`` (``static/index.html``) and, through wsrouter,
the chat at ``/rooms/{room}``: the room is a path parameter, the nickname comes from
the query string (``/rooms/lobby?name=ada``), the subprotocol is ``chat`` or none.

Messages are JSON. A client sends ``{"text": "hello"}``; everyone in the same room,
and only there, receives ``{"type": "message", "user": "ada", "text": "hello"}``. The
server also sends ``{"type": "join"|"leave", "user": ..., "users": [...]}`` notices and,
to each newcomer first, ``{"type": "history", "messages": [...]}``: the room's last 50
messages. A room and its history live as long as someone is in it.

Run it and open the URL it prints (two browser windows chat with each other)::

    python examples/chat/server.py            # http://127.0.0.1:8000/
    python examples/chat/server.py --port 0   # any free port
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Mapping
from pathlib import Path

from wsrouter import NO_PROTOCOL, RoutedRequest, WebSocketRouter
from wsserver import CloseCode, Request, Response, ServerConnection, WebSocketServer

PAGE = Path(__file__).with_name("static") / "index.html"
HISTORY_SIZE = 50
MAX_TEXT = 2000
MAX_NAME = 32
MAX_ROOM = 64


def text_of(message: str | bytes) -> str | None:
    """The text of a client's ``{"text": ...}`` message; None if it is not one."""
    try:
        data = json.loads(message) if isinstance(message, str) else None
    except (ValueError, RecursionError):  # not JSON, or nested too deep
        return None
    text = data.get("text") if isinstance(data, dict) else None
    return text if isinstance(text, str) else None


class Room:
    """The people in one room, by connection, and its recent messages."""

    def __init__(self) -> None:
        self.members: dict[ServerConnection, str] = {}
        self.history: deque[dict[str, str]] = deque(maxlen=HISTORY_SIZE)


class Chat:
    """The chat application: rooms, mounted on a router, and the page."""

    def __init__(self) -> None:
        self.rooms: dict[str, Room] = {}
        self.server = WebSocketServer(http_handler=self.serve_page)
        router = WebSocketRouter(self.server)
        router.mount("/rooms/{room}", "chat", self.join)
        router.mount("/rooms/{room}", NO_PROTOCOL, self.join)

    async def serve_page(self, request: Request) -> Response | None:
        """The page at ``/``; None (404) elsewhere."""
        if request.path != "/":
            return None
        return Response(200, [("Content-Type", "text/html; charset=utf-8")], PAGE.read_bytes())

    def send_to(self, room: Room, event: Mapping[str, object]) -> None:
        """Send `event` to everyone in `room`, never waiting for a slow reader."""
        self.server.broadcast(json.dumps(event), connections=room.members)

    async def join(self, request: RoutedRequest) -> None:
        """One member, from the handshake until they leave."""
        # Browsers send Origin: refuse pages of other sites (cross-site WebSocket hijacking).
        if request.origin is not None and request.origin not in (f"http://{request.host}", f"https://{request.host}"):
            request.reject(403, "origin not allowed")
            return
        room_name = request.params["room"]
        name = (request.query.get("name") or ["anonymous"])[0].strip()[:MAX_NAME] or "anonymous"
        if len(room_name) > MAX_ROOM:
            request.reject(400, "room name too long")
            return
        connection = request.accept()
        room = self.rooms.setdefault(room_name, Room())
        room.members[connection] = name
        try:
            # Joining and the history replay happen in one step: no message falls in between.
            connection.send_nowait(json.dumps({"type": "history", "messages": list(room.history)}))
            self.send_to(room, {"type": "join", "user": name, "users": sorted(room.members.values())})
            async for message in connection:
                text = text_of(message)
                if text is None:
                    await connection.close(CloseCode.UNSUPPORTED_DATA, 'expected {"text": "..."}')
                    break
                entry = {"type": "message", "user": name, "text": text[:MAX_TEXT]}
                room.history.append(entry)
                self.send_to(room, entry)
        finally:
            del room.members[connection]
            if room.members:
                self.send_to(room, {"type": "leave", "user": name, "users": sorted(room.members.values())})
            else:
                del self.rooms[room_name]


async def main(host: str, port: int) -> None:
    """Serve until interrupted (Ctrl-C)."""
    async with Chat().server as server:
        await server.listen(host, port)
        bound_host, bound_port = server.addresses[0][:2]
        if ":" in bound_host:  # IPv6
            bound_host = f"[{bound_host}]"
        print(f"listening on http://{bound_host}:{bound_port}/ - open it in a browser (Ctrl-C stops)", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port, 0 for any free one (default 8000)")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.host, args.port))
