"""Run Autobahn|Testsuite against wskit, write the reports, gate them.

Each ``--run PART[:CASESET][:no-speedups]`` is one run; parts:

- ``server``: ``wstest -m fuzzingclient`` against ``python -m wsserver --host 127.0.0.1
  --port N`` (wsserver's own CLI is the official conformance target);
- ``router``: the same, against ``router_echo_server.py`` (wsrouter in front of the
  echo handler);
- ``client``: ``client_driver.py`` (wsclient) against ``wstest -m fuzzingserver``.

Case sets: ``full`` (every case, the default), ``reduced`` (the CI-time budget cut
for the Pythons that do not run the full set: 12.* and 13.*, permessage-deflate, keep
two cases of each group) or ``nodeflate`` (no 12.* nor 13.*: the pure-Python runs of
the Pythons whose accelerated runs already cover deflate); ``--cases`` picks patterns
by hand (``--cases '6.4.*,7.*'``).
``no-speedups`` runs wskit with ``WSFRAME_NO_SPEEDUPS=1``. ``--jobs 2`` runs two runs at
once (each run is a ping-pong between two processes that mostly wait for each other).

Everything listens on 127.0.0.1 on free ports; every process is bounded by a timeout
and stopped at the end. The reports go to ``<reports>/<part>-py<X.Y>[-no-speedups]/``
(Autobahn's HTML and JSON, the generated config, the logs of each process and
``wskit-run.json`` with the wall and CPU time of each process), then the gate
(gate.py) reads them. Exit status: 0 when every run meets the bar, 1 when not, 2 on
bad usage or when the environment cannot be built.

Runs with the interpreter that has wskit installed (the nox session's); the
targets and the driver run with that same interpreter.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import autobahn_env  # noqa: E402
import gate  # noqa: E402

__all__ = ["CASE_SETS", "PARTS", "RunSpec", "main", "parse_run", "run"]

ROOT = HERE.parent.parent
PARTS = ("server", "router", "client")
#: The permessage-deflate groups: 12.1-12.5 (five kinds of payload) and 13.1-13.7 (seven
#: negotiated parameter sets), each of 18 cases of 1000 messages (16 bytes to 128 KiB).
DEFLATE_GROUPS = [f"12.{group}" for group in range(1, 6)] + [f"13.{group}" for group in range(1, 8)]
#: Kept in the reduced set from each group: .1 (1000 messages of 16 bytes) and .11
#: (1000 messages of 8 KiB, compressed and sent in 256-byte fragments).
DEFLATE_KEPT = (1, 11)
#: The case sets: (cases, exclude-cases) of the Autobahn config.
CASE_SETS: dict[str, tuple[list[str], list[str]]] = {
    "full": (["*"], []),
    # The CI-time budget cut: 12.* and 13.* (permessage-deflate) take 98% of a full
    # run's time; on the Pythons other than FULL_AUTOBAHN_PYTHON (noxfile.py) each
    # group keeps two cases (negotiation, compressed and fragmented compressed messages).
    "reduced": (
        ["*"],
        [f"{group}.{case}" for group in DEFLATE_GROUPS for case in range(1, 19) if case not in DEFLATE_KEPT],
    ),
    # The second look at each Python, with the pure-Python path (WSFRAME_NO_SPEEDUPS):
    # everything but permessage-deflate (247 cases, 9.* included), about 10 s.
    "nodeflate": (["*"], ["12.*", "13.*"]),
}
#: How the summary names what a case set leaves out.
CASE_SET_EXCLUDES = {
    "full": "",
    "reduced": "12.*.* and 13.*.* except the .1 and .11 of each group",
    "nodeflate": "12.* and 13.* (permessage-deflate)",
}
#: Bound of a whole run, by case set (seconds); --timeout overrides.
RUN_TIMEOUTS = {"full": 1800.0, "reduced": 900.0, "nodeflate": 600.0, "custom": 1800.0}
#: Bound of the wait for a process to listen (seconds).
START_TIMEOUT = 30.0
HEARTBEAT = 60.0

COUNT_CASES = """\
import json, sys
from autobahntestsuite.case import Cases, CaseSetname, CaseBasename, CaseCategories, CaseSubCategories
from autobahntestsuite.caseset import CaseSet
spec = json.loads(sys.argv[1])
print(len(CaseSet(CaseSetname, CaseBasename, Cases, CaseCategories, CaseSubCategories).parseSpecCases(spec)))
"""


_print_lock = threading.Lock()


def _log(message: str) -> None:
    with _print_lock:
        print(f"[autobahn] {message}", flush=True)


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a running process (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the command: state is field 3; utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Process:
    """A child process in a session of its own, with its log and its last CPU reading."""

    def __init__(self, name: str, command: list[str], log: Path, env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.log = log
        self.cpu: float | None = None
        _log("$ " + " ".join(command))
        with open(log, "wb") as output:
            # A session of its own: stopping it stops whatever it started, and nothing else.
            self.popen = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
            )

    def sample(self) -> None:
        cpu = _cpu_seconds(self.popen.pid)
        if cpu is not None and self.popen.poll() is None:
            self.cpu = cpu

    def running(self) -> bool:
        return self.popen.poll() is None

    def wait(self, timeout: float, progress: Path, expected: int, label: str) -> bool:
        """Wait for the exit within `timeout`, printing progress; False on timeout."""
        started = time.monotonic()
        next_beat = started + HEARTBEAT
        while True:
            self.sample()
            try:
                self.popen.wait(1.0)
                return True
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if now - started > timeout:
                _log(f"{label}: {self.name} still running after {timeout:.0f}s: stopping it")
                return False
            if now >= next_beat:
                _log(f"{label}: {_cases_started(progress)}/{expected} cases started ({now - started:.0f}s)")
                next_beat = now + HEARTBEAT

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM the process group, then SIGKILL; return the exit code (None if killed)."""
        self.sample()
        if self.popen.poll() is not None:
            return self.popen.returncode
        for signum, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.popen.pid, signum)
            except ProcessLookupError:
                break
            try:
                self.popen.wait(wait)
                break
            except subprocess.TimeoutExpired:
                _log(f"{self.name} did not stop on {signum.name}")
        return self.popen.returncode if self.popen.poll() is not None else None

    def wait_listening(self, port: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.running():
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode} before listening on port {port}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not listen on 127.0.0.1:{port} within {START_TIMEOUT:.0f}s")

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _cases_started(log_path: Path) -> int:
    try:
        return log_path.read_bytes().count(b"Running test case ID")
    except OSError:
        return 0


def _python_label() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def _probe_speedups(env: dict[str, str]) -> bool | None:
    probe = subprocess.run(
        [sys.executable, "-c", "import wsframe; print(wsframe.SPEEDUPS)"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    value = probe.stdout.strip()
    return True if value == "True" else False if value == "False" else None


def _count_cases(wstest: Path, spec: dict[str, Any]) -> int:
    python = wstest.parent / "python"
    result = subprocess.run(
        [str(python), "-c", COUNT_CASES, json.dumps(spec)], capture_output=True, text=True, timeout=60, check=True
    )
    return int(result.stdout.strip())


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One Autobahn run: a part, a case set (or case patterns), the accelerator on or off."""

    part: str
    case_set: str = "full"
    no_speedups: bool = False
    cases: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The run's folder name: ``<part>-py<X.Y>[-no-speedups]``."""
        return f"{self.part}-py{_python_label()}" + ("-no-speedups" if self.no_speedups else "")


def parse_run(text: str) -> RunSpec:
    """Parse ``PART[:CASESET][:no-speedups]`` (``client:reduced:no-speedups``).

    Raises:
        ValueError: an unknown part, case set or flag.
    """
    part, *rest = text.split(":")
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}: choose from {', '.join(PARTS)}")
    case_set, no_speedups = "full", False
    for item in rest:
        if item in CASE_SETS:
            case_set = item
        elif item == "no-speedups":
            no_speedups = True
        else:
            raise ValueError(f"unknown item {item!r} in {text!r}: a case set ({', '.join(CASE_SETS)}) or no-speedups")
    return RunSpec(part, case_set, no_speedups)


def _fuzzingclient(
    spec: RunSpec,
    wstest: Path,
    folder: Path,
    config: dict[str, Any],
    env: dict[str, str],
    timeout: float,
    expected: int,
) -> tuple[list[str], dict[str, float | None]]:
    """wstest's fuzzing client against a wskit echo server; return the errors and CPU times."""
    errors: list[str] = []
    port = free_port()
    if spec.part == "server":
        target = [sys.executable, "-m", "wsserver", "--host", "127.0.0.1", "--port", str(port)]
        agent = "wsserver"
    else:
        target = [sys.executable, str(HERE / "router_echo_server.py"), "--host", "127.0.0.1", "--port", str(port)]
        agent = "wsrouter"
    config = {**config, "servers": [{"agent": agent, "url": f"ws://127.0.0.1:{port}"}]}
    (folder / "fuzzingclient.json").write_text(json.dumps(config, indent=2) + "\n")
    server = _Process(f"{agent} echo server", target, folder / "target.log", env, ROOT)
    client: _Process | None = None
    try:
        server.wait_listening(port)
        command = [str(wstest), "-m", "fuzzingclient", "-s", str(folder / "fuzzingclient.json")]
        client = _Process("wstest fuzzingclient", command, folder / "wstest.log", env, folder)
        if not client.wait(timeout, folder / "wstest.log", expected, spec.name):
            errors.append(f"timed out after {timeout:.0f}s")
        code = client.stop()
        if code not in (0, None):
            errors.append(f"wstest exited with {code} (see wstest.log)")
        if not server.running():
            errors.append(
                f"the {agent} echo server died during the run (exit {server.popen.returncode}; see target.log)"
            )
    finally:
        if client is not None:
            client.stop()
        server.stop()
    if errors:
        _log(f"{spec.name}: {server.name} log ends with:\n{server.tail()}")
    return errors, {"wstest": client.cpu if client else None, "wskit": server.cpu}


def _fuzzingserver(
    spec: RunSpec,
    wstest: Path,
    folder: Path,
    config: dict[str, Any],
    env: dict[str, str],
    timeout: float,
    expected: int,
) -> tuple[list[str], dict[str, float | None]]:
    """The wsclient driver against wstest's fuzzing server; return the errors and CPU times."""
    errors: list[str] = []
    port = free_port()
    config = {"url": f"ws://127.0.0.1:{port}", **config}
    (folder / "fuzzingserver.json").write_text(json.dumps(config, indent=2) + "\n")
    # -u 0: no web server of its own (it would take port 8080).
    command = [str(wstest), "-m", "fuzzingserver", "-u", "0", "-s", str(folder / "fuzzingserver.json")]
    server = _Process("wstest fuzzingserver", command, folder / "wstest.log", env, folder)
    driver: _Process | None = None
    try:
        server.wait_listening(port)
        command = [sys.executable, str(HERE / "client_driver.py"), "--url", f"ws://127.0.0.1:{port}"]
        command += ["--agent", "wsclient", "--count-file", str(folder / "case-count.txt")]
        driver = _Process("wsclient driver", command, folder / "target.log", env, ROOT)
        if not driver.wait(timeout, folder / "wstest.log", expected, spec.name):
            errors.append(f"timed out after {timeout:.0f}s")
        code = driver.stop()
        if code not in (0, None):
            errors.append(f"the wsclient driver exited with {code} (see target.log)")
        if not server.running():
            errors.append(f"wstest fuzzingserver died during the run (exit {server.popen.returncode}; see wstest.log)")
    finally:
        if driver is not None:
            driver.stop()
        server.stop()
    if errors and driver is not None:
        _log(f"{spec.name}: {driver.name} log ends with:\n{driver.tail()}")
    return errors, {"wstest": server.cpu, "wskit": driver.cpu if driver else None}


def run(spec: RunSpec, *, wstest: Path, reports: Path, timeout: float | None = None) -> gate.RunReport:
    """Run one Autobahn run, write its reports and ``wskit-run.json``, return its gated report."""
    if spec.cases:
        patterns, excluded, case_set = list(spec.cases), [], "custom"
    else:
        (patterns, excluded), case_set = CASE_SETS[spec.case_set], spec.case_set
    folder = reports / spec.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = {key: value for key, value in os.environ.items() if key != "WSFRAME_NO_SPEEDUPS"}
    if spec.no_speedups:
        env["WSFRAME_NO_SPEEDUPS"] = "1"
    config = {"outdir": str(folder), "cases": patterns, "exclude-cases": excluded, "exclude-agent-cases": {}}
    expected = _count_cases(wstest, config)
    speedups = _probe_speedups(env)
    errors: list[str] = []
    if spec.no_speedups and speedups is not False:
        errors.append(f"WSFRAME_NO_SPEEDUPS=1 but wsframe.SPEEDUPS is {speedups}")
    if not spec.no_speedups and speedups is not True:
        _log(f"note: wsframe.SPEEDUPS is {speedups}: the C accelerator is not built here")
    run_timeout = timeout if timeout is not None else RUN_TIMEOUTS[case_set]
    left_out = CASE_SET_EXCLUDES.get(case_set, "")
    _log(
        f"{spec.name}: {spec.part} direction, Python {sys.version.split()[0]}, wsframe.SPEEDUPS={speedups}, "
        f"case set {case_set}: {','.join(patterns)}{' minus ' + left_out if left_out else ''} = {expected} cases, "
        f"timeout {run_timeout:.0f}s"
    )
    started = time.monotonic()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    cpu: dict[str, float | None] = {}
    try:
        if spec.part == "client":
            more, cpu = _fuzzingserver(spec, wstest, folder, config, env, run_timeout, expected)
        else:
            more, cpu = _fuzzingclient(spec, wstest, folder, config, env, run_timeout, expected)
        errors += more
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    duration = time.monotonic() - started
    meta = {
        "run": spec.name,
        "direction": spec.part,
        "python": sys.version.split()[0],
        "speedups": speedups,
        "case_set": case_set,
        "cases": patterns,
        "exclude_cases": [left_out] if left_out else excluded,
        "expected_cases": expected,
        "autobahntestsuite": autobahn_env.AUTOBAHN_REQUIREMENT.split("==")[1],
        "date": date,
        "duration_s": round(duration),
        "cpu_s": {name: None if value is None else round(value) for name, value in cpu.items()},
        "error": "; ".join(errors) or None,
    }
    (folder / gate.META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    _log(f"{spec.name}: finished in {duration:.0f}s (CPU: {meta['cpu_s']}); reports in {folder}")
    return gate.load_run(folder)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the runs asked for and gate each; see the module docstring."""
    parser = argparse.ArgumentParser(prog="run.py", description="Run Autobahn|Testsuite against wskit and gate it.")
    parser.add_argument(
        "--run",
        action="append",
        required=True,
        metavar="PART[:CASESET][:no-speedups]",
        help=f"one run; parts {', '.join(PARTS)}; case sets {', '.join(CASE_SETS)} (default full)",
    )
    parser.add_argument("--cases", help="comma-separated case patterns for every run, instead of a case set")
    parser.add_argument("--jobs", type=int, default=1, help="runs at once (default 1)")
    parser.add_argument("--reports", type=Path, default=ROOT / "reports" / "autobahn", help="reports folder")
    parser.add_argument("--timeout", type=float, help="bound of each run in seconds")
    parser.add_argument("--cache", type=Path, help="cache folder of the Autobahn environment")
    args = parser.parse_args(argv)
    try:
        specs = [parse_run(text) for text in args.run]
    except ValueError as exc:
        parser.error(str(exc))
    if args.cases:
        cases = tuple(pattern.strip() for pattern in args.cases.split(",") if pattern.strip())
        specs = [dataclasses.replace(spec, cases=cases) for spec in specs]
    try:
        wstest = autobahn_env.ensure_autobahn(args.cache)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        _log(f"cannot build the Autobahn environment: {exc}")
        return 2
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run, spec, wstest=wstest, reports=args.reports, timeout=args.timeout) for spec in specs]
        reports = [future.result() for future in futures]
    print(gate.render_text(reports), flush=True)
    _log(f"{len(reports)} runs in {time.monotonic() - started:.0f}s with {max(1, args.jobs)} at once")
    return 0 if all(report.passed for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
