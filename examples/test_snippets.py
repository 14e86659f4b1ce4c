"""Run every program of examples/snippets/: the code examples that the documentation includes.

Each snippet is a complete program. Servers read ``HOST`` and ``PORT`` from the
environment, are started here with port 0 and log (or print) ``listening on <url>``; clients read
their server's URL from ``WS_URL``. Every test asserts what the programs print, within a
bounded time, and kills what it started. Two more tests keep the snippets, this file and
the documentation in step: a snippet that no test runs, or that no page includes, fails.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SNIPPETS = HERE / "snippets"
DOCS = HERE.parent / "docs"
#: Seconds one program may take.
TIMEOUT = 60.0
#: Environment variables that would send the clients' connections to a proxy.
PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def snippet_env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name.lower() not in PROXY_VARIABLES}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def command(name: str) -> list[str]:
    path = SNIPPETS / name
    assert path.is_file(), f"no snippet {name}"
    return [sys.executable, str(path)]


class Program:
    """A program running in a subprocess; a thread collects its output (stderr included) by line."""

    def __init__(self, name: str, cwd: Path, *, argv: list[str] | None = None, **env: str) -> None:
        self.name = name
        self.url = ""
        self.process = subprocess.Popen(
            argv if argv is not None else command(name),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # servers log "listening on ..." to stderr
            text=True,
            cwd=cwd,
            env=snippet_env(**env),
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def report(self) -> str:
        return f"{self.name} output:\n{''.join(self.output)}"

    def expect(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """Wait for an output line matching `pattern`; fail on timeout or exit."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"{self.name}: no line matching {pattern!r} within {timeout} s\n{self.report()}")
            if line is None:
                self.process.wait(5)
                code = self.process.returncode
                pytest.fail(f"{self.name} exited ({code}) before printing {pattern!r}\n{self.report()}")
            match = re.search(pattern, line)
            if match:
                return match

    def wait(self, timeout: float = TIMEOUT) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{self.name} still runs after {timeout} s\n{self.report()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@contextmanager
def server(name: str, cwd: Path, **env: str) -> Iterator[Program]:
    """Start a server snippet on a free port; yield it once it listens; kill it afterwards."""
    program = Program(name, cwd, HOST="127.0.0.1", PORT="0", **env)
    try:
        program.url = program.expect(r"^listening on (wss?://\S+)$").group(1) + "/"
        yield program
    finally:
        program.stop()


def run(name: str, cwd: Path, **env: str) -> str:
    """Run a snippet to completion; return its output, failing unless it exits with 0."""
    try:
        done = subprocess.run(
            command(name), capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd, env=snippet_env(**env)
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{name} still runs after {TIMEOUT} s\nstdout:\n{exc.stdout}\nstderr:\n{exc.stderr}")
    assert done.returncode == 0, f"{name} exited with {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done.stdout


# ------------------------------------------------------------------- tutorials


def test_echo(tmp_path: Path) -> None:
    with server("echo_server.py", tmp_path) as echo:
        output = run("echo_client.py", tmp_path, WS_URL=echo.url)
    assert output.splitlines() == ["< Hello, world!", "< b'\\x00\\x01\\x02'"]


def test_chat(tmp_path: Path) -> None:
    with server("chat_server.py", tmp_path) as chat:
        output = run("chat_client.py", tmp_path, WS_URL=chat.url)
    assert output.splitlines() == [
        "bob < {'event': 'join', 'name': 'bob'}",
        "bob < {'event': 'join', 'name': 'alice'}",
        "bob < {'event': 'say', 'name': 'alice', 'text': 'Hi Bob!'}",
        "bob < {'event': 'leave', 'name': 'alice'}",
        'refused: 400 ask for the "chat" subprotocol',
    ]


def test_w3c(tmp_path: Path) -> None:
    with server("echo_server.py", tmp_path) as echo:
        output = run("w3c_client.py", tmp_path, WS_URL=echo.url)
    assert output.splitlines() == [
        "open: readyState 1",
        "bufferedAmount: 16",
        "message: Hello, world!",
        "message: b'\\x00\\x01\\x02'",
        "close: code 1000, reason '', wasClean True",
        "readyState 3 == CLOSED: True",
    ]


def test_sync(tmp_path: Path) -> None:
    with server("echo_server.py", tmp_path) as echo:
        output = run("sync_client.py", tmp_path, WS_URL=echo.url)
    lines = output.splitlines()
    assert lines[:5] == ["< Hello, world!", "< one", "< two", "< three", "no message within 0.1 s"]
    assert re.fullmatch(r"ping: \d+\.\d\d ms", lines[5]), lines[5]
    assert lines[6:] == ["closed: 1000"]


# ---------------------------------------------------------------------- how-to


def test_tls(tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    certificate = authority.issue_cert("localhost", "127.0.0.1")
    certificate.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "localhost.pem"))
    with server("tls_server.py", tmp_path) as tls:  # CERTFILE defaults to localhost.pem
        assert tls.url.startswith("wss://127.0.0.1:")
        url = tls.url.replace("127.0.0.1", "localhost")
        output = run("tls_client.py", tmp_path, WS_URL=url)  # CAFILE defaults to ca.pem
    assert output.splitlines() == ["< Hello over TLS!"]


def test_auth(tmp_path: Path) -> None:
    with server("auth_server.py", tmp_path) as auth:
        output = run("auth_client.py", tmp_path, WS_URL=auth.url)
    assert output.splitlines() == [
        "< Hello, alice!",
        "< Hello, alice!",
        "Set-Cookie: greeted=yes; Path=/; HttpOnly; SameSite=Strict",
        "refused: 401 authentication required",
        "refused: 403 origin not allowed",
    ]


def test_subprotocols(tmp_path: Path) -> None:
    with server("subprotocol_server.py", tmp_path) as subprotocols:
        output = run("subprotocol_client.py", tmp_path, WS_URL=subprotocols.url)
    assert output.splitlines() == [
        "['chat.v1', 'chat.v2'] -> chat.v2 | speaking chat.v2",
        "['chat.v1'] -> chat.v1 | speaking chat.v1",
        "['mqtt'] -> refused: 400 supported subprotocols: chat.v2, chat.v1",
    ]


class ConnectProxy:
    """A minimal HTTP CONNECT proxy on 127.0.0.1, in threads; records what it was asked."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.requests: list[str] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        with client:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            request_line = head.split(b"\r\n", 1)[0].decode()
            self.requests.append(request_line)
            _method, authority, _ = request_line.split(" ")
            host, port = authority.rsplit(":", 1)
            with socket.create_connection((host, int(port)), timeout=TIMEOUT) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                pump = threading.Thread(target=self._pump, args=(upstream, client), daemon=True)
                pump.start()
                self._pump(client, upstream)
                pump.join(TIMEOUT)

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self.listener.close()


def test_proxy(tmp_path: Path) -> None:
    proxy = ConnectProxy()
    try:
        with server("echo_server.py", tmp_path) as echo:
            output = run("proxy_client.py", tmp_path, WS_URL=echo.url, PROXY=proxy.url)
    finally:
        proxy.close()
    assert output.splitlines() == ["< Hello through the proxy!"]
    authority = echo.url.removeprefix("ws://").rstrip("/")
    assert proxy.requests == [f"CONNECT {authority} HTTP/1.1"]


def test_reconnecting(tmp_path: Path) -> None:
    with server("flaky_server.py", tmp_path) as flaky:
        output = run("reconnecting_client.py", tmp_path, WS_URL=flaky.url)
    expected: list[str] = []
    for visitor in (1, 2, 3):
        expected += [f"< welcome, visitor {visitor}", f"lost connection {visitor}: 1012 restarting"]
    assert output.splitlines() == expected


def test_reverse_proxy(tmp_path: Path) -> None:
    with server("proxied_server.py", tmp_path) as proxied:
        output = run("forwarded_client.py", tmp_path, WS_URL=proxied.url)
    assert output.splitlines() == ["< you are 203.0.113.7 (via 127.0.0.1)"]


def test_compression(tmp_path: Path) -> None:
    with server("compression_server.py", tmp_path) as compression:
        output = run("compression_client.py", tmp_path, WS_URL=compression.url)
    assert output.splitlines() == [
        "extensions: ['permessage-deflate']",
        "agreed: permessage-deflate; server_no_context_takeover; client_no_context_takeover;"
        " server_max_window_bits=12; client_max_window_bits=12",
        "echoed 5190 bytes of JSON",
        "without compression: []",
    ]


def test_streaming(tmp_path: Path) -> None:
    with server("streaming_server.py", tmp_path) as streaming:
        output = run("streaming_client.py", tmp_path, WS_URL=streaming.url)
    received, sent = output.splitlines()
    digest = sent.removeprefix("sent 20971520 bytes, sha256 ")
    assert re.fullmatch("[0-9a-f]{64}", digest), sent
    assert received == f"< received 20971520 bytes, sha256 {digest}"


def test_backpressure(tmp_path: Path) -> None:
    output = run("backpressure.py", tmp_path)
    server_line, client_line = output.splitlines()
    match = re.fullmatch(
        r"server: sent 200 messages; write buffer peak (\d+) KiB \(at most write_limit \+ one message: 128 KiB\)",
        server_line,
    )
    assert match, server_line
    assert int(match.group(1)) <= 128
    assert client_line == "client: received 200 messages"


def test_broadcast(tmp_path: Path) -> None:
    with server("broadcast_server.py", tmp_path) as ticker:
        output = run("broadcast_client.py", tmp_path, WS_URL=ticker.url)
    ticks = [float(line.removeprefix("< tick ")) for line in output.splitlines()]
    assert len(ticks) == 3
    assert ticks == sorted(ticks)
    assert abs(ticks[0] - time.time()) < TIMEOUT


def test_shutdown(tmp_path: Path) -> None:
    with server("shutdown_server.py", tmp_path) as shutdown:
        client = Program("shutdown_client.py", tmp_path, WS_URL=shutdown.url)
        try:
            client.expect("^connected$")
            shutdown.process.send_signal(signal.SIGTERM)
            shutdown.expect("^shutting down: 1 connections, 0 handshakes$")
            shutdown.expect("^server stopped$")
            assert shutdown.wait() == 0, shutdown.report()
            client.expect("^closed by the server: 1001 server restarting$")
            assert client.wait() == 0, client.report()
        finally:
            client.stop()


def test_sansio_server(tmp_path: Path) -> None:
    with server("sansio_server.py", tmp_path) as sansio:
        output = run("echo_client.py", tmp_path, WS_URL=sansio.url)
    assert output.splitlines() == ["< Hello, world!", "< b'\\x00\\x01\\x02'"]


def test_sansio_pair(tmp_path: Path) -> None:
    output = run("sansio_pair.py", tmp_path)
    assert output.splitlines() == [
        "client sends 31 bytes",
        "server gets [TextMessage('Hello', 5 chars), Ping(payload=b'are you there?')]",
        "client gets [Pong(payload=b'are you there?')]",
        "client gets [CloseReceived(code=1001, reason='bye')]",
        "states: CLOSED CLOSED | close code 1001",
        "server should close the transport: True",
    ]


# ---------------------------------------------------------------------- topics


def test_limits(tmp_path: Path) -> None:
    output = run("limits.py", tmp_path)
    echoed, refused = output.splitlines()
    assert echoed == "1024 bytes: echoed 1024 bytes"
    assert refused.startswith("1025 bytes: connection closed with code 1009 ("), refused


def test_ping(tmp_path: Path) -> None:
    with server("echo_server.py", tmp_path) as echo:
        output = run("ping_client.py", tmp_path, WS_URL=echo.url)
    lines = output.splitlines()
    assert len(lines) == 3
    for line in lines:
        assert re.fullmatch(r"round trip: \d+\.\d\d ms", line), line


def test_logging(tmp_path: Path) -> None:
    done = subprocess.run(
        command("logging_setup.py"), capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path, env=snippet_env()
    )
    assert done.returncode == 0, done.stderr
    log = done.stderr
    assert re.search(r" INFO    wsserver\.server: listening on ws://127\.0\.0\.1:\d+\n", log), log
    assert re.search(r" DEBUG   wsserver\.connection: connection \d+ open: / from 127\.0\.0\.1", log), log
    assert " INFO    wsserver.server: server stopped\n" in log, log


# ------------------------------------------------------------------- migration


def test_migration(tmp_path: Path) -> None:
    with server("migration_server.py", tmp_path) as migration:
        output = run("migration_client.py", tmp_path, WS_URL=migration.url)
        lines = output.splitlines()
        assert lines[0] == "WebSocket Client Connected"
        numbers = [re.fullmatch(r"Received: '(\d+)'", line) for line in lines[1:4]]
        assert all(numbers), lines
        assert lines[4:] == ["echo-protocol Connection Closed"]
        for number in numbers:
            assert number is not None
            migration.expect(f" Received Message: {number.group(1)}$")
        migration.expect(r" Peer 127\.0\.0\.1 disconnected\.$")


# ----------------------------------------------------------------- command line


def test_command_line(tmp_path: Path) -> None:
    """The two commands of docs/reference/cli.md: the echo server and a scripted client."""
    echo = Program("python -m wsserver", tmp_path, argv=[sys.executable, "-m", "wsserver", "--port", "0"])
    try:
        url = echo.expect(r"listening on (ws://\S+)$").group(1) + "/"
        argv = [sys.executable, "-m", "wsclient", url, "-x", "hello", "-x", "world"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path, env=snippet_env())
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == ["hello", "world"]
    finally:
        echo.stop()


@pytest.mark.parametrize("module", ["wsserver", "wsclient"])
def test_command_line_options_are_documented(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=TIMEOUT, env=snippet_env()
    )
    assert done.returncode == 0, done.stderr
    options = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", done.stdout)) - {"--help"}
    assert options, done.stdout
    page = (DOCS / "reference" / "cli.md").read_text()
    section = page.partition(f"## python -m {module}")[2].partition("\n## ")[0]
    assert {option for option in options if f"`{option}" not in section} == set(), "options missing from cli.md"


# --------------------------------------------------------------------- keeping in step


def test_every_snippet_is_run() -> None:
    source = Path(__file__).read_text()
    named = set(re.findall(r'"([a-z0-9_]+\.py)"', source))
    snippets = {path.name for path in SNIPPETS.glob("*.py")}
    assert snippets - named == set(), "snippets that no test runs"
    assert named - snippets == set(), "tests of snippets that do not exist"


def test_every_snippet_is_in_the_docs() -> None:
    included: set[str] = set()
    for page in DOCS.rglob("*.md"):
        for path in re.findall(r'--8<-- "([^"]+)"', page.read_text()):
            if path.startswith("examples/snippets/"):
                assert (HERE.parent / path).is_file(), f"{page.relative_to(DOCS)} includes a missing {path}"
                included.add(Path(path).name)
    snippets = {path.name for path in SNIPPETS.glob("*.py")}
    assert snippets - included == set(), "snippets that no page of the documentation includes"
