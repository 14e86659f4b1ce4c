"""Typing for the optional C accelerator `wsframe._speedups` (built from `_speedups.c`)."""

__all__ = ["Assembler", "apply_mask"]

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

class Assembler:
    """One frame's payload of `size` bytes, received in pieces straight into the bytes
    object that `take()` returns: one copy per message instead of two.

    The buffer protocol exports the part written so far, read-only; `write()` and
    `take()` raise BufferError while such a memoryview is alive.
    """

    def __init__(self, size: int) -> None: ...
    @property
    def size(self) -> int:
        """Bytes the message will hold."""
    @property
    def filled(self) -> int:
        """Bytes written so far."""
    def write(self, data: bytes | bytearray | memoryview, mask: bytes | None = None, /) -> None:
        """Append `data`, XORed with the 4-byte `mask` (phase: the bytes written so far) if given.

        Raises:
            ValueError: `data` does not fit, `mask` is not 4 bytes, or the message was taken.
            BufferError: a memoryview of the Assembler is alive.
        """
    def resize(self, size: int, /) -> None:
        """Change the size (never below what was written): a fragmented message grows,
        then shrinks to what it holds before `take()`.

        Raises:
            ValueError: `size` is below what was written, or the message was taken.
            BufferError: a memoryview of the Assembler is alive.
        """
    def take(self) -> bytes:
        """Return the complete message; the Assembler is empty afterwards.

        Raises:
            ValueError: the message is incomplete or was already taken.
            BufferError: a memoryview of the Assembler is alive.
        """
    def __buffer__(self, flags: int, /) -> memoryview: ...
