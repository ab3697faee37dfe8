"""A bundle must mean one thing to every reader: spotcheck (formats/archive.py `read_bundle`)
and the auditor's standalone docs/verify_draws.py refuse the same ambiguous bundles — an
entry twice, names differing only by case or Unicode form, paths out of the bundle, files
not of a bundle — and read the real one; both know the same file list."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from hostile_inputs import BUNDLE, bundle_files, zip_of

from spotcheck.errors import SpotcheckError
from spotcheck.formats.archive import BUNDLE_FILES, read_bundle

SCRIPT = Path(__file__).parents[1] / "docs" / "verify_draws.py"
FILES = bundle_files()


def script() -> ModuleType:
    """Return docs/verify_draws.py imported as a module."""
    spec = importlib.util.spec_from_file_location("verify_draws_names", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["verify_draws_names"] = module
    spec.loader.exec_module(module)
    return module


def test_both_readers_know_the_same_files() -> None:
    """verify_draws.py's BUNDLE_FILES is spotcheck's."""
    assert script().BUNDLE_FILES == BUNDLE_FILES


AMBIGUOUS = {
    "an entry twice": [*FILES.items(), ("draws.csv", b"task,tier\n")],
    "names differing in case": [*FILES.items(), ("STRATA.CSV", b"x")],
    "names differing in Unicode form": [
        *FILES.items(), *((unicodedata.normalize(form, "inputs/café.csv"), b"x")
                          for form in ("NFC", "NFD"))],
    "a stranger": [*FILES.items(), ("bureau.key", b"-----BEGIN PRIVATE KEY-----")],
    "a path with ..": [*FILES.items(), ("../draws.csv", b"x")],
    "an absolute path": [*FILES.items(), ("/etc/draws.csv", b"x")],
}


@pytest.mark.parametrize("case", list(AMBIGUOUS))
def test_both_readers_refuse_an_ambiguous_zip(tmp_path: Path, case: str) -> None:
    """spotcheck refuses it (verify says NOT VERIFIED) and verify_draws.py fails its bundle
    check, exit status 1, without a traceback."""
    path = tmp_path / "plan.zip"
    path.write_bytes(zip_of(AMBIGUOUS[case]))
    with pytest.raises(SpotcheckError, match="the bundle is refused"):
        read_bundle(path)
    done = subprocess.run([sys.executable, str(SCRIPT), str(path)], capture_output=True,
                          text=True, check=False, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "FAIL  bundle:" in done.stdout and "DRAWS DO NOT REPRODUCE" in done.stdout


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="symbolic links are a POSIX feature")
def test_both_readers_refuse_a_folder_with_a_stranger(tmp_path: Path) -> None:
    """A bundle folder holding a private key is refused by both; the folder as written is
    read by both."""
    folder = tmp_path / "plan"
    with zipfile.ZipFile(BUNDLE) as archive:
        archive.extractall(folder)
    verify_draws = script()
    assert set(read_bundle(folder).files) == set(FILES)
    assert set(verify_draws.read_bundle(folder)) == set(FILES)
    (folder / "bureau.key").write_text("-----BEGIN PRIVATE KEY-----\n")
    with pytest.raises(SpotcheckError, match=r"'bureau\.key': not a file of an audit bundle"):
        read_bundle(folder)
    with pytest.raises(verify_draws.BundleError, match=r"'bureau\.key' is not a file of an"):
        verify_draws.read_bundle(folder)


def test_verify_draws_refuses_a_manifest_nested_deep_or_with_a_key_twice(
        tmp_path: Path) -> None:
    """A manifest nested 100,000 deep or naming a key twice fails the script's bundle check
    (exit 1), never a RecursionError."""
    for manifest in (b"[" * 100_000 + b"]" * 100_000, b'{"seed": "a", "seed": "b"}'):
        path = tmp_path / "plan.zip"
        path.write_bytes(zip_of([(n, manifest if n == "manifest.json" else d)
                                 for n, d in FILES.items()]))
        done = subprocess.run([sys.executable, str(SCRIPT), str(path)], capture_output=True,
                              text=True, check=False, timeout=120)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert "manifest.json is not valid JSON" in done.stdout
