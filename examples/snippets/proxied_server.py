"""Behind a reverse proxy: the client's address comes from X-Forwarded-For."""

import asyncio
import logging
import os

import wsserver

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8765"))

# Only the proxy's own address: X-Forwarded-For from anyone else is ignored.
TRUSTED_PROXIES = ["127.0.0.1", "::1"]


async def handler(request: wsserver.WebSocketRequest) -> None:
    connection = request.accept()
    await connection.send(
        f"you are {request.remote_address} (via {request.socket_address[0]})"
    )


async def main() -> None:
    async with wsserver.WebSocketServer(
        handler, trusted_proxies=TRUSTED_PROXIES
    ) as server:
        await server.listen(HOST, PORT)  # logs "listening on ws://..."
        await server.serve_forever()


if __name__ == "__main__":
    logging.basicConfig(format="%(message)s", level=logging.INFO)
    asyncio.run(main())
