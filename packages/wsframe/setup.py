"""Build script for the optional C accelerator `wsframe._speedups`; metadata is in pyproject.toml.

The environment variable ``WSFRAME_BUILD_EXTENSION`` chooses what happens to it:

- ``yes``: build it, and fail the build if it cannot be compiled (CI and release wheels);
- ``no``: skip it, giving a pure-Python wheel;
- unset or empty: try to build it and, without a compiler or on a build failure, warn and
  go on without it; `wsframe._mask` then uses the pure-Python path.
"""

from __future__ import annotations

import os

from setuptools import Extension, setup

build_extension = os.environ.get("WSFRAME_BUILD_EXTENSION", "").strip().lower()
if build_extension not in ("", "yes", "no"):
    raise SystemExit(f"WSFRAME_BUILD_EXTENSION must be 'yes', 'no' or unset, not {build_extension!r}")

ext_modules: list[Extension] = []
if build_extension != "no":
    ext_modules.append(
        Extension(
            "wsframe._speedups",
            sources=["src/wsframe/_speedups.c"],
            # optional=True: setuptools turns a compiler error (or no compiler) into a
            # warning and leaves the extension out.
            optional=build_extension != "yes",
        )
    )

setup(ext_modules=ext_modules)
