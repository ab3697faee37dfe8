"""The columns of the files a bureau imports (DESIGN §4 and §10), declared once.

For each kind of file: every column's English name, its Chinese aliases (the header a planner
may write instead) and whether every row must fill it, in canonical order. Reading an import
file maps its header by this table (`formats.import_table`; `formats.registry_values` adds
each column's value rule); the bundle's inputs/*.csv are written under these names in this order
(`formats.tables`); an enterprise chunk's five sequences come in this order
(`models.registry`). The registry records (`models.domain`) have fields of the same names,
in the same order, which tests/test_registry_files.py checks; a results file's `result` is
a ResultRecord's `codes`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Column:
    """A column an import file may have."""

    name: str                  # the English name, as the bundle writes it
    aliases: tuple[str, ...]   # Chinese headers accepted for it
    required: bool = True      # present and non-empty on every row


_ENTERPRISE_ID = Column("enterprise_id", ("统一社会信用代码",))
_INSPECTOR_ID = Column("inspector_id", ("执法证号",))

IMPORT_COLUMNS: dict[str, tuple[Column, ...]] = {
    "enterprises": (
        _ENTERPRISE_ID,
        Column("name", ("企业名称", "市场主体名称")),
        Column("jurisdiction", ("行政区划代码", "管辖区划")),
        Column("industry", ("行业代码",), required=False),
        Column("tier", ("信用风险分类", "风险分类")),
    ),
    "inspectors": (
        _INSPECTOR_ID,
        Column("name", ("姓名",)),
        Column("department", ("部门", "所属部门")),
        Column("jurisdiction", ("管辖区划",)),
        Column("qualifications", ("执法领域",), required=False),
        Column("capacity", ("季度检查上限",)),
        Column("certificate_expiry", ("执法证有效期",)),
        Column("role", ("角色",), required=False),
    ),
    "conflicts": (
        _INSPECTOR_ID,
        _ENTERPRISE_ID,
        Column("reason", ("回避原因",), required=False),
    ),
    "history": (
        _ENTERPRISE_ID,
        Column("task", ("抽查任务",)),
        Column("department", ("部门",), required=False),
        Column("inspected_on", ("检查日期",)),
        Column("inspectors", ("实际检查人员",), required=False),
    ),
    "results": (
        _ENTERPRISE_ID,
        Column("task", ("抽查任务编号", "抽查任务")),
        Column("completed_on", ("检查完成日期",)),
        Column("result", ("检查结果",)),
        Column("remarks", ("备注",), required=False),
        Column("inspectors", ("实际检查人员",), required=False),
    ),
}

# The four registries of a snapshot, each one an inputs/<kind>.csv of the audit bundle.
REGISTRY_KINDS = ("enterprises", "inspectors", "conflicts", "history")


# Columns added after the first release: an inputs/*.csv of the bundle carries one only when
# some row holds a value other than its default, so a snapshot without them is written, and
# verified, exactly as before they existed (formats.tables, docs/AUDIT.md).
OPTIONAL_INPUT_COLUMNS: dict[str, tuple[str, ...]] = {"inspectors": ("role",),
                                                      "history": ("inspectors",)}


def column_names(kind: str) -> tuple[str, ...]:
    """Return the English names of a kind of file's columns, in canonical order."""
    return tuple(column.name for column in IMPORT_COLUMNS[kind])


def base_column_names(kind: str) -> tuple[str, ...]:
    """Return column_names(kind) less the columns added since the first release."""
    return tuple(c for c in column_names(kind) if c not in OPTIONAL_INPUT_COLUMNS.get(kind, ()))
