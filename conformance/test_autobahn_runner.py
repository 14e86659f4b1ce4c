"""Tests of the Autobahn runner's pure parts (conformance/autobahn/run.py): run specs and case sets."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

AUTOBAHN = Path(__file__).resolve().parent / "autobahn"


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"wskit_conformance_{name}", AUTOBAHN / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


runner = _load("run")
python = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.mark.parametrize(
    ("text", "part", "case_set", "no_speedups", "name"),
    [
        ("server", "server", "full", False, f"server-py{python}"),
        ("client:reduced", "client", "reduced", False, f"client-py{python}"),
        ("router:reduced:no-speedups", "router", "reduced", True, f"router-py{python}-no-speedups"),
        ("server:no-speedups:full", "server", "full", True, f"server-py{python}-no-speedups"),
    ],
)
def test_parse_run(text: str, part: str, case_set: str, no_speedups: bool, name: str) -> None:
    spec = runner.parse_run(text)
    assert (spec.part, spec.case_set, spec.no_speedups, spec.cases) == (part, case_set, no_speedups, ())
    assert spec.name == name


@pytest.mark.parametrize("text", ["", "proxy", "server:fast", "client:reduced:speedups", "Server"])
def test_parse_run_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="unknown"):
        runner.parse_run(text)


def test_full_set_runs_everything() -> None:
    assert runner.CASE_SETS["full"] == (["*"], [])


def test_reduced_set_keeps_two_cases_of_each_deflate_group() -> None:
    cases, excluded = runner.CASE_SETS["reduced"]
    assert cases == ["*"]
    # 5 groups 12.x and 7 groups 13.x of 18 cases each; .1 and .11 stay.
    assert len(excluded) == 12 * 16
    assert len(set(excluded)) == len(excluded)
    assert all(case_id.startswith(("12.", "13.")) for case_id in excluded)
    for group in [*(f"12.{n}" for n in range(1, 6)), *(f"13.{n}" for n in range(1, 8))]:
        kept = {f"{group}.{n}" for n in range(1, 19)} - set(excluded)
        assert kept == {f"{group}.1", f"{group}.11"}
    # Nothing else is left out: not 9.* (limits), nor any other case.
    assert not [case_id for case_id in excluded if case_id.startswith("9.")]


def test_nodeflate_set_leaves_out_only_permessage_deflate() -> None:
    cases, excluded = runner.CASE_SETS["nodeflate"]
    assert cases == ["*"]
    assert excluded == ["12.*", "13.*"]
    assert runner.parse_run("server:nodeflate:no-speedups").case_set == "nodeflate"


def test_free_port_is_bindable() -> None:
    import socket

    port = runner.free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
