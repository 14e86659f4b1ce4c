"""permessage-deflate without context takeover: under 1 KiB per connection."""

import asyncio
import logging
import os

import wsserver

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8765"))

# The default (permessage_deflate=True) keeps a compression context per connection:
# better ratios, about 44 KiB per busy connection. This keeps none between messages.
DEFLATE = wsserver.ServerPerMessageDeflate(
    server_no_context_takeover=True,
    client_no_context_takeover=True,
)


async def echo(request: wsserver.WebSocketRequest) -> None:
    connection = request.accept()
    async for message in connection:
        await connection.send(message)


async def main() -> None:
    async with wsserver.WebSocketServer(echo, permessage_deflate=DEFLATE) as server:
        await server.listen(HOST, PORT)  # logs "listening on ws://..."
        await server.serve_forever()


if __name__ == "__main__":
    logging.basicConfig(format="%(message)s", level=logging.INFO)
    asyncio.run(main())
