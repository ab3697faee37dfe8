"""A synthetic province for the province-scale benchmarks: 广东 (44) with its 124 county-level
divisions, N enterprises, officers of three departments at province, city and district level,
recusals (回避) and two years of inspection history.

The same N and seed give the same province on every machine and numpy version. Every random
choice is a field of splitmix64 over (stream key + index·γ), computed in numpy uint64
arithmetic, which wraps the same way everywhere; a stream's key is BLAKE2b of its name.
Nothing comes from numpy's Generator/RandomState or `random`, whose streams may change
between releases (NEP 19).

Enterprise i belongs to the division whose block of indices holds it (blocks in code order,
sized by weight by largest remainder), and everything else about it is a function of i alone.
So every office's enterprises are one range of indices, any range can be generated on its
own, and the in-memory registry and the files are built chunk by chunk from the same code.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

from spotcheck.demo import quota
from spotcheck.models.columns import base_column_names
from spotcheck.models.domain import Conflict, Inspector
from spotcheck.models.identifiers import USCC_ALPHABET, USCC_WEIGHTS
from spotcheck.models.registry import EnterpriseColumns, HistoryColumns, Registry

PROVINCE_POLICY = Path(__file__).with_name("province_policy.toml")
PROVINCE_QUARTER = "2026Q4"
PROVINCE_SEED = 2026
PROVINCE_CODE = "44"
PROVINCE_NAME = "广东"

# Prefecture-level cities of 广东省: (GB/T 2260 prefix, short name, percent of its enterprises
# in manufacturing, GB/T 4754 section C). The shares are rough: the Pearl River Delta's
# factory towns (东莞, 佛山, 中山) far above the service economies of 广州 and 深圳.
CITIES: tuple[tuple[str, str, int], ...] = (
    ("4401", "广州", 10), ("4402", "韶关", 12), ("4403", "深圳", 18), ("4404", "珠海", 15),
    ("4405", "汕头", 28), ("4406", "佛山", 32), ("4407", "江门", 25), ("4408", "湛江", 10),
    ("4409", "茂名", 10), ("4412", "肇庆", 22), ("4413", "惠州", 25), ("4414", "梅州", 10),
    ("4415", "汕尾", 12), ("4416", "河源", 15), ("4417", "阳江", 18), ("4418", "清远", 18),
    ("4419", "东莞", 35), ("4420", "中山", 33), ("4451", "潮州", 25), ("4452", "揭阳", 25),
    ("4453", "云浮", 18),
)

# The county-level divisions of 广东省 (code, name, weight): 122 units (65 districts, 20
# county-level cities, 37 counties) plus 东莞 441900 and 中山 442000, which have no districts,
# so their enterprises carry the city's own code. Codes and names are the 2023 list
# (国家统计局 2023年统计用区划代码, cut-off 2023-06-30, whose county level is the GB/T 2260
# code list), copied from modood/Administrative-divisions-of-China dist/areas.csv and
# checked against the county list of Vant's area data; 广东 has had no county-level change
# since 光明区 (2018). The weight is the division's share of the province's enterprises in
# ten-thousandths, roughly 2023's: 深圳 ~32 %, 广州 ~22 %, 东莞 ~9 %, 佛山 ~7 %.
DIVISIONS: tuple[tuple[str, str, int], ...] = (
    ("440103", "荔湾区", 130), ("440104", "越秀区", 220), ("440105", "海珠区", 240),
    ("440106", "天河区", 380), ("440111", "白云区", 360), ("440112", "黄埔区", 170),
    ("440113", "番禺区", 280), ("440114", "花都区", 150), ("440115", "南沙区", 120),
    ("440117", "从化区", 40), ("440118", "增城区", 130),
    ("440203", "武江区", 15), ("440204", "浈江区", 15), ("440205", "曲江区", 10),
    ("440222", "始兴县", 5), ("440224", "仁化县", 5), ("440229", "翁源县", 6),
    ("440232", "乳源瑶族自治县", 4), ("440233", "新丰县", 5), ("440281", "乐昌市", 8),
    ("440282", "南雄市", 7),
    ("440303", "罗湖区", 250), ("440304", "福田区", 450), ("440305", "南山区", 420),
    ("440306", "宝安区", 700), ("440307", "龙岗区", 650), ("440308", "盐田区", 50),
    ("440309", "龙华区", 450), ("440310", "坪山区", 100), ("440311", "光明区", 130),
    ("440402", "香洲区", 220), ("440403", "斗门区", 40), ("440404", "金湾区", 50),
    ("440507", "龙湖区", 60), ("440511", "金平区", 50), ("440512", "濠江区", 12),
    ("440513", "潮阳区", 45), ("440514", "潮南区", 40), ("440515", "澄海区", 50),
    ("440523", "南澳县", 3),
    ("440604", "禅城区", 120), ("440605", "南海区", 270), ("440606", "顺德区", 240),
    ("440607", "三水区", 45), ("440608", "高明区", 30),
    ("440703", "蓬江区", 70), ("440704", "江海区", 30), ("440705", "新会区", 50),
    ("440781", "台山市", 30), ("440783", "开平市", 25), ("440784", "鹤山市", 25),
    ("440785", "恩平市", 15),
    ("440802", "赤坎区", 25), ("440803", "霞山区", 30), ("440804", "坡头区", 8),
    ("440811", "麻章区", 15), ("440823", "遂溪县", 15), ("440825", "徐闻县", 10),
    ("440881", "廉江市", 25), ("440882", "雷州市", 22), ("440883", "吴川市", 15),
    ("440902", "茂南区", 35), ("440904", "电白区", 30), ("440981", "高州市", 25),
    ("440982", "化州市", 22), ("440983", "信宜市", 15),
    ("441202", "端州区", 35), ("441203", "鼎湖区", 12), ("441204", "高要区", 25),
    ("441223", "广宁县", 8), ("441224", "怀集县", 10), ("441225", "封开县", 5),
    ("441226", "德庆县", 6), ("441284", "四会市", 30),
    ("441302", "惠城区", 150), ("441303", "惠阳区", 90), ("441322", "博罗县", 80),
    ("441323", "惠东县", 60), ("441324", "龙门县", 15),
    ("441402", "梅江区", 20), ("441403", "梅县区", 15), ("441422", "大埔县", 8),
    ("441423", "丰顺县", 8), ("441424", "五华县", 12), ("441426", "平远县", 4),
    ("441427", "蕉岭县", 5), ("441481", "兴宁市", 15),
    ("441502", "城区", 20), ("441521", "海丰县", 20), ("441523", "陆河县", 5),
    ("441581", "陆丰市", 25),
    ("441602", "源城区", 25), ("441621", "紫金县", 10), ("441622", "龙川县", 12),
    ("441623", "连平县", 6), ("441624", "和平县", 6), ("441625", "东源县", 10),
    ("441702", "江城区", 35), ("441704", "阳东区", 20), ("441721", "阳西县", 10),
    ("441781", "阳春市", 17),
    ("441802", "清城区", 45), ("441803", "清新区", 20), ("441821", "佛冈县", 10),
    ("441823", "阳山县", 6), ("441825", "连山壮族瑶族自治县", 2), ("441826", "连南瑶族自治县", 2),
    ("441881", "英德市", 25), ("441882", "连州市", 8),
    ("441900", "东莞市", 900),
    ("442000", "中山市", 320),
    ("445102", "湘桥区", 35), ("445103", "潮安区", 45), ("445122", "饶平县", 20),
    ("445202", "榕城区", 40), ("445203", "揭东区", 25), ("445222", "揭西县", 15),
    ("445224", "惠来县", 15), ("445281", "普宁市", 50),
    ("445302", "云城区", 15), ("445303", "云安区", 6), ("445321", "新兴县", 12),
    ("445322", "郁南县", 8), ("445381", "罗定市", 15),
)

# Divisions whose own offices have fewer officers than their enterprises call for (percent).
# In 光明 and 南沙 the city's officers cover the gap; in 东莞 (a city of one division, whose
# city office has no other division's slack to lend) and 普宁 they cannot, and the plan
# cuts strata toward their floors there and, as 普宁 draws on the 揭阳 city office, in its
# neighbours. From 1M to 5M enterprises these are the only strata cut (17 of 1,488).
UNDERSTAFFED: dict[str, int] = {"441900": 50, "440311": 35, "440115": 40, "445281": 35}

# (code, name, percent of officers): the three departments, each staffing one task.
DEPARTMENTS: tuple[tuple[str, str, int], ...] = (
    ("SCJG", "市场监管综合执法", 55), ("SPJG", "食品经营监管", 25),
    ("TZSB", "特种设备安全监察", 20))
GENERAL, FOOD, EQUIPMENT = "综合执法", "食品安全", "特种设备"
# Each department's core qualification, held by ~90 % of its officers, and a second one
# some of them hold as well (percent).
_QUALIFICATIONS = {"SCJG": (GENERAL, FOOD, 25), "SPJG": (FOOD, GENERAL, 20),
                   "TZSB": (EQUIPMENT, GENERAL, 15)}
_CORE_SHARE, _EXPIRED_PER_MILLE = 90, 10
# Percent of a department's officers at province and city level; the rest sit in divisions.
_PROVINCE_SHARE, _CITY_SHARE = 1, 14
_OFFICE_MINIMUM = 2  # officers of each department in every city office, and in the province's
_ENTERPRISES_PER_OFFICER, _MIN_OFFICERS = 200, 600
_CAPACITY_LOW, _CAPACITY_SPAN = 30, 40  # capacity per quarter 30-70
# Capacity is the largest of this many uniform draws: the busy departments run fuller.
_CAPACITY_DRAWS = {"SCJG": 3, "SPJG": 2, "TZSB": 1}
_VALID_FROM, _VALID_DAYS = date(2027, 12, 31), 3 * 365 + 1
_EXPIRED_FROM, _EXPIRED_DAYS = date(2026, 1, 1), 364  # lapses before 2026Q4 ends

# Industries: GB/T 4754-2017 class (checked against the 2017 class list), the word it puts
# in a name, weight within its group.
_MANUFACTURING = (("C3982", "电子", 4), ("C3922", "通讯设备", 2), ("C2110", "家具", 3),
                  ("C3071", "陶瓷", 2), ("C3872", "照明", 2), ("C2452", "玩具", 1),
                  ("C3854", "电器", 3), ("C1819", "服饰", 3), ("C2927", "塑料制品", 2),
                  ("C3670", "汽车部件", 2), ("C3499", "机械设备", 2), ("C1411", "食品", 1),
                  ("C2231", "包装", 1))
_RETAIL = (("F5211", "百货", 2), ("F5212", "超市", 3), ("F5213", "便利店", 4),
           ("F5222", "饼家", 2), ("F5223", "果蔬", 2), ("F5224", "生鲜", 2),
           ("F5226", "茶行", 2), ("F5232", "服装", 3), ("F5281", "五金", 2),
           ("F5251", "大药房", 2))
_CATERING = (("H6210", "酒家", 3), ("H6210", "餐饮管理", 3), ("H6220", "快餐", 3),
             ("H6231", "茶艺", 1), ("H6232", "咖啡", 2), ("H6291", "小吃", 3))
_OTHER = (("F5199", "贸易", 6), ("F5193", "电子商务", 3), ("I6513", "网络科技", 4),
          ("M7519", "科技", 4), ("L7212", "投资管理", 1), ("L7259", "广告", 2),
          ("E4710", "建设", 2), ("G5431", "物流", 2), ("K7010", "房地产开发", 1),
          ("O8010", "家政服务", 1))
_GROUPS = (_MANUFACTURING, _RETAIL, _CATERING, _OTHER)
_RETAIL_SHARE, _CATERING_SHARE = 26, 12  # percent of every division's enterprises
_TIERS = (("A", 20), ("B", 65), ("C", 10), ("D", 5))
_NEW_STYLE_PERCENT = 60  # organisation codes of the post-2015 `MA…` style

# (task, department, industry group it covers or None for all): as province_policy.toml.
_TASKS = (("GS-QY", "SCJG", None), ("SP-JY", "SPJG", (1, 2)), ("TZ-SB", "TZSB", (0,)))
_HISTORY_START, _HISTORY_YEARS, _YEAR_DAYS = date(2024, 10, 1), 2, 365
_HISTORY_PER_MILLE = 80  # of the task's enterprises inspected per task per year

_TRADE_FIRST = "粤华鑫瑞盛泰嘉博宏锦新天金明万永富德安和中兴达隆益丰信诚康润佳顺辰越禾南珠岭海穗鹏"
_TRADE_SECOND = "源创辉远通祥利联成昌航宇晟汇邦科德宁杰腾峰晨弘旺星悦璟澜鼎睿泽宸朗森鸿发记"
_SURNAMES = ("陈李黄张梁林刘吴罗杨郑谢何许曾郭邓冯彭蔡王周叶钟卢苏潘朱赖余胡徐麦莫邱温江"
             "廖冼欧区谭马方庄萧严赵汤颜龚姚")
_GIVEN = "伟芳敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏飞建国文斌波宁琳晨欣怡浩宇锋嘉"
_RECUSAL_REASONS = ("近亲属在该企业任职", "曾在该企业任职未满两年", "持有该企业股权",
                    "与该企业存在其他利害关系")

_MAX_ENTERPRISES = 50_000_000  # organisation codes stay unique below 10**8 and 31**6
_CHUNK = 1 << 18

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_LOW32 = np.uint64(0xFFFFFFFF)


# ---- randomness: splitmix64 in numpy integer arithmetic ----

def _stream_key(seed: int, what: str) -> int:
    """Return the 64-bit key of a named stream."""
    digest = hashlib.blake2b(f"spotcheck-province:{seed}:{what}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big")


def _hash(seed: int, what: str, index: np.ndarray) -> np.ndarray:
    """Return splitmix64(key + index·γ) per index: 64 random bits, as uint64."""
    z = index.astype(np.uint64)
    z *= _GAMMA
    z += np.uint64(_stream_key(seed, what))
    z ^= z >> np.uint64(30)
    z *= _MIX1
    z ^= z >> np.uint64(27)
    z *= _MIX2
    z ^= z >> np.uint64(31)
    return z


def _halves(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the high and low 32 bits of each value, as uint64."""
    return bits >> np.uint64(32), bits & _LOW32


def _below(word: np.ndarray, bound: int) -> np.ndarray:
    """Return a 32-bit random word scaled to 0 ≤ x < bound, as int64."""
    return ((word * np.uint64(bound)) >> np.uint64(32)).astype(np.int64)


def _bounds(weights: Sequence[int]) -> np.ndarray:
    """Return the 32-bit upper bounds of categories with these integer weights."""
    total, running, bounds = sum(weights), 0, []
    for w in weights:
        running += w
        bounds.append((running << 32) // total)
    return np.array(bounds, dtype=np.uint64)


def _pick(word: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Return, per 32-bit word, the category it falls in."""
    return np.searchsorted(bounds, word, side="right").astype(np.int64)


# ---- tables built once ----

def _city_of(code: str) -> int:
    """Return the index in CITIES of a division's city."""
    return next(k for k, (prefix, _, _) in enumerate(CITIES) if code.startswith(prefix))


def _fixed(texts: Sequence[str]) -> np.ndarray:
    """Return UTF-8 texts as a fixed-width bytes array (NUL-padded)."""
    encoded = [t.encode() for t in texts]
    return np.array(encoded, dtype=f"S{max(map(len, encoded))}")


@dataclass(frozen=True, eq=False)
class _Tables:
    """Lookup tables derived from the constants above."""

    division_codes: np.ndarray    # 'S6' per division
    group_bounds: np.ndarray      # (divisions, 3) uint64: manufacturing | retail | catering | other
    industry_codes: np.ndarray    # 'S8' per industry
    industry_group: np.ndarray    # int64 group per industry
    industry_bounds: list[np.ndarray]
    group_offsets: list[int]
    tier_bounds: np.ndarray
    tier_codes: np.ndarray        # 'S16' per tier
    prefixes: np.ndarray          # UTF-8 name prefix per (division, variant)
    bodies: np.ndarray            # UTF-8 name body per (trade name, industry, suffix)
    uscc_value: np.ndarray        # USCC alphabet value per byte


_PREFIX_VARIANTS = 4
_SUFFIXES = ("有限公司", "股份有限公司")


def _prefixes() -> list[str]:
    """Return the name prefixes: 深圳市…, 深圳市南山区…/台山市…, 广东…, 深圳… per division."""
    out = []
    for code, name, _ in DIVISIONS:
        city = CITIES[_city_of(code)][1]
        own = city + "市" if code.endswith("00") else \
            name if name.endswith(("市", "县")) else f"{city}市{name}"
        out += [f"{city}市", own, PROVINCE_NAME, city]
    return out


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    """Return the lookup tables (built on first use)."""
    codes = [code for code, _, _ in DIVISIONS]
    if codes != sorted(set(codes)):
        raise AssertionError("DIVISIONS must be in ascending code order, without repeats")
    group_bounds = []
    for code in codes:
        cut, shares = 0, []
        for share in (CITIES[_city_of(code)][2], _RETAIL_SHARE, _CATERING_SHARE):
            cut += share
            shares.append((cut << 32) // 100)
        group_bounds.append(shares)
    industries = [entry for group in _GROUPS for entry in group]
    offsets = [0]
    for group in _GROUPS:
        offsets.append(offsets[-1] + len(group))
    words = [word for _, word, _ in industries]
    trades = [a + b for a in _TRADE_FIRST for b in _TRADE_SECOND]
    bodies = [f"{trade}{word}{suffix}" for trade in trades for word in words
              for suffix in _SUFFIXES]
    value = np.zeros(256, dtype=np.int64)
    value[list(USCC_ALPHABET.encode("ascii"))] = np.arange(len(USCC_ALPHABET))
    tables = _Tables(
        division_codes=np.array([c.encode() for c in codes], dtype="S6"),
        group_bounds=np.array(group_bounds, dtype=np.uint64),
        industry_codes=np.array([c.encode() for c, _, _ in industries], dtype="S8"),
        industry_group=np.repeat(np.arange(len(_GROUPS)), [len(g) for g in _GROUPS]),
        industry_bounds=[_bounds([w for _, _, w in group]) for group in _GROUPS],
        group_offsets=offsets[:-1],
        tier_bounds=_bounds([w for _, w in _TIERS]),
        tier_codes=np.array([t.encode() for t, _ in _TIERS], dtype="S16"),
        prefixes=_fixed(_prefixes()),
        bodies=_fixed(bodies),
        uscc_value=value)
    # Names and codes go into CSV unquoted: none may hold a separator, quote or NUL.
    for table in (tables.prefixes, tables.bodies, tables.industry_codes):
        if any(set(v) & set(b',"\r\n\0') for v in table.tolist()):
            raise AssertionError("a name or code table holds a CSV separator")
    return tables


# ---- the division blocks ----

@dataclass(frozen=True, eq=False)
class _Layout:
    """Which indices of 0..n-1 belong to each division (one block each, in code order)."""

    n: int
    starts: np.ndarray  # int64, len(DIVISIONS) + 1

    @classmethod
    def of(cls, n: int) -> _Layout:
        """Return the layout of a province of n enterprises."""
        counts = quota(n, [w for _, _, w in DIVISIONS])
        return cls(n, np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))

    def division(self, index: np.ndarray) -> np.ndarray:
        """Return the division of each enterprise index."""
        return np.searchsorted(self.starts, index, side="right") - 1

    def office_range(self, jurisdiction: str) -> tuple[int, int]:
        """Return the index range [start, stop) of the enterprises an office serves."""
        served = [k for k, (code, _, _) in enumerate(DIVISIONS) if code.startswith(jurisdiction)]
        return int(self.starts[served[0]]), int(self.starts[served[-1] + 1])


# ---- enterprises ----

@dataclass(frozen=True, eq=False)
class _Enterprises:
    """Generated enterprises of some indices, as indices into the tables."""

    index: np.ndarray     # int64
    division: np.ndarray  # int64
    ids: np.ndarray       # 'S18'
    order_key: np.ndarray  # uint64, ascending exactly as the ids sort
    industry: np.ndarray  # int64
    tier: np.ndarray      # int64
    prefix: np.ndarray    # int64
    body: np.ndarray      # int64


# Affine bijections of the index onto the organisation-code spaces (multipliers coprime to
# the space: odd and not a multiple of 5 for 10**8, not a multiple of 31 for 31**6).
_OLD_SPACE, _OLD_A, _OLD_B = 10**8, 73_939_133, 31_415_927
_NEW_SPACE, _NEW_A, _NEW_B = 31**6, 510_510_017, 271_828_183
_GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _codes(index: np.ndarray, division: np.ndarray,
           new_style: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return valid USCCs ('S18': 9, 1, division, organisation code, check) and sort keys.

    The organisation code (GB 11714: eight characters and a check) is an old all-digit code
    or a post-2015 `MA…` code, each an injective map of the index, so ids never repeat. The
    key orders the codes as their strings sort: division, then old before `MA`, then value.
    """
    tables = _tables()
    n = len(index)
    value = np.where(new_style, (index * _NEW_A + _NEW_B) % _NEW_SPACE,
                     (index * _OLD_A + _OLD_B) % _OLD_SPACE)
    radix = np.where(new_style, 31, 10)
    alphabet = np.frombuffer(USCC_ALPHABET.encode("ascii"), dtype=np.uint8)
    chars = np.empty((n, 18), dtype=np.uint8)
    chars[:, 0], chars[:, 1] = ord("9"), ord("1")
    chars[:, 2:8] = tables.division_codes.view(np.uint8).reshape(-1, 6)[division]
    rest = value.copy()
    for k in range(15, 7, -1):
        chars[:, k] = alphabet[rest % radix]
        rest //= radix
    chars[new_style, 8], chars[new_style, 9] = ord("M"), ord("A")
    org = chars[:, 8:16].astype(np.int64)
    org_values = np.where(org >= ord("A"), org - ord("A") + 10, org - ord("0"))
    check = 11 - (org_values @ np.array(_GB11714_WEIGHTS, dtype=np.int64)) % 11
    chars[:, 16] = np.where(check == 10, ord("X"), np.where(check == 11, ord("0"), check + 48))
    total = tables.uscc_value[chars[:, :17]] @ np.array(USCC_WEIGHTS, dtype=np.int64)
    chars[:, 17] = alphabet[(31 - total % 31) % 31]
    key = ((division.astype(np.uint64) << np.uint64(31))
           | (new_style.astype(np.uint64) << np.uint64(30)) | value.astype(np.uint64))
    return chars.view("S18").ravel(), key


def _enterprises(layout: _Layout, index: np.ndarray, seed: int) -> _Enterprises:
    """Return the enterprises of the given indices (any indices, in any order)."""
    tables = _tables()
    division = layout.division(index)
    tier_word, style_word = _halves(_hash(seed, "enterprise-tier-style", index))
    new_style = _below(style_word, 100) < _NEW_STYLE_PERCENT
    ids, key = _codes(index, division, new_style)
    group_word, industry_word = _halves(_hash(seed, "enterprise-industry", index))
    cuts = tables.group_bounds[division]
    group = (group_word[:, None] >= cuts).sum(axis=1)
    industry = np.empty(len(index), dtype=np.int64)
    for g, bounds in enumerate(tables.industry_bounds):
        rows = group == g
        industry[rows] = tables.group_offsets[g] + _pick(industry_word[rows], bounds)
    trade_word, style_word = _halves(_hash(seed, "enterprise-name", index))
    trade = _below(trade_word, len(_TRADE_FIRST) * len(_TRADE_SECOND))
    look = _below(style_word, 10_000)  # percent of the prefix variant, percent of the suffix
    variant = np.searchsorted(np.array([70, 85, 95]), look // 100, side="right")
    suffix = (look % 100 < 3).astype(np.int64)  # 3 % are 股份有限公司
    body = (trade * len(tables.industry_codes) + industry) * len(_SUFFIXES) + suffix
    return _Enterprises(index, division, ids, key, industry,
                        _pick(tier_word, tables.tier_bounds),
                        division * _PREFIX_VARIANTS + variant, body)


def _lines(*cells: Sequence[np.ndarray], end: bytes = b"\n") -> bytes:
    """Return one line per row: each cell is fixed-width byte columns joined, cells by commas.

    NUL padding is dropped at the end, so every value keeps its own length.
    """
    n = len(cells[0][0])
    comma = np.full((n, 1), ord(","), dtype=np.uint8)
    parts: list[np.ndarray] = []
    for k, cell in enumerate(cells):
        if k:
            parts.append(comma)
        parts += [np.ascontiguousarray(c).view(np.uint8).reshape(n, c.dtype.itemsize)
                  for c in cell]
    parts.append(np.full((n, len(end)), list(end), dtype=np.uint8))
    return np.hstack(parts).tobytes().replace(b"\0", b"")


def _names(prefix: np.ndarray, body: np.ndarray) -> list[str]:
    """Return enterprise names (one C-level decode and split, no per-row Python work)."""
    tables = _tables()
    text = _lines([tables.prefixes[prefix], tables.bodies[body]]).decode()
    return text.split("\n")[:-1]


# ---- history ----

def _history(chunk: _Enterprises, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the past inspections of a chunk: enterprise index, task, day since the start.

    In each of two years, each task inspected about 8 % of the enterprises in its scope.
    """
    group = _tables().industry_group[chunk.industry]
    found: list[tuple[np.ndarray, int, np.ndarray]] = []
    for t, (task, _, groups) in enumerate(_TASKS):
        scope = (np.ones(len(chunk.index), dtype=bool) if groups is None
                 else np.isin(group, groups))
        years = _halves(_hash(seed, f"history:{task}", chunk.index))
        for year, word in enumerate(years):
            rows = chunk.index[scope & (_below(word, 1000) < _HISTORY_PER_MILLE)]
            day = _below(_halves(_hash(seed, f"history-day:{task}", rows))[year], _YEAR_DAYS)
            found.append((rows, t, day + year * _YEAR_DAYS))
    index = np.concatenate([rows for rows, _, _ in found])
    tasks = np.concatenate([np.full(len(rows), t) for rows, t, _ in found])
    days = np.concatenate([day for _, _, day in found])
    order = np.lexsort((days, tasks, index))  # by enterprise, whatever the chunk size
    return index[order], tasks[order], days[order]


# ---- officers and recusals ----

def officer_count(enterprises: int) -> int:
    """Return how many officers a province of this many enterprises gets (N/200, ≥ 600)."""
    return max(_MIN_OFFICERS, enterprises // _ENTERPRISES_PER_OFFICER)


def _offices(total: int) -> list[tuple[str, str, int]]:
    """Return (department, jurisdiction, officers) of every office, province first.

    A division's share below two officers could never field a team of its own: such a lone
    officer is posted to the city office instead, where every division's visits can use them.
    """
    division_weights = [w * UNDERSTAFFED.get(code, 100) for code, _, w in DIVISIONS]
    manufacturing = [CITIES[_city_of(code)][2] for code, _, _ in DIVISIONS]
    offices: list[tuple[str, str, int]] = []
    per_department = quota(total, [share for _, _, share in DEPARTMENTS])
    for (department, _, _), count in zip(DEPARTMENTS, per_department, strict=True):
        province = max(_OFFICE_MINIMUM, count * _PROVINCE_SHARE // 100)
        city = max(_OFFICE_MINIMUM * len(CITIES), count * _CITY_SHARE // 100)
        # Special-equipment officers follow the factories, the others the enterprises.
        weights = ([w * m for w, m in zip(division_weights, manufacturing, strict=True)]
                   if department == "TZSB" else division_weights)
        city_weights = [sum(w for (code, _, _), w in zip(DIVISIONS, weights, strict=True)
                            if code.startswith(prefix)) for prefix, _, _ in CITIES]
        cities = {prefix: _OFFICE_MINIMUM + c for (prefix, _, _), c in zip(
            CITIES, quota(city - _OFFICE_MINIMUM * len(CITIES), city_weights), strict=True)}
        divisions = dict(zip((code for code, _, _ in DIVISIONS),
                             quota(count - province - city, weights), strict=True))
        for code, officers in divisions.items():
            if officers < _OFFICE_MINIMUM:
                divisions[code] = 0
                cities[code[:4]] += officers
        offices.append((department, PROVINCE_CODE, province))
        offices += [(department, prefix, officers) for prefix, officers in cities.items()]
        offices += [(department, code, officers) for code, officers in divisions.items()
                    if officers]
    return offices


def province_officers(enterprises: int, *, seed: int = PROVINCE_SEED) -> list[Inspector]:
    """Return the officers of a province of this many enterprises, in office order.

    The first two officers of every office hold their department's core qualification and a
    valid certificate (执法证), so every office can field a lawful team of its own.
    """
    places = [(department, place, serial) for department, place, count
              in _offices(officer_count(enterprises)) for serial in range(count)]
    k = np.arange(len(places), dtype=np.int64)
    capacity = np.zeros(len(places), dtype=np.int64)
    draws = np.array([_CAPACITY_DRAWS[d] for d, _, _ in places])
    for draw in range(max(_CAPACITY_DRAWS.values())):
        word = _halves(_hash(seed, f"officer-capacity:{draw}", k))[0]
        capacity = np.maximum(capacity, np.where(draws > draw, _below(word, _CAPACITY_SPAN + 1), 0))
    core_word, extra_word = _halves(_hash(seed, "officer-qualification", k))
    lapse_word, expiry_word = _halves(_hash(seed, "officer-certificate", k))
    surname_word, given_word = _halves(_hash(seed, "officer-name", k))
    columns = zip(places, (capacity + _CAPACITY_LOW).tolist(), _below(core_word, 100).tolist(),
                  _below(extra_word, 100).tolist(), _below(lapse_word, 1000).tolist(),
                  _below(expiry_word, 2**16).tolist(),
                  _below(surname_word, len(_SURNAMES)).tolist(),
                  _below(given_word, 3 * len(_GIVEN) ** 2).tolist(), strict=True)
    serials: dict[str, int] = {}
    officers = []
    for (department, place, serial), cap, core, extra, lapse, expiry, surname, given in columns:
        issuer = place.ljust(6, "0")
        serials[issuer] = serials.get(issuer, 0) + 1
        main, second, second_share = _QUALIFICATIONS[department]
        anchor = serial < _OFFICE_MINIMUM
        quals = {main} if anchor or core < _CORE_SHARE else set()
        if extra < second_share or not quals:
            quals.add(second)
        if lapse < _EXPIRED_PER_MILLE and not anchor:
            valid_until = _EXPIRED_FROM + timedelta(days=expiry % _EXPIRED_DAYS)
        else:
            valid_until = _VALID_FROM + timedelta(days=expiry % _VALID_DAYS)
        first, rest = divmod(given, len(_GIVEN) ** 2)
        name = _SURNAMES[surname] + _GIVEN[rest % len(_GIVEN)] + (
            _GIVEN[rest // len(_GIVEN)] if first else "")
        officers.append(Inspector(
            inspector_id=f"{issuer}-{serials[issuer]:05d}", name=name, department=department,
            jurisdiction=place, qualifications=tuple(sorted(quals)), capacity=cap,
            certificate_expiry=valid_until))
    return officers


def _conflicts(layout: _Layout, officers: Sequence[Inspector], seed: int) -> list[Conflict]:
    """Return about one recusal per ten officers, each with an enterprise the officer serves."""
    j = np.arange(len(officers) // 10, dtype=np.int64)
    officer_word, enterprise_word = _halves(_hash(seed, "conflict", j))
    reason = _below(_halves(_hash(seed, "conflict-reason", j))[0], len(_RECUSAL_REASONS))
    officer = _below(officer_word, len(officers))
    ranges = {place: layout.office_range(place) for place in {o.jurisdiction for o in officers}}
    start, stop = np.array([ranges[officers[k].jurisdiction] for k in officer.tolist()],
                           dtype=np.int64).reshape(-1, 2).T
    # A small province may leave a county's office without enterprises: no recusal there.
    kept = stop > start
    size = (stop - start)[kept].astype(np.uint64)
    index = start[kept] + ((enterprise_word[kept] * size) >> np.uint64(32)).astype(np.int64)
    ids = _enterprises(layout, index, seed).ids.astype("U18").tolist()
    found = (Conflict(inspector_id=officers[k].inspector_id, enterprise_id=eid,
                      reason=_RECUSAL_REASONS[r])
             for k, r, eid in zip(officer[kept].tolist(), reason[kept].tolist(), ids,
                                  strict=True))
    return list(dict.fromkeys(found))  # a pair drawn twice is recorded once


# ---- the registry and the files ----

def _check_size(n: int) -> None:
    if not 1 <= n <= _MAX_ENTERPRISES:
        raise ValueError(f"a synthetic province has 1 to {_MAX_ENTERPRISES:,} enterprises")


def _chunks(n: int) -> Iterator[np.ndarray]:
    """Yield the indices 0..n-1 in consecutive chunks."""
    for start in range(0, n, _CHUNK):
        yield np.arange(start, min(n, start + _CHUNK), dtype=np.int64)


def _text_column(size: int, like: np.ndarray) -> np.ndarray:
    """Return an empty text column of the dtype the registry keeps such a column in."""
    return np.empty(size, dtype=like.dtype)


def province_registry(n: int, *, seed: int = PROVINCE_SEED) -> Registry:
    """Return the registry snapshot of a synthetic 广东 of n enterprises, built in memory.

    The same n and seed give the same registry; `write_province_files` writes the same data.
    """
    _check_size(n)
    tables = _tables()
    layout = _Layout.of(n)
    ids = np.empty(n, dtype="S18")
    key = np.empty(n, dtype=np.uint64)
    columns = {name: np.empty(n, dtype=np.int32) for name in ("industry", "tier", "prefix",
                                                              "body", "division")}
    past: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for index in _chunks(n):
        chunk = _enterprises(layout, index, seed)
        where = slice(int(index[0]), int(index[-1]) + 1)
        ids[where], key[where] = chunk.ids, chunk.order_key
        for name, column in columns.items():
            column[where] = getattr(chunk, name)
        past.append(_history(chunk, seed))
    order = np.argsort(key, kind="stable")
    del key
    ids = ids[order]
    sorted_columns = {name: column[order] for name, column in columns.items()}
    del columns
    probe = EnterpriseColumns.from_lists([], [], [], [], [])
    names = _text_column(n, probe.names)
    for start in range(0, n, _CHUNK):
        part = slice(start, min(n, start + _CHUNK))
        names[part] = _names(sorted_columns["prefix"][part], sorted_columns["body"][part])
    enterprises = EnterpriseColumns(
        ids, names, tables.division_codes[sorted_columns["division"]],
        tables.industry_codes[sorted_columns["industry"]],
        tables.tier_codes[sorted_columns["tier"]])
    del sorted_columns

    row_of = np.empty(n, dtype=np.int64)
    row_of[order] = np.arange(n, dtype=np.int64)
    del order
    rows = row_of[np.concatenate([p[0] for p in past])]
    task = np.concatenate([p[1] for p in past])
    day = np.concatenate([p[2] for p in past])
    del row_of, past
    ranked = np.argsort((rows * len(_TASKS) + task) * (_HISTORY_YEARS * _YEAR_DAYS) + day,
                        kind="stable")
    rows, task, day = rows[ranked], task[ranked], day[ranked]
    probe_history = HistoryColumns.from_records([])
    task_names = _text_column(len(_TASKS), probe_history.tasks)
    task_names[:] = [t for t, _, _ in _TASKS]
    departments = _text_column(len(_TASKS), probe_history.departments)
    departments[:] = [d for _, d, _ in _TASKS]
    history = HistoryColumns(ids[rows], task_names[task], departments[task],
                             np.datetime64(_HISTORY_START, "D") + day.astype("timedelta64[D]"))

    officers = province_officers(n, seed=seed)
    return Registry.build(enterprises, officers, _conflicts(layout, officers, seed), history)


# the columns every release reads (the optional ones added since are left out)
ENTERPRISE_HEADER = base_column_names("enterprises")
INSPECTOR_HEADER = base_column_names("inspectors")
CONFLICT_HEADER = base_column_names("conflicts")
HISTORY_HEADER = base_column_names("history")


def write_province_files(folder: Path, n: int, *, seed: int = PROVINCE_SEED) -> dict[str, Path]:
    """Write the province of n enterprises as the four import files; return kind → path.

    UTF-8 CSV with DESIGN §4's English headers, `\\n` line ends; enterprises and history are
    written chunk by chunk in index order (grouped by division), so memory stays small.
    """
    _check_size(n)
    tables = _tables()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {kind: folder / f"{kind}.csv"
             for kind in ("enterprises", "inspectors", "conflicts", "history")}
    layout = _Layout.of(n)
    task_codes = _fixed([t for t, _, _ in _TASKS])
    task_departments = _fixed([d for _, d, _ in _TASKS])
    start = np.datetime64(_HISTORY_START, "D")
    with open(paths["enterprises"], "wb") as enterprises, open(paths["history"], "wb") as past:
        enterprises.write((",".join(ENTERPRISE_HEADER) + "\n").encode())
        past.write((",".join(HISTORY_HEADER) + "\n").encode())
        for index in _chunks(n):
            chunk = _enterprises(layout, index, seed)
            enterprises.write(_lines(
                [chunk.ids], [tables.prefixes[chunk.prefix], tables.bodies[chunk.body]],
                [tables.division_codes[chunk.division]], [tables.industry_codes[chunk.industry]],
                [np.array([t.encode() for t, _ in _TIERS], dtype="S1")[chunk.tier]]))
            rows, task, day = _history(chunk, seed)
            if len(rows):
                days = np.datetime_as_string(start + day.astype("timedelta64[D]")).astype("S10")
                past.write(_lines([chunk.ids[rows - int(index[0])]], [task_codes[task]],
                                  [task_departments[task]], [days]))

    officers = province_officers(n, seed=seed)
    with open(paths["inspectors"], "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(INSPECTOR_HEADER)
        writer.writerows((o.inspector_id, o.name, o.department, o.jurisdiction,
                          ";".join(o.qualifications), o.capacity,
                          o.certificate_expiry.isoformat()) for o in officers)
    with open(paths["conflicts"], "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(CONFLICT_HEADER)
        writer.writerows((c.inspector_id, c.enterprise_id, c.reason)
                         for c in _conflicts(layout, officers, seed))
    return paths
