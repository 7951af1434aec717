"""Reading uploaded zip archives (bulk case imports) without trusting anything in them.

Every limit is enforced twice: on the central directory before any byte is inflated, and again on
the bytes actually produced while streaming, because sizes in a zip header are the uploader's
word. Member names are validated, never used raw: no traversal, absolute or drive paths,
backslashes, control characters, duplicates (also case-insensitively) or special files; nested
archives are refused rather than expanded. Pure functions: no Django.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

MiB = 1024 * 1024
CHUNK = MiB
# Below this a member's compression ratio says nothing (a 4 KB CSV of blanks compresses 100:1).
RATIO_FLOOR_BYTES = MiB
ARCHIVE_SUFFIXES = frozenset(
    {".zip", ".jar", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".7z", ".rar", ".zst", ".lz", ".cab"}
)
ARCHIVE_MAGIC = (
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\x1f\x8b",  # gzip
    b"BZh",
    b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"\x28\xb5\x2f\xfd",  # zstd
)
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ArchiveRejected(Exception):
    """The archive is unsafe or malformed; the message is user-facing."""


@dataclass(frozen=True)
class Limits:
    max_total_bytes: int
    max_entries: int
    max_ratio: float


@dataclass
class _Output:
    """Bytes actually inflated so far, against both caps."""

    limits: Limits
    archive_size: int
    produced: int = 0

    @property
    def ratio_cap(self) -> float:
        # The whole archive may not inflate past max_ratio either (many members under the floor).
        return max(self.archive_size, 1) * self.limits.max_ratio + RATIO_FLOOR_BYTES

    def add(self, count: int) -> None:
        self.produced += count
        if self.produced > self.limits.max_total_bytes:
            raise ArchiveRejected(
                "The archive unpacks to more than the "
                f"{self.limits.max_total_bytes / MiB:,.0f} MiB limit."
            )
        if self.produced > self.ratio_cap:
            raise ArchiveRejected(
                f"The archive expands more than {self.limits.max_ratio:g} times its size "
                "(a zip bomb?)."
            )


def safe_member_name(name: str) -> PurePosixPath:
    """The member's relative path, or ArchiveRejected if it could land outside the target."""
    shown = _CONTROL.sub("?", name)[:120]
    if not name or _CONTROL.search(name):
        raise ArchiveRejected(
            f"The archive holds an entry with an empty or unprintable name ({shown!r})."
        )
    if "\\" in name or name.startswith("/") or _DRIVE.match(name):
        raise ArchiveRejected(
            f"The archive entry {shown!r} uses an absolute, drive or backslash path; only plain "
            "relative paths are accepted."
        )
    parts = [part for part in name.rstrip("/").split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        raise ArchiveRejected(f"The archive entry {shown!r} points outside the archive ('..').")
    if any(len(part.encode()) > 255 for part in parts) or len(parts) > 32:
        raise ArchiveRejected(f"The archive entry {shown!r} has an over-long path.")
    return PurePosixPath(*parts)


def _open(source: bytes | str | os.PathLike[str] | BinaryIO) -> tuple[zipfile.ZipFile, int]:
    if isinstance(source, bytes | bytearray | memoryview):
        source = io.BytesIO(bytes(source))
    try:
        if isinstance(source, str | os.PathLike):
            size = Path(source).stat().st_size
        else:
            size = source.seek(0, io.SEEK_END)
            source.seek(0)
        return zipfile.ZipFile(source), size
    except Exception as exc:  # BadZipFile, OSError, struct.error, ... on hostile data
        raise ArchiveRejected(
            f"The upload is not a readable zip archive ({type(exc).__name__})."
        ) from None


def _is_directory(info: zipfile.ZipInfo) -> bool:
    return info.filename.endswith("/")


def _checked_members(
    archive: zipfile.ZipFile, output: _Output, allow_nested: bool
) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Everything that can be judged from the central directory, before inflating a byte."""
    limits = output.limits
    infos = archive.infolist()
    if len(infos) > limits.max_entries:
        raise ArchiveRejected(
            f"The archive holds {len(infos):,} entries, above the limit of {limits.max_entries:,}."
        )
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_total_bytes:
        raise ArchiveRejected(
            f"The archive unpacks to {declared / MiB:,.1f} MiB, above the "
            f"{limits.max_total_bytes / MiB:,.0f} MiB limit."
        )
    if declared > output.ratio_cap:
        raise ArchiveRejected(
            f"The archive expands more than {limits.max_ratio:g} times its size (a zip bomb?)."
        )
    # Overlapping-entry bombs point many directory records at the same compressed data.
    if len({info.header_offset for info in infos}) != len(infos):
        raise ArchiveRejected("The archive has overlapping entries (a known zip bomb technique).")
    seen: set[str] = set()
    members = []
    for info in infos:
        path = safe_member_name(info.filename)
        folded = str(path).casefold()
        if folded in seen:
            raise ArchiveRejected(f"The archive holds the entry {str(path)!r} twice.")
        seen.add(folded)
        # Unix file-type bits (zipfile itself writes permissions only, with no type).
        file_type = stat.S_IFMT(info.external_attr >> 16)
        if file_type and file_type not in (stat.S_IFREG, stat.S_IFDIR):
            kind = "a symbolic link" if file_type == stat.S_IFLNK else "a special file"
            raise ArchiveRejected(
                f"The archive entry {str(path)!r} is {kind}; only files are accepted."
            )
        if info.flag_bits & 0x1:
            raise ArchiveRejected(f"The archive entry {str(path)!r} is password-protected.")
        if _is_directory(info):
            members.append((info, path))
            continue
        if not allow_nested and path.suffix.lower() in ARCHIVE_SUFFIXES:
            raise _nested(path)
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise _bomb(path, limits)
        members.append((info, path))
    return members


def _nested(path: PurePosixPath) -> ArchiveRejected:
    return ArchiveRejected(
        f"The archive entry {str(path)!r} is itself an archive; nested archives are not expanded. "
        "Unpack it and upload its contents."
    )


def _bomb(path: PurePosixPath, limits: Limits) -> ArchiveRejected:
    return ArchiveRejected(
        f"The archive entry {str(path)!r} expands more than {limits.max_ratio:g} times its "
        "compressed size (a zip bomb?)."
    )


def _stream(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    path: PurePosixPath,
    output: _Output,
    allow_nested: bool,
) -> Iterator[bytes]:
    """The member's bytes in chunks, counted against the real output, not the header."""
    limits = output.limits
    produced = 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(CHUNK):
                if produced == 0 and not allow_nested and chunk.startswith(ARCHIVE_MAGIC):
                    raise _nested(path)
                produced += len(chunk)
                output.add(len(chunk))
                if produced > max(RATIO_FLOOR_BYTES, limits.max_ratio * max(info.compress_size, 1)):
                    raise _bomb(path, limits)
                if produced > info.file_size:
                    raise ArchiveRejected(
                        f"The archive entry {str(path)!r} is larger than declared."
                    )
                yield chunk
    except ArchiveRejected:
        raise
    except Exception as exc:  # BadZipFile, zlib.error, struct.error, ... on hostile data
        # zipfile raises BadZipFile("Bad CRC-32") when the header lied about the content.
        raise ArchiveRejected(
            f"The archive entry {str(path)!r} is damaged or uses an unsupported compression "
            f"({type(exc).__name__})."
        ) from None


def iter_zip_members(
    source: bytes | str | os.PathLike[str] | BinaryIO,
    *,
    max_total_bytes: int = 1024 * MiB,
    max_entries: int = 10_000,
    max_ratio: float = 100.0,
    allow_nested: bool = False,
) -> Iterator[tuple[str, bytes]]:
    """Yield (validated relative name, content) for each file, for importers that read CSV and
    images straight from the upload. Directories are skipped. Raises ArchiveRejected, possibly
    after earlier members were yielded: collect before acting if that matters."""
    archive, archive_size = _open(source)
    output = _Output(Limits(max_total_bytes, max_entries, max_ratio), archive_size)
    with archive:
        for info, path in _checked_members(archive, output, allow_nested):
            if not _is_directory(info):
                yield str(path), b"".join(_stream(archive, info, path, output, allow_nested))


def safe_extract(
    source: bytes | str | os.PathLike[str] | BinaryIO,
    *,
    dest_dir: str | os.PathLike[str],
    max_total_bytes: int = 1024 * MiB,
    max_entries: int = 10_000,
    max_ratio: float = 100.0,
    allow_nested: bool = False,
) -> list[Path]:
    """Extract every file under ``dest_dir`` (created if missing); returns the written files.

    Nothing is ever written outside ``dest_dir``: names are validated, each target is re-checked
    after resolving symlinks already present in ``dest_dir``, and files are created with
    O_EXCL|O_NOFOLLOW. On rejection every file and folder this call created is removed again.
    """
    root = Path(dest_dir)
    root.mkdir(parents=True, exist_ok=True)
    root = root.resolve()
    created: list[Path] = []
    written: list[Path] = []
    archive, archive_size = _open(source)
    output = _Output(Limits(max_total_bytes, max_entries, max_ratio), archive_size)
    try:
        with archive:
            for info, path in _checked_members(archive, output, allow_nested):
                is_directory = _is_directory(info)
                target = _inside(root, path, is_directory)
                try:
                    _make_parents(root, target if is_directory else target.parent, created)
                    if is_directory:
                        continue
                    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                    descriptor = os.open(target, flags, 0o640)
                except OSError as exc:
                    raise ArchiveRejected(
                        f"The archive entry {str(path)!r} could not be written ({type(exc).__name__})."
                    ) from None
                created.append(target)
                with os.fdopen(descriptor, "wb") as file:
                    for chunk in _stream(archive, info, path, output, allow_nested):
                        file.write(chunk)
                written.append(target)
    except BaseException:
        _remove(created)
        raise
    return written


def _inside(root: Path, path: PurePosixPath, is_directory: bool) -> Path:
    target = root.joinpath(*path.parts)
    # resolve() follows links that already exist under root (planted or left from an earlier run)
    if not target.resolve().is_relative_to(root):
        raise ArchiveRejected(
            f"The archive entry {str(path)!r} would be written outside the folder."
        )
    if target.is_symlink() or (target.exists() and not (is_directory and target.is_dir())):
        raise ArchiveRejected(f"The archive entry {str(path)!r} would overwrite an existing file.")
    return target


def _make_parents(root: Path, folder: Path, created: list[Path]) -> None:
    missing = []
    for parent in [folder, *folder.parents]:
        if parent == root or parent.exists():
            break
        missing.append(parent)
    for parent in reversed(missing):
        parent.mkdir()
        created.append(parent)


def _remove(created: list[Path]) -> None:
    for path in reversed(created):
        try:
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                path.unlink()
        except OSError:
            continue
