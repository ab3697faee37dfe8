#!/usr/bin/env python3
"""Reproduce the draws of a spotcheck audit bundle with nothing but the Python standard library.

    python3 verify_draws.py BUNDLE      # BUNDLE: the bundle folder, or the same as a .zip

Written for auditors (纪检 / 审计 / the public) from the published rules alone — DESIGN.md §6
(round-v1, draw-v1, assign-v1, assign-v2) and docs/ALLOCATION.md — without importing
spotcheck, numpy or anything outside the standard library, so it can be read in one sitting
and run on any machine with Python 3.11 or later. It checks, one printed line per check:

- the manifest: format, algorithm ids, the seed rules and seed_hash = sha256(seed);
- every input and result file against the digest the manifest records, and the files of
  the optional policy keys (docs/AUDIT.md) present exactly when the policy sets the key;
- that the manifest's copy of the policy is policy.toml;
- eligibility: each task's scope, the cooldown rule, the annual cap (its inspections of the
  year from the history and inputs/planned.csv, and capped.csv), the strata with a round
  this quarter, and their population and eligible counts against strata.csv;
- round-v1: every stratum's target and floor, in exact fractions;
- draw-v1: every ticket in draws.csv and skipped.csv;
- the draw: each stratum's draws and skips are exactly its lowest-(ticket, enterprise_id)
  eligible enterprises, every skip is an enterprise with no lawful team (static rule of
  docs/ALLOCATION.md) or one whose annual cap the plan's visits of other departments used
  (judged from visits.csv), the ranks, and the drawn count recorded in strata.csv;
- the allocation bookkeeping: drawn <= allocated <= target, allocated == target unless
  shortfalls.csv gives a capacity reason, shortfall = max(0, floor - drawn);
- visits.csv against the draws; every team: exactly team_size distinct lawful officers (role
  officer, rotation kept), within each officer's capacity; every cost in assignments.csv, by
  the assign rule the manifest names (assign-v1 or assign-v2); no enterprise past its
  annual cap; every expert (专家) in experts.csv lawful, within need and capacity, priced
  by the same rule, and every unfilled place in expert_gaps.csv.

It does NOT re-solve the staffing optimisation: it does not prove that the teams are the
cheapest lawful ones (the assign rule's minimum total cost), nor that capacity really ran out where
shortfalls.csv says a stratum was closed (alloc-v1's max-flow test), nor the balance caps of
workload = "balanced", the experts' maximum filling, or shortfall_groups.csv (all maximum
flows). `spotcheck verify BUNDLE` proves them, with exact certificates.

Exit status: 0 when everything reproduces ("ALL DRAWS REPRODUCE"), 1 when anything does not,
2 for a usage error.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sys
import tomllib
import unicodedata
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

FORMAT = "spotcheck-audit/1"
ROUND, DRAW = "round-v1", "draw-v1"
ASSIGN_RULES = ("assign-v1", "assign-v2")  # a bundle names its own in algorithms.assign
HEADERS = {
    "inputs/enterprises.csv": ("enterprise_id", "name", "jurisdiction", "industry", "tier"),
    "inputs/inspectors.csv": ("inspector_id", "name", "department", "jurisdiction",
                              "qualifications", "capacity", "certificate_expiry"),
    "inputs/conflicts.csv": ("inspector_id", "enterprise_id", "reason"),
    "inputs/history.csv": ("enterprise_id", "task", "department", "inspected_on"),
    "strata.csv": ("task", "tier", "jurisdiction", "population", "eligible", "target", "floor",
                   "allocated", "drawn", "shortfall"),
    "draws.csv": ("task", "tier", "jurisdiction", "enterprise_id", "ticket", "rank"),
    "skipped.csv": ("task", "enterprise_id", "ticket", "reason"),
    "assignments.csv": ("enterprise_id", "department", "inspector_id", "cost"),
    "visits.csv": ("enterprise_id", "department", "tasks"),
    "shortfalls.csv": ("task", "tier", "jurisdiction", "target", "allocated", "drawn",
                       "shortfall", "reason"),
    "inputs/planned.csv": ("enterprise_id", "department", "quarter"),
    "capped.csv": ("enterprise_id", "tier", "cap", "used", "inspections"),
    "experts.csv": ("enterprise_id", "department", "inspector_id", "cost"),
    "expert_gaps.csv": ("enterprise_id", "department", "needed", "drawn", "reason"),
    "shortfall_groups.csv": ("department", "jurisdiction", "qualifications", "officers",
                             "capacity", "saturated", "extra", "added"),
}
# Input tables with the columns added since the first release, written only when a row holds
# a value other than the default (the default when the column is absent).
EXTENDED_HEADERS = {
    "inputs/inspectors.csv": (*HEADERS["inputs/inspectors.csv"], "role"),
    "inputs/history.csv": (*HEADERS["inputs/history.csv"], "inspectors"),
}
DEFAULTS = {"role": "officer", "inspectors": ""}
INPUT_FILES = ("policy.toml", "inputs/enterprises.csv", "inputs/inspectors.csv",
               "inputs/conflicts.csv", "inputs/history.csv")
OUTPUT_FILES = ("strata.csv", "draws.csv", "skipped.csv", "assignments.csv", "visits.csv",
                "shortfalls.csv")
# Files of the optional policy keys: annual_cap (inputs/planned.csv, capped.csv), a task's
# experts (experts.csv, expert_gaps.csv), shortfall_advice (shortfall_groups.csv).
OPTIONAL_INPUT_FILES = ("inputs/planned.csv",)
OPTIONAL_OUTPUT_FILES = ("capped.csv", "experts.csv", "expert_gaps.csv", "shortfall_groups.csv")
BUNDLE_FILES = frozenset(("manifest.json", "events.jsonl", "manifest.sig", *INPUT_FILES,
                          *OUTPUT_FILES, *OPTIONAL_INPUT_FILES, *OPTIONAL_OUTPUT_FILES))
SHOWN = 5  # examples printed under a failed check

Key = tuple[str, str, str]  # a stratum: (task, tier, jurisdiction)


class BundleError(Exception):
    """The bundle cannot be read far enough to check anything further."""


def _one_value_a_key(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Return a JSON object, refusing a key written twice (readers may take either value)."""
    if len({key for key, _ in pairs}) != len(pairs):
        raise ValueError("a key appears twice in one object")
    return dict(pairs)


def sha256_hex(text: str) -> str:
    """Return the lower-case hex SHA-256 of the UTF-8 bytes of `text` (DESIGN §6)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def mix64(z: int) -> int:
    """Return assign-v2's mixing function of a 64-bit integer, the splitmix64 finaliser."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
    return z ^ (z >> 31)


def assign_cost(rule: str, seed_digest: str, quarter: str, enterprise_id: str,
                inspector_id: str) -> int:
    """Return the cost of one inspector on one enterprise's visit by assign-v1 or assign-v2."""
    if rule == "assign-v2":
        head = f"assign-v2:{seed_digest}:{quarter}"
        visit_key = int(sha256_hex(f"{head}:E:{enterprise_id}")[:16], 16)
        officer_key = int(sha256_hex(f"{head}:I:{inspector_id}")[:16], 16)
        return mix64(visit_key ^ officer_key) >> 24
    return int(sha256_hex(f"assign-v1:{seed_digest}:{quarter}:{enterprise_id}:{inspector_id}")[:10],
               16)


def read_bundle(path: Path) -> dict[str, bytes]:
    """Return the files of a bundle folder or .zip, by their path inside the bundle; raise
    BundleError, before reading any, for a bundle that could mean two things."""
    files: dict[str, bytes] = {}
    if path.is_dir():
        items = [item for item in sorted(path.rglob("*")) if item.is_file()]
        names = [item.relative_to(path).as_posix() for item in items]
        _check_names(names, names)
        for name, item in zip(names, items, strict=True):
            files[name] = item.read_bytes()
    else:
        with zipfile.ZipFile(path) as archive:
            names = [name for name in archive.namelist() if not name.endswith("/")]
            # A zip made by hand from the folder holds everything under one top folder.
            tops = {name.split("/", 1)[0] for name in names}
            top = tops.pop() + "/" if "manifest.json" not in names and len(tops) == 1 else ""
            _check_names(archive.namelist(), [name[len(top):] for name in names])
            for name in names:
                files[name[len(top):]] = archive.read(name)
    return files


def _check_names(entries: list[str], names: list[str]) -> None:
    """Refuse a bundle whose entries could mean two things: a path out of the bundle, a name
    twice (or twice but for case or Unicode form: unzip and a reader could take different
    ones), or a file that is not one of a bundle (nothing covers it)."""
    for entry in entries:
        parts = entry.rstrip("/").split("/")
        if entry.startswith(("/", "\\")) or "\\" in entry or ":" in entry or any(
                part in ("", ".", "..") for part in parts):
            raise BundleError(f"{entry!r} is a path outside the bundle")
    seen: dict[str, str] = {}
    for name in names:
        key = unicodedata.normalize("NFC", name).casefold()
        if key in seen:
            raise BundleError(f"{seen[key]!r} and {name!r} are the same name (twice, or but for "
                              "case or Unicode form): the bundle could mean two things")
        seen[key] = name
        if name not in BUNDLE_FILES:
            raise BundleError(f"{name!r} is not a file of an audit bundle")


def read_table(files: dict[str, bytes], name: str) -> list[dict[str, str]]:
    """Return a bundle CSV's rows as dicts, refusing a wrong header or row width."""
    if name not in files:
        raise BundleError(f"{name} is missing from the bundle")
    try:
        rows = list(csv.reader(io.StringIO(files[name].decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BundleError(f"{name} cannot be read as UTF-8 CSV: {exc}") from exc
    header = HEADERS[name]
    if rows and tuple(rows[0]) == EXTENDED_HEADERS.get(name):
        header = EXTENDED_HEADERS[name]
    if not rows or tuple(rows[0]) != header:
        raise BundleError(f"{name}: the header is not {','.join(header)}")
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise BundleError(f"{name}:{number}: {len(row)} field(s), expected {len(header)}")
    added = {c: DEFAULTS[c] for c in EXTENDED_HEADERS.get(name, ()) if c not in header}
    return [{**dict(zip(header, row, strict=True)), **added} for row in rows[1:]]


def exact(value: object) -> Fraction:
    """Return a TOML number as the exact fraction of its shortest decimal (0.07 -> 7/100)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BundleError(f"policy.toml: {value!r} is not a number")
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


@dataclass(frozen=True)
class Tier:
    """One credit-risk tier of the policy, with its ratios as exact fractions."""

    ratio: Fraction
    min_ratio: Fraction
    quarters: tuple[int, ...]
    cooldown_months: int
    priority: int
    annual_cap: int | None = None  # inspections of one enterprise a calendar year, at most


@dataclass(frozen=True)
class Task:
    """One sampling task (抽查任务): its department, scope and required qualification."""

    code: str
    department: str
    jurisdictions: tuple[str, ...]
    industries: tuple[str, ...]
    qualification: str
    experts: int = 0                # experts (专家) joining each visit, on top of officers
    expert_qualification: str = ""

    def in_scope(self, jurisdiction: str, industry: str) -> bool:
        """Return whether an enterprise is in scope: each non-empty prefix list must match."""
        return ((not self.jurisdictions or jurisdiction.startswith(self.jurisdictions))
                and (not self.industries or industry.startswith(self.industries)))


@dataclass(frozen=True)
class Policy:
    """The policy values the draw depends on, with the defaults of DESIGN §5."""

    team_size: int
    cooldown_scope: str
    tiers: dict[str, Tier]
    tasks: dict[str, Task]  # by code, in code order
    assign: str | None = None  # the assign rule the policy names, if it names one
    officer_cooldown_months: int = 0  # rotation (轮岗)
    workload: str = "minimum-cost"
    shortfall_advice: bool = False

    @property
    def caps(self) -> dict[str, int]:
        """Return the tiers with an annual cap, and their caps."""
        return {n: t.annual_cap for n, t in self.tiers.items() if t.annual_cap is not None}

    def optional_files(self) -> set[str]:
        """Return the files of the optional keys this policy sets."""
        return ({"inputs/planned.csv", "capped.csv"} if self.caps else set()) | (
            {"experts.csv", "expert_gaps.csv"} if any(t.experts for t in self.tasks.values())
            else set()) | ({"shortfall_groups.csv"} if self.shortfall_advice else set())

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Policy:
        """Return the policy of a parsed policy.toml (or of the manifest's copy of it)."""
        try:
            tiers = {name: Tier(exact(t["ratio"]), exact(t.get("min_ratio", 0)),
                                tuple(sorted(t.get("quarters", (1, 2, 3, 4)))),
                                int(t.get("cooldown_months", 0)), int(t["priority"]),
                                None if t.get("annual_cap") is None else int(t["annual_cap"]))
                     for name, t in raw["tiers"].items()}
            tasks = [Task(t["code"], t["department"],
                          tuple(sorted(set(t.get("jurisdictions", ())))),
                          tuple(sorted(set(t.get("industries", ())))), t.get("qualification", ""),
                          int(t.get("experts", 0)), t.get("expert_qualification", ""))
                     for t in raw["tasks"]]
            return cls(int(raw["team_size"]), raw.get("cooldown_scope", "any"), tiers,
                       {t.code: t for t in sorted(tasks, key=lambda t: t.code)},
                       raw.get("assign"), int(raw.get("officer_cooldown_months", 0)),
                       raw.get("workload", "minimum-cost"),
                       bool(raw.get("shortfall_advice", False)))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BundleError(f"the policy lacks or mangles a key: {exc!r}") from exc


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter YYYYQn and the dates the rules need."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """Return the quarter written as YYYYQn."""
        match = re.fullmatch(r"([0-9]{4})Q([1-4])", text)
        if match is None:
            raise BundleError(f"manifest.json: quarter {text!r} is not YYYYQn")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def start(self) -> date:
        """Return the quarter's first day."""
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        """Return the quarter's last day (certificates must be valid through it)."""
        after = date(self.year + 1, 1, 1) if self.number == 4 else \
            date(self.year, 3 * self.number + 1, 1)
        return after - timedelta(days=1)

    def cooldown_threshold(self, months: int) -> date:
        """Return the first day of the month `months` months before the quarter starts."""
        index = self.year * 12 + (3 * self.number - 3) - months
        return date(index // 12, index % 12 + 1, 1)


def quarter_of(day: date) -> str:
    """Return the quarter YYYYQn a day falls in."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class Officer:
    """One inspector (执法检查人员) as recorded in inputs/inspectors.csv."""

    inspector_id: str
    department: str
    jurisdiction: str
    qualifications: frozenset[str]
    capacity: int
    certificate_expiry: date
    role: str = "officer"  # officer (执法人员), expert (专家) or auxiliary (辅助人员)


class Staffing:
    """Who may lawfully inspect whom (docs/ALLOCATION.md, "lawful officer"): officers only,
    and apart from them the experts (专家) a task may ask for; recusal (回避) and rotation
    (轮岗: whoever the history names as having inspected the enterprise on or after the
    first day of the month officer_cooldown_months before the quarter) keep one off."""

    def __init__(self, officers: list[Officer], conflicts: set[tuple[str, str]],
                 quarter: Quarter, rotated: set[tuple[str, str]] | None = None) -> None:
        self.by_department: dict[str, list[Officer]] = defaultdict(list)
        self.experts: dict[str, list[Officer]] = defaultdict(list)
        for officer in officers:
            if officer.role == "officer" and officer.certificate_expiry >= quarter.end \
                    and officer.capacity > 0:
                self.by_department[officer.department].append(officer)
            if officer.role == "expert" and officer.capacity > 0:
                self.experts[officer.department].append(officer)
        self.recused: dict[str, set[str]] = defaultdict(set)
        for inspector_id, enterprise_id in (*conflicts, *(rotated or ())):
            self.recused[enterprise_id].add(inspector_id)
        self.pools: dict[tuple[str, str, frozenset[str]], frozenset[str]] = {}

    def expert_pool(self, enterprise_id: str, jurisdiction: str, department: str,
                    qualifications: frozenset[str]) -> frozenset[str]:
        """Return the experts who may join this enterprise's visit for this department."""
        return frozenset(o.inspector_id for o in self.experts.get(department, ())
                         if jurisdiction.startswith(o.jurisdiction)
                         and qualifications <= o.qualifications) - self.recused.get(
                             enterprise_id, set())

    def lawful(self, enterprise_id: str, jurisdiction: str, department: str,
               qualifications: frozenset[str]) -> frozenset[str]:
        """Return the officers who may serve on this enterprise's visit for this department."""
        key = (jurisdiction, department, qualifications)
        pool = self.pools.get(key)
        if pool is None:
            pool = self.pools[key] = frozenset(
                o.inspector_id for o in self.by_department.get(department, ())
                if jurisdiction.startswith(o.jurisdiction) and qualifications <= o.qualifications)
        return pool - self.recused.get(enterprise_id, set())


@dataclass(frozen=True)
class Stratum:
    """A (task, tier, jurisdiction) stratum: its population and eligible enterprises."""

    population: int
    eligible: list[str]


class Audit:
    """Runs every check on one bundle, reporting each through `say`."""

    def __init__(self, files: dict[str, bytes], say: Callable[[str], None] = print) -> None:
        self.files = files
        self.say = say
        self.failed: list[str] = []
        self.expected_draws: list[tuple[str, ...]] = []    # draws.csv rows as recomputed
        self.expected_skips: list[tuple[str, ...]] = []    # (task, enterprise_id, ticket)
        self._tables: dict[str, list[dict[str, str]]] = {}
        self.officers: dict[str, Officer] = {}
        self.assign = ""  # the assign rule the manifest names
        self.policy = Policy(2, "any", {}, {})  # policy.toml, once read
        # the annual cap: each enterprise's (department, quarter) pairs of the year so far
        self.cap_pairs: dict[str, set[tuple[str, str]]] = defaultdict(set)

    def table(self, name: str) -> list[dict[str, str]]:
        """Return one CSV of the bundle as dicts, read once."""
        if name not in self._tables:
            self._tables[name] = read_table(self.files, name)
        return self._tables[name]

    def check(self, name: str, problems: list[str], summary: str) -> None:
        """Report one check: `ok` with its summary, or FAIL with the first problems."""
        if not problems:
            self.say(f"ok    {name}: {summary}")
            return
        self.failed.append(name)
        self.say(f"FAIL  {name}: {len(problems)} problem(s)")
        for problem in problems[:SHOWN]:
            self.say(f"        - {problem}")
        if len(problems) > SHOWN:
            self.say(f"        - ... and {len(problems) - SHOWN} more")

    def run(self) -> bool:
        """Run every check; return True only if everything reproduces."""
        try:
            self._run()
        except BundleError as exc:
            self.check("bundle", [f"{exc} — nothing further can be checked"], "")
        return not self.failed

    def _run(self) -> None:
        files = self.files
        try:
            manifest = json.loads(files["manifest.json"], object_pairs_hook=_one_value_a_key)
        except KeyError as exc:
            raise BundleError("manifest.json is missing: this is not an audit bundle") from exc
        except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
            raise BundleError(f"manifest.json is not valid JSON: {exc}") from exc
        if not isinstance(manifest, dict):
            raise BundleError("manifest.json is not a JSON object")
        quarter, seed_digest = self._check_manifest(manifest)
        self._check_digests(manifest)
        policy = self.policy = self._check_policy(manifest)
        rows = self.table("inputs/enterprises.csv")
        enterprises = {r["enterprise_id"]: r for r in rows}
        if len(enterprises) != len(rows):
            raise BundleError("inputs/enterprises.csv lists an enterprise_id twice")
        recorded = {(r["task"], r["tier"], r["jurisdiction"]): r
                    for r in self.table("strata.csv")}
        strata = self._check_eligibility(policy, quarter, enterprises, recorded)
        self._check_targets(policy, quarter, seed_digest, strata, recorded)
        self._check_tickets(quarter, seed_digest)
        staffing = self._staffing(quarter)
        self._check_draws(policy, quarter, seed_digest, strata, recorded, enterprises, staffing)
        self._check_allocation(recorded)
        self._check_teams(policy, quarter, seed_digest, enterprises, staffing)
        if policy.caps:
            self._check_cap_bound(policy, quarter, enterprises)
        if any(t.experts for t in policy.tasks.values()):
            self._check_experts(policy, quarter, seed_digest, enterprises, staffing)
        self._check_counts(manifest)

    # -- manifest, seed and digests ---------------------------------------------------------

    def _check_manifest(self, manifest: dict[str, Any]) -> tuple[Quarter, str]:
        problems = []
        if manifest.get("format") != FORMAT:
            problems.append(f"format is {manifest.get('format')!r}, this script reads {FORMAT}")
        algorithms = manifest.get("algorithms")
        self.assign = str(algorithms.get("assign")) if isinstance(algorithms, dict) else ""
        if algorithms != {"round": ROUND, "draw": DRAW, "assign": self.assign} \
                or self.assign not in ASSIGN_RULES:
            problems.append(f"algorithms are {algorithms!r}, this script implements {ROUND}, "
                            f"{DRAW} and {' or '.join(ASSIGN_RULES)}")
        if manifest.get("allocation_rule", "alloc-v1") != "alloc-v1":
            problems.append(f"allocation_rule is {manifest.get('allocation_rule')!r}, "
                            "this script implements alloc-v1")
        quarter = Quarter.parse(str(manifest.get("quarter", "")))
        self.check("manifest", problems, f"{FORMAT}, {ROUND}/{DRAW}/{self.assign}, quarter "
                   f"{manifest['quarter']}")
        if problems:
            raise BundleError("the bundle is not one this script can read")

        seed = manifest.get("seed")
        problems = []
        if not isinstance(seed, str) or not seed:
            raise BundleError("manifest.json: the seed is missing")
        nfc = unicodedata.normalize("NFC", seed)
        if nfc != seed:
            problems.append("the seed is not in NFC form")
        if nfc != nfc.strip():
            problems.append("the seed has white space at an end")
        if ":" in nfc:
            problems.append("the seed contains ':'")
        if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in nfc):
            problems.append("the seed contains a control character")
        seed_digest = sha256_hex(nfc)
        if manifest.get("seed_hash") != seed_digest:
            problems.append(f"seed_hash {manifest.get('seed_hash')!r} is not sha256(seed) = "
                            f"{seed_digest}")
        self.check("seed", problems, f"seed {seed!r}, seed_hash = sha256(seed) = {seed_digest}")
        return quarter, seed_digest

    def _check_digests(self, manifest: dict[str, Any]) -> None:
        for part, names, optional in (("inputs", INPUT_FILES, OPTIONAL_INPUT_FILES),
                                      ("outputs", OUTPUT_FILES, OPTIONAL_OUTPUT_FILES)):
            recorded = manifest.get(part)
            recorded = recorded if isinstance(recorded, dict) else {}
            names = (*names, *(n for n in optional if n in self.files or n in recorded))
            problems = []
            for name in names:
                if name not in self.files:
                    problems.append(f"{name} is missing from the bundle")
                elif recorded.get(name) != hashlib.sha256(self.files[name]).hexdigest():
                    problems.append(f"{name}: sha256 differs from manifest.json {part}")
            self.check(f"{part[:-1]} digests", problems,
                       f"{len(names)} files match the sha256 recorded in manifest.json")

    def _check_policy(self, manifest: dict[str, Any]) -> Policy:
        try:
            raw = tomllib.loads(self.files["policy.toml"].decode("utf-8-sig"))
        except (KeyError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise BundleError(f"policy.toml cannot be read: {exc}") from exc
        policy = Policy.parse(raw)
        problems = []
        if not isinstance(manifest.get("policy"), dict):
            problems.append("manifest.json has no policy")
        elif Policy.parse(manifest["policy"]) != policy:
            problems.append("the policy copied into manifest.json differs from policy.toml")
        if policy.cooldown_scope not in ("any", "task"):
            problems.append(f"cooldown_scope {policy.cooldown_scope!r} is not any or task")
        if policy.assign is not None and policy.assign != self.assign:
            problems.append(f"policy.toml sets assign = {policy.assign!r}, the manifest names "
                            f"{self.assign}")
        wanted = policy.optional_files()
        for name in (*OPTIONAL_INPUT_FILES, *OPTIONAL_OUTPUT_FILES):
            if (name in self.files) != (name in wanted):
                problems.append(f"{name} is {'in' if name in self.files else 'missing from'} "
                                "the bundle, but the policy " + (
                                    "sets no key that writes it" if name not in wanted
                                    else "sets the key that needs it"))
        self.check("policy", problems, f"team_size {policy.team_size}, cooldown_scope "
                   f"{policy.cooldown_scope}, tiers {', '.join(sorted(policy.tiers))}, tasks "
                   f"{', '.join(policy.tasks)}")
        return policy

    # -- eligibility and round-v1 -----------------------------------------------------------

    def _check_eligibility(self, policy: Policy, quarter: Quarter,
                           enterprises: dict[str, dict[str, str]],
                           recorded: dict[Key, dict[str, str]]) -> dict[Key, Stratum]:
        """Return every stratum with a round this quarter; check them against strata.csv."""
        history = self.table("inputs/history.csv")
        problems = []
        unknown = sorted({e["tier"] for e in enterprises.values()} - set(policy.tiers))
        if unknown:
            problems.append(f"tier(s) {', '.join(unknown)} are used but not in policy.toml")
        latest: dict[tuple[str, str | None], date] = {}
        try:
            for h in history:
                day = date.fromisoformat(h["inspected_on"])
                for seen_for in ((h["enterprise_id"], None), (h["enterprise_id"], h["task"])):
                    latest[seen_for] = max(latest.get(seen_for, day), day)
        except ValueError as exc:
            raise BundleError(f"inputs/history.csv: {exc}") from exc
        capped = self._annual_cap(policy, quarter, history, enterprises)
        rounds = {name for name, tier in policy.tiers.items() if quarter.number in tier.quarters}
        members: dict[Key, list[str]] = defaultdict(list)
        eligible: dict[Key, list[str]] = defaultdict(list)
        for task in policy.tasks.values():
            for eid, ent in enterprises.items():
                if ent["tier"] not in rounds or not task.in_scope(ent["jurisdiction"],
                                                                   ent["industry"]):
                    continue
                key = (task.code, ent["tier"], ent["jurisdiction"])
                members[key].append(eid)
                months = policy.tiers[ent["tier"]].cooldown_months
                seen = latest.get((eid, None if policy.cooldown_scope == "any" else task.code))
                if (months == 0 or seen is None or seen < quarter.cooldown_threshold(months)) \
                        and eid not in capped:
                    eligible[key].append(eid)
        strata = {key: Stratum(len(members[key]), eligible[key]) for key in sorted(members)}
        for key in sorted(set(strata) | set(recorded)):
            if key not in recorded:
                problems.append(f"stratum {'/'.join(key)} has a round but is not in strata.csv")
            elif key not in strata:
                problems.append(f"strata.csv lists {'/'.join(key)}, which has no enterprise "
                                "with a round in scope")
            elif (recorded[key]["population"], recorded[key]["eligible"]) != (
                    str(strata[key].population), str(len(strata[key].eligible))):
                problems.append(f"stratum {'/'.join(key)}: population/eligible are "
                                f"{recorded[key]['population']}/{recorded[key]['eligible']} in "
                                f"strata.csv, the rules give {strata[key].population}/"
                                f"{len(strata[key].eligible)}")
        if policy.caps and "capped.csv" in self.files:
            inside = {eid for stratum in members.values() for eid in stratum}
            expected = [(eid, enterprises[eid]["tier"], str(policy.caps[enterprises[eid]["tier"]]),
                         str(len(self.cap_pairs[eid])),
                         "; ".join(f"{d} {q}" for d, q in sorted(self.cap_pairs[eid])))
                        for eid in sorted(capped & inside)]
            problems += _differences("capped.csv", [tuple(r.values())
                                                    for r in self.table("capped.csv")],
                                     expected, "is not an enterprise the annual cap excludes",
                                     "is excluded by the annual cap but not listed")
        self.check("eligibility", problems,
                   f"{len(strata)} strata (task, tier, jurisdiction) with a round in "
                   f"{quarter}; scope, cooldown and annual cap give the population "
                   "and eligible counts of strata.csv")
        return strata

    def _annual_cap(self, policy: Policy, quarter: Quarter, history: list[dict[str, str]],
                    enterprises: dict[str, dict[str, str]]) -> set[str]:
        """Return the enterprises whose inspections of the year reach their tier's annual
        cap; an inspection is a (department, quarter) pair of the history (by the quarter
        of its date) or of the year's other active plans (inputs/planned.csv)."""
        if not policy.caps:
            return set()
        year = str(quarter.year)
        for h in history:
            if h["inspected_on"].startswith(year):
                day = date.fromisoformat(h["inspected_on"])
                self.cap_pairs[h["enterprise_id"]].add((h["department"], quarter_of(day)))
        if "inputs/planned.csv" in self.files:
            for p in self.table("inputs/planned.csv"):
                if p["quarter"].startswith(year + "Q"):
                    self.cap_pairs[p["enterprise_id"]].add((p["department"], p["quarter"]))
        return {eid for eid, e in enterprises.items() if e["tier"] in policy.caps
                and len(self.cap_pairs[eid]) >= policy.caps[e["tier"]]}

    def _check_targets(self, policy: Policy, quarter: Quarter, seed_digest: str,
                       strata: dict[Key, Stratum], recorded: dict[Key, dict[str, str]]) -> None:
        problems = []
        for key, stratum in strata.items():
            if key not in recorded:
                continue
            task, tier_name, jurisdiction = key
            tier = policy.tiers[tier_name]
            digest = sha256_hex(f"round-v1:{seed_digest}:{quarter}:"
                                f"{task}:{tier_name}:{jurisdiction}")
            v = Fraction(int(digest[:16], 16), 2**64)
            target = min(len(stratum.eligible), (tier.ratio * stratum.population + v) // 1)
            floor = min(target, (tier.min_ratio * stratum.population + v) // 1)
            row = recorded[key]
            if (row["target"], row["floor"]) != (str(target), str(floor)):
                problems.append(f"stratum {'/'.join(key)}: target/floor are {row['target']}/"
                                f"{row['floor']} in strata.csv, round-v1 gives {target}/{floor}")
        self.check("round-v1", problems, f"{len(strata)} targets and floors reproduce exactly")

    # -- draw-v1 ------------------------------------------------------------------------------

    def _check_tickets(self, quarter: Quarter, seed_digest: str) -> None:
        q = str(quarter)
        problems = []
        counted = 0
        for name in ("draws.csv", "skipped.csv"):
            for row in self.table(name):
                counted += 1
                ticket = sha256_hex(f"draw-v1:{seed_digest}:{q}:{row['task']}:"
                                    f"{row['enterprise_id']}")
                if row["ticket"] != ticket:
                    problems.append(f"{name}: the ticket of {row['enterprise_id']} for task "
                                    f"{row['task']} is {row['ticket']}, draw-v1 gives {ticket}")
        self.check("tickets", problems, f"{counted} tickets in draws.csv and skipped.csv are "
                   "sha256 of their draw-v1 strings")

    def _staffing(self, quarter: Quarter) -> Staffing:
        try:
            officers = [Officer(r["inspector_id"], r["department"], r["jurisdiction"],
                                frozenset(q for q in r["qualifications"].split(";") if q),
                                int(r["capacity"]), date.fromisoformat(r["certificate_expiry"]),
                                r["role"])
                        for r in self.table("inputs/inspectors.csv")]
            rotated = set()
            if self.policy.officer_cooldown_months > 0:
                since = quarter.cooldown_threshold(self.policy.officer_cooldown_months)
                rotated = {(i, h["enterprise_id"]) for h in self.table("inputs/history.csv")
                           if date.fromisoformat(h["inspected_on"]) >= since
                           for i in h["inspectors"].split(";") if i}
        except ValueError as exc:
            raise BundleError(f"inputs/inspectors.csv or history.csv: {exc}") from exc
        self.officers = {o.inspector_id: o for o in officers}
        conflicts = {(r["inspector_id"], r["enterprise_id"])
                     for r in self.table("inputs/conflicts.csv")}
        return Staffing(officers, conflicts, quarter, rotated)

    def _check_draws(self, policy: Policy, quarter: Quarter, seed_digest: str,
                     strata: dict[Key, Stratum], recorded: dict[Key, dict[str, str]],
                     enterprises: dict[str, dict[str, str]], staffing: Staffing) -> None:
        """Redo each stratum's bottom-k draw (with skips) and compare with the files."""
        q = str(quarter)
        eligible_for: dict[str, set[str]] = defaultdict(set)
        for (task, _, _), stratum in strata.items():
            eligible_for[task].update(stratum.eligible)

        def own(code: str) -> frozenset[str]:
            qualification = policy.tasks[code].qualification
            return frozenset([qualification]) if qualification else frozenset()

        def no_team(eid: str, code: str) -> bool:
            """Return whether the enterprise is skipped for the task (ALLOCATION.md rule 1)."""
            task = policy.tasks[code]
            place = enterprises[eid]["jurisdiction"]
            if len(staffing.lawful(eid, place, task.department, own(code))) < policy.team_size:
                return True
            # A joint visit (进一次门): tasks of one department, in code order, keep the
            # enterprise while one team can still hold all their qualifications.
            peers = [c for c in policy.tasks if policy.tasks[c].department == task.department]
            if len({policy.tasks[c].qualification for c in peers} - {""}) < 2:
                return False
            chain: frozenset[str] = frozenset()
            for peer in peers:
                if eid not in eligible_for[peer]:
                    continue
                wanted = chain | own(peer)
                fits = len(staffing.lawful(eid, place, task.department, wanted)) >= \
                    policy.team_size
                if peer == code:
                    return not fits
                if fits:
                    chain = wanted
            return False

        visited: dict[str, set[str]] = defaultdict(set)  # enterprise → departments visiting
        for visit in self.table("visits.csv"):
            visited[visit["enterprise_id"]].add(visit["department"])
        recorded_skips = {(r["task"], r["enterprise_id"]) for r in self.table("skipped.csv")}

        def cap_used(eid: str, department: str) -> bool:
            """Return whether opening a visit of `department` would pass the enterprise's
            annual cap, judged from the plan's visits: an enterprise the plan does not visit
            for this department, whose cap the history, other plans and the plan's visits of
            other departments use up (docs/ALLOCATION.md)."""
            cap = policy.caps.get(enterprises[eid]["tier"])
            now = {d for d, q in self.cap_pairs[eid] if q == q_text}
            if cap is None or department in now or department in visited[eid]:
                return False
            return len(self.cap_pairs[eid]) + len(visited[eid] - now) >= cap

        q_text = str(quarter)
        problems: list[str] = []
        draws: list[tuple[str, ...]] = []
        skips: list[tuple[str, ...]] = []
        for key, stratum in strata.items():
            row = recorded.get(key)
            if row is None:
                continue
            task = key[0]
            order = sorted((sha256_hex(f"draw-v1:{seed_digest}:{q}:{task}:{eid}"), eid)
                           for eid in stratum.eligible)
            try:
                allocated, target = int(row["allocated"]), int(row["target"])
            except ValueError:
                problems.append(f"stratum {'/'.join(key)}: allocated/target are not numbers")
                continue
            closed = allocated < target  # capacity closed the stratum (ALLOCATION.md rule 5)
            taken = 0
            for position, (ticket, eid) in enumerate(order):
                if taken == allocated and not closed:
                    break
                if no_team(eid, task):
                    skips.append((task, eid, ticket))
                    continue
                # A cap-skip is judged from the final visits: within the drawn part it must
                # be one; at the candidate that closed a stratum, only if recorded as one.
                if cap_used(eid, policy.tasks[task].department) and (
                        taken < allocated or (task, eid) in recorded_skips):
                    skips.append((task, eid, ticket))
                    continue
                if taken == allocated:
                    break  # the candidate capacity could not admit; it is listed nowhere
                draws.append((*key, eid, ticket, str(position + 1)))
                taken += 1
            else:
                if closed:
                    problems.append(f"stratum {'/'.join(key)}: strata.csv says capacity stopped "
                                    f"it at {allocated} of {target}, but no candidate was left")
            if row["drawn"] != str(taken):
                problems.append(f"stratum {'/'.join(key)}: strata.csv says {row['drawn']} "
                                f"drawn, the draw gives {taken}")
        self.expected_draws, self.expected_skips = draws, sorted(skips)
        written = [tuple(r.values()) for r in self.table("draws.csv")]
        problems += _differences("draws.csv", written, draws,
                                 "is drawn in the bundle but not by the rules",
                                 "is drawn by the rules but missing from the bundle")
        written_skips = sorted((r["task"], r["enterprise_id"], r["ticket"])
                               for r in self.table("skipped.csv"))
        problems += _differences("skipped.csv", written_skips, self.expected_skips,
                                 "is skipped in the bundle but has a lawful team",
                                 "has no lawful team, so should be skipped")
        self.check("draws", problems,
                   f"{len(draws)} draws and {len(skips)} skips are each stratum's lowest "
                   "(ticket, enterprise_id) eligible enterprises, with the recorded ranks "
                   "and drawn counts; every skip has no lawful team, or its annual cap "
                   "used by the plan's visits of other departments")

    def _check_allocation(self, recorded: dict[Key, dict[str, str]]) -> None:
        shortfalls = {(r["task"], r["tier"], r["jurisdiction"]): r
                      for r in self.table("shortfalls.csv")}
        problems = []
        cut = 0
        for key, row in recorded.items():
            name = "/".join(key)
            try:
                target, floor, allocated, drawn, shortfall = (
                    int(row[c]) for c in ("target", "floor", "allocated", "drawn", "shortfall"))
            except ValueError:
                problems.append(f"stratum {name}: a count in strata.csv is not a number")
                continue
            if not drawn <= allocated <= target:
                problems.append(f"stratum {name}: drawn {drawn} <= allocated {allocated} <= "
                                f"target {target} does not hold")
            if shortfall != max(0, floor - drawn):
                problems.append(f"stratum {name}: shortfall {shortfall} is not "
                                f"max(0, floor {floor} - drawn {drawn})")
            short = shortfalls.pop(key, None)
            if drawn < target and short is None:
                problems.append(f"stratum {name}: drawn {drawn} < target {target} but "
                                "shortfalls.csv gives no reason")
            if short is not None:
                if drawn == target:
                    problems.append(f"shortfalls.csv lists {name}, which drew its target")
                elif [short[c] for c in ("target", "allocated", "drawn", "shortfall")] != [
                        row[c] for c in ("target", "allocated", "drawn", "shortfall")]:
                    problems.append(f"shortfalls.csv: the counts of {name} differ from "
                                    "strata.csv")
                if (allocated < target) != short["reason"].startswith("capacity"):
                    problems.append(f"stratum {name}: allocated {allocated} of target {target} "
                                    f"but shortfalls.csv says {short['reason'][:60]!r}")
            cut += allocated < target
        problems += [f"shortfalls.csv lists {'/'.join(k)}, not a stratum" for k in shortfalls]
        self.check("allocation", problems,
                   f"drawn <= allocated <= target in every stratum; {cut} cut by capacity with a "
                   "reason in shortfalls.csv (where capacity ran out is for `spotcheck verify`)")

    # -- visits, teams and their costs ---------------------------------------------------------

    def _check_teams(self, policy: Policy, quarter: Quarter, seed_digest: str,
                     enterprises: dict[str, dict[str, str]], staffing: Staffing) -> None:
        q = str(quarter)
        expected: dict[tuple[str, str], set[str]] = defaultdict(set)
        for task, _, _, eid, _, _ in (tuple(r.values()) for r in self.table("draws.csv")):
            if task in policy.tasks:
                expected[(eid, policy.tasks[task].department)].add(task)
        visits = {(r["enterprise_id"], r["department"]): r["tasks"]
                  for r in self.table("visits.csv")}
        problems = [f"visits.csv: {eid} ({dept}) carries out {visits.get((eid, dept))!r}, the "
                    f"draws give {';'.join(sorted(expected.get((eid, dept), ()))) or 'no visit'}"
                    for eid, dept in sorted(set(visits) | set(expected))
                    if visits.get((eid, dept)) != ";".join(sorted(expected.get((eid, dept), ())))]
        self.check("visits", problems, f"{len(visits)} visits (进一次门) are the draws grouped "
                   "by enterprise and department")

        teams: dict[tuple[str, str], list[str]] = defaultdict(list)
        costs = []
        for row in self.table("assignments.csv"):
            eid, dept, officer = row["enterprise_id"], row["department"], row["inspector_id"]
            teams[(eid, dept)].append(officer)
            cost = assign_cost(self.assign, seed_digest, q, eid, officer)
            if row["cost"] != str(cost):
                costs.append(f"assignments.csv: the cost of {officer} on {eid} is "
                             f"{row['cost']}, {self.assign} gives {cost}")
        problems = []
        load: Counter[str] = Counter()
        for (eid, dept), members in sorted(teams.items()):
            load.update(members)
            if (eid, dept) not in visits or eid not in enterprises:
                problems.append(f"assignments.csv: {eid} ({dept}) has a team but no visit")
                continue
            tasks = [t for t in visits[(eid, dept)].split(";") if t]
            quals = frozenset(policy.tasks[t].qualification for t in tasks
                              if t in policy.tasks and policy.tasks[t].qualification)
            lawful = staffing.lawful(eid, enterprises[eid]["jurisdiction"], dept, quals)
            if len(members) != policy.team_size or len(set(members)) != len(members):
                problems.append(f"the visit to {eid} ({dept}) has {len(set(members))} distinct "
                                f"officer(s) in {len(members)} row(s), not {policy.team_size}")
            problems += [f"officer {m} may not inspect {eid} for {dept} (department, "
                         "jurisdiction, qualification, 执法证 or 回避)"
                         for m in members if m not in lawful]
        problems += [f"the visit to {eid} ({dept}) has no team"
                     for eid, dept in sorted(set(visits) - set(teams))]
        problems += [f"officer {o} has {n} visits, above the capacity of "
                     f"{self.officers[o].capacity if o in self.officers else 0}"
                     for o, n in sorted(load.items())
                     if n > (self.officers[o].capacity if o in self.officers else 0)]
        self.check("teams", problems, f"each of {len(teams)} teams has exactly "
                   f"{policy.team_size} distinct lawful officers, within every capacity")
        self.check(self.assign, costs, f"{sum(map(len, teams.values()))} costs in "
                   "assignments.csv reproduce (that the teams are the cheapest is for "
                   "`spotcheck verify`)")

    def _check_cap_bound(self, policy: Policy, quarter: Quarter,
                         enterprises: dict[str, dict[str, str]]) -> None:
        """Check no enterprise ends the plan past its annual cap."""
        q = str(quarter)
        plan: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for visit in self.table("visits.csv"):
            plan[visit["enterprise_id"]].add((visit["department"], q))
        problems = []
        for eid, pairs in sorted(plan.items()):
            cap = policy.caps.get(enterprises.get(eid, {}).get("tier", ""))
            total = self.cap_pairs[eid] | pairs
            if cap is not None and len(total) > cap:
                problems.append(f"{eid}: {len(total)} inspections in {quarter.year} "
                                f"({', '.join(' '.join(p) for p in sorted(total))}), above its "
                                f"annual cap of {cap}")
        self.check("annual cap", problems, f"no enterprise of the {len(plan)} visited is past "
                   "its annual cap, counting history, other plans and this plan")

    def _check_experts(self, policy: Policy, quarter: Quarter, seed_digest: str,
                       enterprises: dict[str, dict[str, str]], staffing: Staffing) -> None:
        """Check experts.csv and expert_gaps.csv against the visits and the lawful experts."""
        need: dict[tuple[str, str], tuple[int, frozenset[str]]] = {}
        for visit in self.table("visits.csv"):
            asking = [policy.tasks[t] for t in visit["tasks"].split(";")
                      if t in policy.tasks and policy.tasks[t].experts]
            if asking:
                need[(visit["enterprise_id"], visit["department"])] = (
                    max(t.experts for t in asking),
                    frozenset(t.expert_qualification for t in asking if t.expert_qualification))
        problems = []
        got: Counter[tuple[str, str]] = Counter()
        load: Counter[str] = Counter()
        for row in self.table("experts.csv"):
            key = (row["enterprise_id"], row["department"])
            expert = row["inspector_id"]
            got[key] += 1
            load[expert] += 1
            if key not in need or expert not in staffing.expert_pool(
                    key[0], enterprises.get(key[0], {}).get("jurisdiction", "-"), key[1],
                    need[key][1]):
                problems.append(f"experts.csv: {expert} may not join the visit to {key[0]} "
                                f"({key[1]}) as an expert (专家)")
            cost = assign_cost(self.assign, seed_digest, str(quarter), key[0], expert)
            if row["cost"] != str(cost):
                problems.append(f"experts.csv: the cost of {expert} on {key[0]} is "
                                f"{row['cost']}, {self.assign} gives {cost}")
        problems += [f"experts.csv: {o} joins {n} visits, above the capacity of "
                     f"{self.officers[o].capacity if o in self.officers else 0}"
                     for o, n in sorted(load.items())
                     if n > (self.officers[o].capacity if o in self.officers else 0)]
        gaps = {(r["enterprise_id"], r["department"]): r for r in self.table("expert_gaps.csv")}
        for key, (wanted, _) in sorted(need.items()):
            gap = gaps.pop(key, None)
            if got[key] > wanted:
                problems.append(f"experts.csv: the visit to {key[0]} has {got[key]} experts, "
                                f"its tasks ask for {wanted}")
            elif got[key] < wanted and (gap is None or (gap["needed"], gap["drawn"]) != (
                    str(wanted), str(got[key]))):
                problems.append(f"expert_gaps.csv does not record the visit to {key[0]} "
                                f"({key[1]}) with {got[key]} of {wanted} experts")
            elif got[key] == wanted and gap is not None:
                problems.append(f"expert_gaps.csv lists {key[0]}, whose experts are complete")
        problems += [f"expert_gaps.csv lists {k[0]} ({k[1]}), no visit needing experts"
                     for k in sorted(gaps)]
        self.check("experts", problems, f"{sum(got.values())} experts (专家) are lawful, within "
                   "need and capacity and priced by the assign rule; every place left empty is "
                   "in expert_gaps.csv (that they fill the most places at the least cost is "
                   "for `spotcheck verify`)")

    def _check_counts(self, manifest: dict[str, Any]) -> None:
        counts = manifest.get("counts")
        counts = counts if isinstance(counts, dict) else {}
        files = {"strata": "strata.csv", "draws": "draws.csv", "skipped": "skipped.csv",
                 "visits": "visits.csv", "assignments": "assignments.csv",
                 "enterprises": "inputs/enterprises.csv", "inspectors": "inputs/inspectors.csv",
                 "conflicts": "inputs/conflicts.csv", "history": "inputs/history.csv"}
        found: dict[str, int] = {key: len(self.table(name)) for key, name in files.items()}
        found["total_cost"] = sum(int(r["cost"]) for r in self.table("assignments.csv")
                                  if r["cost"].isdigit())
        problems = [f"counts.{key} is {counts.get(key)!r}, the files give {value}"
                    for key, value in found.items() if counts.get(key) != value]
        self.check("counts", problems, "the manifest's counts match the files")


def _differences(name: str, written: Iterable[tuple[str, ...]],
                 expected: Iterable[tuple[str, ...]], extra: str, missing: str) -> list[str]:
    """Return one line per row found only in the file or only in the recomputation."""
    have, want = Counter(written), Counter(expected)
    return ([f"{name}: {','.join(row)} {extra}" for row in sorted(have - want)]
            + [f"{name}: {','.join(row)} {missing}" for row in sorted(want - have)])


def main(argv: list[str]) -> int:
    """Check the bundle named on the command line; return the exit status."""
    if argv in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    path = Path(argv[0]) if len(argv) == 1 else None
    if path is None or not (path.is_dir() or (path.is_file() and zipfile.is_zipfile(path))):
        print("usage: python3 verify_draws.py BUNDLE   (an audit bundle folder or .zip)"
              + (f"\nverify_draws.py: {path} is not a folder or a .zip" if path else ""),
              file=sys.stderr)
        return 2
    try:
        audit = Audit(read_bundle(path))
    except (BundleError, zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        print(f"FAIL  bundle: {exc}\nDRAWS DO NOT REPRODUCE: the bundle cannot be read")
        return 1
    if audit.run():
        print("ALL DRAWS REPRODUCE")
        return 0
    print(f"DRAWS DO NOT REPRODUCE: {len(audit.failed)} check(s) failed "
          f"({', '.join(audit.failed)})")
    return 1

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
