"""Looking at a canonical dataset on disk: a contact sheet (``synthhuman preview``) and a summary
(``synthhuman info``: counts, sizes, value ranges, distributions of the sampled parameters)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from synthhuman import viz
from synthhuman.io.canonical import finished_clips, read_canonical_clip


def dataset_clips(root: str | Path) -> list[Path]:
    """Finished clip folders of a canonical dataset (:func:`synthhuman.io.canonical.finished_clips`),
    train before test, by clip id; the folder must hold ``manifest.json``."""
    root = Path(root)
    if not (root / "manifest.json").is_file():
        raise FileNotFoundError(f"{root}: no manifest.json (not a synthhuman dataset folder)")
    return finished_clips(root)


def preview_dataset(root: str | Path, out: str | Path, clips: int = 2, frames: int = 4) -> Path:
    """A PNG contact sheet read back from disk: for ``frames`` frames of each of the first ``clips`` clips,
    one row each of RGB, depth, normals, segmentation, flow (colour wheel) and joints (green visible,
    red hidden)."""
    folders = dataset_clips(root)[:clips]
    if not folders:
        raise ValueError(f"{root}: no finished clip to preview")
    rows: list[list[torch.Tensor]] = []
    for folder in folders:
        c = read_canonical_clip(folder)
        picks = np.linspace(0, c.num_frames - 2, frames).round().astype(int)  # the last frame has no flow
        panels = [
            viz.layer_panels(
                torch.from_numpy(c.rgb[k]).float() / 255,
                torch.from_numpy(c.depth[k]),
                torch.from_numpy(c.normals[k].astype(np.float32)),
                torch.from_numpy(c.segm[k]),
                torch.from_numpy(c.flow[k]),
                torch.from_numpy(c.flow_valid[k]),
                torch.from_numpy(c.joints2d[k]).reshape(-1, 2),
                torch.from_numpy(c.joints_visible[k]).reshape(-1),
            )
            for k in picks
        ]
        rows.extend([list(layer) for layer in zip(*panels, strict=True)])  # one row per layer
    return viz.write_png(out, viz.contact_sheet(rows))


def _stats(a: np.ndarray) -> dict:
    a = a.astype(np.float64)
    return {"min": float(a.min()), "max": float(a.max()), "mean": float(a.mean())}


def dataset_info(root: str | Path, sample: int = 20) -> dict:
    """Counts and sizes of a dataset, value ranges over up to ``sample`` clips, and the distributions of
    the sampled parameters (genders, motions, backgrounds, camera distance, heading) over all clips."""
    root = Path(root)
    manifest = (
        json.loads((root / "manifest.json").read_text()) if (root / "manifest.json").is_file() else None
    )
    folders = dataset_clips(root)
    infos = [json.loads((f / "info.json").read_text()) for f in folders]
    size = sum(p.stat().st_size for f in folders for p in f.rglob("*") if p.is_file())
    planned = len(manifest["clips"]) if manifest else len(folders)
    frames = 0
    values_of: dict[str, list[np.ndarray]] = {}
    for folder in folders[:sample]:
        c = read_canonical_clip(folder, video=False)
        frames += c.num_frames
        fg = c.segm > 0
        for name, values in (
            ("depth_m (body)", c.depth[fg]),
            ("flow_px (valid)", np.linalg.norm(c.flow, axis=-1)[c.flow_valid]),
            ("body_pixels_per_frame", fg.reshape(fg.shape[0], -1).sum(1)),
            ("joints_visible_fraction", c.joints_visible),
            ("segm_labels", c.segm[fg]),
        ):
            values_of.setdefault(name, []).append(values.reshape(-1))
    ranges = {name: _stats(np.concatenate(v)) for name, v in values_of.items() if sum(a.size for a in v)}
    per_person = [(i, p) for i in infos for p in range(len(i["genders"]))]
    distances = np.array([i["camera_distance"] for i in infos]) if infos else np.zeros(0)
    return {
        "root": str(root),
        "clips_planned": planned,
        "clips_finished": len(folders),
        "splits": dict(Counter(i["split"] for i in infos)),
        "bytes": size,
        "bytes_per_clip": size / max(len(folders), 1),
        "frames_in_sampled_clips": frames,
        "value_ranges (sampled clips)": ranges,
        "genders": dict(Counter(i["genders"][p] for i, p in per_person)),
        "motions": dict(Counter(i["motions"][p] for i, p in per_person).most_common()),
        "mirrored": dict(Counter(str(i["extra"]["mirrored"][p]) for i, p in per_person)),
        "backgrounds": dict(Counter(i["background"] for i in infos)),
        "textures": dict(Counter(i["textures"][p] for i, p in per_person).most_common(10)),
        "camera_distance_m": _stats(distances) if distances.size else None,
        "heading_rad": _stats(np.array([i["headings"][p] for i, p in per_person])) if per_person else None,
    }
