"""``python -m wsclient URL``: an interactive WebSocket client, like ``wscat``.

Interactive mode (the default): each line typed (or piped) is sent as a text message
(``--binary``: as a binary message); each message that arrives is printed with a
``< `` prefix. Commands: ``/ping [payload]``, ``/close [code [reason]]``, ``/quit``,
``/help``; ``//text`` sends ``/text``. End of input (Ctrl-D, or the end of a pipe)
closes the connection with 1000 once ``--wait`` seconds (1 s by default; none when
standard input is a terminal) passed without a message, so that the replies to the
last lines arrive, and exits once the closing handshake is done.

Scripting mode (``-x MSG``, repeatable): send each message, print the replies
without prefix, one per line, then close after ``--wait`` seconds without a message
(1 s by default) or after ``--count`` replies.

Binary messages are printed as ``[binary N bytes] <hex>``, or decoded as UTF-8 with
``--binary``. Status lines (connected, closed) go to standard error, and only when
standard input is a terminal; errors always do.

Exit status: 0 after a clean close (1000, 1001, no code, or the code you asked for);
1 when the connection could not be opened (the one-line error names the HTTP status
for a refused handshake); 2 for invalid arguments; 3 when the connection ended
abnormally; 130 after Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import math
import os
import ssl
import sys
import threading
from collections.abc import Sequence
from typing import Any

from wsframe import ConnectionClosed, Headers, State, WebSocketError
from wsframe.close import check_close_code

from ._client import ClientConnection, WebSocketClient
from ._errors import HandshakeFailed
from ._url import parse_url
from .sync import _with_timeout

__all__ = ["main"]

EXIT_OK = 0
EXIT_CONNECT_FAILED = 1
EXIT_USAGE = 2
EXIT_ABNORMAL_CLOSE = 3
EXIT_INTERRUPTED = 130

#: Seconds `/ping` waits for its pong.
PING_TIMEOUT = 10.0

HELP = """\
commands:
  /ping [payload]        send a ping, print the round-trip time
  /close [code [reason]] close the connection with this code (default 1000)
  /quit                  close the connection (1000) and exit
  /help                  this help
  //text                 send "/text"
anything else is sent as a message; end of input (Ctrl-D) closes"""


def _parse_args(argv: Sequence[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        prog="python -m wsclient",
        description="Connect to a WebSocket server: send lines you type, print what arrives.",
        epilog="Interactive commands: /ping [payload], /close [code [reason]], /quit, /help.",
    )
    parser.add_argument("url", help="ws:// or wss:// URL")
    parser.add_argument(
        "-s", "--subprotocol", action="append", default=[], metavar="NAME", help="offer a subprotocol (repeatable)"
    )
    parser.add_argument(
        "-H", "--header", action="append", default=[], metavar="'NAME: VALUE'", help="add a request header (repeatable)"
    )
    parser.add_argument("-o", "--origin", help="send this Origin header")
    tls = parser.add_argument_group("TLS (wss:// only)")
    tls.add_argument("--insecure", action="store_true", help="do not verify the server's certificate or name")
    tls.add_argument("--ca", metavar="FILE", help="trust the CA certificates in this PEM file")
    tls.add_argument("--cert", metavar="FILE", help="client certificate chain (PEM)")
    tls.add_argument("--key", metavar="FILE", help="client private key (PEM), if not in --cert")
    proxy = parser.add_mutually_exclusive_group()
    proxy.add_argument("--proxy", metavar="URL", help="connect through this http:// or https:// proxy")
    proxy.add_argument(
        "--no-proxy", action="store_true", help="ignore the proxy environment variables (http_proxy, ...)"
    )
    parser.add_argument(
        "--max-message-size",
        type=int,
        metavar="BYTES",
        help="largest message accepted, 0 for no limit (default 8 MiB)",
    )
    parser.add_argument("--no-deflate", action="store_true", help="do not offer permessage-deflate")
    parser.add_argument(
        "--open-timeout", type=float, default=10.0, metavar="SECONDS", help="time allowed to connect (default 10)"
    )
    parser.add_argument(
        "-x",
        "--execute",
        action="append",
        default=[],
        metavar="MSG",
        help="send MSG, print the replies, then close (repeatable; no interactive mode)",
    )
    parser.add_argument(
        "-w",
        "--wait",
        type=float,
        metavar="SECONDS",
        help="close after this long without a message, once the messages (-x) or the input lines "
        "(at end of input) are sent (default 1; with --count, none; 0 on a terminal)",
    )
    parser.add_argument("-n", "--count", type=int, metavar="N", help="with -x: close after N replies")
    parser.add_argument(
        "--binary", action="store_true", help="send lines as binary messages; print binary messages as text"
    )
    return parser, parser.parse_args(argv)


def _error(message: str) -> None:
    text = " ".join(message.split())  # one line
    print(f"error: {text}", file=sys.stderr, flush=True)


def _status(message: str, enabled: bool) -> None:
    if enabled:
        print(message, file=sys.stderr, flush=True)


def _format(message: str | bytes, binary_as_text: bool) -> str:
    if isinstance(message, str):
        return message
    if binary_as_text:
        return message.decode("utf-8", "backslashreplace")
    return f"[binary {len(message)} bytes] {message.hex()}"


def _ssl_context(args: argparse.Namespace) -> ssl.SSLContext | None:
    if not (args.insecure or args.ca or args.cert):
        return None
    context = ssl.create_default_context(cafile=args.ca)
    context.set_alpn_protocols(["http/1.1"])
    if args.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if args.cert:
        context.load_cert_chain(args.cert, args.key)
    return context


def _headers(values: Sequence[str]) -> Headers:
    headers = Headers()
    for value in values:
        name, sep, rest = value.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"header {value!r} is not 'Name: value'")
        headers.add(name.strip(), rest.strip())
    return headers


async def _outcome(ws: ClientConnection, closed_by_us: bool, tty: bool) -> int:
    """Wait for the end of the connection; print how it ended; return the exit status."""
    await ws.wait_closed()
    code, reason = ws.close_code, ws.close_reason or ""
    try:
        while True:  # messages still queued were printed or are dropped: we are done
            await ws.recv()
    except ConnectionClosed as exc:
        clean = exc.was_clean
    if clean and (closed_by_us or code in (1000, 1001, 1005)):
        _status(f"closed: {code}{f' {reason}' if reason else ''}", tty)
        return EXIT_OK
    text = f"connection closed with code {code}"
    if reason:
        text += f" ({reason})"
    if not clean:
        text += ", without a closing handshake"
    _error(text)
    return EXIT_ABNORMAL_CLOSE


def _start_stdin_reader(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    """Read standard input in a daemon thread; put each line (then None at EOF) in `queue`.

    The thread reads the file descriptor with `os.read`, not `sys.stdin`, so that it
    holds no lock of the `sys.stdin` object when the interpreter exits while it waits.
    """

    def put(item: str | None) -> bool:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: we are exiting
            return False
        return True

    def run() -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending = ""
        fd = sys.stdin.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            pending += decoder.decode(chunk, final=not chunk)
            *lines, pending = pending.split("\n")
            for line in lines:
                if not put(line[:-1] if line.endswith("\r") else line):
                    return
            if not chunk:
                if pending:
                    put(pending)
                put(None)
                return

    threading.Thread(target=run, name="wsclient stdin", daemon=True).start()


class _Activity:
    """When the last message arrived (loop time)."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = 0.0


async def _receive(ws: ClientConnection, prefix: str, binary_as_text: bool, activity: _Activity) -> None:
    loop = asyncio.get_running_loop()
    while True:
        try:
            message = await ws.recv()
        except ConnectionClosed:
            return
        activity.last = loop.time()
        print(prefix + _format(message, binary_as_text), flush=True)


async def _linger(receiver: asyncio.Future[None], activity: _Activity, wait: float) -> None:
    """Wait until `wait` seconds pass without a message, or the receiver ends."""
    loop = asyncio.get_running_loop()
    activity.last = max(activity.last, loop.time())
    while not receiver.done():
        remaining = activity.last + wait - loop.time()
        if remaining <= 0:
            return
        await asyncio.wait({receiver}, timeout=remaining)


async def _interactive(ws: ClientConnection, args: argparse.Namespace, tty: bool) -> int:
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    _start_stdin_reader(loop, lines)
    activity = _Activity()
    receiver = asyncio.ensure_future(_receive(ws, "< ", args.binary, activity))
    linger = args.wait if args.wait is not None else (0.0 if tty else 1.0)
    closed_by_us = False
    try:
        while True:
            getting = asyncio.ensure_future(lines.get())
            await asyncio.wait({getting, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if not getting.done():  # the server closed the connection
                getting.cancel()
                break
            line = getting.result()
            if line is None:  # end of input: let the last replies arrive, then close
                await _linger(receiver, activity, linger)
                if receiver.done():
                    break
                closed_by_us = True
                await ws.close()
                break
            if line.startswith("/") and not line.startswith("//"):
                command, _, rest = line[1:].partition(" ")
                if command in ("quit", "exit", "q"):
                    closed_by_us = True
                    await ws.close()
                    break
                if command == "close":
                    parts = rest.strip().split(" ", 1)
                    try:
                        code = int(parts[0]) if parts[0] else 1000
                        reason = parts[1] if len(parts) > 1 else ""
                        check_close_code(code, reason)
                    except ValueError as exc:
                        _error(f"/close: {exc}")
                        continue
                    closed_by_us = True
                    await ws.close(code, reason)
                    break
                if command == "ping":
                    try:
                        pong = await ws.ping(rest.encode()[:125])
                        latency = await asyncio.wait_for(pong, PING_TIMEOUT)
                    except ConnectionClosed:
                        break
                    except (asyncio.TimeoutError, TimeoutError):
                        _error(f"no pong within {PING_TIMEOUT:g} s")
                        continue
                    print(f"% pong in {latency * 1000:.2f} ms", flush=True)
                    continue
                if command in ("help", "?"):
                    print(HELP, file=sys.stderr, flush=True)
                    continue
                _error(f"unknown command /{command} (type /help; //text sends /text)")
                continue
            if line.startswith("//"):
                line = line[1:]
            try:
                await ws.send(line.encode() if args.binary else line)
            except ConnectionClosed:
                break
        await receiver
    finally:
        receiver.cancel()
    return await _outcome(ws, closed_by_us, tty)


async def _execute(ws: ClientConnection, args: argparse.Namespace) -> int:
    try:
        for message in args.execute:
            await ws.send(message.encode() if args.binary else message)
    except ConnectionClosed:
        return await _outcome(ws, False, False)
    wait: float | None = args.wait if args.wait is not None else (None if args.count is not None else 1.0)
    if wait is not None and math.isinf(wait):
        wait = None
    received = 0
    while args.count is None or received < args.count:
        try:
            message = await _with_timeout(ws.recv(), wait)
        except TimeoutError:
            break
        except ConnectionClosed:
            return await _outcome(ws, False, False)
        print(_format(message, args.binary), flush=True)
        received += 1
    await ws.close()
    return await _outcome(ws, True, False)


async def _session(args: argparse.Namespace, client: WebSocketClient, connect_kwargs: dict[str, Any]) -> int:
    tty = sys.stdin.isatty() if not args.execute else False
    try:
        ws = await client.connect(
            args.url,
            args.subprotocol or None,
            args.origin,
            _headers(args.header),
            **connect_kwargs,
        )
    except HandshakeFailed as exc:
        _error(f"{exc} ({exc.url})" if exc.url else str(exc))
        return EXIT_CONNECT_FAILED
    except (WebSocketError, OSError) as exc:
        _error(f"could not connect to {args.url}: {exc or type(exc).__name__}")
        return EXIT_CONNECT_FAILED
    try:
        details = []
        if ws.subprotocol:
            details.append(f"subprotocol {ws.subprotocol}")
        if ws.extensions:
            details.append(", ".join(ws.extensions))
        suffix = f" ({'; '.join(details)})" if details else ""
        _status(f"connected to {ws.url}{suffix}; /help for commands, Ctrl-D to close", tty)
        if args.execute:
            return await _execute(ws, args)
        return await _interactive(ws, args, tty)
    finally:
        if ws.state is not State.CLOSED:
            ws.abort()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command-line client.

    Args:
        argv: the arguments, without the program name; `sys.argv[1:]` by default.

    Returns:
        The exit status: 0 clean close, 1 connection failed, 2 invalid arguments, 3
        abnormal close, 130 interrupted.
    """
    parser, args = _parse_args(argv)
    try:
        url = parse_url(args.url)
    except ValueError as exc:
        parser.error(str(exc))
    if args.key and not args.cert:
        parser.error("--key needs --cert")
    if args.count is not None and args.count < 1:
        parser.error("--count must be at least 1")
    if args.wait is not None and args.wait < 0:
        parser.error("--wait must not be negative")
    if args.count is not None and not args.execute:
        parser.error("--count needs -x/--execute")
    try:
        _headers(args.header)
    except ValueError as exc:
        parser.error(str(exc))
    connect_kwargs: dict[str, Any] = {}
    if url.secure:
        try:
            context = _ssl_context(args)
        except (OSError, ssl.SSLError) as exc:
            parser.error(f"cannot load the TLS files: {exc}")
        if context is not None:
            connect_kwargs["ssl"] = context
    if args.no_proxy:
        connect_kwargs["proxy"] = None
    elif args.proxy:
        connect_kwargs["proxy"] = args.proxy
    client_kwargs: dict[str, Any] = {"permessage_deflate": not args.no_deflate}
    if args.max_message_size is not None:
        if args.max_message_size < 0:
            parser.error("--max-message-size must not be negative")
        client_kwargs["max_message_size"] = args.max_message_size or None
    if args.open_timeout <= 0:
        parser.error("--open-timeout must be positive")
    client_kwargs["open_timeout"] = args.open_timeout
    try:
        client = WebSocketClient(**client_kwargs)
    except ValueError as exc:  # pragma: no cover - arguments checked above
        parser.error(str(exc))
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        return asyncio.run(_session(args, client, connect_kwargs))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except ValueError as exc:  # a proxy URL or header the client refused
        _error(str(exc))
        return EXIT_USAGE
