"""Domain models: one validated record of each registry (pydantic, no database)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from spotcheck.models.identifiers import (
    CONTROL,
    ENTERPRISE_JURISDICTION,
    INDUSTRY_CODE,
    INSPECTOR_ID,
    JURISDICTION_PREFIX,
    QUALIFICATION,
    TASK_CODE,
    TIER_NAME,
    uscc_problem,
)

_RECORD = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _check(pattern_ok: bool, message: str) -> None:
    if not pattern_ok:
        raise ValueError(message)


class _Record(BaseModel):
    """A registry record: no text field may hold a control character or line break."""

    model_config = _RECORD

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        texts = value if isinstance(value, tuple) else (value,)
        if any(isinstance(t, str) and CONTROL.search(t) for t in texts):
            raise ValueError("control characters and line breaks are not allowed")
        return value


class EnterpriseBase(_Record):
    """An enterprise of the object pool (检查对象名录库)."""

    model_config = _RECORD

    enterprise_id: str = Field(description="统一社会信用代码, 18 characters, upper case")
    name: str = Field(min_length=1, max_length=200)
    jurisdiction: str = Field(description="行政区划代码, 6 digits (GB/T 2260)")
    industry: str = ""
    tier: str

    @field_validator("enterprise_id")
    @classmethod
    def _uscc(cls, value: str) -> str:
        problem = uscc_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("jurisdiction")
    @classmethod
    def _jurisdiction(cls, value: str) -> str:
        _check(bool(ENTERPRISE_JURISDICTION.fullmatch(value)),
               "an enterprise's jurisdiction is a 6-digit GB/T 2260 code")
        return value

    @field_validator("industry")
    @classmethod
    def _industry(cls, value: str) -> str:
        _check(bool(INDUSTRY_CODE.fullmatch(value)), "an industry code is up to 8 letters/digits")
        return value

    @field_validator("tier")
    @classmethod
    def _tier(cls, value: str) -> str:
        _check(bool(TIER_NAME.fullmatch(value)), "a tier is a letter such as A, B, C or D")
        return value


class Enterprise(EnterpriseBase):
    """An enterprise as the scheduler receives it."""


class InspectorBase(_Record):
    """A law-enforcement officer of the inspector pool (执法检查人员名录库)."""

    model_config = _RECORD

    inspector_id: str = Field(description="执法证号")
    name: str = Field(min_length=1, max_length=100)
    department: str = Field(min_length=1, max_length=64)
    jurisdiction: str = Field(description="GB/T 2260 prefix the officer serves")
    qualifications: tuple[str, ...] = ()
    capacity: int = Field(ge=0, le=100_000, description="季度检查上限 (visits per quarter)")
    certificate_expiry: date
    # 角色: only officers (执法人员) with a valid certificate count toward team_size; experts
    # (专家) join a visit on top of them when a task asks; auxiliary staff (辅助人员) never
    # inspect (国办发〔2024〕54号)
    role: Literal["officer", "expert", "auxiliary"] = "officer"

    @field_validator("inspector_id")
    @classmethod
    def _inspector_id(cls, value: str) -> str:
        _check(bool(INSPECTOR_ID.fullmatch(value)),
               "a certificate number (执法证号) is 1-32 of 0-9 A-Z a-z -")
        return value

    @field_validator("jurisdiction")
    @classmethod
    def _jurisdiction(cls, value: str) -> str:
        _check(bool(JURISDICTION_PREFIX.fullmatch(value)),
               "an inspector's jurisdiction is a GB/T 2260 prefix of 1-6 digits")
        return value

    @field_validator("qualifications")
    @classmethod
    def _qualifications(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            _check(bool(QUALIFICATION.fullmatch(item)), f"bad qualification {item!r}")
        return tuple(sorted(set(value)))


class Inspector(InspectorBase):
    """An inspector as the scheduler receives it."""

    def serves(self, jurisdiction: str) -> bool:
        """Return whether this officer may inspect an enterprise of that jurisdiction."""
        return jurisdiction.startswith(self.jurisdiction)


class Conflict(_Record):
    """A recorded interest requiring an officer to recuse (回避) from an enterprise."""

    model_config = _RECORD

    inspector_id: str
    enterprise_id: str
    reason: str = ""

    @field_validator("inspector_id")
    @classmethod
    def _inspector_id(cls, value: str) -> str:
        return InspectorBase._inspector_id(value)

    @field_validator("enterprise_id")
    @classmethod
    def _enterprise_id(cls, value: str) -> str:
        return EnterpriseBase._uscc(value)


class HistoryRecord(_Record):
    """A past inspection of an enterprise, used for the cooldown rule."""

    model_config = _RECORD

    enterprise_id: str
    task: str
    department: str = ""
    inspected_on: date
    # 实际检查人员: who inspected (certificate numbers, sorted, distinct), for the rotation
    # rule (policy officer_cooldown_months); empty when not recorded
    inspectors: tuple[str, ...] = ()

    @field_validator("enterprise_id")
    @classmethod
    def _enterprise_id(cls, value: str) -> str:
        return EnterpriseBase._uscc(value)

    @field_validator("inspectors")
    @classmethod
    def _inspectors(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            InspectorBase._inspector_id(item)
        return tuple(sorted(set(value)))

    @field_validator("task")
    @classmethod
    def _task(cls, value: str) -> str:
        _check(bool(TASK_CODE.fullmatch(value)), "a task code is 1-32 of A-Z a-z 0-9 _ . -")
        return value
