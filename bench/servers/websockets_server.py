"""websockets echo server for the benchmark: its asyncio API (websockets >= 13).

``python bench/servers/websockets_server.py PORT [--uvloop] [--deflate]``. Library
defaults except compression (``compression=None`` unless ``--deflate``, which keeps the
library's default permessage-deflate settings) and ``max_size`` (16 MiB).
"""

from __future__ import annotations

from _common import HOST, MAX_MESSAGE_SIZE, parse_args, ready, run
from websockets.asyncio.server import ServerConnection, serve


async def handler(connection: ServerConnection) -> None:
    async for message in connection:
        await connection.send(message)


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])

    async def serve_forever() -> None:
        async with serve(
            handler,
            HOST,
            args.port,
            compression="deflate" if args.deflate else None,
            max_size=MAX_MESSAGE_SIZE,
        ) as server:
            ready(args.port)
            await server.serve_forever()

    run(serve_forever, use_uvloop=args.uvloop)


if __name__ == "__main__":
    main()
