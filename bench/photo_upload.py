"""The upload check's cost for one phone photo: a generated 12-megapixel JPEG (4000 × 3000, with
EXIF and GPS, orientation 6) and the same as HEIC, through photos.processing.clean_photo, the
function the upload service calls. Prints time and peak memory; asserts nothing about them.

    .venv/bin/python bench/photo_upload.py [--runs 5]

Two memory figures: Python's own allocations during a run (tracemalloc; it does not see Pillow's
image buffers, which are C memory), and the peak resident size of a fresh process that reads the
file and checks it once (VmHWM on Linux, else getrusage's maxrss), beside the same process's size before the check.
"""

import argparse
import io
import random
import resource
import statistics
import subprocess  # nosec B404 # runs this very script again, as a fresh process to measure
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pillow_heif  # noqa: E402
from PIL import Image  # noqa: E402

from photos.processing import clean_photo  # noqa: E402

LIMITS = {"max_bytes": 20 * 1024 * 1024, "max_pixels": 40_000_000}


def photo_like(width=4000, height=3000) -> Image.Image:
    """Noise at low resolution, scaled up: compresses like a photo (a few MB), not like a flat colour."""
    random.seed(12)
    noise = random.randbytes(width // 8 * height // 8 * 3)  # nosec B311 # test pixels, not a secret
    small = Image.frombytes("RGB", (width // 8, height // 8), noise)
    return small.resize((width, height), Image.Resampling.BILINEAR)


def encoded(image: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    if kind == "JPEG":
        exif = Image.Exif()
        exif[0x0112] = 6
        exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 40.0)}
        image.save(out, "JPEG", quality=92, exif=exif)
    else:
        pillow_heif.from_pillow(image).save(out, quality=80)
    return out.getvalue()


def measure(data: bytes, runs: int) -> tuple[list[float], int]:
    times, peak = [], 0
    for _ in range(runs):
        tracemalloc.start()
        start = time.perf_counter()
        clean_photo(io.BytesIO(data), size=len(data), **LIMITS)
        times.append(time.perf_counter() - start)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return times, peak


def _maxrss_mb() -> float:
    # Linux's VmHWM starts afresh at exec; getrusage's maxrss would carry the forking parent's size.
    status = Path("/proc/self/status")
    if status.exists():
        line = next(line for line in status.read_text().splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(path: str) -> None:
    data = Path(path).read_bytes()
    before = _maxrss_mb()
    clean_photo(io.BytesIO(data), size=len(data), **LIMITS)
    print(f"{before:.0f} {_maxrss_mb():.0f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    image = photo_like()
    for kind in ("JPEG", "HEIC"):
        data = encoded(image, kind)
        times, peak = measure(data, args.runs)
        with tempfile.NamedTemporaryFile(suffix=f".{kind.lower()}") as file:
            file.write(data)
            file.flush()
            command = [sys.executable, __file__, "--child", file.name]  # ourselves, fixed arguments
            out = subprocess.run(command, capture_output=True, check=True)  # noqa: S603 # nosec B603
        before, after = out.stdout.split()
        print(
            f"{kind} 4000x3000 ({len(data) / 1e6:.1f} MB): median {statistics.median(times) * 1000:.0f} ms, "
            f"max {max(times) * 1000:.0f} ms over {args.runs} runs; Python allocations peak {peak / 1e6:.1f} MB; "
            f"a fresh process's peak resident size {int(after)} MB ({int(before)} MB before the check)"
        )


if __name__ == "__main__":
    main()
