"""Tests of the Autobahn gate (conformance/autobahn/gate.py) on small fake reports."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

GATE_PATH = Path(__file__).resolve().parent / "autobahn" / "gate.py"


def _load_gate() -> Any:
    spec = importlib.util.spec_from_file_location("wskit_conformance_gate", GATE_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


gate = _load_gate()


def write_run(
    folder: Path,
    cases: dict[str, tuple[str, str]],
    *,
    meta: dict[str, Any] | None = None,
    agent: str = "wsserver",
    details: bool = True,
) -> Path:
    """Write a fake Autobahn run: index.json, one JSON per case, and wskit-run.json."""
    folder.mkdir(parents=True)
    index: dict[str, Any] = {}
    for case_id, (behavior, behavior_close) in cases.items():
        report = f"{agent}_case_{case_id.replace('.', '_')}.json"
        index[case_id] = {
            "behavior": behavior,
            "behaviorClose": behavior_close,
            "duration": 3,
            "remoteCloseCode": 1000,
            "reportfile": report,
        }
        if details:
            (folder / report).write_text(
                json.dumps(
                    {
                        "id": case_id,
                        "description": f"Case <b>{case_id}</b>: send a thing",
                        "expectation": "Echo it.",
                        "result": f"Result of {case_id} &amp; more",
                        "resultClose": "Connection was properly closed",
                    }
                )
            )
    (folder / "index.json").write_text(json.dumps({agent: index}))
    full_meta = {"run": folder.name, "direction": "server", "python": "3.12.1", "speedups": True}
    full_meta.update(meta or {})
    (folder / gate.META_FILE).write_text(json.dumps(full_meta))
    return folder


MIXED = {
    "1.1.1": ("OK", "OK"),
    "1.1.2": ("OK", "OK"),
    "1.1.10": ("OK", "OK"),
    "3.2": ("NON-STRICT", "OK"),
    "5.1": ("FAILED", "OK"),
    "6.4.1": ("OK", "WRONG CODE"),
    "7.1.6": ("INFORMATIONAL", "INFORMATIONAL"),
    "12.1.1": ("UNIMPLEMENTED", "UNIMPLEMENTED"),
}


def test_all_ok_or_informational_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(
        tmp_path / "server-py3.12",
        {"1.1.1": ("OK", "OK"), "7.1.6": ("INFORMATIONAL", "OK"), "7.13.1": ("OK", "INFORMATIONAL")},
        meta={"expected_cases": 3},
    )
    assert gate.main([str(run)]) == 0
    out = capsys.readouterr().out
    assert "gate passed: server-py3.12" in out
    report = gate.load_run(run)
    assert report.passed
    assert report.counts == {"OK": 2, "INFORMATIONAL": 1}
    assert report.close_counts == {"OK": 2, "INFORMATIONAL": 1}


def test_mixed_outcomes_fail_and_are_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "client-py3.11", MIXED)
    assert gate.main([str(run)]) == 1
    out = capsys.readouterr().out
    assert "GATE FAILED: below the bar: client-py3.11" in out

    report = gate.load_run(run)
    assert not report.passed
    assert report.counts == {"OK": 4, "NON-STRICT": 1, "FAILED": 1, "INFORMATIONAL": 1, "UNIMPLEMENTED": 1}
    assert report.close_counts == {"OK": 5, "WRONG CODE": 1, "INFORMATIONAL": 1, "UNIMPLEMENTED": 1}
    # The close behaviour alone puts 6.4.1 below the bar; ids sort numerically.
    assert [case.case_id for case in report.below_bar] == ["3.2", "5.1", "6.4.1", "12.1.1"]
    assert [case.case_id for case in report.cases][:3] == ["1.1.1", "1.1.2", "1.1.10"]
    # Every case below the bar is listed with its description and results, HTML removed.
    for case_id in ("3.2", "5.1", "6.4.1", "12.1.1"):
        assert f"case {case_id} " in out
    assert "Case 3.2 : send a thing" in out
    assert "Result of 5.1 & more" in out
    assert "case 1.1.1 " not in out


def test_summary_table_counts(tmp_path: Path) -> None:
    report = gate.load_run(write_run(tmp_path / "server-py3.10", MIXED, meta={"case_set": "reduced"}))
    text = gate.render_text([report])
    header, _rule, row = text.splitlines()[:3]
    cells = row.split()
    columns = header.split("  ")
    columns = [column.strip() for column in columns if column.strip()]
    assert columns[:6] == ["run", "direction", "Python", "wsframe masking", "cases", "total"]
    assert cells[0] == "server-py3.10"
    assert cells[3] == "C"
    assert cells[4] == "reduced"
    # total, OK, INFORMATIONAL, NON-STRICT, FAILED, UNIMPLEMENTED, other, close not OK, verdict
    assert cells[5:14] == ["8", "4", "1", "1", "1", "1", "0", "2", "FAIL"]


def test_unknown_behavior_is_below_the_bar(tmp_path: Path) -> None:
    report = gate.load_run(write_run(tmp_path / "r", {"1.1.1": ("OK", "OK"), "2.1": ("SOMETHING NEW", "OK")}))
    assert [case.case_id for case in report.below_bar] == ["2.1"]
    assert not report.passed
    row = gate.render_text([report]).splitlines()[2].split()
    assert row[11] == "1"  # counted under "other"


def test_missing_index_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "client-py3.13"
    folder.mkdir()
    (folder / gate.META_FILE).write_text(json.dumps({"run": "client-py3.13", "expected_cases": 517}))
    assert gate.main([str(folder)]) == 1
    assert "no index.json" in capsys.readouterr().out


def test_incomplete_run_fails(tmp_path: Path) -> None:
    run = write_run(tmp_path / "server-py3.12", {"1.1.1": ("OK", "OK")}, meta={"expected_cases": 517})
    report = gate.load_run(run)
    assert report.problems == ["incomplete: 1 cases in index.json, 517 selected"]
    assert not report.passed
    assert gate.main([str(run)]) == 1


def test_runner_error_fails_even_when_cases_pass(tmp_path: Path) -> None:
    run = write_run(tmp_path / "server-py3.12", {"1.1.1": ("OK", "OK")}, meta={"error": "the echo server died"})
    assert gate.main([str(run)]) == 1
    assert gate.load_run(run).problems == ["the echo server died"]


def test_two_agents_fail(tmp_path: Path) -> None:
    run = write_run(tmp_path / "r", {"1.1.1": ("OK", "OK")})
    index = json.loads((run / "index.json").read_text())
    index["other"] = index["wsserver"]
    (run / "index.json").write_text(json.dumps(index))
    report = gate.load_run(run)
    assert report.problems == ["index.json must hold exactly one agent, found ['other', 'wsserver']"]
    assert gate.main([str(run)]) == 1


def test_malformed_index_fails_without_raising(tmp_path: Path) -> None:
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "index.json").write_text("{not json")
    report = gate.load_run(folder)
    assert len(report.problems) == 1
    assert report.problems[0].startswith("index.json is unreadable")
    assert gate.main([str(folder)]) == 1


def test_empty_index_fails(tmp_path: Path) -> None:
    run = write_run(tmp_path / "r", {})
    assert gate.load_run(run).problems == ["index.json holds no case"]
    assert gate.main([str(run)]) == 1


def test_case_without_details_still_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "r", {"5.1": ("FAILED", "OK")}, details=False)
    assert gate.main([str(run)]) == 1
    assert "case 5.1 behavior=FAILED close=OK: (no description)" in capsys.readouterr().out


def test_summary_files_cover_all_runs_but_gate_only_given(tmp_path: Path) -> None:
    reports = tmp_path / "autobahn"
    passing = write_run(reports / "server-py3.12", {"1.1.1": ("OK", "OK")}, meta={"date": "2025-01-02 03:04"})
    write_run(reports / "client-py3.10", MIXED, meta={"exclude_cases": ["9.*", "12.*", "13.*"]})
    summary = tmp_path / "summary"
    # The failing client-py3.10 run is summarized but not gated.
    assert gate.main([str(passing), "--all", str(reports), "--summary-dir", str(summary)]) == 0
    markdown = (summary / "summary.md").read_text()
    assert markdown.startswith("# Conformance\n")
    assert (
        "| server-py3.12 | server | 3.12.1 | C | ? | 1 | 1 | 0 | 0 | 0 | 0 | 0 | 0 | PASS | 2025-01-02 03:04 |"
        in markdown
    )
    assert "| client-py3.10 |" in markdown
    assert "Directions: server: wstest fuzzingclient -> wsserver.\n" in markdown
    assert "- client-py3.10: `9.*`, `12.*`, `13.*`" in markdown
    assert "case 5.1 behavior=FAILED" in markdown
    data = json.loads((summary / "summary.json").read_text())
    by_name = {run["run"]: run for run in data["runs"]}
    assert by_name["server-py3.12"]["passed"] is True
    assert by_name["client-py3.10"]["passed"] is False
    assert by_name["client-py3.10"]["behavior"] == {
        "FAILED": 1,
        "INFORMATIONAL": 1,
        "NON-STRICT": 1,
        "OK": 4,
        "UNIMPLEMENTED": 1,
    }
    assert [case["case_id"] for case in by_name["client-py3.10"]["below_bar"]] == ["3.2", "5.1", "6.4.1", "12.1.1"]
    # Gating the failing one too fails.
    assert gate.main(["--all", str(reports), str(reports / "client-py3.10")]) == 1


def test_no_arguments_is_usage_error() -> None:
    with pytest.raises(SystemExit) as excinfo:
        gate.main([])
    assert excinfo.value.code == 2
