"""The README's promises: its Python example runs and its commands exist."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_service_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The README's service-layer example imports, freezes, seeds, plans and verifies on SQLite."""
    shutil.copytree(README.parent / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    block = _python_blocks()[0]
    assert "Workspace(" in block
    exec(compile(block, "README.md", "exec"), {})
    assert (tmp_path / "bureau.db").exists() and (tmp_path / "plan-2026Q4.zip").exists()
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("enterprises (检查对象名录库): the file's 40 row(s)")
    plan_id, drawn = printed[-1].split()[:2]
    assert re.fullmatch(r"[0-9a-f]{20}", plan_id) and int(drawn) > 0


def test_readme_pipeline_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The README's database-free example plans, writes a bundle and verifies it."""
    monkeypatch.chdir(tmp_path)
    block = _python_blocks()[1]
    assert "plan_quarter(" in block
    exec(compile(block, "README.md", "exec"), {})
    assert (tmp_path / "plan-2026Q4-platform" / "manifest.json").exists()
    printed = capsys.readouterr().out.splitlines()
    assert printed and all(line.split()[1] == "SCJG" for line in printed)


def test_readme_starts_with_the_two_commands() -> None:
    """The README opens with the install-and-demo and install-and-test commands."""
    text = README.read_text(encoding="utf-8")
    block = text.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert block[0] == "pip install -e . && spotcheck demo"
    assert block[1] == "pip install -e '.[test]' && pytest"
