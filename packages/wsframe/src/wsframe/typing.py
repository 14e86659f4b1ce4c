"""Type aliases of the public API, for annotations in code that calls wsframe."""

from __future__ import annotations

from ._typing import BytesLike, Data

__all__ = [
    "BytesLike",
    "Data",
]
