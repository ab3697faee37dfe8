"""The byte-reproducible .zip of a bundle's files, whose SHA-256 is the fingerprint to publish.

The bytes are those Python's zipfile writes for the files in name order, each deflated at
zlib's default level, dated 1980-01-01 00:00:00 and mode 0644. Each file is deflated on its
own (zlib runs outside the GIL, so files are deflated side by side on worker threads) and
the archive is laid out here, as zipfile lays it out: a local header and the deflated bytes
per file, then the central directory and the end record. An archive zipfile would write
with ZIP64 records (a file or an offset past 2 GiB) is left to zipfile itself.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_MODE = 0o644 << 16  # the external attributes: a regular file, rw-r--r--
_DOS_DATE = (ZIP_TIME[0] - 1980) << 9 | ZIP_TIME[1] << 5 | ZIP_TIME[2]
_DOS_TIME = ZIP_TIME[3] << 11 | ZIP_TIME[4] << 5 | ZIP_TIME[5] // 2
_UTF8_NAME = 0x800  # general purpose flag: the name is UTF-8 (it is not ASCII)
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")


@dataclass(frozen=True)
class Member:
    """One file of the .zip: its name, CRC-32, size and raw DEFLATE stream."""

    name: str
    crc: int
    size: int
    deflated: bytes


def deflate(name: str, data: bytes) -> Member:
    """Return the file as a .zip member, deflated as zipfile deflates it."""
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return Member(name, zlib.crc32(data), len(data), compressor.compress(data)
                  + compressor.flush())


def deflating(files: dict[str, bytes], workers: Executor) -> list[Future[Member]]:
    """Begin to deflate every file on the workers, the largest first."""
    return [workers.submit(deflate, name, files[name])
            for name in sorted(files, key=lambda name: -len(files[name]))]


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """Return the byte-reproducible .zip of these files: sorted names, fixed times and modes."""
    with ThreadPoolExecutor(max_workers=2) as workers:
        members = [job.result() for job in deflating(files, workers)]
    return b"".join(zip_pieces(members, files))


def zip_pieces(members: Iterable[Member], files: dict[str, bytes]) -> list[bytes]:
    """Return the .zip of these members of `files` as pieces to write one after the other:
    laid out here, or by zipfile when it would write ZIP64 records."""
    pieces = _layout(sorted(members, key=lambda member: member.name))
    return pieces if pieces is not None else [zipfile_bytes(files)]


def _layout(members: list[Member]) -> list[bytes] | None:
    """Return the pieces of the .zip of these members in order, or None where zipfile would
    write ZIP64 records."""
    limit = zipfile.ZIP64_LIMIT
    pieces: list[bytes] = []
    directory: list[bytes] = []
    offset = 0
    for member in members:
        info = zipfile.ZipInfo(member.name, date_time=ZIP_TIME)
        if member.size * 1.05 > limit or len(member.deflated) > limit or offset > limit:
            return None
        try:
            name, flags = info.filename.encode("ascii"), info.flag_bits
        except UnicodeEncodeError:
            name, flags = info.filename.encode("utf-8"), info.flag_bits | _UTF8_NAME
        local = _LOCAL.pack(
            b"PK\x03\x04", info.extract_version, info.reserved, flags, zipfile.ZIP_DEFLATED,
            _DOS_TIME, _DOS_DATE, member.crc, len(member.deflated), member.size, len(name), 0)
        directory.append(_CENTRAL.pack(
            b"PK\x01\x02", info.create_version, info.create_system, info.extract_version,
            info.reserved, flags, zipfile.ZIP_DEFLATED, _DOS_TIME, _DOS_DATE, member.crc,
            len(member.deflated), member.size, len(name), 0, 0, 0, info.internal_attr,
            ZIP_MODE, offset) + name)
        pieces += [local + name, member.deflated]
        offset += len(local) + len(name) + len(member.deflated)
    size = sum(map(len, directory))
    if offset > limit or size > limit or len(members) > zipfile.ZIP_FILECOUNT_LIMIT:
        return None
    end = _END.pack(b"PK\x05\x06", 0, 0, len(members), len(members), size, offset, 0)
    return [*pieces, *directory, end]


def zipfile_bytes(files: dict[str, bytes]) -> bytes:
    """Return the .zip of these files as zipfile writes it, one file after another."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ZIP_MODE
            archive.writestr(info, files[name])
    return buffer.getvalue()

