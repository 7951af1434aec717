"""Malware scanning of every upload and import before anything is made of it (RELIABILITY S20).

``RADGAME_UPLOAD_SCANNER`` names the scanner (docs/deploy.md):

- empty (the default): uploads are not scanned, and each process says so once in its log;
- ``module.path:function``: a function given the upload's path that returns the name of what it
  found, or None when the file is clean;
- anything else is a command run with the upload on its standard input, with ClamAV's exit codes:
  0 clean, 1 found (its output names it), anything else an error. For example
  ``clamdscan --no-summary --stdout -`` (the ``clamav-daemon`` package; its signatures must be
  kept up to date by the deployer).

A file the scanner flags is rejected with the scanner's finding; a scanner that fails or cannot
be run rejects the upload too (a security control fails closed).
"""

from __future__ import annotations

import importlib
import logging
import re
import shlex
import subprocess
from collections.abc import Callable
from functools import partial
from pathlib import Path

from django.conf import settings

from apps.core.exceptions import ApplicationError

logger = logging.getLogger(__name__)

Scanner = Callable[[Path], "str | None"]
FUNCTION = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
SCAN_TIMEOUT_S = 120
FOUND = re.compile(r":\s*(.+?)\s+FOUND\s*$", re.MULTILINE)  # clamdscan: "stdin: Name FOUND"
SCAN_FAILED = (
    "This file could not be checked for malware, so it was not imported. Try again later, or ask "
    "the administrator to look at the scanner."
)
_unscanned_noted: list[bool] = []


class ScanError(Exception):
    """The scanner did not give an answer."""


def scan_with_command(args: list[str], path: Path) -> str | None:
    with path.open("rb") as stdin:
        try:
            done = subprocess.run(  # noqa: S603 - the deployer's configured scanner, no shell
                args, stdin=stdin, capture_output=True, timeout=SCAN_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ScanError(f"{args[0]}: {exc}") from exc
    if done.returncode == 0:
        return None
    output = done.stdout.decode(errors="replace")
    if done.returncode == 1:
        found = FOUND.search(output)
        return found[1] if found else "malware"
    error = (done.stderr or done.stdout).decode(errors="replace").strip()[:300]
    raise ScanError(f"{args[0]} exited with {done.returncode}: {error}")


def scanner_from(value: str) -> Scanner | None:
    value = value.strip()
    if not value:
        return None
    if FUNCTION.match(value):
        module, name = value.split(":")
        return getattr(importlib.import_module(module), name)
    return partial(scan_with_command, shlex.split(value))


def upload_scan(path: Path) -> None:
    """Scan one upload; raises ApplicationError (the job's rejection message) unless clean."""
    try:
        scanner = scanner_from(settings.RADGAME_UPLOAD_SCANNER)
        if scanner is None:
            if not _unscanned_noted:
                _unscanned_noted.append(True)
                logger.warning(
                    "uploads and imports are NOT scanned for malware: set RADGAME_UPLOAD_SCANNER "
                    "(docs/deploy.md, 'Malware scanning')"
                )
            return
        found = scanner(path)
    except Exception:
        logger.exception("the malware scanner failed on an upload")
        raise ApplicationError(SCAN_FAILED) from None
    if found:
        name = " ".join(str(found).split())[:120]
        logger.warning("an upload was rejected by the malware scanner: %s", name)
        raise ApplicationError(
            f"The malware scanner found {name} in this file; it was not imported."
        )
