"""Our renderer against Blender Cycles (CPU) and pytorch3d's rasterizer on the same scene.

    .venv/bin/python benchmarks/blender_compare.py [--frames 9] [--batch 32] [--out benchmarks/out]

Scene: the default body (neutral, zero betas, one fixed pose: arms lowered, knees and elbows a little
bent) with one fixed procedural UV texture (saved as PNG; both renderers read that PNG), SH irradiance
lighting with fixed coefficients, a constant grey background, OpenCV cameras orbiting the body (focal
600 px at 320x240, scaled with the width; principal point at the image centre), at 320x240 and 640x480.

Ours: ``render_frames`` on batches of ``--batch`` consecutive orbit frames, RGB and every ground-truth
layer, in memory; seconds per frame = median batch time / batch (after one warm-up batch). Both of our
paths are timed, batch by batch in turn: the Warp kernels ("ours") and the PyTorch reference
("ours_torch").
Cycles: ``benchmarks/blender_render.py`` in its own venv (``benchmarks/.venv-bpy``: bpy 5.0.1 and numpy<2,
created here when missing), CPU, 16 samples, passes combined + Z + normal + object index + material
index + vector, written per frame to a multilayer EXR; seconds per frame = median over frames 2..N (frame 1,
which builds the BVH and compiles shaders, is excluded, as is the scene set-up).
Ratios: Cycles runs paced (``blender_render.py --paced``): after each of its timed frames it waits while
one batch of each of our paths renders at that frame's size (their order alternating, a 50 ms pause on
either side of ours), so both renderers are timed on the same stretch of this shared machine, whose speed
drifts by a fifth within minutes. A ratio is Cycles' median s/frame over our median s/frame among the
batches rendered between its frames ("alongside"); the quartiles of the frame-by-frame ratios show the
spread. Ours is also timed in two passes of its own, before and after Cycles (the stage split).
Writes ``OUT/compare.json`` and ``OUT/ours_*.png``; ``benchmarks/make_doc.py`` turns it into the doc.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# isort: off
import synthhuman  # noqa: F401  (before torch: it sets GOMP_SPINCOUNT, read when torch loads OpenMP)

# isort: on
import numpy as np
import torch
from PIL import Image

from synthhuman._memory import tune_memory
from synthhuman.appearance.textures import TextureConfig, procedural_texture
from synthhuman.body.default_body import load_default_body
from synthhuman.pipeline import FrameBatch, RenderConfig, Topology, render_frames
from synthhuman.render.cameras import Cameras, look_at
from synthhuman.render.pytorch3d_backend import is_pytorch3d_available
from synthhuman.render.texture import build_mipmaps
from synthhuman.timing import StageTimer

HERE = Path(__file__).resolve().parent
BPY_VENV = HERE / ".venv-bpy"
BPY_REQUIREMENTS = ["bpy==5.0.1", "numpy<2"]
SIZES = ((240, 320), (480, 640))
OURS = {"ours": RenderConfig(backend="warp"), "ours_torch": RenderConfig(backend="torch")}
"""Our two paths, timed interleaved: the Warp kernels (the default where warp-lang imports) and the
PyTorch reference."""
SAMPLES = 16
SETTLE_S = 0.05
"""Pause before and after our batches between Cycles' frames: either side's idle threads stop spinning."""
LIGHTINGS = ("emission", "diffuse_env")  # see blender_render.py
# Fixed SH coefficients (SURREAL's order): mostly ambient, light from above and a little from the front.
SH = np.array([0.9, -0.35, -0.15, 0.1, 0.05, 0.0, -0.1, 0.05, 0.05], dtype=np.float32)
BACKGROUND = (0.45, 0.5, 0.55)
DISTANCE = 5.5
FOCAL_320 = 600.0


def fixed_pose() -> torch.Tensor:
    """(1, 72) axis-angle: arms lowered from the T-pose, elbows, knees and hips a little bent."""
    pose = torch.zeros(24, 3)
    pose[16, 2], pose[17, 2] = -1.1, 1.1  # shoulders (SMPL joints 16, 17) down
    pose[18, 1], pose[19, 1] = -0.5, 0.5  # elbows
    pose[1, 0], pose[2, 0] = -0.15, 0.1  # hips
    pose[4, 0], pose[5, 0] = 0.25, 0.1  # knees
    return pose.reshape(1, 72)


def orbit_cameras(centre: torch.Tensor, n: int, h: int, w: int) -> Cameras:
    """n OpenCV cameras circling the body at DISTANCE, 3 degrees apart, at the body's centre height."""
    heading = torch.deg2rad(torch.arange(n, dtype=torch.float32) * 3.0 + 20.0)
    eye = centre + DISTANCE * torch.stack([torch.sin(heading), torch.zeros(n), torch.cos(heading)], -1)
    R, t = look_at(eye, centre.expand(n, 3))
    f = FOCAL_320 * w / 320.0
    K = torch.tensor([[f, 0.0, (w - 1) / 2], [0.0, f, (h - 1) / 2], [0.0, 0.0, 1.0]]).expand(n, 3, 3)
    return Cameras(K.contiguous(), R, t, (h, w))


def build_scene(out: Path) -> dict:
    body = load_default_body("neutral")
    with torch.no_grad():
        posed = body(None, fixed_pose())
    verts, joints = posed.vertices[0], posed.joints[0]
    texture = procedural_texture(
        body.v_template, body.faces, body.uv, body.uv_faces, body.face_labels,
        torch.Generator().manual_seed(7), TextureConfig(size=512),
    )  # fmt: skip
    tex_path = out / "texture.png"
    Image.fromarray((texture.clamp(0, 1) * 255).round().to(torch.uint8).numpy()).save(tex_path)
    texture = torch.from_numpy(np.asarray(Image.open(tex_path), dtype=np.float32) / 255.0)
    lo, hi = verts.min(0).values, verts.max(0).values
    return {
        "body": body,
        "verts": verts,
        "joints": joints,
        "centre": (lo + hi) / 2,
        "texture": texture,
        "texture_path": tex_path,
        "triangles": int(body.faces.shape[0]),
        "vertices": int(verts.shape[0]),
    }


def frame_batch(scene: dict, cams: Cameras) -> tuple[FrameBatch, Topology]:
    n = cams.batch_size
    h, w = cams.image_size
    body = scene["body"]
    next_index = torch.arange(1, n + 1)
    next_index[-1] = -1
    batch = FrameBatch(
        verts=scene["verts"].expand(n, -1, -1),
        cameras=cams,
        textures=build_mipmaps(scene["texture"][None]),
        texture_index=torch.zeros(n, 1, dtype=torch.int64),
        sh=torch.from_numpy(SH).expand(n, 1, 9),
        background=torch.tensor(BACKGROUND).expand(n, h, w, 3),
        joints=scene["joints"].expand(n, 1, -1, -1),
        next_index=next_index,
    )
    topo = Topology(body.faces, body.uv, body.uv_faces, body.face_labels)
    return batch, topo


def time_ours(
    scene: dict,
    h: int,
    w: int,
    batch_size: int,
    iters: int,
    cfgs: dict[str, RenderConfig],
    warmup: bool = True,
) -> dict[str, dict]:
    """Time each config (name -> RenderConfig) on the same batch, interleaved: iteration i renders one
    batch with each config in turn, so all see the same stretch of this shared machine's load."""
    batch, topo = frame_batch(scene, orbit_cameras(scene["centre"], batch_size, h, w))
    timers = {name: StageTimer(torch.device("cpu")) for name in cfgs}
    times: dict[str, list[float]] = {name: [] for name in cfgs}
    outs = {}
    with torch.no_grad():
        for name, cfg in cfgs.items():
            outs[name] = render_frames(batch, topo, cfg) if warmup else None
        for _ in range(iters):
            for name, cfg in cfgs.items():
                t0 = time.perf_counter()
                outs[name] = render_frames(batch, topo, cfg, timer=timers[name])
                times[name].append(time.perf_counter() - t0)
    results = {}
    for name, out in outs.items():
        median = float(np.median(times[name]))
        produced = {
            "rgb": tuple(out.rgb.shape),
            "depth": tuple(out.depth.shape),
            "normals": tuple(out.normals.shape),
            "segm": tuple(out.segm.shape),
            "instance": tuple(out.instance.shape),
            "flow": tuple(out.flow.flow.shape),
            "flow_valid": tuple(out.flow.valid.shape),
            "joints2d": tuple(out.joints.joints2d.shape),
            "joints3d": tuple(out.joints.joints3d.shape),
            "joints_visible": tuple(out.joints.visible.shape),
        }
        results[name] = {
            "backend": cfgs[name].backend,
            "seconds_per_frame": median / batch_size,
            "seconds_per_batch": median,
            "seconds_per_batch_all": times[name],
            "stage_seconds_per_frame": {k: v / (iters * batch_size) for k, v in timers[name].seconds.items()},
            "batch": batch_size,
            "iterations": iters,
            "produced": {k: list(v) for k, v in produced.items()},
            "first_rgb": out.rgb[0].numpy(),
        }
    return results


def ensure_bpy_venv(log: list[str]) -> Path | None:
    """The bpy venv's python, creating it (Python 3.11) when missing; None (reason in log) on failure."""
    py = BPY_VENV / "bin" / "python"
    if py.exists() and subprocess.run([py, "-c", "import bpy"], capture_output=True).returncode == 0:
        return py
    base = None
    for cand in ("python3.11", sys.executable if sys.version_info[:2] == (3, 11) else None):
        if cand and subprocess.run([cand, "--version"], capture_output=True).returncode == 0:
            base = cand
            break
    if base is None:
        log.append("bpy 5.0.1 needs Python 3.11; none found")
        return None
    try:
        subprocess.run([base, "-m", "venv", str(BPY_VENV)], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", *BPY_REQUIREMENTS], check=True, timeout=1200)
        subprocess.run([py, "-c", "import bpy"], check=True, capture_output=True)
    except (subprocess.SubprocessError, OSError) as e:
        log.append(f"could not install {' '.join(BPY_REQUIREMENTS)} into {BPY_VENV}: {e}")
        return None
    return py


class Alongside:
    """Our paths timed between Cycles' frames: called with each paced frame's lighting and size, renders one
    batch of each config (order alternating call by call) at that size and keeps the times per Cycles run
    (``times[(lighting, "WxH")][name]``, seconds per batch, in frame order)."""

    def __init__(self, scene: dict, batch_size: int, cfgs: dict[str, RenderConfig]):
        self.scene, self.batch_size, self.cfgs = scene, batch_size, cfgs
        self.batches: dict[tuple[int, int], tuple[FrameBatch, Topology]] = {}
        self.times: dict[tuple[str, str], dict[str, list[float]]] = {}
        self.calls = 0

    def __call__(self, lighting: str, h: int, w: int) -> None:
        if (h, w) not in self.batches:
            batch, topo = frame_batch(self.scene, orbit_cameras(self.scene["centre"], self.batch_size, h, w))
            self.batches[h, w] = batch, topo
            with torch.no_grad():
                for cfg in self.cfgs.values():  # warm-up, untimed
                    render_frames(batch, topo, cfg)
        batch, topo = self.batches[h, w]
        times = self.times.setdefault((lighting, f"{w}x{h}"), {name: [] for name in self.cfgs})
        names = list(self.cfgs)
        self.calls += 1
        with torch.no_grad():
            for name in names if self.calls % 2 else names[::-1]:
                t0 = time.perf_counter()
                render_frames(batch, topo, self.cfgs[name])
                times[name].append(time.perf_counter() - t0)


def _run_paced(cmd: list[str], pace: Alongside, log: list[str]) -> int:
    """Run blender_render.py with ``--paced``, timing ours (``pace``) after each of its frames; the exit
    status (its stderr goes to ``log`` when it fails)."""
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [*cmd, "--paced"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True
        )
        watchdog = threading.Timer(1800, proc.kill)
        watchdog.start()
        try:
            for line in proc.stdout:
                # ours, found anywhere in a line (Blender's native prints may precede it unflushed)
                if "PACED " not in line:
                    continue
                _, lighting, h, w, _frame, _seconds = line[line.index("PACED ") :].split()
                time.sleep(SETTLE_S)
                pace(lighting, int(h), int(w))
                time.sleep(SETTLE_S)
                try:
                    proc.stdin.write("go\n")
                    proc.stdin.flush()
                except BrokenPipeError:  # Blender died (or the watchdog killed it): its status says
                    break
            rc = proc.wait()
        except BaseException:  # our side failed: no Blender left waiting for its turn
            proc.kill()
            proc.wait()
            raise
        finally:
            watchdog.cancel()
        if rc != 0:
            err.seek(0)
            log.append(f"Blender render failed (exit {rc}): {err.read()[-2000:]}")
        return rc


def run_blender(
    scene: dict, cams: Cameras, frames: int, out: Path, log: list[str], pace: Alongside | None = None
) -> dict | None:
    """Cycles on the scene (``blender_render.py`` in the bpy venv); paced by ``pace`` when given."""
    py = ensure_bpy_venv(log)
    if py is None:
        return None
    npz = out / "scene.npz"
    np.savez(
        npz,
        verts=scene["verts"].numpy().astype(np.float64),
        faces=scene["body"].faces.numpy(),
        uv=scene["body"].uv.numpy(),
        uv_faces=scene["body"].uv_faces.numpy(),
        K=cams.K.numpy().astype(np.float64),
        R=cams.R.numpy().astype(np.float64),
        t=cams.t.numpy().astype(np.float64),
        sh=SH.astype(np.float64),
        background=np.array(BACKGROUND),
        texture_path=str(scene["texture_path"].resolve()),
        sizes=np.array(SIZES),
        lightings=np.array(LIGHTINGS),
        width0=cams.image_size[1],
        samples=SAMPLES,
        frames=frames,
    )
    blender_out = out / "cycles"
    cmd = [str(py), str(HERE / "blender_render.py"), str(npz), str(blender_out)]
    if os.environ.get("BENCH_NO_OSL"):
        cmd.append("--no-osl")
    if pace is not None:
        if _run_paced(cmd, pace, log) != 0:
            return None
    else:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            log.append(f"Blender render failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
            return None
    return json.loads((blender_out / "blender_result.json").read_text())


def save_png(rgb: np.ndarray, path: Path) -> None:
    Image.fromarray((np.clip(rgb, 0, 1) * 255).round().astype(np.uint8)).save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=9, help="Cycles frames per size (the first is excluded)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--iterations", type=int, default=3, help="timed batches of ours per size")
    ap.add_argument("--pytorch3d-batch", type=int, default=2, help="frames timed with pytorch3d's rasterizer")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--skip-blender", action="store_true")
    args = ap.parse_args()
    tune_memory()  # as the CLI does: freed memory kept
    args.out.mkdir(parents=True, exist_ok=True)
    log: list[str] = []
    load_before = os.getloadavg()
    scene = build_scene(args.out)
    h0, w0 = SIZES[0]
    result: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {
            "cpu": _cpu_name(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
        },
        "scene": {
            "body": "default body, neutral, zero betas, fixed pose",
            "vertices": scene["vertices"],
            "triangles": scene["triangles"],
            "texture": "procedural_texture (seed 7), 512x512 PNG",
            "sh": [round(float(v), 4) for v in SH],
            "background": BACKGROUND,
            "camera": f"orbit at {DISTANCE} m, 3 degrees per frame, focal {FOCAL_320:g} px at 320 wide",
        },
        "ours": {},
        "ours_torch": {},
        "pytorch3d": {},
        "log": log,
    }
    for h, w in SIZES:
        both = time_ours(scene, h, w, args.batch, args.iterations, OURS)
        save_png(both["ours"].pop("first_rgb"), args.out / f"ours_{w}x{h}.png")
        both["ours_torch"].pop("first_rgb")
        for name, r in both.items():
            result[name][f"{w}x{h}"] = r
            print(
                f"{name} {w}x{h}: {r['seconds_per_frame'] * 1e3:.2f} ms/frame (batch {args.batch})",
                flush=True,
            )
    if is_pytorch3d_available():
        import pytorch3d

        result["pytorch3d_version"] = pytorch3d.__version__
        for h, w in SIZES:
            # pytorch3d rasterizes naively on CPU (every pixel tests every face: seconds per frame), so
            # a small batch timed once, without a warm-up, which that cost makes immaterial.
            cfgs = {"pytorch3d": RenderConfig(backend="pytorch3d")}
            r = time_ours(scene, h, w, args.pytorch3d_batch, 1, cfgs, warmup=False)["pytorch3d"]
            r.pop("first_rgb")
            result["pytorch3d"][f"{w}x{h}"] = r
            print(f"pytorch3d rasterizer {w}x{h}: {r['seconds_per_frame'] * 1e3:.2f} ms/frame", flush=True)
    else:
        msg = "pytorch3d is not importable here, so the comparison with its rasterizer was skipped"
        result["pytorch3d"] = {"skipped": msg}
        print(msg, flush=True)
    if args.skip_blender:
        log.append("Blender skipped (--skip-blender)")
        result["cycles"] = None
    else:
        cams = orbit_cameras(scene["centre"], args.frames, h0, w0)
        alongside = Alongside(scene, args.batch, OURS)
        result["cycles"] = run_blender(scene, cams, args.frames, args.out, log, pace=alongside)
    # Ours again after Cycles, so that both sides see the same stretch of this shared machine's load:
    # the figure used is the median over the batches of both passes.
    for h, w in SIZES:
        key = f"{w}x{h}"
        both = time_ours(scene, h, w, args.batch, args.iterations, OURS)
        for name, again in both.items():
            r = result[name][key]
            r["seconds_per_batch_all"] += again["seconds_per_batch_all"]
            r["seconds_per_batch"] = float(np.median(r["seconds_per_batch_all"]))
            r["seconds_per_frame"] = r["seconds_per_batch"] / args.batch
            r["iterations"] = len(r["seconds_per_batch_all"])
            r["stage_seconds_per_frame"] = {
                k: (v + again["stage_seconds_per_frame"][k]) / 2
                for k, v in r["stage_seconds_per_frame"].items()
            }
            print(f"{name} {key} (both passes): {r['seconds_per_frame'] * 1e3:.2f} ms/frame", flush=True)
    if result["cycles"]:
        bg = np.array(BACKGROUND, dtype=np.float32)
        for entry in result["cycles"]["runs"]:
            key = f"{entry['width']}x{entry['height']}"
            ours = np.asarray(Image.open(args.out / f"ours_{key}.png"), dtype=np.float32) / 255
            theirs = np.asarray(Image.open(entry["png"]).convert("RGB"), dtype=np.float32) / 255
            m_ours = np.abs(ours - bg).max(-1) > 0.02
            m_theirs = np.abs(theirs - bg).max(-1) > 0.02
            both = m_ours & m_theirs
            entry["mean_abs_diff_rgb_body"] = float(np.abs(ours - theirs)[both].mean())
            entry["silhouette_iou"] = float(both.sum() / max((m_ours | m_theirs).sum(), 1))
            entry.update(_ratios(entry, alongside.times[entry["lighting"], key], args.batch))
            print(
                f"cycles {entry['lighting']} {key}: {entry['seconds_per_frame']:.3f} s/frame; ours alongside "
                f"{entry['alongside']['ours']['seconds_per_frame'] * 1e3:.2f} ms/frame, "
                f"{entry['speedup']:.0f}x faster (frame by frame: quartiles "
                f"{'/'.join(f'{q:.0f}' for q in entry['speedup_quartiles'])}); mean |RGB diff| on the body "
                f"{entry['mean_abs_diff_rgb_body']:.3f}, "
                f"silhouette IoU {entry['silhouette_iou']:.3f}",
                flush=True,
            )
            if key == f"{w0}x{h0}":
                side = np.concatenate([ours, theirs, np.clip(np.abs(ours - theirs) * 4, 0, 1)], 1)
                save_png(side, args.out / f"compare_{entry['lighting']}_{key}.png")
    result["load_average"] = {"before": load_before, "after": os.getloadavg()}
    for line in log:
        print(line, file=sys.stderr)
    (args.out / "compare.json").write_text(json.dumps(result, indent=1))


def _ratios(entry: dict, times: dict[str, list[float]], batch: int) -> dict:
    """A Cycles run's ratios to our paths timed alongside it (``times``: name -> seconds per batch, one per
    Cycles frame, in order): Cycles' median s/frame over ours ("speedup", "speedup_torch") and the
    quartiles of the frame-by-frame ratios of the Warp path ("speedup_quartiles")."""
    per_frame = {name: np.asarray(t) / batch for name, t in times.items()}
    alongside = {
        name: {"seconds_per_batch_all": times[name], "seconds_per_frame": float(np.median(v))}
        for name, v in per_frame.items()
    }
    pairs = np.asarray(entry["frame_s"]) / per_frame["ours"]
    return {
        "alongside": alongside,
        "speedup": entry["seconds_per_frame"] / alongside["ours"]["seconds_per_frame"],
        "speedup_torch": entry["seconds_per_frame"] / alongside["ours_torch"]["seconds_per_frame"],
        "speedup_quartiles": [float(q) for q in np.percentile(pairs, [25, 50, 75])],
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
