"""A message over the receiver's limit closes the connection with 1009."""

import asyncio

import wsclient
import wsserver


async def echo(request: wsserver.WebSocketRequest) -> None:
    connection = request.accept()
    async for message in connection:
        await connection.send(message)


async def main() -> None:
    # The server accepts messages of at most 1 KiB (default: 1 MiB).
    async with wsserver.WebSocketServer(echo, max_message_size=1024) as server:
        host, port = (await server.listen("127.0.0.1", 0))[0][:2]
        async with wsclient.connect(f"ws://{host}:{port}/") as ws:
            await ws.send("x" * 1024)
            print("1024 bytes: echoed", len(await ws.recv()), "bytes")
            await ws.send("x" * 1025)
            try:
                await ws.recv()
            except wsclient.ConnectionClosed as exc:
                print("1025 bytes:", exc)


if __name__ == "__main__":
    asyncio.run(main())
