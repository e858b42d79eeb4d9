"""One streaming pass over a file's bytes: hash, newline count, UTF-8 check, and transcoding.

DuckDB's read_csv reads UTF-8 only (other code pages need an extension that cannot be
downloaded here), so a Windows-1250 or UTF-16 file is rewritten as a temporary UTF-8 file, a
megabyte at a time. The same pass hashes the original bytes, so a load reads its file once.
"""

from __future__ import annotations

import codecs
import dataclasses
import hashlib
import os
from pathlib import Path

from optin_gate.errors import InputError
from optin_gate.io.scratch import scratch_file

__all__ = ["Scan", "scan_file", "transcode"]

CHUNK = 1 << 22


@dataclasses.dataclass(frozen=True, slots=True)
class Scan:
    """What one pass over a file found.

    Attributes:
        sha256: Hex SHA-256 of the file's bytes ("" when not computed).
        newlines: Number of line feeds in the file.
        ends_with_newline: The last byte is a line feed.
        utf8: Every byte sequence is valid UTF-8.
    """

    sha256: str
    newlines: int
    ends_with_newline: bool
    utf8: bool


def scan_file(path: Path, *, check_utf8: bool = True, digest: bool = True) -> Scan:
    """Count a file's lines, check it is UTF-8 and (with `digest`) hash it, in one pass.

    Chunks of plain ASCII (most of a CSV of numbers and dates) skip the UTF-8 decoder.
    Without `digest`, `Scan.sha256` is "".
    """
    hasher = hashlib.sha256() if digest else None
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines, last, utf8 = 0, b"", check_utf8
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            if hasher is not None:
                hasher.update(chunk)
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
            if utf8 and not chunk.isascii():
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    return Scan(hasher.hexdigest() if hasher else "", newlines, last == b"\n", utf8)


def transcode(path: Path, encoding: str, *, name: str) -> tuple[Path, Scan]:
    """Write a UTF-8 copy of a text file to a temporary file.

    Args:
        path: The file.
        encoding: Its encoding ("cp1250" or "utf-16").
        name: The file's name for messages.

    Returns:
        The temporary file (the caller deletes it) and the scan of the original bytes
        (`newlines` counts the copy's lines, which are the original's lines).

    Raises:
        InputError: A byte cannot be read in that encoding.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    digest = hashlib.sha256()
    fd, out_path = scratch_file(".csv")
    newlines, last, offset = 0, "", 0
    try:
        with path.open("rb") as src, os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            while True:
                chunk = src.read(CHUNK)
                digest.update(chunk)
                try:
                    text = decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as exc:
                    what = "Windows-1250" if encoding == "cp1250" else encoding.upper()
                    raise InputError(
                        f"the text is neither UTF-8 nor {what} "
                        f"(byte {offset + exc.start} cannot be read)",
                        file=name,
                        hint="save the file as CSV UTF-8",
                    ) from None
                offset += len(chunk)
                if text:
                    text = text.lstrip("\ufeff") if offset == len(chunk) else text
                    newlines += text.count("\n")
                    last = text[-1]
                    out.write(text)
                if not chunk:
                    break
    except BaseException:
        out_path.unlink(missing_ok=True)
        raise
    return out_path, Scan(digest.hexdigest(), newlines, last == "\n", True)
