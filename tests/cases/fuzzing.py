"""Seeds and mutations for fuzzing the importers (``test_fuzz_importers.py``).

Seeds are small valid inputs written here or cut from ``data/``; hypothesis mutates them at the
byte level (flips, boundary integers in length fields, inserts, deletes, repeats, truncation) and,
for CSV and JSON, at the structure level (a cell or a JSON node replaced by a hostile value), so
most examples get past the first parser check and reach our code. Two run lengths: a short one in
``make test`` and a long one (``-m slow``) in ``make soak``.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.cases.dicom_factory import make_dataset, to_bytes
from tests.cases.factories import png_bytes

SHORT_EXAMPLES = 25  # per property, in `make test`
LONG_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "500"))  # per property, in `make soak`
RUNS = ("short", "long")
DATA = Path(django_settings.BASE_DIR) / "data"

BOUNDARY_INTS = (0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)
HOSTILE_CELLS = (
    "",
    " ",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "-1",
    "-0.0",
    "1e309",
    "99999999999999999999999",
    "0x10",
    "1,2",
    '"',
    "\x00",
    "\ufeff",
    "No Finding",
    "Nodule|No Finding",
    "Dragon",
    "../../etc/passwd",
    "=HYPERLINK(1)",
    "<script>x</script>",
)


def examples(run: str) -> Callable[[Any], Any]:
    """The hypothesis settings of one run length (``run`` is "short" or "long")."""
    return settings(
        max_examples=SHORT_EXAMPLES if run == "short" else LONG_EXAMPLES,
        deadline=None,
        derandomize=run == "short",  # the same examples on every CI run; soak explores
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
        database=None,
    )


# ------------------------------------------------------------------------------------ mutations


@st.composite
def mutated(draw: st.DrawFn, seeds: Sequence[bytes], max_ops: int = 6) -> bytes:
    """One seed with up to ``max_ops`` byte-level mutations."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, max_ops))):
        size = len(data)
        pos = draw(st.integers(0, max(size - 1, 0)))
        op = draw(st.sampled_from(("flip", "byte", "word", "insert", "delete", "repeat", "cut")))
        if op == "flip" and size:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte" and size:
            data[pos] = draw(st.integers(0, 255))
        elif op == "word":
            value = draw(st.sampled_from(BOUNDARY_INTS))
            data[pos : pos + 4] = struct.pack(draw(st.sampled_from(("<I", ">I"))), value)
        elif op == "insert":
            data[pos:pos] = draw(st.binary(max_size=64))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 256))]
        elif op == "repeat":
            chunk = bytes(data[pos : pos + draw(st.integers(1, 128))])
            data[pos:pos] = chunk * draw(st.integers(1, 8))
        elif op == "cut":
            del data[pos:]
    return bytes(data)


def png_with_valid_crcs(data: bytes) -> bytes:
    """Recompute the CRC of every PNG chunk that still parses, so a mutation reaches the decoder
    instead of stopping at the first CRC check."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data
    out, pos = bytearray(data[:8]), 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        body = data[pos + 4 : pos + 8 + length]
        if len(body) != length + 4:
            break
        out += data[pos : pos + 4] + body + struct.pack(">I", zlib.crc32(body))
        pos += 12 + length
    return bytes(out + data[pos:])


def hostile_cell() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE_CELLS),
        st.text(max_size=40),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
    )


@st.composite
def mutated_csv(draw: st.DrawFn, text: str, max_ops: int = 4) -> str:
    """A CSV with cells replaced, rows dropped, repeated or widened, then maybe byte-mutated."""
    rows = list(csv.reader(io.StringIO(text)))
    for _ in range(draw(st.integers(0, max_ops))):
        row = draw(st.integers(0, len(rows) - 1)) if rows else 0
        op = draw(st.sampled_from(("cell", "cell", "cell", "drop", "repeat", "widen", "narrow")))
        if not rows:
            break
        if op == "cell" and rows[row]:
            rows[row][draw(st.integers(0, len(rows[row]) - 1))] = draw(hostile_cell())
        elif op == "drop":
            del rows[row]
        elif op == "repeat":
            rows.insert(row, list(rows[row]))
        elif op == "widen":
            rows[row].append(draw(hostile_cell()))
        elif op == "narrow" and rows[row]:
            rows[row].pop()
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    if draw(st.booleans()):
        return buffer.getvalue()
    return draw(mutated([buffer.getvalue().encode()], max_ops=2)).decode("utf-8", "replace")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers(-(2**70), 2**70) | hostile_cell(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in children:
        found += _paths(child, (*path, key))
    return found


@st.composite
def mutated_json(draw: st.DrawFn, seed: Any, max_ops: int = 3) -> bytes:
    """The seed with nodes replaced by hostile values or deleted, as JSON bytes (NaN allowed:
    Python's json reads it), then maybe byte-mutated."""
    tree = json.loads(json.dumps(seed))
    for _ in range(draw(st.integers(0, max_ops))):
        path = draw(st.sampled_from(_paths(tree)))
        value = draw(JSON_VALUES)
        if not path:
            tree = value
            continue
        parent = tree
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    text = json.dumps(tree).encode()
    return text if draw(st.booleans()) else draw(mutated([text], max_ops=2))


# ---------------------------------------------------------------------------------------- seeds


def dicom_seeds() -> list[bytes]:
    """Tiny DICOMs written with pydicom: two sizes, 8 and 16 bit, and one of a two-view study."""
    small = make_dataset(rows=24, columns=20)
    eight = make_dataset(rows=16, columns=16, bits_allocated=8, bits_stored=8)
    lateral = make_dataset(rows=20, columns=24, view_position="LL")
    lateral.StudyInstanceUID = small.StudyInstanceUID
    return [to_bytes(small), to_bytes(eight), to_bytes(lateral)]


def png_seeds() -> list[bytes]:
    return [png_bytes(24, 20), png_bytes(16, 16, mode="RGB"), png_bytes(20, 24, mode="I;16")]


def zip_seed(members: dict[str, bytes], *, deflate: bool) -> bytes:
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_seeds() -> list[bytes]:
    dicoms = dicom_seeds()
    members = {"study/a.dcm": dicoms[0], "study/b.dcm": dicoms[2], "notes/readme.txt": b"hello"}
    return [zip_seed(members, deflate=True), zip_seed(members, deflate=False)]


def head_rows(path: Path, count: int, keep: Callable[[list[str]], bool] = lambda row: True) -> str:
    """The header and the first ``count`` rows (that ``keep`` accepts) of a CSV, as CSV text."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        rows = [next(reader), *itertools.islice(filter(keep, reader), count)]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def image_names(text: str, column: int) -> list[str]:
    return sorted({row[column] for row in list(csv.reader(io.StringIO(text)))[1:] if row})
