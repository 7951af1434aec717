"""``python -m ml score-localize``: score Localize marks against a reference, one case or a batch.

    python -m ml score-localize --reference REF.json --marks MARKS.json
    python -m ml score-localize --batch CASES.jsonl      # one {"id", "reference", "marks"} a line

Results go to stdout as JSON (one object per input line in batch mode, each with its ``id``).
Input errors go to stderr naming the file or line and the field, e.g.
``line 3: marks.boxes[0].label: Unknown finding label 'Nodle'. Did you mean: Nodule?``, and the
exit status is 1. A batch stops at the first bad line unless ``--keep-going`` is given, which
scores every good line and still exits 1 if any line failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from ml.boxes import InputError, parse_marks, parse_reference, score_localize

EXIT_INPUT_ERROR = 1


class _CaseError(Exception):
    """An input problem, already phrased with where it happened."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    single = parser.add_argument_group("one case")
    single.add_argument("--reference", type=Path, help="reference JSON file (ground truth)")
    single.add_argument("--marks", type=Path, help="marks JSON file (the resident's answer)")
    parser.add_argument(
        "--batch",
        type=Path,
        help='JSON Lines file ("-" for stdin): {"id", "reference", "marks"} per line',
    )
    parser.add_argument(
        "--iou-threshold",
        type=float,
        default=None,
        help="IoU for a hit, overriding the reference's own and the default 0.3",
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="in a batch, report bad lines on stderr and score the rest",
    )
    parser.add_argument(
        "--indent", type=int, default=2, help="indent of the single-case JSON (default 2)"
    )


def run(args: argparse.Namespace) -> int:
    single = args.reference is not None or args.marks is not None
    if single == (args.batch is not None):
        return _usage("give either --reference and --marks, or --batch")
    if single and (args.reference is None or args.marks is None):
        return _usage("--reference and --marks go together")
    if args.iou_threshold is not None and not 0.0 < args.iou_threshold <= 1.0:
        return _usage(f"--iou-threshold must be in (0, 1], got {args.iou_threshold}")
    try:
        if single:
            return _run_single(args)
        return _run_batch(args)
    except _CaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR


def _usage(message: str) -> int:
    print(f"usage error: {message}", file=sys.stderr)
    return 2


def _load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise _CaseError(f"{path}: cannot read: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise _CaseError(f"{path}: not UTF-8 text") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise _CaseError(f"{path}: invalid JSON: {error}") from error


def _located(where: str, section: str, error: InputError) -> _CaseError:
    """The error with its place: ``line 3: marks.boxes[0].box: ...``."""
    field = error.field if error.field == section else f"{section}.{error.field}"
    return _CaseError(f"{where}{field}: {error.problem}")


def _run_single(args: argparse.Namespace) -> int:
    reference = _load_json(args.reference)
    marks = _load_json(args.marks)
    try:
        parsed_reference = parse_reference(reference)
    except InputError as error:
        raise _located(f"{args.reference}: ", "reference", error) from error
    try:
        parsed_marks = parse_marks(marks)
    except InputError as error:
        raise _located(f"{args.marks}: ", "marks", error) from error
    result = score_localize(parsed_reference, parsed_marks, iou_threshold=args.iou_threshold)
    json.dump(result, sys.stdout, indent=args.indent or None)
    sys.stdout.write("\n")
    return 0


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    if str(path) == "-":
        yield from enumerate(sys.stdin, start=1)
        return
    try:
        with path.open(encoding="utf-8") as handle:
            yield from enumerate(handle, start=1)
    except OSError as error:
        raise _CaseError(f"{path}: cannot read: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise _CaseError(f"{path}: not UTF-8 text") from error


def _batch_case(number: int, line: str, threshold: float | None) -> dict[str, Any]:
    where = f"line {number}: "
    try:
        item = json.loads(line)
    except json.JSONDecodeError as error:
        raise _CaseError(f"{where}invalid JSON: {error}") from error
    if not isinstance(item, dict):
        raise _CaseError(f"{where}expected an object with id, reference and marks")
    for key in ("id", "reference", "marks"):
        if key not in item:
            raise _CaseError(f"{where}{key}: required")
    case_id = item["id"]
    if not isinstance(case_id, str | int) or isinstance(case_id, bool):
        raise _CaseError(f"{where}id: expected a string or an integer, got {case_id!r}")
    try:
        reference = parse_reference(item["reference"])
    except InputError as error:
        raise _located(where, "reference", error) from error
    try:
        marks = parse_marks(item["marks"])
    except InputError as error:
        raise _located(where, "marks", error) from error
    try:
        result = score_localize(reference, marks, iou_threshold=threshold)
    except InputError as error:
        raise _CaseError(f"{where}{error}") from error
    return {"id": case_id, **result}


def _run_batch(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    failed = 0
    for number, line in _lines(args.batch):
        if not line.strip():
            continue
        try:
            result = _batch_case(number, line, args.iou_threshold)
        except _CaseError as error:
            if not args.keep_going:
                raise
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        out.write(json.dumps(result, separators=(",", ":")))
        out.write("\n")
    return EXIT_INPUT_ERROR if failed else 0
