"""An echo server: every message comes back to its sender."""

import asyncio
import logging
import os

import wsserver

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8765"))


async def echo(request: wsserver.WebSocketRequest) -> None:
    connection = request.accept()
    async for message in connection:  # str for text, bytes for binary
        await connection.send(message)


async def main() -> None:
    async with wsserver.WebSocketServer(echo) as server:
        await server.listen(HOST, PORT)  # logs "listening on ws://..."
        await server.serve_forever()


if __name__ == "__main__":
    logging.basicConfig(format="%(message)s", level=logging.INFO)
    asyncio.run(main())
