"""An echo server: every message comes back to its sender."""

import asyncio
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
        host, port = (await server.listen(HOST, PORT))[0][:2]
        print(f"listening on ws://{host}:{port}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
