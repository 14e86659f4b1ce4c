"""Typing for the optional C accelerator `wsframe._speedups` (built from `_speedups.c`)."""

__all__ = ["apply_mask"]

def apply_mask(data: bytes | bytearray | memoryview, mask: bytes | bytearray | memoryview) -> bytes:
    """XOR `data` with the 4-byte `mask` repeated; masking twice gives `data` back.

    Args:
        data: the payload (any bytes-like object; a non-contiguous buffer is copied).
        mask: the 4-byte masking key (any bytes-like object).

    Returns:
        The masked (or unmasked) payload as new bytes.

    Raises:
        ValueError: `mask` is not 4 bytes long.
        TypeError: `data` or `mask` is not a bytes-like object.
    """
