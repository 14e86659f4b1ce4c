"""Chat rooms with wsrouter: ws://host:port/rooms/<room>?name=<name>, "chat"."""

import asyncio
import json
import logging
import os

import wsrouter
import wsserver

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8765"))

# Browsers send the page's origin; other clients usually send none (None).
ALLOWED_ORIGINS = {"http://localhost:8000", None}

router = wsrouter.WebSocketRouter()
server = wsserver.WebSocketServer(router)
rooms: dict[str, set[wsserver.ServerConnection]] = {}


def publish(room: str, **event: str) -> None:
    """Send an event to everyone in the room, without waiting for slow clients."""
    server.broadcast(json.dumps(event), connections=rooms.get(room, ()))


@router.route("/rooms/{room}", "chat")
async def chat(request: wsrouter.RoutedRequest) -> None:
    if request.origin not in ALLOWED_ORIGINS:
        request.reject(403, "origin not allowed")
        return
    room = request.params["room"]
    name = request.query.get("name", ["anonymous"])[0]
    connection = request.accept()  # with the subprotocol the route matched: "chat"
    rooms.setdefault(room, set()).add(connection)
    publish(room, event="join", name=name)
    try:
        async for message in connection:
            publish(room, event="say", name=name, text=str(message))
    finally:
        rooms[room].discard(connection)
        if not rooms[room]:
            del rooms[room]
        publish(room, event="leave", name=name)


@router.route("/rooms/{room}", wsrouter.NO_PROTOCOL)
async def no_subprotocol(request: wsrouter.RoutedRequest) -> None:
    request.reject(400, 'ask for the "chat" subprotocol')


async def main() -> None:
    async with server:
        await server.listen(HOST, PORT)  # logs "listening on ws://..."
        await server.serve_forever()


if __name__ == "__main__":
    logging.basicConfig(format="%(message)s", level=logging.INFO)
    asyncio.run(main())
