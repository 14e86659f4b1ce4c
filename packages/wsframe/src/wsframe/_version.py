"""The version of wskit-frame, written once.

`pyproject.toml` reads it at build time (`[tool.setuptools.dynamic]`, statically, without
importing `wsframe`), and `wsframe` re-exports it as `wsframe.__version__`.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0.dev0"
