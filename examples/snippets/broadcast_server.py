"""A ticker: a message to every client each 100 ms; slow clients are skipped."""

import asyncio
import logging
import os
import time

import wsserver

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8765"))


async def subscriber(request: wsserver.WebSocketRequest) -> None:
    connection = request.accept()
    await connection.wait_closed()  # the ticker does the sending


async def tick(server: wsserver.WebSocketServer) -> None:
    while True:
        sent = server.broadcast(f"tick {time.time():.1f}")  # never waits
        if sent < len(server.connections):
            print(f"skipped {len(server.connections) - sent} slow clients", flush=True)
        await asyncio.sleep(0.1)


async def main() -> None:
    async with wsserver.WebSocketServer(subscriber) as server:
        await server.listen(HOST, PORT)  # logs "listening on ws://..."
        ticker = asyncio.create_task(tick(server))
        try:
            await server.serve_forever()
        finally:
            ticker.cancel()


if __name__ == "__main__":
    logging.basicConfig(format="%(message)s", level=logging.INFO)
    asyncio.run(main())
