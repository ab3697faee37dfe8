"""Run the command line on a synthetic province of N enterprises; time it, measure it, check it.

Each step is the `spotcheck` command a bureau would run — init, the four imports, plan,
verify — started as a child process of its own, so each has its own peak memory. Its wall
time (`time.perf_counter` around the child, interpreter start-up included) and peak RSS
(`os.wait4`'s ru_maxrss) are taken by a minimal launcher process, for the reason given at
`_LAUNCHER`; the stages come from the JSON lines the command appends to the file named by
SPOTCHECK_TIMINGS.

The baseline is the bare cost of the draw: the same draw-v1 tickets, over the same
(task, enterprise) pairs the draw stage hashes, computed with hashlib in a plain Python loop
in this process. The ratio draw stage / bare loop says how much the stage adds on top of the
hashing an auditor's script would do anyway. The loop keeps only each stratum's lowest
tickets, as many as the plan drew and skipped there, which is all the checks need: at 10M
enterprises it hashes about 20M pairs, too many to keep as text.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import numpy as np

from spotcheck.demo import DEMO_SEED
from spotcheck.models.policy import load_policy
from spotcheck.models.quarter import Quarter
from spotcheck.models.registry import Registry
from spotcheck.scheduler.eligibility import strata_for_quarter
from spotcheck.scheduler.hashes import seed_hash

from .plan_scale import BenchmarkFailure, peak_rss_mb
from .province import PROVINCE_POLICY, PROVINCE_QUARTER, province_registry, write_province_files

StratumKey = tuple[str, str, str]
# Each figure of a command and the SPOTCHECK_TIMINGS stages it sums.
Figures = tuple[tuple[str, tuple[str, ...]], ...]
KINDS = ("enterprises", "inspectors", "conflicts", "history")
MIB_PER_GB = 1024  # the memory targets read "4 GB" as 4 GiB

# (figure, unit, limit): the targets, for 10M enterprises on 2 cores and 24 GB.
TARGETS: tuple[tuple[str, str, float], ...] = (
    ("import enterprises", "s", 120.0),
    ("import enterprises peak RSS", "MiB", 4 * MIB_PER_GB),
    ("plan", "s", 60.0),
    ("plan peak RSS", "MiB", 4 * MIB_PER_GB),
    ("verify", "s", 60.0),
    ("verify peak RSS", "MiB", 4 * MIB_PER_GB),
    ("draw stage / bare loop", "×", 1.5),
)
TARGET_SIZE = 10_000_000

# Stages not named in a command's figures (its own start, the hand-over between stages), and
# the wall time outside its first and last record (interpreter start-up, imports, printing
# the summaries, exit) count as OTHER.
PLAN_FIGURES: Figures = (
    ("snapshot load", ("load registry",)),
    ("eligibility", ("eligibility",)),
    ("draw", ("draw",)),
    ("allocation", ("allocation",)),
    ("assignment", ("assignment",)),
    ("bundle write", ("bundle", "store and write")),
)
VERIFY_FIGURES: Figures = (
    ("read", ("read",)),
    ("eligibility", ("eligibility",)),
    ("draw", ("draw",)),
    ("allocation", ("allocation",)),
    ("assignment", ("assignment",)),
    ("compare outputs", ("after assignment",)),
    ("teams", ("teams",)),
    ("optimality", ("optimality",)),
)
IMPORT_FIGURES: Figures = (
    ("checksum", ("start",)),
    ("read and validate", ("read and validate",)),
    ("store", ("store",)),
)
OTHER = "start-up, other, exit"
_TAIL_LINES = 15


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise BenchmarkFailure(message)


def _mib(maxrss: int) -> float:
    """Return a ru_maxrss figure in MiB (Linux reports KiB, macOS bytes)."""
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024


@dataclass(frozen=True, slots=True)
class StageFigure:
    """One figure of a command: its wall time and the command's running peak RSS at its end."""

    stage: str
    seconds: float
    peak_mib: float | None


@dataclass(frozen=True, slots=True)
class CommandRun:
    """One spotcheck command run as a child process."""

    name: str
    argv: list[str]
    seconds: float               # wall time around the child, start-up and exit included
    peak_rss_mib: float          # its ru_maxrss: the largest of its and its workers' peaks
    stages: list[StageFigure]    # from SPOTCHECK_TIMINGS, plus OTHER up to the wall time
    output: list[str]            # the last lines of its standard output
    warnings: list[str]          # lines of its output starting with WARNING

    def stage_seconds(self, stage: str) -> float:
        """Return the wall time of one figure of this command."""
        return next(s.seconds for s in self.stages if s.stage == stage)


@dataclass
class Result:
    """Everything one benchmark run measured."""

    enterprises: int
    officers: int = 0
    database: str = ""
    files_seconds: float = 0.0
    commands: dict[str, CommandRun] = field(default_factory=dict)
    registry_seconds: float = 0.0
    registry_peak_mib: float = 0.0
    bare_pairs: int = 0
    bare_seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    cut_strata: list[str] = field(default_factory=list)
    machine: dict[str, str] = field(default_factory=dict)
    finished_at: str = ""

    @property
    def draw_seconds(self) -> float:
        """Return the wall time of the plan's draw stage."""
        return self.commands["plan"].stage_seconds("draw")

    @property
    def ratio(self) -> float:
        """Return draw stage / bare loop."""
        return self.draw_seconds / self.bare_seconds if self.bare_seconds else float("nan")

    @property
    def plan_ratio(self) -> float:
        """Return the plan command's wall time / bare loop (issue #13: ≤ 3 at 1M)."""
        seconds = self.commands["plan"].seconds
        return seconds / self.bare_seconds if self.bare_seconds else float("nan")

    def figure(self, name: str) -> float:
        """Return the value of one of the TARGETS figures."""
        if name == "draw stage / bare loop":
            return self.ratio
        if name.endswith(" peak RSS"):
            return self.commands[name.removesuffix(" peak RSS")].peak_rss_mib
        return self.commands[name].seconds

    def targets(self) -> list[tuple[str, float, str, float, bool]]:
        """Return (figure, value, unit, limit, met) for each target."""
        return [(name, self.figure(name), unit, limit, self.figure(name) <= limit)
                for name, unit, limit in TARGETS]


# ---- running the commands ----

@dataclass(frozen=True, slots=True)
class TimingRecord:
    """One line of a SPOTCHECK_TIMINGS file: a stage's start and the peak RSS so far."""

    stage: str
    seconds: float
    peak_mib: float | None


def read_timings(path: Path) -> list[TimingRecord]:
    """Return the SPOTCHECK_TIMINGS records of one command, in order."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as lines:
        found = [json.loads(line) for line in lines if line.strip()]
    return [TimingRecord(str(r["stage"]), float(r["seconds"]),
                         None if r.get("peak_rss_mib") is None else float(r["peak_rss_mib"]))
            for r in found]


def _intervals(records: list[TimingRecord]) -> Iterator[tuple[str, float, float | None]]:
    """Yield (stage, seconds, peak MiB at its end) between consecutive timing records.

    A "done" before the closing ones ends plan_quarter inside the command; the interval
    after it is named after the stage it closed ("after assignment").
    """
    closing = len(records)
    while closing and records[closing - 1].stage == "done":
        closing -= 1
    for k, (record, following) in enumerate(pairwise(records)):
        stage = record.stage
        if stage == "done" and 0 < k < closing:
            stage = f"after {records[k - 1].stage}"
        yield stage, following.seconds - record.seconds, following.peak_mib


def stage_figures(records: list[TimingRecord], figures: Figures, wall: float
                  ) -> list[StageFigure]:
    """Return the command's figures, each summing its stages, and OTHER up to `wall`."""
    seconds: dict[str, float] = defaultdict(float)
    peaks: dict[str, float | None] = {}
    owner = {stage: name for name, stages in figures for stage in stages}
    for stage, spent, peak in _intervals(records):
        name = owner.get(stage, OTHER)
        seconds[name] += spent
        peaks[name] = peak
    timed = records[-1].seconds if records else 0.0
    out = [StageFigure(name, seconds[name], peaks.get(name)) for name, _ in figures]
    out.append(StageFigure(OTHER, seconds[OTHER] + max(wall - timed, 0.0), None))
    return out


def _tail(path: Path, lines: int = _TAIL_LINES) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return text[-lines:]


# A child's ru_maxrss starts at the high-water mark of the memory it was exec'd from: for
# subprocess (vfork), the whole benchmark process's peak so far. So each command is started
# by a minimal interpreter (-I -S, about 10 MiB), which forks and execs it, waits for it with
# wait4 and writes its peak RSS (KiB; bytes on macOS) and wall seconds to a file.
_LAUNCHER = """\
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(report, "w") as out:
    out.write(f"{usage.ru_maxrss} {seconds!r}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_command(name: str, args: list[str], folder: Path, figures: Figures = (),
                shown: list[str] | None = None) -> CommandRun:
    """Run `spotcheck ARGS` as a child process; return its wall time, peak RSS and stages.

    `shown` is ARGS as reported (e.g. with a database password hidden). Raise
    BenchmarkFailure with the tail of its output if it exits other than 0.
    """
    shown = args if shown is None else shown
    slug = name.replace(" ", "-")
    timings = folder / "timings" / f"{slug}.jsonl"
    usage_file = folder / "timings" / f"{slug}.rusage"
    out, err = folder / "logs" / f"{slug}.out", folder / "logs" / f"{slug}.err"
    for path in (timings, out, err):
        path.parent.mkdir(parents=True, exist_ok=True)
    timings.unlink(missing_ok=True)
    usage_file.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("SPOTCHECK_KEY", "SPOTCHECK_DB")}
    env["SPOTCHECK_TIMINGS"] = str(timings)
    argv = [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(usage_file),
            sys.executable, "-m", "spotcheck", *args]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        launcher = subprocess.Popen(argv, stdout=stdout, stderr=stderr,
                                    stdin=subprocess.DEVNULL, cwd=folder, env=env)
        # wait4 rather than launcher.wait(), as the launcher waits for the command
        _, status, _ = os.wait4(launcher.pid, 0)
    launcher.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0 or not usage_file.exists():
        raise BenchmarkFailure(
            f"`spotcheck {' '.join(shown)}` exited {code}:\n"
            + "\n".join([*_tail(out), *_tail(err)]))
    maxrss, wall = usage_file.read_text().split()
    seconds = float(wall)
    lines = out.read_text(encoding="utf-8", errors="replace").splitlines()
    lines += err.read_text(encoding="utf-8", errors="replace").splitlines()
    return CommandRun(name, ["spotcheck", *shown], seconds, _mib(int(maxrss)),
                      stage_figures(read_timings(timings), figures, seconds) if figures else [],
                      _tail(out), [line for line in lines if line.startswith("WARNING")])


# ---- reading the bundle ----

def _rows(bundle: Path, name: str) -> Iterator[dict[str, str]]:
    with (bundle / name).open(encoding="utf-8", newline="") as stream:
        yield from csv.DictReader(stream)


@dataclass
class BundleTables:
    """What the checks need of the plan's bundle, read with csv."""

    strata: dict[StratumKey, dict[str, str]]
    draws: dict[StratumKey, dict[str, tuple[str, int]]]   # enterprise → (ticket, rank)
    skipped: dict[str, dict[str, str]]                     # task → enterprise → ticket
    shortfalls: dict[StratumKey, str]                      # stratum → reason
    visits: dict[tuple[str, str], tuple[str, ...]]         # (enterprise, department) → tasks
    assignments: Counter[tuple[str, str]]                  # (enterprise, department) → officers
    distinct_assignments: int


def read_bundle_tables(bundle: Path) -> BundleTables:
    """Return the bundle's strata, draws, skips, shortfalls, visits and team sizes."""
    strata = {(r["task"], r["tier"], r["jurisdiction"]): r for r in _rows(bundle, "strata.csv")}
    draws: dict[StratumKey, dict[str, tuple[str, int]]] = defaultdict(dict)
    for r in _rows(bundle, "draws.csv"):
        draws[r["task"], r["tier"], r["jurisdiction"]][r["enterprise_id"]] = (r["ticket"],
                                                                              int(r["rank"]))
    skipped: dict[str, dict[str, str]] = defaultdict(dict)
    for r in _rows(bundle, "skipped.csv"):
        skipped[r["task"]][r["enterprise_id"]] = r["ticket"]
    shortfalls = {(r["task"], r["tier"], r["jurisdiction"]): r["reason"]
                  for r in _rows(bundle, "shortfalls.csv")}
    visits = {(r["enterprise_id"], r["department"]): tuple(r["tasks"].split(";"))
              for r in _rows(bundle, "visits.csv")}
    teams: Counter[tuple[str, str]] = Counter()
    members: set[tuple[str, str, str]] = set()
    for r in _rows(bundle, "assignments.csv"):
        teams[r["enterprise_id"], r["department"]] += 1
        members.add((r["enterprise_id"], r["department"], r["inspector_id"]))
    return BundleTables(strata, draws, skipped, shortfalls, visits, teams, len(members))


# ---- the baseline and the checks ----

def _skip_strata(registry: Registry, skipped: dict[str, dict[str, str]]
                 ) -> dict[StratumKey, set[str]]:
    """Return the skipped enterprises by stratum, placed by their tier and jurisdiction."""
    ent = registry.enterprises
    out: dict[StratumKey, set[str]] = defaultdict(set)
    for task, found in skipped.items():
        wanted = np.array(sorted(found), dtype="S18")
        rows = np.searchsorted(ent.ids, wanted)  # the registry is sorted by id
        known = (rows < len(ent)) & (ent.ids[np.minimum(rows, len(ent) - 1)] == wanted)
        _check(bool(known.all()), f"skipped.csv: {task} skips enterprises not in the registry")
        for eid, tier, place in zip(wanted.astype("U18").tolist(),
                                    ent.tiers[rows].astype("U16").tolist(),
                                    ent.jurisdictions[rows].astype("U6").tolist(), strict=True):
            out[task, tier, place].add(eid)
    return out


@dataclass(frozen=True, slots=True)
class StratumLowest:
    """A stratum's eligible count and its `k` lowest (ticket, enterprise_id) pairs."""

    eligible: int
    lowest: list[tuple[str, str]]


def bare_draw_loop(registry: Registry, quarter: str, seed: str, wanted: dict[StratumKey, int]
                   ) -> tuple[dict[StratumKey, StratumLowest], int, float]:
    """Return each stratum's lowest tickets, the pairs hashed and the seconds hashing took.

    The pairs are the ones the draw stage hashes: every eligible enterprise of every stratum
    with a round, once per task. Only the plain hashing loop is timed — not finding the
    pairs nor keeping each stratum's `wanted[key]` lowest, after which its tickets are
    dropped.
    """
    policy, _ = load_policy(PROVINCE_POLICY)
    digest = seed_hash(seed)
    ids = registry.enterprises.ids
    sha = hashlib.sha256
    out: dict[StratumKey, StratumLowest] = {}
    pairs, seconds = 0, 0.0
    for stratum in strata_for_quarter(registry, policy, Quarter.parse(quarter)):
        task = stratum.task
        members = ids[stratum.eligible].astype("U18").tolist()
        start = time.perf_counter()
        tickets = [(sha(f"draw-v1:{digest}:{quarter}:{task}:{eid}".encode()).hexdigest(), eid)
                   for eid in members]
        seconds += time.perf_counter() - start
        pairs += len(tickets)
        out[stratum.key] = StratumLowest(len(tickets),
                                         heapq.nsmallest(wanted.get(stratum.key, 0), tickets))
    return out, pairs, seconds


def check_draws(tables: BundleTables, bare: dict[StratumKey, StratumLowest],
                skips: dict[StratumKey, set[str]]) -> None:
    """Raise unless each stratum drew exactly its lowest bare-loop tickets, apart from skips."""
    _check(sorted(bare) == sorted(tables.strata),
           "strata.csv does not list exactly the strata with a round")
    _check(set(tables.draws) <= set(bare) and set(skips) <= set(bare), "draws outside the strata")
    for key, row in tables.strata.items():
        drawn, skipped, lowest = tables.draws.get(key, {}), skips.get(key, set()), bare[key]
        _check(int(row["eligible"]) == lowest.eligible,
               f"{key}: eligible {row['eligible']} != {lowest.eligible} hashed by the bare loop")
        _check(len(drawn) == int(row["drawn"]) <= int(row["target"]),
               f"{key}: drawn {row['drawn']} (draws.csv {len(drawn)}) over target {row['target']}")
        _check(int(row["drawn"]) == int(row["target"]) or bool(tables.shortfalls.get(key)),
               f"{key}: cut to {row['drawn']}/{row['target']} without a reason")
        _check({e for _, e in lowest.lowest} == set(drawn) | skipped,
               f"{key}: drawn enterprises are not the lowest tickets apart from skips")
        for rank, (ticket, eid) in enumerate(lowest.lowest, start=1):
            _check(drawn.get(eid, (ticket, rank)) == (ticket, rank),
                   f"{key}: {eid} has a wrong rank or ticket")
            _check(eid not in skipped or tables.skipped[key[0]][eid] == ticket,
                   f"{key}: skipped {eid} has a wrong ticket")


def check_counts(tables: BundleTables, verified: dict[str, int], team_size: int,
                 departments: dict[str, str]) -> dict[str, int]:
    """Raise unless visits, teams and draws agree with each other and with verify's counts.

    Return the counts.
    """
    counts = {"strata": len(tables.strata),
              "draws": sum(len(d) for d in tables.draws.values()),
              "skipped": sum(len(s) for s in tables.skipped.values()),
              "visits": len(tables.visits),
              "assignments": sum(tables.assignments.values())}
    _check(verified == counts, f"verify counted {verified}, the bundle's files {counts}")
    _check(set(tables.assignments) == set(tables.visits), "assignments and visits do not match")
    _check(all(n == team_size for n in tables.assignments.values())
           and tables.distinct_assignments == counts["assignments"],
           f"a visit has a team other than {team_size} distinct officers")
    visit_tasks = Counter((eid, task) for (eid, _), tasks in tables.visits.items()
                          for task in tasks)
    drawn = Counter((eid, key[0]) for key, found in tables.draws.items() for eid in found)
    _check(visit_tasks == drawn, "visits do not carry exactly the drawn (enterprise, task) pairs")
    _check(all(departments[t] == d for (_, d), tasks in tables.visits.items() for t in tasks),
           "a visit carries a task of another department")
    return counts


def _verified_counts(lines: list[str]) -> dict[str, int]:
    """Return the counts of verify's `VERIFIED …: strata N, draws N, …` line."""
    verdict = next((line for line in lines if line.startswith("VERIFIED ")), None)
    _check(verdict is not None, "verify did not print VERIFIED:\n" + "\n".join(lines))
    assert verdict is not None
    counts = verdict.rsplit(": ", 1)[1]
    return {name: int(value) for name, value in (part.split() for part in counts.split(", "))}


# ---- the run ----

def machine() -> dict[str, str]:
    """Return the CPU model, cores, RAM, OS and the versions the figures depend on."""
    import sqlite3

    import ortools

    cpu = "unknown"
    ram = "unknown"
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                    if line.startswith("model name")), cpu)
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        total = next(line.split()[1] for line in meminfo if line.startswith("MemTotal"))
        ram = f"{int(total) / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": str(os.cpu_count()), "ram": ram,
            "os": platform.platform(), "python": platform.python_version(),
            "numpy": np.__version__, "ortools": ortools.__version__,
            "sqlite": sqlite3.sqlite_version}


def _database_label(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def run(enterprises: int, workdir: Path | None = None, *, db_url: str | None = None,
        seed: str = DEMO_SEED, log: bool = True) -> Result:
    """Write the province, run the commands on it, run the bare loop, check; return the figures.

    `workdir` (default: a temporary folder, removed afterwards) must be empty or absent; it
    gets the import files, the SQLite database (unless `db_url`), the bundle, and each
    command's timings and output.
    """
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="spotcheck-province-") as folder:
            return run(enterprises, Path(folder), db_url=db_url, seed=seed, log=log)
    workdir = Path(workdir).resolve()
    if workdir.exists() and any(workdir.iterdir()):
        raise ValueError(f"{workdir} is not empty")
    workdir.mkdir(parents=True, exist_ok=True)

    def say(text: str) -> None:
        if log:
            print(text, file=sys.stderr, flush=True)

    result = Result(enterprises, machine=machine())
    db = db_url or f"sqlite:///{workdir / 'spotcheck.db'}"
    result.database = _database_label(db)
    say(f"writing the files of a province of {enterprises:,} enterprises ...")
    start = time.perf_counter()
    files = write_province_files(workdir / "files", enterprises)
    result.files_seconds = time.perf_counter() - start
    with files["inspectors"].open(encoding="utf-8") as stream:
        result.officers = sum(1 for _ in stream) - 1

    def command(name: str, args: list[str], figures: Figures = ()) -> CommandRun:
        shown = [result.database if arg == db else arg for arg in args]
        say(f"spotcheck {' '.join(shown)}")
        done = result.commands[name] = run_command(name, args, workdir, figures, shown)
        say(f"  {done.seconds:.2f} s, peak RSS {done.peak_rss_mib:,.0f} MiB")
        return done

    command("init", ["--db", db, "init"])
    for kind in KINDS:
        command(f"import {kind}", ["--db", db, "import", kind, str(files[kind]),
                                   *(["--policy", str(PROVINCE_POLICY)]
                                     if kind == "enterprises" else [])], IMPORT_FIGURES)
    bundle = workdir / "bundle"
    command("plan", ["--db", db, "plan", "--quarter", PROVINCE_QUARTER, "--seed", seed,
                     "--policy", str(PROVINCE_POLICY), "--out", str(bundle),
                     *(["--replace"] if db_url else [])], PLAN_FIGURES)
    command("verify", ["verify", str(bundle)], VERIFY_FIGURES)
    verified = _verified_counts(
        (workdir / "logs" / "verify.out").read_text(encoding="utf-8").splitlines())

    say("reading the bundle ...")
    tables = read_bundle_tables(bundle)
    say(f"building the registry in memory (province_registry({enterprises:,})) ...")
    start = time.perf_counter()
    registry = province_registry(enterprises)
    result.registry_seconds = time.perf_counter() - start
    skips = _skip_strata(registry, tables.skipped)
    wanted = {key: len(tables.draws.get(key, {})) + len(skips.get(key, set()))
              for key in set(tables.strata) | set(skips)}
    say("bare draw-v1 loop ...")
    bare, result.bare_pairs, result.bare_seconds = bare_draw_loop(
        registry, PROVINCE_QUARTER, seed, wanted)
    result.registry_peak_mib = peak_rss_mb()
    del registry
    say("checking the plan ...")
    check_draws(tables, bare, skips)
    policy, _ = load_policy(PROVINCE_POLICY)
    counts = check_counts(tables, verified, policy.team_size,
                          {t.code: t.department for t in policy.tasks})
    result.counts = {"enterprises": enterprises, "officers": result.officers,
                     **counts, "strata cut": len(tables.shortfalls)}
    result.cut_strata = [f"{'/'.join(key)} {tables.strata[key]['drawn']}/"
                         f"{tables.strata[key]['target']}" for key in sorted(tables.shortfalls)]
    result.finished_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return result


# ---- the report ----

def _value(value: float, unit: str) -> str:
    """Return a figure as the report prints it, e.g. "12.34 s"."""
    if unit == "s":
        return f"{value:,.2f} s"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    return f"{value:.2f}{unit}"


def limit_text(limit: float, unit: str) -> str:
    """Return a target as the report prints it, e.g. "≤ 60 s"."""
    if unit == "s":
        return f"≤ {limit:,.0f} s"
    if unit == "MiB":
        return f"≤ {limit:,.0f} MiB"
    return f"≤ {limit:g}{unit}"


def _stage_lines(run: CommandRun) -> list[str]:
    lines = []
    for s in run.stages:
        peak = f"{s.peak_mib:>10,.0f}" if s.peak_mib is not None else f"{'':>10}"
        lines.append(f"    {s.stage:<24} {s.seconds:>9.2f} {peak}")
    lines.append(f"    {'total (wall)':<24} {run.seconds:>9.2f} {run.peak_rss_mib:>10,.0f}"
                 "  (peak: os.wait4)")
    return lines


def report(result: Result) -> str:
    """Return the result as text: the targets table, each command's stages, counts, machine."""
    m = result.machine
    lines = [f"province 广东 {PROVINCE_QUARTER}, benchmarks/province_policy.toml: "
             f"{result.enterprises:,} enterprises, {result.officers:,} officers; "
             f"database {result.database}",
             f"targets are for {TARGET_SIZE:,} enterprises on 2 cores / 24 GB; "
             "each command runs as its own process",
             "",
             f"{'figure':<30} {'value':>12} {'target':>14} {'met?':>5}"]
    for name, value, unit, limit, met in result.targets():
        lines.append(f"{name:<30} {_value(value, unit):>12} {limit_text(limit, unit):>14} "
                     f"{'yes' if met else 'NO':>5}")
    lines += ["", f"{'stages':<28} {'wall s':>9} {'peak MiB':>10}"]
    for name in ("plan", "verify", *(f"import {kind}" for kind in KINDS)):
        lines.append(f"  {name}")
        lines += _stage_lines(result.commands[name])
    init = result.commands["init"]
    pace = "faster" if result.commands["verify"].seconds <= result.commands["plan"].seconds \
        else "SLOWER"
    lines += ["",
              f"write the province files (not a target): {result.files_seconds:.2f} s; "
              f"init {init.seconds:.2f} s",
              f"bare draw-v1 loop (this process, hashlib): {result.bare_pairs:,} tickets in "
              f"{result.bare_seconds:.2f} s; plan's draw stage {result.draw_seconds:.2f} s; "
              f"draw stage / bare loop = {result.ratio:.2f}; plan / bare loop = "
              f"{result.plan_ratio:.1f} (issue #13: ≤ 3 at 1M); verify {pace} than plan",
              f"registry built in this process for the loop: {result.registry_seconds:.2f} s, "
              f"this process's peak RSS {result.registry_peak_mib:,.0f} MiB",
              "counts: " + ", ".join(f"{k} {v:,}" for k, v in result.counts.items()),
              "strata cut by capacity: " + ("; ".join(result.cut_strata) or "none")]
    warnings = sorted({w for run in result.commands.values() for w in run.warnings})
    lines += [f"warning printed: {w}" for w in warnings]
    lines += [f"machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM, {m['os']}; "
              f"Python {m['python']}, numpy {m['numpy']}, OR-Tools {m['ortools']}, "
              f"SQLite {m['sqlite']}",
              "checks passed: VERIFIED; each stratum's draws and skips are its lowest "
              "bare-loop tickets, with the same tickets and ranks; visits, teams and draws agree"]
    return "\n".join(lines)


def append_json(result: Result, path: Path) -> None:
    """Append the result to `path` as one JSON line (figures, targets and machine)."""
    record = asdict(result)
    record["draw_seconds"], record["ratio"] = result.draw_seconds, result.ratio
    record["plan_ratio"] = result.plan_ratio
    record["targets"] = [{"figure": name, "value": value, "unit": unit, "limit": limit,
                          "met": met} for name, value, unit, limit, met in result.targets()]
    with Path(path).open("a", encoding="utf-8") as stream:
        stream.write(json.dumps(record, ensure_ascii=False) + "\n")

