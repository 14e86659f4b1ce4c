"""The echo server behind wsrouter, for ``wstest -m fuzzingclient`` (the router direction).

The same server as ``python -m wsserver`` (messages up to 16 MiB, permessage-deflate
accepted, the library's other defaults), except that requests go through a
`wsrouter.WebSocketRouter` with one route: any path, any subprotocol (``"*"`` also
matches a request that asks for none, as Autobahn's do).

Usage::

    python conformance/autobahn/router_echo_server.py --host 127.0.0.1 --port 9002
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from wsrouter import ANY, RoutedRequest, WebSocketRouter
from wsserver import WebSocketServer

__all__ = ["MAX_MESSAGE_SIZE", "echo", "main"]

#: As `python -m wsserver`: Autobahn's largest messages (cases 9.x) are 16 MiB.
MAX_MESSAGE_SIZE = 16 * 1024 * 1024


async def echo(request: RoutedRequest) -> None:
    """Accept with the matched subprotocol and echo every message back."""
    connection = request.accept()
    async for message in connection:
        await connection.send(message)


async def _serve(host: str, port: int) -> None:
    server = WebSocketServer(max_message_size=MAX_MESSAGE_SIZE, permessage_deflate=True)
    router = WebSocketRouter(server)
    router.mount(ANY, ANY, echo)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await server.listen(host, port)
        logging.getLogger("router_echo_server").info("listening on ws://%s:%d (router: * / *)", host, port)
        await stop.wait()
    finally:
        await server.shutdown()


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(description="wsrouter echo server for wstest -m fuzzingclient")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9002)
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
