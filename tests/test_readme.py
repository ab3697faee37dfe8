"""The README's promises: its Python example runs and its commands exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"


def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The platform example in the README plans, writes a bundle and verifies it."""
    match = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert match is not None
    monkeypatch.chdir(tmp_path)
    exec(compile(match.group(1), "README.md", "exec"), {})
    assert (tmp_path / "plan-2026Q4-platform" / "manifest.json").exists()
    printed = capsys.readouterr().out.splitlines()
    assert printed and all(line.split()[1] == "SCJG" for line in printed)


def test_readme_starts_with_the_two_commands() -> None:
    """The README opens with the install-and-demo and install-and-test commands."""
    text = README.read_text(encoding="utf-8")
    block = text.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert block[0] == "pip install -e . && spotcheck demo"
    assert block[1] == "pip install -e '.[test]' && pytest"
