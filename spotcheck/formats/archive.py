"""An audit bundle's files: which belong to it, and the bundle in memory, in a folder and as
a byte-reproducible .zip, whose SHA-256 is the bundle's fingerprint to publish.

A bundle read must mean one thing to every reader (`unzip`, docs/verify_draws.py,
spotcheck): a name twice, two names differing only in case or Unicode form, a path outside
the bundle (absolute, `..`) or a file not in BUNDLE_FILES is refused, and so is anything
larger than its limit (`spotcheck.limits`), judged before it is read.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spotcheck.errors import InvalidInputError, SpotcheckError
from spotcheck.formats.reproducible_zip import deflating, zip_pieces
from spotcheck.formats.reproducible_zip import zip_bytes as zip_bytes
from spotcheck.formats.zip_limits import (
    ZIP_ERRORS,
    folded,
    read_entry,
    repeated_names,
    zip_problem,
)
from spotcheck.limits import (
    BUNDLE_BYTES,
    BUNDLE_FILE_BYTES,
    EVENTS_BYTES,
    MANIFEST_BYTES,
    POLICY_BYTES,
    SIGNATURE_BYTES,
    load_json,
    size_text,
)

FORMAT = "spotcheck-audit/1"
INPUT_FILES = ("policy.toml", "inputs/enterprises.csv", "inputs/inspectors.csv",
               "inputs/conflicts.csv", "inputs/history.csv")
OUTPUT_FILES = ("strata.csv", "draws.csv", "skipped.csv", "assignments.csv", "visits.csv",
                "shortfalls.csv")
# Files a bundle has only when its policy uses a key added after the first release (so a
# plan without those keys is written exactly as before them): the year's other active plans
# (annual_cap); enterprises the annual cap excludes (annual_cap); experts and the places
# they could not fill (a task's experts); the extra officer-visits that would staff every
# cut stratum (shortfall_advice). docs/AUDIT.md describes each.
OPTIONAL_INPUT_FILES = ("inputs/planned.csv",)
OPTIONAL_OUTPUT_FILES = ("capped.csv", "experts.csv", "expert_gaps.csv", "shortfall_groups.csv")
EVENTS_FILE = "events.jsonl"
SIGNATURE_FILE = "manifest.sig"
BUNDLE_FILES = frozenset(("manifest.json", *INPUT_FILES, *OUTPUT_FILES, *OPTIONAL_INPUT_FILES,
                          *OPTIONAL_OUTPUT_FILES, EVENTS_FILE, SIGNATURE_FILE))
_FOLDERS = frozenset(("inputs",))
# The most bytes of each file (the CSVs: BUNDLE_FILE_BYTES), and of all: spotcheck.limits.
_SMALL_FILES = {"manifest.json": MANIFEST_BYTES, "policy.toml": POLICY_BYTES,
                EVENTS_FILE: EVENTS_BYTES, SIGNATURE_FILE: SIGNATURE_BYTES}


def file_limit(name: str) -> int:
    """Return the most bytes a bundle file may have."""
    return _SMALL_FILES.get(name, BUNDLE_FILE_BYTES)


def digest(data: bytes) -> str:
    """Return the SHA-256 of bytes as hex."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, eq=False)
class Bundle:
    """A bundle's files in memory: name → bytes, with the parsed manifest."""

    files: dict[str, bytes]
    source: str = ""  # the folder or .zip it was read from, for messages ("" if built)

    @property
    def manifest(self) -> dict[str, Any]:
        """Return manifest.json parsed (by the bounded reader); raise if it is not a JSON
        object."""
        name = f"{self.source}: manifest.json" if self.source else "manifest.json"
        loaded = load_json(self.files["manifest.json"], name, limit=MANIFEST_BYTES)
        if not isinstance(loaded, dict):
            raise SpotcheckError(f"{name} is not a JSON object")
        return loaded

    def text(self, name: str) -> str:
        """Return a file of the bundle as text (UTF-8, a BOM dropped); raise naming it when
        it is missing or not UTF-8."""
        if name not in self.files:
            raise SpotcheckError(f"the bundle lacks {name}")
        try:
            return self.files[name].decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SpotcheckError(f"{name} is not UTF-8 text ({exc.reason} at byte "
                                 f"{exc.start})") from None


def bundle_fingerprint(path: str | Path) -> str:
    """Return the SHA-256 to publish for a bundle: of the .zip file itself, or for a folder
    of the .zip `spotcheck bundle zip` would make of it."""
    source = Path(path)
    if source.is_file():
        sha = hashlib.sha256()
        with source.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                sha.update(chunk)
        return sha.hexdigest()
    return digest(zip_bytes(read_bundle(source).files))


def begin_writing(bundle: Bundle, out: str | Path, workers: Executor) -> Callable[[], str]:
    """Begin to write the bundle as write_bundle does, on `workers` (zlib and file writes run
    outside the GIL, so the caller may go on meanwhile); return a function that waits for
    the writing to end, raising what it raised, and returns the bundle's fingerprint as
    bundle_fingerprint(out) gives it, without reading the bundle again."""
    target = _destination(out)
    folder = None if _is_zip(target) else workers.submit(_write_folder, bundle.files, target)
    members = deflating(bundle.files, workers)

    def finish() -> str:
        pieces = zip_pieces([member.result() for member in members], bundle.files)
        if folder is None:
            return _write_zip(pieces, target)
        folder.result()
        sha = hashlib.sha256()
        for piece in pieces:
            sha.update(piece)
        return sha.hexdigest()

    return finish


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
    target = _destination(out)
    if _is_zip(target):
        _write_zip([zip_bytes(bundle.files)], target)
    else:
        _write_folder(bundle.files, target)
    return target


def _is_zip(target: Path) -> bool:
    return target.suffix.lower() == ".zip"


def _destination(out: str | Path) -> Path:
    """Return where a bundle is to be written, refusing an existing non-empty one; make its
    parent folder."""
    target = Path(out)
    if target.exists() and (target.is_file() or any(target.iterdir())):
        raise InvalidInputError(f"{target}: already exists and is not empty; choose another --out")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _write_zip(pieces: list[bytes], target: Path) -> str:
    """Write a .zip given as pieces beside `target` and rename it into place; return its
    SHA-256."""
    staged = target.with_name(f".{target.name}.partial")
    sha = hashlib.sha256()
    try:
        with staged.open("wb") as stream:
            for piece in pieces:
                stream.write(piece)
                sha.update(piece)
        os.replace(staged, target)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    return sha.hexdigest()


def _write_folder(files: dict[str, bytes], target: Path) -> None:
    """Write the files to a folder beside `target` and rename it into place."""
    staging = Path(tempfile.mkdtemp(prefix=".bundle-", dir=target.parent))
    try:
        for name, data in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def read_bundle(path: str | Path) -> Bundle:
    """Return the files of a bundle folder or .zip, refusing anything that is not one, that
    could mean two things, or that is larger than its limits."""
    source = Path(path)
    if source.is_dir():
        files = _read_folder(source)
    elif source.is_file() and zipfile.is_zipfile(source):
        try:
            files = _read_zip(source)
        except ZIP_ERRORS as exc:
            raise SpotcheckError(f"{source}: not a readable .zip ({exc})") from exc
    else:
        raise SpotcheckError(f"{source}: not an audit bundle folder or .zip")
    if "manifest.json" not in files:
        raise SpotcheckError(f"{source}: no manifest.json, so this is not an audit bundle")
    return Bundle(files, str(source))


@contextmanager
def read_on_trust(source: str | Path) -> Iterator[None]:
    """Turn what reading a bundle's contents without checking their digests could break — a
    value of the wrong kind, a missing column, a task the policy lacks — into a
    SpotcheckError naming the bundle. `explain` and `publish plan` read bundles on trust;
    `spotcheck verify` says what was changed."""
    try:
        yield
    except (ValueError, LookupError, TypeError, AttributeError, StopIteration,
            RuntimeError) as exc:  # RuntimeError: a StopIteration inside a generator
        raise SpotcheckError(f"{source}: the bundle is not as spotcheck writes bundles "
                             f"({type(exc).__name__}: {exc}); run `spotcheck verify` on it, "
                             "which says what was changed") from exc


def name_problem(names: list[str]) -> str | None:
    """Return why a bundle with these file names is refused, or None: a path outside the
    bundle, a name twice (or twice but for case or Unicode form), a file not of a bundle."""
    unsafe = [n for n in names
              if n.startswith(("/", "\\")) or "\\" in n or ":" in n
              or any(part in ("", ".", "..") for part in n.rstrip("/").split("/"))]
    if unsafe:
        return (f"{', '.join(map(repr, unsafe[:3]))}: a path outside the bundle (absolute, "
                "with '..' or a drive) — an unzip could write it anywhere")
    repeats = repeated_names(names)
    if repeats:
        return (f"it holds {'; '.join(repeats[:3])}: readers could take different ones, so the "
                "bundle could mean two things")
    strangers = sorted(n for n in names if n not in BUNDLE_FILES
                       and not (n.endswith("/") and n[:-1] in _FOLDERS))
    if strangers:
        known = {folded(n): n for n in BUNDLE_FILES}
        hint = [f"{n!r} (is it {known[folded(n)]!r}?)" for n in strangers if folded(n) in known]
        shown = hint or [repr(n) for n in strangers[:5]]
        return (f"{', '.join(shown)}: not a file of an audit bundle (DESIGN §7), so nothing "
                "covers it; move it out (a private key must never be published)")
    return None


def _read_zip(source: Path) -> dict[str, bytes]:
    """Return the files of a bundle .zip, judged by name and size before any is inflated."""
    with zipfile.ZipFile(source) as archive:
        entries = archive.infolist()
        problem = (name_problem([info.filename for info in entries])
                   or zip_problem(entries, total=BUNDLE_BYTES, count=len(BUNDLE_FILES) + 1,
                                  limit_of=file_limit))
        if problem:
            raise SpotcheckError(f"{source}: the bundle is refused: {problem}")
        return {info.filename: read_entry(archive, info)
                for info in entries if not info.is_dir()}


def _read_folder(source: Path) -> dict[str, bytes]:
    """Return the files of a bundle folder, judged by name, kind and size before any is read."""
    found: dict[str, os.stat_result] = {}
    for item in sorted(source.rglob("*")):
        found[item.relative_to(source).as_posix()] = item.lstat()
    names = [n for n, st in found.items() if not stat.S_ISDIR(st.st_mode)]
    problem = name_problem(names + [n + "/" for n, st in found.items()
                                    if stat.S_ISDIR(st.st_mode)])
    odd = [n for n in names if not stat.S_ISREG(found[n].st_mode)]
    if problem is None and odd:
        problem = f"{', '.join(map(repr, odd[:3]))}: not a regular file (a link, pipe or device)"
    over = [n for n in names if found[n].st_size > file_limit(n)]
    if problem is None and over:
        problem = f"{over[0]!r} is larger than the {size_text(file_limit(over[0]))} spotcheck reads"
    if problem is None and sum(found[n].st_size for n in names) > BUNDLE_BYTES:
        problem = f"its files are larger than {size_text(BUNDLE_BYTES)} in all"
    if problem:
        raise SpotcheckError(f"{source}: the bundle is refused: {problem}")
    files = {}
    for name in names:
        with (source / name).open("rb") as stream:
            data = stream.read(file_limit(name) + 1)
        if len(data) > file_limit(name):
            raise SpotcheckError(f"{source}: {name} grew past its limit while being read")
        files[name] = data
    return files
