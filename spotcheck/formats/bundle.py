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
import itertools
import json
import os
import platform
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NoReturn, Protocol

import numpy as np

from spotcheck.errors import InvalidInputError, SpotcheckError
from spotcheck.models.domain import Conflict, Inspector
from spotcheck.models.events import Event, events_jsonl
from spotcheck.models.registry import (
    CHUNK_ROWS,
    EnterpriseColumns,
    HistoryColumns,
    Registry,
    as_columns,
)
from spotcheck.scheduler.hashes import ALGORITHMS
from spotcheck.scheduler.plan import Plan


class Signer(Protocol):
    """What signs a manifest: `spotcheck.audit.signing.Signer` (the bureau's Ed25519 key)."""

    @property
    def fingerprint(self) -> str:
        """Return the SHA-256 of the public key, written into the manifest."""
        ...

    def sign(self, data: bytes) -> bytes:
        """Return the manifest.sig file for these manifest bytes."""
        ...

FORMAT = "spotcheck-audit/1"
ALLOCATION_RULE = "alloc-v1"
CSV_BATCH = 50_000  # rows formatted into CSV text at a time

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
    out = io.BytesIO()
    rows = itertools.chain([HEADERS[name]], rows)
    # formatted a batch at a time: the text of the whole file is never held as str
    while batch := list(itertools.islice(rows, CSV_BATCH)):
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(batch)
        out.write(text.getvalue().encode("utf-8"))
    return out.getvalue()  # BytesIO hands over its buffer: no second copy


def columns_csv_bytes(name: str, batches: Iterable[Sequence[list[str]]]) -> bytes:
    """Return a canonical CSV file (as csv_bytes writes it) of text given as batches of
    columns."""
    out = io.BytesIO()
    for piece in _csv_pieces(name, batches):
        out.write(piece)
    return out.getvalue()


def _csv_pieces(name: str, batches: Iterable[Sequence[list[str]]]) -> Iterator[bytes]:
    """Yield a canonical CSV file a batch at a time: the header line, then each batch of
    columns as text. A batch with no value to quote (no comma, quote, line break or NUL) is
    joined by commas directly, at twice the csv module's speed."""
    yield csv_bytes(name, ())
    for columns in batches:
        values = "".join(itertools.chain.from_iterable(columns))
        if any(mark in values for mark in _QUOTED):
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows(zip(*columns, strict=True))
            yield text.getvalue().encode("utf-8")
        elif columns[0]:
            yield ("\n".join(map(",".join, zip(*columns, strict=True))) + "\n").encode("utf-8")


_QUOTED = (",", '"', "\r", "\n", "\0")  # a value holding one may be written quoted


def _enterprise_batches(enterprises: EnterpriseColumns) -> Iterator[list[list[str]]]:
    """Yield the enterprises as batches of text columns, CSV_BATCH rows at a time."""
    for start in range(0, len(enterprises), CSV_BATCH):
        part = slice(start, start + CSV_BATCH)
        yield [enterprises.ids[part].astype("U18").tolist(), enterprises.names[part].tolist(),
               enterprises.jurisdictions[part].astype("U6").tolist(),
               enterprises.industries[part].astype("U8").tolist(),
               enterprises.tiers[part].astype("U16").tolist()]


def _history_batches(history: HistoryColumns) -> Iterator[list[list[str]]]:
    """Yield the past inspections as batches of text columns, CSV_BATCH rows at a time."""
    for start in range(0, len(history), CSV_BATCH):
        part = slice(start, start + CSV_BATCH)
        yield [history.enterprise_ids[part].astype("U18").tolist(),
               history.tasks[part].tolist(), history.departments[part].tolist(),
               history.dates[part].astype(str).tolist()]


def input_files(registry: Registry, policy_bytes: bytes) -> dict[str, bytes]:
    """Return the canonical input files of a registry snapshot and policy."""
    files = {"policy.toml": policy_bytes}
    for name in INPUT_FILES[1:]:
        out = io.BytesIO()
        for piece in _input_pieces(registry, name):
            out.write(piece)
        files[name] = out.getvalue()  # BytesIO hands over its buffer: no second copy
    return files


def noncanonical_inputs(registry: Registry, files: dict[str, bytes]) -> list[str]:
    """Return the names of the inputs/ files that differ from what input_files writes for
    this registry, comparing a batch at a time rather than writing a second copy."""
    differ = []
    for name in INPUT_FILES[1:]:
        data, at = memoryview(files.get(name, b"")), 0
        for piece in _input_pieces(registry, name):
            if data[at:at + len(piece)] != piece:
                break
            at += len(piece)
        else:
            if at == len(data):
                continue
        differ.append(name)
    return differ


def _input_pieces(registry: Registry, name: str) -> Iterator[bytes]:
    """Yield one of the canonical input files (inputs/...) of a registry a piece at a time."""
    if name == "inputs/enterprises.csv":
        return _csv_pieces(name, _enterprise_batches(registry.enterprises))
    if name == "inputs/history.csv":
        return _csv_pieces(name, _history_batches(registry.history))
    if name == "inputs/inspectors.csv":
        return iter([csv_bytes(name, (
            (o.inspector_id, o.name, o.department, o.jurisdiction, ";".join(o.qualifications),
             o.capacity, o.certificate_expiry.isoformat()) for o in registry.inspectors))])
    return iter([csv_bytes(name, ((c.inspector_id, c.enterprise_id, c.reason)
                                  for c in registry.conflicts))])


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
    return [row for columns in table_columns(name, data) for row in zip(*columns, strict=True)]


def table_columns(name: str, data: bytes) -> Iterator[list[list[str]]]:
    """Yield the data rows of one of a bundle's CSV files a chunk at a time, as columns;
    refuse it as read_table does (possibly after yielding some chunks).

    The canonical form is read without the csv module where it cannot differ from it:
    every line one record (no carriage return or NUL anywhere, each line holding a quote
    written exactly as csv writes that row), so a quote-free line is its fields joined by
    commas and the text can be cut into chunks at any line end.
    """
    width = len(HEADERS[name])
    header = (",".join(HEADERS[name]) + "\n").encode()
    if not (data.startswith(header) and data.endswith(b"\n") and b"\r" not in data
            and b"\0" not in data and _quoted_lines_are_records(data, width)):
        yield from _csv_columns(name, data, width)
        return
    start = len(header)
    while start < len(data):
        end = data.rfind(b"\n", start, start + _CHUNK_BYTES) + 1
        if end <= start:  # one line longer than a chunk
            end = data.find(b"\n", start) + 1
        yield _line_columns(name, data, start, end, width)
        start = end


_CHUNK_BYTES = 1 << 24  # bytes of a bundle table read at a time


def _quoted_lines_are_records(data: bytes, width: int) -> bool:
    """Return whether each line holding a quote is a row exactly as csv writes it."""
    at = data.find(b'"')
    while at >= 0:
        start, end = data.rfind(b"\n", 0, at) + 1, data.find(b"\n", at) + 1
        try:
            line = data[start:end].decode("utf-8")
            rows = list(csv.reader([line]))
        except (UnicodeDecodeError, csv.Error):
            return False
        if len(rows) != 1 or len(rows[0]) != width:
            return False
        written = io.StringIO()
        csv.writer(written, lineterminator="\n").writerow(rows[0])
        if written.getvalue() != line:
            return False
        at = data.find(b'"', end)
    return True


def _line_columns(name: str, data: bytes, start: int, end: int, width: int
                  ) -> list[list[str]]:
    """Return the lines data[start:end] (whole lines, each one record) as columns."""
    try:
        text = str(memoryview(data)[start:end], "utf-8")
    except UnicodeDecodeError:
        _refuse_table(name, data)
    raw = np.frombuffer(data, np.uint8, count=end - start, offset=start)
    ends = np.flatnonzero(raw == ord("\n"))
    if (data.find(b'"', start, end) >= 0
            or int(np.diff(ends, prepend=-1).max()) > csv.field_size_limit()):
        try:
            rows = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error:
            _refuse_table(name, data)
        if any(len(row) != width for row in rows):
            _refuse_table(name, data)
        return as_columns(rows, width)
    commas = np.searchsorted(np.flatnonzero(raw == ord(",")), ends)
    if bool((np.diff(commas, prepend=0) != width - 1).any()):
        _refuse_table(name, data)
    fields = text.replace("\n", ",").split(",")  # one empty field after the last line end
    return [fields[k:-1:width] for k in range(width)]


def _csv_columns(name: str, data: bytes, width: int) -> Iterator[list[list[str]]]:
    """Yield the data rows of a bundle table read by the csv module, decoding as it goes."""
    try:
        reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=""))
        if tuple(next(reader, ())) != HEADERS[name]:
            raise _Malformed
        while batch := list(itertools.islice(reader, CHUNK_ROWS)):
            if any(len(row) != width for row in batch):
                raise _Malformed
            yield as_columns(batch, width)
    except (UnicodeDecodeError, csv.Error, _Malformed):
        _refuse_table(name, data)


class _Malformed(Exception):
    """A bundle table's header or a row's width is wrong (_refuse_table says which)."""


def _refuse_table(name: str, data: bytes) -> NoReturn:
    """Raise the first problem of a bundle table as reading its whole text finds it: a bad
    byte or quote anywhere comes before a wrong header or row width."""
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
    raise SpotcheckError(f"{name} cannot be read")  # not reached: the caller found a problem


def registry_from_bundle(bundle: Bundle) -> Registry:
    """Return the registry snapshot recorded in a bundle's inputs/ files."""
    files = bundle.files
    missing = [n for n in INPUT_FILES if n not in files]
    if missing:
        raise SpotcheckError(f"the bundle lacks {', '.join(missing)}")
    name = "inputs/enterprises.csv"
    data = files[name]
    enterprises = EnterpriseColumns.from_chunks(table_columns(name, data), source=name,
                                                rows=max(data.count(b"\n") - 1, 0))
    inspectors = [Inspector(inspector_id=r[0], name=r[1], department=r[2], jurisdiction=r[3],
                            qualifications=tuple(q for q in r[4].split(";") if q),
                            capacity=int(r[5]), certificate_expiry=date.fromisoformat(r[6]))
                  for r in read_table("inputs/inspectors.csv", files["inputs/inspectors.csv"])]
    conflicts = [Conflict(inspector_id=r[0], enterprise_id=r[1], reason=r[2])
                 for r in read_table("inputs/conflicts.csv", files["inputs/conflicts.csv"])]
    name = "inputs/history.csv"
    data = files[name]
    history = HistoryColumns.from_chunks(table_columns(name, data), source=name,
                                         rows=max(data.count(b"\n") - 1, 0))
    return Registry.build(enterprises, inspectors, conflicts, history)
