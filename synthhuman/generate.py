"""``synthhuman generate``: sample, render and write clips, deterministic, resumable, sharded, on Ray.

Clip ``index`` of ``split`` depends only on (seed, split, index) and the config: its frames are rendered in
batches of at most ``batch_frames`` frames (several clips per batch when they fit), each batch rendering
one extra neighbour frame per segment so flow is exact across batch borders, and every frame is computed
independently of the others in its batch; so the output is the same whatever the batch size, the worker,
the shard or a resume.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import torch

from synthhuman.atomic import atomic_write
from synthhuman.config import check_device, check_device_available, require, resolve_device
from synthhuman.io.formats import FORMATS
from synthhuman.io.record import ClipRef
from synthhuman.overview import preview_dataset
from synthhuman.pipeline import RenderConfig
from synthhuman.ray_tasks import connect_ray, run_on_ray
from synthhuman.rendering import ClipJob, render_and_write
from synthhuman.scene import AssetConfig, SceneAssets, SceneConfig

FORMAT_VERSION = 2
"""2: ``labels.npz`` holds per-frame cameras, K and R (T, 3, 3), t (T, 3); 1: one per clip, (3, 3), (3,)."""


@dataclass(frozen=True)
class GenerateConfig:
    """A dataset run. out: the output folder; clips: how many (train and test together, ``test_fraction``
    of the scene config going to test); seed: the run seed; device: 'auto' | 'cpu' | 'cuda[:N]';
    format: canonical | surreal | webdataset; png: lossless frames too (canonical); resume: skip finished
    clips; shard: (i, n) writes clips i, i + n, ...; ray: None (local), or a Ray address ('auto', an
    address, or 'local' to start one here); batch_frames: frames rendered per batch; writers: threads
    encoding and writing; crf: H.264 quality; compress_level: deflate level of labels.npz (0-9);
    preview: write ``preview.png`` (a contact sheet) at the end."""

    out: str
    clips: int = 4
    seed: int = 0
    device: str = "auto"
    format: str = "canonical"
    png: bool = False
    resume: bool = False
    shard: tuple[int, int] = (0, 1)
    ray: str | None = None
    batch_frames: int = 100
    writers: int = 2
    crf: int = 23
    compress_level: int = 1
    preview: bool = True
    scene: SceneConfig = field(default_factory=SceneConfig)
    assets: AssetConfig = field(default_factory=AssetConfig)
    render: RenderConfig = field(default_factory=RenderConfig)

    def __post_init__(self) -> None:
        require(bool(self.out), "out", "an output folder", self.out)
        require(self.clips >= 1, "clips", ">= 1", self.clips)
        check_device(self.device)
        require(self.format in FORMATS, "format", f"one of {FORMATS}", self.format)
        i, n = self.shard
        require(n >= 1 and 0 <= i < n, "shard", "i/n with 0 <= i < n", f"{i}/{n}")
        require(self.batch_frames >= 3, "batch_frames", ">= 3", self.batch_frames)
        require(self.writers >= 1, "writers", ">= 1", self.writers)
        require(0 <= self.crf <= 51, "crf", "0..51", self.crf)
        require(0 <= self.compress_level <= 9, "compress_level", "0..9", self.compress_level)
        if "h264" in self.scene.degrade.effects:
            require(self.format in ("canonical", "surreal"), "format",
                    "canonical or surreal with the h264 degradation (webdataset writes no video)",
                    self.format)  # fmt: skip
        if self.format == "surreal":
            require(self.scene.people == 1, "people", "1 with --format surreal (SURREAL has one person)",
                    self.scene.people)  # fmt: skip

    @property
    def torch_device(self) -> torch.device:
        return resolve_device(self.device)

    def clip_job(self) -> ClipJob:
        """What rendering and writing this run's clips needs (for this machine or a Ray task): the fields
        of :class:`ClipJob`, all of them fields of this config too."""
        return ClipJob(**{f.name: getattr(self, f.name) for f in fields(ClipJob)})


@dataclass(frozen=True)
class GenerateResult:
    """What a run did: clips written and skipped (already done), frames, seconds, and the time per stage
    (sample, render, and the writers' encode/write time, which overlaps rendering)."""

    written: int
    skipped: int
    frames: int
    seconds: float
    stages: dict[str, float]

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def plan(cfg: GenerateConfig) -> list[ClipRef]:
    """Every clip of the run, train then test: ``round(clips * test_fraction)`` test clips."""
    n_test = round(cfg.clips * cfg.scene.test_fraction)
    n_train = cfg.clips - n_test
    return [ClipRef("train", i) for i in range(n_train)] + [ClipRef("test", i) for i in range(n_test)]


def shard_of(refs: list[ClipRef], shard: tuple[int, int]) -> list[ClipRef]:
    i, n = shard
    return refs[i::n]


# --- the run --------------------------------------------------------------------------------------------


def check_output_folder(out: Path) -> None:
    """Fail early, before any work, when ``out`` cannot be created or written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test.{os.getpid()}"
        probe.write_bytes(b"x")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"{out}: output folder is not writable ({exc.strerror or exc})") from exc
    free = shutil.disk_usage(out).free
    if free < 50 * 2**20:
        raise ValueError(f"{out}: only {free / 2**20:.0f} MiB free on its disk")


def manifest(cfg: GenerateConfig, assets: SceneAssets, refs: list[ClipRef]) -> dict:
    import synthhuman

    resolved = asdict(cfg)
    for key in ("resume", "shard", "ray", "writers", "preview", "device", "batch_frames"):
        resolved.pop(key)  # how a run executes, not what it produces
    return {
        "format": cfg.format,
        "format_version": FORMAT_VERSION,
        "package_version": synthhuman.__version__,
        "seed": cfg.seed,
        "config": resolved,
        "assets": assets.digests(),
        "skipped_motions": [list(x) for x in assets.skipped],
        "clips": [{"split": r.split, "index": r.index, "id": r.clip_id} for r in refs],
    }


LOCATION_FIELDS = ("out",)
"""Config fields that say where a dataset lies, not what it holds: never part of its identity."""


def dataset_identity(content: dict) -> dict:
    """What makes two manifests the same dataset: format, seed, config and the assets' contents, without
    where anything lies (the output folder, the asset paths: their digests stand for them)."""
    skip = (*LOCATION_FIELDS, "seed", "format")  # seed and format: named once, at the top
    config = {k: v for k, v in (content.get("config") or {}).items() if k not in skip}
    given = config.get("assets") or {}
    config["assets"] = {k: v if v in (None, "skimage") else "(a path)" for k, v in given.items()}
    digests = {k: str(v).rpartition(" ")[2] for k, v in (content.get("assets") or {}).items()}
    ident = {"format": content.get("format"), "seed": content.get("seed"), "config": config}
    ident["asset_digests"] = digests
    return json.loads(json.dumps(ident))  # tuples as lists, as read back from JSON


def _flatten(value: object, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: value}


def identity_differences(old: dict, new: dict) -> list[str]:
    """Each field (dotted) whose value differs between two manifests' identities, with both values."""
    a, b = _flatten(dataset_identity(old)), _flatten(dataset_identity(new))
    return [
        f"{k}: {json.dumps(a.get(k))} in the folder, {json.dumps(b.get(k))} in this run"
        for k in sorted(set(a) | set(b))
        if a.get(k) != b.get(k)
    ]


def _read_manifest(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        old = json.loads(path.read_text())
        if not isinstance(old, dict):
            raise ValueError(f"expected a JSON object, got {type(old).__name__}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: unreadable manifest ({exc}); move it away or use another folder") from exc
    return old


def _write_manifest(out: Path, content: dict, resume: bool, sharded: bool, started: bool = True) -> None:
    """Write the manifest, or check that the one there describes the same dataset (then continuing it
    needs ``resume``, or a sharded run whose shards share the folder). A manifest whose run finished no
    clip (``started`` false) is taken over: a failed run never blocks its rerun."""
    path = out / "manifest.json"
    old = _read_manifest(path)
    if old is not None and started:
        diffs = identity_differences(old, content)
        if diffs:
            raise ValueError(
                f"{path}: the folder holds another dataset ({'; '.join(diffs)}); "
                "use another --out, or run with the folder's settings"
            )
        if not resume and not sharded:
            raise ValueError(f"{path}: the folder already holds this dataset; pass --resume to continue it")
    with atomic_write(path) as f:
        f.write(json.dumps(content, indent=1).encode())


def _empty_dirs_added(out: Path, before: set[Path] | None) -> None:
    """Remove the empty folders under ``out`` (and ``out``) that were not there before (``before``: the
    folders found, None when ``out`` did not exist)."""
    if not out.is_dir():
        return
    for d in sorted((p for p in out.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if (before is None or d not in before) and not any(d.iterdir()):
            d.rmdir()
    if before is None and not any(out.iterdir()):
        out.rmdir()


def generate(cfg: GenerateConfig, on_progress: Callable[[int, int], None] | None = None) -> GenerateResult:
    """Run ``cfg``: check everything (device, Ray, assets, the folder), write the manifest, render and write
    the clips of this shard that are not done yet (``on_progress(frames_done, frames_total)`` after each
    clip), then a preview. A run that fails before any clip of the dataset is finished leaves the folder
    as it found it (and a rerun takes over a manifest whose run finished no clip)."""
    out = Path(cfg.out)
    if cfg.ray is None:
        check_device_available(cfg.device)
    else:
        connect_ray(cfg.ray)
    cfg = replace(cfg, render=cfg.render.resolved(cfg.torch_device))  # "auto": what renders here, recorded
    refs = plan(cfg)
    job = cfg.clip_job()
    assets = SceneAssets(cfg.scene, cfg.assets, splits=tuple(sorted({r.split for r in refs})))
    before = {p for p in out.rglob("*") if p.is_dir()} if out.is_dir() else None
    check_output_folder(out)
    writer = job.make_writer()
    started = any(writer.done(r) for r in refs)
    manifest_path = out / "manifest.json"
    had_manifest = manifest_path.exists()
    try:
        _write_manifest(out, manifest(cfg, assets, refs), cfg.resume, cfg.shard[1] > 1, started)
        if cfg.shard[1] == 1 and cfg.ray is None:
            writer.clean_temporaries()
        mine = shard_of(refs, cfg.shard)
        todo = [r for r in mine if not writer.done(r)]
        start = time.perf_counter()
        if cfg.ray is not None:
            stages = run_on_ray(job, cfg.ray, todo, on_progress)
        else:
            stages = render_and_write(job, assets, writer, todo, on_progress)
        seconds = time.perf_counter() - start
    except BaseException:
        if not started and not any(writer.done(r) for r in refs):
            if cfg.shard[1] == 1 and cfg.ray is None:
                writer.clean_temporaries()
            if not had_manifest:
                manifest_path.unlink(missing_ok=True)
            _empty_dirs_added(out, before)
        raise
    if cfg.preview and cfg.format == "canonical" and mine:
        preview_dataset(out, out / "preview.png")
    return GenerateResult(len(todo), len(mine) - len(todo), len(todo) * cfg.scene.frames, seconds, stages)
