"""Plot the soak runs: server RSS, open file descriptors and open connections over time.

``python stress/plot.py [reports/soak]`` reads every ``soak-*.json`` in the folder
(written by ``stress/soak.py``) and writes ``soak.png`` there: one column per run,
rows for RSS (MiB), file descriptors and the connections the server holds, with the
phases (baseline, load, cool-down, after trim) shaded and the baseline and tolerance
drawn. Needs matplotlib (the bench environment has it: ``.nox/bench/bin/python``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHASE_COLOURS = {"baseline": "#dfe9f5", "load": "#fbe3d6", "cooldown": "#e3f2df", "after_trim": "#eeeeee"}
MIB = 1024 * 1024


def plot(folder: Path) -> Path:
    """Draw every soak-*.json of `folder` into folder/soak.png; return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reports = [json.loads(path.read_text()) for path in sorted(folder.glob("soak-*.json"))]
    if not reports:
        raise SystemExit(f"no soak-*.json in {folder}")
    figure, axes = plt.subplots(3, len(reports), figsize=(6.5 * len(reports), 9), squeeze=False, sharex="col")
    for column, report in enumerate(reports):
        samples = [s for s in report["samples"] if s["rss"] is not None and s["fds"] is not None]
        times = [s["t"] for s in samples]
        figures = report["figures"]
        settings = report["settings"]
        rows = [
            ([s["rss"] / MIB for s in samples], "server RSS (MiB)"),
            ([s["fds"] for s in samples], "server open fds"),
            ([s["open_connections"] if s["open_connections"] is not None else float("nan") for s in samples],
             "server open connections"),
        ]  # fmt: skip
        for row, (values, ylabel) in enumerate(rows):
            ax = axes[row][column]
            for phase in report["phases"]:
                ax.axvspan(
                    phase["start"], phase.get("end", phase["start"]), color=PHASE_COLOURS.get(phase["phase"], "#fff")
                )
            ax.plot(times, values, color="#1f4e8c", linewidth=1.2, marker=".", markersize=3)
            ax.set_ylabel(ylabel)
            ax.grid(True, alpha=0.3)
            if row == 0:
                baseline = figures["rss_baseline_mib"]
                ax.axhline(baseline, color="#555", linestyle="--", linewidth=0.8, label="baseline")
                ax.axhline(
                    baseline + settings["rss_tolerance_mib"],
                    color="#b22",
                    linestyle=":",
                    linewidth=0.9,
                    label=f"baseline + {settings['rss_tolerance_mib']:g} MiB"
                    + (
                        " (checked after gc + malloc_trim)" if settings.get("rss_check", "trimmed") == "trimmed" else ""
                    ),
                )
                ax.legend(loc="upper right", fontsize=8)
                verdict = "OK" if report["ok"] else "FAILED"
                totals = report["totals"]
                ax.set_title(
                    f"{report['label']}: {settings['clients']} clients, {settings['seconds']:g} s, "
                    f"TLS {settings['tls_fraction']:.0%} ({verdict})\n"
                    f"{totals.get('connections', 0)} connections, {totals.get('messages_verified', 0)} echoes verified",
                    fontsize=10,
                )
            if row == 1:
                ax.axhline(figures["fds_baseline"], color="#555", linestyle="--", linewidth=0.8)
        axes[-1][column].set_xlabel("seconds (shaded: baseline, load, cool-down, after gc + malloc_trim)")
    figure.tight_layout()
    output = folder / "soak.png"
    figure.savefig(output, dpi=110)
    plt.close(figure)
    return output


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else ROOT / "reports" / "soak"
    print(plot(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
