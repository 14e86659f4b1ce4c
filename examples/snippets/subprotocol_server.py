"""Choose a subprotocol: the server's preference among those the client offers."""

import asyncio
import logging
import os

import wsserver

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8765"))

SUPPORTED = ["chat.v2", "chat.v1"]  # preferred first


async def handler(request: wsserver.WebSocketRequest) -> None:
    offered = [protocol.lower() for protocol in request.requested_protocols]
    chosen = next((protocol for protocol in SUPPORTED if protocol in offered), None)
    if chosen is None:
        request.reject(400, "supported subprotocols: " + ", ".join(SUPPORTED))
        return
    connection = request.accept(chosen)  # matched case-insensitively
    await connection.send(f"speaking {connection.subprotocol}")


async def main() -> None:
    async with wsserver.WebSocketServer(handler) as server:
        await server.listen(HOST, PORT)  # logs "listening on ws://..."
        await server.serve_forever()


if __name__ == "__main__":
    logging.basicConfig(format="%(message)s", level=logging.INFO)
    asyncio.run(main())
