"""Run every atheris fuzz target for a fixed time and report executions and crashes.

Usage: ``python fuzzing/run.py --seconds 20 [--targets frames,http] [--jobs 2]``.

Each target runs in its own subprocess with libFuzzer's ``-max_total_time``, starting
from the hand-made seeds in ``fuzzing/corpus/<target>/`` plus the inputs that earlier
runs found interesting (kept in ``reports/fuzz/corpus/<target>/``, not committed).
Crashing inputs are written to ``reports/fuzz/crashes/<target>/``; reproduce one with
``python fuzzing/fuzz_<target>.py <file>``. A summary goes to stdout and to
``reports/fuzz/summary.json``. The exit status is 1 when any target crashed or did not
run, else 0.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGETS = ["frames", "http", "deflate"]
REPORTS = ROOT / "reports" / "fuzz"

_RUNS = re.compile(r"Done (\d+) runs in (\d+) second")
_STATUS = re.compile(r"^#(\d+)\s+\w+\s+cov: (\d+)", re.MULTILINE)


def run_target(target: str, seconds: int, timeout: int, rss_limit_mb: int) -> dict[str, object]:
    """Fuzz one target; return its figures."""
    work = REPORTS / "corpus" / target
    crashes = REPORTS / "crashes" / target
    work.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    before = set(crashes.iterdir())
    env = dict(os.environ)
    src = str(ROOT / "packages" / "wsframe" / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    command = [
        sys.executable,
        str(HERE / f"fuzz_{target}.py"),
        f"-max_total_time={seconds}",
        f"-timeout={timeout}",
        f"-rss_limit_mb={rss_limit_mb}",
        f"-artifact_prefix={crashes}/",
        "-print_final_stats=1",
        str(work),
        str(HERE / "corpus" / target),
    ]
    started = time.monotonic()
    # A hang is libFuzzer's -timeout; this bound only guards against the runner itself hanging.
    try:
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds * 2 + 120)
        output, status = proc.stderr + proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as exc:
        output, status = str(exc.stderr or ""), -1
    took = time.monotonic() - started
    log = REPORTS / f"{target}.log"
    log.write_text(output)
    runs = _RUNS.search(output)
    statuses = _STATUS.findall(output)
    execs = int(runs.group(1)) if runs else (int(statuses[-1][0]) if statuses else 0)
    found = sorted(str(path.relative_to(ROOT)) for path in set(crashes.iterdir()) - before)
    error = None
    if status != 0:
        match = re.search(r"=== Uncaught Python exception: ===\n(.*)", output)
        error = match.group(1) if match else (output.strip().splitlines() or ["no output"])[-1]
    return {
        "target": target,
        "seconds": round(took, 1),
        "execs": execs,
        "execs_per_second": round(execs / took) if took else 0,
        "coverage": int(statuses[-1][1]) if statuses else 0,
        "corpus_files": sum(1 for _ in work.iterdir()),
        "exit_status": status,
        "crashes": found,
        "error": error,
        "log": str(log.relative_to(ROOT)),
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the targets, print and save the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="time per target (default 20)")
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated: " + ", ".join(TARGETS))
    parser.add_argument("--jobs", type=int, default=1, help="targets run at once (default 1)")
    parser.add_argument("--timeout", type=int, default=10, help="seconds one input may take (default 10)")
    parser.add_argument("--rss-limit-mb", type=int, default=1024, help="memory limit per target (default 1024)")
    options = parser.parse_args(argv)
    targets = [name.strip() for name in options.targets.split(",") if name.strip()]
    unknown = [name for name in targets if name not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s): {', '.join(unknown)}")
    REPORTS.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=max(options.jobs, 1)) as pool:
        results = list(
            pool.map(lambda t: run_target(t, options.seconds, options.timeout, options.rss_limit_mb), targets)
        )
    failed = False
    print(f"{'target':<10} {'seconds':>8} {'execs':>10} {'execs/s':>8} {'cov':>6} {'corpus':>7}  result")
    for result in results:
        bad = result["exit_status"] != 0 or result["crashes"] or not result["execs"]
        failed = failed or bool(bad)
        outcome = "ok" if not bad else f"FAILED: {result['error']} {' '.join(result['crashes'])}"  # type: ignore[arg-type]
        print(
            f"{result['target']:<10} {result['seconds']:>8} {result['execs']:>10} {result['execs_per_second']:>8}"
            f" {result['coverage']:>6} {result['corpus_files']:>7}  {outcome}"
        )
    (REPORTS / "summary.json").write_text(json.dumps(results, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
