"""`synthhuman generate` end to end: frames/s written to disk and where the time goes.

    .venv/bin/python benchmarks/generate_bench.py [--clips 16] [--runs 2] [--formats canonical,surreal]
        [--label NAME] [--flags '...'] [--out benchmarks/out]

With ``--onthefly K``, each label also measures the on-the-fly training data (``SyntheticHumans`` on CPU,
the default stream: 32 clips posed per chunk, 6 frames drawn from each): frames/s over K chunks after a
first one (compiles and loads), in a fresh process.

Each run is ``synthhuman generate --out TMP --clips N --device cpu --no-preview --format F`` in a fresh
process (what a user types), timed from outside (wall clock, process start to exit, imports included) and
from its own stage report (main thread: sample, pose, build, render stages, read-back; writer threads:
encoding and writing, which overlap the main thread). Runs of the formats alternate, so all see the same
stretch of this shared machine's load. Also records the bytes written per clip. Appends one entry per
``--label`` to ``OUT/generate.json``; ``benchmarks/make_doc.py`` turns the entries into a table (so a run of
the code before a change, labelled "before", and one after sit side by side).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
_RATE = re.compile(r"(\d+) frames in ([\d.]+) s = ([\d.]+) frames/s")
_STAGE = re.compile(r"^\s+(.+?)\s+([\d.]+) s$")


def run_once(out: Path, clips: int, fmt: str, extra: list[str]) -> dict:
    """One ``generate`` run in its own process: its stage report, wall time and bytes per clip."""
    cmd = [sys.executable, "-m", "synthhuman.cli", "generate", "--out", str(out), "--clips", str(clips)]
    cmd += ["--device", "cpu", "--no-preview", "--format", fmt, *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"generate failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    rate = _RATE.search(proc.stdout)
    if rate is None:
        raise SystemExit(f"no frames/s line in generate's output:\n{proc.stdout[-2000:]}")
    stages = {m.group(1): float(m.group(2)) for m in map(_STAGE.match, proc.stdout.splitlines()) if m}
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {
        "format": fmt,
        "frames": int(rate.group(1)),
        "seconds": float(rate.group(2)),
        "frames_per_second": float(rate.group(3)),
        "process_seconds": wall,
        "stage_seconds": stages,
        "bytes_per_clip": size / clips,
    }


_ONTHEFLY = """
import json, sys, time
try:
    from synthhuman._memory import tune_memory as setup
except ImportError:  # code from before tune_memory
    from synthhuman._memory import retain_freed_memory as setup
setup()
from synthhuman.data import OnTheFlyConfig, SyntheticHumans
ds = SyntheticHumans(OnTheFlyConfig(device="cpu", prefetch=False))
ds.chunk(0)
start, frames = time.perf_counter(), 0
for k in range(1, 1 + int(sys.argv[1])):
    frames += len(ds.chunk(k))
seconds = time.perf_counter() - start
print(json.dumps({"frames": frames, "seconds": seconds, "frames_per_second": frames / seconds}))
"""


def onthefly_once(chunks: int) -> dict:
    """Frames/s of ``SyntheticHumans`` (CPU, default stream, no prefetch) over ``chunks`` chunks."""
    proc = subprocess.run(
        [sys.executable, "-c", _ONTHEFLY, str(chunks)], capture_output=True, text=True, timeout=3600
    )
    if proc.returncode != 0:
        raise SystemExit(f"on-the-fly run failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", type=int, default=16)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--formats", default="canonical", help="comma list: canonical, surreal, webdataset")
    ap.add_argument("--label", default="current")
    ap.add_argument("--flags", default="", help="more generate flags, e.g. '--background-style surreal'")
    ap.add_argument("--append", action="store_true", help="add these runs to the label's earlier ones")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--onthefly", type=int, default=0, help="also time K chunks of on-the-fly data")
    args = ap.parse_args()
    formats = args.formats.split(",")
    args.out.mkdir(parents=True, exist_ok=True)
    runs: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            for fmt in formats:
                out = Path(tmp) / f"{fmt}-{i}"
                runs.append(run_once(out, args.clips, fmt, args.flags.split()))
                shutil.rmtree(out)
                r = runs[-1]
                print(f"{args.label} {fmt} run {i + 1}: {r['frames_per_second']:.1f} frames/s")
            if args.onthefly:
                runs.append({"format": "on the fly", **onthefly_once(args.onthefly)})
                print(f"{args.label} on the fly run {i + 1}: {runs[-1]['frames_per_second']:.1f} frames/s")
    path = args.out / "generate.json"
    entries = json.loads(path.read_text()) if path.exists() else []
    earlier = [r for e in entries if e["label"] == args.label for r in e["runs"]] if args.append else []
    runs = earlier + runs
    entries = [e for e in entries if e["label"] != args.label]
    entries.append(
        {
            "label": args.label,
            "clips": args.clips,
            "flags": args.flags,
            "cpus": os.cpu_count(),
            "gomp_spincount": os.environ.get("GOMP_SPINCOUNT", "(unset: set by synthhuman)"),
            "runs": runs,
        }
    )
    path.write_text(json.dumps(entries, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
