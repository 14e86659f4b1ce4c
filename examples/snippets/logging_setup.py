"""See what wskit logs: configure logging, then run a server and a client."""

import asyncio
import logging

import wsclient
import wsserver

logging.basicConfig(
    format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    level=logging.INFO,  # wskit logs at INFO what an operator wants to see
)
logging.getLogger("wsserver.connection").setLevel(
    logging.DEBUG
)  # every connection event


async def echo(request: wsserver.WebSocketRequest) -> None:
    connection = request.accept()
    async for message in connection:
        await connection.send(message)


async def main() -> None:
    async with wsserver.WebSocketServer(echo) as server:
        host, port = (await server.listen("127.0.0.1", 0))[0][:2]
        async with wsclient.connect(f"ws://{host}:{port}/") as ws:
            await ws.send("Hello")
            await ws.recv()


if __name__ == "__main__":
    asyncio.run(main())
