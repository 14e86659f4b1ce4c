"""Automatic reconnection for long-lived clients (opt-in).

    async for ws in reconnecting("wss://feed.example/ticks"):
        try:
            async for message in ws:
                handle(message)
        except ConnectionClosed:
            continue  # the next iteration reconnects

Policy:

* the first attempt is immediate; after a failure the next attempt waits a random
  time between 0 and ``min(max_delay, initial_delay * factor ** failures)`` seconds
  ("full jitter": clients that lost the same server do not come back in step);
* a connection that stayed open at least `reset_after` seconds resets the count of
  failures; one that ended sooner counts as a failure, so a server that accepts and
  drops at once is not hammered;
* a 429 or 503 answer's `Retry-After` (in seconds) is honoured, up to `max_delay`;
* errors worth retrying, by default ([`is_retryable`][wsclient.is_retryable]): every
  `OSError` (refused, reset, unreachable, DNS, `OpenTimeout`, `HandshakeInterrupted`)
  except a failed certificate check; `HandshakeFailed` with status 5xx, 408 or 429;
  `ProxyError` with status 5xx. Anything else is raised at once: a 4xx refusal
  (403, 404, 401: retrying does not help), a redirect not followed, an invalid
  handshake (a server bug), a refused certificate, a bad argument.
"""

from __future__ import annotations

import asyncio
import random
import ssl
from collections.abc import AsyncGenerator, Callable
from typing import Any, Final

from wsframe import State
from wsframe.http import HeadersLike
from wsframe.options import check_int, check_number

from ._client import ClientConnection, Protocols, WebSocketClient, split_arguments
from ._errors import HandshakeFailed, ProxyError, RedirectError

__all__ = [
    "DEFAULT_FACTOR",
    "DEFAULT_INITIAL_DELAY",
    "DEFAULT_MAX_DELAY",
    "DEFAULT_RESET_AFTER",
    "backoff_delay",
    "is_retryable",
    "reconnecting",
]

#: Upper bound of the first wait, in seconds.
DEFAULT_INITIAL_DELAY: Final = 1.0
#: Upper bound of any wait, in seconds.
DEFAULT_MAX_DELAY: Final = 60.0
#: Growth of the bound after each consecutive failure.
DEFAULT_FACTOR: Final = 2.0
#: Seconds a connection must stay open for the failure count to reset.
DEFAULT_RESET_AFTER: Final = 30.0


def is_retryable(exc: BaseException) -> bool:
    """The default policy of [`reconnecting`][wsclient.reconnecting]: is `exc` worth retrying?

    Args:
        exc: what `connect` raised.

    Returns:
        True for network failures and timeouts, 5xx (and 408, 429) refusals from the
        server or 5xx from the proxy; False for everything else.
    """
    if isinstance(exc, HandshakeFailed):
        if isinstance(exc, RedirectError):
            return False
        return exc.status >= 500 or exc.status in (408, 429)
    if isinstance(exc, ProxyError):
        return exc.status is not None and exc.status >= 500
    if isinstance(exc, ssl.SSLCertVerificationError):
        return False
    return isinstance(exc, OSError)


def backoff_delay(
    failures: int,
    *,
    initial_delay: float = DEFAULT_INITIAL_DELAY,
    max_delay: float = DEFAULT_MAX_DELAY,
    factor: float = DEFAULT_FACTOR,
    rng: Callable[[float, float], float] = random.uniform,
) -> float:
    """The wait before the next attempt, with full jitter.

    Args:
        failures: consecutive failures so far (0 after a long-lived connection).
        initial_delay: the bound for `failures` = 0.
        max_delay: the cap on the bound.
        factor: the growth of the bound per failure.
        rng: ``rng(low, high)`` draws the delay; `random.uniform` by default.

    Returns:
        A delay between 0 and ``min(max_delay, initial_delay * factor ** failures)``.
    """
    try:
        bound = min(max_delay, initial_delay * factor**failures)
    except OverflowError:
        bound = max_delay
    return rng(0.0, bound)


def _retry_after(exc: BaseException, max_delay: float) -> float | None:
    """The `Retry-After` of a 429 or 503 answer, in seconds, capped; None without one."""
    if not isinstance(exc, HandshakeFailed) or exc.status not in (429, 503):
        return None
    value = exc.response.headers.get("Retry-After")
    if value is None or not value.strip().isdigit():
        return None  # HTTP dates are ignored: the backoff applies
    return min(float(value.strip()), max_delay)


def reconnecting(
    url: str,
    protocols: Protocols = None,
    origin: str | None = None,
    headers: HeadersLike | None = None,
    *,
    initial_delay: float = DEFAULT_INITIAL_DELAY,
    max_delay: float = DEFAULT_MAX_DELAY,
    factor: float = DEFAULT_FACTOR,
    reset_after: float = DEFAULT_RESET_AFTER,
    max_attempts: int | None = None,
    retry: Callable[[BaseException], bool] = is_retryable,
    **kwargs: Any,
) -> AsyncGenerator[ClientConnection, None]:
    """Yield a new connection each time the previous one is done, reconnecting with backoff.

    Asking for the next connection closes the previous one if it is still open. The
    connection last yielded belongs to the caller: leaving the loop does not close it.

    Args:
        url: ``ws://`` or ``wss://`` URL.
        protocols: subprotocols to offer.
        origin: the `Origin` header, if any.
        headers: extra request headers.
        initial_delay: upper bound of the first wait, in seconds (default 1).
        max_delay: cap of every wait (default 60).
        factor: growth of the bound per consecutive failure (default 2).
        reset_after: seconds a connection must last for the failure count to reset
            (default 30).
        max_attempts: consecutive failed attempts after which the last error is
            raised; None (the default) retries forever.
        retry: decides whether an error is retried (default
            [`is_retryable`][wsclient.is_retryable]); errors it refuses are raised.
        **kwargs: settings of [`WebSocketClient`][wsclient.WebSocketClient] and the
            keyword-only arguments of its `connect`.

    Returns:
        An async iterator of open connections.

    Raises:
        ValueError: a setting out of range (at once, not at the first iteration).
        TypeError: an unknown keyword argument, or a setting of the wrong type.
    """
    for name, value in (("initial_delay", initial_delay), ("max_delay", max_delay), ("reset_after", reset_after)):
        check_number(name, value, inclusive=True)
    check_number("factor", factor, minimum=1, inclusive=True)
    check_int("max_attempts", max_attempts, minimum=1, optional=True)
    client_kwargs, connect_kwargs = split_arguments(kwargs)
    client = WebSocketClient(**client_kwargs)

    async def run() -> AsyncGenerator[ClientConnection, None]:
        loop = asyncio.get_running_loop()
        failures = 0  # drives the backoff: failed attempts and short-lived connections
        failed_attempts = 0  # consecutive failed attempts, for max_attempts
        while True:
            try:
                connection = await client.connect(url, protocols, origin, headers, **connect_kwargs)
            except Exception as exc:
                if not retry(exc):
                    raise
                failures += 1
                failed_attempts += 1
                if max_attempts is not None and failed_attempts >= max_attempts:
                    raise
                delay = backoff_delay(failures - 1, initial_delay=initial_delay, max_delay=max_delay, factor=factor)
                after = _retry_after(exc, max_delay)
                if after is not None:
                    delay = max(delay, after)
                client.logger.warning(
                    "connection to %s failed (%s: %s); retrying in %.2f s", url, type(exc).__name__, exc, delay
                )
                await asyncio.sleep(delay)
                continue
            failed_attempts = 0
            opened_at = loop.time()
            yield connection
            if connection.state is not State.CLOSED:
                await connection.close()
            if loop.time() - opened_at >= reset_after:
                failures = 0
            else:
                failures += 1
            delay = backoff_delay(failures, initial_delay=initial_delay, max_delay=max_delay, factor=factor)
            client.logger.info("connection to %s ended; reconnecting in %.2f s", url, delay)
            await asyncio.sleep(delay)

    return run()
