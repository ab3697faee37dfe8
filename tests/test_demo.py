"""The synthetic city: deterministic, valid, and shaped as the demo and benchmarks need."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import numpy as np
import pytest
from builders import registry_fingerprint

from spotcheck.demo import DISTRICTS, officer_count, synthetic_city
from spotcheck.models.identifiers import uscc_problem, uscc_valid_mask
from spotcheck.models.registry import Registry

SIZE = 20_000
# sha256 of synthetic_city(1_000) written out field by field (builders.registry_fingerprint)
PINNED_1000 = "36770bc5ee667ec39d2504a6450f46b5316486a696b00eb95438e921e324e3b1"

# Each class of the generator with its GB/T 4754-2017 title and the word a name takes from it.
GB_T_4754_2017 = {
    "C1530": ("精制茶加工", "茶业"), "C1819": ("其他机织服装制造", "服饰"),
    "C2231": ("纸和纸板容器制造", "包装"), "C2927": ("日用塑料制品制造", "塑料制品"),
    "C3311": ("金属结构制造", "钢结构"), "C3484": ("机械零部件加工", "机械"),
    "C3670": ("汽车零部件及配件制造", "汽车部件"), "C3831": ("电线、电缆制造", "电缆"),
    "C3982": ("电子电路制造", "电子"), "F5211": ("百货零售", "百货"),
    "F5212": ("超级市场零售", "超市"), "F5213": ("便利店零售", "便利店"),
    "F5223": ("果品、蔬菜零售", "果蔬"), "F5224": ("肉、禽、蛋、奶及水产品零售", "生鲜"),
    "F5226": ("酒、饮料及茶叶零售", "茶叶"), "F5232": ("服装零售", "服装"),
    "F5281": ("五金零售", "五金"), "F5251": ("西药零售", "大药房"),
    "H6210": ("正餐服务", "餐饮管理"), "H6220": ("快餐服务", "快餐"),
    "H6231": ("茶馆服务", "茶馆"), "H6232": ("咖啡馆服务", "咖啡"), "H6291": ("小吃服务", "小吃"),
    "F5193": ("互联网批发", "电子商务"), "I6560": ("信息技术咨询服务", "信息技术"),
    "I6513": ("应用软件开发", "网络科技"), "L7212": ("投资与资产管理", "投资管理"),
    "L7259": ("其他广告服务", "广告"), "E4710": ("住宅房屋建筑", "建设"),
    "G5431": ("普通货物道路运输", "物流"), "K7010": ("房地产开发经营", "房地产开发"),
    "O8010": ("家庭服务", "家政服务"),
}


@pytest.fixture(scope="module")
def city() -> Registry:
    return synthetic_city(SIZE)


def _share(counts: Counter[str], key: str) -> float:
    return counts[key] / sum(counts.values())


def test_same_arguments_give_the_same_city(city: Registry) -> None:
    """Two builds with the same size and seed give identical columns and records."""
    again = synthetic_city(SIZE)
    for column in ("ids", "names", "jurisdictions", "industries", "tiers"):
        assert np.array_equal(getattr(city.enterprises, column), getattr(again.enterprises, column))
    assert city.inspectors == again.inspectors
    assert city.conflicts == again.conflicts
    assert city.history.records() == again.history.records()


def test_another_seed_gives_another_city(city: Registry) -> None:
    """A different seed changes the enterprises."""
    other = synthetic_city(SIZE, seed=7)
    assert not np.array_equal(city.enterprises.ids, other.enterprises.ids)


def test_every_code_is_a_valid_unique_uscc(city: Registry) -> None:
    """Every id is a valid 91 + district + unique organisation code + check character."""
    ent = city.enterprises
    assert uscc_valid_mask(ent.ids).all()
    assert all(uscc_problem(code.decode()) is None for code in ent.ids[:: SIZE // 200])
    codes = ent.ids.astype("U18")
    assert all(c.startswith("91") for c in codes.tolist())
    divisions = np.array([c[2:8] for c in codes.tolist()])
    assert np.array_equal(divisions, ent.jurisdictions.astype("U6"))
    assert len({c[8:17] for c in codes.tolist()}) == SIZE


def test_districts_are_real_and_uneven(city: Registry) -> None:
    """At least ten 杭州 districts with GB/T 2260 codes, of clearly different sizes."""
    sizes = Counter(city.enterprises.jurisdictions.astype("U6").tolist())
    assert len(sizes) >= 10
    assert set(sizes) <= {d.code for d in DISTRICTS}
    assert all(code.startswith("3301") for code in sizes)
    assert max(sizes.values()) > 3 * min(sizes.values())


def test_tier_and_industry_mix_match_the_targets(city: Registry) -> None:
    """Tiers are about A 20 / B 65 / C 10 / D 5 %, industries C 15 / F52 30 / H62 15 %."""
    tiers = Counter(city.enterprises.tiers.astype("U1").tolist())
    for tier, target in {"A": 0.20, "B": 0.65, "C": 0.10, "D": 0.05}.items():
        assert abs(_share(tiers, tier) - target) < 0.02
    groups = Counter("C" if i.startswith("C") else i[:3] if i[:3] in ("F52", "H62") else "other"
                     for i in city.enterprises.industries.astype("U8").tolist())
    for group, target in {"C": 0.15, "F52": 0.30, "H62": 0.15}.items():
        assert abs(_share(groups, group) - target) < 0.03


def test_names_are_chinese_company_names(city: Registry) -> None:
    """Names read 杭州…有限公司."""
    assert all(n.startswith("杭州") and n.endswith("有限公司") for n in city.enterprises.names)


def test_officer_count_scales_with_the_city() -> None:
    """At least 600 officers, growing in proportion to the enterprises."""
    assert officer_count(SIZE) == 600
    assert officer_count(200_000) >= 600
    assert officer_count(1_000_000) == pytest.approx(5 * officer_count(200_000), rel=0.01)
    assert len(synthetic_city(1_000, inspectors=50).inspectors) == 50


def test_officers_have_the_described_shape(city: Registry) -> None:
    """Departments ~70/30, ~25 % at city level, certificates, capacities and qualifications."""
    officers = city.inspectors
    assert len(officers) == officer_count(SIZE)
    departments = Counter(o.department for o in officers)
    assert abs(_share(departments, "SCJG") - 0.70) < 0.01
    assert abs(sum(o.jurisdiction == "3301" for o in officers) / len(officers) - 0.25) < 0.02
    assert all(re.fullmatch(r"33\d{12}", o.inspector_id) for o in officers)
    assert all(o.inspector_id.startswith(o.jurisdiction.ljust(6, "0")) for o in officers)
    assert all(20 <= o.capacity <= 60 for o in officers)
    expired = sum(o.certificate_expiry < date(2026, 12, 31) for o in officers) / len(officers)
    assert 0.01 < expired < 0.06
    scjg = [o for o in officers if o.department == "SCJG"]
    assert 0.5 < sum("食品安全" in o.qualifications for o in scjg) / len(scjg) < 0.7
    assert all("特种设备" in o.qualifications for o in officers if o.department == "TZSB")


def test_conflicts_and_history_are_consistent(city: Registry) -> None:
    """Recusals lie in the officer's own jurisdiction; history is a year, ~8 %, right department."""
    officers = {o.inspector_id: o for o in city.inspectors}
    jurisdiction = dict(zip(city.enterprises.ids.astype("U18").tolist(),
                            city.enterprises.jurisdictions.astype("U6").tolist(), strict=True))
    assert len(city.conflicts) >= 200
    assert all(jurisdiction[c.enterprise_id].startswith(officers[c.inspector_id].jurisdiction)
               for c in city.conflicts)
    history = city.history.records()
    assert 0.06 < len({h.enterprise_id for h in history}) / SIZE < 0.10
    assert all(date(2025, 10, 1) <= h.inspected_on <= date(2026, 9, 30) for h in history)
    department = {"GS-QY": "SCJG", "SP-JY": "SCJG", "TZ-SB": "TZSB"}
    assert all(department[h.task] == h.department for h in history)


def test_city_is_pinned_across_machines_and_versions() -> None:
    """A small city hashes to a recorded value, so any drift in its generation shows."""
    assert registry_fingerprint(synthetic_city(1_000)) == PINNED_1000


def test_pinned_city_holds_every_industry() -> None:
    """The pinned city has every industry class, so a changed class or name word changes its pin."""
    small = synthetic_city(1_000).enterprises.industries.astype("U5").tolist()
    assert set(small) == set(GB_T_4754_2017)


def test_industries_are_the_checked_gb_t_4754_2017_classes(city: Registry) -> None:
    """Every class is a checked GB/T 4754-2017 class and names carry its word (五金 F5281)."""
    industries = city.enterprises.industries.astype("U5").tolist()
    assert set(industries) == set(GB_T_4754_2017)
    for name, industry in zip(city.enterprises.names.tolist(), industries, strict=True):
        trade = name.removesuffix("有限公司").removesuffix("股份")
        assert trade.endswith(GB_T_4754_2017[industry][1]), (name, industry)
