"""Shared plumbing of the client-side benchmark scripts in this folder.

Every client script is run as ``python bench/clients/NAME_client.py URL --connections N
--size BYTES [--text] [--duration S] [--warmup S] [--uvloop] [--server-pid PID]``. It
opens N connections to the echo server at URL, keeps one message in flight on each (a
closed loop: send, wait for the echo, send again), and after the warm-up measures for
the duration: messages completed, its own CPU time (user + system of the whole
process) and, given a pid, the server's. It prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["MAX_MESSAGE_SIZE", "Counters", "measure", "parse_args", "payload_for", "report", "run"]

MAX_MESSAGE_SIZE = 16 * 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("url", help="ws://127.0.0.1:PORT/ of an echo server")
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--size", type=int, default=32, help="message size in bytes")
    parser.add_argument("--text", action="store_true", help="text messages (default binary)")
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--server-pid", type=int, default=0)
    return parser.parse_args()


def payload_for(args: argparse.Namespace) -> str | bytes:
    """The message every connection sends: ASCII text or random bytes."""
    rng = random.Random(args.size)
    if args.text:
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(args.size))
    return rng.randbytes(args.size)


class Counters:
    def __init__(self) -> None:
        self.messages = 0
        self.running = True
        self.errors: list[str] = []


def _machine_busy() -> float:
    """CPU seconds spent so far by all cores (all but idle and iowait), from /proc/stat."""
    with open("/proc/stat", "rb") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLK_TCK


def _process_cpu(pid: int) -> float:
    if not pid:
        return 0.0
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rpartition(b")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


async def measure(args: argparse.Namespace, counters: Counters) -> dict[str, Any]:
    """Wait for the warm-up, measure one window, stop the loops; return the figures."""
    await asyncio.sleep(args.warmup)
    wall0, n0, cpu0, srv0 = time.perf_counter(), counters.messages, time.process_time(), _process_cpu(args.server_pid)
    busy0 = _machine_busy()
    await asyncio.sleep(args.duration)
    wall1, n1, cpu1, srv1 = time.perf_counter(), counters.messages, time.process_time(), _process_cpu(args.server_pid)
    busy1 = _machine_busy()
    counters.running = False
    elapsed = wall1 - wall0
    messages = n1 - n0
    return {
        "messages": messages,
        "elapsed": elapsed,
        "msg_per_s": messages / elapsed,
        "mb_per_s": messages * args.size / elapsed / 1e6,
        "client_cpu_us_per_msg": (cpu1 - cpu0) / messages * 1e6 if messages else None,
        "client_cpu_pct": 100 * (cpu1 - cpu0) / elapsed,
        "server_cpu_pct": 100 * (srv1 - srv0) / elapsed,
        # CPU used by anything else on the machine during the window, in % of one core
        # (meaningful only with --server-pid).
        "other_cpu_pct": 100 * (busy1 - busy0 - (cpu1 - cpu0) - (srv1 - srv0)) / elapsed,
        "errors": counters.errors[:5],
    }


def report(result: dict[str, Any]) -> None:
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()


def run(main: Callable[[], Coroutine[Any, Any, None]], *, use_uvloop: bool) -> None:
    if use_uvloop:
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())
