"""The audit bundle (format spotcheck-audit/1, DESIGN §7): canonical files and manifest.

Every CSV is UTF-8 without BOM, `\\n` line ends, a header row and a documented order, so
the same plan always gives the same bytes. Files beyond DESIGN §7, covered by the manifest
like the rest: `visits.csv` (which tasks each team carries out), `shortfalls.csv` (each
stratum drawn below its target, with the binding reason) and `events.jsonl` (the event log
through the plan's event, docs/CEREMONY.md). `manifest.sig`, when present, signs the exact
bytes of manifest.json (scheduler.signing). The .zip form is byte-reproducible: its SHA-256
is the bundle's fingerprint to publish.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import platform
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.domain import Conflict, HistoryRecord, Inspector

from .errors import InvalidInputError, SpotcheckError
from .events import Event, events_jsonl
from .hashes import ALGORITHMS
from .plan import Plan
from .registry import EnterpriseColumns, Registry

if TYPE_CHECKING:
    from .signing import Signer

FORMAT = "spotcheck-audit/1"
ALLOCATION_RULE = "alloc-v1"

HEADERS: dict[str, tuple[str, ...]] = {
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
}
INPUT_FILES = ("policy.toml", "inputs/enterprises.csv", "inputs/inspectors.csv",
               "inputs/conflicts.csv", "inputs/history.csv")
OUTPUT_FILES = ("strata.csv", "draws.csv", "skipped.csv", "assignments.csv", "visits.csv",
                "shortfalls.csv")
EVENTS_FILE = "events.jsonl"
SIGNATURE_FILE = "manifest.sig"
BUNDLE_FILES = frozenset(("manifest.json", *INPUT_FILES, *OUTPUT_FILES, EVENTS_FILE,
                          SIGNATURE_FILE))


def csv_bytes(name: str, rows: Iterable[Sequence[object]]) -> bytes:
    """Return a canonical CSV file: header, rows as given, UTF-8, `\\n` line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADERS[name])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def input_files(registry: Registry, policy_bytes: bytes) -> dict[str, bytes]:
    """Return the canonical input files of a registry snapshot and policy."""
    ent = registry.enterprises
    enterprises = zip(ent.ids.astype("U18").tolist(), ent.names.tolist(),
                      ent.jurisdictions.astype("U6").tolist(),
                      ent.industries.astype("U8").tolist(), ent.tiers.astype("U16").tolist(),
                      strict=True)
    inspectors = ((o.inspector_id, o.name, o.department, o.jurisdiction,
                   ";".join(o.qualifications), o.capacity, o.certificate_expiry.isoformat())
                  for o in registry.inspectors)
    conflicts = ((c.inspector_id, c.enterprise_id, c.reason) for c in registry.conflicts)
    hist = registry.history
    history = zip(hist.enterprise_ids.astype("U18").tolist(), hist.tasks.tolist(),
                  hist.departments.tolist(), hist.dates.astype(str).tolist(), strict=True)
    return {
        "policy.toml": policy_bytes,
        "inputs/enterprises.csv": csv_bytes("inputs/enterprises.csv", enterprises),
        "inputs/inspectors.csv": csv_bytes("inputs/inspectors.csv", inspectors),
        "inputs/conflicts.csv": csv_bytes("inputs/conflicts.csv", conflicts),
        "inputs/history.csv": csv_bytes("inputs/history.csv", history),
    }


def output_files(plan: Plan) -> dict[str, bytes]:
    """Return the canonical result files of a plan."""
    return {
        "strata.csv": csv_bytes("strata.csv", (
            (s.task, s.tier, s.jurisdiction, s.population, s.eligible, s.target, s.floor,
             s.allocated, s.drawn, s.shortfall) for s in plan.strata)),
        "draws.csv": csv_bytes("draws.csv", (
            (d.task, d.tier, d.jurisdiction, d.enterprise_id, d.ticket, d.rank)
            for d in plan.draws)),
        "skipped.csv": csv_bytes("skipped.csv", (
            (k.task, k.enterprise_id, k.ticket, k.reason) for k in plan.skipped)),
        "assignments.csv": csv_bytes("assignments.csv", (
            (a.enterprise_id, a.department, a.inspector_id, a.cost) for a in plan.assignments)),
        "visits.csv": csv_bytes("visits.csv", (
            (v.enterprise_id, v.department, ";".join(v.tasks)) for v in plan.visits)),
        "shortfalls.csv": csv_bytes("shortfalls.csv", (
            (s.task, s.tier, s.jurisdiction, s.target, s.allocated, s.drawn, s.shortfall,
             s.reason) for s in plan.strata if s.drawn < s.target)),
    }


def digest(data: bytes) -> str:
    """Return the SHA-256 of bytes as hex."""
    return hashlib.sha256(data).hexdigest()


def plan_identifier(quarter: str, seed_hash: str, inputs: dict[str, str]) -> str:
    """Return the plan id: a digest of the quarter, the seed and every input file's digest."""
    parts = [f"{name}={inputs[name]}" for name in sorted(inputs)]
    return digest(f"plan-v1:{quarter}:{seed_hash}:{':'.join(parts)}".encode())[:20]


def software_versions() -> dict[str, str]:
    """Return the versions of spotcheck, Python and every library a plan depends on."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in ("spotcheck", "numpy", "scipy", "ortools", "pydantic", "sqlmodel"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


@dataclass(frozen=True, eq=False)
class Bundle:
    """A bundle's files in memory: name → bytes, with the parsed manifest."""

    files: dict[str, bytes]

    @property
    def manifest(self) -> dict[str, Any]:
        """Return manifest.json parsed."""
        loaded: dict[str, Any] = json.loads(self.files["manifest.json"])
        return loaded


@dataclass(frozen=True)
class Provenance:
    """Where a plan's inputs and seed came from: the event chain through the plan's event,
    the freeze the inputs match and the ceremony's seed event (None when there was none)."""

    events: tuple[Event, ...]
    freeze: Event | None = None
    seed_event: Event | None = None

    def manifest_fields(self, events_file: bytes) -> dict[str, Any]:
        """Return the manifest's freeze, ceremony and events entries."""
        freeze = None if self.freeze is None else {
            "event": self.freeze.seq, "digest": self.freeze.payload.get("digest"),
            "fingerprint": self.freeze.payload.get("fingerprint")}
        ceremony = None if self.seed_event is None else {
            "event": self.seed_event.seq, "method": self.seed_event.payload.get("method")}
        events = None if not self.events else {
            "file": EVENTS_FILE, "count": len(self.events), "head": self.events[-1].hash,
            "sha256": digest(events_file)}
        return {"freeze": freeze, "ceremony": ceremony, "events": events}


def bundle_files(plan: Plan, registry: Registry, policy_bytes: bytes,
                 inputs: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """Return the bundle's input and result files (`inputs`: input_files already made)."""
    files = dict(inputs) if inputs is not None else input_files(registry, policy_bytes)
    files.update(output_files(plan))
    return files


def build_bundle(plan: Plan, registry: Registry, policy_bytes: bytes, *,
                 created_at: str | None = None,
                 software: dict[str, str] | None = None,
                 files: dict[str, bytes] | None = None,
                 provenance: Provenance | None = None,
                 signer: Signer | None = None) -> Bundle:
    """Return the plan's audit bundle; `created_at` is the only field that records a time.

    `files` are the plan's bundle_files when already made. Without `provenance` the
    manifest says "freeze": null (the draw cannot be shown unsteerable); with `signer` the
    bundle carries manifest.sig.
    """
    files = dict(files) if files is not None else bundle_files(plan, registry, policy_bytes)
    inputs = {name: digest(files[name]) for name in INPUT_FILES}
    provenance = provenance or Provenance(())
    if provenance.events:
        files[EVENTS_FILE] = events_jsonl(provenance.events)
    manifest = {
        "format": FORMAT,
        "plan_id": plan_identifier(plan.quarter, plan.seed_hash, inputs),
        "quarter": plan.quarter,
        "seed": plan.seed,
        "seed_hash": plan.seed_hash,
        "algorithms": dict(ALGORITHMS),
        "allocation_rule": ALLOCATION_RULE,
        "policy": plan.policy.as_manifest(),
        "inputs": inputs,
        "outputs": {name: digest(files[name]) for name in OUTPUT_FILES},
        **provenance.manifest_fields(files.get(EVENTS_FILE, b"")),
        "signer": None if signer is None else signer.fingerprint,
        "software": software if software is not None else software_versions(),
        "created_at": created_at,
        "counts": {
            "enterprises": len(registry.enterprises),
            "inspectors": len(registry.inspectors),
            "conflicts": len(registry.conflicts),
            "history": len(registry.history),
            "strata": len(plan.strata),
            "draws": len(plan.draws),
            "skipped": len(plan.skipped),
            "visits": len(plan.visits),
            "assignments": len(plan.assignments),
            "total_cost": plan.total_cost,
        },
    }
    files["manifest.json"] = (json.dumps(manifest, ensure_ascii=False, indent=2,
                                         sort_keys=True) + "\n").encode("utf-8")
    if signer is not None:
        files[SIGNATURE_FILE] = signer.sign(files["manifest.json"])
    return Bundle(files)


_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """Return the byte-reproducible .zip of these files: sorted names, fixed times and modes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


def bundle_fingerprint(path: str | Path) -> str:
    """Return the SHA-256 to publish for a bundle: of the .zip file itself, or for a folder
    of the .zip `spotcheck bundle zip` would make of it."""
    source = Path(path)
    if source.is_file():
        return digest(source.read_bytes())
    return digest(zip_bytes(read_bundle(source).files))


def zip_folder(folder: str | Path, out: str | Path) -> Path:
    """Write a bundle folder as its byte-reproducible .zip; return the .zip's path.

    Only bundle files may be in the folder: anything else (a private key above all) is
    refused rather than published.
    """
    source = Path(folder)
    if not source.is_dir():
        raise InvalidInputError(f"{source}: not a bundle folder")
    bundle = read_bundle(source)
    strangers = sorted(set(bundle.files) - BUNDLE_FILES)
    if strangers:
        raise InvalidInputError(f"{source}: {', '.join(strangers)} is not part of an audit "
                                "bundle; move it out of the folder (a private key must never "
                                "be published)")
    return write_bundle(bundle, out)


def write_bundle(bundle: Bundle, out: str | Path) -> Path:
    """Write the bundle to a folder (or a byte-reproducible .zip) and return its path.

    The folder is written beside its destination and renamed into place, so a reader never
    sees half a bundle; an existing non-empty destination is refused.
    """
    target = Path(out)
    if target.exists() and (target.is_file() or any(target.iterdir())):
        raise InvalidInputError(f"{target}: already exists and is not empty; choose another --out")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix.lower() == ".zip":
        staged = target.with_name(f".{target.name}.partial")
        try:
            staged.write_bytes(zip_bytes(bundle.files))
            os.replace(staged, target)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        return target
    staging = Path(tempfile.mkdtemp(prefix=".bundle-", dir=target.parent))
    try:
        for name, data in bundle.files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def read_bundle(path: str | Path) -> Bundle:
    """Return the files of a bundle folder or .zip, refusing anything that is not one."""
    source = Path(path)
    files: dict[str, bytes] = {}
    if source.is_file() and zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            for name in archive.namelist():
                if not name.endswith("/"):
                    files[name] = archive.read(name)
    elif source.is_dir():
        for item in sorted(source.rglob("*")):
            if item.is_file():
                files[item.relative_to(source).as_posix()] = item.read_bytes()
    else:
        raise SpotcheckError(f"{source}: not an audit bundle folder or .zip")
    if "manifest.json" not in files:
        raise SpotcheckError(f"{source}: no manifest.json, so this is not an audit bundle")
    return Bundle(files)


def read_table(name: str, data: bytes) -> list[tuple[str, ...]]:
    """Return the rows of one of a bundle's CSV files, refusing a wrong header or row width."""
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SpotcheckError(f"{name} cannot be read: {exc}") from exc
    if not rows or tuple(rows[0]) != HEADERS[name]:
        raise SpotcheckError(f"{name}: the header is not {','.join(HEADERS[name])}")
    width = len(HEADERS[name])
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            raise SpotcheckError(f"{name}:{number}: the row has {len(row)} field(s), "
                                 f"expected {width}")
    return [tuple(r) for r in rows[1:]]


def registry_from_bundle(bundle: Bundle) -> Registry:
    """Return the registry snapshot recorded in a bundle's inputs/ files."""
    files = bundle.files
    missing = [n for n in INPUT_FILES if n not in files]
    if missing:
        raise SpotcheckError(f"the bundle lacks {', '.join(missing)}")
    ent = read_table("inputs/enterprises.csv", files["inputs/enterprises.csv"])
    ids, names, jurisdictions, industries, tiers = (
        [r[i] for r in ent] for i in range(5))
    enterprises = EnterpriseColumns.from_lists(ids, names, jurisdictions, industries, tiers,
                                               source="inputs/enterprises.csv")
    inspectors = [Inspector(inspector_id=r[0], name=r[1], department=r[2], jurisdiction=r[3],
                            qualifications=tuple(q for q in r[4].split(";") if q),
                            capacity=int(r[5]), certificate_expiry=date.fromisoformat(r[6]))
                  for r in read_table("inputs/inspectors.csv", files["inputs/inspectors.csv"])]
    conflicts = [Conflict(inspector_id=r[0], enterprise_id=r[1], reason=r[2])
                 for r in read_table("inputs/conflicts.csv", files["inputs/conflicts.csv"])]
    history = [HistoryRecord(enterprise_id=r[0], task=r[1], department=r[2],
                             inspected_on=date.fromisoformat(r[3]))
               for r in read_table("inputs/history.csv", files["inputs/history.csv"])]
    return Registry.build(enterprises, inspectors, conflicts, history)
