"""Does a public folder match its audit bundle? (`spotcheck verify BUNDLE --public DIR`)

The public files are derived from the bundle (`formats.public`); this derives them again and
compares, cell by cell: every drawn (task, enterprise) listed exactly once, none added, none
left out, names as registered; every task's notice with the bundle's plan id, seed, freeze
fingerprint and bundle fingerprint; exactly the contract's columns, so nothing withheld by
§10 (a tier, a rank, a count per tier) can ride along in an extra column. The XLSX files,
where present, must say the same as the CSV files.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from spotcheck.formats.bundle import read_bundle
from spotcheck.formats.public import (
    DRAWN,
    DRAWN_COLUMNS,
    NOTICE,
    NOTICE_COLUMNS,
    public_plan,
)
from spotcheck.formats.spreadsheet import read_csv_for_people, read_xlsx_rows

MAX_SHOWN = 20  # mismatches of one kind listed before "… and N more"


@dataclass
class PublicReport:
    """The verdict on a public folder against its bundle."""

    bundle: str
    folder: str
    mismatches: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Return True when the folder is exactly what the bundle says may be published."""
        return not self.mismatches

    def lines(self) -> list[str]:
        """Return the verdict as lines."""
        if self.ok:
            shown = ", ".join(f"{k} {v}" for k, v in self.counts.items())
            return [f"PUBLIC FILES MATCH {self.folder} ↔ {self.bundle}: {shown}"]
        return [f"PUBLIC FILES DO NOT MATCH {self.folder} ↔ {self.bundle}: "
                f"{len(self.mismatches)} problem(s)", *(f"  - {m}" for m in self.mismatches)]


def _listed(report: PublicReport, what: str, items: list[str]) -> None:
    for item in items[:MAX_SHOWN]:
        report.mismatches.append(f"{what}: {item}")
    if len(items) > MAX_SHOWN:
        report.mismatches.append(f"{what}: … and {len(items) - MAX_SHOWN} more")


def _rows(report: PublicReport, folder: Path, name: str,
          header: tuple[str, ...]) -> list[tuple[str, ...]] | None:
    """Return a public table's data rows (from its CSV), checking its XLSX agrees."""
    path = folder / f"{name}.csv"
    if not path.is_file():
        report.mismatches.append(f"{path.name}: missing")
        return None
    try:
        table = read_csv_for_people(path.read_bytes())
    except (UnicodeDecodeError, ValueError) as exc:
        report.mismatches.append(f"{path.name}: not a UTF-8 CSV file ({exc})")
        return None
    if not table or tuple(table[0]) != header:
        found = table[0] if table else []
        extra = [c for c in found if c not in header]
        report.mismatches.append(f"{path.name}: columns {found} are not the contract's "
                                 f"{list(header)}" + (f" (not allowed: {extra})" if extra else ""))
        return None
    rows = [tuple(r) for r in table[1:]]
    sheet = folder / f"{name}.xlsx"
    if sheet.is_file():
        try:
            same = [tuple(r) for r in read_xlsx_rows(sheet.read_bytes())] == [header, *rows]
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            report.mismatches.append(f"{sheet.name}: cannot be read ({type(exc).__name__})")
            return rows
        if not same:
            report.mismatches.append(f"{sheet.name}: does not say the same as {path.name}")
    return rows


def check_public(bundle_path: str | Path, folder: str | Path) -> PublicReport:
    """Return whether the public folder is exactly what its bundle allows to publish."""
    source, target = Path(bundle_path), Path(folder)
    report = PublicReport(str(source), str(target))
    expected = public_plan(read_bundle(source), source)
    notice = _rows(report, target, NOTICE, NOTICE_COLUMNS)
    drawn = _rows(report, target, DRAWN, DRAWN_COLUMNS)
    if notice is not None:
        missing = sorted(set(expected.notice) - set(notice))
        added = sorted(set(notice) - set(expected.notice))
        _listed(report, f"{NOTICE}.csv: row the bundle gives but not published",
                [" | ".join(r) for r in missing])
        _listed(report, f"{NOTICE}.csv: row the bundle does not give",
                [" | ".join(r) for r in added])
    if drawn is not None:
        counts = Counter(drawn)
        wanted = set(expected.drawn)
        _listed(report, f"{DRAWN}.csv: listed more than once",
                sorted(f"{t} {e}" for (t, e, _), n in counts.items() if n > 1))
        _listed(report, f"{DRAWN}.csv: drawn but not listed",
                sorted(f"{t} {e}" for t, e, _ in wanted - set(counts)))
        _listed(report, f"{DRAWN}.csv: listed but not drawn as shown",
                sorted(f"{t} {e} {n}" for t, e, n in set(counts) - wanted))
    report.counts = {"tasks": len(expected.notice), "drawn": len(expected.drawn)}
    return report
