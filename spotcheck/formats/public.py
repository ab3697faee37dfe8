"""The public files of 一公开 (DESIGN §10): the plan notice and the drawn list, from a bundle.

What may be published is listed here column by column, and nothing else is ever written:
no tier or tier label, stratum, rank, population or eligible count, capacity, recusal,
history or certificate data. Both files are written as CSV (UTF-8 with BOM, so Excel opens
it) and XLSX, with Chinese headers and formula-safe cells (`formats.spreadsheet`).

- `plan_notice` (抽查计划公示), one row per task: NOTICE_COLUMNS.
- `drawn_list` (抽查名单), one row per drawn (task, enterprise), sorted by task, then
  enterprise id: DRAWN_COLUMNS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spotcheck.errors import InvalidInputError
from spotcheck.formats.bundle import HEADERS, Bundle, bundle_fingerprint, read_table
from spotcheck.formats.spreadsheet import Sheet, csv_for_people, xlsx_bytes
from spotcheck.models.policy import Policy, parse_policy
from spotcheck.models.quarter import Quarter

NOTICE = "plan_notice"
DRAWN = "drawn_list"
NOTICE_COLUMNS = ("抽查计划编号", "抽查计划名称", "抽查任务编号", "抽查任务名称", "抽查类型",
                  "抽查机关", "抽查期间", "随机种子", "冻结指纹", "抽查计划指纹")
DRAWN_COLUMNS = ("抽查任务编号", "统一社会信用代码", "市场主体名称")
# published results (抽查结果公示), one row per result version published
RESULT_COLUMNS = ("抽查计划编号", "抽查任务编号", "抽查任务名称", "抽查机关", "统一社会信用代码",
                  "市场主体名称", "检查完成日期", "检查结果", "备注")
TITLES = {NOTICE: "抽查计划公示", DRAWN: "抽查名单"}
PUBLIC_FILES = tuple(f"{name}.{ext}" for name in (NOTICE, DRAWN) for ext in ("csv", "xlsx"))
NOT_FROZEN = "未冻结"


@dataclass(frozen=True)
class PublicPlan:
    """The two public tables of one plan, as rows of text."""

    notice: Sequence[tuple[str, ...]]
    drawn: Sequence[tuple[str, str, str]]

    def files(self) -> dict[str, bytes]:
        """Return the public files by name: each table as CSV and as XLSX."""
        tables: dict[str, tuple[tuple[str, ...], Sequence[Sequence[str]], tuple[int, ...]]] = {
            NOTICE: (NOTICE_COLUMNS, self.notice, (22, 28, 14, 24, 8, 24, 24, 34, 18, 66)),
            DRAWN: (DRAWN_COLUMNS, self.drawn, (14, 22, 40))}
        files: dict[str, bytes] = {}
        for name, (header, rows, widths) in tables.items():
            files[f"{name}.csv"] = csv_for_people(header, rows)
            files[f"{name}.xlsx"] = xlsx_bytes([Sheet(TITLES[name], header, rows, widths)])
        return files


def check_type(task: Any) -> str:
    """Return 抽查类型: the task's `check_type`, else 定向 for a scoped task, else 不定向."""
    explicit = getattr(task, "check_type", "")
    if explicit:
        return str(explicit)
    return "定向" if task.jurisdictions or task.industries else "不定向"


def authority(policy: Policy, task: Any) -> str:
    """Return 抽查机关: the task's `authority`, else the policy's."""
    return str(getattr(task, "authority", "") or getattr(policy, "authority", "") or "")


def public_plan(bundle: Bundle, bundle_path: str | Path) -> PublicPlan:
    """Return the plan notice and drawn list of a bundle (read from the bundle alone)."""
    manifest = bundle.manifest
    try:
        policy = parse_policy(bundle.files["policy.toml"].decode("utf-8-sig"), "policy.toml")
    except UnicodeDecodeError:
        raise InvalidInputError("policy.toml: the bundle's policy is not UTF-8 text") from None
    quarter = Quarter.parse(str(manifest["quarter"]))
    freeze = manifest.get("freeze") or {}
    fingerprint = bundle_fingerprint(bundle_path)
    period = f"{quarter.start.isoformat()}至{quarter.end.isoformat()}"
    notice = [(str(manifest["plan_id"]), policy.name, task.code, task.name, check_type(task),
               authority(policy, task), period, str(manifest["seed"]),
               str(freeze.get("fingerprint") or NOT_FROZEN), fingerprint)
              for task in sorted(policy.tasks, key=lambda t: t.code)]
    names = _enterprise_names(bundle)
    draws = read_table("draws.csv", bundle.files["draws.csv"])
    header = HEADERS["draws.csv"]
    task_at, id_at = header.index("task"), header.index("enterprise_id")
    pairs = sorted({(row[task_at], row[id_at]) for row in draws})
    drawn = [(task, enterprise, names[enterprise]) for task, enterprise in pairs]
    return PublicPlan(notice, drawn)


def _enterprise_names(bundle: Bundle) -> dict[str, str]:
    rows = read_table("inputs/enterprises.csv", bundle.files["inputs/enterprises.csv"])
    header = HEADERS["inputs/enterprises.csv"]
    id_at, name_at = header.index("enterprise_id"), header.index("name")
    return {row[id_at]: row[name_at] for row in rows}


def write_public(files: dict[str, bytes], out: Path) -> list[Path]:
    """Write the public files into folder `out` (created; existing public files refused)."""
    out.mkdir(parents=True, exist_ok=True)
    clashes = sorted(name for name in files if (out / name).exists())
    if clashes:
        raise InvalidInputError(f"{out}: already holds {', '.join(clashes)}; choose another "
                                "--out (a publication is never overwritten)")
    written = []
    for name in sorted(files):
        (out / name).write_bytes(files[name])
        written.append(out / name)
    return written
