"""What the hostile-input tests share: running the CLI, a digest of everything a database
stores, a database holding the good registry, and the inputs they start from.

The contract every hostile or careless input is held to (issue 9): no traceback reaches the
user, the exit code is 1 or 2, the message names the file (and the row where there is one),
and nothing stored changes.
"""

from __future__ import annotations

import hashlib
import io
import traceback
import zipfile
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import MetaData, select

from spotcheck.cli import main
from spotcheck.store.database import get_engine

DATA = Path(__file__).parent / "data"
GOOD = DATA / "good"
BUNDLE = DATA / "bundles" / "assign-v1" / "city-2026Q4.zip"  # a real bundle, kept verified
KINDS = ("enterprises", "inspectors", "conflicts", "history")
SEED = "20261001-0394857261-5520183746"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run spotcheck with these arguments (and environment additions), output captured."""
    return CliRunner().invoke(main, list(args), env=env)


def database_digest(url: str) -> str:
    """Return the SHA-256 of every row of every table of a database (tables by name, rows
    sorted), to tell whether anything stored changed."""
    engine = get_engine(url)
    try:
        tables = MetaData()
        tables.reflect(engine)
        sha = hashlib.sha256()
        with engine.connect() as conn:
            for table in sorted(tables.tables.values(), key=lambda t: t.name):
                rows = sorted(repr(tuple(row)) for row in conn.execute(select(table)))
                sha.update(f"{table.name}:{len(rows)}\n".encode())
                for row in rows:
                    sha.update(row.encode("utf-8", "surrogatepass") + b"\n")
        return sha.hexdigest()
    finally:
        engine.dispose()


def load_good_registry(url: str) -> None:
    """Import the four good registry files into the database at `url`."""
    for kind in KINDS:
        result = run("--db", url, "import", kind, str(GOOD / f"{kind}.csv"))
        assert result.exit_code == 0, (kind, result.output)


def plan_good_registry(url: str, out: Path) -> None:
    """Plan 2026Q4 on the good registry at `url`, writing the bundle to `out`."""
    result = run("--db", url, "plan", "--quarter", "2026Q4", "--seed", SEED, "--out", str(out))
    assert result.exit_code == 0, result.output


def good_text(kind: str) -> str:
    """Return the text of the good registry file of a kind."""
    return (GOOD / f"{kind}.csv").read_text(encoding="utf-8")


def bundle_files() -> dict[str, bytes]:
    """Return the name → bytes of every entry of the real bundle, in its order."""
    with zipfile.ZipFile(BUNDLE) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def zip_of(entries: list[tuple[str, bytes]], *, compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    """Return a zip of these entries in this order (names may repeat: zipfile warns)."""
    import warnings

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": the point of some inputs
        with zipfile.ZipFile(buffer, "w", compress) as archive:
            for name, data in entries:
                archive.writestr(name, data)
    return buffer.getvalue()


def crash(result: Result) -> str:
    """Return the traceback of the exception a CLI run ended with ("" if none)."""
    if result.exc_info is None or isinstance(result.exc_info[1], SystemExit):
        return ""
    return "".join(traceback.format_exception(*result.exc_info))


def assert_refused(result: Result, *names: str) -> None:
    """Require what every refusal owes its user: exit 1 or 2, no traceback, and each of
    `names` (the file, the row) in what was printed."""
    shown = result.output + (result.stderr or "")
    assert result.exit_code in (1, 2), (result.exit_code, shown, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        (shown, crash(result))
    assert "Traceback" not in shown, shown
    for name in names:
        assert name in shown, (name, shown)
