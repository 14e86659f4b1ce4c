"""Shut down gracefully on SIGTERM or Ctrl-C: every client gets close code 1001."""

import asyncio
import logging
import os
import signal

import wsserver

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8765"))


async def echo(request: wsserver.WebSocketRequest) -> None:
    connection = request.accept()
    async for message in connection:
        await connection.send(message)


async def main() -> None:
    server = wsserver.WebSocketServer(echo)
    await server.listen(HOST, PORT)  # logs "listening on ws://..."

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()

    # Stop listening, answer handshakes in progress with 503, close every connection
    # with 1001, wait up to 10 s, then abort whatever is left.
    await server.shutdown(reason="server restarting", timeout=10)


if __name__ == "__main__":
    logging.basicConfig(format="%(message)s", level=logging.INFO)
    asyncio.run(main())
