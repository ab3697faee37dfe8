"""A policy written back as TOML (schema 1), for a suggestion the planner reviews.

`policy_toml` writes a parsed policy with some tier ratios replaced, headed by comments
that say where the numbers come from. The text is parsed back before it is returned, so a
file that would be refused, or that says anything but the intended policy, is never written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from spotcheck.errors import SpotcheckError
from spotcheck.models.policy import Policy, parse_policy


def _value(value: Any) -> str:
    """Return a value in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def _key(key: str) -> str:
    """Return a key in TOML, quoted unless it is a bare key."""
    return key if key.replace("_", "").replace("-", "").isalnum() and key.isascii() \
        else json.dumps(key, ensure_ascii=False)


def _table(lines: list[str], header: str, table: Mapping[str, Any]) -> None:
    """Append a table's header and its key = value lines."""
    lines += ["", header]
    lines += [f"{_key(k)} = {_value(v)}" for k, v in table.items()]


def policy_toml(policy: Policy, ratios: Mapping[str, float],
                comments: Sequence[str] = ()) -> str:
    """Return the policy as TOML with these tiers' ratios replaced, checked by parsing it back."""
    data = policy.as_manifest()
    for tier, ratio in ratios.items():
        data["tiers"][tier]["ratio"] = ratio
    lines = [f"# {c}" if c else "#" for c in comments]
    nested = {"tiers", "tasks", "results"}
    lines += [f"{_key(k)} = {_value(v)}" for k, v in data.items() if k not in nested]
    for name, tier in data["tiers"].items():
        _table(lines, f"[tiers.{_key(name)}]", tier)
    for task in data["tasks"]:
        _table(lines, "[[tasks]]", task)
    for code, result in data.get("results", {}).items():
        _table(lines, f"[results.{_key(code)}]", result)
    text = "\n".join(lines) + "\n"
    expected = policy.model_copy(update={"tiers": {
        name: tier.model_copy(update={"ratio": ratios.get(name, tier.ratio)})
        for name, tier in policy.tiers.items()}})
    written = parse_policy(text, "suggested policy")
    if written.as_manifest() != expected.as_manifest():
        raise SpotcheckError("the suggested policy does not read back as intended; not written")
    return text
