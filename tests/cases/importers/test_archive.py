"""apps.cases.importers.archive: hostile zip uploads (RELIABILITY S18), checked with a
filesystem snapshot. The module itself uses no Django (its package, the importers, does)."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import struct
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.cases.importers.archive import (
    ArchiveRejected,
    iter_zip_members,
    safe_extract,
    safe_member_name,
)


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    """Overrides the Django-settings fixture of tests/cases/conftest.py: no Django needed here."""
    return tmp_path


def build_zip(members: dict[str, bytes], *, mode_bits: dict[str, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode_bits and name in mode_bits:
                info.external_attr = mode_bits[name] << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def snapshot(root: Path) -> dict[str, str]:
    """Every path under root with a digest of its content (or its link target)."""
    seen = {}
    for folder, directories, files in os.walk(root, followlinks=False):
        for name in directories + files:
            path = Path(folder, name)
            relative = str(path.relative_to(root))
            if path.is_symlink():
                seen[relative] = "link:" + str(path.readlink())
            elif path.is_file():
                seen[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                seen[relative] = "dir"
    return seen


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """tmp_path/sandbox/out is the destination; a sibling file and folder must never change."""
    root = tmp_path / "sandbox"
    (root / "out").mkdir(parents=True)
    (root / "sibling").mkdir()
    (root / "sibling" / "keep.txt").write_text("untouched")
    (root / "evil.txt").write_text("original")
    return root


def assert_rejected_and_untouched(sandbox: Path, data: bytes, match: str, **limits: int) -> None:
    before = snapshot(sandbox.parent)
    with pytest.raises(ArchiveRejected, match=match):
        safe_extract(data, dest_dir=sandbox / "out", **limits)
    assert snapshot(sandbox.parent) == before


def test_extracts_a_normal_import_bundle(sandbox: Path) -> None:
    members = {"cases.csv": b"image,label\na.png,Nodule\n", "images/a.png": b"\x89PNG fake"}
    data = build_zip({"images/": b"", **members})
    written = safe_extract(data, dest_dir=sandbox / "out")
    assert sorted(p.relative_to(sandbox / "out").as_posix() for p in written) == sorted(members)
    for name, content in members.items():
        assert (sandbox / "out" / name).read_bytes() == content
    assert sorted(iter_zip_members(data)) == sorted(members.items())


def test_accepts_a_path_and_a_file_object(tmp_path: Path) -> None:
    data = build_zip({"a.csv": b"x"})
    archive = tmp_path / "upload.zip"
    archive.write_bytes(data)
    assert list(iter_zip_members(archive)) == [("a.csv", b"x")]
    assert list(iter_zip_members(io.BytesIO(data))) == [("a.csv", b"x")]


@pytest.mark.parametrize(
    "name",
    [
        "../evil.txt",
        "../../evil.txt",
        "images/../../evil.txt",
        "/etc/evil.txt",
        "C:/evil.txt",
        "C:evil.txt",
        "a\\..\\..\\evil.txt",
        "..",
        "ok/\x1b[31mevil.txt",
    ],
)
def test_traversal_names_are_rejected_and_nothing_is_written(sandbox: Path, name: str) -> None:
    data = build_zip({"fine.csv": b"a,b\n", name: b"pwned"})
    assert_rejected_and_untouched(sandbox, data, "archive entry|name")


@pytest.mark.parametrize(("name", "relative"), [("a/./b.png", "a/b.png"), ("./x.csv", "x.csv")])
def test_harmless_dot_segments_are_normalised(name: str, relative: str) -> None:
    assert str(safe_member_name(name)) == relative


def test_symlink_entries_are_rejected(sandbox: Path) -> None:
    data = build_zip({"link": b"/etc/passwd"}, mode_bits={"link": stat.S_IFLNK | 0o777})
    assert_rejected_and_untouched(sandbox, data, "symbolic link")


def test_fifo_entries_are_rejected(sandbox: Path) -> None:
    data = build_zip({"pipe": b""}, mode_bits={"pipe": stat.S_IFIFO | 0o644})
    assert_rejected_and_untouched(sandbox, data, "special file")


def test_existing_symlink_in_destination_is_not_followed(sandbox: Path) -> None:
    (sandbox / "out" / "images").symlink_to(sandbox / "sibling")
    data = build_zip({"images/keep.txt": b"overwritten?", "images/new.txt": b"x"})
    assert_rejected_and_untouched(sandbox, data, "outside the folder")


def test_too_many_entries(sandbox: Path) -> None:
    data = build_zip({f"f{i}.txt": b"x" for i in range(101)})
    assert_rejected_and_untouched(sandbox, data, "101 entries", max_entries=100)


def test_total_size_cap_from_the_directory(sandbox: Path) -> None:
    data = build_zip({"a.bin": os.urandom(40_000), "b.bin": os.urandom(40_000)})
    assert_rejected_and_untouched(sandbox, data, "MiB limit", max_total_bytes=50_000)


def patch_sizes(data: bytes, uncompressed: int) -> bytes:
    """Rewrite every local and central header's uncompressed size (a lying archive)."""
    patched = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := patched.find(signature, start)) >= 0:
            patched[start + offset : start + offset + 4] = struct.pack("<I", uncompressed)
            start += 4
    return bytes(patched)


def test_lying_size_headers_are_caught_while_streaming(sandbox: Path) -> None:
    # The header claims 1 KB; the member really inflates to 5 MB of zeros.
    data = patch_sizes(build_zip({"small.csv": bytes(5 * 1024 * 1024)}), 1024)
    assert_rejected_and_untouched(sandbox, data, "damaged", max_total_bytes=100_000)
    with pytest.raises(ArchiveRejected):
        list(iter_zip_members(data, max_total_bytes=100_000))


def test_zip_bomb_is_refused_quickly(sandbox: Path) -> None:
    bomb = build_zip({"zeros.csv": bytes(50 * 1024 * 1024)})  # ~50 KB, ratio ~1000:1
    assert len(bomb) < 100_000
    started = time.perf_counter()
    assert_rejected_and_untouched(sandbox, bomb, "zip bomb", max_total_bytes=1 << 30)
    assert time.perf_counter() - started < 1.0


def test_bomb_spread_over_many_small_members_hits_the_overall_ratio(sandbox: Path) -> None:
    bomb = build_zip({f"part{i}.csv": bytes(900 * 1024) for i in range(12)})
    assert_rejected_and_untouched(sandbox, bomb, "zip bomb", max_total_bytes=1 << 30)


def test_nested_archives_are_not_expanded(sandbox: Path) -> None:
    inner = build_zip({"inner.csv": b"x"})
    for name in ("more.zip", "disguised.csv"):
        data = build_zip({"fine.csv": b"x", name: inner})
        assert_rejected_and_untouched(sandbox, data, "nested archives")
    allowed = safe_extract(
        build_zip({"more.zip": inner}), dest_dir=sandbox / "out", allow_nested=True
    )
    assert [p.name for p in allowed] == ["more.zip"]


def test_overlapping_entries_are_refused(sandbox: Path) -> None:
    data = bytearray(build_zip({"a.csv": b"row\n" * 1000}))
    end = data.rfind(b"PK\x05\x06")
    directory_size, directory_offset = struct.unpack("<II", data[end + 12 : end + 20])
    record = bytes(data[directory_offset : directory_offset + directory_size])
    twin = record.replace(b"a.csv", b"b.csv")
    entries = struct.unpack("<H", data[end + 10 : end + 12])[0] + 1
    trailer = bytearray(data[end:])
    trailer[8:12] = struct.pack("<HH", entries, entries)
    trailer[12:16] = struct.pack("<I", directory_size * 2)
    crafted = bytes(data[:end]) + twin + bytes(trailer)
    assert_rejected_and_untouched(sandbox, crafted, "overlapping")


def test_duplicate_names_are_refused(sandbox: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Scan.png", b"one")
        archive.writestr("scan.PNG", b"two")
    assert_rejected_and_untouched(sandbox, buffer.getvalue(), "twice")


def test_encrypted_members_are_refused(sandbox: Path) -> None:
    data = bytearray(build_zip({"a.csv": b"x"}))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.find(signature)
        data[start + offset] |= 0x1
    assert_rejected_and_untouched(sandbox, bytes(data), "password")


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x03\x04" + bytes(40)])
def test_garbage_is_refused(sandbox: Path, data: bytes) -> None:
    assert_rejected_and_untouched(sandbox, data, "not a readable zip")


def test_a_failure_midway_removes_what_was_already_written(sandbox: Path) -> None:
    good = build_zip({"first.csv": b"a,b\n", "second/data.bin": bytes(3 * 1024 * 1024)})
    lying = patch_sizes(good, 4)  # both members now fail their CRC after 4 bytes
    before = snapshot(sandbox.parent)
    with pytest.raises(ArchiveRejected):
        safe_extract(lying, dest_dir=sandbox / "out")
    assert snapshot(sandbox.parent) == before


SEED_ZIP = build_zip({"cases.csv": b"image,label\na.png,Nodule\n" * 20, "images/a.png": bytes(300)})


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(st.tuples(st.integers(0, len(SEED_ZIP) - 1), st.integers(0, 255)), max_size=6),
    st.none() | st.integers(0, len(SEED_ZIP)),
)
def test_fuzzed_archives_are_read_or_rejected(
    edits: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(SEED_ZIP)
    for position, value in edits:
        data[position] = value
    try:
        members = list(iter_zip_members(bytes(data[:cut]), max_total_bytes=1_000_000))
    except ArchiveRejected as exc:
        assert str(exc)
    else:
        assert all(not name.startswith(("/", "..")) and "\\" not in name for name, _ in members)
    with tempfile.TemporaryDirectory() as folder:
        destination = Path(folder) / "out"
        try:
            written = safe_extract(bytes(data[:cut]), dest_dir=destination)
        except ArchiveRejected:
            written = []
        assert all(path.resolve().is_relative_to(destination.resolve()) for path in written)
        assert {p.name for p in Path(folder).iterdir()} == {"out"}
