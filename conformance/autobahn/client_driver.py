"""The wsclient echo driver for ``wstest -m fuzzingserver`` (the client direction).

Asks the fuzzing server how many cases it has (``/getCaseCount``), runs each one
(``/runCase?case=N&agent=AGENT``), echoing every text and binary message back until
the server closes, then asks for the reports (``/updateReports?agent=AGENT``).

Only wsclient's public API is used, with the settings the full suite needs: messages up
to 16 MiB (cases 9.x) and permessage-deflate offered (cases 12.x and 13.x); everything
else is the client's default. Every case is bounded by ``--case-timeout``.

Usage::

    python conformance/autobahn/client_driver.py --url ws://127.0.0.1:9001 --agent wskit
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import wsclient

__all__ = ["CLIENT_SETTINGS", "MAX_MESSAGE_SIZE", "main"]

#: Autobahn's largest messages (cases 9.x) are 16 MiB.
MAX_MESSAGE_SIZE = 16 * 1024 * 1024
#: Keyword arguments of `wsclient.connect` for every connection of the run.
CLIENT_SETTINGS: dict[str, Any] = {
    "max_message_size": MAX_MESSAGE_SIZE,
    "permessage_deflate": True,
}

log = logging.getLogger("client_driver")


async def _get_case_count(url: str, agent: str, timeout: float) -> int:
    async with wsclient.connect(f"{url}/getCaseCount", **CLIENT_SETTINGS) as ws:
        message = await asyncio.wait_for(ws.recv(), timeout)
    count = json.loads(message)
    if not isinstance(count, int) or count < 1:
        raise RuntimeError(f"/getCaseCount answered {message!r}")
    return count


async def _echo(uri: str) -> tuple[int, str]:
    """Echo every message until the connection closes; return (messages, how it ended)."""
    messages = 0
    try:
        async with wsclient.connect(uri, **CLIENT_SETTINGS) as ws:
            try:
                async for message in ws:
                    messages += 1
                    await ws.send(message)
            except wsclient.ConnectionClosed:
                pass
            # Both ways of ending are fine for the driver: Autobahn judges them.
            return messages, f"closed {ws.close_code} {ws.close_reason or ''}".rstrip()
    except wsclient.ConnectionClosed as exc:
        return messages, f"closed: {exc}"


async def _run_case(url: str, case: int, agent: str, timeout: float) -> str:
    uri = f"{url}/runCase?case={case}&agent={agent}"
    started = time.monotonic()
    try:
        messages, ending = await asyncio.wait_for(_echo(uri), timeout)
    except asyncio.TimeoutError:
        return f"case {case}: TIMEOUT after {timeout:.0f}s"
    except (OSError, wsclient.WebSocketError) as exc:
        return f"case {case}: {type(exc).__name__}: {exc}"
    took = time.monotonic() - started
    return f"case {case}: {messages} messages echoed, {ending} ({took:.1f}s)"


async def _update_reports(url: str, agent: str, timeout: float) -> None:
    async def update() -> None:
        async with wsclient.connect(f"{url}/updateReports?agent={agent}", **CLIENT_SETTINGS) as ws:
            # The server writes the reports, then closes: wait for that close.
            try:
                async for _ in ws:
                    pass
            except wsclient.ConnectionClosed:
                pass

    await asyncio.wait_for(update(), timeout)


async def _drive(args: argparse.Namespace) -> int:
    count = await _get_case_count(args.url, args.agent, args.case_timeout)
    log.info("fuzzing server has %d cases", count)
    if args.count_file:
        await asyncio.to_thread(Path(args.count_file).write_text, f"{count}\n")
    errors = 0
    started = time.monotonic()
    for case in range(1, count + 1):
        outcome = await _run_case(args.url, case, args.agent, args.case_timeout)
        if "TIMEOUT" in outcome or "Error" in outcome:
            errors += 1
            log.warning("%s", outcome)
        else:
            log.debug("%s", outcome)
        if case % 50 == 0 or case == count:
            log.info("%d/%d cases run (%.0fs)", case, count, time.monotonic() - started)
    await _update_reports(args.url, args.agent, args.case_timeout)
    log.info("reports updated; %d cases could not run to their end on the driver's side", errors)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run every case of the fuzzing server at ``--url``; 0 when the reports were written."""
    parser = argparse.ArgumentParser(description="wsclient echo driver for wstest -m fuzzingserver")
    parser.add_argument("--url", required=True, help="the fuzzing server, ws://127.0.0.1:PORT")
    parser.add_argument("--agent", default="wskit", help="agent name in the reports (default wskit)")
    parser.add_argument("--case-timeout", type=float, default=120.0, help="seconds allowed per case (default 120)")
    parser.add_argument("--count-file", help="write the number of cases to this file")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args.url = args.url.rstrip("/")
    return asyncio.run(_drive(args))


if __name__ == "__main__":
    sys.exit(main())
