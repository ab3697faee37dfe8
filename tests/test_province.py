"""The synthetic province of the benchmarks: deterministic, valid, province-shaped, importable."""

from __future__ import annotations

import hashlib
import re
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from builders import registry_fingerprint
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.plan_scale import check_teams
from benchmarks.province import (
    CITIES,
    DIVISIONS,
    PROVINCE_POLICY,
    PROVINCE_QUARTER,
    UNDERSTAFFED,
    officer_count,
    province_officers,
    province_registry,
    write_province_files,
)
from spotcheck.cli.main import main
from spotcheck.formats.registry_files import (
    read_conflicts,
    read_enterprises,
    read_history,
    read_inspectors,
)
from spotcheck.models.identifiers import INSPECTOR_ID, uscc_problem, uscc_valid_mask
from spotcheck.models.policy import load_policy
from spotcheck.models.registry import Registry
from spotcheck.scheduler.plan import plan_quarter

SIZE = 20_000
SEED = "20261001-0394857261-5520183746"
# sha256 of province_registry(2_000) written out field by field (see
# builders.registry_fingerprint), and of the enterprises file write_province_files writes for it
PINNED_REGISTRY = "41ef7becef5a8bd2554f36d0daaf35543cad6bcc3fe49f129a8604088aee5cb0"
PINNED_ENTERPRISES_CSV = "75ea1d6ba8865addd464baeacebf5733053ad9e277758a585579313d19165e30"


@pytest.fixture(scope="module")
def province() -> Registry:
    return province_registry(SIZE)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_province_files(tmp_path_factory.mktemp("province"), SIZE)


def _assert_same(a: Registry, b: Registry) -> None:
    for column in ("ids", "names", "jurisdictions", "industries", "tiers"):
        assert np.array_equal(getattr(a.enterprises, column), getattr(b.enterprises, column))
    assert a.inspectors == b.inspectors
    assert a.conflicts == b.conflicts
    assert a.history.records() == b.history.records()


def _share(counts: Counter[str], key: str) -> float:
    return counts[key] / sum(counts.values())


def test_same_size_gives_the_same_province(province: Registry, files: dict[str, Path],
                                            tmp_path: Path) -> None:
    """Two builds of one size are equal, and two writes give byte-identical files."""
    _assert_same(province, province_registry(SIZE))
    again = write_province_files(tmp_path, SIZE)
    assert {kind: path.read_bytes() for kind, path in files.items()} == \
        {kind: path.read_bytes() for kind, path in again.items()}


def test_another_seed_gives_another_province() -> None:
    """The generator seed changes the enterprises and officers."""
    a, b = province_registry(2_000), province_registry(2_000, seed=7)
    assert not np.array_equal(a.enterprises.ids, b.enterprises.ids)
    assert a.inspectors != b.inspectors


def test_province_is_pinned_across_machines_and_versions(tmp_path: Path) -> None:
    """A small province and its file hash to recorded values, so any drift in generation shows."""
    assert registry_fingerprint(province_registry(2_000)) == PINNED_REGISTRY
    paths = write_province_files(tmp_path, 2_000)
    assert hashlib.sha256(paths["enterprises"].read_bytes()).hexdigest() == \
        PINNED_ENTERPRISES_CSV


def test_every_id_is_a_valid_unique_uscc(province: Registry) -> None:
    """Every id is a valid, unique, sorted 91 + division + organisation code + check."""
    ent = province.enterprises
    assert len(ent) == SIZE
    assert uscc_valid_mask(ent.ids).all()
    codes = ent.ids.astype("U18").tolist()
    assert all(uscc_problem(code) is None for code in codes[:: SIZE // 500])
    assert (ent.ids[1:] > ent.ids[:-1]).all()  # sorted and unique, as the registry keeps them
    assert all(code.startswith("91") for code in codes)
    assert [c[2:8] for c in codes] == ent.jurisdictions.astype("U6").tolist()


def test_divisions_are_real_and_uneven(province: Registry) -> None:
    """Over 100 GB/T 2260 divisions of 广东 (44) under its 21 cities, all used, unevenly."""
    codes = [code for code, _, _ in DIVISIONS]
    assert len(codes) == len(set(codes)) >= 100
    assert all(re.fullmatch(r"44\d{4}", code) for code in codes)
    prefixes = {prefix for prefix, _, _ in CITIES}
    assert len(prefixes) == 21
    assert {code[:4] for code in codes} == prefixes
    names = {code: name for code, name, _ in DIVISIONS}
    assert {c: names[c] for c in ("440103", "440305", "441900", "442000", "445381")} == {
        "440103": "荔湾区", "440305": "南山区", "441900": "东莞市", "442000": "中山市",
        "445381": "罗定市"}
    assert set(UNDERSTAFFED) <= set(codes)
    sizes = Counter(province.enterprises.jurisdictions.astype("U6").tolist())
    assert set(sizes) == set(codes)
    assert max(sizes.values()) > 100 * min(sizes.values())
    shenzhen = sum(n for code, n in sizes.items() if code.startswith("4403"))
    assert 0.25 < shenzhen / SIZE < 0.40


def test_tiers_industries_and_names(province: Registry) -> None:
    """Tiers ~20/65/10/5 %, GB/T 4754 codes in the tasks' scopes, Chinese company names."""
    tiers = Counter(province.enterprises.tiers.astype("U1").tolist())
    for tier, target in {"A": 0.20, "B": 0.65, "C": 0.10, "D": 0.05}.items():
        assert abs(_share(tiers, tier) - target) < 0.02
    industries = province.enterprises.industries.astype("U8").tolist()
    assert all(re.fullmatch(r"[A-Z]\d{4}", code) for code in industries)
    groups = Counter("C" if i.startswith("C") else i[:3] if i[:3] in ("F52", "H62") else "other"
                     for i in industries)
    assert 0.12 < _share(groups, "C") < 0.25
    assert abs(_share(groups, "F52") - 0.26) < 0.02
    assert abs(_share(groups, "H62") - 0.12) < 0.02
    # 深圳市… / 深圳… / 广东…, or a county or county-level city's own name: 台山市…, 博罗县…
    short = (*(name for _, name, _ in CITIES), "广东",
             *(name for _, name, _ in DIVISIONS if name.endswith(("市", "县"))))
    names = list(province.enterprises.names)
    assert all(isinstance(n, str) and n.startswith(short) and n.endswith("有限公司")
               for n in names)
    assert len(set(names)) > 0.9 * SIZE


def test_officers_at_full_size_have_the_described_shape() -> None:
    """At 10M: 50,000 officers, 55/25/20 % by department, 1/14/85 % by level, quals, caps."""
    officers = province_officers(10_000_000)
    assert len(officers) == officer_count(10_000_000) == 50_000
    departments = Counter(o.department for o in officers)
    for department, target in {"SCJG": 0.55, "SPJG": 0.25, "TZSB": 0.20}.items():
        assert abs(_share(departments, department) - target) < 0.005
    levels = Counter({2: "province", 4: "city", 6: "district"}[len(o.jurisdiction)]
                     for o in officers)
    for level, target in {"province": 0.01, "city": 0.14, "district": 0.85}.items():
        assert abs(_share(levels, level) - target) < 0.005
    for department, qualification in {"SPJG": "食品安全", "TZSB": "特种设备"}.items():
        staff = [o for o in officers if o.department == department]
        assert 0.87 < sum(qualification in o.qualifications for o in staff) / len(staff) < 0.93
    scjg = [o for o in officers if o.department == "SCJG"]
    assert sum("综合执法" in o.qualifications for o in scjg) / len(scjg) > 0.85
    assert 0.15 < sum("食品安全" in o.qualifications for o in scjg) / len(scjg) < 0.35
    assert all(o.qualifications for o in officers)
    assert all(30 <= o.capacity <= 70 for o in officers)
    expired = sum(o.certificate_expiry < date(2026, 12, 31) for o in officers) / len(officers)
    assert 0.005 < expired < 0.015
    assert all(o.certificate_expiry >= date(2027, 12, 31) or o.certificate_expiry.year == 2026
               for o in officers)
    ids = [o.inspector_id for o in officers]
    assert len(set(ids)) == len(ids)
    assert all(INSPECTOR_ID.fullmatch(i) for i in ids)


def test_every_office_can_field_a_team(province: Registry) -> None:
    """Officers sit in the province, a city or a division; every office has two able ones."""
    officers = province.inspectors
    assert len(officers) == officer_count(SIZE) == 600
    places = {"44"} | {prefix for prefix, _, _ in CITIES} | {code for code, _, _ in DIVISIONS}
    assert {o.jurisdiction for o in officers} <= places
    core = {"SCJG": "综合执法", "SPJG": "食品安全", "TZSB": "特种设备"}
    able = Counter((o.jurisdiction, o.department) for o in officers
                   if core[o.department] in o.qualifications
                   and o.certificate_expiry >= date(2026, 12, 31))
    offices = {(o.jurisdiction, o.department) for o in officers}
    assert {("44", department) for department in core} <= offices
    assert {(prefix, department) for prefix, _, _ in CITIES for department in core} <= offices
    assert all(able[office] >= 2 for office in offices)


def test_conflicts_and_history_are_consistent(province: Registry) -> None:
    """Recusals name served enterprises; history is two years, ~8 % per task per year, in scope."""
    officers = {o.inspector_id: o for o in province.inspectors}
    ent = province.enterprises
    jurisdiction = dict(zip(ent.ids.astype("U18").tolist(),
                            ent.jurisdictions.astype("U6").tolist(), strict=True))
    industry = dict(zip(ent.ids.astype("U18").tolist(), ent.industries.astype("U8").tolist(),
                        strict=True))
    assert len(officers) // 10 - 5 <= len(province.conflicts) <= len(officers) // 10
    assert all(jurisdiction[c.enterprise_id].startswith(officers[c.inspector_id].jurisdiction)
               for c in province.conflicts)
    assert {c.reason for c in province.conflicts} <= {
        "近亲属在该企业任职", "曾在该企业任职未满两年", "持有该企业股权",
        "与该企业存在其他利害关系"}
    history = province.history.records()
    assert all(date(2024, 10, 1) <= h.inspected_on <= date(2026, 9, 30) for h in history)
    department = {"GS-QY": "SCJG", "SP-JY": "SPJG", "TZ-SB": "TZSB"}
    assert all(department[h.task] == h.department for h in history)
    assert all(industry[h.enterprise_id].startswith(("F52", "H62"))
               for h in history if h.task == "SP-JY")
    assert all(industry[h.enterprise_id].startswith("C") for h in history if h.task == "TZ-SB")
    per_year = Counter((h.task, h.inspected_on >= date(2025, 10, 1)) for h in history)
    for later in (False, True):
        assert 0.07 < per_year["GS-QY", later] / SIZE < 0.09


def test_files_read_back_as_the_same_registry(province: Registry,
                                              files: dict[str, Path]) -> None:
    """The import readers turn the written CSVs into exactly province_registry(n)."""
    assert files["enterprises"].read_bytes().startswith(
        b"enterprise_id,name,jurisdiction,industry,tier\n")
    enterprises = read_enterprises(files["enterprises"], tiers=("A", "B", "C", "D"))
    inspectors = read_inspectors(files["inspectors"])
    conflicts = read_conflicts(files["conflicts"],
                               inspector_ids={o.inspector_id for o in inspectors},
                               enterprise_ids=set(enterprises.ids.astype("U18").tolist()))
    read_back = Registry.build(enterprises, inspectors, conflicts,
                               read_history(files["history"], today=date(2100, 12, 31)))
    _assert_same(read_back, province)


def test_files_import_with_the_command_line(tmp_path: Path) -> None:
    """`spotcheck import` accepts all four files."""
    paths = write_province_files(tmp_path / "files", 2_000)
    db = f"sqlite:///{tmp_path / 'spotcheck.db'}"
    for kind in ("enterprises", "inspectors", "conflicts", "history"):
        extra = ["--policy", str(PROVINCE_POLICY)] if kind == "enterprises" else []
        result = CliRunner().invoke(main, ["--db", db, "import", kind, str(paths[kind]),
                                           *extra])
        assert result.exit_code == 0, result.output


def test_plan_staffs_every_visit_lawfully(province: Registry) -> None:
    """The 2026Q4 plan under the province policy completes; every team is lawful and distinct."""
    policy, _ = load_policy(PROVINCE_POLICY)
    assert [(t.code, t.department) for t in policy.tasks] == [
        ("GS-QY", "SCJG"), ("SP-JY", "SPJG"), ("TZ-SB", "TZSB")]
    plan = plan_quarter(province, policy, PROVINCE_QUARTER, SEED, workers=1)
    assert {v.department for v in plan.visits} == {"SCJG", "SPJG", "TZSB"}
    assert len(plan.assignments) == policy.team_size * len(plan.visits)
    check_teams(plan, province, policy)  # distinct, lawful, within capacity, every draw visited
    assert sum(s.drawn for s in plan.strata) == len(plan.draws) > 0.05 * SIZE
    assert all(s.drawn == s.target for s in plan.strata)  # staffable: no cut at this size
    assert sum(s.population - s.eligible for s in plan.strata if s.tier == "A") > 0  # cooldown
