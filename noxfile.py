"""nox sessions of the wskit monorepo: tests, lint, build, demo, docs, bench, soak, conformance, fuzz.

``nox -l`` lists the sessions with their docstrings. Each session installs what it
needs into its own virtual environment (uv when available, else virtualenv).
Interpreters come from PATH or pyenv (the root ``.python-version`` lists the four
supported versions). A missing interpreter skips its session with a message, except
in CI (the ``CI`` environment variable is set), where it is an error.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import shutil
import tempfile
import time
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
# websockets: an independent peer for the interoperability tests of wsserver and wsclient.
# websockets 15: conformance/interop uses connect(proxy=None) and fragments with text=True.
TEST_DEPS = ["pytest", "hypothesis", "trustme", "websockets>=15", "proxy.py>=2.4"]
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
    """Run every package's tests, conformance/ property tests and examples/ (the docs' code).

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
        # conformance/interop (wskit against Node.js and websockets peers) runs in the
        # conformance session, with and without the accelerator on every Python.
        runs.append(("conformance", ROOT / "conformance", {}))
    # examples/test_snippets.py runs every code example of the documentation.
    if has_tests(ROOT / "examples"):
        runs.append(("examples", ROOT / "examples", {}))
    if has_tests(package_dir("wsframe") / "tests"):
        runs.append(("wsframe-no-speedups", package_dir("wsframe") / "tests", {"WSFRAME_NO_SPEEDUPS": "1"}))
    if not runs:
        session.error("no test files found under packages/*/tests or conformance/")

    junit = REPORTS / "junit"
    junit.mkdir(parents=True, exist_ok=True)
    failed: list[str] = []
    for label, folder, extra_env in runs:
        session.log(f"--- {label}: {folder.relative_to(ROOT)} ---")
        ignore = ["--ignore=conformance/interop"] if label == "conformance" else []
        try:
            session.run(
                "pytest",
                *PYTEST_OPTIONS,
                f"--junitxml={junit / f'py{session.python}-{label}.xml'}",
                *ignore,
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
    """Check style with ruff and types with mypy --strict, package by package.

    Every check runs even after one fails; the session fails if any did.
    """
    session.chdir(ROOT)
    install_packages(session)
    session.install(*LINT_DEPS, *TEST_DEPS)
    targets = ["packages", "examples", "fuzzing", "bench", "stress", "noxfile.py"]
    if any((ROOT / "conformance").rglob("*.py")):
        targets.insert(1, "conformance")
    checks: list[tuple[str, list[str], Path]] = [
        ("ruff check", ["ruff", "check", *targets], ROOT),
        ("ruff format", ["ruff", "format", "--check", "--diff", *targets], ROOT),
    ]
    for pkg in PACKAGES:
        # From the package folder, so mypy reads that package's own config.
        checks.append((f"mypy {pkg}", ["mypy", "--strict", f"src/{pkg}"], package_dir(pkg)))
    failed: list[str] = []
    for label, command, folder in checks:
        with session.chdir(folder):
            try:
                session.run(*command)
            except CommandFailed:
                failed.append(label)
    if failed:
        session.error("failed: " + ", ".join(failed))


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
    """Run the live demo: the chat server of examples/chat on http://127.0.0.1:8000.

    Open the URL it prints in two browser windows; Ctrl-C stops it. Arguments go to
    the server: ``nox -s demo -- --port 8080``.
    """
    session.chdir(ROOT)
    install_packages(session, editable=False)
    session.run("python", "examples/chat/server.py", *session.posargs)


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


#: Peers of the benchmark, pinned so that two runs compare like with like; bump on purpose.
BENCH_PYTHON = "3.12"
BENCH_DEPS = [
    "websockets==17.4",
    "picows==2.3.1",
    "aiohttp==3.14.5",
    "wsproto==1.3.2",
    "uvloop==0.23.0",
    "matplotlib==3.11.2",
    "py-spy==0.4.3",
]


@nox.session(python=BENCH_PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmark wskit's server and client against their peers (not part of CI).

    Echo servers of wskit (with and without its C accelerator), websockets, picows,
    aiohttp, wsproto and, when npm can install them, the Node.js ws and websocket
    packages, each pinned to core 0 and loaded from core 1; see bench/README.md.
    Arguments go to bench/run.py: ``nox -s bench -- --rounds 3 --workloads small,large
    --servers wskit,websockets``. Writes reports/bench/latest.md, .json and .png.
    """
    session.chdir(ROOT)
    install_packages(session)
    session.install(*BENCH_DEPS)
    session.run("python", "bench/run.py", *session.posargs)


# ------------------------------------------------------------------------- soak

#: websockets: the peer server the soak measures beside wsserver (pinned like the bench's).
SOAK_DEPS = ["trustme", "matplotlib==3.11.2", "websockets==17.4"]


@nox.session(python=BENCH_PYTHON)
def soak(session: nox.Session) -> None:
    """Load and soak test of wsserver beside websockets' server, deflate off then on (not part of CI).

    stress/soak.py: 300 TLS and plain clients for 60 s, random messages and random
    endings, while the server's RSS and file descriptors are sampled; both must come
    back to their baseline by themselves, and the peak RSS per open connection must
    stay under 1 MiB and under websockets'. Arguments go to both runs: ``nox -s soak
    -- --seconds 20 --clients 100 --tls 1``. Writes reports/soak/*.json and soak.png.
    """
    session.chdir(ROOT)
    install_packages(session)
    session.install(*SOAK_DEPS)
    failed = []
    for extra in ([], ["--deflate"]):
        try:
            session.run("python", "stress/soak.py", *extra, *session.posargs)
        except CommandFailed:
            failed.append("deflate on" if extra else "deflate off")
    if failed:
        session.error("soak failed: " + ", ".join(failed))


# ------------------------------------------------------------------ conformance

#: The Python whose conformance session runs EVERY Autobahn case (9.* limits and
#: performance, 12.*/13.* permessage-deflate) in both directions. The others, and the
#: wsrouter and no-speedups runs, use the reduced set: 12.* and 13.* keep 2 cases of
#: each group. That is the CI-time budget cut (conformance/README.md has the numbers).
FULL_AUTOBAHN_PYTHON = "3.12"
#: The Python whose session runs Autobahn again with WSFRAME_NO_SPEEDUPS=1 (pure-Python
#: masking) in both directions with the reduced set; the others run their pure-Python
#: pass with the nodeflate set (all but 12.* and 13.*, about 10 s each).
NO_SPEEDUPS_AUTOBAHN_PYTHON = "3.10"
#: Autobahn runs at once: each is a ping-pong of two processes, about one core.
AUTOBAHN_JOBS = 2
AUTOBAHN_REPORTS = REPORTS / "autobahn"
#: The Python of the fuzz session and of the conformance session's short fuzz run:
#: atheris 3.0.0 installs from its wheel there (checked).
FUZZ_PYTHON = "3.11"
FUZZ_DEPS = ["atheris"]
#: The conformance session's fuzz run: seconds per target (frames, http, deflate), two at once.
SHORT_FUZZ_SECONDS = 20
CONFORMANCE_SUMMARY = REPORTS / "conformance"


def conformance_plan(python: str, case_set: str | None = None) -> list[tuple[str, str, str]]:
    """Return the Autobahn runs of `python`'s session: (name, run.py spec, report folder).

    `case_set` ("full" or "reduced") overrides the budget's choice for this Python.
    """
    main = case_set or ("full" if python == FULL_AUTOBAHN_PYTHON else "reduced")
    other = case_set or "reduced"
    runs = [("autobahn-server", f"server:{main}"), ("autobahn-client", f"client:{main}")]
    if python == FULL_AUTOBAHN_PYTHON:
        runs.append(("autobahn-router", f"router:{other}"))
    pure = other if python == NO_SPEEDUPS_AUTOBAHN_PYTHON else (case_set or "nodeflate")
    runs.append(("autobahn-server-no-speedups", f"server:{pure}:no-speedups"))
    runs.append(("autobahn-client-no-speedups", f"client:{pure}:no-speedups"))
    plan = []
    for name, spec in runs:
        part, *_ = spec.split(":")
        plan.append((name, spec, f"{part}-py{python}{'-no-speedups' if spec.endswith('no-speedups') else ''}"))
    return plan


@nox.session(python=PYTHONS)
def conformance(session: nox.Session) -> None:
    """Run the conformance suite: property tests, interoperability, Autobahn, fuzzing.

    Each part with and without the C accelerator: conformance/ property tests;
    conformance/interop (wskit against the websockets, npm ws and npm websocket clients
    and servers); Autobahn|Testsuite (its Python 2.7 environment is cached in
    ~/.cache/wskit): wstest's fuzzing client against `python -m wsserver`, wsclient
    against wstest's fuzzing server: every case on FULL_AUTOBAHN_PYTHON, the reduced set
    elsewhere, the nodeflate set for the pure-Python pass, plus wsrouter in front of the
    echo server; on FUZZ_PYTHON a short atheris run of each fuzz target. Fails when any
    part fails or any Autobahn case is below OK/INFORMATIONAL. Reports in
    reports/autobahn/ and reports/fuzz/, summary in reports/conformance/. After ``--``:
    ``--only NAME[,NAME]`` (globs), ``--full`` or ``--reduced``, ``--cases '6.4.*,7.*'``,
    ``--jobs N``, ``--list``.
    """
    parser = argparse.ArgumentParser(prog=f"nox -s {session.name} --")
    parser.add_argument("--only", default="*", help="comma-separated part names or globs")
    parser.add_argument("--full", dest="case_set", action="store_const", const="full", help="every Autobahn case")
    parser.add_argument("--reduced", dest="case_set", action="store_const", const="reduced", help="the reduced set")
    parser.add_argument("--cases", help="Autobahn case patterns instead of a case set, comma-separated")
    parser.add_argument("--jobs", type=int, default=AUTOBAHN_JOBS, help="Autobahn runs at once")
    parser.add_argument("--list", action="store_true", help="print the matrix and this session's parts, run nothing")
    options = parser.parse_args(session.posargs)
    python = str(session.python)
    plan = conformance_plan(python, options.case_set)
    names = ["properties", "properties-no-speedups", "interop", "interop-no-speedups"]
    names += [name for name, _, _ in plan]
    if python == FUZZ_PYTHON:
        names.append("fuzz")
    patterns = [pattern.strip() for pattern in options.only.split(",") if pattern.strip()]
    selected = [name for name in names if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)]

    matrix = [f"  {version}: " + ", ".join(spec for _, spec, _ in conformance_plan(version)) for version in PYTHONS]
    session.log(
        "Autobahn matrix (PART:CASESET; full: all 517 cases; reduced: 12.* and 13.* keep their .1 and .11,"
        " the CI-time budget cut; nodeflate: no 12.* nor 13.*):\n" + "\n".join(matrix)
    )
    session.log(f"this session: {', '.join(selected) or 'nothing'}")
    if not selected:
        session.error(f"--only {options.only} selects none of: {', '.join(names)}")
    if options.list:
        return

    session.chdir(ROOT)
    install_packages(session)
    session.install(*TEST_DEPS)
    session.run("python", "-c", "import wsframe; print('wsframe.SPEEDUPS =', wsframe.SPEEDUPS)")
    timings: list[str] = []
    failed: list[str] = []

    def timed(label: str, *command: str, env: dict[str, str] | None = None) -> None:
        session.log(f"--- {label} ---")
        started = time.monotonic()
        try:
            session.run("python", *command, env=env)
        except CommandFailed:
            failed.append(label)
        took = time.monotonic() - started
        timings.append(f"  {label:<40} {took:6.0f}s  {'FAILED' if label in failed else 'ok'}")

    pure = {"WSFRAME_NO_SPEEDUPS": "1"}
    pytest_parts = [
        ("properties", ["--ignore=conformance/interop", "conformance"], {}),
        ("properties-no-speedups", ["--ignore=conformance/interop", "conformance"], pure),
        ("interop", ["conformance/interop"], {}),
        ("interop-no-speedups", ["conformance/interop"], pure),
    ]
    for name, args, extra_env in pytest_parts:
        if name in selected:
            timed(name, "-m", "pytest", *PYTEST_OPTIONS, *args, env={"PYTHONASYNCIODEBUG": "1", **extra_env})
    runs = [(name, spec, folder) for name, spec, folder in plan if name in selected]
    if runs:
        command = ["conformance/autobahn/run.py", "--reports", str(AUTOBAHN_REPORTS), "--jobs", str(options.jobs)]
        for _, spec, _ in runs:
            command += ["--run", spec]
        if options.cases:
            command += ["--cases", options.cases]
        timed(f"autobahn ({', '.join(name for name, _, _ in runs)})", *command)
        # The summary covers every run under reports/autobahn/; the exit status, this session's.
        gate = [
            "conformance/autobahn/gate.py",
            "--all",
            str(AUTOBAHN_REPORTS),
            "--summary-dir",
            str(CONFORMANCE_SUMMARY),
        ]
        timed("gate", *gate, *(str(AUTOBAHN_REPORTS / folder) for _, _, folder in runs))
        # The docs' Conformance page includes this file: commit it after a release run.
        # Not in CI, which must leave the clone's tracked files as it found them.
        summary = CONFORMANCE_SUMMARY / "summary.md"
        if summary.is_file() and not os.environ.get("CI"):
            shutil.copyfile(summary, ROOT / "docs" / "_generated" / "conformance.md")
            session.log("docs/_generated/conformance.md updated from " + str(summary.relative_to(ROOT)))
    if "fuzz" in selected:
        # A short coverage-guided run of each target; `nox -s fuzz` is the long one.
        session.install(*FUZZ_DEPS)
        timed("fuzz", "fuzzing/run.py", "--seconds", str(SHORT_FUZZ_SECONDS), "--jobs", "2")
    session.log("time per part:\n" + "\n".join(timings))
    if failed:
        session.error("conformance failed: " + ", ".join(failed))


# ---------------------------------------------------------------------- fuzzing


@nox.session(python=FUZZ_PYTHON)
def fuzz(session: nox.Session) -> None:
    """Fuzz the frame parser, the HTTP/handshake parsers and permessage-deflate (atheris).

    Runs fuzzing/run.py: each target for 300 s by default, one after the other. Arguments
    go to it: ``nox -s fuzz -- --seconds 60 --targets frames,http --jobs 2``. Summary in
    reports/fuzz/summary.json, crashing inputs in reports/fuzz/crashes/<target>/ (the
    corpus grown by earlier runs is reused from reports/fuzz/corpus/). Not part of CI.
    """
    session.chdir(ROOT)
    install_packages(session)
    session.install(*FUZZ_DEPS)
    # A --seconds among the arguments overrides this default (argparse keeps the last one).
    session.run("python", "fuzzing/run.py", "--seconds", "300", *session.posargs)
