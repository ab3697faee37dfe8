"""Import sequences against an in-memory model: the database always holds what it should.

A Hypothesis state machine imports enterprise and inspector snapshots, appends conflicts
and history, and tries files with a bad row; after every step the registry read back from
the database must equal the model, and a refused file must change nothing.
"""

from __future__ import annotations

import csv
import tempfile
from datetime import date
from pathlib import Path

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from spotcheck import store
from spotcheck.errors import InvalidInputError
from spotcheck.formats.registry_files import (
    read_conflicts,
    read_enterprises,
    read_history,
    read_inspectors,
)
from spotcheck.models.identifiers import uscc_check_character
from spotcheck.store.database import create_db_and_tables, get_engine


def _code(serial: int) -> str:
    body = f"91330102{serial:09d}"
    return body + uscc_check_character(body)


CODES = [_code(n) for n in range(1, 13)]
OFFICERS = [f"INS-{n}" for n in range(1, 7)]
E_HEAD = ["统一社会信用代码", "企业名称", "行政区划代码", "行业代码", "信用风险分类"]
I_HEAD = ["执法证号", "姓名", "部门", "管辖区划", "执法领域", "季度检查上限", "执法证有效期"]

enterprise_rows = st.dictionaries(
    st.sampled_from(CODES),
    st.tuples(st.sampled_from(["甲公司", "乙商行", "丙, 分店"]),
              st.sampled_from(["330102", "330105"]), st.sampled_from(["F5211", "C3411", ""]),
              st.sampled_from("ABCD")),
    min_size=1)
inspector_rows = st.dictionaries(
    st.sampled_from(OFFICERS),
    st.tuples(st.sampled_from(["SCJG", "TZSB"]), st.sampled_from(["3301", "330102"]),
              st.integers(0, 9)),
    min_size=1)


class RegistryMachine(RuleBasedStateMachine):
    """The database against a model of the four registries."""

    @initialize()
    def open_database(self) -> None:
        """Start from an empty SQLite database."""
        self.folder = Path(tempfile.mkdtemp(prefix="spotcheck-stateful-"))
        self.engine = get_engine(f"sqlite:///{self.folder / 'db.sqlite'}")
        create_db_and_tables(self.engine)
        self.enterprises: dict[str, tuple[str, str, str, str]] = {}
        self.inspectors: dict[str, tuple[str, str, int]] = {}
        self.conflicts: set[tuple[str, str, str]] = set()
        self.history: set[tuple[str, str, str, str]] = set()
        self.files = 0

    def _write(self, header: list[str], rows: list[list[str]]) -> Path:
        self.files += 1
        path = self.folder / f"file{self.files}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        return path

    @rule(rows=enterprise_rows)
    def import_enterprises(self, rows: dict[str, tuple[str, str, str, str]]) -> None:
        """A full enterprise snapshot replaces the stored one."""
        path = self._write(E_HEAD, [[k, *v] for k, v in rows.items()])
        store.import_enterprises(self.engine, read_enterprises(path, tiers="ABCD"))
        self.enterprises = dict(rows)

    @rule(rows=enterprise_rows, bad=st.sampled_from(["913301020000000018", "ABC", "330102"]))
    def refuse_enterprises_with_a_bad_row(self, rows: dict[str, tuple[str, str, str, str]],
                                          bad: str) -> None:
        """A snapshot with one bad code is refused and changes nothing."""
        lines = [[k, *v] for k, v in rows.items()] + [[bad, "坏行", "330102", "", "A"]]
        path = self._write(E_HEAD, lines)
        try:
            store.import_enterprises(self.engine, read_enterprises(path, tiers="ABCD"))
        except InvalidInputError as exc:
            assert f"{path}:{len(lines) + 1}:" in str(exc)
        else:
            raise AssertionError("a file with a bad row was accepted")

    @rule(rows=inspector_rows)
    def import_inspectors(self, rows: dict[str, tuple[str, str, int]]) -> None:
        """A full inspector snapshot replaces the stored one."""
        path = self._write(I_HEAD, [[k, f"执法员{k}", d, j, "食品安全", str(c), "2028-01-01"]
                                    for k, (d, j, c) in rows.items()])
        store.import_inspectors(self.engine, read_inspectors(path))
        self.inspectors = dict(rows)

    @rule(data=st.data())
    def append_conflicts(self, data: st.DataObject) -> None:
        """Conflicts naming known parties are appended; exact duplicates are ignored."""
        if not self.enterprises or not self.inspectors:
            return
        rows = data.draw(st.lists(st.tuples(st.sampled_from(sorted(self.inspectors)),
                                            st.sampled_from(sorted(self.enterprises)),
                                            st.sampled_from(["亲属", "曾任职"])),
                                  min_size=1, max_size=4))
        path = self._write(["执法证号", "统一社会信用代码", "回避原因"], [list(r) for r in rows])
        store.import_conflicts(self.engine, read_conflicts(
            path, inspector_ids=set(self.inspectors), enterprise_ids=set(self.enterprises)))
        self.conflicts |= set(rows)

    @rule(rows=st.lists(st.tuples(st.sampled_from(CODES), st.sampled_from(["GS-QY", "SP-JY"]),
                                  st.sampled_from(["SCJG", ""]),
                                  st.dates(date(2025, 1, 1), date(2026, 12, 31))), min_size=1,
                          max_size=4))
    def append_history(self, rows: list[tuple[str, str, str, date]]) -> None:
        """History rows are appended; exact duplicates are ignored."""
        path = self._write(["统一社会信用代码", "抽查任务", "部门", "检查日期"],
                           [[e, t, d, day.isoformat()] for e, t, d, day in rows])
        store.import_history(self.engine, read_history(path, today=date(2026, 12, 31)))
        self.history |= {(e, t, d, day.isoformat()) for e, t, d, day in rows}

    @invariant()
    def database_matches_model(self) -> None:
        """What the database holds is exactly the model's registries."""
        if not hasattr(self, "engine"):
            return
        registry = store.load_registry(self.engine)
        ent = registry.enterprises
        stored = {ent.ids[i].decode(): (ent.names[i], ent.jurisdictions[i].decode(),
                                        ent.industries[i].decode(), ent.tiers[i].decode())
                  for i in range(len(ent))}
        assert stored == self.enterprises
        assert {o.inspector_id: (o.department, o.jurisdiction, o.capacity)
                for o in registry.inspectors} == self.inspectors
        live = {c for c in self.conflicts
                if c[0] in self.inspectors and c[1] in self.enterprises}
        assert {(c.inspector_id, c.enterprise_id, c.reason)
                for c in registry.conflicts} == live
        assert {(r.enterprise_id, r.task, r.department, r.inspected_on.isoformat())
                for r in registry.history.records()} == self.history


TestRegistryMachine = RegistryMachine.TestCase
