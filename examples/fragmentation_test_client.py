"""The fragmentation test client: asks for ever larger messages and checks every one.

A port of WebSocket-Node's ``scripts/fragmentation-test-client.js``, written with
wsclient. Against ``examples/fragmentation_test_server.py`` (subprotocol
``fragmentation-test``) it requests messages from 100 bytes up to ``--max-size``
(default 1 MiB), growing by a random 1 to 1024 bytes each time and alternating text
(``sendMessage|N``) and binary (``sendBinaryMessage|N``). Each message must have the
requested size and type, and text must be the server's lorem ipsum.

By default messages arrive whole (wsclient reassembles the fragments). With
``--no-defragment`` they stream frame by frame (``assemble_fragments=False``): the
client checks each fragment as it arrives and the sum of their sizes.

It prints the throughput and exits with 0 when every message was right, 1 on the first
mismatch, 2 when it cannot talk to the server::

    python examples/fragmentation_test_server.py --port 8080 &
    python examples/fragmentation_test_client.py --port 8080 --no-defragment
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time

from fragmentation_test_server import lorem_ipsum  # the same folder: the text the server sends

import wsclient

FIRST_SIZE = 100
MAX_GROWTH = 1024


class Mismatch(Exception):
    """A message that is not what was asked for."""


def check_message(message: str | bytes, *, binary: bool, size: int) -> None:
    """Check one whole message."""
    if isinstance(message, bytes) != binary:
        raise Mismatch(f"asked for a {'binary' if binary else 'text'} message, got {type(message).__name__}")
    if len(message) != size:
        raise Mismatch(f"asked for {size} bytes, got {len(message)}")
    if isinstance(message, str) and message != lorem_ipsum(0, size):
        raise Mismatch(f"the {size}-byte text message is not the expected lorem ipsum")


async def receive_streamed(connection: wsclient.ClientConnection, *, binary: bool, size: int) -> int:
    """Read one message fragment by fragment, checking each; return the fragment count."""
    received = fragments = 0
    while True:
        fragment = await connection.recv_fragment()
        fragments += 1
        if fragment.text == binary or fragment.first != (fragments == 1):
            raise Mismatch(f"unexpected fragment {fragment!r} (fragment {fragments} of a {size}-byte message)")
        if isinstance(fragment.data, str) and fragment.data != lorem_ipsum(received, len(fragment.data)):
            raise Mismatch(f"fragment {fragments} of the {size}-byte text message is not the expected lorem ipsum")
        received += len(fragment.data)  # lorem ipsum is ASCII: characters are bytes
        if fragment.fin:
            break
    if received != size:
        raise Mismatch(f"asked for {size} bytes, the fragments hold {received}")
    return fragments


async def run(args: argparse.Namespace) -> int:
    """Request and check every size; return the exit status."""
    rng = random.Random(args.seed)
    url = f"ws://{args.host}:{args.port}/"
    streamed = args.no_defragment
    count = total = most_fragments = 0
    started = time.perf_counter()
    async with wsclient.connect(
        url,
        ["fragmentation-test"],
        max_message_size=args.max_size,
        assemble_fragments=not streamed,
        permessage_deflate=False,
    ) as connection:
        size, binary = FIRST_SIZE, False
        while size <= args.max_size:
            await connection.send(f"{'sendBinaryMessage' if binary else 'sendMessage'}|{size}")
            if streamed:
                fragments = await receive_streamed(connection, binary=binary, size=size)
                most_fragments = max(most_fragments, fragments)
            else:
                check_message(await connection.recv(), binary=binary, size=size)
            if args.verbose:
                detail = f" in {fragments} fragments" if streamed else ""
                print(f"{'binary' if binary else 'text'} message of {size} bytes{detail}: ok")
            count += 1
            total += size
            size += rng.randint(1, MAX_GROWTH)
            binary = not binary
    elapsed = time.perf_counter() - started
    print(f"{count} messages, {total} bytes in {elapsed:.2f} s: {total / elapsed / 1024:.0f} KiB/s")
    if streamed:
        print(f"most fragments in one message: {most_fragments}")
    return 0


def main() -> int:
    """Parse the arguments and run the test."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="server address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="server port (default 8080)")
    parser.add_argument("--max-size", type=int, default=1024 * 1024, metavar="BYTES", help="largest message (1 MiB)")
    parser.add_argument("--no-defragment", action="store_true", help="stream and check each fragment")
    parser.add_argument("--seed", type=int, help="seed of the random sizes, to repeat a run")
    parser.add_argument("--verbose", action="store_true", help="print a line per message")
    args = parser.parse_args()
    try:
        return asyncio.run(run(args))
    except Mismatch as exc:
        print(f"mismatch: {exc}", file=sys.stderr)
        return 1
    except (OSError, wsclient.WebSocketError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
