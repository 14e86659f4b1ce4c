"""wsrouter: path and subprotocol routing for the wsserver WebSocket server.

Not written yet: this release is a placeholder that reserves the package and its
place in the wskit monorepo. It exports nothing.
"""

from __future__ import annotations

__all__: list[str] = []

__version__ = "0.1.0.dev0"
