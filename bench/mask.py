"""Masking throughput (RFC 6455 section 5.3): pure Python vs the C accelerator.

Usage: ``python bench/mask.py [--budget SECONDS] [--repeat N]``

For each payload size it times `wsframe._mask.apply_mask_python` and, when built,
`wsframe._speedups.apply_mask`, keeps the best of ``--repeat`` runs (each run lasts at
least about 0.2 s, as chosen by `timeit.Timer.autorange`) and stops repeating once the
measurement of one function has used ``--budget`` seconds. Prints a markdown table of
MB/s (10**6 bytes per second). wsframe is imported from the environment, else from
``packages/wsframe/src`` (build the extension in place with ``pip install -e
packages/wsframe``).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path

try:
    import wsframe._mask  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "packages/wsframe/src"))

from wsframe._mask import apply_mask_python

apply_mask_c: Callable[[bytes, bytes], bytes] | None
try:
    from wsframe._speedups import apply_mask as apply_mask_c
except ImportError:
    apply_mask_c = None

SIZES = [("1 KiB", 1024), ("1 MiB", 1024 * 1024)]
MASK = bytes.fromhex("37fa213d")


def throughput(func: Callable[[bytes, bytes], bytes], data: bytes, repeat: int, budget: float) -> float:
    """Best throughput of `func` on `data` in MB/s, over at most `repeat` timed runs.

    Args:
        func: the masking function.
        data: the payload.
        repeat: the maximum number of timed runs.
        budget: the seconds after which no new run starts.

    Returns:
        The best throughput, in 10**6 bytes per second.
    """
    timer = timeit.Timer(lambda: func(data, MASK))
    number, _ = timer.autorange()
    best = float("inf")
    deadline = time.perf_counter() + budget
    for _ in range(repeat):
        best = min(best, timer.timeit(number) / number)
        if time.perf_counter() > deadline:
            break
    return len(data) / best / 1e6


def main() -> None:
    """Measure every size with each available implementation and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=2.0, help="seconds per measurement")
    parser.add_argument("--repeat", type=int, default=5, help="best of this many runs")
    args = parser.parse_args()

    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}),"
        f" {platform.machine()}, {os.cpu_count()} CPUs;"
        f" C accelerator {'built' if apply_mask_c else 'not built'}\n"
    )
    print("| payload | pure Python (MB/s) | C (MB/s) | C / Python |")
    print("| --- | ---: | ---: | ---: |")
    for label, size in SIZES:
        data = os.urandom(size)
        python = throughput(apply_mask_python, data, args.repeat, args.budget)
        if apply_mask_c is None:
            print(f"| {label} | {python:,.0f} | n/a | n/a |")
            continue
        assert apply_mask_c(data, MASK) == apply_mask_python(data, MASK)
        c = throughput(apply_mask_c, data, args.repeat, args.budget)
        print(f"| {label} | {python:,.0f} | {c:,.0f} | {c / python:.1f}x |")


if __name__ == "__main__":
    main()
