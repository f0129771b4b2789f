"""Write ``docs/benchmarks.md`` from ``benchmarks/out/compare.json`` and ``benchmarks/out/scaling.json``.

    .venv/bin/python benchmarks/make_doc.py [--out benchmarks/out]

Run by ``make bench`` after ``blender_compare.py`` and ``scaling.py``; copies the side-by-side images to
``docs/benchmarks_compare_*.png``.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs"

LIGHTING_TEXT = {
    "emission": (
        "Cycles A, SURREAL-style: Emission shader whose colour is albedo x max(E(n), 0), E the "
        "Ramamoorthi-Hanrahan SH irradiance (the same formula as ours), no light transport (max bounces 0)"
    ),
    "diffuse_env": (
        "Cycles B, physically based: Diffuse BSDF (texture colour) lit by a world whose radiance is pi x "
        "max(sum L_lm Y_lm(w), 0) of the same coefficients (camera rays see the grey background), path "
        "traced with Cycles' default bounces (12; diffuse 4), so it adds self-shadowing and "
        "inter-reflection that ours and SURREAL leave out"
    ),
}


def _ms(s: float) -> str:
    return f"{s * 1e3:.1f} ms"


def compare_section(c: dict, out: Path) -> list[str]:
    m = c["machine"]
    lines = [
        "## Ours against Blender Cycles (CPU)",
        "",
        f"Measured {c['date']} by `make bench` (`benchmarks/blender_compare.py`) on {m['cpu']}, "
        f"{m['cores']} cores; Python {m['python']}, torch {m['torch']} ({m['torch_threads']} threads)"
        + (f", Blender {c['cycles']['blender']} (`bpy` wheel, own venv)" if c.get("cycles") else "")
        + ". Both renderers ran in the same run on the same 2 cores, taking turns: after each Cycles frame, "
        "one batch of each of our paths at that frame's size. The machine is "
        "shared (its load average was "
        + "/".join(f"{x:.1f}" for x in c.get("load_average", {}).get("before", ()))
        + " before and "
        + "/".join(f"{x:.1f}" for x in c.get("load_average", {}).get("after", ()))
        + " after this run; its speed drifts by a fifth within minutes), so times are medians over batches "
        "(ours) and frames (Cycles), and each ratio compares Cycles with the batches of ours rendered "
        "between its frames.",
        "",
        f"Scene: {c['scene']['body']} ({c['scene']['vertices']:,} vertices, {c['scene']['triangles']:,} "
        f"triangles, smooth shaded), {c['scene']['texture']} (both read the same PNG, as stored values: "
        "Non-Color in Blender, view transform Raw), SH coefficients "
        f"{c['scene']['sh']}, constant background {list(c['scene']['background'])}, "
        f"OpenCV cameras: {c['scene']['camera']} (converted to Blender: lens = f x 36 mm / width, "
        "principal point by shift, camera-to-world = R^T diag(1, -1, -1), -R^T t).",
        "",
    ]
    cyc = c.get("cycles")
    if not cyc:
        lines += [
            "**Blender Cycles was not run:** " + ("; ".join(c.get("log", [])) or "unknown reason") + ".",
            "",
            "| size | ours (Warp), s/frame | ours (PyTorch path), s/frame |",
            "|---|---|---|",
        ]
        for key, r in c["ours"].items():
            t = c.get("ours_torch", {}).get(key, {}).get("seconds_per_frame", float("nan"))
            lines.append(f"| {key} | {r['seconds_per_frame']:.4f} | {t:.4f} |")
        return lines + [""]
    runs = cyc["runs"]
    lightings = list(dict.fromkeys(r["lighting"] for r in runs))
    batch = next(iter(c["ours"].values()))["batch"]
    when = " alongside" if "alongside" in runs[0] else ""  # older results: ours timed alone
    lines += [
        f"| Cycles run | size | Cycles, s/frame | Warp{when}, s/frame (batch {batch}) | ratio (Warp) | "
        f"frame-by-frame ratio, quartiles | PyTorch path{when}, s/frame | ratio (PyTorch) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for e in runs:
        key = f"{e['width']}x{e['height']}"
        along = e.get("alongside") or {n: c[n][key] for n in ("ours", "ours_torch")}  # older files
        quart = "/".join(f"{q:.0f}x" for q in e.get("speedup_quartiles", ())) or "-"
        w, t = along["ours"]["seconds_per_frame"], along["ours_torch"]["seconds_per_frame"]
        lines.append(
            f"| {'A' if e['lighting'] == 'emission' else 'B'} ({e['lighting']}) | {key} | "
            f"{e['seconds_per_frame']:.3f} | {w:.4f} ({_ms(w)}) | **{e['speedup']:.0f}x** | {quart} | "
            f"{t:.4f} ({_ms(t)}) | {e['speedup_torch']:.0f}x |"
        )
    lines += [
        "",
        "Ours alone, before and after the Cycles runs (back to back, the two paths alternating):",
        "",
    ]
    lines += ["| size | Warp, s/frame | PyTorch path, s/frame |", "|---|---|---|"]
    for key, r in c["ours"].items():
        t = c["ours_torch"][key]["seconds_per_frame"]
        lines.append(
            f"| {key} | {r['seconds_per_frame']:.4f} ({_ms(r['seconds_per_frame'])}) | {t:.4f} ({_ms(t)}) |"
        )
    e0 = runs[0]
    frames = len(e0["frame_s"])
    lines += [
        "",
        f"- Ours: batches of {batch} frames, in memory, `no_grad`, both paths "
        "(`RenderConfig(backend='warp')`, the compiled kernels, and `backend='torch'`, the PyTorch "
        "reference). Alongside Cycles: one batch of each path after each timed Cycles frame (the first "
        "batch at each size a warm-up, untimed; the paths' order alternating; 50 ms pauses between the "
        "two renderers), median over those batches. Alone: a pass before and one after the Cycles runs, "
        f"each after a warm-up batch ({next(iter(c['ours'].values()))['iterations']} batches in all per "
        "size and path, the paths alternating batch by batch; median); the stage split below is theirs.",
        f"- Cycles: CPU, {e0['samples']} samples, adaptive sampling and denoising off, "
        f"{e0['threads']} threads; median of {frames} frames (frames 2..{frames + 1} of a keyframed orbit; "
        "frame 1, which builds the BVH and compiles the kernels, and the scene set-up are excluded), each "
        "written with all passes to a multilayer EXR (ZIP, 32-bit). The same frames rendered without "
        "writing (median of frames 2-5):",
        "",
        "| Cycles run | size | set-up, s | first frame, s | s/frame with EXR | s/frame without writing |",
        "|---|---|---|---|---|---|",
    ]
    for e in runs:
        lines.append(
            f"| {'A' if e['lighting'] == 'emission' else 'B'} ({e['lighting']}) | "
            f"{e['width']}x{e['height']} | {e['setup_s']:.2f} | {e['first_frame_s']:.2f} | "
            f"{e['seconds_per_frame']:.3f} | "
            f"{e['seconds_per_frame_no_write']:.3f} |"
        )
    lines += ["", "Lighting in Cycles (what was approximated):", ""]
    for lig in lightings:
        lines.append(
            f"- {LIGHTING_TEXT[lig]}. Shader: {next(x for x in runs if x['lighting'] == lig)['shading']}."
        )
    lines += [
        "- OSL: SURREAL lit its bodies with an OSL script (`sh.osl`). The `bpy` 5.0.1 wheel is built with "
        "OSL (`bpy.app.build_options.cycles_osl`) but lacks Blender's `oslquery` module, so a script node "
        "cannot be compiled (`ModuleNotFoundError: No module named 'oslquery'` from `update_script_node`); "
        "the script tries it and falls back to the same formula built from shader math nodes, evaluated at "
        "Cycles' interpolated (smooth) normal. That is not an approximation of the formula: run A and ours "
        "agree to the 8-bit quantization on the body (table below).",
        "",
        "What each produced per frame:",
        "",
    ]
    ours_layers = next(iter(c["ours"].values()))["produced"]
    lines.append(
        "- Ours: " + ", ".join(f"`{k}` {tuple(v[1:])}" for k, v in ours_layers.items()) + " (per frame; "
        "RGB with mipmapped texture, SH light, background and analytic anti-aliasing; depth, camera-axes "
        "normals, 24-part segmentation, instance ids, forward optical flow with its validity mask, 2-D/3-D "
        "joints with visibility): 7 image layers + joints, kept in memory."
    )
    chans = e0["exr_channels"]
    passes = list(dict.fromkeys(ch.split(".")[1] for ch in chans if ch.count(".") >= 2))
    lines += [
        f"- Cycles: {len(passes)} passes in one multilayer EXR: "
        + ", ".join(f"`{p}`" for p in passes)
        + f" ({len(chans)} channels: RGBA, Z, normal XYZ (world axes), object index, material index, "
        "vector XYZW = motion to the previous and next frame, from the keyframed camera). Not produced by "
        "Cycles: part segmentation (a material index per part would give it, not set up here), "
        "flow validity/occlusion, 2-D joints.",
        "",
        "Image agreement at frame 1 (8-bit PNGs; the body mask = pixels differing from the background):",
        "",
        "| Cycles run | size | mean abs RGB difference on the body | silhouette IoU |",
        "|---|---|---|---|",
    ]
    for e in runs:
        lines.append(
            f"| {'A' if e['lighting'] == 'emission' else 'B'} | {e['width']}x{e['height']} | "
            f"{e['mean_abs_diff_rgb_body']:.4f} | {e['silhouette_iou']:.3f} |"
        )
    lines += [""]
    for lig in lightings:
        src = out / f"compare_{lig}_320x240.png"
        if src.exists():
            dst = DOCS / f"benchmarks_compare_{lig}.png"
            shutil.copyfile(src, dst)
            lines += [
                f"![ours | Cycles {lig} | 4 x difference, 320x240]({dst.name})",
                "",
                f"Ours, Cycles {'A' if lig == 'emission' else 'B'} ({lig}), 4 x |difference|, 320x240.",
                "",
            ]
    lines += [
        "Differences that remain by design: Cycles filters the texture bilinearly without mipmaps and its "
        "pixel filter is Blackman-Harris 1.5 px over 16 jittered samples; ours uses trilinear mipmaps and "
        "analytic edge anti-aliasing (silhouette IoU < 1 comes from those edges).",
        "",
    ]
    lines += _targets(c, runs)
    p3 = c.get("pytorch3d", {})
    lines += ["## Ours against pytorch3d's rasterizer", ""]
    if "skipped" in p3:
        lines += [
            f"Skipped: {p3['skipped']} (`synthhuman.render.pytorch3d_backend.is_pytorch3d_available()` is "
            "false). Where it is true, the script times the same pipeline with "
            "`RenderConfig(backend='pytorch3d')` at both sizes and reports the ratio.",
            "",
        ]
    else:
        lines += [
            f"pytorch3d {c.get('pytorch3d_version', '?')} (built from source on this machine: it has no "
            "wheel for current torch), CPU. The same pipeline with `RenderConfig(backend='pytorch3d')`: "
            "its `rasterize_meshes` finds the visible face of each pixel, ours does all the rest. On CPU "
            "pytorch3d rasterizes naively, each pixel testing every face (its coarse-to-fine binning is "
            "CUDA-only), so it was timed on a batch of "
            f"{next(iter(p3.values()))['batch']} frames, once. It finds the faces ours finds (up to depth "
            "ties and pixels on an edge): the parity tests (`tests/render/test_pytorch3d_backend.py`) "
            "check that wherever it imports.",
            "",
            "| size | ours, s/frame | with pytorch3d's rasterizer, s/frame | ours faster by | rasterize "
            "stage, ours / pytorch3d, ms/frame |",
            "|---|---|---|---|---|",
        ]
        for key, r in p3.items():
            o = c["ours"][key]
            ratio = r["seconds_per_frame"] / o["seconds_per_frame"]
            stage = (
                f"{o['stage_seconds_per_frame']['rasterize'] * 1e3:.2f} / "
                f"{r['stage_seconds_per_frame']['rasterize'] * 1e3:.0f}"
                if "stage_seconds_per_frame" in r
                else "-"
            )
            times = f"{o['seconds_per_frame']:.4f} | {r['seconds_per_frame']:.3f}"
            lines.append(f"| {key} | {times} | {ratio:.0f}x | {stage} |")
        lines.append("")
    return lines


def scaling_section(s: dict) -> list[str]:
    lines = [
        "## Scaling of our renderer",
        "",
        "`benchmarks/scaling.py`: the procedural mannequin walking (`make_mannequin(segments, rings)` for "
        "the triangle count), RGB and every ground-truth layer with the default backend (the Warp kernels "
        "here), each point in a fresh process (one warm-up "
        "batch, then at least 3 batches and 1 s; frames/s from the median batch). Peak memory on CPU is the "
        "process's peak resident set, torch itself included (about 0.27 GB at batch 1).",
        "",
    ]
    if not s["cuda_available"]:
        lines += ["GPU: not measured (no CUDA device in this run; torch is a CPU build here).", ""]
    for device, sweep in s["devices"].items():
        for key, title in (("batch", "batch size"), ("image", "image size"), ("triangles", "triangles")):
            lines += [
                f"### {device}: {title}",
                "",
                "| batch | image | triangles | frames/s | ms per batch | peak memory, MB |",
                "|---|---|---|---|---|---|",
            ]
            for r in sweep[key]:
                if "error" in r:
                    lines.append(
                        f"| {r['batch']} | {r['width']}x{r['height']} | | failed: {r['error']} | | |"
                    )
                    continue
                lines.append(
                    f"| {r['batch']} | {r['width']}x{r['height']} | {r['triangles']:,} | {r['fps']:.1f} | "
                    f"{r['seconds_per_batch'] * 1e3:.0f} | {r['peak_memory_mb']:.0f} |"
                )
            name = {"batch": "batch", "image": "image", "triangles": "triangles"}[key]
            lines += ["", f"![frames/s and peak memory against {title}](benchmarks_scaling_{name}.png)", ""]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args()
    lines = [
        "# Benchmarks",
        "",
        "Regenerated by `make bench` (about 4.5 minutes on a 2-core machine, one more where pytorch3d is "
        "importable, plus the `bpy` install on the "
        "first run): `synthhuman bench`, then "
        "`benchmarks/blender_compare.py` (creates `benchmarks/.venv-bpy` with `bpy==5.0.1` and `numpy<2` "
        "from PyPI on first use: a 374 MB wheel, about 1 GB installed), `benchmarks/scaling.py` (plots need "
        "matplotlib, which the "
        "target installs into `.venv`), then `benchmarks/make_doc.py` writes this page. Figures below are "
        "from one such run; this machine's run-to-run spread is about +-15 %.",
        "",
    ]
    compare = args.out / "compare.json"
    if compare.exists():
        lines += compare_section(json.loads(compare.read_text()), args.out)
    else:
        lines += ["(no comparison results: run `benchmarks/blender_compare.py`)", ""]
    scaling = args.out / "scaling.json"
    if scaling.exists():
        lines += scaling_section(json.loads(scaling.read_text()))
    else:
        lines += ["(no scaling results: run `benchmarks/scaling.py`)", ""]
    generate = args.out / "generate.json"
    if generate.exists():
        lines += generate_section(json.loads(generate.read_text()))
    (DOCS / "benchmarks.md").write_text("\n".join(lines).rstrip() + "\n")
    print(f"wrote {DOCS / 'benchmarks.md'}")


RENDER_STAGES = ("rasterize", "shade", "antialias", "ground_truth", "flow")


def generate_section(entries: list[dict]) -> list[str]:
    """`synthhuman generate` end to end (benchmarks/generate_bench.py): one row per run, and the on-the-fly
    training data's frames/s where measured."""
    lines = [
        "## `synthhuman generate` end to end",
        "",
        "`benchmarks/generate_bench.py --clips 16 --runs 2 --onthefly 2` (`make bench`): `synthhuman "
        "generate --out TMP --clips 16 --device cpu --no-preview` (16 clips of 100 frames at 320x240, "
        "every layer written), each run in a fresh process; runs of the labels were alternated. Frames/s "
        "as generate reports it (from the start of rendering to the last file written). Stage seconds are"
        " wall time on the thread that runs the stage, so they overlap: since the split of the two cores "
        "(`rendering.cpu_split`), sampling and posing run on a thread of their own ahead of the renderer,"
        " rendering (render = rasterize + shade + anti-alias + ground truth + flow) and read-back on the "
        "main thread and the kernels' workers, and the writers on their threads and ffmpeg's process; "
        "before it, sample and pose ran on the main thread in turn with rendering.",
        "",
        "| code | format | frames/s | sample | pose | build | render | read-back | writers (threads) "
        "| MB per clip |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    fly = []
    for e in entries:
        for r in e["runs"]:
            code = e["label"] + (f" `{e['flags']}`" if e.get("flags") else "")
            if r["format"] == "on the fly":
                fly.append(f"| {code} | {r['frames_per_second']:.1f} | {r['frames']} | {r['seconds']:.1f} |")
                continue
            st = r["stage_seconds"]
            render = sum(st.get(k, 0.0) for k in RENDER_STAGES)
            writers = st.get("writing in all (writer threads)", 0.0)
            cells = [st.get("sample", 0.0), st.get("pose", 0.0), st.get("build", 0.0), render]
            cells += [st.get("readback", 0.0), writers]
            lines.append(
                f"| {code} | {r['format']} | {r['frames_per_second']:.1f} | "
                + " | ".join(f"{c:.2f}" for c in cells)
                + f" | {r['bytes_per_clip'] / 1e6:.2f} |"
            )
    if fly:
        lines += [
            "",
            "On-the-fly training data (`SyntheticHumans`, CPU, the default stream: each chunk poses 32 clips "
            "and renders 6 frames of each; no prefetch thread), after a first chunk:",
            "",
            "| code | frames/s | frames | seconds |",
            "|---|---|---|---|",
            *fly,
        ]
    return lines + [""]


TARGETS = {"320x240": 150, "640x480": 100}
"""The render-kernel issue's targets: ours (Warp) at least this many times faster than Cycles A."""


def _targets(c: dict, runs: list[dict]) -> list[str]:
    """Targets met or not, and where each path's time goes (stage timers of ``render_frames``)."""
    lines = []
    for key, factor in TARGETS.items():
        target = c["ours"].get(key)
        cyc_a = [x for x in runs if x["lighting"] == "emission" and f"{x['width']}x{x['height']}" == key]
        if not target or not cyc_a:
            continue
        e = cyc_a[0]
        ours = (e.get("alongside") or {"ours": target})["ours"]["seconds_per_frame"]
        needed = e["seconds_per_frame"] / factor
        got = e["speedup"]
        verdict = "**met**" if got >= factor else f"**not met** ({ours / needed:.2f}x short)"
        quart = e.get("speedup_quartiles")
        spread = (
            f" (frame by frame: median {quart[1]:.0f}x, quartiles {quart[0]:.0f}x-{quart[2]:.0f}x)"
            if quart
            else ""
        )
        measured = "Measured alongside" if "alongside" in e else "Measured"
        lines += [
            f"**Target at {key}: >= {factor}x Cycles A** (SURREAL's set-up), i.e. at most "
            f"{needed * 1e3:.2f} ms/frame in this run. {measured}: Warp {_ms(ours)} = {got:.0f}x"
            f"{spread}: {verdict}; the PyTorch path {e['speedup_torch']:.0f}x.",
            "",
        ]
    lines += [
        "Where the time goes (mean per frame over the timed batches, stage timers of `render_frames`; "
        "the stages of the Warp path are kernel launches plus the bulk fills and copies around them):",
        "",
        "| size | path | " + " | ".join(STAGES) + " | sum |",
        "|---|---|" + "---|" * (len(STAGES) + 1),
    ]
    for key in c["ours"]:
        for name, label in (("ours", "Warp"), ("ours_torch", "PyTorch")):
            stages = c[name][key].get("stage_seconds_per_frame", {})
            cells = [f"{stages.get(s, 0.0) * 1e3:.3f}" for s in STAGES]
            lines.append(
                f"| {key} | {label} | " + " | ".join(cells) + f" | {sum(stages.values()) * 1e3:.3f} |"
            )
    return lines + ["", "(ms per frame)", ""]


STAGES = ("rasterize", "shade", "antialias", "ground_truth", "flow")


if __name__ == "__main__":
    main()
