"""Supply chain (RELIABILITY S26): the lock pins every package with a hash and `make install`
requires them; the SBOM of the installed virtualenv is produced offline."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements" / "lock.txt"


def _entries() -> list[str]:
    """The lock's requirements, each with its continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", LOCK.read_text())
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_every_pin_is_exact_and_hashed() -> None:
    entries = _entries()
    assert len(entries) > 100
    for entry in entries:
        assert re.match(r"^[A-Za-z0-9._-]+==[^\s]+\s+--hash=sha256:[0-9a-f]{64}", entry), entry


def test_make_install_requires_the_hashes_and_keeps_torch_apart() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes --no-deps -r requirements/lock.txt" in makefile
    assert "install -q torch==" in makefile
    assert not any(entry.startswith("torch==") for entry in _entries())


def test_sbom_of_the_installed_environment(tmp_path: Path) -> None:
    out = tmp_path / "sbom.json"
    cli = Path(sys.executable).parent / "cyclonedx-py"
    subprocess.run(
        [str(cli), "environment", sys.executable, "--output-reproducible", "--of", "JSON",
         "-o", str(out)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    bom = json.loads(out.read_text())
    names = {component["name"].lower() for component in bom["components"]}
    assert bom["bomFormat"] == "CycloneDX"
    assert {"django", "celery", "pydicom", "cyclonedx-bom"} <= names
