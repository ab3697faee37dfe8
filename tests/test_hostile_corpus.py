"""The project's corpus of hostile and careless inputs (tests/hostile/cases.toml): each is
refused through the command line with its message and exit code, no traceback, and nothing
stored changed — on SQLite, and on PostgreSQL for commands on the database."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import BACKENDS
from hostile_cases import RECIPES, build
from hostile_inputs import BUNDLE, assert_refused, database_digest, run

CORPUS = Path(__file__).parent / "hostile" / "cases.toml"
CASES: list[dict[str, Any]] = tomllib.loads(CORPUS.read_text(encoding="utf-8"))["case"]
RUNS = [pytest.param(case, backend, id=f"{case['name']}-{backend}")
        for case in CASES for backend in (BACKENDS if case.get("db") else ["sqlite"])]


def test_the_corpus_is_well_formed() -> None:
    """The corpus has at least 60 cases, each named once, with a known recipe, an exit code
    of 1 or 2 and a message fragment."""
    names = [case["name"] for case in CASES]
    assert len(names) >= 60 and len(set(names)) == len(names)
    for case in CASES:
        assert case.get("recipe", "text") in RECIPES, case["name"]
        assert case["exit"] in (1, 2) and case["fragment"], case["name"]


@pytest.mark.parametrize(("case", "backend"), RUNS)
def test_hostile_input_is_refused(case: dict[str, Any], backend: str, tmp_path: Path,
                                  loaded_database: Callable[[str], str]) -> None:
    """The case is refused with its exit code and message, never a traceback, and the
    database (the good registry and a plan) is exactly as it was."""
    if case.get("recipe") in ("fifo", "bundle_folder") and not hasattr(os, "mkfifo"):
        pytest.skip("named pipes and symbolic links are POSIX features")
    folder = tmp_path / "in"
    folder.mkdir()
    build(folder, case)
    file = str(folder / case.get("file", "input.csv"))
    args = [arg.replace("{file}", file).replace("{bundle}", str(BUNDLE))
            for arg in case["args"]]
    url = loaded_database(backend) if case.get("db") else None
    before = database_digest(url) if url else ""
    old = Path.cwd()
    os.chdir(Path(__file__).parents[1])  # paths such as tests/data/good/... in args
    try:
        result = run(*(["--db", url] if url else []), *args)
    finally:
        os.chdir(old)
    assert result.exit_code == case["exit"], (result.output, result.exception)
    assert_refused(result, case["fragment"])
    if url:
        assert database_digest(url) == before
