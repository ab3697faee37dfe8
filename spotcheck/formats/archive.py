"""An audit bundle's files: which belong to it, and the bundle in memory, in a folder and as
a byte-reproducible .zip, whose SHA-256 is the bundle's fingerprint to publish.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spotcheck.errors import InvalidInputError, SpotcheckError

FORMAT = "spotcheck-audit/1"
INPUT_FILES = ("policy.toml", "inputs/enterprises.csv", "inputs/inspectors.csv",
               "inputs/conflicts.csv", "inputs/history.csv")
OUTPUT_FILES = ("strata.csv", "draws.csv", "skipped.csv", "assignments.csv", "visits.csv",
                "shortfalls.csv")
EVENTS_FILE = "events.jsonl"
SIGNATURE_FILE = "manifest.sig"
BUNDLE_FILES = frozenset(("manifest.json", *INPUT_FILES, *OUTPUT_FILES, EVENTS_FILE,
                          SIGNATURE_FILE))


def digest(data: bytes) -> str:
    """Return the SHA-256 of bytes as hex."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, eq=False)
class Bundle:
    """A bundle's files in memory: name → bytes, with the parsed manifest."""

    files: dict[str, bytes]

    @property
    def manifest(self) -> dict[str, Any]:
        """Return manifest.json parsed."""
        loaded: dict[str, Any] = json.loads(self.files["manifest.json"])
        return loaded


_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """Return the byte-reproducible .zip of these files: sorted names, fixed times and modes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


def bundle_fingerprint(path: str | Path) -> str:
    """Return the SHA-256 to publish for a bundle: of the .zip file itself, or for a folder
    of the .zip `spotcheck bundle zip` would make of it."""
    source = Path(path)
    if source.is_file():
        return digest(source.read_bytes())
    return digest(zip_bytes(read_bundle(source).files))


def zip_folder(folder: str | Path, out: str | Path) -> Path:
    """Write a bundle folder as its byte-reproducible .zip; return the .zip's path.

    Only bundle files may be in the folder: anything else (a private key above all) is
    refused rather than published.
    """
    source = Path(folder)
    if not source.is_dir():
        raise InvalidInputError(f"{source}: not a bundle folder")
    bundle = read_bundle(source)
    strangers = sorted(set(bundle.files) - BUNDLE_FILES)
    if strangers:
        raise InvalidInputError(f"{source}: {', '.join(strangers)} is not part of an audit "
                                "bundle; move it out of the folder (a private key must never "
                                "be published)")
    return write_bundle(bundle, out)


def write_bundle(bundle: Bundle, out: str | Path) -> Path:
    """Write the bundle to a folder (or a byte-reproducible .zip) and return its path.

    The folder is written beside its destination and renamed into place, so a reader never
    sees half a bundle; an existing non-empty destination is refused.
    """
    target = Path(out)
    if target.exists() and (target.is_file() or any(target.iterdir())):
        raise InvalidInputError(f"{target}: already exists and is not empty; choose another --out")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix.lower() == ".zip":
        staged = target.with_name(f".{target.name}.partial")
        try:
            staged.write_bytes(zip_bytes(bundle.files))
            os.replace(staged, target)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        return target
    staging = Path(tempfile.mkdtemp(prefix=".bundle-", dir=target.parent))
    try:
        for name, data in bundle.files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def read_bundle(path: str | Path) -> Bundle:
    """Return the files of a bundle folder or .zip, refusing anything that is not one."""
    source = Path(path)
    files: dict[str, bytes] = {}
    if source.is_file() and zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            for name in archive.namelist():
                if not name.endswith("/"):
                    files[name] = archive.read(name)
    elif source.is_dir():
        for item in sorted(source.rglob("*")):
            if item.is_file():
                files[item.relative_to(source).as_posix()] = item.read_bytes()
    else:
        raise SpotcheckError(f"{source}: not an audit bundle folder or .zip")
    if "manifest.json" not in files:
        raise SpotcheckError(f"{source}: no manifest.json, so this is not an audit bundle")
    return Bundle(files)
