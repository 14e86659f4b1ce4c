"""Profile one echo server under one workload of the benchmark: where does its CPU go?

``python bench/profile_server.py [--server wskit] [--workload small] [--duration 10]
[--tool py-spy|cprofile] [--top 25]``

Starts the server pinned to core 0 and the load generator pinned to core 1, as
`run.py` does, then:

- ``py-spy`` (default; ``pip install py-spy``): samples the running server from outside
  for ``--duration`` seconds after the warm-up (``py-spy record --format raw``, native
  frames off), writes the folded stacks to ``reports/bench/profile-SERVER-WORKLOAD.txt``
  (flamegraph.pl or speedscope.app read them) and prints the functions with the most
  samples at the top of the stack (self time) and anywhere in it (total time).
- ``cprofile``: runs the server under cProfile (``BENCH_CPROFILE``, see
  servers/_common.py), writes ``reports/bench/profile-SERVER-WORKLOAD.prof`` and prints the
  functions sorted by self time. cProfile's own overhead inflates small functions.
"""

from __future__ import annotations

import argparse
import collections
import pstats
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from loadgen import WORKLOADS  # noqa: E402
from run import CLIENT_CORE, ROOT, SERVERS, Server, pinned, subject_env  # noqa: E402

#: Leaf frames of an event loop waiting for events (asyncio's selector; uvloop's run_forever).
IDLE_FRAMES = ("EpollSelector.select (", "select (selectors.py)")


def frame_name(frame: str) -> str:
    """``function (path/to/module.py:LINE)`` -> ``function (module.py)``: one entry per function."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(path).parts
    # Keep the package-relative tail: wsframe/_frames.py, asyncio/selector_events.py, ...
    short = "/".join(parts[-2:]) if len(parts) >= 2 else path
    return f"{name} ({short})"


def summarize_folded(path: Path, top: int) -> str:
    """Self and total sample counts per function from py-spy's raw (folded) output."""
    self_counts: collections.Counter[str] = collections.Counter()
    total_counts: collections.Counter[str] = collections.Counter()
    samples = idle = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [frame_name(f) for f in stack.split(";") if f and not f.startswith("process ")]
        if not frames:
            continue
        if frames[-1].startswith(IDLE_FRAMES):
            # Waiting in epoll for the next event: not work, left out of the percentages.
            idle += count
            continue
        samples += count
        self_counts[frames[-1]] += count
        for name in set(frames):
            total_counts[name] += count
    lines = [
        f"{samples} samples while busy, {idle} waiting in epoll (left out)",
        "",
        f"Top {top} by self time (% of busy samples):",
    ]
    lines += [f"  {100 * n / samples:5.1f}%  {name}" for name, n in self_counts.most_common(top)]
    lines += ["", f"Top {top} by total time (% of busy samples):"]
    lines += [f"  {100 * n / samples:5.1f}%  {name}" for name, n in total_counts.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="wskit", choices=sorted(SERVERS))
    parser.add_argument("--workload", default="small", choices=[w for w, v in WORKLOADS.items() if v.kind == "loop"])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds profiled (default 10)")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--tool", choices=["py-spy", "cprofile"], default="py-spy")
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second (default 200)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--output", type=Path, default=ROOT / "reports" / "bench")
    args = parser.parse_args()

    subject = SERVERS[args.server]
    workload = WORKLOADS[args.workload]
    args.output.mkdir(parents=True, exist_ok=True)
    stem = args.output / f"profile-{args.server}-{args.workload}"
    env = subject_env(subject)
    if args.tool == "cprofile":
        env["BENCH_CPROFILE"] = str(stem.with_suffix(".prof"))
    elif not shutil.which("py-spy"):
        print("py-spy is not installed (pip install py-spy), or use --tool cprofile", file=sys.stderr)
        return 2

    server = Server(subject, deflate=workload.deflate, log=args.output / "servers.log", env=env)
    with server:
        loadgen = [sys.executable, str(BENCH / "loadgen.py"), args.workload, "--port", str(server.port)]
        loadgen += ["--server-pid", str(server.pid), "--duration", str(args.duration + 1), "--warmup", str(args.warmup)]
        load = subprocess.Popen(pinned(CLIENT_CORE, loadgen), stdout=subprocess.PIPE, cwd=BENCH)
        time.sleep(args.warmup + 0.5)
        if args.tool == "py-spy":
            folded = stem.with_suffix(".txt")
            command = ["py-spy", "record", "--pid", str(server.pid), "--duration", str(int(args.duration))]
            command += ["--rate", str(args.rate), "--format", "raw", "--output", str(folded)]
            subprocess.run(command, check=True, capture_output=True, timeout=args.duration + 60)
        out, _ = load.communicate(timeout=args.warmup + args.duration + 120)
    print(f"load: {out.decode().strip()}")
    if args.tool == "py-spy":
        print(summarize_folded(folded, args.top))
        print(f"\nfolded stacks: {folded}")
    else:
        profile = stem.with_suffix(".prof")
        stats = pstats.Stats(str(profile))
        stats.sort_stats("tottime").print_stats(args.top)
        print(f"profile: {profile}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
