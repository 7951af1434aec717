"""Fuzzing the importers (RELIABILITY S16-S18): mutated DICOM, PNG, zip, CSV, JSON and text input
gives a clear error or a valid import, never an unhandled exception, a slow input or a half
written case. Short runs (``SHORT_EXAMPLES``, fixed examples) in ``make test``; long runs
(``-m slow``) in ``make soak``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from apps.cases.imaging import ImageRejected, IngestedImage, ingest_image
from apps.cases.importers import ImportFailed, import_path, parser_for
from apps.cases.importers.archive import ArchiveRejected, safe_extract
from apps.cases.importers.base import ParsedDataset
from apps.cases.models import Case, CaseImage
from tests.cases.fuzz_datasets import DATASETS
from tests.cases.fuzzing import (
    RUNS,
    dicom_seeds,
    examples,
    mutated,
    png_seeds,
    png_with_valid_crcs,
    zip_seeds,
)

SLOWEST_INPUT_S = 5.0  # S17: no input may take longer
DICOMS, PNGS, ZIPS = dicom_seeds(), png_seeds(), zip_seeds()


def _run(run: str) -> Any:
    return pytest.param(run, id=run, marks=[pytest.mark.slow] if run == "long" else [])


RUN_PARAMS = [_run(run) for run in RUNS]


def _timed(call: Any) -> Any:
    started = time.monotonic()
    try:
        return call()
    finally:
        assert time.monotonic() - started < SLOWEST_INPUT_S


def _check_image(data: bytes) -> None:
    try:
        ingested = _timed(lambda: ingest_image(data, filename="upload.dcm", allow_non_chest=True))
    except ImageRejected as exc:
        assert str(exc)  # a message for the educator
        return
    assert isinstance(ingested, IngestedImage)
    assert ingested.display_png_or_webp and ingested.width > 0 and ingested.height > 0
    if ingested.deidentified_dicom is not None:
        # S17: the stored copy is rewritten with a zeroed preamble (no PE/ELF polyglot survives).
        assert ingested.deidentified_dicom[:128] == bytes(128)


def test_seeds_are_valid_inputs() -> None:
    """The fuzzers start from inputs that import, so mutations probe the paths past the checks."""
    for data in DICOMS + PNGS:
        assert ingest_image(data, allow_non_chest=True).display_png_or_webp
    with tempfile.TemporaryDirectory() as folder:
        for index, data in enumerate(ZIPS):
            assert len(safe_extract(data, dest_dir=Path(folder) / str(index))) == 3
        for name, dataset in DATASETS.items():
            parsed = parser_for(dataset.importer)(dataset.build(Path(folder) / name, dataset.seed))
            assert parsed.cases and not any(case.problems for case in parsed.cases), name


@pytest.mark.parametrize("run", RUN_PARAMS)
def test_dicom_upload(run: str) -> None:
    @examples(run)
    @given(mutated(DICOMS))
    def check(data: bytes) -> None:
        _check_image(data)

    check()


@pytest.mark.parametrize("run", RUN_PARAMS)
def test_png_upload(run: str) -> None:
    @examples(run)
    @given(mutated(PNGS).map(png_with_valid_crcs))
    def check(data: bytes) -> None:
        _check_image(data)

    check()


@pytest.mark.parametrize("run", RUN_PARAMS)
def test_zip_extract_is_all_or_nothing(run: str) -> None:
    @examples(run)
    @given(mutated(ZIPS))
    def check(data: bytes) -> None:
        with tempfile.TemporaryDirectory() as sandbox:
            dest = Path(sandbox) / "dest"
            try:
                written = _timed(lambda: safe_extract(data, dest_dir=dest, max_total_bytes=1 << 20))
            except ArchiveRejected as exc:
                assert str(exc)
                written = []
            on_disk = sorted(p for p in Path(sandbox).rglob("*") if p.is_file())
            assert on_disk == sorted(p.resolve() for p in written)  # nothing else, nothing outside
            assert all(dest.resolve() in p.parents for p in on_disk)

    check()


@pytest.mark.parametrize("run", RUN_PARAMS)
@pytest.mark.parametrize("name", sorted(DATASETS))
def test_dataset_parsers(run: str, name: str) -> None:
    dataset = DATASETS[name]

    @examples(run)
    @given(dataset.strategy)
    def check(data: bytes) -> None:
        with tempfile.TemporaryDirectory() as folder:
            root = dataset.build(Path(folder), data)
            try:
                parsed = _timed(lambda: parser_for(dataset.importer)(root))
            except ImportFailed as exc:
                assert str(exc)
                return
            assert isinstance(parsed, ParsedDataset)
            for case in parsed.cases:
                assert case.external_id and all(str(problem) for problem in case.problems)

    check()


def _import_all_or_nothing(format_name: str, root: Path, owner: Any) -> None:
    """One import in a savepoint that is rolled back, so each example starts from an empty
    library: every case it reports is whole (an image with its stored files), nothing else is
    written, and a failed import writes nothing at all."""
    with transaction.atomic():
        cases_before, images_before = Case.objects.count(), CaseImage.objects.count()
        try:
            summary = _timed(lambda: import_path(format_name, root, owner=owner))
        except ImportFailed as exc:
            assert str(exc)
            assert (Case.objects.count(), CaseImage.objects.count()) == (
                cases_before,
                images_before,
            )
        else:
            assert Case.objects.count() == cases_before + summary.created
            # A case listed twice is written once and counted again as unchanged or updated.
            assert summary.created + summary.updated + summary.unchanged == len(summary.case_ids)
            for case in Case.objects.filter(pk__in=summary.case_ids):
                images = list(case.images.all())
                assert images, f"{case.external_id} was written without an image"
                for image in images:
                    assert default_storage.exists(image.original.name)
                    assert default_storage.exists(image.display.name)
            assert CaseImage.objects.exclude(case_id__in=summary.case_ids).count() == images_before
        transaction.set_rollback(True)


@pytest.mark.django_db
@pytest.mark.parametrize("run", RUN_PARAMS)
@pytest.mark.parametrize("name", [*sorted(DATASETS), "dicom-zip"])
def test_import_is_valid_or_refused_whole(
    run: str, name: str, educator: Any, tmp_path: Path
) -> None:
    strategy = mutated(ZIPS) if name == "dicom-zip" else DATASETS[name].strategy
    folders = iter(range(1_000_000))

    @examples(run)
    @given(strategy, st.just(None))
    def check(data: bytes, _: None) -> None:
        root = tmp_path / f"example-{next(folders)}"
        if name == "dicom-zip":
            root.mkdir()
            (root / "upload.zip").write_bytes(data)
            _import_all_or_nothing("dicom", root / "upload.zip", educator)
        else:
            dataset = DATASETS[name]
            _import_all_or_nothing(dataset.importer, dataset.build(root, data), educator)

    check()
