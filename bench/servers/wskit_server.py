"""wskit echo server for the benchmark: wsserver through its high-level API.

``python bench/servers/wskit_server.py PORT [--uvloop] [--deflate] [--callback]``.
Library defaults except compression (off unless ``--deflate``) and the message size
limit (16 MiB). ``--callback`` echoes through the low-level API instead:
``connection.set_message_callback(connection.send_nowait)``.
``WSFRAME_NO_SPEEDUPS=1`` in the environment selects wsframe's pure-Python path.
"""

from __future__ import annotations

import sys

from _common import HOST, MAX_MESSAGE_SIZE, parse_args, ready, run

import wsframe
import wsserver


async def handler(request: wsserver.WebSocketRequest) -> None:
    connection = request.accept()
    async for message in connection:
        await connection.send(message)


async def callback_handler(request: wsserver.WebSocketRequest) -> None:
    connection = request.accept()
    connection.set_message_callback(connection.send_nowait)
    await connection.wait_closed()


def main() -> None:
    args = parse_args(__doc__.splitlines()[0], callback=True)

    async def serve() -> None:
        server = wsserver.WebSocketServer(
            callback_handler if args.callback else handler,
            max_message_size=MAX_MESSAGE_SIZE,
            permessage_deflate=args.deflate,
        )
        await server.listen(HOST, args.port)
        print(f"wsframe.SPEEDUPS={wsframe.SPEEDUPS}", file=sys.stderr, flush=True)
        ready(args.port)
        await server.serve_forever()

    run(serve, use_uvloop=args.uvloop)


if __name__ == "__main__":
    main()
