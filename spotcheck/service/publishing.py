"""一公开 from the service layer: publish a plan's notice and drawn list, check a public folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spotcheck.audit.public_check import PublicReport, check_public
from spotcheck.formats.archive import read_on_trust
from spotcheck.formats.bundle import read_bundle
from spotcheck.formats.public import public_plan, write_public
from spotcheck.service.results import JsonResult

PathLike = str | Path


@dataclass(frozen=True)
class PublishedPlan(JsonResult):
    """`publish plan`: the public files written, and what they list."""

    bundle: Path
    out: Path
    files: tuple[Path, ...]
    tasks: int
    drawn: int


def publish_plan(bundle: PathLike, out: PathLike) -> PublishedPlan:
    """Write the plan notice and drawn list (CSV with BOM and XLSX) from the bundle alone.

    Nothing §10 withholds is written (no tier, stratum, rank or per-tier count); existing
    public files in `out` are never overwritten.
    """
    source = Path(bundle)
    with read_on_trust(source):
        public = public_plan(read_bundle(source), source)
    written = write_public(public.files(), Path(out))
    return PublishedPlan(source, Path(out), tuple(written), len(public.notice),
                         len(public.drawn))


def verify_public(bundle: PathLike, folder: PathLike) -> PublicReport:
    """Return whether a public folder matches its bundle (see `audit.public_check`)."""
    with read_on_trust(bundle):
        return check_public(bundle, folder)
