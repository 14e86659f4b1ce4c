"""Drive the Autobahn|Testsuite fuzzing server with wsclient (an echo client).

Start the fuzzing server first (Python 2.7 virtualenv with ``autobahntestsuite``)::

    wstest -m fuzzingserver -s spec.json

with ``spec.json``::

    {"url": "ws://127.0.0.1:9002", "outdir": "/tmp/ab-reports/client",
     "cases": ["*"], "exclude-cases": [], "exclude-agent-cases": {}}

then run ``python autobahn_client.py [ws://127.0.0.1:9002] [agent]``. It asks for the
number of cases, runs each one (echoing every message back), and asks the server to
write its reports (``index.json`` in the outdir).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time

import wsclient

LIMIT = 16 * 1024 * 1024


def make_client() -> wsclient.WebSocketClient:
    return wsclient.WebSocketClient(
        max_message_size=LIMIT,
        max_frame_size=LIMIT,
        keepalive_interval=None,
        open_timeout=30,
        close_timeout=5,
    )


async def run_case(client: wsclient.WebSocketClient, url: str) -> None:
    try:
        ws = await client.connect(url)
    except (OSError, wsclient.WebSocketError) as exc:
        print(f"  connect failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return
    try:
        async for message in ws:
            await ws.send(message)
    except wsclient.ConnectionClosed:
        pass
    await ws.wait_closed()


async def main(base: str, agent: str) -> None:
    client = make_client()
    async with wsclient.connect(f"{base}/getCaseCount") as ws:
        count = int(await ws.recv())
    print(f"{count} cases")
    started = time.monotonic()
    for case in range(1, count + 1):
        case_started = time.monotonic()
        await run_case(client, f"{base}/runCase?case={case}&agent={agent}")
        elapsed = time.monotonic() - case_started
        if elapsed > 2:
            print(f"  case {case} took {elapsed:.1f} s")
        if case % 50 == 0:
            print(f"{case}/{count} ({time.monotonic() - started:.0f} s)")
    async with wsclient.connect(f"{base}/updateReports?agent={agent}") as ws:
        try:
            await ws.recv()
        except wsclient.ConnectionClosed:
            pass
    print(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(
        main(sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:9002", sys.argv[2] if len(sys.argv) > 2 else "wskit")
    )
