"""Benchmark wskit's server and client against their Python peers: ``nox -s bench``.

``python bench/run.py [--rounds N] [--duration S] [--workloads small,large]
[--servers wskit,websockets] [--clients wskit,websockets] ...`` (see ``--help`` and
bench/README.md). For every round, workload and server it starts the echo server
pinned to core 0, runs `loadgen.py` pinned to core 1, and stops the server; rounds are
interleaved and the server order rotates from round to round. The client-side variant
runs each client script pinned to core 1 against one fixed server on core 0.

Writes ``reports/bench/latest.md`` (also printed), ``latest.json`` and ``latest.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from loadgen import WORKLOADS, machine_busy  # noqa: E402

SERVER_CORE = "0"
CLIENT_CORE = "1"
BASELINE = "websockets"
PEER_DISTRIBUTIONS = ["websockets", "picows", "aiohttp", "wsproto", "uvloop"]


@dataclasses.dataclass(frozen=True)
class Subject:
    """One echo server or client under test: how to start it and what it needs."""

    name: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    modules: tuple[str, ...] = ()  # Python modules that must be importable
    node_packages: tuple[str, ...] = ()  # npm packages that must be in bench/node_modules
    deflate: bool = False  # takes --deflate
    description: str = ""
    workloads: tuple[str, ...] = ()  # the server workloads it can take; () for all

    def takes(self, workload: str) -> bool:
        """Whether this server is measured under `workload`."""
        if self.workloads and workload not in self.workloads:
            return False
        return self.deflate or not WORKLOADS[workload].deflate


def _py(script: str, *extra: str) -> tuple[str, ...]:
    return (sys.executable, str(BENCH / script), *extra)


NO_SPEEDUPS = (("WSFRAME_NO_SPEEDUPS", "1"),)
SERVERS = {
    s.name: s
    for s in [
        Subject(
            "wskit",
            _py("servers/wskit_server.py"),
            modules=("wsserver",),
            deflate=True,
            description="wsserver, C accelerator",
        ),
        Subject(
            "wskit-pure",
            _py("servers/wskit_server.py"),
            NO_SPEEDUPS,
            ("wsserver",),
            deflate=True,
            description="wsserver, WSFRAME_NO_SPEEDUPS=1",
        ),
        Subject(
            "wskit-uvloop",
            _py("servers/wskit_server.py", "--uvloop"),
            modules=("wsserver", "uvloop"),
            deflate=True,
            description="wsserver on uvloop",
        ),
        Subject(
            "wskit-callback",
            _py("servers/wskit_server.py", "--callback"),
            modules=("wsserver",),
            deflate=True,
            description="wsserver, set_message_callback() (low-level API)",
        ),
        Subject(
            "websockets",
            _py("servers/websockets_server.py"),
            modules=("websockets",),
            deflate=True,
            description="websockets asyncio API",
        ),
        Subject("picows", _py("servers/picows_server.py"), modules=("picows",), description="picows listener"),
        Subject(
            "picows-uvloop",
            _py("servers/picows_server.py", "--uvloop"),
            modules=("picows", "uvloop"),
            description="picows on uvloop",
        ),
        Subject(
            "aiohttp",
            _py("servers/aiohttp_server.py"),
            modules=("aiohttp",),
            deflate=True,
            description="aiohttp WebSocketResponse",
        ),
        Subject(
            "wsproto",
            _py("servers/wsproto_server.py"),
            modules=("wsproto",),
            description="wsproto in an asyncio Protocol",
        ),
        # Not WebSocket servers: what asyncio's own loop and socket transport cost with
        # no WebSocket work at all (floor/floor_server.py, bench/README.md "The floor").
        Subject(
            "floor-callback",
            _py("floor/floor_server.py", "--constant"),
            description="no WebSocket work, reply from the protocol callback (reference)",
            workloads=("small",),
        ),
        Subject(
            "floor-task",
            _py("floor/floor_server.py", "--constant", "--task"),
            description="no WebSocket work, reply from a task per connection (reference)",
            workloads=("small",),
        ),
        Subject(
            "floor-task-uvloop",
            _py("floor/floor_server.py", "--constant", "--task", "--uvloop"),
            modules=("uvloop",),
            description="floor-task on uvloop (reference)",
            workloads=("small",),
        ),
        Subject(
            "node-ws",
            ("node", str(BENCH / "servers/node_ws_server.js")),
            node_packages=("ws",),
            description="npm ws (Node.js, reference)",
        ),
        Subject(
            "node-websocket",
            ("node", str(BENCH / "servers/node_websocket_server.js")),
            node_packages=("websocket",),
            description="npm websocket (Node.js, reference)",
        ),
    ]
}
CLIENTS = {
    s.name: s
    for s in [
        Subject("wskit", _py("clients/wskit_client.py"), modules=("wsclient",), description="wsclient, C accelerator"),
        Subject(
            "wskit-pure",
            _py("clients/wskit_client.py"),
            NO_SPEEDUPS,
            ("wsclient",),
            description="wsclient, WSFRAME_NO_SPEEDUPS=1",
        ),
        Subject(
            "websockets",
            _py("clients/websockets_client.py"),
            modules=("websockets",),
            description="websockets asyncio API",
        ),
        Subject("picows", _py("clients/picows_client.py"), modules=("picows",), description="picows listener"),
    ]
}
#: Client-side workloads: connections, message size, text.
CLIENT_WORKLOADS = {
    "small": (16, 32, True, "16 connections, 32 B text, closed loop"),
    "large": (1, 4 * 1024 * 1024, False, "1 connection, 4 MiB binary, closed loop"),
}


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(core: str, argv: tuple[str, ...] | list[str]) -> list[str]:
    return ["taskset", "-c", core, *argv]


def subject_env(subject: Subject) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "WSFRAME_NO_SPEEDUPS"}
    env.update(subject.env)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


class Server:
    """An echo server process pinned to the server core, stopped on exit."""

    def __init__(self, subject: Subject, *, deflate: bool, log: Path, env: dict[str, str] | None = None) -> None:
        self.subject = subject
        self.port = free_port()
        argv = [*subject.argv, str(self.port)] + (["--deflate"] if deflate else [])
        self.log = log.open("ab")
        self.log.write(f"\n=== {' '.join(argv)}\n".encode())
        self.log.flush()
        self.process = subprocess.Popen(
            pinned(SERVER_CORE, argv),
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env or subject_env(subject),
            cwd=BENCH,
        )
        self.pid = self.process.pid  # taskset execs the command: same pid

    def wait_ready(self, timeout: float = 30.0) -> None:
        assert self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        line = b""
        try:
            while not line.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    raise RuntimeError(f"{self.subject.name}: not ready after {timeout} s")
                chunk = os.read(self.process.stdout.fileno(), 1)
                if not chunk:
                    raise RuntimeError(f"{self.subject.name}: exited with {self.process.wait()} (see the log)")
                line += chunk
        finally:
            selector.close()
        if line.split() != [b"READY", str(self.port).encode()]:
            raise RuntimeError(f"{self.subject.name}: unexpected first line {line!r}")

    def __enter__(self) -> Server:
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()


def wait_for_quiet(threshold_pct: float, max_wait: float) -> float:
    """Wait until other processes use at most `threshold_pct` % of one core (sampled over
    0.5 s), for at most `max_wait` seconds; return the last load seen."""
    deadline = time.monotonic() + max_wait
    while True:
        before = machine_busy()
        time.sleep(0.5)
        load = 100 * (machine_busy() - before) / 0.5
        if load <= threshold_pct or time.monotonic() >= deadline:
            return load


def run_json(argv: list[str], timeout: float, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a measuring process, return the JSON object on the last line of its stdout."""
    completed = subprocess.run(argv, capture_output=True, timeout=timeout, env=env, cwd=BENCH)
    lines = completed.stdout.decode().strip().splitlines()
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(argv[3:5])} failed ({completed.returncode}): {completed.stderr.decode()[-800:]}")
    return json.loads(lines[-1])  # type: ignore[no-any-return]


# ---------------------------------------------------------------- measuring


def measure_server(subject: Subject, workload_name: str, args: argparse.Namespace, log: Path) -> dict[str, Any]:
    workload = WORKLOADS[workload_name]
    if args.quiet_wait:
        wait_for_quiet(args.quiet_threshold, args.quiet_wait)
    with Server(subject, deflate=workload.deflate, log=log) as server:
        loadgen = [sys.executable, str(BENCH / "loadgen.py"), workload_name, "--port", str(server.port)]
        loadgen += ["--server-pid", str(server.pid), "--duration", str(args.duration), "--warmup", str(args.warmup)]
        loadgen += ["--loop", args.loadgen_loop]
        return run_json(pinned(CLIENT_CORE, loadgen), timeout=args.warmup + args.duration + 180)


def measure_client(
    subject: Subject, server: Subject, workload_name: str, args: argparse.Namespace, log: Path
) -> dict[str, Any]:
    connections, size, text, _ = CLIENT_WORKLOADS[workload_name]
    if args.quiet_wait:
        wait_for_quiet(args.quiet_threshold, args.quiet_wait)
    with Server(server, deflate=False, log=log) as srv:
        argv = [*subject.argv, f"ws://127.0.0.1:{srv.port}/", "--connections", str(connections), "--size", str(size)]
        argv += ["--duration", str(args.duration), "--warmup", str(args.warmup), "--server-pid", str(srv.pid)]
        if text:
            argv.append("--text")
        return run_json(pinned(CLIENT_CORE, argv), timeout=args.warmup + args.duration + 120, env=subject_env(subject))


# ---------------------------------------------------------------- availability


def node_ready(packages: tuple[str, ...], install: bool) -> str | None:
    """None if the npm packages are importable from bench/node_modules, else why not."""
    if not shutil.which("node"):
        return "node is not installed"
    missing = [p for p in packages if not (BENCH / "node_modules" / p / "package.json").is_file()]
    if missing and install and shutil.which("npm"):
        print("installing the Node.js reference servers: npm ci in bench/ ...", flush=True)
        command = ["npm", "ci", "--no-audit", "--no-fund"]
        try:
            subprocess.run(command, cwd=BENCH, check=True, timeout=300, capture_output=True)
        except (subprocess.SubprocessError, OSError) as exc:
            return f"npm ci failed: {exc}"
        missing = [p for p in packages if not (BENCH / "node_modules" / p / "package.json").is_file()]
    if missing:
        return f"npm packages missing from bench/node_modules: {', '.join(missing)}"
    return None


def unavailable(subject: Subject, install_node: bool) -> str | None:
    for module in subject.modules:
        if importlib.util.find_spec(module) is None:
            return f"Python module {module} is not installed"
    if subject.node_packages:
        return node_ready(subject.node_packages, install_node)
    if subject.env == NO_SPEEDUPS or "wskit" in subject.name:
        expected = "False" if subject.env == NO_SPEEDUPS else "True"
        check = subprocess.run(
            [sys.executable, "-c", "import wsframe; print(wsframe.SPEEDUPS)"],
            capture_output=True,
            env=subject_env(subject),
        )
        found = check.stdout.decode().strip()
        if found != expected:
            return f"wsframe.SPEEDUPS is {found or check.stderr.decode()[-200:]}, expected {expected}"
    return None


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for dist in ["wskit-frame", "wskit-server", "wskit-client", *PEER_DISTRIBUTIONS]:
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    if shutil.which("node"):
        found["node"] = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        for package in ["ws", "websocket"]:
            manifest = BENCH / "node_modules" / package / "package.json"
            if manifest.is_file():
                found[f"npm {package}"] = json.loads(manifest.read_text())["version"]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "packages"], cwd=ROOT, capture_output=True, text=True)
        found["wskit commit"] = commit.stdout.strip() + (" (packages/ modified)" if dirty.stdout.strip() else "")
    except OSError:
        pass
    return found


# ---------------------------------------------------------------- figures

#: Per workload kind: (key, column title, format, higher is better) of the main figures.
FIGURES = {
    "loop": [
        ("msg_per_s", "msg/s", "{:,.0f}", True),
        ("mb_per_s", "MB/s", "{:,.1f}", True),
        ("server_cpu_us_per_msg", "server CPU us/msg", "{:,.1f}", False),
    ],
    "handshake": [
        ("msg_per_s", "handshakes/s", "{:,.0f}", True),
        ("server_cpu_us_per_msg", "server CPU us/handshake", "{:,.0f}", False),
    ],
    "idle": [
        ("kib_per_conn", "KiB/connection", "{:,.1f}", False),
        ("server_cpu_us_per_conn", "server CPU us/connection", "{:,.0f}", False),
    ],
    "client": [
        ("msg_per_s", "msg/s", "{:,.0f}", True),
        ("mb_per_s", "MB/s", "{:,.1f}", True),
        ("client_cpu_us_per_msg", "client CPU us/msg", "{:,.1f}", False),
    ],
}
CLIENT_DIAGNOSTICS = [
    ("client_cpu_pct", "client CPU %"),
    ("server_cpu_pct", "server CPU %"),
    ("other_cpu_pct", "other load %"),
]
#: The figure whose spread across rounds the tables show.
MAIN_FIGURE = {
    "loop": "server_cpu_us_per_msg",
    "handshake": "server_cpu_us_per_msg",
    "idle": "kib_per_conn",
    "client": "client_cpu_us_per_msg",
}
#: Figures shown as a ratio to the baseline.
RATIO_KEYS = {"msg_per_s", "mb_per_s", "server_cpu_us_per_msg", "kib_per_conn", "client_cpu_us_per_msg"}
#: Shown for information: whether the load generator or other work limited the run.
DIAGNOSTICS = [
    ("server_cpu_pct", "server CPU %"),
    ("loadgen_cpu_pct", "loadgen CPU %"),
    ("other_cpu_pct", "other load %"),
]


def median_of(rounds: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rounds if r.get(key) is not None]
    return statistics.median(values) if values else None


def summarize(rounds: list[dict[str, Any]], keys: list[str], max_other_load: float | None) -> dict[str, Any]:
    """Medians (and spreads) of `keys` over the rounds of one subject and workload.

    Rounds whose `other_cpu_pct` exceeds `max_other_load` (another process took CPU
    time during the window) are left out, unless all of them do.
    """
    excluded = 0
    if max_other_load is not None:
        quiet = [r for r in rounds if r.get("other_cpu_pct", 0.0) <= max_other_load]
        if quiet:
            excluded = len(rounds) - len(quiet)
            rounds = quiet
    summary: dict[str, Any] = {"rounds": len(rounds), "excluded": excluded}
    for key in keys:
        summary[key] = median_of(rounds, key)
        values = [r[key] for r in rounds if r.get(key) is not None]
        if len(values) > 1 and summary[key]:
            summary[f"{key}_spread_pct"] = 100 * (max(values) - min(values)) / summary[key]
    errors = [e for r in rounds for e in r.get("errors", [])]
    if errors:
        summary["errors"] = errors[:5]
    return summary


def add_ratios(table: dict[str, dict[str, Any]]) -> None:
    base = table.get(BASELINE)
    for entry in table.values():
        for key in RATIO_KEYS:
            if key in entry and base and base.get(key) and entry.get(key) is not None:
                entry[f"{key}_ratio"] = entry[key] / base[key]


def fmt(value: Any, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)


def markdown_table(kind: str, table: dict[str, dict[str, Any]]) -> list[str]:
    """Rows of one workload: each figure followed by its ratio to the baseline."""
    figures = FIGURES[kind]
    header = ["server" if kind != "client" else "client"]
    for key, title, _, _ in figures:
        header.append(title)
        if key in RATIO_KEYS:
            header.append("ratio")
    diagnostics = DIAGNOSTICS if kind in ("loop", "handshake") else []
    if kind == "client":
        diagnostics = CLIENT_DIAGNOSTICS
    header += [title for _, title in diagnostics] + ["spread", "rounds"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, entry in table.items():
        row = [f"{name}" + (" *(baseline)*" if name == BASELINE else "")]
        for key, _, pattern, _ in figures:
            row.append(fmt(entry.get(key), pattern))
            if key in RATIO_KEYS:
                row.append(fmt(entry.get(f"{key}_ratio"), "{:.2f}x"))
        row += [fmt(entry.get(key), "{:.0f}") for key, _ in diagnostics]
        spread = entry.get(f"{MAIN_FIGURE[kind]}_spread_pct")
        row.append(fmt(spread, "{:.0f}%"))
        excluded = entry.get("excluded", 0)
        row.append(f"{entry.get('rounds', '-')}" + (f" (+{excluded} noisy)" if excluded else ""))
        if entry.get("errors"):
            row[0] += " ⚠"
        lines.append("| " + " | ".join(row) + " |")
    return lines


# ---------------------------------------------------------------- targets of issue 8


def targets(results: dict[str, dict[str, dict[str, Any]]]) -> list[tuple[str, str, str]]:
    """(target, verdict, evidence) for each target of issue 8 that this run measured."""

    def get(workload: str, server: str, key: str) -> float | None:
        value = results.get(workload, {}).get(server, {}).get(key)
        return float(value) if value is not None else None

    checks: list[tuple[str, str, str]] = []

    def check(target: str, ok: bool | None, evidence: str) -> None:
        checks.append((target, "-" if ok is None else ("holds" if ok else "does not hold"), evidence))

    a, b = get("small", "wskit", "server_cpu_us_per_msg"), get("small", "picows", "server_cpu_us_per_msg")
    if a and b:
        check("small: server CPU/msg (C accelerator) <= picows", a <= b, f"wskit {a:.1f} us vs picows {b:.1f} us")
    a, b = get("small", "wskit-pure", "server_cpu_us_per_msg"), get("small", BASELINE, "server_cpu_us_per_msg")
    if a and b:
        check(
            "small: server CPU/msg (pure Python) <= 1/2 websockets",
            a <= b / 2,
            f"wskit-pure {a:.1f} us vs websockets/2 {b / 2:.1f} us",
        )
    for workload in ("medium", "large"):
        a, b = get(workload, "wskit", "mb_per_s"), get(workload, "picows", "mb_per_s")
        if a and b:
            check(f"{workload}: MB/s >= picows", a >= b, f"wskit {a:,.1f} vs picows {b:,.1f} MB/s ({a / b:.2f}x)")
        a, b = get(workload, "wskit", "server_cpu_us_per_msg"), get(workload, "picows", "server_cpu_us_per_msg")
        if a and b:
            check(
                f"{workload}: server CPU/msg <= picows (MB/s when the server is the bottleneck)",
                a <= b,
                f"wskit {a:,.1f} us vs picows {b:,.1f} us",
            )
    a, b = get("idle", "wskit", "kib_per_conn"), get("idle", BASELINE, "kib_per_conn")
    if a and b:
        wsproto = get("idle", "wsproto", "kib_per_conn")
        extra = f"; bare wsproto {wsproto:.1f} KiB (the aim)" if wsproto else ""
        check("idle: memory/connection <= websockets", a <= b, f"wskit {a:.1f} vs websockets {b:.1f} KiB{extra}")
    a, b = get("deflate", "wskit", "mb_per_s"), get("deflate", BASELINE, "mb_per_s")
    if a and b:
        check("deflate: throughput >= websockets", a >= b, f"wskit {a:,.1f} vs websockets {b:,.1f} MB/s")
    a, b = get("deflate", "wskit", "server_cpu_us_per_msg"), get("deflate", BASELINE, "server_cpu_us_per_msg")
    if a and b:
        check("deflate: server CPU/msg <= websockets", a <= b, f"wskit {a:,.1f} vs websockets {b:,.1f} us")
    a, b = get("idle-deflate", "wskit", "kib_per_conn"), get("idle-deflate", BASELINE, "kib_per_conn")
    if a and b:
        check("deflate: memory/connection <= websockets", a <= b, f"wskit {a:.1f} vs websockets {b:.1f} KiB")
    a, b = get("handshake", "wskit", "msg_per_s"), get("handshake", BASELINE, "msg_per_s")
    if a and b:
        check("handshakes/s >= websockets", a >= b, f"wskit {a:,.0f} vs websockets {b:,.0f}/s")
    a, b = get("handshake", "wskit", "server_cpu_us_per_msg"), get("handshake", BASELINE, "server_cpu_us_per_msg")
    if a and b:
        check("handshake: server CPU/handshake <= websockets", a <= b, f"wskit {a:,.0f} vs websockets {b:,.0f} us")
    for workload in ("small", "medium"):
        a, b = (get(workload, name, "server_cpu_us_per_msg") for name in ("wskit-callback", "picows"))
        if a and b:
            check(
                f"(in addition, low-level API) {workload}: server CPU/msg",
                None,
                f"wskit-callback {a:.1f} us vs picows {b:.1f} us ({a / b:.2f}x)",
            )
    a, b, c = (get("small", name, "server_cpu_us_per_msg") for name in ("floor-task", "picows", BASELINE))
    if a and b and c:
        check(
            "(reference) small: a task per message with no WebSocket work",
            None,
            f"floor-task {a:.1f} us = {a / b:.2f}x picows {b:.1f} us, {a / (c / 2):.2f}x websockets/2 {c / 2:.1f} us",
        )
    if checks:
        check(
            "through the high-level API",
            True,
            "servers/wskit_server.py: `async for message in connection` / `await connection.send(message)`",
        )
    return checks


# ---------------------------------------------------------------- plot


def plot(report: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot", file=sys.stderr)
        return False
    servers = report["results"]
    panels: list[tuple[str, list[str], dict[str, list[float | None]], str]] = []

    def series(workloads: list[str], key: str, section: dict[str, Any]) -> tuple[list[str], dict[str, list[Any]]]:
        names: list[str] = []
        for w in workloads:
            for name in section.get(w, {}):
                if name not in names:
                    names.append(name)
        return names, {w: [section.get(w, {}).get(n, {}).get(key) for n in names] for w in workloads if w in section}

    for title, workloads, key, unit, section in [
        ("Server CPU per 32-byte message (lower is better)", ["small"], "server_cpu_us_per_msg", "us", servers),
        (
            "Server CPU per message, ratio to websockets (lower is better)",
            ["small", "medium", "large", "deflate", "handshake"],
            "server_cpu_us_per_msg_ratio",
            "x",
            servers,
        ),
        (
            "MB/s, ratio to websockets (higher is better)",
            ["medium", "large", "deflate"],
            "mb_per_s_ratio",
            "x",
            servers,
        ),
        ("KiB per idle connection (lower is better)", ["idle", "idle-deflate"], "kib_per_conn", "KiB", servers),
        ("Handshakes/s, ratio to websockets (higher is better)", ["handshake"], "msg_per_s_ratio", "x", servers),
        (
            "Client CPU per message, ratio to websockets (lower is better)",
            ["small", "large"],
            "client_cpu_us_per_msg_ratio",
            "x",
            report.get("clients", {}),
        ),
    ]:
        names, data = series(workloads, key, section)
        if data and any(v is not None for values in data.values() for v in values):
            panels.append((title, names, data, unit))
    if not panels:
        return False
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 3.2 * len(panels)), squeeze=False)
    for ax, (title, names, data, unit) in zip(axes[:, 0], panels, strict=False):
        width = 0.8 / len(data)
        for i, (workload, values) in enumerate(data.items()):
            xs = [j + (i - (len(data) - 1) / 2) * width for j in range(len(names))]
            bars = ax.bar(xs, [v or 0 for v in values], width, label=workload)
            for bar, value in zip(bars, values, strict=False):
                if value is not None:
                    ax.annotate(
                        f"{value:.2g}" if unit == "x" else f"{value:.1f}",
                        (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center",
                        va="bottom",
                        fontsize=7,
                    )
        if unit == "x":
            ax.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
        ax.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(unit)
        if len(data) > 1:
            ax.legend(fontsize=8)
    meta = report["meta"]
    fig.suptitle(f"wskit benchmark {meta['date']} - median of {meta['rounds']} rounds, {meta['cpu']}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.985))  # room for the title above the first panel
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians reported (default 5)")
    parser.add_argument("--duration", type=float, default=3.0, help="measured window per measurement, s (default 3)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up before each window, s (default 1)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help=f"comma-separated: {','.join(WORKLOADS)}")
    parser.add_argument("--servers", default="all", help=f"comma-separated or all: {','.join(SERVERS)}")
    parser.add_argument("--clients", default="all", help=f"comma-separated, all or none: {','.join(CLIENTS)}")
    parser.add_argument("--client-workloads", default=",".join(CLIENT_WORKLOADS), help="small,large")
    parser.add_argument(
        "--client-server",
        default="picows-uvloop",
        help="the fixed echo server of the client-side variant (default picows-uvloop)",
    )
    parser.add_argument(
        "--loadgen-loop",
        choices=["auto", "asyncio", "uvloop"],
        default="auto",
        help="event loop of the load generator (auto: uvloop when installed)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="on a shared machine: before each measurement, wait up to this long for other load to drop "
        "below --quiet-threshold (default 0: do not wait)",
    )
    parser.add_argument(
        "--quiet-threshold",
        type=float,
        default=20.0,
        metavar="PERCENT",
        help="other load, in %% of one core, low enough to measure (default 20)",
    )
    parser.add_argument(
        "--max-other-load",
        type=float,
        default=30.0,
        metavar="PERCENT",
        help="leave out of the medians the measurements during which other processes used more than this "
        "(in %% of one core), unless all rounds did (default 30; 1000 keeps everything)",
    )
    parser.add_argument(
        "--from-json",
        type=Path,
        metavar="FILE",
        help="measure nothing: aggregate the raw figures of an earlier latest.json again (e.g. with another "
        "--max-other-load) and write the reports",
    )
    parser.add_argument("--output", type=Path, default=ROOT / "reports" / "bench", help="output folder")
    parser.add_argument("--no-npm", action="store_true", help="never run npm ci for the Node.js servers")
    args = parser.parse_args(argv)
    args.workload_list = [w for w in args.workloads.split(",") if w]
    for w in args.workload_list:
        if w not in WORKLOADS:
            parser.error(f"unknown workload {w!r}; choose from {', '.join(WORKLOADS)}")
    args.server_list = list(SERVERS) if args.servers == "all" else [s for s in args.servers.split(",") if s]
    args.client_list = (
        [] if args.clients == "none" else list(CLIENTS) if args.clients == "all" else args.clients.split(",")
    )
    args.client_workload_list = [w for w in args.client_workloads.split(",") if w]
    checks: list[tuple[list[str], dict[str, Any], str]] = [
        (args.server_list, SERVERS, "server"),
        (args.client_list, CLIENTS, "client"),
        (args.client_workload_list, CLIENT_WORKLOADS, "client workload"),
        ([args.client_server], SERVERS, "client server"),
    ]
    for names, known, what in checks:
        for name in names:
            if name not in known:
                parser.error(f"unknown {what} {name!r}; choose from {', '.join(known)}")
    if args.rounds < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("--rounds must be >= 1, --duration > 0, --warmup >= 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json:
        report = json.loads(args.from_json.read_text())
        raw = report["raw"]
        report["results"], report["clients"] = aggregate(raw["servers"], raw["clients"], args.max_other_load)
        report["targets"] = targets(report["results"])
        report["meta"]["max_other_load_pct"] = args.max_other_load
        args.output.mkdir(parents=True, exist_ok=True)
        write_reports(report, args.output)
        return 0
    if not shutil.which("taskset") or (os.cpu_count() or 1) < 2:
        print("needs taskset and at least 2 cores (server and load generator on their own core)", file=sys.stderr)
        return 2
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by the Node.js servers
    args.output.mkdir(parents=True, exist_ok=True)
    log = args.output / "servers.log"
    log.write_text("")

    skipped: dict[str, str] = {}
    servers: list[Subject] = []
    for name in args.server_list:
        reason = unavailable(SERVERS[name], not args.no_npm)
        if reason:
            skipped[f"server {name}"] = reason
            print(f"skipping server {name}: {reason}", file=sys.stderr)
        else:
            servers.append(SERVERS[name])
    clients: list[Subject] = []
    client_server = SERVERS[args.client_server]
    if args.client_list:
        reason = unavailable(client_server, not args.no_npm)
        if reason:
            fallback = SERVERS["picows"]
            print(f"client-side server {client_server.name} unavailable ({reason})", file=sys.stderr)
            client_server = fallback if not unavailable(fallback, False) else client_server
        for name in args.client_list:
            reason = unavailable(CLIENTS[name], False) or unavailable(client_server, False)
            if reason:
                skipped[f"client {name}"] = reason
                print(f"skipping client {name}: {reason}", file=sys.stderr)
            else:
                clients.append(CLIENTS[name])

    # (workload, subject): every server that takes the workload (--deflate for deflate ones).
    plan = [(w, s) for w in args.workload_list for s in servers if s.takes(w)]
    measurements = len(plan) + len(clients) * len(args.client_workload_list)
    print(
        f"{measurements} measurements x {args.rounds} rounds, {args.warmup:g} s warm-up + {args.duration:g} s each; "
        f"servers on core {SERVER_CORE}, load on core {CLIENT_CORE}",
        flush=True,
    )
    raw: dict[str, dict[str, list[dict[str, Any]]]] = {w: {} for w in args.workload_list}
    client_raw: dict[str, dict[str, list[dict[str, Any]]]] = {w: {} for w in args.client_workload_list}
    started = time.monotonic()
    for round_number in range(args.rounds):
        print(f"--- round {round_number + 1}/{args.rounds}", flush=True)
        for workload_name in args.workload_list:
            # Rotate the order from round to round so no server always runs first.
            subjects = [s for s in servers if s.takes(workload_name)]
            shift = round_number % max(len(subjects), 1)
            for subject in subjects[shift:] + subjects[:shift]:
                try:
                    result = measure_server(subject, workload_name, args, log)
                except (RuntimeError, subprocess.SubprocessError, json.JSONDecodeError) as exc:
                    print(f"  {workload_name:12} {subject.name:15} FAILED: {exc}", flush=True)
                    continue
                raw[workload_name].setdefault(subject.name, []).append(result)
                print(f"  {workload_name:12} {subject.name:15} {brief(result)}", flush=True)
        for workload_name in args.client_workload_list:
            shift = round_number % max(len(clients), 1)
            for subject in clients[shift:] + clients[:shift]:
                try:
                    result = measure_client(subject, client_server, workload_name, args, log)
                except (RuntimeError, subprocess.SubprocessError, json.JSONDecodeError) as exc:
                    print(f"  client-{workload_name:5} {subject.name:15} FAILED: {exc}", flush=True)
                    continue
                client_raw[workload_name].setdefault(subject.name, []).append(result)
                print(f"  client-{workload_name:5} {subject.name:15} {brief(result)}", flush=True)

    report = build_report(args, servers, clients, client_server, raw, client_raw, skipped, time.monotonic() - started)
    write_reports(report, args.output)
    return 0


def write_reports(report: dict[str, Any], output: Path) -> None:
    """Write latest.md (and print it), latest.json and latest.png into `output`."""
    markdown = render_markdown(report)
    (output / "latest.json").write_text(json.dumps(report, indent=1) + "\n")
    (output / "latest.md").write_text(markdown)
    print()
    print(markdown)
    plotted = plot(report, output / "latest.png")
    relative = output.relative_to(ROOT) if output.is_relative_to(ROOT) else output
    print(f"written: {relative}/latest.md, {relative}/latest.json" + (f", {relative}/latest.png" if plotted else ""))
    print(f"server logs: {relative}/servers.log")


def brief(result: dict[str, Any]) -> str:
    if "kib_per_conn" in result:
        return f"{fmt(result['kib_per_conn'], '{:.1f}')} KiB/conn ({result['connections']} connections)"
    parts = [f"{result['msg_per_s']:,.0f} msg/s", f"{result['mb_per_s']:,.1f} MB/s"]
    if "server_cpu_us_per_msg" in result:
        parts.append(f"server {fmt(result['server_cpu_us_per_msg'], '{:.1f}')} us/msg")
    if "client_cpu_us_per_msg" in result:
        parts.append(f"client {fmt(result['client_cpu_us_per_msg'], '{:.1f}')} us/msg")
    for key, label in [("loadgen_cpu_pct", "loadgen"), ("client_cpu_pct", "client"), ("server_cpu_pct", "server")]:
        if key in result:
            parts.append(f"{label} {result[key]:.0f}%")
    if "other_cpu_pct" in result:
        parts.append(f"other load {result['other_cpu_pct']:.0f}%")
    if result.get("errors"):
        parts.append(f"errors: {result['errors'][:2]}")
    return ", ".join(parts)


def aggregate(
    raw: dict[str, dict[str, list[dict[str, Any]]]],
    client_raw: dict[str, dict[str, list[dict[str, Any]]]],
    max_other_load: float | None,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Per workload and subject: medians, spreads and ratios to the baseline."""
    results: dict[str, dict[str, Any]] = {}
    for workload_name, by_server in raw.items():
        kind = WORKLOADS[workload_name].kind
        keys = [f[0] for f in FIGURES[kind]] + [d[0] for d in DIAGNOSTICS] + ["connections"]
        table = {name: summarize(rounds, keys, max_other_load) for name, rounds in by_server.items()}
        add_ratios(table)
        results[workload_name] = table
    client_results: dict[str, dict[str, Any]] = {}
    for workload_name, by_client in client_raw.items():
        keys = [f[0] for f in FIGURES["client"]] + [d[0] for d in CLIENT_DIAGNOSTICS]
        table = {name: summarize(rounds, keys, max_other_load) for name, rounds in by_client.items()}
        add_ratios(table)
        client_results[workload_name] = table
    return results, client_results


def build_report(
    args: argparse.Namespace,
    servers: list[Subject],
    clients: list[Subject],
    client_server: Subject,
    raw: dict[str, dict[str, list[dict[str, Any]]]],
    client_raw: dict[str, dict[str, list[dict[str, Any]]]],
    skipped: dict[str, str],
    elapsed: float,
) -> dict[str, Any]:
    results, client_results = aggregate(raw, client_raw, args.max_other_load)
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "meta": {
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "rounds": args.rounds,
            "max_other_load_pct": args.max_other_load,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "cpu": f"{cpu}, {os.cpu_count()} cores",
            "loadavg_at_end": os.getloadavg(),
            "elapsed_s": round(elapsed),
            "versions": versions(),
            "servers": {s.name: s.description for s in servers},
            "clients": {s.name: s.description for s in clients},
            "client_server": client_server.name,
            "skipped": skipped,
            "workloads": {w: WORKLOADS[w].description for w in args.workload_list},
            "client_workloads": {w: CLIENT_WORKLOADS[w][3] for w in args.client_workload_list},
        },
        "results": results,
        "clients": client_results,
        "targets": targets(results),
        "raw": {"servers": raw, "clients": client_raw},
    }


def render_markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    lines = [
        f"# wskit benchmark, {meta['date']}",
        "",
        f"Median of {meta['rounds']} interleaved rounds, each measurement {meta['warmup_s']:g} s warm-up + "
        f"{meta['duration_s']:g} s measured; echo server pinned to core {SERVER_CORE}, load generator to core "
        f"{CLIENT_CORE}; {meta['cpu']}. Ratios are to `{BASELINE}` measured in the same run. "
        "CPU figures are user + system time of the server process from /proc divided by the messages echoed in "
        "the window; `spread` is (max - min) / median of the main figure across rounds; `other load` is the CPU "
        "used by other processes on the machine during the window (in % of one core): high values skew the run, "
        f"and measurements above {meta.get('max_other_load_pct', '-')} % are left out of the medians unless all "
        "rounds were above (`rounds` counts those used and, in brackets, those left out).",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".",
        "",
    ]
    if meta["skipped"]:
        lines += ["Skipped: " + "; ".join(f"{k} ({v})" for k, v in meta["skipped"].items()) + ".", ""]
    for workload_name, table in report["results"].items():
        if not table:
            continue
        kind = WORKLOADS[workload_name].kind
        lines += [f"## {workload_name}: {WORKLOADS[workload_name].description}", ""]
        lines += markdown_table(kind, table)
        lines.append("")
    for workload_name, table in report["clients"].items():
        if not table:
            continue
        lines += [
            f"## client-side, {workload_name}: {CLIENT_WORKLOADS[workload_name][3]}, "
            f"against the `{meta['client_server']}` server",
            "",
        ]
        lines += markdown_table("client", table)
        lines.append("")
    if report["targets"]:
        lines += ["## Targets of issue 8", "", "| target | verdict | figures |", "|---|---|---|"]
        lines += [f"| {t} | {v} | {e} |" for t, v, e in report["targets"]]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
