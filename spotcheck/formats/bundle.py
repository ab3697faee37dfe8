"""The audit bundle (format spotcheck-audit/1, DESIGN §7): a plan's files and manifest.

Every CSV is UTF-8 without BOM, `\\n` line ends, a header row and a documented order, so
the same plan always gives the same bytes (`formats.tables`). Files beyond DESIGN §7, covered
by the manifest like the rest: `visits.csv` (which tasks each team carries out),
`shortfalls.csv` (each stratum drawn below its target, with the binding reason) and
`events.jsonl` (the event log through the plan's event, docs/CEREMONY.md). `manifest.sig`,
when present, signs the exact bytes of manifest.json (audit.signing). The .zip form is
byte-reproducible: its SHA-256 is the bundle's fingerprint to publish (`formats.archive`).

This module builds a bundle from a plan; the names callers use to read, write and check
bundles are re-exported here from the modules that define them.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from spotcheck.formats.archive import BUNDLE_FILES as BUNDLE_FILES
from spotcheck.formats.archive import EVENTS_FILE as EVENTS_FILE
from spotcheck.formats.archive import FORMAT as FORMAT
from spotcheck.formats.archive import INPUT_FILES as INPUT_FILES
from spotcheck.formats.archive import OPTIONAL_INPUT_FILES as OPTIONAL_INPUT_FILES
from spotcheck.formats.archive import OPTIONAL_OUTPUT_FILES as OPTIONAL_OUTPUT_FILES
from spotcheck.formats.archive import OUTPUT_FILES as OUTPUT_FILES
from spotcheck.formats.archive import SIGNATURE_FILE as SIGNATURE_FILE
from spotcheck.formats.archive import Bundle as Bundle
from spotcheck.formats.archive import begin_writing as begin_writing
from spotcheck.formats.archive import bundle_fingerprint as bundle_fingerprint
from spotcheck.formats.archive import digest as digest
from spotcheck.formats.archive import read_bundle as read_bundle
from spotcheck.formats.archive import write_bundle as write_bundle
from spotcheck.formats.archive import zip_bytes as zip_bytes
from spotcheck.formats.archive import zip_folder as zip_folder
from spotcheck.formats.inputs import input_files as input_files
from spotcheck.formats.inputs import input_names as input_names
from spotcheck.formats.inputs import noncanonical_inputs as noncanonical_inputs
from spotcheck.formats.inputs import registry_from_bundle as registry_from_bundle
from spotcheck.formats.tables import HEADERS as HEADERS
from spotcheck.formats.tables import columns_csv_bytes as columns_csv_bytes
from spotcheck.formats.tables import csv_bytes as csv_bytes
from spotcheck.formats.tables import read_table as read_table
from spotcheck.formats.tables import table_bytes
from spotcheck.formats.tables import table_columns as table_columns
from spotcheck.models.events import Event, events_jsonl
from spotcheck.models.policy import Policy
from spotcheck.models.registry import Registry
from spotcheck.scheduler.hashes import ASSIGN_V1
from spotcheck.scheduler.plan import Plan


def workload_field(plan: Plan) -> dict[str, Any]:
    """Return the manifest's `workload` entry: the balance cap of each part of the staffing
    network of a plan whose policy sets workload = "balanced" (nothing otherwise)."""
    if plan.balance_caps is None:
        return {}
    return {"workload": {"rule": "balanced", "caps": [
        {"first_officer": c.first_officer, "officers": c.officers, "percent": c.percent}
        for c in plan.balance_caps]}}


class Signer(Protocol):
    """What signs a manifest: `spotcheck.audit.signing.Signer` (the bureau's Ed25519 key)."""

    @property
    def fingerprint(self) -> str:
        """Return the SHA-256 of the public key, written into the manifest."""
        ...

    def sign(self, data: bytes) -> bytes:
        """Return the manifest.sig file for these manifest bytes."""
        ...


ALLOCATION_RULE = "alloc-v1"


def output_names(policy: Policy) -> tuple[str, ...]:
    """Return the result files of a plan under this policy: OUTPUT_FILES, and those of the
    optional keys it sets (annual_cap: capped.csv; a task's experts: experts.csv and
    expert_gaps.csv; shortfall_advice: shortfall_groups.csv)."""
    return (*OUTPUT_FILES,
            *(("capped.csv",) if policy.annual_caps else ()),
            *(("experts.csv", "expert_gaps.csv") if policy.expert_tasks else ()),
            *(("shortfall_groups.csv",) if policy.shortfall_advice else ()))


def output_files(plan: Plan) -> dict[str, bytes]:
    """Return the canonical result files of a plan (output_names of its policy)."""
    tables = {
        "strata.csv": plan.strata, "draws.csv": plan.draws, "skipped.csv": plan.skipped,
        "assignments.csv": plan.assignments, "visits.csv": plan.visits,
        "shortfalls.csv": [s for s in plan.strata if s.drawn < s.target],
        "capped.csv": plan.capped, "experts.csv": plan.experts,
        "expert_gaps.csv": plan.expert_gaps, "shortfall_groups.csv": plan.advice}
    return {name: table_bytes(name, tables[name]) for name in output_names(plan.policy)}


def plan_identifier(quarter: str, seed_hash: str, inputs: dict[str, str],
                    assign: str) -> str:
    """Return the plan id: a digest of the quarter, the seed, every input file's digest and
    the assign rule (left out for assign-v1, so every earlier plan keeps its id, while the
    same inputs planned by another rule are another plan)."""
    parts = [f"{name}={inputs[name]}" for name in sorted(inputs)]
    rule = "" if assign == ASSIGN_V1 else f":{assign}"
    return digest(f"plan-v1:{quarter}:{seed_hash}:{':'.join(parts)}{rule}".encode())[:20]


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
    files = dict(inputs) if inputs is not None else \
        input_files(registry, policy_bytes, plan.policy)
    files.update(output_files(plan))
    return files


def build_bundle(plan: Plan, registry: Registry, policy_bytes: bytes, *,
                 created_at: str | None = None,
                 software: dict[str, str] | None = None,
                 files: dict[str, bytes] | None = None,
                 provenance: Provenance | None = None,
                 signer: Signer | None = None,
                 digests: Mapping[str, str] | None = None) -> Bundle:
    """Return the plan's audit bundle; `created_at` is the only field that records a time.

    `files` are the plan's bundle_files when already made, `digests` the SHA-256 of some of
    them when already computed (file name → hex). Without `provenance` the manifest says
    "freeze": null (the draw cannot be shown unsteerable); with `signer` the bundle carries
    manifest.sig.
    """
    files = dict(files) if files is not None else bundle_files(plan, registry, policy_bytes)
    known = dict(digests or {})

    def sha256(name: str) -> str:
        return known.get(name) or digest(files[name])

    inputs = {name: sha256(name) for name in input_names(plan.policy)}
    provenance = provenance or Provenance(())
    if provenance.events:
        files[EVENTS_FILE] = events_jsonl(provenance.events)
    manifest = {
        "format": FORMAT,
        "plan_id": plan_identifier(plan.quarter, plan.seed_hash, inputs, plan.assign),
        "quarter": plan.quarter,
        "seed": plan.seed,
        "seed_hash": plan.seed_hash,
        "algorithms": plan.algorithms,
        "allocation_rule": ALLOCATION_RULE,
        "policy": plan.policy.as_manifest(),
        "inputs": inputs,
        "outputs": {name: sha256(name) for name in output_names(plan.policy)},
        **workload_field(plan),
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
