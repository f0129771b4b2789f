"""Scaling of our renderer: frames/s and peak memory against batch size, image size and triangle count.

    .venv/bin/python benchmarks/scaling.py [--out benchmarks/out] [--devices cpu,cuda] [--quick]

Scene: the procedural mannequin walking (``synthhuman.body.mannequin``; triangle count from
``make_mannequin(segments, rings)``), filmed as ``synthhuman.demo_scene`` films it (focal 600 px at 320 wide,
scaled with the width, 7 m away), RGB and every ground-truth layer, in memory, ``torch.no_grad``.
Each point runs in a fresh subprocess (one warm-up batch, then batches for at least ``--min-seconds``
and at least 3; frames/s from the median batch time) so that its peak memory is its own: CPU, the
process's peak resident set (``ru_maxrss``, which includes torch itself, about 0.3 GB); CUDA,
``torch.cuda.max_memory_allocated``.
Writes ``OUT/scaling.json`` and ``docs/benchmarks_scaling_*.png``.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

# isort: off
import synthhuman  # noqa: F401  (before torch: it sets GOMP_SPINCOUNT, read when torch loads OpenMP)

# isort: on
import torch

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs"

BATCHES = (1, 2, 4, 8, 16, 32, 64)
IMAGE_SIZES = ((120, 160), (240, 320), (480, 640), (720, 960), (960, 1280))
MESHES = ((6, 4), (12, 7), (24, 13), (48, 25), (96, 49))  # (segments, rings) of make_mannequin
BASE = {"batch": 32, "height": 240, "width": 320, "segments": 24, "rings": 13}
IMAGE_SWEEP_BATCH = 16  # keeps 1280x960 within memory on small machines


def clip(num_frames: int, h: int, w: int, segments: int, rings: int, device: torch.device):
    """demo_scene.demo_clip with a mannequin of the given resolution."""
    from synthhuman.appearance.backgrounds import procedural_background
    from synthhuman.body.mannequin import demo_motion, make_mannequin, mannequin_texture, pose_mannequin
    from synthhuman.pipeline import FrameBatch, Topology
    from synthhuman.render.cameras import Cameras, intrinsics, look_at
    from synthhuman.render.texture import build_mipmaps

    gen = torch.Generator().manual_seed(0)
    m = make_mannequin(segments, rings)
    pose, trans = demo_motion(num_frames)
    verts, joints = pose_mannequin(m, pose, trans=trans)
    centre = joints[:, 0].mean(0)
    heading = 0.6
    eye = centre + 7.0 * torch.tensor([math.sin(heading), 0.0, math.cos(heading)])
    R, t = look_at(eye[None], centre[None])
    K = intrinsics(600.0 * w / 320.0, ((w - 1) / 2, (h - 1) / 2), num_frames)
    cams = Cameras(
        K.to(device), R.expand(num_frames, 3, 3).to(device), t.expand(num_frames, 3).to(device), (h, w)
    )
    sh = torch.tensor([0.9, -0.35, -0.15, 0.1, 0.05, 0.0, -0.1, 0.05, 0.05])
    next_index = torch.arange(1, num_frames + 1)
    next_index[-1] = -1
    batch = FrameBatch(
        verts=verts.to(device),
        cameras=cams,
        textures=build_mipmaps(mannequin_texture(256, gen=gen)[None].to(device)),
        texture_index=torch.zeros(num_frames, 1, dtype=torch.int64, device=device),
        sh=sh.expand(num_frames, 1, 9).to(device),
        background=procedural_background(h, w, gen).expand(num_frames, h, w, 3).to(device),
        joints=joints[:, None].to(device),
        next_index=next_index.to(device),
    )
    topo = Topology(
        faces=m.faces.to(device),
        uv=m.uv.to(device),
        uv_faces=m.uv_faces.to(device),
        face_labels=m.face_labels.to(device),
        face_instance=torch.ones(m.faces.shape[0], dtype=torch.int64, device=device),
    )
    return batch, topo


def measure_point(p: dict) -> dict:
    """Run in a child process: one (device, batch, size, mesh) point."""
    from synthhuman._memory import tune_memory
    from synthhuman.pipeline import render_frames

    tune_memory()  # as the CLI does: freed memory kept

    device = torch.device(p["device"])
    batch, topo = clip(p["batch"], p["height"], p["width"], p["segments"], p["rings"], device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    with torch.no_grad():
        render_frames(batch, topo)  # warm-up
        sync()
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        times: list[float] = []
        start = time.perf_counter()
        while len(times) < 3 or (time.perf_counter() - start < p["min_seconds"] and len(times) < 50):
            t0 = time.perf_counter()
            render_frames(batch, topo)
            sync()
            times.append(time.perf_counter() - t0)
    median = sorted(times)[len(times) // 2]
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        **p,
        "triangles": int(topo.faces.shape[0]),
        "fps": p["batch"] / median,
        "seconds_per_batch": median,
        "seconds_per_batch_all": times,
        "iterations": len(times),
        "peak_memory_mb": peak,
        "threads": torch.get_num_threads(),
    }


def run_point(p: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--point", json.dumps(p)], capture_output=True, text=True, timeout=600
    )
    if proc.returncode != 0:
        return {**p, "error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def sweeps(device: str, min_seconds: float) -> dict[str, list[dict]]:
    base = {**BASE, "device": device, "min_seconds": min_seconds}
    out: dict[str, list[dict]] = {"batch": [], "image": [], "triangles": []}
    for b in BATCHES:
        out["batch"].append(run_point({**base, "batch": b}))
    for h, w in IMAGE_SIZES:
        out["image"].append(run_point({**base, "batch": IMAGE_SWEEP_BATCH, "height": h, "width": w}))
    for s, r in MESHES:
        out["triangles"].append(run_point({**base, "segments": s, "rings": r}))
    for rows in out.values():
        for row in rows:
            if "error" in row:
                print(f"  {device} point failed: {row}", file=sys.stderr)
            else:
                print(
                    f"  {device} batch {row['batch']:3d} {row['width']}x{row['height']} "
                    f"{row['triangles']:7d} triangles: "
                    f"{row['fps']:8.1f} frames/s, peak {row['peak_memory_mb']:.0f} MB",
                    flush=True,
                )
    return out


def plot(results: dict, docs: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    specs = (
        ("batch", "batch", "batch size (320x240, 13,824 triangles)", lambda r: r["batch"]),
        (
            "image",
            "image",
            f"image size, pixels (batch {IMAGE_SWEEP_BATCH}, 13,824 triangles)",
            lambda r: r["width"] * r["height"],
        ),
        ("triangles", "triangles", "triangles (batch 32, 320x240)", lambda r: r["triangles"]),
    )
    for key, name, xlabel, xval in specs:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
        for device, sweep in results["devices"].items():
            rows = [r for r in sweep[key] if "error" not in r]
            xs = [xval(r) for r in rows]
            ax1.plot(xs, [r["fps"] for r in rows], "o-", label=device)
            ax2.plot(xs, [r["peak_memory_mb"] for r in rows], "o-", label=device)
            if key == "image":
                for r, x in zip(rows, xs, strict=True):
                    ax1.annotate(f"{r['width']}x{r['height']}", (x, r["fps"]), fontsize=7)
        for ax, ylabel in ((ax1, "frames/s"), (ax2, "peak memory, MB")):
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend()
        fig.suptitle(f"synthhuman renderer: RGB + every ground-truth layer, against {name}")
        fig.tight_layout()
        path = docs / f"benchmarks_scaling_{name}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--devices", default=None, help="comma-separated; default cpu, plus cuda when available")
    ap.add_argument("--min-seconds", type=float, default=1.0, help="time each point for at least this long")
    ap.add_argument("--point", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.point:
        print(json.dumps(measure_point(json.loads(args.point))))
        return
    devices = (
        args.devices.split(",") if args.devices else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    )
    results = {"devices": {}, "cuda_available": torch.cuda.is_available(), "torch": torch.__version__}
    for device in devices:
        print(f"scaling on {device}", flush=True)
        results["devices"][device] = sweeps(device, args.min_seconds)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scaling.json").write_text(json.dumps(results, indent=1))
    for path in plot(results, DOCS):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
