"""A server that sends one message, then closes: 1012, service restart."""

import asyncio
import logging
import os

import wsserver

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8765"))
connections = 0


async def handler(request: wsserver.WebSocketRequest) -> None:
    global connections
    connections += 1
    connection = request.accept()
    await connection.send(f"welcome, visitor {connections}")
    await connection.close(wsserver.CloseCode.SERVICE_RESTART, "restarting")


async def main() -> None:
    async with wsserver.WebSocketServer(handler) as server:
        await server.listen(HOST, PORT)  # logs "listening on ws://..."
        await server.serve_forever()


if __name__ == "__main__":
    logging.basicConfig(format="%(message)s", level=logging.INFO)
    asyncio.run(main())
