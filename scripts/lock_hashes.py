"""Write requirements/lock.txt with a sha256 per pin, for `pip install --require-hashes`.

    python scripts/lock_hashes.py PINS.txt requirements/lock.txt

PINS.txt holds `name==version` lines (what `make lock` freezes). pip resolves each pin alone
(``--no-deps``, ``--dry-run``: nothing is installed, only metadata is fetched) and reports the
file it would install on this machine kind; that file's sha256 goes into the lock.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HEADER = """\
# Installed with `pip install --require-hashes --no-deps -r requirements/lock.txt` (torch is
# installed first, by exact version, from this machine's disk). One sha256 per package: the
# file pip picks on the project's machine kind (Linux x86_64, CPython 3.11). `make lock`
# regenerates this file with its hashes (scripts/lock_hashes.py).
"""


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def hashed_lock(pins: list[str]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        plain, report = Path(tmp) / "pins.txt", Path(tmp) / "report.json"
        plain.write_text("\n".join(pins) + "\n")
        subprocess.run(  # noqa: S603 (this interpreter's pip, fixed arguments)
            [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
             "--no-deps", "-q", "-r", str(plain), "--report", str(report)],
            check=True,
        )  # fmt: skip
        chosen = {
            _key(item["metadata"]["name"]): (
                item["metadata"]["version"],
                item["download_info"]["archive_info"]["hashes"]["sha256"],
            )
            for item in json.loads(report.read_text())["install"]
        }
    lines = [HEADER.rstrip("\n")]
    for pin in pins:
        name, version = pin.split("==")
        found_version, digest = chosen[_key(name)]
        if found_version != version:
            raise SystemExit(f"pip chose {name} {found_version}, not the pinned {version}")
        lines.append(f"{pin} \\\n    --hash=sha256:{digest}")
    return "\n".join(lines) + "\n"


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    pins = sorted(
        {line.split(" ")[0].strip() for line in source.read_text().splitlines() if "==" in line},
        key=str.casefold,
    )
    target.write_text(hashed_lock(pins))


if __name__ == "__main__":
    main()
