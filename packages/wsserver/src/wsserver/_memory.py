"""Give the memory that closed connections freed back to the system (glibc's malloc).

A server whose connections come and go frees a lot of memory: messages, TLS buffers
(asyncio keeps 256 KiB per TLS connection), compression state. glibc's `malloc` keeps
most of it. Once a large block has been freed it raises its mmap threshold to that
size (up to 32 MiB), so later large buffers come from the heap, and a heap that many
connections' buffers have fragmented is only given back to the system from its top.
Measured with `stress/soak.py` (100 TLS clients for 20 s, messages up to 256 KiB):
RSS peaked at 141 MiB and stayed at 138 MiB after every connection had closed, for a
baseline of 35 MiB, although every object was freed.

[`HeapReleaser`][] does what allocators such as jemalloc do on a timer ("decay"): every
`interval` seconds, when glibc holds more than `threshold` bytes of free memory, it calls
`malloc_trim(0)`, which gives the free pages back to the system (it also releases free
pages in the middle of the heap, not only at its top). One call costs about a
millisecond for a heap of 100 MiB, and a page given back costs a page fault if it is
used again, so the check runs on a timer, never per connection. Elsewhere than glibc
(musl, macOS, Windows) it does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import os
import sys
import time
from collections.abc import Callable

__all__ = ["DEFAULT_MEMORY_RELEASE_INTERVAL", "HeapReleaser"]

#: Seconds between two checks of the free heap (`WebSocketServer(memory_release_interval=...)`).
DEFAULT_MEMORY_RELEASE_INTERVAL = 2.0
#: Free heap bytes below which nothing is given back (not worth a call and the page faults).
DEFAULT_RELEASE_THRESHOLD = 4 * 1024 * 1024


class _MallInfo2(ctypes.Structure):
    # struct mallinfo2 (glibc >= 2.33): every field a size_t.
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


class _Glibc:
    """glibc's `mallinfo2()` and `malloc_trim()`, or None where they are missing."""

    def __init__(self) -> None:
        self.free_bytes: Callable[[], int] | None = None
        self.trim: Callable[[], bool] | None = None
        if not sys.platform.startswith("linux"):
            return
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            mallinfo2 = libc.mallinfo2
            malloc_trim = libc.malloc_trim
        except (OSError, AttributeError):  # musl, or a glibc older than 2.33
            return
        mallinfo2.restype = _MallInfo2
        mallinfo2.argtypes = []
        malloc_trim.restype = ctypes.c_int
        malloc_trim.argtypes = [ctypes.c_size_t]
        self.free_bytes = lambda: int(mallinfo2().fordblks)
        self.trim = lambda: bool(malloc_trim(0))


_glibc: _Glibc | None = None


def _libc() -> _Glibc:
    global _glibc
    if _glibc is None:
        _glibc = _Glibc()
    return _glibc


def _rss() -> int | None:
    """This process's resident memory in bytes (Linux), or None."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class HeapReleaser:
    """Calls glibc's `malloc_trim(0)` every `interval` seconds while a lot of the heap is free.

    Started by [`WebSocketServer`][wsserver.WebSocketServer] when it first listens and
    stopped by its shutdown; see its `memory_release_interval`. Each release that gave
    memory back is logged at DEBUG level on the server's logger with the RSS before and
    after.
    """

    __slots__ = ("_handle", "_logger", "_loop", "interval", "threshold")

    def __init__(
        self,
        interval: float,
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
        *,
        threshold: int = DEFAULT_RELEASE_THRESHOLD,
    ) -> None:
        self.interval = interval
        self.threshold = threshold
        self._logger = logger
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None

    @property
    def supported(self) -> bool:
        """Whether this process's C library lets the heap be measured and trimmed (glibc)."""
        libc = _libc()
        return libc.free_bytes is not None and libc.trim is not None

    def start(self) -> None:
        """Arm the timer on the running loop (nothing without glibc, or if already armed)."""
        if self._handle is not None or not self.supported:
            return
        self._loop = asyncio.get_running_loop()
        self._handle = self._loop.call_later(self.interval, self._tick)

    def stop(self) -> None:
        """Disarm the timer."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def release_now(self) -> int:
        """Check now; return the bytes of RSS given back (0 when below the threshold)."""
        libc = _libc()
        if libc.free_bytes is None or libc.trim is None:
            return 0
        free = libc.free_bytes()
        if free < self.threshold:
            return 0
        before = _rss()
        started = time.perf_counter()
        libc.trim()
        took = time.perf_counter() - started
        after = _rss()
        released = max(0, before - after) if before is not None and after is not None else 0
        if released:
            self._logger.debug(
                "gave %.1f MiB of freed memory back to the system (RSS %.1f -> %.1f MiB, malloc_trim %.1f ms)",
                released / 1048576,
                (before or 0) / 1048576,
                (after or 0) / 1048576,
                took * 1000,
            )
        return released

    def _tick(self) -> None:
        assert self._loop is not None
        self._handle = self._loop.call_later(self.interval, self._tick)
        self.release_now()
