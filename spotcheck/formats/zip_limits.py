"""Zip archives read within limits: an .xlsx workbook and an audit bundle are both zips, and a
zip can claim anything. Every entry is judged from the central directory before a byte is
inflated (too many entries, too large, inflating more than ZIP_RATIO times, encrypted, a
name written twice or twice in different case or Unicode form), then read as a stream that
stops at the size the directory declared, so what was judged is what is read.
"""

from __future__ import annotations

import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable

from spotcheck.limits import ZIP_RATIO, ZIP_RATIO_GRACE_BYTES, size_text

# What reading a damaged or hostile zip can raise besides BadZipFile: a truncated stream
# (EOFError, zlib.error), an encrypted entry (RuntimeError), an unknown compression method
# (NotImplementedError), an impossible header (ValueError, OSError).
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError,
              ValueError, OSError)


def folded(name: str) -> str:
    """Return the form in which two entry names that a reader could confuse are equal:
    Unicode NFC, case folded."""
    return unicodedata.normalize("NFC", name).casefold()


def repeated_names(names: Iterable[str]) -> list[str]:
    """Return the names that repeat an earlier one exactly, by case or by Unicode form."""
    seen: dict[str, str] = {}
    repeats = []
    for name in names:
        key = folded(name)
        if key in seen:
            earlier = seen[key]
            repeats.append(f"{name!r} twice" if earlier == name else
                           f"{earlier!r} and {name!r} (the same name but for case or "
                           "Unicode form)")
        else:
            seen[key] = name
    return repeats


def zip_problem(entries: list[zipfile.ZipInfo], *, total: int, count: int,
                limit_of: Callable[[str], int]) -> str | None:
    """Return why a zip with these entries is refused before any is inflated, or None.

    `total`: most bytes of all entries inflated; `count`: most entries; `limit_of(name)`:
    most bytes of one entry.
    """
    if len(entries) > count:
        return f"it has {len(entries):,} entries, more than the {count:,} expected"
    repeats = repeated_names(info.filename for info in entries)
    if repeats:
        return (f"it holds {'; '.join(repeats[:3])}: a reader could take either entry, so "
                "the archive could mean two things")
    inflated = 0
    for info in entries:
        if info.flag_bits & 0x1:
            return f"{info.filename!r} is encrypted"
        limit = limit_of(info.filename)
        if info.file_size > limit:
            return (f"{info.filename!r} inflates to {size_text(info.file_size)}, more than "
                    f"the {size_text(limit)} spotcheck reads")
        if (info.file_size > ZIP_RATIO_GRACE_BYTES
                and info.file_size > ZIP_RATIO * max(info.compress_size, 1)):
            return (f"{info.filename!r} inflates {info.file_size // max(info.compress_size, 1):,}"
                    f" times ({size_text(info.compress_size)} to {size_text(info.file_size)}); "
                    f"more than {ZIP_RATIO} times is refused as a zip bomb")
        inflated += info.file_size
    if inflated > total:
        return (f"its entries inflate to {size_text(inflated)} in all, more than the "
                f"{size_text(total)} spotcheck reads")
    return None


def read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Return an entry's bytes: at most the size its directory entry declared, which was
    judged (zipfile stops there and checks the CRC); a different size is refused."""
    with archive.open(info) as stream:
        data = stream.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise zipfile.BadZipFile(f"{info.filename!r} is not the size the zip directory declares")
    return data
