"""Progress on a terminal: stage lines and bars with rate and ETA, none off a terminal or
with --quiet, and never a change to a plan or its bundle."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from spotcheck.cli.main import main
from spotcheck.formats.bundle import INPUT_FILES, OUTPUT_FILES
from spotcheck.service.progress import Progress, TerminalProgress, elapsed_text, progress_for

DATA = Path(__file__).parent / "data"
GOOD = DATA / "good"
SEED = "20261001-0394857261-5520183746"
KINDS = ("enterprises", "inspectors", "conflicts", "history")


class FakeTerminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def reporter(command: str = "plan") -> tuple[TerminalProgress, FakeTerminal, FakeClock]:
    """Return a terminal reporter writing to a fake terminal, timed by a fake clock."""
    stream, clock = FakeTerminal(), FakeClock()
    progress = progress_for(command, stream=stream, clock=clock)
    assert isinstance(progress, TerminalProgress)
    return progress, stream, clock


# ---- the reporter ----

def test_stage_lines_say_each_stage_and_its_time() -> None:
    """Each stage ends on a line of its own with its elapsed time; "done" starts nothing."""
    progress, stream, clock = reporter()
    progress.stage("eligibility")
    clock.now += 0.4
    progress.stage("draw")
    clock.now += 0.9
    progress.stage("done")
    clock.now += 0.7
    progress.finish()
    progress.finish()
    lines = stream.getvalue().replace("\r\x1b[K", "\n").split("\n")
    assert "plan: eligibility … 0.4 s" in lines
    assert "plan: draw … 0.9 s" in lines
    assert lines.count("plan: finished in 2.0 s") == 1
    assert not any(line.startswith("plan: done") for line in lines)


def test_tally_shows_bar_rate_and_eta_at_most_ten_times_a_second() -> None:
    """A counted bar shows its share, rate and ETA, and redraws only every 0.1 s."""
    progress, stream, clock = reporter("import")
    tally = progress.tally("read", total=1000)
    clock.now += 0.5
    tally.advance(250)
    shown = stream.getvalue()
    assert "import: read" in shown
    assert "25%" in shown and "500 rows/s" in shown and "ETA 1.5 s" in shown
    for _ in range(100):  # a hot loop within one tenth of a second: no redraw
        tally.advance(1)
    assert stream.getvalue() == shown
    clock.now += 1.5
    tally.advance(650)
    tally.close()
    assert stream.getvalue().endswith("import: read 1,000 rows … 2.0 s (500 rows/s)\n")


def test_tally_of_bytes_reports_megabytes_per_second() -> None:
    """A byte count is shown scaled, its rate in MB/s."""
    progress, stream, clock = reporter("import")
    with progress.tally("checksum", total=300_000_000, unit="B") as tally:
        clock.now += 1.0
        tally.advance(100_000_000)
    text = stream.getvalue()
    assert "100.0 MB/s" in text and "ETA 2.0 s" in text
    assert text.endswith("import: checksum 100.0 MB … 1.0 s (100.0 MB/s)\n")


def test_failed_stage_leaves_its_line_open_and_claims_no_finish() -> None:
    """When the work fails, the open stage line is ended without a time or a finish."""
    progress, stream, clock = reporter()
    with pytest.raises(RuntimeError), progress:
        progress.stage("assignment")
        clock.now += 3
        raise RuntimeError("boom")
    assert stream.getvalue() == "plan: assignment …\n"


def test_elapsed_text_reads_as_a_person_would() -> None:
    """Durations are shown in seconds, minutes or hours."""
    assert elapsed_text(0.94) == "0.9 s"
    assert elapsed_text(75) == "1 min 15 s"
    assert elapsed_text(3720) == "1 h 02 min"


def test_silent_off_a_terminal_and_when_quiet() -> None:
    """A stream that is not a terminal, or quiet, gets the silent reporter, which writes nothing."""
    pipe, terminal = io.StringIO(), FakeTerminal()
    for progress in (progress_for("plan", stream=pipe),
                     progress_for("plan", quiet=True, stream=terminal)):
        assert type(progress) is Progress
        progress.stage("draw")
        progress.stages("verify")("assignment")
        with progress.tally("rows", 10) as tally:
            tally.advance(10)
        progress.finish()
    assert pipe.getvalue() == "" and terminal.getvalue() == ""


# ---- the command line ----

def run_in_terminal(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                    db: Path, *args: str) -> tuple[int, str, str]:
    """Run spotcheck in-process with a terminal as stderr; return (exit code, stdout, stderr)."""
    terminal = FakeTerminal()
    capsys.readouterr()
    code = 0
    with monkeypatch.context() as patch:
        patch.setattr(sys, "stderr", terminal)
        try:
            main.main(["--db", f"sqlite:///{db}", *args], standalone_mode=False)
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, capsys.readouterr().out, terminal.getvalue()


def load(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Path,
         *options: str) -> list[tuple[int, str, str]]:
    """Import the good example registry on a terminal; return each import's result."""
    return [run_in_terminal(monkeypatch, capsys, db, *options, "import", kind,
                            str(GOOD / f"{kind}.csv")) for kind in KINDS]


def test_cli_runner_output_has_no_progress(tmp_path: Path) -> None:
    """Off a terminal (CliRunner, CI, pipes) import, plan and verify print no progress at all."""
    db = f"sqlite:///{tmp_path / 'spotcheck.db'}"
    runner = CliRunner()
    results = [runner.invoke(main, ["--db", db, "import", kind, str(GOOD / f"{kind}.csv")])
               for kind in KINDS]
    results.append(runner.invoke(main, ["--db", db, "plan", "--quarter", "2026Q4", "--seed",
                                        SEED, "--out", str(tmp_path / "plan")]))
    results.append(runner.invoke(main, ["verify", str(tmp_path / "plan")]))
    for result in results:
        assert result.exit_code == 0, result.output
        assert result.stderr == ""
        for mark in ("…", "\x1b[K", "\r", "ETA", "finished in"):
            assert mark not in result.output
    assert results[-1].output.startswith("VERIFIED")


def test_terminal_shows_import_plan_and_verify_progress(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """On a terminal, stderr names each stage with its time and the checksum with its rate."""
    db = tmp_path / "spotcheck.db"
    for code, out, err in load(monkeypatch, capsys, db):
        assert code == 0
        assert out.startswith("imported ")
        assert "import: checksum" in err and "B/s)" in err
        assert "import: read and validate … " in err and "import: store … " in err
        assert "import: finished in " in err
    code, out, err = run_in_terminal(monkeypatch, capsys, db, "plan", "--quarter", "2026Q4",
                                     "--seed", SEED, "--out", str(tmp_path / "plan"))
    assert code == 0
    for stage in ("load registry", "eligibility", "draw", "allocation", "assignment", "bundle",
                  "store and write"):
        assert f"plan: {stage} … " in err
    assert "strata by task and tier" in out and "…" not in out
    code, out, err = run_in_terminal(monkeypatch, capsys, db, "verify", str(tmp_path / "plan"))
    assert code == 0 and out.startswith("VERIFIED")
    for stage in ("read", "eligibility", "assignment", "teams", "optimality"):
        assert f"verify: {stage} … " in err


def test_quiet_keeps_errors_verdicts_and_fingerprints_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """--quiet on a terminal: no progress and no summaries, but errors, verdicts, exit codes."""
    db = tmp_path / "spotcheck.db"
    assert load(monkeypatch, capsys, db, "-q") == [(0, "", "")] * len(KINDS)
    out_dir = tmp_path / "plan"
    code, out, err = run_in_terminal(monkeypatch, capsys, db, "--quiet", "plan", "--quarter",
                                     "2026Q4", "--seed", SEED, "--out", str(out_dir))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[-1].startswith("bundle SHA-256") and "publish this fingerprint" in lines[-1]
    assert all(line.startswith(("WARNING:", "bundle SHA-256")) for line in lines)
    code, out, err = run_in_terminal(monkeypatch, capsys, db, "-q", "verify", str(out_dir))
    assert (code, err) == (0, "") and out.startswith("VERIFIED")
    draws = (out_dir / "draws.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (out_dir / "draws.csv").write_text("".join(draws[:1] + draws[2:]), encoding="utf-8")
    code, out, err = run_in_terminal(monkeypatch, capsys, db, "-q", "verify", str(out_dir))
    assert (code, err) == (1, "") and out.startswith("NOT VERIFIED")
    code, out, err = run_in_terminal(monkeypatch, capsys, db, "-q", "plan", "--quarter",
                                     "2026Q4", "--seed", "another-seed", "--out",
                                     str(tmp_path / "again"))
    assert code == 1 and out == ""
    assert err.startswith("spotcheck: ") and "--replace" in err


def test_progress_never_changes_the_plan_or_its_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A plan made on a terminal writes a bundle byte-identical to one made off it."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    shown_db, plain_db = tmp_path / "shown.db", tmp_path / "plain.db"
    load(monkeypatch, capsys, shown_db)
    code, _, err = run_in_terminal(monkeypatch, capsys, shown_db, "plan", "--quarter", "2026Q4",
                                   "--seed", SEED, "--out", str(tmp_path / "shown"))
    assert code == 0 and "plan: draw … " in err
    runner = CliRunner()
    for kind in KINDS:
        assert runner.invoke(main, ["--db", f"sqlite:///{plain_db}", "import", kind,
                                    str(GOOD / f"{kind}.csv")]).exit_code == 0
    plain = runner.invoke(main, ["--db", f"sqlite:///{plain_db}", "plan", "--quarter", "2026Q4",
                                 "--seed", SEED, "--out", str(tmp_path / "plain")])
    assert plain.exit_code == 0, plain.output
    def contents(folder: Path) -> dict[str, bytes]:
        return {str(f.relative_to(folder)): f.read_bytes()
                for f in sorted(folder.rglob("*")) if f.is_file()}

    shown, unshown = contents(tmp_path / "shown"), contents(tmp_path / "plain")
    assert {*INPUT_FILES, *OUTPUT_FILES, "manifest.json"} <= set(shown)
    assert set(shown) == set(unshown)
    # The two databases' event logs record when each import happened (wall clock, which
    # may cross a second between them); everything the plan itself wrote must be equal.
    for name in (*INPUT_FILES, *OUTPUT_FILES):
        assert shown[name] == unshown[name], name

    def manifest(files: dict[str, bytes]) -> dict[str, object]:
        loaded = json.loads(files["manifest.json"])
        loaded.pop("events", None)
        return dict(loaded)

    assert manifest(shown) == manifest(unshown)


def test_timings_file_records_every_stage_of_plan_and_verify(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SPOTCHECK_TIMINGS gets one JSON line per stage, in order, with rising times and the
    peak memory; the plan's files are the same as without it."""
    db = f"sqlite:///{tmp_path / 'spotcheck.db'}"
    runner = CliRunner()
    for kind in KINDS:
        assert runner.invoke(main, ["--db", db, "import", kind,
                                    str(GOOD / f"{kind}.csv")]).exit_code == 0
    log = tmp_path / "timings.jsonl"
    monkeypatch.setenv("SPOTCHECK_TIMINGS", str(log))
    planned = runner.invoke(main, ["--db", db, "plan", "--quarter", "2026Q4", "--seed", SEED,
                                   "--out", str(tmp_path / "plan")])
    assert planned.exit_code == 0, planned.output
    assert runner.invoke(main, ["verify", str(tmp_path / "plan")]).exit_code == 0
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    plan_stages = [x["stage"] for x in lines if x["command"] == "plan"]
    assert plan_stages == ["start", "load registry", "eligibility", "draw", "allocation",
                           "assignment", "done", "bundle", "store and write", "done"]
    assert [x["stage"] for x in lines if x["command"] == "verify"][:2] == ["start", "read"]
    for command in ("plan", "verify"):
        times = [x["seconds"] for x in lines if x["command"] == command]
        assert times == sorted(times)
    assert all(x["peak_rss_mib"] > 0 for x in lines)
    monkeypatch.delenv("SPOTCHECK_TIMINGS")
    again = runner.invoke(main, ["--db", db, "plan", "--quarter", "2026Q4", "--seed", SEED,
                                 "--replace", "--out", str(tmp_path / "again")])
    assert again.exit_code == 0, again.output
    for name in OUTPUT_FILES:
        assert (tmp_path / "plan" / name).read_bytes() == (tmp_path / "again" / name).read_bytes()
