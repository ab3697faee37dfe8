"""spotcheck.limits and formats.zip_limits: the bounded readers refuse what is too large, too
deep or ambiguous with a message, never a crash, and read what is within bounds."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from spotcheck.errors import PolicyError, SpotcheckError
from spotcheck.formats.zip_limits import repeated_names, zip_problem
from spotcheck.limits import (
    JSON_DEPTH,
    MANIFEST_BYTES,
    ZIP_RATIO,
    load_json,
    read_bounded,
    size_text,
)
from spotcheck.models.policy import load_policy, parse_policy


def test_json_within_bounds_is_read() -> None:
    """A JSON object nested JSON_DEPTH deep, with every kind of value, reads as json does."""
    nested: object = 1
    for _ in range(JSON_DEPTH - 1):  # in the outer object: JSON_DEPTH levels in all
        nested = [nested]
    data = f'{{"a": {{"b": [1, 2.5, true, null, "文字"]}}, "deep": {nested}}}'.encode()
    value = load_json(data, "manifest.json")
    assert value["a"] == {"b": [1, 2.5, True, None, "文字"]} and value["deep"] == nested


@pytest.mark.parametrize(("data", "reason"), [
    (b"[" * 100_000 + b"]" * 100_000, "nested more than 32 deep"),
    (b"[" * (JSON_DEPTH + 1) + b"]" * (JSON_DEPTH + 1), "nested more than 32 deep"),
    (b'{"seed": "a", "x": 1, "seed": "b"}', "the key 'seed' appears twice in one object"),
    (b'{"ratio": NaN}', "NaN is not a JSON number"),
    (b'{"ratio": -Infinity}', "-Infinity is not a JSON number"),
    (b'{"name": "\xff"}', "not valid JSON"),
    (b'{"name": ', "not valid JSON"),
    (b" " * (MANIFEST_BYTES + 1), "is larger than 1 MiB"),
])
def test_bad_json_is_refused_with_a_message(data: bytes, reason: str) -> None:
    """Too deep (even 100,000 deep: no RecursionError), a key twice, NaN, not UTF-8, cut
    short or too large: a SpotcheckError naming the file and why."""
    with pytest.raises(SpotcheckError) as excinfo:
        load_json(data, "manifest.json")
    assert str(excinfo.value).startswith("manifest.json ") and reason in str(excinfo.value)


def test_a_pipe_and_a_large_file_are_refused(tmp_path: Path) -> None:
    """read_bounded refuses a FIFO at once (no writer: it would block), a folder, a missing
    file and one over its limit, raising the error class asked for."""
    big = tmp_path / "policy.toml"
    big.write_bytes(b"#" * 1025)
    with pytest.raises(PolicyError, match="larger than 1 KiB"):
        read_bounded(big, 1024, "policy file", PolicyError)
    assert read_bounded(big, 1025, "policy file") == b"#" * 1025
    with pytest.raises(SpotcheckError, match="policy file: Is a directory"):
        read_bounded(tmp_path, 1024, "policy file")
    with pytest.raises(SpotcheckError, match="cannot read the policy file"):
        read_bounded(tmp_path / "missing.toml", 1024, "policy file")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.toml")
        with pytest.raises(SpotcheckError, match="the policy file is not a regular file"):
            read_bounded(tmp_path / "pipe.toml", 1024, "policy file")


def test_policies_nested_deep_or_large_are_refused(tmp_path: Path) -> None:
    """A policy of arrays nested 100,000 deep is refused as TOML nested too deeply (tomllib
    would raise RecursionError); one over 1 MiB is refused before it is parsed."""
    with pytest.raises(PolicyError, match="not valid TOML: nested too deeply"):
        parse_policy("schema = " + "[" * 100_000 + "]" * 100_000)
    large = tmp_path / "policy.toml"
    large.write_bytes(b"# comment\n" * 110_000)
    with pytest.raises(PolicyError, match="the policy file is larger than 1 MiB"):
        load_policy(large)


def test_sizes_are_written_as_people_read_them() -> None:
    """size_text uses the largest whole binary unit, else bytes."""
    assert [size_text(n) for n in (1 << 30, 256 << 20, 64 << 10, 1500)] == [
        "1 GiB", "256 MiB", "64 KiB", "1,500 bytes"]


def _entries(files: dict[str, bytes], level: int = zipfile.ZIP_DEFLATED) -> list[zipfile.ZipInfo]:
    """Return the directory entries of a zip of these files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", level) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return zipfile.ZipFile(buffer).infolist()


def test_zip_limits_judge_from_the_directory() -> None:
    """Too many entries, one entry over its limit, over the total, or inflating more than
    ZIP_RATIO times past the grace size: each refused, saying which; within them, None."""
    small = _entries({"a.csv": b"x" * 100, "b.csv": bytes(500_000)})
    assert zip_problem(small, total=10**6, count=5, limit_of=lambda _: 10**6) is None
    assert "more than the 1 expected" in (zip_problem(small, total=10**6, count=1,
                                                      limit_of=lambda _: 10**6) or "")
    assert "'b.csv' inflates to 500,000 bytes" in (zip_problem(
        small, total=10**6, count=5, limit_of=lambda name: 1000) or "")
    assert "in all" in (zip_problem(small, total=1000, count=5, limit_of=lambda _: 10**6) or "")
    bomb = _entries({"sheet.xml": bytes(5 << 20)})
    problem = zip_problem(bomb, total=1 << 30, count=5, limit_of=lambda _: 1 << 30) or ""
    assert f"more than {ZIP_RATIO} times is refused as a zip bomb" in problem
    stored = _entries({"sheet.xml": bytes(5 << 20)}, zipfile.ZIP_STORED)
    assert zip_problem(stored, total=1 << 30, count=5, limit_of=lambda _: 1 << 30) is None


def test_repeated_names_by_case_and_unicode_form() -> None:
    """The same name twice, in another case, or in another Unicode normal form repeats."""
    assert repeated_names(["a.csv", "b.csv"]) == []
    assert repeated_names(["draws.csv", "draws.csv"]) == ["'draws.csv' twice"]
    assert "the same name but for case" in repeated_names(["draws.csv", "DRAWS.csv"])[0]
    assert len(repeated_names(["caf\u00e9.csv", "cafe\u0301.csv"])) == 1
