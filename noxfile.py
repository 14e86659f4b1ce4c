"""nox sessions of the wskit monorepo: tests, lint, build, demo, docs.

``nox -l`` lists the sessions with their docstrings. Each session installs what it
needs into its own virtual environment (uv when available, else virtualenv).
Interpreters come from PATH or pyenv (the root ``.python-version`` lists the four
supported versions). A missing interpreter skips its session with a message, except
in CI (the ``CI`` environment variable is set), where it is an error.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import nox
from nox.command import CommandFailed

ROOT = Path(__file__).resolve().parent

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
PACKAGES = ["wsframe", "wsserver", "wsclient", "wsrouter"]

#: Import name -> distribution name.
DISTRIBUTIONS = {
    "wsframe": "wskit-frame",
    "wsserver": "wskit-server",
    "wsclient": "wskit-client",
    "wsrouter": "wskit-router",
}
#: Import names that must NOT be importable next to a package's wheel and its
#: declared dependencies (a dependency edge that must never appear).
FORBIDDEN_IMPORTS = {
    "wsframe": ["wsserver", "wsclient", "wsrouter"],
    "wsserver": ["wsclient", "wsrouter"],
    "wsclient": ["wsserver", "wsrouter"],
    "wsrouter": ["wsclient"],
}

LINT_PYTHON = "3.13"
# build, demo, docs: the Python that runs nox, so that the README's commands work
# on any machine with one Python >= 3.10 (requires-python rejects older ones).
NOX_PYTHON = None
TEST_DEPS = ["pytest", "hypothesis", "trustme"]
# Pinned: a new ruff or mypy release may add rules or checks; bump them on purpose.
LINT_DEPS = ["ruff==0.17.6", "mypy==2.4.1"]
# mkdocstrings formats the rendered signatures with ruff.
DOCS_DEPS = ["mkdocs>=1.6,<2", "mkdocs-material", "mkdocstrings[python]", "ruff"]
PYTEST_OPTIONS = [
    "-q",
    "--strict-markers",
    "-p",
    "no:cacheprovider",
    # Test files of different packages share basenames (test_exports.py, ...):
    # importlib mode imports each by its path, so they never collide.
    "--import-mode=importlib",
]
REPORTS = ROOT / "reports"
#: In CI, wsframe's optional C accelerator must compile: a build that silently
#: fell back to pure Python would make the two test runs test the same path.
BUILD_ENV = {"WSFRAME_BUILD_EXTENSION": "yes"} if os.environ.get("CI") else {}

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = bool(os.environ.get("CI"))
# Never download an interpreter: use the ones installed here (pyenv).
nox.options.download_python = "never"
nox.options.sessions = ["tests", "lint"]


def package_dir(pkg: str) -> Path:
    """Return the folder of package ``pkg`` (``packages/<pkg>``)."""
    return ROOT / "packages" / pkg


def has_tests(folder: Path) -> bool:
    """Tell whether ``folder`` exists and holds at least one pytest test file."""
    if not folder.is_dir():
        return False
    return any(folder.rglob("test_*.py")) or any(folder.rglob("*_test.py"))


def install_packages(session: nox.Session, *, editable: bool = True) -> None:
    """Install the four packages in one resolver call, so that each one's
    dependency on another wskit package is satisfied by the local copy."""
    args: list[str] = []
    for pkg in PACKAGES:
        folder = package_dir(pkg)
        if not ((folder / "pyproject.toml").is_file() or (folder / "setup.py").is_file()):
            session.error(f"packages/{pkg} has no pyproject.toml or setup.py")
        if editable:
            args.append("-e")
        args.append(str(folder.relative_to(ROOT)))
    session.install(*args, env=BUILD_ENV)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run every package's tests and conformance/ property tests.

    One pytest run per folder (each package with its own pyproject settings);
    wsframe's tests run a second time with WSFRAME_NO_SPEEDUPS=1 (pure-Python
    masking). Extra arguments go to every run: ``nox -s tests-3.12 -- -k mask``.
    Fails if any run fails or if no test file exists.
    """
    session.chdir(ROOT)
    install_packages(session)
    session.install(*TEST_DEPS)
    session.run("python", "-c", "import wsframe; print('wsframe.SPEEDUPS =', wsframe.SPEEDUPS)")

    # (label, folder, extra environment)
    runs: list[tuple[str, Path, dict[str, str]]] = []
    for pkg in PACKAGES:
        if has_tests(package_dir(pkg) / "tests"):
            runs.append((pkg, package_dir(pkg) / "tests", {}))
    if has_tests(ROOT / "conformance"):
        runs.append(("conformance", ROOT / "conformance", {}))
    if has_tests(package_dir("wsframe") / "tests"):
        runs.append(("wsframe-no-speedups", package_dir("wsframe") / "tests", {"WSFRAME_NO_SPEEDUPS": "1"}))
    if not runs:
        session.error("no test files found under packages/*/tests or conformance/")

    junit = REPORTS / "junit"
    junit.mkdir(parents=True, exist_ok=True)
    failed: list[str] = []
    for label, folder, extra_env in runs:
        session.log(f"--- {label}: {folder.relative_to(ROOT)} ---")
        try:
            session.run(
                "pytest",
                *PYTEST_OPTIONS,
                f"--junitxml={junit / f'py{session.python}-{label}.xml'}",
                *session.posargs,
                str(folder.relative_to(ROOT)),
                env={"PYTHONASYNCIODEBUG": "1", **extra_env},
                # A -k or -m filter given on the command line may select no test
                # in some folder: pytest's exit code 5 is fine then, never else.
                success_codes=[0, 5] if session.posargs else [0],
            )
        except CommandFailed:
            failed.append(label)
    if failed:
        session.error("pytest failed for: " + ", ".join(failed))


@nox.session(python=LINT_PYTHON)
def lint(session: nox.Session) -> None:
    """Check style with ruff and types with mypy --strict, package by package."""
    session.chdir(ROOT)
    install_packages(session)
    session.install(*LINT_DEPS, *TEST_DEPS)
    targets = ["packages", "noxfile.py"]
    if any((ROOT / "conformance").rglob("*.py")):
        targets.insert(1, "conformance")
    session.run("ruff", "check", *targets)
    session.run("ruff", "format", "--check", "--diff", *targets)
    for pkg in PACKAGES:
        # From the package folder, so mypy reads that package's own config.
        with session.chdir(package_dir(pkg)):
            session.run("mypy", "--strict", f"src/{pkg}")


#: Run inside each fresh venv by the build session, with ``python -I`` from an
#: empty folder so that nothing from the repository can be imported by accident.
CHECK_WHEEL = """\
import importlib
import importlib.metadata as metadata
import importlib.util
import pathlib
import sys

pkg, dist, version, expect_speedups, *forbidden = sys.argv[1:]
errors = []
module = importlib.import_module(pkg)
location = pathlib.Path(module.__file__).resolve().parent
if pathlib.Path(sys.prefix).resolve() not in location.parents:
    errors.append(f"{pkg} was imported from {location}, outside the check venv")
if not (location / "py.typed").is_file():
    errors.append(f"{pkg}/py.typed is not installed")
found = {module.__version__, metadata.version(dist)}
if found != {version}:
    errors.append(f"version mismatch: wheel {version}, installed {sorted(found)}")
if expect_speedups == "yes" and getattr(module, "SPEEDUPS", None) is not True:
    errors.append(f"{pkg} was built without its C accelerator")
for name in forbidden:
    if importlib.util.find_spec(name) is not None:
        errors.append(f"{name} is importable next to {dist} but must not be")
installed = sorted(d.metadata["Name"] for d in metadata.distributions())
print(f"{dist} {version}: imports as {pkg} from {location}")
print("  installed:", ", ".join(installed))
for error in errors:
    print("  ERROR:", error)
if errors:
    sys.exit(1)
print("  ok: py.typed present; not importable:", ", ".join(forbidden) or "-")
"""


@nox.session(python=NOX_PYTHON)
def build(session: nox.Session) -> None:
    """Build every package's sdist and wheel into dist/ and check each wheel alone.

    Each wheel goes into a fresh venv with its declared dependencies taken from
    dist/ only; the check fails unless it imports from that venv, ships py.typed,
    has the right version and leaves out what it must not pull in (wsclient
    never brings wsserver). In CI, wsframe's wheel must carry the C accelerator.
    """
    session.chdir(ROOT)
    session.install("build[uv]")
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    for pkg in PACKAGES:
        # sdist first, then the wheel built from that sdist: a file missing
        # from the sdist breaks the build here, not on a user's machine.
        folder = str(package_dir(pkg).relative_to(ROOT))
        build_args = ["--installer", "uv", "--outdir", "dist", folder]
        session.run("python", "-m", "build", *build_args, env=BUILD_ENV)

    base_python = str(Path(session.bin) / "python")
    for pkg in PACKAGES:
        dist_name = DISTRIBUTIONS[pkg]
        stem = dist_name.replace("-", "_")
        wheels = sorted(dist.glob(f"{stem}-*.whl"))
        sdists = sorted(dist.glob(f"{stem}-*.tar.gz"))
        if len(wheels) != 1 or len(sdists) != 1:
            session.error(f"expected one wheel and one sdist of {dist_name} in dist/")
        wheel = wheels[0]
        version = wheel.name.split("-")[1]
        expect_speedups = "yes" if pkg == "wsframe" and BUILD_ENV else "any"
        with tempfile.TemporaryDirectory(prefix=f"wskit-check-{pkg}-") as tmp:
            venv = Path(tmp) / "venv"
            python = str(venv / "bin" / "python")
            script = Path(tmp) / "check_wheel.py"
            script.write_text(CHECK_WHEEL)
            session.run("uv", "venv", "--quiet", "--python", base_python, str(venv))
            # --no-index: dependencies on other wskit packages come from dist/
            # only, never from a registry; wskit-frame has no dependencies.
            install = ["--no-index", "--find-links", str(dist), str(wheel)]
            session.run("uv", "pip", "install", "--quiet", "--python", python, *install)
            with session.chdir(tmp):
                args = [
                    pkg,
                    dist_name,
                    version,
                    expect_speedups,
                    *FORBIDDEN_IMPORTS[pkg],
                ]
                session.run(python, "-I", str(script), *args, external=True)


@nox.session(python=NOX_PYTHON)
def demo(session: nox.Session) -> None:
    """Run the demo: for now `python -m wsframe`, a short sans-IO walk-through."""
    session.chdir(ROOT)
    install_packages(session, editable=False)
    # Becomes the live wsrouter demo server once wsserver and wsrouter exist.
    session.run("python", "-m", "wsframe", *session.posargs)


@nox.session(python=NOX_PYTHON)
def docs(session: nox.Session) -> None:
    """Build the docs into site/, warnings as errors; ``-- serve`` serves them.

    ``nox -s docs -- serve`` runs ``mkdocs serve`` on http://127.0.0.1:8000.
    """
    session.chdir(ROOT)
    install_packages(session)
    session.install(*DOCS_DEPS)
    session.env["NO_MKDOCS_2_WARNING"] = "1"  # the banner about MkDocs 2 on each build
    if session.posargs and session.posargs[0] == "serve":
        session.run("mkdocs", "serve", *session.posargs[1:])
    else:
        session.run("mkdocs", "build", "--strict", *session.posargs)
