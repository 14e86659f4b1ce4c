"""The fragmentation test server: messages of any size on request, in fragments.

A port of WebSocket-Node's ``scripts/fragmentation-test-server.js``, mounted through
wsrouter on every path for the subprotocol ``fragmentation-test``. Each text message
from the client is a command:

* ``sendMessage|N``: answer with an N-byte text message of lorem ipsum;
* ``sendBinaryMessage|N``: answer with N random bytes.

Outgoing messages are split into frames of ``--fragment`` bytes (default 16384, the
seed's); ``--no-fragmentation`` sends each as one frame. Compression is off, so frame
sizes are what they say. Sizes above ``--max-size`` (default 16 MiB) close the
connection with 1009.

Run it, then drive it with ``examples/fragmentation_test_client.py``::

    python examples/fragmentation_test_server.py --port 8080
    python examples/fragmentation_test_client.py --port 8080
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re

from wsrouter import RoutedRequest, WebSocketRouter
from wsserver import CloseCode, WebSocketServer

LOREM = (
    "  Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt"
    " ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco"
    " laboris nisi ut aliquip ex ea commodo consequat."
)
COMMAND = re.compile(r"(sendMessage|sendBinaryMessage)\|([0-9]{1,12})")


def lorem_ipsum(offset: int, length: int) -> str:
    """The `length` characters of endlessly repeated `LOREM` that start at `offset` (ASCII)."""
    start = offset % len(LOREM)
    repeats = (start + length) // len(LOREM) + 1
    return (LOREM * repeats)[start : start + length]


def build_server(*, fragment: int, fragmentation: bool, max_size: int) -> WebSocketServer:
    """A server answering ``sendMessage|N`` and ``sendBinaryMessage|N`` on every path."""

    async def fragmentation_test(request: RoutedRequest) -> None:
        connection = request.accept()
        async for message in connection:
            match = COMMAND.fullmatch(message) if isinstance(message, str) else None
            if match is None:
                continue  # the seed ignores anything else too
            size = int(match[2])
            if size > max_size:
                await connection.close(CloseCode.MESSAGE_TOO_BIG, f"at most {max_size} bytes")
                return
            if match[1] == "sendMessage":
                await connection.send(lorem_ipsum(0, size))
            else:
                await connection.send(os.urandom(size))

    server = WebSocketServer(
        fragment_outgoing_messages=fragmentation,
        fragmentation_threshold=fragment,
        permessage_deflate=False,
    )
    WebSocketRouter(server).mount("*", "fragmentation-test", fragmentation_test)
    return server


async def main(args: argparse.Namespace) -> None:
    """Serve until interrupted (Ctrl-C)."""
    server = build_server(fragment=args.fragment, fragmentation=not args.no_fragmentation, max_size=args.max_size)
    async with server:
        await server.listen(args.host, args.port)
        host, port = server.addresses[0][:2]
        if ":" in host:  # IPv6
            host = f"[{host}]"
        mode = "no fragmentation" if args.no_fragmentation else f"fragments of {args.fragment} bytes"
        print(f"listening on ws://{host}:{port}/ ({mode}; Ctrl-C stops)", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port, 0 for any free one (default 8080)")
    parser.add_argument("--fragment", type=int, default=16384, metavar="BYTES", help="fragment size (default 16384)")
    parser.add_argument("--no-fragmentation", action="store_true", help="send every message as one frame")
    parser.add_argument("--max-size", type=int, default=16 * 1024 * 1024, metavar="BYTES", help="largest answer")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(parser.parse_args()))
