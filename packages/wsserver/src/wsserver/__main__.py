"""`python -m wsserver`: an echo server, and the conformance target.

With no options it listens on ws://127.0.0.1:9001 with what the full Autobahn
fuzzingclient suite needs: messages up to 16 MiB (its largest cases send 16 MiB;
WebSocket-Node's echo server raises its limits to 64 MiB for the same reason) and
permessage-deflate accepted. Every other setting is the library default. It accepts every
request with the first subprotocol offered, echoes each message back, logs
"listening on ..." to stderr and runs until SIGINT or SIGTERM, then shuts down
gracefully (1001 to every client).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from ._request import WebSocketRequest
from ._server import WebSocketServer

__all__ = ["main"]

#: The CLI's message limit: Autobahn's largest messages (cases 9.x) are 16 MiB.
CLI_MAX_MESSAGE_SIZE = 16 * 1024 * 1024


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m wsserver",
        description="Run a WebSocket echo server (the Autobahn conformance target).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address or name to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9001, help="port; 0 picks a free one (default 9001)")
    parser.add_argument("--unix", metavar="PATH", help="listen on this Unix socket too")
    parser.add_argument("--certfile", help="TLS certificate chain (PEM): serve wss://")
    parser.add_argument("--keyfile", help="TLS private key (PEM), if not in the certificate file")
    parser.add_argument(
        "--max-message-size",
        type=int,
        default=CLI_MAX_MESSAGE_SIZE,
        metavar="BYTES",
        help=f"largest message accepted, 0 for no limit (default {CLI_MAX_MESSAGE_SIZE})",
    )
    parser.add_argument("--no-deflate", action="store_true", help="refuse permessage-deflate")
    parser.add_argument(
        "--keepalive-interval",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="ping after this long without data, 0 for never (default 20)",
    )
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING... (default INFO)")
    return parser.parse_args(argv)


async def _echo(request: WebSocketRequest) -> None:
    connection = request.accept(request.requested_protocols[0] if request.requested_protocols else None)
    async for message in connection:
        await connection.send(message)


async def _serve(args: argparse.Namespace) -> None:
    ssl_context = None
    if args.certfile:
        import ssl

        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(args.certfile, args.keyfile)
    server = WebSocketServer(
        _echo,
        max_message_size=args.max_message_size or None,
        permessage_deflate=not args.no_deflate,
        keepalive_interval=args.keepalive_interval or None,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await server.listen(args.host, args.port, ssl=ssl_context)
        if args.unix:
            await server.listen_unix(args.unix, ssl=ssl_context)
        await stop.wait()
    finally:
        await server.shutdown()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the echo server until SIGINT or SIGTERM.

    Args:
        argv: the arguments, without the program name; default `sys.argv[1:]`.

    Returns:
        The exit status: 0 after a clean shutdown, 1 when the server cannot start.
    """
    args = _parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        asyncio.run(_serve(args))
    except OSError as exc:
        logging.getLogger("wsserver").error("cannot start: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
