"""aiohttp echo server for the benchmark: ``web.WebSocketResponse`` in a request handler.

``python bench/servers/aiohttp_server.py PORT [--uvloop] [--deflate]``. Library defaults
except compression (``compress=False`` unless ``--deflate``), ``max_msg_size`` (16 MiB)
and the access log (off, as any deployment that cares about speed runs it).
"""

from __future__ import annotations

import asyncio

from _common import HOST, MAX_MESSAGE_SIZE, parse_args, ready, run
from aiohttp import WSMsgType, web


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_SIZE, compress=args.deflate)
        await ws.prepare(request)
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await ws.send_str(message.data)
            elif message.type == WSMsgType.BINARY:
                await ws.send_bytes(message.data)
        return ws

    async def serve() -> None:
        app = web.Application()
        app.router.add_get("/", echo)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, HOST, args.port)
        await site.start()
        ready(args.port)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    run(serve, use_uvloop=args.uvloop)


if __name__ == "__main__":
    main()
