"""report.html in a real headless Chromium (Debian's `chromium`, installed by .ci/run).

The page of the demo quarter must load with no console error, no uncaught exception and no
failed load; every chart must be in the DOM with a size and drawn shapes; and the screenshot
must show a drawn page, not a blank one. The screenshots are kept as test artefacts (in
$SPOTCHECK_ARTEFACTS, else in pytest's temporary folder, printed). Without chromium the test
skips — except under CI, where it fails.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from browser import chromium, keep_artefact, open_page, png_pixels
from click.testing import CliRunner

from spotcheck.cli import main

CHARTS = {"tier-rates", "tier-samples", "disturbance-share", "disturbance-rate",
          "utilisation-histogram", "utilisation-groups", "deadline-status", "advice-ratios"}
SECTIONS = {"glance", "rates", "disturbance", "utilisation", "shortfalls", "deadlines",
            "advice"}


def _browser() -> str:
    found = chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but chromium is not installed: .ci/run installs it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """report.html of the demo quarter of a 3,000-enterprise city."""
    folder = tmp_path_factory.mktemp("browser")
    db = f"sqlite:///{folder / 'demo.db'}"
    for args in (["demo", "--with-results", "--enterprises", "3000", "--out",
                  str(folder / "d")],
                 ["report", "--quarter", "2026Q4", "--as-of", "2026-12-04", "--out",
                  str(folder / "report")]):
        result = CliRunner().invoke(main, ["--db", db, "--quiet", *args])
        assert result.exit_code == 0, (result.stdout, result.stderr)
    return folder / "report" / "report.html"


def test_report_renders_in_chromium(report: Path,
                                    tmp_path_factory: pytest.TempPathFactory) -> None:
    """No console error; every chart drawn with a size; a non-blank full-page screenshot."""
    run = open_page(report, _browser())
    kept = keep_artefact("report.png", run.screenshot, tmp_path_factory.mktemp("artefacts"))
    for name, shot in run.section_shots.items():
        keep_artefact(f"report-{name}.png", shot, kept.parent)
    print(f"\nscreenshots of report.html kept in {kept.parent}")
    assert run.errors == []
    assert run.layout["external"] == []
    charts = {c["id"]: c for c in run.layout["charts"]}
    assert set(charts) == CHARTS
    for chart in charts.values():
        assert chart["width"] > 200 and chart["height"] > 100 and chart["shapes"] >= 5, chart
    assert {s["id"] for s in run.layout["sections"]} == SECTIONS
    assert run.layout["width"] <= 1280  # nothing overflows the window sideways
    width, height, rows = png_pixels(run.thumbnail)
    assert width >= 250 and height > 2 * width  # a long page, captured whole
    pixels = Counter(bytes(row[x:x + 3]) for row in rows for x in range(0, len(row), 4))
    background = pixels.most_common(1)[0][1]
    assert sum(pixels.values()) - background > 0.3 * sum(pixels.values())
    assert len(pixels) > 200  # text, bars and colours, not a blank page


def test_the_harness_catches_a_broken_page(tmp_path: Path) -> None:
    """A page with a console error, an exception and a missing image is caught."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><body><p>x</p><img src="missing.png">'
                    '<script>console.error("boom"); undefined_call();</script></body></html>',
                    encoding="utf-8")
    run = open_page(page, _browser())
    text = "\n".join(run.errors)
    assert "boom" in text and "undefined_call" in text and "missing.png" in text
