"""spotcheck lives under one import root: a platform's own `config`, `models` and `scheduler`
stay its own next to it, and the wheel installs nothing at the top level but `spotcheck`.

Both run outside this process: pytest has already imported hypothesis and the tests' own
modules, so only a fresh interpreter shows what `import spotcheck` alone brings in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A platform's own modules under the generic names the old layout used at the top level.
PLATFORM_MODULES = {
    "config.py": 'PLATFORM = "config"\nDATABASE_URL = "postgresql://platform/db"\n',
    "models/__init__.py": 'PLATFORM = "models"\nclass Case:\n    pass\n',
    "scheduler.py": "JOBS = []\n",
}

# Run from the platform's folder (cwd and sys.path[0]); prints what it found as JSON.
PLATFORM_SCRIPT = '''
import importlib
import json
import os
import pkgutil
import sys
from datetime import date

import spotcheck

GENERIC = ("config", "models", "scheduler")
modules = sorted(m.name for m in pkgutil.walk_packages(spotcheck.__path__, "spotcheck.")
                 if not m.name.endswith(".__main__"))
for name in modules:
    importlib.import_module(name)
generic_before = [name for name in GENERIC if name in sys.modules]

import config
import models
import scheduler

def code(serial):
    body = f"91350102{serial:09d}"
    return body + spotcheck.uscc_check_character(body)

enterprises = [
    spotcheck.Enterprise(enterprise_id=code(n), name=f"福州示例{n}号商行", jurisdiction="350102",
                         industry="F5211", tier="D" if n % 5 == 0 else "C")
    for n in range(1, 41)]
inspectors = [
    spotcheck.Inspector(inspector_id=f"FZ-{n}", name=f"执法员{n}", department="SCJG",
                        jurisdiction="3501", qualifications=("食品安全",), capacity=10,
                        certificate_expiry=date(2028, 12, 31))
    for n in range(6)]
conflicts = [spotcheck.Conflict(inspector_id="FZ-0", enterprise_id=code(5), reason="亲属")]
history = [spotcheck.HistoryRecord(enterprise_id=code(1), task="GS-QY", department="SCJG",
                                   inspected_on=date(2026, 9, 1))]
registry = spotcheck.Registry.build(enterprises, inspectors, conflicts, history)
policy, policy_bytes = spotcheck.load_policy()
plan = spotcheck.plan_quarter(registry, policy, "2026Q4", "20261001-0394857261-5520183746")
bundle = spotcheck.build_bundle(plan, registry, policy_bytes, created_at="2026-10-01T09:00:00Z")
spotcheck.write_bundle(bundle, "plan-2026Q4")

print(json.dumps({
    "path0": sys.path[0], "cwd": os.getcwd(), "spotcheck": spotcheck.__file__,
    "modules": len(modules), "generic_before": generic_before,
    "config": [config.PLATFORM, config.DATABASE_URL, config.__file__],
    "models": [models.PLATFORM, models.Case.__name__, models.__file__],
    "scheduler": [scheduler.JOBS, scheduler.__file__],
    "same_after": [sys.modules[name] is module
                   for name, module in zip(GENERIC, (config, models, scheduler))],
    "policy": policy.name, "tasks": [task.code for task in policy.tasks],
    "drawn": len(plan.draws), "assigned": len(plan.assignments),
    "verified": spotcheck.verify_bundle("plan-2026Q4").ok,
    "hypothesis": "hypothesis" in sys.modules,
}))
'''

# What a copy of the checkout leaves out: hidden folders (version control, caches, the CI
# venv), builds and the output of local runs.
NOT_SOURCE = shutil.ignore_patterns(".*", "build", "dist", "*.egg-info", "__pycache__", "*.so",
                                    "*.db", "out", "bench-out", "spotcheck-demo")


def test_platform_keeps_its_own_generic_modules(tmp_path: Path) -> None:
    """Beside a platform's own config/models/scheduler, spotcheck plans, bundles and verifies."""
    home = (tmp_path / "platform").resolve()
    for name, text in PLATFORM_MODULES.items():
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_text(text, encoding="utf-8")
    (home / "run.py").write_text(PLATFORM_SCRIPT, encoding="utf-8")

    done = subprocess.run([sys.executable, "-W", "error", "run.py"], cwd=home,
                          capture_output=True, text=True, encoding="utf-8", timeout=120,
                          env={**os.environ, "PYTHONUTF8": "1"}, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)

    assert Path(found["path0"]) == Path(found["cwd"]) == home
    assert Path(found["spotcheck"]).parent == ROOT / "spotcheck"
    assert found["modules"] > 30
    assert found["generic_before"] == []
    assert found["config"] == ["config", "postgresql://platform/db", str(home / "config.py")]
    assert found["models"] == ["models", "Case", str(home / "models" / "__init__.py")]
    assert found["scheduler"] == [[], str(home / "scheduler.py")]
    assert found["same_after"] == [True, True, True]
    assert found["tasks"] == ["GS-QY", "SP-JY", "TZ-SB"] and found["policy"]
    assert found["drawn"] > 0 and found["assigned"] > 0
    assert found["verified"] is True
    assert found["hypothesis"] is False
    assert (home / "plan-2026Q4" / "manifest.json").is_file()


def test_wheel_installs_only_spotcheck(tmp_path: Path) -> None:
    """The wheel holds `spotcheck` (with its package data) and its dist-info, nothing else."""
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    # With build isolation, pip builds with the setuptools pyproject.toml asks for (from the
    # configured index); the test venv's own setuptools may be too old to build a wheel alone.
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                            "-w", str(tmp_path / "dist"), str(source)],
                           capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = (tmp_path / "dist").glob("spotcheck-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()

    top = {name.split("/", 1)[0] for name in names}
    dist_info = {name for name in top if re.fullmatch(r"spotcheck-[^/]+\.dist-info", name)}
    assert len(dist_info) == 1
    assert top - dist_info == {"spotcheck"}
    for data in ("spotcheck/config/policy.toml", "spotcheck/py.typed",
                 "spotcheck/scheduler/_native.pyi"):
        assert data in names
