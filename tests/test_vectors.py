"""Exact vectors: DESIGN §6's test vector, a hand-derived plan snapshot, round-v1 and seeds.

Expected values come from DESIGN.md literally or from plain hashlib/Fraction arithmetic in
this file, never from the code under test.
"""

from __future__ import annotations

import hashlib
import math
from datetime import date
from fractions import Fraction

import numpy as np
import pytest
from builders import enterprise, inspector

import spotcheck
from spotcheck import Conflict, HistoryRecord, InvalidInputError, Registry
from spotcheck.demo import DEMO_SEED, synthetic_city
from spotcheck.formats.bundle import output_files
from spotcheck.models.identifiers import uscc_check_character
from spotcheck.scheduler import costs, fasthash, hashes

SEED = "20261001-0394857261-5520183746"
SEED_HASH = "dbf7b71614eee8e0d3a3c7025ca5404646756542ee48f30d5a39a7aca17de47a"
QUARTER = "2026Q4"
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def sha(text: str) -> str:
    """Return the hex SHA-256 of the UTF-8 bytes of `text`."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_character(body: str) -> str:
    """Return the GB 32100 check character, written out from DESIGN §4."""
    weights = [pow(3, i, 31) for i in range(17)]
    assert weights == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    check = 31 - sum(ALPHABET.index(c) * w for c, w in zip(body, weights, strict=True)) % 31
    return ALPHABET[0 if check == 31 else check]


TEN = [f"91330102{i:09d}" + check_character(f"91330102{i:09d}") for i in range(1, 11)]


def draw_ticket(task: str, enterprise_id: str, quarter: str = QUARTER) -> str:
    """Return the draw-v1 ticket by DESIGN §6."""
    return sha(f"draw-v1:{SEED_HASH}:{quarter}:{task}:{enterprise_id}")


def assign_cost(enterprise_id: str, inspector_id: str) -> int:
    """Return the assign-v1 cost by DESIGN §6."""
    return int(sha(f"assign-v1:{SEED_HASH}:{QUARTER}:{enterprise_id}:{inspector_id}")[:10], 16)


def mix64(z: int) -> int:
    """Return assign-v2's mix64 (the splitmix64 finaliser) written out from DESIGN §6."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
    return z ^ (z >> 31)


def assign_key(kind: str, identifier: str) -> int:
    """Return assign-v2's visit_key ("E") or officer_key ("I") by DESIGN §6."""
    return int(sha(f"assign-v2:{SEED_HASH}:{QUARTER}:{kind}:{identifier}")[:16], 16)


def assign_cost_v2(enterprise_id: str, inspector_id: str) -> int:
    """Return the assign-v2 cost by DESIGN §6."""
    return mix64(assign_key("E", enterprise_id) ^ assign_key("I", inspector_id)) >> 24


COSTS = {"assign-v1": assign_cost, "assign-v2": assign_cost_v2}


def offset(task: str, tier: str, jurisdiction: str, seed_hash: str = SEED_HASH) -> Fraction:
    """Return round-v1's v by DESIGN §6."""
    digest = sha(f"round-v1:{seed_hash}:{QUARTER}:{task}:{tier}:{jurisdiction}")
    return Fraction(int(digest[:16], 16), 2**64)


def one_tier_policy(ratio: str, min_ratio: str = "0.0", cooldown_months: int = 0,
                    task: str = "T01", assign: str | None = None) -> tuple[spotcheck.Policy, bytes]:
    """Return a one-tier (A), one-task policy with the given ratio written as in TOML (and the
    assign rule, when given)."""
    rule = f'assign = "{assign}"\n' if assign else ""
    text = f"""schema = 1
team_size = 2
{rule}
[tiers.A]
ratio = {ratio}
min_ratio = {min_ratio}
quarters = [4]
cooldown_months = {cooldown_months}
priority = 1

[[tasks]]
code = "{task}"
department = "SCJG"
"""
    return spotcheck.parse_policy(text), text.encode()


def ten_registry(history: tuple[HistoryRecord, ...] = ()) -> Registry:
    """Return the ten vector enterprises (tier A, 330102) with six officers, three lawful.

    INS-0001..0003 are lawful SCJG officers serving 3301 (INS-0003's certificate ends on
    2026-12-31, the quarter's last day, so it is valid), except that INS-0001 must recuse from
    6Q. INS-0004's certificate lapses on 2026-12-30, INS-0005 serves 330105 only, and INS-0006
    belongs to TZSB: none of them may inspect these enterprises.
    """
    enterprises = [enterprise(i) for i in range(1, 11)]
    assert [e.enterprise_id for e in enterprises] == TEN
    officers = [inspector(1), inspector(2), inspector(3, expiry=date(2026, 12, 31)),
                inspector(4, expiry=date(2026, 12, 30)), inspector(5, jurisdiction="330105"),
                inspector(6, department="TZSB")]
    conflicts = [Conflict(inspector_id="INS-0001", enterprise_id="91330102000000006Q")]
    return Registry.build(enterprises, officers, conflicts, history)


def test_seed_hash_vector() -> None:
    """The seed hashes to DESIGN's seed_hash, by hashlib and by spotcheck.seed_hash."""
    assert sha(SEED) == SEED_HASH
    assert spotcheck.seed_hash(SEED) == SEED_HASH


def test_ten_enterprise_ids() -> None:
    """The ten vector ids carry the check characters DESIGN lists, and the code agrees."""
    assert TEN[0] == "913301020000000019"
    assert TEN[1] == "91330102000000002C"
    assert TEN[5] == "91330102000000006Q"
    assert TEN[6] == "91330102000000007U"
    assert TEN[9] == "913301020000000107"
    assert check_character("91350100M000100Y4") == "3"
    assert all(uscc_check_character(code[:17]) == code[17] for code in TEN)


def test_three_smallest_tickets() -> None:
    """The three smallest draw-v1 tickets are 7U, 6Q, 107 with DESIGN's prefixes."""
    ranked = sorted((draw_ticket("T01", e), e) for e in TEN)
    assert [(t[:8], e) for t, e in ranked[:3]] == [
        ("074182ea", "91330102000000007U"),
        ("3990a89e", "91330102000000006Q"),
        ("3f0dd20d", "913301020000000107"),
    ]
    for code in TEN:
        assert spotcheck.ticket(SEED_HASH, QUARTER, "T01", code) == draw_ticket("T01", code)


def test_cost_vector() -> None:
    """cost(913301020000000019, INS-0001) is 70391270801, by hashlib and by spotcheck.cost."""
    assert assign_cost("913301020000000019", "INS-0001") == 70391270801
    assert spotcheck.cost(SEED_HASH, QUARTER, "913301020000000019", "INS-0001") == 70391270801


def test_assign_v2_vector_by_hand() -> None:
    """DESIGN's assign-v2 vector holds for plain hashlib and integer arithmetic."""
    assert mix64(1) == 6238072747940578789
    assert assign_key("E", "913301020000000019") == 0x55AEFC66F1196667
    assert assign_key("I", "INS-0001") == 0x65D00CF1934D3AAA
    assert assign_cost_v2("913301020000000019", "INS-0001") == 1629257641


@pytest.mark.parametrize("native", [True, False], ids=["native", "numpy-hashlib"])
def test_assign_v2_vector_by_spotcheck(native: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """spotcheck gives DESIGN's assign-v2 vector one pair at a time and vectorised (keys
    hashed once, costs in uint64 arithmetic, each visit's cheapest kept), natively or not."""
    if native and not fasthash.native():
        pytest.skip("the native loops were not built here")
    if not native:
        monkeypatch.setattr(fasthash, "_native", None)
    enterprise_id, inspector_id = "913301020000000019", "INS-0001"
    assert hashes.mix64(1) == 6238072747940578789
    assert hashes.visit_key(SEED_HASH, QUARTER, enterprise_id) == 0x55AEFC66F1196667
    assert hashes.officer_key(SEED_HASH, QUARTER, inspector_id) == 0x65D00CF1934D3AAA
    assert spotcheck.cost(SEED_HASH, QUARTER, enterprise_id, inspector_id,
                          assign="assign-v2") == 1629257641
    assert costs.mix64(np.array([1], dtype=np.uint64)).tolist() == [6238072747940578789]
    pricing = costs.PairCosts.build("assign-v2", SEED_HASH, QUARTER,
                                    np.array([enterprise_id.encode()], dtype="S18"),
                                    np.array([inspector_id.encode()], dtype="S32"))
    assert pricing.visit_keys.tolist() == [0x55AEFC66F1196667]
    assert pricing.officer_keys.tolist() == [0x65D00CF1934D3AAA]
    one = np.zeros(1, dtype=np.int64)
    assert pricing.pairs(one, one).tolist() == [1629257641]
    kept, kept_costs, sizes, _ = pricing.cheapest([one], keep=1)
    assert (kept.tolist(), kept_costs.tolist(), sizes.tolist()) == ([0], [1629257641], [1])


def test_round_offset_vector() -> None:
    """round_offset is the exact fraction int(sha256(round-v1 string)[:16], 16) / 2^64."""
    for tier, place in (("A", "330102"), ("D", "330105")):
        got = spotcheck.round_offset(SEED_HASH, QUARTER, "T01", tier, place)
        assert isinstance(got, Fraction)
        assert got == offset("T01", tier, place)
        assert 0 <= got < 1


@pytest.mark.parametrize("assign", [None, "assign-v1", "assign-v2"])
def test_plan_snapshot_draws_three_smallest_tickets(assign: str | None) -> None:
    """Ratio 0.3 of ten gives target 3 (any v < 1): the plan draws 7U, 6Q, 107 in that order,
    and staffs them by the policy's assign rule (assign-v2 when it names none)."""
    policy, _ = one_tier_policy("0.3", assign=assign)
    plan = spotcheck.plan_quarter(ten_registry(), policy, QUARTER, SEED)
    assign_cost = COSTS[assign or "assign-v2"]
    assert plan.assign == (assign or "assign-v2")
    assert plan.seed_hash == SEED_HASH
    [row] = plan.strata
    assert (row.task, row.tier, row.jurisdiction, row.population, row.eligible, row.target,
            row.floor, row.drawn, row.shortfall) == ("T01", "A", "330102", 10, 10, 3, 0, 3, 0)
    assert [(d.enterprise_id, d.rank) for d in plan.draws] == [
        ("91330102000000007U", 1), ("91330102000000006Q", 2), ("913301020000000107", 3)]
    assert [d.ticket for d in plan.draws] == [draw_ticket("T01", d.enterprise_id)
                                              for d in plan.draws]
    assert plan.skipped == ()
    # Slack capacity: each team is the two cheapest lawful officers. An unlawful officer is
    # the cheapest of all six for every drawn enterprise (INS-0004 under assign-v1, INS-0004
    # or INS-0006 under assign-v2), so honouring each rule shows.
    lawful = {"91330102000000007U": ("INS-0001", "INS-0002", "INS-0003"),
              "91330102000000006Q": ("INS-0002", "INS-0003"),
              "913301020000000107": ("INS-0001", "INS-0002", "INS-0003")}
    expected = set()
    for code, officers in lawful.items():
        everyone = sorted((assign_cost(code, f"INS-{k:04d}"), f"INS-{k:04d}") for k in range(1, 7))
        assert everyone[0][1] in ("INS-0004", "INS-0005", "INS-0006")
        costs = sorted((assign_cost(code, o), o) for o in officers)
        expected |= {(code, "SCJG", o, c) for c, o in costs[:2]}
    assert {(a.enterprise_id, a.department, a.inspector_id, a.cost)
            for a in plan.assignments} == expected
    assert {a.inspector_id for a in plan.assignments} == {"INS-0001", "INS-0002", "INS-0003"}


def test_plan_snapshot_cooldown_boundary() -> None:
    """A 3-month cooldown for 2026Q4 excludes an inspection on 2026-07-01 but not 2026-06-30."""
    history = (HistoryRecord(enterprise_id="91330102000000007U", task="T01",
                             inspected_on=date(2026, 7, 1)),
               HistoryRecord(enterprise_id="91330102000000006Q", task="OTHER",
                             inspected_on=date(2026, 6, 30)))
    policy, _ = one_tier_policy("0.3", cooldown_months=3)
    plan = spotcheck.plan_quarter(ten_registry(history), policy, QUARTER, SEED)
    [row] = plan.strata
    assert (row.population, row.eligible, row.target) == (10, 9, 3)
    # 7U is out; ranks are among the nine eligible, by ticket.
    assert [(d.enterprise_id, d.rank) for d in plan.draws] == [
        ("91330102000000006Q", 1), ("913301020000000107", 2), ("91330102000000008Y", 3)]
    ranked = sorted((draw_ticket("T01", e), e) for e in TEN if e != "91330102000000007U")
    assert [e for _, e in ranked[:3]] == [d.enterprise_id for d in plan.draws]


def test_plan_snapshot_fractional_target() -> None:
    """Ratio 0.25 of ten: target floor(2.5 + v) with v from hashlib, the smallest tickets drawn."""
    policy, _ = one_tier_policy("0.25", min_ratio="0.15")
    plan = spotcheck.plan_quarter(ten_registry(), policy, QUARTER, SEED)
    v = offset("T01", "A", "330102")
    target = math.floor(Fraction(25, 100) * 10 + v)
    floor = min(target, math.floor(Fraction(15, 100) * 10 + v))
    [row] = plan.strata
    assert (row.target, row.floor) == (target, floor)
    ranked = [e for _, e in sorted((draw_ticket("T01", e), e) for e in TEN)]
    assert [d.enterprise_id for d in plan.draws] == ranked[:target]


ROUND_CASES = [
    # (ratio as written, min_ratio as written, N, enterprises out by cooldown)
    ("0.07", "0.07", 100, 0),   # 0.07 * 100 = 7.000000000000001 in binary floats
    ("0.29", "0.01", 100, 0),   # 0.29 * 100 = 28.999999999999996 in binary floats
    ("0.57", "0.29", 100, 0),   # 0.57 * 100 = 56.99999999999999
    ("0.15", "0.1", 40, 10),    # integral: 6 of 40, with 30 eligible
    ("0.1", "0.03", 30, 0),
    ("0.33", "0.0", 3, 0),      # 0.99: target is 0 or 1 by v
    ("0.6", "0.3", 10, 8),      # ratio·N = 6 but only 2 eligible: target = E
    ("1.0", "1.0", 12, 0),
]


@pytest.mark.parametrize(("ratio", "min_ratio", "population", "cooled"), ROUND_CASES)
def test_round_v1_target_and_floor_are_exact(ratio: str, min_ratio: str, population: int,
                                             cooled: int) -> None:
    """target = min(E, floor(ratio·N + v)) and floor = min(target, ...) in exact fractions."""
    enterprises = [enterprise(i, "330105") for i in range(1, population + 1)]
    history = [HistoryRecord(enterprise_id=e.enterprise_id, task="T01",
                             inspected_on=date(2026, 9, 1)) for e in enterprises[:cooled]]
    officers = [inspector(k) for k in range(1, 4)]
    registry = Registry.build(enterprises, officers, (), history)
    policy, _ = one_tier_policy(ratio, min_ratio, cooldown_months=1)
    plan = spotcheck.plan_quarter(registry, policy, QUARTER, SEED)
    [row] = plan.strata
    eligible = population - cooled
    v = offset("T01", "A", "330105")
    target = min(eligible, math.floor(Fraction(ratio) * population + v))
    floor = min(target, math.floor(Fraction(min_ratio) * population + v))
    assert (row.population, row.eligible, row.target, row.floor) == (
        population, eligible, target, floor)
    assert row.drawn == target
    if (Fraction(ratio) * population).denominator == 1:
        assert row.target == min(eligible, Fraction(ratio) * population)


@pytest.mark.parametrize(("ratio", "v", "expected"), [
    ("0.29", Fraction(0), 29),                      # float: floor(28.999999999999996) = 28
    ("0.07", Fraction(2**64 - 1, 2**64), 7),        # float: floor(7.000000000000001 + 1.0) = 8
    ("0.57", Fraction(0), 57),
    ("0.57", Fraction(2**64 - 1, 2**64), 57),
    ("0.295", Fraction(1, 2) - Fraction(1, 2**64), 29),
    ("0.295", Fraction(1, 2), 30),
])
def test_round_v1_exact_at_extreme_offsets(monkeypatch: pytest.MonkeyPatch, ratio: str,
                                           v: Fraction, expected: int) -> None:
    """With v forced to 0 or 1 - 2^-64, targets are the exact-decimal values, not float's."""
    import spotcheck.scheduler.draw

    calls: list[tuple[str, ...]] = []

    def forced(*args: str) -> Fraction:
        calls.append(args)
        return v

    monkeypatch.setattr(spotcheck.scheduler.draw, "round_offset", forced)
    enterprises = [enterprise(i) for i in range(1, 101)]
    registry = Registry.build(enterprises, [inspector(k) for k in range(1, 4)])
    policy, _ = one_tier_policy(ratio, ratio)
    [row] = spotcheck.plan_quarter(registry, policy, QUARTER, SEED).strata
    assert calls == [(SEED_HASH, QUARTER, "T01", "A", "330102")]
    assert (row.target, row.floor) == (expected, expected)


@pytest.mark.parametrize("seed", [
    "2026:Q4", ":", " 20261001", "20261001 ", "\u300020261001", "2026\t1001", "2026\n1001",
    "2026\x001001", "2026\x7f1001", "2026\u200b1001", "2026\u20281001", "",
    pytest.param("2026\udcff", id="lone-surrogate"),
])
def test_bad_seeds_are_rejected(seed: str) -> None:
    """A seed with ':', white space at an end or a control character is refused, not cleaned."""
    with pytest.raises(InvalidInputError, match="seed"):
        spotcheck.seed_hash(seed)
    policy, _ = one_tier_policy("0.3")
    with pytest.raises(InvalidInputError, match="seed"):
        spotcheck.plan_quarter(ten_registry(), policy, QUARTER, seed)


def test_seed_is_nfc_normalised() -> None:
    """A decomposed seed hashes as its NFC form, and the plan records the NFC form."""
    composed, decomposed = "季度-caf\u00e9-2026", "季度-cafe\u0301-2026"
    assert composed != decomposed
    assert spotcheck.seed_hash(decomposed) == spotcheck.seed_hash(composed) == sha(composed)
    policy, _ = one_tier_policy("0.3")
    plan = spotcheck.plan_quarter(ten_registry(), policy, QUARTER, decomposed)
    assert plan.seed == composed
    assert plan.seed_hash == sha(composed)


# Output files of a 20,000-enterprise city whose officers have a sixth of their capacity
# (78 strata cut by capacity, 85 joint visits), recorded when the feasibility flow, the
# turn order and the hashing were rewritten for province scale: the earlier and the later
# code gave these same bytes, and any later change of behaviour shows here. assign-v1 keeps
# them all; assign-v2 (the default since) changes only the teams.
TIGHT_CITY_OUTPUTS = {
    "assignments.csv": "734df8d67029c15e3b235e235243221ef309315dd8d8d473024f70ffad8db4f4",
    "draws.csv": "533ea738fbc96f538a81f5864301e5f159ddfa1a9c17aa80f0242d65686e4159",
    "shortfalls.csv": "e3a937cb833c4f3cad6f7d62122468bcb723718278cdf34c344dd05f611c49b6",
    "skipped.csv": "8077db70dcc781d82fabee69c0711bd0e4652d6c130d979520ea4a5809ea54ed",
    "strata.csv": "1c2a37e404551f40215bd21a9289dddbbf08984c858e2219178141aa90b77956",
    "visits.csv": "a9fa38fd02cb4503c9c6e54ea4faee0f2f4ade9ea412bae4f859ede6447e23a6",
}


TIGHT_CITY_ASSIGN_V2 = "7b937a7c90d9d8039f02c9c4c181f8226c59b67b48a7d7668fa6f7a0d6705ecb"


@pytest.mark.parametrize("assign", ["assign-v1", "assign-v2"])
def test_tight_city_plan_is_pinned(assign: str) -> None:
    """A capacity-bound plan's output files hash to the values recorded for it, by rule."""
    city = synthetic_city(20_000)
    tight = Registry.build(city.enterprises,
                           [o.model_copy(update={"capacity": o.capacity // 6})
                            for o in city.inspectors], city.conflicts, city.history)
    policy, _ = spotcheck.load_policy()
    plan = spotcheck.plan_quarter(tight, policy, "2026Q4", DEMO_SEED, workers=1, assign=assign)
    assert sum(1 for s in plan.strata if s.drawn < s.target) == 78
    digests = {name: hashlib.sha256(data).hexdigest()
               for name, data in sorted(output_files(plan).items())}
    expected = dict(TIGHT_CITY_OUTPUTS)
    if assign == "assign-v2":
        expected["assignments.csv"] = TIGHT_CITY_ASSIGN_V2
    assert digests == expected
