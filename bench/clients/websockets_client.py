"""websockets client for the client-side benchmark: its asyncio API (websockets >= 13).

Library defaults except compression (``compression=None``) and ``max_size`` (16 MiB).
"""

from __future__ import annotations

import asyncio

from _common import MAX_MESSAGE_SIZE, Counters, measure, parse_args, payload_for, report, run
from websockets.asyncio.client import ClientConnection, connect


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    payload = payload_for(args)
    counters = Counters()

    async def loop(connection: ClientConnection) -> None:
        await connection.send(payload)
        if await connection.recv() != payload:
            counters.errors.append("wrong echo")
            return
        while counters.running:
            await connection.send(payload)
            await connection.recv()
            counters.messages += 1

    async def bench() -> None:
        connections = [
            await connect(args.url, compression=None, max_size=MAX_MESSAGE_SIZE) for _ in range(args.connections)
        ]
        tasks = [asyncio.ensure_future(loop(c)) for c in connections]
        result = await measure(args, counters)
        await asyncio.wait(tasks, timeout=10)
        await asyncio.wait([asyncio.ensure_future(c.close()) for c in connections], timeout=5)
        report(result)

    run(bench, use_uvloop=args.uvloop)


if __name__ == "__main__":
    main()
