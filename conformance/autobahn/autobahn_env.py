"""Build, cache and check the Python 2.7 environment of Autobahn|Testsuite (``wstest``).

``autobahntestsuite`` runs on Python 2.7 only. The environment is built once per
cache folder and reused by every later run:

1. a ``virtualenv`` able to create Python 2.7 environments (``virtualenv>=20.21,<20.22``,
   the last series that does): the one importable here, else one installed into
   ``<cache>/tools`` (a small Python 3 venv);
2. ``virtualenv -p <pyenv's python2.7> <cache>/autobahn-py27``;
3. ``<cache>/autobahn-py27/bin/pip install autobahntestsuite==25.10.1``.

The cache is ``$WSKIT_CACHE``, else ``~/.cache/wskit``. The environment is rebuilt when
it is missing, was built for another pin, or its ``wstest --help`` fails. Run this file
to build or check it: ``python conformance/autobahn/autobahn_env.py [--rebuild]``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import glob
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "AUTOBAHN_REQUIREMENT",
    "VIRTUALENV_REQUIREMENT",
    "cache_dir",
    "ensure_autobahn",
    "find_python27",
]

#: The one release of the test suite every run uses: bump it on purpose.
AUTOBAHN_REQUIREMENT = "autobahntestsuite==25.10.1"
#: virtualenv 20.22 dropped the creation of Python 2 environments.
VIRTUALENV_REQUIREMENT = "virtualenv>=20.21,<20.22"
ENV_NAME = "autobahn-py27"
STAMP = "wskit-stamp.json"
#: Bounds of each step (seconds): an install that hangs fails instead.
INSTALL_TIMEOUT = 900
CHECK_TIMEOUT = 60


def cache_dir() -> Path:
    """Return the cache folder: ``$WSKIT_CACHE``, else ``~/.cache/wskit``."""
    configured = os.environ.get("WSKIT_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "wskit"


def find_python27() -> Path:
    """Find a Python 2.7 interpreter: pyenv's first, then PATH.

    Returns:
        The interpreter's path.

    Raises:
        RuntimeError: no Python 2.7 was found.
    """
    candidates: list[str] = []
    if shutil.which("pyenv"):
        # `pyenv which` only sees the versions selected here; name 2.7 explicitly.
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=CHECK_TIMEOUT, check=False)
        if root.returncode == 0 and root.stdout.strip():
            candidates += sorted(glob.glob(os.path.join(root.stdout.strip(), "versions", "2.7*", "bin", "python2.7")))
        for version in ("2.7.18", "2.7"):
            found = subprocess.run(
                ["pyenv", "which", "python2.7"],
                capture_output=True,
                text=True,
                timeout=CHECK_TIMEOUT,
                check=False,
                env={**os.environ, "PYENV_VERSION": version},
            )
            if found.returncode == 0 and found.stdout.strip():
                candidates.append(found.stdout.strip())
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/2.7*/bin/python2.7")))
    on_path = shutil.which("python2.7")
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        check = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT,
            check=False,
        )
        if check.returncode == 0 and check.stdout.strip() == "2.7":
            return Path(candidate)
    raise RuntimeError("no python2.7 found (install it with `pyenv install 2.7.18`); Autobahn needs it")


def _log(message: str) -> None:
    print(f"[autobahn-env] {message}", flush=True)


def _run(command: list[str], log: Path) -> None:
    """Run one build step, its output appended to `log` (shown when the step fails)."""
    _log("$ " + " ".join(command))
    with open(log, "ab") as output:
        output.write(("$ " + " ".join(command) + "\n").encode())
        output.flush()
        result = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT, timeout=INSTALL_TIMEOUT, check=False)
    if result.returncode != 0:
        lines = log.read_text(errors="replace").splitlines()
        print("\n".join(lines[-40:]), file=sys.stderr)
        raise subprocess.CalledProcessError(result.returncode, command)


def _virtualenv_command(cache: Path, log: Path) -> list[str]:
    """Return a command that runs a virtualenv able to create Python 2.7 environments."""
    probe = subprocess.run(
        [sys.executable, "-c", "import virtualenv; print(virtualenv.__version__)"],
        capture_output=True,
        text=True,
        timeout=CHECK_TIMEOUT,
        check=False,
    )
    if probe.returncode == 0 and probe.stdout.strip().startswith("20.21."):
        return [sys.executable, "-m", "virtualenv"]
    tools = cache / "tools"
    python = tools / "bin" / "python"
    probe = (
        subprocess.run(
            [str(python), "-c", "import virtualenv; print(virtualenv.__version__)"],
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT,
            check=False,
        )
        if python.exists()
        else None
    )
    if probe is None or probe.returncode != 0 or not probe.stdout.strip().startswith("20.21."):
        shutil.rmtree(tools, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(tools)], log)
        _run([str(python), "-m", "pip", "install", "--quiet", VIRTUALENV_REQUIREMENT], log)
    return [str(python), "-m", "virtualenv"]


def _wstest_works(env: Path) -> bool:
    wstest = env / "bin" / "wstest"
    if not wstest.exists():
        return False
    try:
        result = subprocess.run([str(wstest), "--help"], capture_output=True, timeout=CHECK_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _stamp_matches(env: Path) -> bool:
    try:
        stamp = json.loads((env / STAMP).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(stamp, dict) and stamp.get("requirement") == AUTOBAHN_REQUIREMENT


@contextlib.contextmanager
def _locked(cache: Path) -> Iterator[None]:
    """Hold an exclusive lock on the cache, so that two runs never build at once."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".autobahn.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_autobahn(cache: Path | None = None, *, rebuild: bool = False) -> Path:
    """Return the path of a working ``wstest``, building its environment when needed.

    Args:
        cache: the cache folder; default `cache_dir()`.
        rebuild: build anew even when the cached environment works.

    Returns:
        The ``wstest`` executable.

    Raises:
        RuntimeError: no Python 2.7, or the environment still fails its check after a build.
        subprocess.CalledProcessError: a build step failed.
    """
    cache = cache if cache is not None else cache_dir()
    env = cache / ENV_NAME
    with _locked(cache):
        if not rebuild and _stamp_matches(env) and _wstest_works(env):
            _log(f"cached: {env} ({AUTOBAHN_REQUIREMENT})")
            return env / "bin" / "wstest"
        started = time.monotonic()
        _log(f"building {env} ({'forced' if rebuild else 'missing, outdated or broken'})")
        log = cache / "autobahn-build.log"
        log.write_text("")
        python27 = find_python27()
        virtualenv = _virtualenv_command(cache, log)
        shutil.rmtree(env, ignore_errors=True)
        _run([*virtualenv, "--quiet", "-p", str(python27), str(env)], log)
        _run([str(env / "bin" / "pip"), "install", "--disable-pip-version-check", AUTOBAHN_REQUIREMENT], log)
        if not _wstest_works(env):
            raise RuntimeError(f"{env}/bin/wstest --help fails after a fresh build")
        (env / STAMP).write_text(json.dumps({"requirement": AUTOBAHN_REQUIREMENT, "python": str(python27)}) + "\n")
        _log(f"built {env} in {time.monotonic() - started:.0f}s")
        return env / "bin" / "wstest"


def main() -> int:
    """Build or check the environment; print the ``wstest`` path."""
    parser = argparse.ArgumentParser(description="Build or check the cached Autobahn|Testsuite environment.")
    parser.add_argument("--rebuild", action="store_true", help="build anew even if the cached one works")
    parser.add_argument("--cache", type=Path, help="cache folder (default $WSKIT_CACHE or ~/.cache/wskit)")
    args = parser.parse_args()
    print(ensure_autobahn(args.cache, rebuild=args.rebuild))
    return 0


if __name__ == "__main__":
    sys.exit(main())
