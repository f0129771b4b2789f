"""Training data rendered on the fly, on the training device, inside the training loop.

The clips are the ones ``synthhuman generate`` would write with the same seed and scene config (the same
``sample_clip`` and ``build_clip``): a model can train on the fly and be tested on a dataset on disk, or
the other way round. Train: an endless stream of batches cut from chunks (``frames.StreamConfig``), each
chunk's clips posed once and only the drawn frames rendered, in a few large render batches. Test: the
middle frame of clips ``0 .. test_clips - 1`` of the test split (test motions, shapes, textures and
backgrounds), a fixed set whatever the training run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch.utils.data import IterableDataset, get_worker_info

from synthhuman.appearance.degrade import DegradeConfig, degrade_frames, sample_degradation
from synthhuman.config import check_device, require, resolve_device
from synthhuman.conventions import NUM_JOINTS, SPLITS, clip_id
from synthhuman.data.frames import LabeledFrames, StreamConfig, chunk_order, clip_frames, middle_frame
from synthhuman.pipeline import RenderConfig, render_frames
from synthhuman.rng import derived_generator
from synthhuman.scene import (
    AssetConfig,
    ClipGeometry,
    SceneAssets,
    SceneConfig,
    build_clip,
    sample_clip,
    still_rows,
    stills_batch,
)
from synthhuman.timing import StageTimer


@dataclass(frozen=True)
class OnTheFlyConfig:
    """On-the-fly data of one split.

    split: "train" (endless) or "test" (``test_clips`` middle frames). seed: the run seed (``generate``'s
    ``--seed``); the test split of a given seed is always the same set. device: where to render ('auto':
    CUDA when available). stream: batch size and chunking (train; test uses only ``stream.batch``).
    render_batch: most frames rendered in one call (memory). prefetch: render the next train chunk on a
    background thread while the batches of the current one are used (torch releases the GIL in its
    kernels, so sampling and posing on the CPU overlap the training step). scene, assets, render: as
    ``generate`` (``scene.degrade`` too, except ``h264``, which only a written video has).
    """

    split: str = "train"
    seed: int = 0
    device: str = "auto"
    stream: StreamConfig = field(default_factory=StreamConfig)
    test_clips: int = 100
    render_batch: int = 64
    prefetch: bool = True
    scene: SceneConfig = field(default_factory=SceneConfig)
    assets: AssetConfig = field(default_factory=AssetConfig)
    render: RenderConfig = field(default_factory=RenderConfig)

    def __post_init__(self) -> None:
        require(self.split in SPLITS, "split", f"one of {SPLITS}", self.split)
        check_device(self.device)
        require(self.test_clips >= 1, "test_clips", ">= 1", self.test_clips)
        require(self.render_batch >= 1, "render_batch", ">= 1", self.render_batch)
        effects = self.scene.degrade.effects
        require("h264" not in effects, "scene.degrade.effects",
                "no h264 on the fly (only written videos have it; use jpeg)", effects)  # fmt: skip


def render_stills(
    assets: SceneAssets, picks: list[tuple[ClipGeometry, Tensor, Tensor]], cfg: RenderConfig, max_frames: int
) -> LabeledFrames:
    """Render single frames of built clips: ``picks`` holds (clip, (N,) int64 frames, (N,) int64 person of
    interest) triples; frames come out in that order, rendered at most ``max_frames`` at a time. With
    ``scene.degrade`` effects on, RGB is degraded as ``generate`` degrades it (for motion blur each frame
    is rendered with its next frame, for its forward flow); labels are not."""
    device = picks[0][0].verts.device
    topology = assets.topology_on(device)
    degrade = assets.cfg.degrade
    with_next = "blur" in degrade.effects
    groups: list[list[tuple[ClipGeometry, Tensor, Tensor]]] = [[]]
    count = 0
    for pick in picks:
        n = pick[1].shape[0] * (2 if with_next else 1)
        if groups[-1] and count + n > max_frames:
            groups.append([])
            count = 0
        groups[-1].append(pick)
        count += n
    parts = []
    for group in groups:
        pairs = [(clip, frames.to(device)) for clip, frames, _ in group]
        with torch.no_grad():
            out = render_frames(stills_batch(pairs, assets, with_next), topology, cfg)
        keep = still_rows(pairs).to(device) if with_next else torch.arange(out.rgb.shape[0], device=device)
        b = keep.shape[0]
        image = out.rgb[keep].float()
        if degrade.effects:
            image = _degraded(image, group, degrade, out.flow.flow[keep], out.depth[keep])
        person = torch.cat([p for _, _, p in group]).to(device)
        rows = torch.arange(b, device=device)
        joints2d = out.joints.joints2d[keep].reshape(b, -1, NUM_JOINTS, 2)[rows, person]
        joints3d = out.joints.joints3d[keep].reshape(b, -1, NUM_JOINTS, 3)[rows, person]
        parts.append(
            LabeledFrames(
                image=image,
                depth=out.depth[keep].float(),
                segm=out.segm[keep],
                joints2d=joints2d.float(),
                joints3d=joints3d.float(),
                clip_ids=tuple(
                    f"{c.params.split}/{clip_id(c.params.index)}"
                    for c, f, _ in group
                    for _ in range(f.shape[0])
                ),
                frame=torch.cat([f.cpu() for _, f, _ in group]),
            )
        )
    return LabeledFrames.cat(parts)


def _degraded(
    image: Tensor,
    group: list[tuple[ClipGeometry, Tensor, Tensor]],
    degrade: DegradeConfig,
    flow: Tensor,
    depth: Tensor,
) -> Tensor:
    """(B, H, W, 3) float: ``image`` (B, H, W, 3), the rendered rows of ``group``'s frames in order, each
    clip's with its degradations; flow (B, H, W, 2) their forward flow, depth (B, H, W) metres."""
    out, start = [], 0
    for clip, frames, _ in group:
        n = frames.shape[0]
        params = sample_degradation(degrade, clip.params.seed, image.shape[2])
        rows = slice(start, start + n)
        out.append(degrade_frames(image[rows], params, frames.cpu(), flow[rows], depth[rows]))
        start += n
    return torch.cat(out)


class SyntheticHumans(IterableDataset):
    """Batches of :class:`LabeledFrames` rendered on ``cfg.device`` (see the module's docstring).

    start: the first batch to yield (a resumed training run continues its stream). ``seconds`` adds up
    the time spent sampling, posing and rendering (CUDA synchronised; on the prefetching thread too), for
    the share of a training step spent producing data.
    With DataLoader workers, worker w of n takes chunks (train) or batches (test) w, w + n, ...
    """

    def __init__(self, cfg: OnTheFlyConfig, start: int = 0, assets: SceneAssets | None = None) -> None:
        require(start >= 0, "start", ">= 0", start)
        self.cfg, self.start = cfg, start
        self.assets = assets if assets is not None else SceneAssets(cfg.scene, cfg.assets)
        if self.assets.cfg != cfg.scene:
            raise ValueError("assets: loaded for another scene config than cfg.scene")
        self.device = resolve_device(cfg.device)
        self.timer = StageTimer()  # the prefetch thread adds to it too

    @property
    def seconds(self) -> float:
        """Seconds spent producing data so far (sampling, posing, rendering), on any thread."""
        return self.timer.seconds.get("data", 0.0)

    def __len__(self) -> int:
        if self.cfg.split == "train":
            raise TypeError("the train split is an endless stream: it has no length")
        return max(0, -(-self.cfg.test_clips // self.cfg.stream.batch) - self.start)

    def __iter__(self) -> Iterator[LabeledFrames]:
        worker = get_worker_info()
        w, n = (worker.id, worker.num_workers) if worker is not None else (0, 1)
        return self._train(w, n) if self.cfg.split == "train" else self._test(w, n)

    def _timed_render(self, picks: list[tuple[ClipGeometry, Tensor, Tensor]]) -> LabeledFrames:
        frames = render_stills(self.assets, picks, self.cfg.render, self.cfg.render_batch)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return frames

    def _build(self, split: str, index: int) -> ClipGeometry:
        return build_clip(self.assets, sample_clip(self.assets, self.cfg.seed, split, index), self.device)

    def _person(self, split: str, index: int, count: int) -> Tensor:
        """(count,) int64: the person of interest of each frame drawn from clip ``index`` of ``split``."""
        people = self.cfg.scene.people
        if people == 1:
            return torch.zeros(count, dtype=torch.int64)
        gen = derived_generator(self.cfg.seed, "person", split, index)
        return torch.randint(people, (count,), generator=gen)

    def chunk(self, k: int) -> LabeledFrames:
        """Every frame of train chunk ``k``, shuffled (``batches_per_chunk`` batches, in order)."""
        s, T = self.cfg.stream, self.cfg.scene.frames
        started = time.perf_counter()
        picks = []
        for j in range(k * s.clips_per_chunk, (k + 1) * s.clips_per_chunk):
            frames = clip_frames(self.cfg.seed, j, T, s.frames_per_clip)
            picks.append((self._build("train", j), frames, self._person("train", j, frames.shape[0])))
        frames = self._timed_render(picks)
        frames = frames.take(chunk_order(self.cfg.seed, k, len(frames)))
        self.timer.add("data", time.perf_counter() - started)
        return frames

    def _train(self, worker: int, workers: int) -> Iterator[LabeledFrames]:
        s = self.cfg.stream
        k, skip = divmod(self.start, s.batches_per_chunk)
        k += (worker - k) % workers  # this worker's first chunk at or after the start
        pool = ThreadPoolExecutor(1, thread_name_prefix="synthhuman-chunks") if self.cfg.prefetch else None
        pending = pool.submit(self.chunk, k) if pool else None
        try:
            while True:
                frames = pending.result() if pending else self.chunk(k)
                if pool:
                    pending = pool.submit(self.chunk, k + workers)
                first = skip if k * s.batches_per_chunk < self.start else 0
                for b in range(first, s.batches_per_chunk):
                    yield frames.take(torch.arange(b * s.batch, (b + 1) * s.batch))
                k += workers
        finally:
            if pool:
                pool.shutdown(wait=False, cancel_futures=True)

    def _test(self, worker: int, workers: int) -> Iterator[LabeledFrames]:
        B, T = self.cfg.stream.batch, self.cfg.scene.frames
        middle = torch.tensor([middle_frame(T)])
        for b in range(self.start + worker, self.start + len(self), workers):
            started = time.perf_counter()
            picks = [
                (self._build("test", i), middle, self._person("test", i, 1))
                for i in range(b * B, min((b + 1) * B, self.cfg.test_clips))
            ]
            frames = self._timed_render(picks)
            self.timer.add("data", time.perf_counter() - started)
            yield frames
