"""Which text encoding a CSV file is in: UTF-8 (with or without a BOM) or GB18030/GBK, told
from its bytes, never by a reading that only works by accident.

The rule (`csv_encoding`), in order:
1. A UTF-16/UTF-32 byte-order mark or NUL bytes: UTF-16/32 text or not text — refused.
2. The whole file is UTF-8: UTF-8 — unless, without a UTF-8 BOM, its characters outside
   ASCII are mostly of two bytes (GBK pairs often form such by accident; Chinese as UTF-8
   takes three) and GB18030 reads it plausibly too: ambiguous, refused.
3. The file is UTF-8 but for its last bytes, a character cut in two: the file was cut short
   (a copy or download that stopped) — refused naming the byte offset, never "repaired".
   With no other UTF-8 character of three bytes or more to go by, UTF-8 and GB18030 both
   fit: refused as ambiguous.
4. A UTF-8 BOM, UTF-8 characters of three bytes or more (Chinese...) outnumbering the bytes
   that are not UTF-8 four to one, or three Chinese characters as UTF-8 before the first
   byte that is not: damaged UTF-8, or rows of two encodings in one file — refused naming
   the byte offset and line. (Two-byte characters are no evidence: GBK pairs form them by
   accident.)
5. The whole file is GB18030, with at least two characters outside ASCII and 4 in 5 of
   them common Chinese (GB2312 hanzi and punctuation): GB18030. GBK text is ~99% such
   characters; UTF-8, Big5 or Latin-1 bytes read as GB18030 by accident a third or less.
   Chinese written as UTF-8 anywhere in such a file (three characters or more together): rows
   of two encodings — refused naming the byte offset and line.
6. Anything else — refused, naming the encodings tried and where each failed.

A file is judged from its whole bytes for validity, and from ENCODING_SAMPLE_BYTES around
the first byte that does not fit (`spotcheck.limits`) for what its characters look like.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spotcheck.errors import InvalidInputError, RowProblem
from spotcheck.limits import ENCODING_SAMPLE_BYTES

UTF8_MAJORITY = 4  # UTF-8 characters per non-UTF-8 byte above which a file is damaged UTF-8
UTF8_CJK_EVIDENCE = 3  # Chinese as UTF-8 before the first bad byte: the file began as UTF-8
GB2312_SHARE = 0.8  # share of common Chinese characters below which GB18030 is an accident
GB18030_EVIDENCE = 2  # characters outside ASCII below which any encoding could be meant
_SAVE_AS = "save it from Excel as 'CSV UTF-8 (逗号分隔)' or as .xlsx"
# Lead bytes of UTF-8 characters of two bytes (accented Latin, Greek, Cyrillic...) and of
# three or more (Chinese and the rest): the complements, for bytes.translate to delete.
_NOT_TWO_BYTE_LEADS = bytes(b for b in range(256) if not 0xC2 <= b <= 0xDF)
_NOT_LONGER_LEADS = bytes(b for b in range(256) if not 0xE0 <= b <= 0xF4)


def file_refused(name: str, reason: str, row: int | None = None) -> InvalidInputError:
    """Return the error refusing a whole file for one reason."""
    return InvalidInputError([RowProblem(name, row, None, None, reason)],
                             headline=f"{name}: the file is rejected")


@dataclass(frozen=True)
class _Damage:
    """Where a file stops decoding: the byte offset, and whether only its end is cut."""

    offset: int
    at_end: bool


def _damage(path: str | Path, encoding: str) -> _Damage | None:
    """Return where a file first fails to decode as `encoding`, or None if it never does."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            held = len(decoder.getstate()[0])  # bytes kept back from the last chunk
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return _Damage(offset - held + exc.start, at_end=False)
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return _Damage(offset - len(exc.object) + exc.start, at_end=True)
    return None


def _around(path: str | Path, offset: int) -> tuple[bytes, bytes]:
    """Return up to ENCODING_SAMPLE_BYTES of a file before `offset`, and as many from it."""
    start = max(0, offset - ENCODING_SAMPLE_BYTES)
    with open(path, "rb") as stream:
        stream.seek(start)
        return stream.read(offset - start), stream.read(ENCODING_SAMPLE_BYTES)


def _line_of(path: str | Path, offset: int) -> int:
    """Return the line (1-based) the byte at `offset` is on."""
    count, at = 1, 0
    with open(path, "rb") as stream:
        while at < offset and (block := stream.read(min(1 << 20, offset - at))):
            count += block.count(b"\n")
            at += len(block)
    return count


def _non_ascii(text: str) -> int:
    """Return how many characters of text are not ASCII."""
    return len(text) - len(text.encode("ascii", "ignore"))


# Chinese as UTF-8 takes three bytes a character; GBK bytes form such a sequence by accident
# about once in a hundred characters, and two-byte UTF-8 sequences (Latin, Greek, Cyrillic)
# far more often. So Chinese characters read as UTF-8 are the evidence that counts.
_CJK = re.compile("[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _utf8_cjk(before: bytes) -> int:
    """Return how many Chinese characters the UTF-8 bytes before a bad byte hold."""
    return len(_CJK.findall(before.decode("utf-8", "ignore")))


def _utf8_evidence(before: bytes, after: bytes) -> tuple[int, int]:
    """Return how many UTF-8 characters of three bytes or more (Chinese...) surround a
    file's first byte that is not UTF-8 (all of `before` is UTF-8), and how many bytes from
    it on are not UTF-8. Two-byte characters are no evidence: GBK pairs form them by
    accident. Characters are counted by their lead bytes."""
    text = after.decode("utf-8", "replace")
    read = text.replace("\ufffd", "").encode("utf-8")
    wide = len(before.translate(None, _NOT_LONGER_LEADS)) + len(read.translate(None,
                                                                                _NOT_LONGER_LEADS))
    return wide, len(text) - len(text.replace("\ufffd", ""))


# A GB2312 character as two bytes, both 0xA1-0xFE; its first byte tells its row: 0xA1
# punctuation, 0xA3 full-width forms, 0xB0-0xF7 the hanzi. Kana, Greek, Cyrillic and box
# drawing (the other rows) are what other encodings' bytes mostly become when read as GBK.
_CHINESE_ROWS = np.zeros(256, dtype=bool)
_CHINESE_ROWS[[0xA1, 0xA3, *range(0xB0, 0xF8)]] = True


def _chinese_rows(encoded: bytes) -> int:
    """Return how many characters of GB2312 bytes are in the Chinese rows: in each run of
    bytes outside ASCII, every other byte from the run's first is a character's first."""
    raw = np.frombuffer(encoded, dtype=np.uint8)
    high = raw >= 0xA1
    starts = high & ~np.concatenate(([False], high[:-1]))
    first = np.maximum.accumulate(np.where(starts, np.arange(len(raw)), 0))
    leading = high & ((np.arange(len(raw)) - first) % 2 == 0)
    return int(_CHINESE_ROWS[raw[leading]].sum())


def _chinese_share(data: bytes) -> tuple[float, int]:
    """Return the share of the characters outside ASCII of `data` (starting at a line),
    read as GB18030, that are common Chinese (GB2312 hanzi and punctuation), and how many
    such characters there are: a share near 1 for GBK text, a half or less for bytes of
    another encoding read as GB18030 by accident."""
    text = data.decode("gb18030", "replace").replace("\ufeff", "")
    others = _non_ascii(text)
    if not others:
        return 1.0, 0
    return _chinese_rows(text.encode("gb2312", "replace")) / others, others


# Three or more Chinese characters as UTF-8 making up a whole run of bytes outside ASCII.
# GBK text never does (a run of GBK is an even number of bytes, and only about one GBK
# character in 250 even starts such a sequence): such a run in a GB18030 file is a UTF-8 row.
# Found by a fixed nine-byte pattern (a fast scan), then checked to be a whole run.
_UTF8_CHINESE = re.compile(rb"[\xe4-\xe9][\x80-\xbf][\x80-\xbf]" * 3)
_UTF8_CHINESE_REST = re.compile(rb"(?:[\xe4-\xe9][\x80-\xbf][\x80-\xbf])*(?:[\x00-\x7f]|\Z)")
_HIGH_BYTES = bytes(range(0x80, 0x100))


def _utf8_run(path: str | Path) -> int | None:
    """Return the offset of the first run of Chinese as UTF-8 in a file, or None."""
    offset, carry = 0, b""  # `carry`: the bytes after the last ASCII byte read, at `offset`
    with open(path, "rb") as stream:
        while True:
            chunk = stream.read(1 << 20)
            data = carry + chunk
            # Judge up to the last ASCII byte only: a run a chunk cuts is judged whole later.
            end = len(data.rstrip(_HIGH_BYTES)) if chunk else len(data)
            if end == 0 and chunk and len(data) < (4 << 20):
                carry = data
                continue
            end = end or len(data)
            for found in _UTF8_CHINESE.finditer(data, 0, end):
                at = found.start()
                if (at == 0 or data[at - 1] < 0x80) and \
                        _UTF8_CHINESE_REST.match(data, found.end(), end):
                    return offset + at
            if not chunk:
                return None
            offset, carry = offset + end, data[end:]


def _plausible_gb18030(path: str | Path, data: bytes, evidence: int = 1) -> bool:
    """Return whether the whole file is GB18030 and `data` of it reads as Chinese text:
    at least `evidence` characters outside ASCII, GB2312_SHARE of them common Chinese."""
    share, count = _chinese_share(data)
    return count >= evidence and share >= GB2312_SHARE and _damage(path, "gb18030") is None




def csv_encoding(path: str | Path, name: str) -> str:
    """Return the text encoding of a CSV file, detected from its bytes by the rule of the
    module docstring; raise refusing a file no encoding fits without doubt."""
    with open(path, "rb") as stream:
        head = stream.read(ENCODING_SAMPLE_BYTES)
    if b"\x00" in head:
        raise file_refused(name, "the file has NUL bytes: UTF-16 or UTF-32 text, or not text "
                           f"at all; {_SAVE_AS}")
    utf8 = _damage(path, "utf-8")
    if utf8 is None:
        _check_utf8_is_meant(path, name, head)
        return "utf-8-sig"
    before, after = _around(path, utf8.offset)
    _check_not_damaged_utf8(path, name, head, utf8, before, after)
    # Judge GB18030 from the line of the first byte that is not UTF-8 on: a pair of bytes
    # read from its second byte would be judged wrongly.
    if _plausible_gb18030(path, before[before.rfind(b"\n") + 1:] + after, GB18030_EVIDENCE):
        mixed = _utf8_run(path)
        if mixed is None:
            return "gb18030"
        raise file_refused(name, f"the file is GB18030 (GBK) text, but byte {mixed:,} (line "
                           f"{_line_of(path, mixed)}) begins Chinese written as UTF-8: rows "
                           "pasted in from a file in another encoding; save all of it in one "
                           f"encoding — {_SAVE_AS}")
    gb = _damage(path, "gb18030")
    why = (f"GB18030 fails at byte {gb.offset:,} (line {_line_of(path, gb.offset)})"
           if gb is not None else
           "as GB18030 too few of its characters are common Chinese ones, so that reading "
           "would only be an accident")
    raise file_refused(name, f"cannot tell the file's encoding: tried UTF-8 (byte "
                       f"{utf8.offset:,} on line {_line_of(path, utf8.offset)} is not UTF-8) "
                       f"and GB18030 ({why}); {_SAVE_AS}")


def _check_utf8_is_meant(path: str | Path, name: str, head: bytes) -> None:
    """Refuse a file that is UTF-8 only by accident: no BOM, its characters outside ASCII
    mostly of two bytes (as GBK pairs often are), and GB18030 a plausible reading too."""
    # Characters counted by their lead bytes (the sample is UTF-8): two-byte ones (accented
    # Latin, Greek, Cyrillic) and longer ones (Chinese and the rest).
    narrow = len(head.translate(None, _NOT_TWO_BYTE_LEADS))
    wide = len(head.translate(None, _NOT_LONGER_LEADS))
    if (head.startswith(codecs.BOM_UTF8) or not narrow or wide >= narrow
            or not _plausible_gb18030(path, head)):
        return
    seen = [char for char in head.decode("utf-8", "ignore") if char >= "\x80"][:6]
    as_gb = [char for char in head.decode("gb18030", "replace") if char >= "\x80"][:6]
    raise file_refused(name, f"the encoding is ambiguous: read as UTF-8 its first characters "
                       f"outside ASCII are {''.join(seen)!r}, read as GB18030 "
                       f"{''.join(as_gb)!r}; tried UTF-8 and GB18030; save it as "
                       "'CSV UTF-8 (逗号分隔)', which marks the file as UTF-8, or as .xlsx")


def _check_not_damaged_utf8(path: str | Path, name: str, head: bytes, utf8: _Damage,
                            before: bytes, after: bytes) -> None:
    """Refuse a file that is UTF-8 but for a damaged part: cut in the middle of a character
    (or, with no other evidence, ambiguous), or with bytes that are not UTF-8 in text that
    is plainly UTF-8 around them."""
    good, bad = _utf8_evidence(before, after)
    if utf8.at_end:
        if good or head.startswith(codecs.BOM_UTF8):
            raise file_refused(name, f"the file is UTF-8 text cut short: it ends in the middle of "
                               f"a character (byte {utf8.offset:,}); copy or save it again")
        raise file_refused(name, "the encoding is ambiguous: the file's only characters "
                           f"outside ASCII, at its end (byte {utf8.offset:,}), are either a UTF-8 "
                           f"character cut short or GB18030; tried UTF-8 and GB18030; {_SAVE_AS}")
    if (head.startswith(codecs.BOM_UTF8) or good >= UTF8_MAJORITY * max(bad, 1)
            or _utf8_cjk(before) >= UTF8_CJK_EVIDENCE):
        raise file_refused(name, f"the file is UTF-8 text, but byte {utf8.offset:,} (line "
                           f"{_line_of(path, utf8.offset)}) is not UTF-8: a damaged file, or "
                           f"rows pasted in from a file in another encoding (GBK?); {_SAVE_AS}")
