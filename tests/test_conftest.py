"""The shared set-up itself: under CI a test that needs PostgreSQL fails, it never disappears."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

NEEDS_A_DATABASE = '''
def test_uses_a_database(db_url):
    assert db_url
'''


def run_pytest(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run pytest on `folder` with this suite's conftest as a plugin, SPOTCHECK_TEST_PG unset."""
    environ = {k: v for k, v in os.environ.items() if k not in ("CI", "SPOTCHECK_TEST_PG")}
    environ |= {"PYTHONPATH": str(TESTS), **env}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
                           "-p", "conftest", str(folder)], cwd=folder, capture_output=True,
                          text=True, env=environ, timeout=120, check=False)


def test_ci_without_a_server_fails_the_postgresql_case(tmp_path: Path) -> None:
    """With CI set and no SPOTCHECK_TEST_PG, db_url's PostgreSQL case errors, naming the cause."""
    (tmp_path / "test_db.py").write_text(NEEDS_A_DATABASE, encoding="utf-8")
    in_ci = run_pytest(tmp_path, CI="true")
    assert in_ci.returncode == 1, in_ci.stdout
    assert "PASSED test_db.py::test_uses_a_database[sqlite]" in in_ci.stdout
    assert "ERROR test_db.py::test_uses_a_database[postgresql]" in in_ci.stdout
    assert "CI=true but SPOTCHECK_TEST_PG is not set: .ci/run starts PostgreSQL" in in_ci.stdout

    local = run_pytest(tmp_path)
    assert local.returncode == 0, local.stdout
    assert "1 passed" in local.stdout and "postgresql" not in local.stdout
