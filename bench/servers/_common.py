"""Shared plumbing of the Python echo servers in this folder (not a benchmark subject).

Every server script is run as ``python bench/servers/NAME_server.py PORT [--uvloop]
[--deflate]``: it listens on 127.0.0.1:PORT, prints ``READY <port>`` on stdout once
listening, echoes every message (text as text, binary as binary) and runs until
SIGTERM or SIGINT. `run` raises the open-file limit first (the idle workload holds
2,000 connections) and, when the environment variable ``BENCH_CPROFILE`` names a
file, runs the server under cProfile and writes the profile there on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["HOST", "MAX_MESSAGE_SIZE", "parse_args", "ready", "run"]

HOST = "127.0.0.1"
#: Largest message every server accepts: above the 4 MiB of the large workload.
MAX_MESSAGE_SIZE = 16 * 1024 * 1024


def parse_args(description: str, *, callback: bool = False) -> argparse.Namespace:
    """Parse ``PORT [--uvloop] [--deflate]`` (and ``[--callback]``) from the command line."""
    parser = argparse.ArgumentParser(description=description)
    if callback:
        parser.add_argument("--callback", action="store_true", help="the low-level message callback API")
    parser.add_argument("port", type=int, help="TCP port on 127.0.0.1")
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop's event loop")
    parser.add_argument("--deflate", action="store_true", help="accept permessage-deflate (off by default)")
    return parser.parse_args()


def ready(port: int) -> None:
    """Tell the harness that the server listens."""
    print(f"READY {port}", flush=True)


def _raise_nofile_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def _until_signal(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run `main` until SIGTERM or SIGINT cancels it (a clean exit, no traceback)."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(main())
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        pass


def run(main: Callable[[], Coroutine[Any, Any, None]], *, use_uvloop: bool = False) -> None:
    """Run the coroutine function `main` until SIGTERM or SIGINT.

    Args:
        main: the server's coroutine function (listens, calls `ready`, serves forever).
        use_uvloop: run it on uvloop instead of the default asyncio event loop.
    """
    _raise_nofile_limit()
    profile_path = os.environ.get("BENCH_CPROFILE") or None
    profiler = None
    if profile_path is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        if use_uvloop:
            import uvloop

            uvloop.run(_until_signal(main))
        else:
            asyncio.run(_until_signal(main))
    finally:
        if profiler is not None and profile_path is not None:
            profiler.disable()
            profiler.dump_stats(profile_path)
            print(f"cProfile written to {profile_path}", file=sys.stderr, flush=True)
