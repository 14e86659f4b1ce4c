"""Masking (RFC 6455 section 5.3): a pure-Python path and an optional C accelerator.

The pure-Python path turns the payload and the repeated key into two integers and XORs
them once, so the loop over the bytes runs inside CPython's big-integer code, not in
Python. The C accelerator (`wsframe._speedups`, built when a compiler is present) XORs
machine words. Both give identical results; `conformance/` property-tests that.

Set the environment variable ``WSFRAME_NO_SPEEDUPS=1`` before importing wsframe to use
the pure-Python path even where the accelerator is built.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from ._typing import BytesLike

__all__ = ["SPEEDUPS", "apply_mask", "apply_mask_python"]

if TYPE_CHECKING:
    from ._speedups import Assembler


_from_bytes = int.from_bytes
_byteorder = sys.byteorder


def apply_mask_python(data: BytesLike, mask: BytesLike) -> bytes:
    """XOR `data` with the 4-byte `mask` repeated; masking twice gives `data` back.

    Args:
        data: the payload (any bytes-like object).
        mask: the 4-byte masking key (any bytes-like object, as for the C accelerator).

    Returns:
        The masked (or unmasked) payload as new bytes.

    Raises:
        ValueError: `mask` is not 4 bytes long.
    """
    if len(mask) != 4:
        raise ValueError("mask must contain 4 bytes")
    n = len(data)
    if n == 0:
        return b""
    if n <= _SMALL:
        # The key repeated is the key times 0x...000100000001, cut to n bytes: two
        # integer operations instead of building the repeated key as bytes.
        repeat, low = _SMALL_KEYS[n]
        return ((_from_bytes(data, "little") ^ _from_bytes(mask, "little") * repeat) & low).to_bytes(n, "little")
    q, r = divmod(n, 4)
    four = bytes(mask)  # a memoryview cannot be repeated
    key = four * q + four[:r]
    return (_from_bytes(data, _byteorder) ^ _from_bytes(key, _byteorder)).to_bytes(n, _byteorder)


# For payloads up to _SMALL bytes (control frames, small messages): by length, the
# multiplier that repeats a 4-byte key over it and the mask of its n low bytes.
_SMALL = 128
_SMALL_KEYS = [
    (_from_bytes(b"\x01\x00\x00\x00" * ((n + 3) // 4), "little"), (1 << (8 * n)) - 1) for n in range(_SMALL + 1)
]


# Masking keys from the OS's cryptographic source (os.urandom, as secrets.token_bytes),
# read 4 KiB at a time: one system call per 1,024 keys instead of one per frame a client
# sends. Keys come from a C iterator: next() hands each key out once, even to threads
# racing for it; two threads refilling at once each get fresh bytes.
_unpack_keys = struct.Struct("4s").iter_unpack
_keys: Iterator[tuple[bytes]] = iter(())


def _forget_keys() -> None:
    global _keys
    _keys = iter(())


# A forked child must not hand out the keys its parent has not used yet.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_keys)


def random_key_bytes(n: int) -> bytes:
    """`n` bytes from the OS's cryptographic source, for masking keys (see above)."""
    global _keys
    if n != 4:
        return os.urandom(n)
    try:
        return next(_keys)[0]
    except StopIteration:
        _keys = _unpack_keys(os.urandom(4096))
        return next(_keys)[0]


apply_mask: Callable[[BytesLike, BytesLike], bytes]
SPEEDUPS: bool
"""True when `apply_mask` is the C accelerator, False on the pure-Python path."""
# The accelerator's Assembler (a large frame received straight into its message's
# bytes, see _connection.py), or None on the pure-Python path.
assembler_type: type[Assembler] | None = None

if os.environ.get("WSFRAME_NO_SPEEDUPS"):
    apply_mask, SPEEDUPS = apply_mask_python, False
else:
    try:
        from ._speedups import Assembler as _Assembler
        from ._speedups import apply_mask as _apply_mask_c  # same signature, in C
    except ImportError:  # no compiler at install time, or another Python implementation
        apply_mask, SPEEDUPS = apply_mask_python, False
    else:
        apply_mask, SPEEDUPS = _apply_mask_c, True
        assembler_type = _Assembler
