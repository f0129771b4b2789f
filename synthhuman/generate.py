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
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from synthhuman.config import RenderConfig, check_device, require, resolve_device
from synthhuman.io.atomic import atomic_write
from synthhuman.io.record import ClipInfo, ClipRecord
from synthhuman.render.renderer import RenderOutput, StageTimer, render_frames
from synthhuman.scene import (
    AssetConfig,
    ClipGeometry,
    SceneAssets,
    SceneConfig,
    Segment,
    build_clip,
    frame_batch,
    sample_clip,
    segments,
)

FORMATS = ("canonical", "surreal", "webdataset")
FORMAT_VERSION = 1


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
        if self.format == "surreal":
            require(self.scene.people == 1, "people", "1 with --format surreal (SURREAL has one person)",
                    self.scene.people)  # fmt: skip

    @property
    def torch_device(self) -> torch.device:
        return resolve_device(self.device)


@dataclass(frozen=True)
class ClipRef:
    split: str
    index: int

    @property
    def clip_id(self) -> str:
        return f"{self.index:06d}"


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


# --- writers --------------------------------------------------------------------------------------------


class Writer:
    """Writes finished clips in one format and says which are done (for resume). ``seconds`` adds up
    the time of each writing step (encoding, compression), spent on the writer threads."""

    def __init__(self, cfg: GenerateConfig) -> None:
        self.cfg, self.root = cfg, Path(cfg.out)
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    def done(self, ref: ClipRef) -> bool:
        raise NotImplementedError

    def write(self, record: ClipRecord) -> None:
        raise NotImplementedError

    def _add_seconds(self, seconds: dict[str, float]) -> None:
        with self._lock:
            for name, sec in seconds.items():
                self.seconds[name] = self.seconds.get(name, 0.0) + sec

    def close(self) -> None:
        """Finish what is buffered (WebDataset shards)."""

    def clean_temporaries(self) -> None:
        """Remove what a killed run left under temporary names. Only safe when no other process writes
        into the folder (the caller skips it for sharded and Ray runs)."""
        for p in self.root.rglob(".*.tmp*"):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


class CanonicalWriter(Writer):
    def done(self, ref: ClipRef) -> bool:
        from synthhuman.io.canonical import clip_dir

        return clip_dir(self.root, ref.split, ref.clip_id).is_dir()

    def write(self, record: ClipRecord) -> None:
        from synthhuman.io.canonical import write_canonical_clip

        cfg = self.cfg
        write_canonical_clip(
            record,
            self.root,
            png=cfg.png,
            crf=cfg.crf,
            compress_level=cfg.compress_level,
            seconds=self.seconds,
        )


class SurrealWriter(Writer):
    """SURREAL's layout: clip ``<clip_id>_c0001`` of sequence ``<clip_id>`` under
    ``<out>/cmu/<split>/run0/`` (see :mod:`synthhuman.io.surreal`)."""

    def done(self, ref: ClipRef) -> bool:
        from synthhuman.io.surreal import surreal_clip_paths

        return surreal_clip_paths(self.root, ref.clip_id, 1, ref.split).complete

    def write(self, record: ClipRecord) -> None:
        from synthhuman.io.surreal import write_surreal_clip

        start = time.perf_counter()
        write_surreal_clip(record, self.root, record.info.clip_id, 1, record.info.split)
        with self._lock:
            self.seconds["surreal files"] = (
                self.seconds.get("surreal files", 0.0) + time.perf_counter() - start
            )


class WebDatasetWriter(Writer):
    """Tar shards under ``<out>/<split>/``, one sample per frame (:mod:`synthhuman.io.webdataset`). Each
    writer's shards are named after the first clip it writes (``<split>-c<index>-%06d.tar``), so shards,
    Ray tasks and resumed runs never share a name; a clip is done when a finished shard holds it."""

    def __init__(self, cfg: GenerateConfig) -> None:
        from synthhuman.io.webdataset import completed_clips

        super().__init__(cfg)
        self._writers: dict = {}
        self._done = {
            (split, clip)
            for split in ("train", "test")
            for prefix in {p.name.rsplit("-", 1)[0] for p in (self.root / split).glob("*.tar")}
            for clip in completed_clips(self.root / split, prefix)
        }

    def done(self, ref: ClipRef) -> bool:
        return (ref.split, ref.clip_id) in self._done

    def write(self, record: ClipRecord) -> None:
        from synthhuman.io.webdataset import ShardWriter

        split = record.info.split
        start = time.perf_counter()
        with self._lock:
            if split not in self._writers:
                self._writers[split] = ShardWriter(self.root / split, f"{split}-c{record.info.index:06d}")
        self._writers[split].write_clip(record)
        self._add_seconds({"shards": time.perf_counter() - start})

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()


def make_writer(cfg: GenerateConfig) -> Writer:
    if cfg.format == "canonical":
        return CanonicalWriter(cfg)
    if cfg.format == "surreal":
        return SurrealWriter(cfg)
    return WebDatasetWriter(cfg)


# --- rendering ------------------------------------------------------------------------------------------


class _ClipBuffer:
    """Kept frames of one clip as they come out of render batches (numpy, on CPU)."""

    def __init__(self, clip: ClipGeometry, fps: float, backward: bool) -> None:
        self.clip, self.fps, self.filled = clip, fps, 0
        T = clip.verts.shape[0]
        h, w = clip.cameras.image_size
        P = len(clip.params.people)
        self.arrays = {
            "rgb": np.empty((T, h, w, 3), np.uint8),
            "depth": np.empty((T, h, w), np.float32),
            "normals": np.empty((T, h, w, 3), np.float16),
            "segm": np.empty((T, h, w), np.uint8),
            "instance": np.empty((T, h, w), np.uint8),
            "flow": np.empty((T, h, w, 2), np.float32),
            "flow_valid": np.empty((T, h, w), np.bool_),
            "joints2d": np.empty((T, P, 24, 2), np.float32),
            "joints3d": np.empty((T, P, 24, 3), np.float32),
            "joints_visible": np.empty((T, P, 24), np.bool_),
        }
        if backward:
            self.arrays["flow_backward"] = np.empty((T, h, w, 2), np.float32)

    def put(self, seg: Segment, out: RenderOutput, offset: int) -> None:
        """Copy the kept frames of ``seg``, rendered at batch rows ``offset ...``."""
        rows = slice(offset + seg.keep_start - seg.start, offset + seg.keep_stop - seg.start)
        dst = slice(seg.keep_start, seg.keep_stop)
        n = seg.keep_stop - seg.keep_start
        P = len(self.clip.params.people)
        layers = {
            "rgb": (out.rgb[rows] * 255 + 0.5).to(torch.uint8),
            "depth": out.depth[rows].float(),
            "normals": out.normals[rows].half(),
            "segm": out.segm[rows],
            "instance": out.instance[rows],
            "flow": out.flow.flow[rows].float(),
            "flow_valid": out.flow.valid[rows],
            "joints2d": out.joints.joints2d[rows].float().reshape(n, P, 24, 2),
            "joints3d": out.joints.joints3d[rows].float().reshape(n, P, 24, 3),
            "joints_visible": out.joints.visible[rows].reshape(n, P, 24),
        }
        if "flow_backward" in self.arrays:
            layers["flow_backward"] = -out.flow_backward.flow[rows].float()  # point's motion t-1 -> t
        for name, value in layers.items():
            self.arrays[name][dst] = value.cpu().numpy()
        self.filled += n

    @property
    def complete(self) -> bool:
        return self.filled == self.clip.verts.shape[0]

    def record(self) -> ClipRecord:
        c = self.clip
        p = c.params
        cam = c.cameras
        info = ClipInfo(
            clip_id=f"{p.index:06d}", split=p.split, index=p.index, seed=p.seed, fps=self.fps,
            motions=tuple(x.motion for x in p.people), motion_starts=tuple(x.motion_start for x in p.people),
            textures=tuple(x.texture_name for x in p.people), genders=tuple(x.gender for x in p.people),
            headings=tuple(x.heading for x in p.people), background=p.background_name,
            camera_distance=c.distance,
            extra={
                "mirrored": [x.mirrored for x in p.people], "speed": [x.speed for x in p.people],
                "shape_rows": [x.shape_row for x in p.people], "sampled_distance": p.distance,
            },
        )  # fmt: skip
        a = self.arrays
        return ClipRecord(
            info=info,
            joints3d_world=c.joints.float().cpu().numpy(),
            pose=c.pose.float().cpu().numpy(),
            betas=torch.stack([x.betas for x in p.people]).float().numpy(),
            trans=c.trans.float().cpu().numpy(),
            gender=np.array([x.gender for x in p.people]),
            K=cam.K[0].float().cpu().numpy(),
            R=cam.R[0].float().cpu().numpy(),
            t=cam.t[0].float().cpu().numpy(),
            light=torch.stack([x.light for x in p.people]).float().numpy(),
            **a,
        )


def render_records(
    assets: SceneAssets,
    refs: list[ClipRef],
    seed: int,
    device: torch.device,
    render_cfg: RenderConfig = RenderConfig(),
    batch_frames: int = 100,
    backward_flow: bool = False,
    timer: StageTimer | None = None,
) -> Iterator[ClipRecord]:
    """Render ``refs`` in order, yielding each clip's record as soon as its last frame is rendered."""
    timer = timer or StageTimer(device)
    pending: list[Segment] = []
    buffers: dict[int, _ClipBuffer] = {}

    def flush() -> Iterator[ClipRecord]:
        with timer("build"):
            batch = frame_batch(pending, assets, backward_flow)
        with torch.no_grad():
            out = render_frames(batch, assets.topology_on(device), render_cfg, timer=timer)
        with timer("readback"):
            offset = 0
            for seg in pending:
                buf = buffers[id(seg.clip)]
                buf.put(seg, out, offset)
                offset += seg.stop - seg.start
        pending.clear()
        for key in [k for k, b in buffers.items() if b.complete]:
            yield buffers.pop(key).record()

    queued = 0
    for ref in refs:
        with timer("sample"):
            params = sample_clip(assets, seed, ref.split, ref.index)
        with timer("pose"):
            clip = build_clip(assets, params, device)
        buffers[id(clip)] = _ClipBuffer(clip, assets.cfg.fps, backward_flow)
        for seg in segments(clip, batch_frames, backward_flow):
            n = seg.stop - seg.start
            if queued + n > batch_frames and pending:
                yield from flush()
                queued = 0
            pending.append(seg)
            queued += n
    if pending:
        yield from flush()


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


def _write_manifest(out: Path, content: dict, resume: bool, sharded: bool) -> None:
    """Write the manifest, or check that the one there describes the same dataset (then continuing it
    needs ``resume``, or a sharded run whose shards share the folder)."""
    path = out / "manifest.json"
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except ValueError as exc:
            raise ValueError(
                f"{path}: unreadable manifest ({exc}); move it away or use another folder"
            ) from exc
        keys = ("config", "seed", "format")
        same = {k: old.get(k) for k in keys} == json.loads(json.dumps({k: content[k] for k in keys}))
        if not same:
            raise ValueError(
                f"{path}: the folder holds a dataset made with another config or seed; use another --out"
            )
        if not resume and not sharded:
            raise ValueError(f"{path}: the folder already holds this dataset; pass --resume to continue it")
    with atomic_write(path) as f:
        f.write(json.dumps(content, indent=1).encode())


def generate(cfg: GenerateConfig, on_progress: Callable[[int, int], None] | None = None) -> GenerateResult:
    """Run ``cfg``: check everything, write the manifest, render and write the clips of this shard that
    are not done yet (``on_progress(frames_done, frames_total)`` after each clip), then a preview."""
    out = Path(cfg.out)
    check_output_folder(out)
    assets = SceneAssets(cfg.scene, cfg.assets)
    refs = plan(cfg)
    writer = make_writer(cfg)
    _write_manifest(out, manifest(cfg, assets, refs), cfg.resume, cfg.shard[1] > 1)
    if cfg.shard[1] == 1 and cfg.ray is None:
        writer.clean_temporaries()
    mine = shard_of(refs, cfg.shard)
    todo = [r for r in mine if not writer.done(r)]
    start = time.perf_counter()
    if cfg.ray is not None:
        from synthhuman.distributed import run_on_ray

        stages = run_on_ray(cfg, todo, on_progress)
    else:
        stages = render_and_write(cfg, assets, writer, todo, on_progress)
    seconds = time.perf_counter() - start
    if cfg.preview and cfg.format == "canonical" and mine:
        from synthhuman.inspect import preview_dataset

        preview_dataset(out, out / "preview.png")
    return GenerateResult(len(todo), len(mine) - len(todo), len(todo) * cfg.scene.frames, seconds, stages)


def render_and_write(
    cfg: GenerateConfig,
    assets: SceneAssets,
    writer: Writer,
    refs: list[ClipRef],
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, float]:
    """Render ``refs`` here and write them through ``writer`` on ``cfg.writers`` threads (encoding and
    compression overlap rendering). Returns seconds per stage."""
    device = cfg.torch_device
    timer = StageTimer(device)
    write_seconds = [0.0]
    frames_total = len(refs) * cfg.scene.frames
    done = [0]

    def write(record: ClipRecord) -> None:
        t0 = time.perf_counter()
        writer.write(record)
        write_seconds[0] += time.perf_counter() - t0

    def finished(future: Future) -> None:
        future.result()
        done[0] += cfg.scene.frames
        if on_progress:
            on_progress(done[0], frames_total)

    in_flight: deque[Future] = deque()
    with ThreadPoolExecutor(cfg.writers) as pool:
        records = render_records(
            assets, refs, cfg.seed, device, cfg.render, cfg.batch_frames, cfg.format == "surreal", timer
        )
        for record in records:
            in_flight.append(pool.submit(write, record))
            while len(in_flight) > cfg.writers:  # bounds the records held in memory
                finished(in_flight.popleft())
        while in_flight:
            finished(in_flight.popleft())
    writer.close()
    stages = dict(timer.seconds)
    stages.update({f"{k} (writer threads)": v for k, v in writer.seconds.items()})
    stages["writing in all (writer threads)"] = write_seconds[0]
    return stages
