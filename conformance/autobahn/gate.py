"""The Autobahn gate: read each run's ``index.json``, hold every case to the bar, summarize.

The bar: every case's ``behavior`` AND ``behaviorClose`` is ``OK`` or ``INFORMATIONAL``.
Anything else (``NON-STRICT``, ``FAILED``, ``UNIMPLEMENTED``, ``WRONG CODE``, ``UNCLEAN``,
a value this file has never seen, ...) is below the bar. A run is also below the bar when
its report is missing or incomplete (fewer cases than it selected: a target that died
half-way) or when the runner recorded an error in ``wskit-run.json``.

Usage::

    python conformance/autobahn/gate.py [--summary-dir reports/conformance]
        [--all reports/autobahn] RUN_DIR [RUN_DIR ...]

Exits 1 when any RUN_DIR given is below the bar, 2 on bad usage, 0 otherwise. The
summary (``summary.md`` and ``summary.json`` in ``--summary-dir``) covers every run
folder found under ``--all`` plus the RUN_DIRs, each with the date it was produced.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import html
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "BEHAVIORS",
    "META_FILE",
    "PASSING",
    "CaseResult",
    "RunReport",
    "case_sort_key",
    "find_runs",
    "load_run",
    "main",
    "render_markdown",
    "render_text",
    "summary_data",
    "write_summary",
]

#: The outcomes that meet the bar, for `behavior` and `behaviorClose` alike.
PASSING = frozenset({"OK", "INFORMATIONAL"})
#: The columns of the summary table, in order; other values are counted under "other".
BEHAVIORS = ("OK", "INFORMATIONAL", "NON-STRICT", "FAILED", "UNIMPLEMENTED")
#: Written by run.py next to Autobahn's reports: what ran, how, and how long it took.
META_FILE = "wskit-run.json"
DIRECTIONS = {
    "server": "wstest fuzzingclient -> wsserver",
    "router": "wstest fuzzingclient -> wsrouter on wsserver",
    "client": "wsclient -> wstest fuzzingserver",
}
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_TEXT_LIMIT = 300


def _plain(text: Any, limit: int = _TEXT_LIMIT) -> str:
    """Autobahn's descriptions and results hold HTML: keep the words, one line, bounded."""
    if not isinstance(text, str):
        return "" if text is None else str(text)
    cleaned = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text))).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


def case_sort_key(case_id: str) -> tuple[int, ...]:
    """Sort "1.1.10" after "1.1.9": compare the dotted numbers as integers."""
    return tuple(int(part) if part.isdigit() else -1 for part in case_id.split("."))


@dataclasses.dataclass(frozen=True)
class CaseResult:
    """One Autobahn case of one run."""

    case_id: str
    behavior: str
    behavior_close: str
    duration_ms: int | None = None
    description: str = ""
    expectation: str = ""
    result: str = ""
    result_close: str = ""

    @property
    def passed(self) -> bool:
        """Whether both the behaviour and the close behaviour meet the bar."""
        return self.behavior in PASSING and self.behavior_close in PASSING


@dataclasses.dataclass
class RunReport:
    """The results of one run (one direction, one Python, one accelerator setting)."""

    name: str
    folder: Path
    meta: dict[str, Any]
    cases: list[CaseResult]
    problems: list[str]

    @property
    def counts(self) -> Counter[str]:
        """Cases by `behavior`."""
        return Counter(case.behavior for case in self.cases)

    @property
    def close_counts(self) -> Counter[str]:
        """Cases by `behaviorClose`."""
        return Counter(case.behavior_close for case in self.cases)

    @property
    def below_bar(self) -> list[CaseResult]:
        """The cases whose behaviour or close behaviour is below the bar, in case order."""
        return [case for case in self.cases if not case.passed]

    @property
    def passed(self) -> bool:
        """Whether the run is complete, error-free and every case meets the bar."""
        return not self.problems and not self.below_bar and bool(self.cases)

    def label(self, key: str, default: str = "?") -> str:
        """Return a metadata field as text, or `default`."""
        value = self.meta.get(key)
        return default if value is None else str(value)


def _read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def load_run(folder: Path) -> RunReport:
    """Read one run folder: ``index.json``, each case's JSON and ``wskit-run.json``.

    Never raises on a bad report: what is missing or malformed becomes a problem of
    the run, which then fails the gate.

    Args:
        folder: the run's report folder (``reports/autobahn/<direction>-py<X.Y>``).

    Returns:
        The run's report.
    """
    problems: list[str] = []
    meta: dict[str, Any] = {}
    meta_path = folder / META_FILE
    if meta_path.is_file():
        try:
            loaded = _read_json(meta_path)
        except (OSError, ValueError) as exc:
            problems.append(f"{META_FILE} is unreadable: {exc}")
        else:
            if isinstance(loaded, dict):
                meta = loaded
            else:
                problems.append(f"{META_FILE} is not a JSON object")
    if meta.get("error"):
        problems.append(str(meta["error"]))

    cases: list[CaseResult] = []
    index_path = folder / "index.json"
    try:
        index = _read_json(index_path)
    except FileNotFoundError:
        problems.append("no index.json: Autobahn did not write its report")
        index = None
    except (OSError, ValueError) as exc:
        problems.append(f"index.json is unreadable: {exc}")
        index = None
    if index is not None:
        if not isinstance(index, dict) or len(index) != 1:
            agents = sorted(index) if isinstance(index, dict) else []
            problems.append(f"index.json must hold exactly one agent, found {agents}")
        else:
            ((_agent, entries),) = index.items()
            if not isinstance(entries, dict):
                problems.append("index.json: the agent's entry is not an object")
                entries = {}
            for case_id in sorted(entries, key=case_sort_key):
                entry = entries[case_id] if isinstance(entries[case_id], dict) else {}
                details: dict[str, Any] = {}
                report_file = entry.get("reportfile")
                if isinstance(report_file, str) and (folder / report_file).is_file():
                    try:
                        details = _read_json(folder / report_file)
                    except (OSError, ValueError):
                        details = {}
                duration = entry.get("duration")
                cases.append(
                    CaseResult(
                        case_id=case_id,
                        behavior=str(entry.get("behavior", "MISSING")),
                        behavior_close=str(entry.get("behaviorClose", "MISSING")),
                        duration_ms=duration if isinstance(duration, int) else None,
                        description=_plain(details.get("description")),
                        expectation=_plain(details.get("expectation")),
                        result=_plain(details.get("result")),
                        result_close=_plain(details.get("resultClose")),
                    )
                )
    expected = meta.get("expected_cases")
    if isinstance(expected, int) and index is not None and len(cases) != expected:
        problems.append(f"incomplete: {len(cases)} cases in index.json, {expected} selected")
    if index is not None and not cases and not problems:
        problems.append("index.json holds no case")
    return RunReport(name=str(meta.get("run", folder.name)), folder=folder, meta=meta, cases=cases, problems=problems)


def find_runs(root: Path) -> list[Path]:
    """Return the run folders under `root`: those with an ``index.json`` or a ``wskit-run.json``."""
    if not root.is_dir():
        return []
    return sorted(
        child
        for child in root.iterdir()
        if child.is_dir() and ((child / "index.json").is_file() or (child / META_FILE).is_file())
    )


def _row(run: RunReport) -> list[str]:
    counts = run.counts
    other = sum(count for behavior, count in counts.items() if behavior not in BEHAVIORS)
    close_bad = sum(count for behavior, count in run.close_counts.items() if behavior not in PASSING)
    speedups = run.meta.get("speedups")
    return [
        run.name,
        run.label("direction"),
        run.label("python"),
        "C" if speedups is True else "pure Python" if speedups is False else "?",
        run.label("case_set"),
        str(len(run.cases)),
        *(str(counts.get(behavior, 0)) for behavior in BEHAVIORS),
        str(other),
        str(close_bad),
        "PASS" if run.passed else "FAIL",
        run.label("date"),
        run.label("duration_s"),
    ]


_HEADER = [
    "run",
    "direction",
    "Python",
    "wsframe masking",
    "cases",
    "total",
    *BEHAVIORS,
    "other",
    "close not OK",
    "verdict",
    "date (UTC)",
    "time (s)",
]


def _problem_lines(run: RunReport) -> list[str]:
    lines = [f"{run.name}: {problem}" for problem in run.problems]
    for case in run.below_bar:
        lines.append(
            f"{run.name}: case {case.case_id} behavior={case.behavior} close={case.behavior_close}:"
            f" {case.description or '(no description)'}"
            f" | result: {case.result or '-'} | close: {case.result_close or '-'}"
        )
    return lines


def render_text(runs: Sequence[RunReport]) -> str:
    """Render the summary as an aligned plain-text table and the list of cases below the bar."""
    rows = [_HEADER, *(_row(run) for run in runs)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_HEADER))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    below = [line for run in runs for line in _problem_lines(run)]
    lines.append("")
    if below:
        lines.append(f"Below the bar ({len(below)}):")
        lines.extend("  " + line for line in below)
    else:
        lines.append("Every case of every run is OK or INFORMATIONAL, close behaviour included.")
    return "\n".join(lines)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(runs: Sequence[RunReport], generated: str) -> str:
    """Render the summary as a Markdown page (the docs' "Conformance" page includes it)."""
    lines = [
        "# Conformance",
        "",
        f"Produced {generated} by `nox -s conformance` from Autobahn|Testsuite's `index.json` reports.",
        "",
        "The bar: every case's behaviour and close behaviour is OK or INFORMATIONAL "
        "(no NON-STRICT, FAILED, UNIMPLEMENTED, WRONG CODE), in every run.",
        "",
        "| " + " | ".join(_HEADER) + " |",
        "|" + "|".join("---" for _ in _HEADER) + "|",
    ]
    lines += ["| " + " | ".join(_md_cell(cell) for cell in _row(run)) + " |" for run in runs]
    lines.append("")
    directions = sorted({run.label("direction") for run in runs} & set(DIRECTIONS))
    if directions:
        lines.append("Directions: " + "; ".join(f"{name}: {DIRECTIONS[name]}" for name in directions) + ".")
        lines.append("")
    excluded = [(run.name, run.meta.get("exclude_cases")) for run in runs if run.meta.get("exclude_cases")]
    if excluded:
        lines.append("Cases left out to fit CI's time (the run on the full case set covers them):")
        lines.append("")
        lines += [f"- {name}: {', '.join(f'`{pattern}`' for pattern in patterns)}" for name, patterns in excluded]
        lines.append("")
    problems = [line for run in runs for line in _problem_lines(run)]
    if problems:
        lines.append("## Below the bar")
        lines.append("")
        lines += [f"- {_md_cell(line)}" for line in problems]
    else:
        lines.append("Every case of every run meets the bar.")
    return "\n".join(lines) + "\n"


def summary_data(runs: Sequence[RunReport], generated: str) -> dict[str, Any]:
    """Return the summary as JSON-ready data."""
    return {
        "generated": generated,
        "bar": sorted(PASSING),
        "runs": [
            {
                "run": run.name,
                "folder": str(run.folder),
                "meta": run.meta,
                "total": len(run.cases),
                "behavior": dict(sorted(run.counts.items())),
                "behaviorClose": dict(sorted(run.close_counts.items())),
                "passed": run.passed,
                "problems": run.problems,
                "below_bar": [dataclasses.asdict(case) for case in run.below_bar],
            }
            for run in runs
        ],
    }


def write_summary(runs: Sequence[RunReport], folder: Path, generated: str | None = None) -> None:
    """Write ``summary.md`` and ``summary.json`` into `folder`."""
    generated = generated or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.md").write_text(render_markdown(runs, generated), encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps(summary_data(runs, generated), indent=2) + "\n", encoding="utf-8")


def _unique(paths: Iterable[Path]) -> list[Path]:
    seen: dict[Path, None] = {}
    for path in paths:
        seen.setdefault(path.resolve(), None)
    return list(seen)


def main(argv: Sequence[str] | None = None) -> int:
    """Gate the given run folders and write the summary; see the module docstring."""
    parser = argparse.ArgumentParser(prog="gate.py", description="Hold Autobahn reports to the wskit bar.")
    parser.add_argument("runs", nargs="*", type=Path, help="run folders to gate (each with an index.json)")
    parser.add_argument("--all", type=Path, help="also summarize every run folder under this one (not gated)")
    parser.add_argument("--summary-dir", type=Path, help="write summary.md and summary.json here")
    args = parser.parse_args(argv)
    if not args.runs and args.all is None:
        parser.error("give run folders, --all, or both")

    gated = [load_run(folder) for folder in _unique(args.runs)]
    gated_folders = {run.folder for run in gated}
    others = [
        load_run(folder) for folder in _unique(find_runs(args.all) if args.all else []) if folder not in gated_folders
    ]
    runs = sorted([*gated, *others], key=lambda run: run.name)
    print(render_text(runs))
    if args.summary_dir is not None:
        write_summary(runs, args.summary_dir)
        print(f"\nsummary written to {args.summary_dir / 'summary.md'} and summary.json")
    failing = [run.name for run in gated if not run.passed]
    if failing:
        print(f"\nGATE FAILED: below the bar: {', '.join(failing)}")
        return 1
    if gated:
        print(f"\ngate passed: {', '.join(run.name for run in gated)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
