"""The echo server over TLS: wss://."""

import asyncio
import logging
import os
import ssl

import wsserver

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8765"))
CERTFILE = os.environ.get("CERTFILE", "localhost.pem")  # certificate chain, then key


async def echo(request: wsserver.WebSocketRequest) -> None:
    connection = request.accept()
    async for message in connection:
        await connection.send(message)


async def main() -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(CERTFILE)
    async with wsserver.WebSocketServer(echo) as server:
        await server.listen(HOST, PORT, ssl=context)  # logs "listening on wss://..."
        await server.serve_forever()


if __name__ == "__main__":
    logging.basicConfig(format="%(message)s", level=logging.INFO)
    asyncio.run(main())
