"""``python -m ml score-report``: score a findings text against a reference report.

Single pair::

    python -m ml score-report --reference REF.txt --candidate MINE.txt [--age 54]
        [--indication "fever"] [--has-prior] [--align]

prints the result as indented JSON (``id`` is null). Batch::

    python -m ml score-report --batch pairs.jsonl [--align]

reads one JSON object per line, ``{"id", "reference", "candidate", "age", "indication",
"has_prior", "vocabulary"}`` (all but the first three optional; ``vocabulary`` lists the labels a
reference derived from dataset labels could name; ``-`` reads stdin), checks
every line first, and prints one compact JSON line per input, in input order, each carrying its
``id``. Any bad input (unreadable file, bad JSON, missing or wrong field, unknown field, repeated
id) is reported on stderr naming the line and field, nothing is scored, and the exit status is 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from ml.report_metrics import ReportCase, ReportInputError, score_many, score_report, validate

EXIT_INPUT_ERROR = 2
MAX_REPORTED_ERRORS = 20
_BATCH_FIELDS = frozenset(
    {"id", "reference", "candidate", "age", "indication", "has_prior", "vocabulary"}
)


class _InputError(Exception):
    """A bad input; the message names where it is, ``field`` which batch field (if any)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)

    def located(self, line_number: int) -> str:
        where = f"line {line_number}" + (f", field {self.field!r}" if self.field else "")
        return f"{where}: {self}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reference", type=Path, help="file holding the reference report text")
    parser.add_argument("--candidate", type=Path, help="file holding the text to score")
    parser.add_argument("--age", type=int, help="patient age in years (adjusts weights)")
    parser.add_argument("--indication", help="clinical indication (adjusts weights)")
    parser.add_argument(
        "--has-prior",
        action="store_true",
        help="the case has a prior study, so comparisons with it are allowed",
    )
    parser.add_argument(
        "--vocabulary",
        help="comma-separated labels a reference derived from dataset labels could name; "
        "candidate findings outside them are not scored",
    )
    parser.add_argument(
        "--align",
        action="store_true",
        help="align each candidate sentence with its closest reference sentence (MiniLM)",
    )
    parser.add_argument(
        "--batch",
        metavar="FILE.jsonl",
        help="score many pairs, one JSON object per line ('-' reads stdin)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        if args.batch is not None:
            return _run_batch(args)
        return _run_single(args)
    except _InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR


def _run_single(args: argparse.Namespace) -> int:
    if args.reference is None or args.candidate is None:
        raise _InputError("give --reference FILE and --candidate FILE, or --batch FILE.jsonl")
    reference = _read_text(args.reference, "--reference")
    candidate = _read_text(args.candidate, "--candidate")
    try:
        result = score_report(
            reference,
            candidate,
            age=args.age,
            indication=args.indication,
            has_prior=args.has_prior,
            align=args.align,
            vocabulary=[label.strip() for label in args.vocabulary.split(",") if label.strip()]
            if args.vocabulary
            else None,
        )
    except ReportInputError as error:
        raise _InputError(str(error)) from error
    print(json.dumps({"id": None, **result}, indent=2, ensure_ascii=False))
    return 0


def _run_batch(args: argparse.Namespace) -> int:
    single_only = [
        flag
        for flag, value in (
            ("--reference", args.reference),
            ("--candidate", args.candidate),
            ("--age", args.age),
            ("--indication", args.indication),
            ("--has-prior", args.has_prior or None),
            ("--vocabulary", args.vocabulary),
        )
        if value is not None
    ]
    if single_only:
        raise _InputError(
            f"{', '.join(single_only)} cannot be combined with --batch; put each pair's "
            "fields in its JSON line"
        )
    if args.batch == "-":
        ids, cases, problems = _parse_batch(sys.stdin)
    else:
        try:
            with Path(args.batch).open(encoding="utf-8") as stream:
                ids, cases, problems = _parse_batch(stream)
        except OSError as error:
            raise _InputError(f"cannot read --batch {args.batch}: {error.strerror}") from error
        except UnicodeDecodeError as error:
            raise _InputError(f"--batch {args.batch} is not UTF-8 text") from error
    if problems:
        for problem in problems[:MAX_REPORTED_ERRORS]:
            print(f"error: {problem}", file=sys.stderr)
        if len(problems) > MAX_REPORTED_ERRORS:
            print(f"error: ... and {len(problems) - MAX_REPORTED_ERRORS} more", file=sys.stderr)
        return EXIT_INPUT_ERROR
    if not cases:
        raise _InputError(f"--batch {args.batch} holds no pairs")
    for case_id, result in zip(ids, score_many(cases, align=args.align), strict=True):
        print(json.dumps({"id": case_id, **result}, ensure_ascii=False))
    return 0


def _parse_batch(stream: TextIO) -> tuple[list[Any], list[ReportCase], list[str]]:
    ids: list[Any] = []
    cases: list[ReportCase] = []
    problems: list[str] = []
    first_line_of: dict[str, int] = {}
    for line_number, line in _numbered_lines(stream):
        try:
            case_id, case = _parse_line(line)
        except _InputError as error:
            problems.append(error.located(line_number))
            continue
        key = json.dumps(case_id)
        if key in first_line_of:
            problems.append(
                f"line {line_number}, field 'id': {case_id!r} already used on line "
                f"{first_line_of[key]}"
            )
            continue
        first_line_of[key] = line_number
        ids.append(case_id)
        cases.append(case)
    return ids, cases, problems


def _numbered_lines(stream: TextIO) -> Iterator[tuple[int, str]]:
    for line_number, line in enumerate(stream, start=1):
        if line.strip():
            yield line_number, line


def _parse_line(line: str) -> tuple[Any, ReportCase]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise _InputError(f"not valid JSON ({error.msg} at column {error.colno})") from error
    if not isinstance(record, dict):
        raise _InputError("must be a JSON object")
    unknown = sorted(set(record) - _BATCH_FIELDS)
    if unknown:
        raise _InputError(f"unknown; expected {', '.join(sorted(_BATCH_FIELDS))}", field=unknown[0])
    if "id" not in record:
        raise _InputError("missing", field="id")
    case_id = record["id"]
    if isinstance(case_id, bool) or not isinstance(case_id, str | int):
        raise _InputError("must be a string or an integer", field="id")
    for required in ("reference", "candidate"):
        if required not in record:
            raise _InputError("missing", field=required)
    try:
        case = validate(
            record["reference"],
            record["candidate"],
            age=record.get("age"),
            indication=record.get("indication"),
            has_prior=record.get("has_prior", False),
            vocabulary=record.get("vocabulary"),
        )
    except ReportInputError as error:
        message = str(error).removeprefix(f"{error.field}: ")
        raise _InputError(message, field=error.field) from error
    return case_id, case


def _read_text(path: Path, flag: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise _InputError(f"cannot read {flag} {path}: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise _InputError(f"{flag} {path} is not UTF-8 text") from error
