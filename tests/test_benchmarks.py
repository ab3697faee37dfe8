"""The province-scale benchmark runs the CLI end to end, checks its plan and reports each target."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.province_scale import PLAN_FIGURES, TARGETS, limit_text, report, run


def test_province_benchmark_end_to_end(tmp_path: Path) -> None:
    """A 20,000-enterprise province imports, plans and verifies, passes every check, and the
    report prints each figure against its target."""
    result = run(20_000, tmp_path / "work", log=False)

    plan = result.commands["plan"]
    stages = {s.stage: s.seconds for s in plan.stages}
    for name, _ in PLAN_FIGURES:
        assert name in stages and stages[name] >= 0, name
    assert plan.seconds >= sum(stages[name] for name, _ in PLAN_FIGURES)
    assert result.bare_pairs > 0 and result.bare_seconds > 0 and result.ratio > 0
    assert result.plan_ratio > result.ratio  # the whole plan costs more than its draw stage
    assert result.counts["draws"] > 0
    assert result.counts["assignments"] == 2 * result.counts["visits"]
    assert all(run.peak_rss_mib > 0 for run in result.commands.values())

    text = report(result)
    for name, unit, limit in TARGETS:
        assert any(line.startswith(name) and limit_text(limit, unit) in line
                   for line in text.splitlines()), name
    assert "checks passed" in text and "plan / bare loop = " in text


def test_assign_benchmark_checks_both_rules() -> None:
    """The assign-v1/assign-v2 pricing benchmark runs small, passes its checks and reports
    assign-v2 against the assign-v1 baseline of the same run."""
    from benchmarks.assign_costs import report
    from benchmarks.assign_costs import run as run_assign

    result = run_assign(2_000, pool=30, keep=12, city=2_000, workers=2, log=False)
    assert result.v1 > 0 and result.v2 > 0 and result.v2_numpy > 0
    assert set(result.plan) == {"assign-v1", "assign-v2"}
    text = report(result)
    assert "x assign-v1" in text and text.endswith("checks passed")
