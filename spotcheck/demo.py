"""A synthetic city for the demo and the benchmarks: 杭州 (330100) with its districts,
enterprises, officers, recusals (回避) and a year of inspection history.

Every random choice is a slice of a BLAKE2b-512 digest of f"{seed}:{what}:{i}", read as
big-endian 32-bit integers and turned into categories by integer thresholds. Nothing comes
from numpy's Generator or `random`'s helpers, whose streams may change between releases
(NEP 19), so the same arguments give the same city on every machine and library version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from spotcheck.models.domain import Conflict, Inspector
from spotcheck.models.identifiers import USCC_ALPHABET, USCC_WEIGHTS
from spotcheck.models.registry import EnterpriseColumns, HistoryColumns, Registry

DEMO_SEED = "20261001-0394857261-5520183746"
DEMO_QUARTER = "2026Q4"
CITY_CODE = "330100"
CITY_NAME = "杭州"


@dataclass(frozen=True, slots=True)
class District:
    """A district of the city: its GB/T 2260 code and the shape of its economy and staff."""

    code: str
    name: str
    weight: int         # share of the city's enterprises, per mille
    manufacturing: int  # percent of its enterprises in GB/T 4754 section C
    staffing: int       # percent of the officers its enterprise count would call for


# Uneven on purpose: 钱塘 (a district since 2021, growing fast) has far fewer officers of its
# own than its enterprises call for, so the demo plan shows capacity binding there.
DISTRICTS: tuple[District, ...] = (
    District("330102", "上城区", 100, 4, 100),
    District("330105", "拱墅区", 100, 6, 100),
    District("330106", "西湖区", 90, 5, 100),
    District("330108", "滨江区", 70, 10, 100),
    District("330109", "萧山区", 150, 22, 100),
    District("330110", "余杭区", 140, 18, 100),
    District("330111", "富阳区", 60, 24, 100),
    District("330112", "临安区", 50, 20, 100),
    District("330113", "临平区", 70, 22, 100),
    District("330114", "钱塘区", 60, 30, 54),
    District("330122", "桐庐县", 40, 18, 100),
    District("330127", "淳安县", 30, 8, 100),
    District("330182", "建德市", 40, 20, 100),
)

# (GB/T 4754-2017 class, checked against the 2017 class list; the word it puts in an
# enterprise name; weight within its group)
_MANUFACTURING = (("C1530", "茶业", 3), ("C1819", "服饰", 3), ("C2231", "包装", 2),
                  ("C2927", "塑料制品", 2), ("C3311", "钢结构", 2), ("C3484", "机械", 4),
                  ("C3670", "汽车部件", 2), ("C3831", "电缆", 1), ("C3982", "电子", 3))
_RETAIL = (("F5211", "百货", 2), ("F5212", "超市", 3), ("F5213", "便利店", 4),
           ("F5223", "果蔬", 2), ("F5224", "生鲜", 2), ("F5226", "茶叶", 2),
           ("F5232", "服装", 3), ("F5281", "五金", 2), ("F5251", "大药房", 2))
_CATERING = (("H6210", "餐饮管理", 5), ("H6220", "快餐", 3), ("H6231", "茶馆", 1),
             ("H6232", "咖啡", 2), ("H6291", "小吃", 3))
_OTHER = (("F5193", "电子商务", 4), ("I6560", "信息技术", 3), ("I6513", "网络科技", 4),
          ("L7212", "投资管理", 2), ("L7259", "广告", 2), ("E4710", "建设", 2),
          ("G5431", "物流", 2), ("K7010", "房地产开发", 1), ("O8010", "家政服务", 1))
_RETAIL_SHARE, _CATERING_SHARE = 30, 15  # percent of every district's enterprises

_TRADE_FIRST = "恒华鑫瑞盛泰嘉博宏锦新天金明万永富德安和中兴达隆益丰信诚康润佳顺辰越禾钱江西溪之"
_TRADE_SECOND = "源创辉远通祥利联成昌航宇晟汇邦科诚德海宁杰腾峰晨弘旺星悦璟澜鼎睿泽宸朗森鸿"
_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
             "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江")
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏飞建国文斌波宁琳晨欣怡浩宇"
_TIERS = (("A", 20), ("B", 65), ("C", 10), ("D", 5))
_RECUSAL_REASONS = ("近亲属在该企业任职", "曾在该企业任职未满两年", "持有该企业股权",
                    "与该企业存在其他利害关系")

_FOOD, _EQUIPMENT = "食品安全", "特种设备"
# Percent of each department's officers at city level (about 25 % overall): special
# equipment is supervised mostly from the city, general enforcement from the districts.
_CITY_SHARE = {"SCJG": 2, "TZSB": 79}
_ENTERPRISES_PER_OFFICER = 117
_MIN_OFFICERS = 600
_MAX_ENTERPRISES = 10**8  # old-style organisation codes stay unique below this
_HISTORY_START, _HISTORY_DAYS = date(2025, 10, 1), 365
_EXPIRED_START, _VALID_START = date(2026, 1, 1), date(2027, 1, 1)


def officer_count(enterprises: int) -> int:
    """Return how many officers a city of this many enterprises gets (≥ 600, ~1 per 117)."""
    return max(_MIN_OFFICERS, -(-enterprises // _ENTERPRISES_PER_OFFICER))


def _words(seed: int, what: str, n: int) -> np.ndarray:
    """Return an (n, 16) int64 array of 32-bit words: BLAKE2b-512 of f"{seed}:{what}:{i}"."""
    blake = hashlib.blake2b
    raw = b"".join([blake(f"{seed}:{what}:{i}".encode()).digest() for i in range(n)])
    return np.frombuffer(raw, dtype=">u4").reshape(n, 16).astype(np.int64)


def _pick(words: np.ndarray, weights: Sequence[int]) -> np.ndarray:
    """Return, per 32-bit word, the index of the category it falls in, by integer weights."""
    total, running, bounds = sum(weights), 0, []
    for w in weights:
        running += w
        bounds.append((running << 32) // total)
    return np.searchsorted(np.array(bounds, dtype=np.int64), words, side="right")


def quota(total: int, weights: Sequence[int]) -> list[int]:
    """Return `total` split in proportion to integer weights (largest remainder, ties first)."""
    whole = sum(weights)
    counts = [total * w // whole for w in weights]
    by_remainder = sorted(range(len(weights)), key=lambda k: (-(total * weights[k] % whole), k))
    for k in by_remainder[:total - sum(counts)]:
        counts[k] += 1
    return counts


def _chars(digits: np.ndarray, alphabet: str) -> np.ndarray:
    """Return the ASCII bytes of `alphabet[digit]` for an integer array."""
    return np.frombuffer(alphabet.encode("ascii"), dtype=np.uint8)[digits]


def _base(values: np.ndarray, radix: int, width: int) -> np.ndarray:
    """Return the `width` base-`radix` digits of each value, most significant first."""
    return np.stack([(values // radix ** (width - 1 - k)) % radix for k in range(width)], axis=1)


def _codes(index: np.ndarray, districts: np.ndarray, style: np.ndarray, seed: int) -> list[str]:
    """Return valid 18-character USCCs: 9 (工商), 1 (企业), district, organisation code, check.

    The organisation code (GB 11714: eight characters and a check) is an old all-digit code
    for 40 % of enterprises and a post-2015 `MA…` code for the rest; each is an injective
    affine map of the enterprise's index, so no two enterprises share one.
    """
    salt = int.from_bytes(hashlib.blake2b(f"{seed}:codes".encode()).digest()[:8], "big")
    old_space, new_space = 10**8, 31**6
    # Multipliers coprime to the space (…1 is odd and not ×5; 1_000_003 ≡ 5 mod 31).
    old = (index * (salt % 9_000_000 * 10 + 1_000_001) + salt % old_space) % old_space
    new = (index * (salt % 28_000_000 * 31 + 1_000_003) + salt % new_space) % new_space
    ma = np.full((len(index), 2), [USCC_ALPHABET.index("M"), USCC_ALPHABET.index("A")])
    body = np.where(style[:, None], np.c_[ma, _base(new, 31, 6)], _base(old, 10, 8))
    org = _chars(body, USCC_ALPHABET)
    ascii_ = org.astype(np.int64)
    values = np.where(ascii_ >= ord("A"), ascii_ - ord("A") + 10, ascii_ - ord("0"))
    check = 11 - (values @ np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)) % 11
    org_check = np.where(check == 10, ord("X"), np.where(check == 11, ord("0"), check + 48))
    head = np.frombuffer(b"91", dtype=np.uint8)
    codes = np.c_[np.broadcast_to(head, (len(index), 2)), districts, org, org_check]
    value_of = np.zeros(256, dtype=np.int64)
    value_of[list(USCC_ALPHABET.encode("ascii"))] = np.arange(len(USCC_ALPHABET))
    total = value_of[codes] @ np.array(USCC_WEIGHTS, dtype=np.int64)
    final = _chars((31 - total % 31) % 31, USCC_ALPHABET)
    full = np.ascontiguousarray(np.c_[codes, final].astype(np.uint8))
    return full.view("S18").ravel().astype("U18").tolist()


def _industry_tables() -> tuple[list[str], list[str], list[list[int]]]:
    """Return the industry codes, their name words, and per-district integer weights."""
    groups = (_MANUFACTURING, _RETAIL, _CATERING, _OTHER)
    codes = [code for g in groups for code, _, _ in g]
    words = [word for g in groups for _, word, _ in g]
    per_district = []
    for d in DISTRICTS:
        shares = (d.manufacturing, _RETAIL_SHARE, _CATERING_SHARE,
                  100 - d.manufacturing - _RETAIL_SHARE - _CATERING_SHARE)
        per_district.append([share * w * 1000 // sum(x for _, _, x in g)
                             for g, share in zip(groups, shares, strict=True) for _, _, w in g])
    return codes, words, per_district


def _enterprises(n: int, seed: int) -> EnterpriseColumns:
    """Return n enterprises spread over the districts with the city's industry and tier mix."""
    words = _words(seed, "enterprise", n)
    district = _pick(words[:, 0], [d.weight for d in DISTRICTS])
    codes, industry_words, per_district = _industry_tables()
    industry = np.zeros(n, dtype=np.int64)
    for k, weights in enumerate(per_district):
        here = district == k
        industry[here] = _pick(words[here, 1], weights)
    tier = _pick(words[:, 2], [w for _, w in _TIERS])
    division = np.array([list(d.code.encode()) for d in DISTRICTS], dtype=np.uint8)[district]
    ids = _codes(np.arange(n, dtype=np.int64), division, words[:, 3] % 100 >= 40, seed)
    first, second = words[:, 4] % len(_TRADE_FIRST), words[:, 5] % len(_TRADE_SECOND)
    local = words[:, 6] % 100 < 15  # some names carry the district: 杭州萧山…
    short = [d.name[:-1] for d in DISTRICTS]
    suffix = np.where(words[:, 7] % 100 < 3, "股份有限公司", "有限公司")
    names = [f"{CITY_NAME}{short[d] if loc else ''}{_TRADE_FIRST[a]}{_TRADE_SECOND[b]}"
             f"{industry_words[i]}{s}"
             for d, loc, a, b, i, s in zip(district.tolist(), local.tolist(), first.tolist(),
                                           second.tolist(), industry.tolist(), suffix.tolist(),
                                           strict=True)]
    return EnterpriseColumns.from_lists(
        ids, names, [DISTRICTS[d].code for d in district.tolist()],
        [codes[i] for i in industry.tolist()], [_TIERS[t][0] for t in tier.tolist()])


def _officer_places(department: str, total: int) -> list[str]:
    """Return the jurisdiction of each of a department's officers: city first, then districts."""
    city = total * _CITY_SHARE[department] // 100
    if department == "SCJG":
        weights = [d.weight * d.staffing for d in DISTRICTS]
    else:  # special equipment sits in factories
        weights = [d.weight * d.manufacturing * d.staffing for d in DISTRICTS]
    counts = quota(total - city, weights)
    return [CITY_CODE[:4]] * city + [d.code for d, c in zip(DISTRICTS, counts, strict=True)
                                     for _ in range(c)]


def _inspectors(count: int, seed: int) -> list[Inspector]:
    """Return `count` officers of SCJG (~70 %) and TZSB (~30 %) with certificates and caps."""
    scjg = count * 70 // 100
    places = [("SCJG", p) for p in _officer_places("SCJG", scjg)]
    places += [("TZSB", p) for p in _officer_places("TZSB", count - scjg)]
    table = _words(seed, "officer", count)
    # Exactly 3 % of certificates (执法证) lapse during 2026: those with the smallest word.
    expired = np.zeros(count, dtype=bool)
    expired[np.argsort(table[:, 2], kind="stable")[:count * 3 // 100]] = True
    serials: dict[tuple[str, int], int] = {}
    officers = []
    for (department, place), w, lapsed in zip(places, table.tolist(), expired.tolist(),
                                               strict=True):
        issuer, year = place.ljust(6, "0"), 2018 + w[0] % 8
        serials[issuer, year] = serials.get((issuer, year), 0) + 1
        quals: tuple[str, ...]
        if department == "SCJG":
            quals = (_FOOD,) if w[1] % 100 < 60 else ()
        else:
            quals = (_EQUIPMENT, _FOOD) if w[1] % 100 < 20 else (_EQUIPMENT,)
        if lapsed:
            expiry = _EXPIRED_START + timedelta(days=w[3] % 364)
        else:
            expiry = _VALID_START + timedelta(days=w[3] % 1095)
        given = _GIVEN[w[5] % len(_GIVEN)] + (_GIVEN[w[6] % len(_GIVEN)] if w[7] % 3 else "")
        officers.append(Inspector(
            inspector_id=f"{issuer}{year}{serials[issuer, year]:04d}",
            name=_SURNAMES[w[4] % len(_SURNAMES)] + given, department=department,
            jurisdiction=place, qualifications=quals, capacity=20 + w[8] % 41,
            certificate_expiry=expiry))
    return officers


def _conflicts(enterprises: EnterpriseColumns, officers: list[Inspector],
               seed: int) -> list[Conflict]:
    """Return a few hundred recusals, each between an officer and an enterprise they serve."""
    count = max(200, len(enterprises) // 500)
    words = _words(seed, "conflict", count).tolist()
    every = np.arange(len(enterprises))
    served = {d.code: np.flatnonzero(enterprises.jurisdictions == d.code.encode())
              for d in DISTRICTS}
    found = []
    for w in words:
        officer = officers[w[0] % len(officers)]
        rows = served.get(officer.jurisdiction, every)
        if len(rows):
            row = int(rows[w[1] % len(rows)])
            found.append(Conflict(inspector_id=officer.inspector_id,
                                  enterprise_id=enterprises.ids[row].decode(),
                                  reason=_RECUSAL_REASONS[w[2] % len(_RECUSAL_REASONS)]))
    return found


def _history(enterprises: EnterpriseColumns, seed: int) -> HistoryColumns:
    """Return about 8 % of enterprises inspected once or twice between 2025-10-01 and 2026-09-30.

    Food retailers and caterers are mostly visited jointly (GS-QY with SP-JY, one date);
    factories by special equipment (TZ-SB), by the general task, or by both on separate days.
    """
    words = _words(seed, "history", len(enterprises))
    rows = np.flatnonzero(words[:, 0] % 1000 < 80)
    records: list[tuple[bytes, str, str, int]] = []
    for row, kind, day, other_day in zip(rows.tolist(), (words[rows, 1] % 100).tolist(),
                                         (words[rows, 2] % _HISTORY_DAYS).tolist(),
                                         (words[rows, 3] % _HISTORY_DAYS).tolist(), strict=True):
        eid, industry = enterprises.ids[row], enterprises.industries[row]
        if industry.startswith((b"F52", b"H62")):
            tasks = ["GS-QY", "SP-JY"] if kind < 50 else ["GS-QY"] if kind < 75 else ["SP-JY"]
            records += [(eid, t, "SCJG", day) for t in tasks]
        elif industry.startswith(b"C"):
            if kind < 85:
                records.append((eid, "TZ-SB", "TZSB", day))
            if kind >= 50:
                records.append((eid, "GS-QY", "SCJG", other_day))
        else:
            records.append((eid, "GS-QY", "SCJG", day))
    records.sort()  # the canonical order HistoryColumns keeps
    days = np.array([r[3] for r in records], dtype="timedelta64[D]")
    return HistoryColumns(np.array([r[0] for r in records], dtype="S18"),
                          _objects([r[1] for r in records]), _objects([r[2] for r in records]),
                          np.datetime64(_HISTORY_START, "D") + days)


def _objects(values: list[str]) -> np.ndarray:
    """Return the strings as a numpy object array (never a fixed-width one)."""
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def synthetic_city(enterprises: int = 200_000, *, seed: int = 2026,
                   inspectors: int | None = None) -> Registry:
    """Return a registry snapshot of a synthetic 杭州, the same for the same arguments.

    `inspectors` defaults to `officer_count(enterprises)`, sized so that the default
    policy's 2026Q4 plan is staffable almost everywhere; at the default size capacity binds
    in 钱塘区 alone, where tier A of GS-QY and SP-JY is cut above its floor.
    """
    if not 1 <= enterprises <= _MAX_ENTERPRISES:
        raise ValueError(f"a synthetic city has 1 to {_MAX_ENTERPRISES:,} enterprises")
    columns = _enterprises(enterprises, seed)
    officers = _inspectors(officer_count(enterprises) if inspectors is None else inspectors,
                           seed)
    return Registry.build(columns, officers, _conflicts(columns, officers, seed),
                          _history(columns, seed))
