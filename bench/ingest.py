"""Case-image ingest benchmarks: throughput and peak memory of apps.cases.imaging.ingest_image.

    python bench/ingest.py                          # every section, each in a fresh process
    python bench/ingest.py --section dicom --dicom-repeats 40
    python bench/ingest.py --section png --rounds 5

Sections run in child processes so ru_maxrss (a high-water mark) belongs to one section. Each
prints the machine, its inputs, images/s over the whole run, per-image latency (median, p95), the
tracemalloc peak of one ingest (Python-side allocations, numpy included; C buffers inside Pillow
and OpenJPEG are not traced) and the process's ru_maxrss. Single thread, one image at a time.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.cases.imaging import ImageRejected, IngestedImage, ingest_image  # noqa: E402

DEMO = ROOT / "data" / "cxr-demo"
LIBRARIES = (
    "pydicom",
    "pillow",
    "numpy",
    "pylibjpeg",
    "pylibjpeg-openjpeg",
    "pylibjpeg-libjpeg",
    "pylibjpeg-rle",
)


def machine() -> str:
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in LIBRARIES)
    load = " ".join(f"{v:.1f}" for v in os.getloadavg())
    return (
        f"machine: {platform.platform()} | CPU: {model} x{os.cpu_count()} | load avg {load}\n"
        f"python {platform.python_version()} | {versions}"
    )


def max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def traced_peak_mib(ingest: Callable[[], object]) -> float:
    tracemalloc.start()
    ingest()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1024 / 1024


def report(
    name: str,
    inputs: str,
    timings: list[tuple[float, float]],
    sizes: list[tuple[int, int, int]],
    peak: float,
) -> None:
    """timings: (wall seconds, CPU seconds) per image. CPU time is the figure to trust on a
    shared machine; wall time includes waiting for a core."""
    wall = [w for w, _ in timings]
    cpu = [c for _, c in timings]
    ordered = sorted(wall)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    mean = statistics.fmean
    print(f"[{name}] inputs: {inputs}")
    print(
        f"[{name}] {len(wall)} images: {len(wall) / sum(wall):.1f} images/s wall,"
        f" {len(cpu) / sum(cpu):.1f} images per CPU-second | wall per image: median"
        f" {statistics.median(wall) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms,"
        f" best {ordered[0] * 1000:.0f} ms | CPU per image: median"
        f" {statistics.median(cpu) * 1000:.0f} ms"
    )
    display, pixels16, dicom = (mean(column) / 1024 for column in zip(*sizes, strict=True))
    print(
        f"[{name}] outputs (means): display PNG {display:.0f} KiB, 16-bit PNG {pixels16:.0f} KiB,"
        f" de-identified DICOM {dicom:.0f} KiB"
    )
    print(f"[{name}] memory: tracemalloc peak {peak:.0f} MiB, ru_maxrss {max_rss_mib():.0f} MiB")


def run_many(
    files: list[tuple[str, bytes]], rounds: int
) -> tuple[list[tuple[float, float]], list[tuple[int, int, int]]]:
    """Ingest every file ``rounds`` times; keeps only sizes, so ru_maxrss is one ingest's."""
    timings, sizes = [], []
    for _ in range(rounds):
        for name, data in files:
            wall, cpu = time.perf_counter(), time.process_time()
            result: IngestedImage = ingest_image(data, filename=name)
            timings.append((time.perf_counter() - wall, time.process_time() - cpu))
            sizes.append(
                (
                    len(result.display_png_or_webp),
                    len(result.pixels16_png or b""),
                    len(result.deidentified_dicom or b""),
                )
            )
    return timings, sizes


def section_png(args: argparse.Namespace) -> None:
    paths = sorted((DEMO / "images").glob("*.png"))
    files = [(p.name, p.read_bytes()) for p in paths]
    ingest_image(files[0][1])  # warm imports and caches
    timings, sizes = run_many(files, args.rounds)
    peak = traced_peak_mib(lambda: ingest_image(files[0][1]))
    size = sum(len(d) for _, d in files) / 1024 / 1024
    inputs = f"{len(files)} NIH PNGs (1024x1024 8-bit, {size:.1f} MiB) x {args.rounds} rounds"
    report("png", inputs, timings, sizes, peak)


def section_dicom(args: argparse.Namespace) -> None:
    data = (DEMO / "dicom" / "RG1_J2KI.dcm").read_bytes()
    ingest_image(data)
    timings, sizes = run_many([("RG1_J2KI.dcm", data)] * args.dicom_repeats, 1)
    peak = traced_peak_mib(lambda: ingest_image(data))
    inputs = (
        f"RG1_J2KI.dcm (CR 1841x1955, 15-bit MONOCHROME1, JPEG 2000 lossy, {len(data) / 1024:.0f}"
        f" KiB) x {args.dicom_repeats}"
    )
    report("dicom", inputs, timings, sizes, peak)


def png_bomb(side: int) -> bytes:
    """A 1-bit PNG of zeros, side x side pixels."""
    compressor = zlib.compressobj(9)
    row = bytes(1 + (side + 7) // 8)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            len(payload).to_bytes(4, "big")
            + kind
            + payload
            + zlib.crc32(kind + payload).to_bytes(4, "big")
        )

    header = side.to_bytes(4, "big") * 2 + bytes([1, 0, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def section_rejects(args: argparse.Namespace) -> None:
    bombs = {"400 MP": png_bomb(20_000), "108 MP": png_bomb(10_400)}
    for label, bomb in bombs.items():
        timings = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            try:
                ingest_image(bomb)
            except ImageRejected:
                timings.append(time.perf_counter() - started)
        print(
            f"[rejects] {label} PNG bomb ({len(bomb) / 1024:.0f} KiB): rejected in "
            f"{statistics.median(timings) * 1e6:.0f} µs (median of {len(timings)})"
        )
    extremity = (DEMO / "dicom" / "RG3_J2KI.dcm").read_bytes()
    started = time.perf_counter()
    try:
        ingest_image(extremity)
    except ImageRejected:
        print(
            f"[rejects] non-chest DICOM refused in {(time.perf_counter() - started) * 1000:.1f} ms"
            " (before any pixel decoding)"
        )
    print(f"[rejects] memory: ru_maxrss {max_rss_mib():.0f} MiB")


SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {
    "png": section_png,
    "dicom": section_dicom,
    "rejects": section_rejects,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", choices=sorted(SECTIONS))
    parser.add_argument("--rounds", type=int, default=3, help="passes over the PNG set")
    parser.add_argument("--dicom-repeats", type=int, default=20, help="ingests of the chest DICOM")
    args = parser.parse_args()
    if args.section:
        SECTIONS[args.section](args)
        return
    print(machine())
    for name in SECTIONS:
        command = [
            sys.executable,
            __file__,
            "--section",
            name,
            "--rounds",
            str(args.rounds),
            "--dicom-repeats",
            str(args.dicom_repeats),
        ]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
