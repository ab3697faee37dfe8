"""The policy file (TOML, schema 1, DESIGN §5): tiers, their ratios and rounds, and tasks."""

from __future__ import annotations

import itertools
import re
import tomllib
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from spotcheck.errors import PolicyError, RowProblem
from spotcheck.limits import POLICY_BYTES, read_bounded, size_text
from spotcheck.models.identifiers import (
    JURISDICTION_PREFIX,
    QUALIFICATION,
    TASK_CODE,
    TIER_NAME,
    code_problem,
)

_STRICT = ConfigDict(extra="forbid", frozen=True, strict=False)


def exact(value: float) -> Fraction:
    """Return a policy number as the exact fraction of its shortest decimal form."""
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


class TierPolicy(BaseModel):
    """How one credit-risk tier (信用风险分类) is sampled."""

    model_config = _STRICT

    label: str = ""
    ratio: float = Field(ge=0, le=1)
    min_ratio: float = Field(default=0.0, ge=0, le=1)
    quarters: tuple[int, ...] = (1, 2, 3, 4)
    cooldown_months: int = Field(default=0, ge=0, le=120)
    priority: int
    # at most this many inspections of one enterprise a calendar year, across every task
    # and department (国办发〔2024〕54号); None: no cap (optional key)
    annual_cap: int | None = Field(default=None, ge=1, le=366)

    @field_validator("quarters")
    @classmethod
    def _quarters_in_range(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        bad = [q for q in value if not 1 <= q <= 4]
        if bad:
            raise ValueError(f"quarters must be within 1-4, got {bad}")
        if len(set(value)) != len(value):
            raise ValueError("quarters must not repeat")
        return tuple(sorted(value))

    @property
    def exact_ratio(self) -> Fraction:
        """Return the ratio as an exact fraction."""
        return exact(self.ratio)

    @property
    def exact_min_ratio(self) -> Fraction:
        """Return the floor ratio as an exact fraction."""
        return exact(self.min_ratio)


class TaskPolicy(BaseModel):
    """One sampling task (抽查任务) of one department."""

    model_config = _STRICT

    code: str
    name: str = ""
    department: str = Field(min_length=1, max_length=64)
    jurisdictions: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    qualification: str = ""
    authority: str = Field(default="", max_length=128)  # 抽查机关 of this task (optional)
    check_type: Literal["", "定向", "不定向"] = ""  # 抽查类型; "" = from the task's scope
    # experts (专家) joining each visit on top of its officers, holding expert_qualification
    experts: int = Field(default=0, ge=0, le=10)
    expert_qualification: str = ""

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not TASK_CODE.fullmatch(value):
            raise ValueError("a task code is 1-32 characters of A-Z a-z 0-9 _ . -")
        return value

    @field_validator("department", "industries", "qualification")
    @classmethod
    def _visible(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        # Compared exactly with the registry's codes: an invisible character in either
        # would make an officer or enterprise silently never match the task.
        for item in (value,) if isinstance(value, str) else value:
            problem = code_problem(item)
            if problem is not None:
                raise ValueError(f"{item!r}: {problem}")
        return value

    @field_validator("jurisdictions")
    @classmethod
    def _jurisdictions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [j for j in value if not JURISDICTION_PREFIX.fullmatch(j)]
        if bad:
            raise ValueError(f"jurisdiction prefixes are 1-6 digits, got {bad}")
        return tuple(sorted(set(value)))

    @field_validator("industries")
    @classmethod
    def _industries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(value)))

    @field_validator("qualification", "expert_qualification")
    @classmethod
    def _qualification(cls, value: str) -> str:
        if value and not QUALIFICATION.fullmatch(value):
            raise ValueError("a qualification has no spaces, ';', ',' or '、'")
        return value

    def in_scope(self, jurisdiction: str, industry: str) -> bool:
        """Return whether an enterprise with this jurisdiction and industry is in scope."""
        return (not self.jurisdictions or jurisdiction.startswith(self.jurisdictions)) and (
            not self.industries or industry.startswith(self.industries)
        )


class ResultCode(BaseModel):
    """One inspection result code (检查结果) of the policy's `[results]` table (DESIGN §10)."""

    model_config = _STRICT

    label: str = Field(min_length=1, max_length=64)
    finding: bool  # whether the result is a finding (问题), for the outcome statistics
    exclusive: bool = False  # may not be combined with another code (e.g. 1 未发现问题)


# The default list follows a deployed provincial system (no national list is published).
DEFAULT_RESULT_CODES: dict[str, ResultCode] = {
    code: ResultCode(label=label, finding=finding, exclusive=code == "1")
    for code, label, finding in (
        ("1", "未发现问题", False), ("A", "发现问题待后续处理", True),
        ("B", "未按规定公示应当公示的信息", True), ("C", "公示信息隐瞒真实情况弄虚作假", True),
        ("6", "通过登记的住所（经营场所）无法联系", True), ("E", "发现问题经责令已改正", True),
        ("F", "未发现开展本次抽查涉及的经营活动", False), ("7", "已关闭停业或正在组织清算", False),
        ("8", "不配合检查情节严重", True), ("9", "注销", False))}
RESULT_CODE = re.compile(r"[0-9A-Za-z]{1,8}")

# Keys added to schema 1 after its first release: left out of the manifest while unset, so
# a policy without them is recorded (and verified) exactly as before they existed.
OPTIONAL_POLICY_KEYS = ("authority", "results", "publish_within_working_days", "assign",
                        "workload", "officer_cooldown_months", "shortfall_advice")
OPTIONAL_TASK_KEYS = ("authority", "check_type", "experts", "expert_qualification")
OPTIONAL_TIER_KEYS = ("annual_cap",)


class Policy(BaseModel):
    """A validated policy: team size, cooldown scope, tiers and tasks."""

    model_config = _STRICT

    schema_: Literal[1] = Field(alias="schema")
    name: str = ""
    team_size: int = Field(ge=2, le=10)
    cooldown_scope: Literal["any", "task"] = "any"
    tiers: dict[str, TierPolicy]
    tasks: tuple[TaskPolicy, ...]
    authority: str = Field(default="", max_length=128)  # 抽查机关 (DESIGN §10)
    results: dict[str, ResultCode] = Field(default_factory=lambda: dict(DEFAULT_RESULT_CODES))
    publish_within_working_days: int = Field(default=20, ge=1, le=120)
    # the teams' cost rule (DESIGN §6): assign-v2 for new plans; assign-v1 as every plan
    # made before assign-v2 (a bundle names its own rule in algorithms.assign)
    assign: Literal["assign-v1", "assign-v2"] = "assign-v2"
    # "balanced": teams of minimum cost under the smallest even utilisation cap that still
    # staffs every visit (docs/ALLOCATION.md, "Balanced workload")
    workload: Literal["minimum-cost", "balanced"] = "minimum-cost"
    # an officer may not inspect an enterprise they inspected within this many months (轮岗)
    officer_cooldown_months: int = Field(default=0, ge=0, le=120)
    # record in the bundle the extra officer-visits that would staff every cut stratum
    shortfall_advice: bool = False

    @field_validator("results")
    @classmethod
    def _result_codes(cls, value: dict[str, ResultCode]) -> dict[str, ResultCode]:
        bad = sorted(code for code in value if not RESULT_CODE.fullmatch(code))
        if bad:
            raise ValueError(f"result codes are 1-8 letters or digits, got {bad}")
        if not value:
            raise ValueError("at least one result code is required")
        return dict(sorted(value.items()))

    def tier_order(self) -> list[str]:
        """Return the tier names sorted by priority, highest first."""
        return sorted(self.tiers, key=lambda t: -self.tiers[t].priority)

    def task(self, code: str) -> TaskPolicy:
        """Return the task with this code."""
        return next(t for t in self.tasks if t.code == code)

    def as_manifest(self) -> dict[str, Any]:
        """Return the parsed policy as plain JSON-ready data (optional keys only when set)."""
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True)
        for key in OPTIONAL_POLICY_KEYS:
            if key not in self.model_fields_set:
                del data[key]
        for task, dumped in zip(self.tasks, data["tasks"], strict=True):
            for key in OPTIONAL_TASK_KEYS:
                if key not in task.model_fields_set:
                    del dumped[key]
        for name, tier in self.tiers.items():
            for key in OPTIONAL_TIER_KEYS:
                if key not in tier.model_fields_set:
                    del data["tiers"][name][key]
        return data

    @property
    def annual_caps(self) -> dict[str, int]:
        """Return the tiers that set annual_cap, with their caps."""
        return {name: tier.annual_cap for name, tier in self.tiers.items()
                if tier.annual_cap is not None}

    @property
    def expert_tasks(self) -> bool:
        """Return whether any task asks for experts."""
        return any(task.experts for task in self.tasks)


def _location(loc: tuple[int | str, ...], raw: dict[str, Any]) -> str:
    parts: list[str] = []
    node: Any = raw
    for item in loc:
        if isinstance(item, int) and isinstance(node, list) and item < len(node):
            code = node[item].get("code") if isinstance(node[item], dict) else None
            parts[-1] = f"{parts[-1]}[{item}]" + (f" (code {code!r})" if code else "")
            node = node[item]
            continue
        parts.append(str(item))
        node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts)


def parse_policy(text: str, source: str = "policy.toml") -> Policy:
    """Return the policy parsed from TOML text, or raise PolicyError naming each bad key."""
    if len(text) > POLICY_BYTES:  # a bundle's policy.toml; a file is bounded as it is read
        raise PolicyError(f"{source}: the policy file is larger than {size_text(POLICY_BYTES)}")
    try:
        raw = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        # tomllib recurses into nested arrays and tables: thousands deep exhaust the stack.
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise PolicyError([RowProblem(source, None, None, None, f"not valid TOML: {why}")],
                          headline=f"{source}: the policy file is refused") from None
    problems: list[RowProblem] = []

    def problem(key: str, reason: str) -> None:
        problems.append(RowProblem(source, None, None, None, f"key {key!r}: {reason}"))

    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            key = _location(tuple(err["loc"]), raw)
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key (not part of policy schema 1)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            elif key == "team_size" and err["type"] == "greater_than_equal":
                msg = ("at least two officers per inspection "
                       "(行政处罚法 第42条 执法人员不得少于两人); "
                       f"got {raw.get('team_size')!r}")
            problem(key, msg)
        raise PolicyError(problems, headline=f"{source}: the policy file is refused") from None

    for name, tier in policy.tiers.items():
        if not TIER_NAME.fullmatch(name):
            problem(f"tiers.{name}", "a tier name is a letter followed by letters, digits or _")
        if tier.exact_min_ratio > tier.exact_ratio:
            problem(f"tiers.{name}.min_ratio",
                    f"min_ratio {tier.min_ratio} is above ratio {tier.ratio}")
    if not policy.tiers:
        problem("tiers", "at least one tier is required")
    by_priority = sorted(policy.tiers.items(), key=lambda item: item[1].priority)
    seen: dict[int, str] = {}
    for name, tier in by_priority:
        if tier.priority in seen:
            problem(f"tiers.{name}.priority",
                    f"priority {tier.priority} is also used by tier {seen[tier.priority]}")
        seen[tier.priority] = name
    for (low_name, low), (high_name, high) in itertools.pairwise(by_priority):
        if high.priority == low.priority:
            continue
        if high.exact_ratio < low.exact_ratio:
            problem(f"tiers.{high_name}.ratio",
                    f"tier {high_name} has higher priority than {low_name} but a lower ratio "
                    f"({high.ratio} < {low.ratio})")
        if high.exact_min_ratio < low.exact_min_ratio:
            problem(f"tiers.{high_name}.min_ratio",
                    f"tier {high_name} has higher priority than {low_name} but a lower min_ratio "
                    f"({high.min_ratio} < {low.min_ratio})")
    for index, task in enumerate(policy.tasks):
        if task.expert_qualification and not task.experts:
            problem(f"tasks[{index}] (code {task.code!r}).expert_qualification",
                    "set only with experts = N (how many experts join each visit)")
    codes = [t.code for t in policy.tasks]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        problem("tasks", f"task code {code!r} is used more than once")
    if not policy.tasks:
        problem("tasks", "at least one [[tasks]] entry is required")
    if problems:
        raise PolicyError(problems, headline=f"{source}: the policy file is refused")
    return policy


def load_policy(path: str | Path | None = None) -> tuple[Policy, bytes]:
    """Return the policy from a file (or the shipped default) and the file's exact bytes."""
    if path is None:
        data = resources.files("spotcheck.config").joinpath("policy.toml").read_bytes()
        source = "spotcheck/config/policy.toml"
    else:
        data = read_bounded(path, POLICY_BYTES, "policy file", PolicyError)
        source = str(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyError(f"{source}: the policy file must be UTF-8") from exc
    return parse_policy(text, source), data
