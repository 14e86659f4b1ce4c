"""Type aliases shared by the public API."""

from __future__ import annotations

from typing import TypeAlias

__all__ = ["BytesLike", "Data"]

BytesLike: TypeAlias = "bytes | bytearray | memoryview"
"""Binary data that wskit accepts: bytes, bytearray or memoryview."""

Data: TypeAlias = "str | bytes"
"""A message: `str` for text, `bytes` for binary."""
