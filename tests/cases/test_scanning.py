"""S20: every upload and import goes through the malware scan hook before anything is made of it;
an infected file is rejected with the scanner's finding. No ClamAV here: a test scanner flags the
EICAR test string, as a function and as a command with ClamAV's exit codes."""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.cases.models import Case
from apps.cases.services import INGEST_JOB, scanning
from apps.cases.services.imports import IMPORT_JOB
from apps.inference.models import Job
from tests.cases.factories import png_bytes

pytestmark = pytest.mark.django_db

# The EICAR anti-virus test file, assembled so that this source file does not itself match.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!" + b"$H+H*"
SCANNED: list[Path] = []
HERE = "tests.cases.test_scanning"


def eicar_scanner(path: Path) -> str | None:
    """The stub scanner: what ClamAV calls the EICAR file when the file contains it."""
    SCANNED.append(path)
    return "Eicar-Test-Signature" if EICAR in path.read_bytes() else None


def broken_scanner(path: Path) -> str | None:
    raise ConnectionRefusedError("clamd is not running")


EICAR_FUNCTION = f"{HERE}:eicar_scanner"
# The same verdicts as a command, with clamdscan's exit codes and output (0 clean, 1 found, 2 error).
EICAR_COMMAND = (
    "sh -c 'if grep -q EICAR-STANDARD-ANTIVIRUS-TEST-FILE; "
    'then echo "stdin: Eicar-Test-Signature FOUND"; exit 1; fi\''
)
EICAR_SCANNERS = [EICAR_FUNCTION, EICAR_COMMAND]


@pytest.fixture(autouse=True)
def _scanned() -> None:
    SCANNED.clear()


def infected_png() -> bytes:
    """A valid PNG carrying EICAR after its end: it decodes, so only the scanner stops it."""
    return png_bytes(64, 64) + EICAR


class Sender:
    """The educator's upload and import forms; the jobs they queue on commit run at once, and
    each call returns its job as stored once it has run."""

    def __init__(self, client: Any, capture: Any) -> None:
        self.client = client
        self.capture = capture

    def upload(self, data: bytes, name: str = "x.png") -> Job:
        with self.capture(execute=True):
            self.client.post(reverse("cases:case_new"), {"file": SimpleUploadedFile(name, data)})
        return Job.objects.get(kind=INGEST_JOB)

    def import_zip(self, members: dict[str, bytes]) -> Job:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)
        with self.capture(execute=True):
            self.client.post(
                reverse("cases:import"),
                {"format": "dicom", "file": SimpleUploadedFile("set.zip", buffer.getvalue())},
            )
        return Job.objects.get(kind=IMPORT_JOB)


@pytest.fixture
def send(educator: Any, client_for: Any, django_capture_on_commit_callbacks: Any) -> Sender:
    return Sender(client_for(educator), django_capture_on_commit_callbacks)


@pytest.mark.parametrize("scanner", EICAR_SCANNERS)
def test_an_infected_upload_is_rejected_and_makes_nothing(
    scanner: str, settings: Any, send: Sender, media_root: Path
) -> None:
    settings.RADGAME_UPLOAD_SCANNER = scanner
    job = send.upload(infected_png())
    assert job.result["status"] == "rejected"
    assert "malware scanner found Eicar-Test-Signature" in job.result["message"]
    assert not Case.objects.exists()
    assert not list((media_root / "uploads").iterdir())  # the upload is discarded


@pytest.mark.parametrize("scanner", EICAR_SCANNERS)
def test_an_infected_import_is_rejected_and_makes_nothing(
    scanner: str, settings: Any, send: Sender
) -> None:
    settings.RADGAME_UPLOAD_SCANNER = scanner
    job = send.import_zip({"a.png": png_bytes(64, 64), "readme.txt": EICAR})
    assert job.result["status"] == "rejected"
    assert "Eicar-Test-Signature" in job.result["message"]
    assert not Case.objects.exists()


def test_a_clean_upload_is_scanned_once_and_imported(settings: Any, send: Sender) -> None:
    settings.RADGAME_UPLOAD_SCANNER = EICAR_FUNCTION
    job = send.upload(png_bytes(64, 64))
    assert job.result["status"] == "created", job.result
    assert len(SCANNED) == 1


def test_without_a_scanner_the_same_file_is_imported_and_the_log_says_so(
    settings: Any,
    send: Sender,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hook is what stops it: the PNG decodes (its trailer is dropped on re-encoding)."""
    settings.RADGAME_UPLOAD_SCANNER = ""
    monkeypatch.setattr(scanning, "_unscanned_noted", [])
    with caplog.at_level(logging.WARNING, logger=scanning.__name__):
        job = send.upload(infected_png())
    assert job.result["status"] == "created", job.result
    assert "NOT scanned for malware" in caplog.text


@pytest.mark.parametrize(
    "scanner", [f"{HERE}:broken_scanner", "sh -c 'exit 2'", "/nonexistent/clamdscan -", "no.such:x"]
)
def test_a_scanner_that_fails_rejects_the_upload(scanner: str, settings: Any, send: Sender) -> None:
    settings.RADGAME_UPLOAD_SCANNER = scanner
    job = send.upload(png_bytes(64, 64))
    assert job.result == {"status": "rejected", "message": scanning.SCAN_FAILED}
    assert not Case.objects.exists()
