"""Clips rendered and written: the work that ``generate`` does on this machine and each Ray task does on
its worker, below both (they share it; neither imports the other).

``render_records`` renders clips in batches of at most ``batch_frames`` frames (several clips per batch
when they fit; each batch renders one extra neighbour frame per segment so flow is exact across batch
borders) and yields each clip's :class:`~synthhuman.io.record.ClipRecord` as soon as its last frame is
rendered. ``render_and_write`` hands the records to a dataset writer on ``writers`` threads, so encoding and
compression overlap rendering.
"""

from __future__ import annotations

import contextlib
import itertools
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields

import numpy as np
import torch
from torch import Tensor

from synthhuman.appearance.degrade import DegradeConfig, degrade_frames, sample_degradation
from synthhuman.config import resolve_device
from synthhuman.conventions import NUM_JOINTS, clip_id
from synthhuman.io.formats import make_writer
from synthhuman.io.record import ClipInfo, ClipRecord, ClipRef
from synthhuman.io.video import DEFAULT_CRF
from synthhuman.io.writer import DatasetWriter
from synthhuman.pipeline import RenderConfig, RenderOutput, render_frames
from synthhuman.render.kernels import BufferPool, buffers_from, kernel_threads
from synthhuman.render.kernels.runtime import Pool
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
from synthhuman.timing import StageTimer


@dataclass(frozen=True)
class ClipJob:
    """What rendering and writing a list of clips needs, and nothing about which clips or where the run
    stands (``generate`` makes one from its config; a Ray task receives it). out: the dataset folder;
    format: canonical | surreal | webdataset; seed: the run seed; device: 'auto' | 'cpu' | 'cuda[:N]';
    batch_frames: frames per render batch; writers: writer threads; png, crf, compress_level: the
    canonical writer's settings."""

    out: str
    format: str = "canonical"
    seed: int = 0
    device: str = "cpu"
    batch_frames: int = 100
    writers: int = 2
    png: bool = False
    crf: int = DEFAULT_CRF
    compress_level: int = 1
    scene: SceneConfig = field(default_factory=SceneConfig)
    assets: AssetConfig = field(default_factory=AssetConfig)
    render: RenderConfig = field(default_factory=RenderConfig)

    def make_writer(self) -> DatasetWriter:
        return make_writer(
            self.format, self.out, png=self.png, crf=self.crf, compress_level=self.compress_level
        )

    @property
    def backward_flow(self) -> bool:
        """SURREAL's files store the backward flow, so that format renders it too."""
        return self.format == "surreal"


PREPARE_AHEAD = 2
"""Clips ``render_and_write`` samples and poses ahead of the renderer, on a thread of their own."""
_QUANTIZE_FRAMES = 8
"""Frames quantized at once by :func:`rgb_to_bytes` (the float32 temporary of 8 320x240 frames stays in
cache)."""


def rgb_to_bytes(rgb: Tensor, out: np.ndarray) -> None:
    """Write ``rgb`` (N, H, W, 3) float in [0, 1] into ``out`` (N, H, W, 3) uint8 as ``rgb * 255 + 0.5``
    in rgb's precision, truncated (round half up): the bytes of ``(rgb * 255 + 0.5).to(torch.uint8)``,
    about ten times faster than torch's float-to-uint8 cast, a few frames at a time."""
    a = rgb.detach().cpu().numpy()
    scalar = a.dtype.type  # in rgb's own precision, as torch computes it
    for start in range(0, a.shape[0], _QUANTIZE_FRAMES):
        part = slice(start, start + _QUANTIZE_FRAMES)
        tmp = np.multiply(a[part], scalar(255))
        tmp += scalar(0.5)
        np.copyto(out[part], tmp, casting="unsafe")


class ArrayPool(Pool):
    """The numpy arrays of clip records (some 180 MB per clip at 320x240), reused once a record is written
    (records are written on writer threads, in any order)."""

    def empty(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        key = (tuple(shape), np.dtype(dtype))
        return self.take(key, lambda: np.empty(*key))

    def give_back(self, record: ClipRecord) -> None:
        """The arrays of ``record`` this pool made are free again (nothing may use them any more)."""
        for f in fields(record):
            a = getattr(record, f.name)
            if isinstance(a, np.ndarray):
                self.release(a)


class _ClipBuffer:
    """Kept frames of one clip as they come out of render batches (numpy, on CPU)."""

    def __init__(
        self, clip: ClipGeometry, fps: float, backward: bool, degrade: DegradeConfig, arrays: ArrayPool | None
    ) -> None:
        self.clip, self.fps, self.filled = clip, fps, 0
        T = clip.verts.shape[0]
        h, w = clip.cameras.image_size
        self.degrade = sample_degradation(degrade, clip.params.seed, w) if degrade.effects else None
        P = len(clip.params.people)
        empty = arrays.empty if arrays is not None else np.empty
        self.arrays = {
            "rgb": empty((T, h, w, 3), np.uint8),
            "depth": empty((T, h, w), np.float32),
            "normals": empty((T, h, w, 3), np.float16),
            "segm": empty((T, h, w), np.uint8),
            "instance": empty((T, h, w), np.uint8),
            "flow": empty((T, h, w, 2), np.float32),
            "flow_valid": empty((T, h, w), np.bool_),
            "joints2d": empty((T, P, NUM_JOINTS, 2), np.float32),
            "joints3d": empty((T, P, NUM_JOINTS, 3), np.float32),
            "joints_visible": empty((T, P, NUM_JOINTS), np.bool_),
        }
        if backward:
            self.arrays["flow_backward"] = empty((T, h, w, 2), np.float32)

    def put(self, seg: Segment, out: RenderOutput, offset: int) -> None:
        """Copy the kept frames of ``seg``, rendered at batch rows ``offset ...``."""
        rows = slice(offset + seg.keep_start - seg.start, offset + seg.keep_stop - seg.start)
        dst = slice(seg.keep_start, seg.keep_stop)
        n = seg.keep_stop - seg.keep_start
        P = len(self.clip.params.people)
        rgb = out.rgb[rows]
        if self.degrade is not None:  # after rendering, before writing; labels untouched
            index = torch.arange(seg.keep_start, seg.keep_stop)
            rgb = degrade_frames(rgb.float(), self.degrade, index, out.flow.flow[rows], out.depth[rows])
        rgb_to_bytes(rgb, self.arrays["rgb"][dst])
        layers = {
            "depth": out.depth[rows],
            "normals": out.normals[rows],
            "segm": out.segm[rows],
            "instance": out.instance[rows],
            "flow": out.flow.flow[rows],
            "flow_valid": out.flow.valid[rows],
            "joints2d": out.joints.joints2d[rows].reshape(n, P, NUM_JOINTS, 2),
            "joints3d": out.joints.joints3d[rows].reshape(n, P, NUM_JOINTS, 3),
            "joints_visible": out.joints.visible[rows].reshape(n, P, NUM_JOINTS),
        }
        for name, value in layers.items():
            # one pass per layer: copied (and cast to the array's dtype) straight into the clip's array
            torch.from_numpy(self.arrays[name][dst]).copy_(value)
        if "flow_backward" in self.arrays:  # the point's motion t-1 -> t: negated on the way in
            back = torch.from_numpy(self.arrays["flow_backward"][dst])
            torch.neg(out.flow_backward.flow[rows].to(back.dtype), out=back)
        self.filled += n

    @property
    def complete(self) -> bool:
        return self.filled == self.clip.verts.shape[0]

    def record(self) -> ClipRecord:
        c = self.clip
        p = c.params
        cam = c.cameras
        info = ClipInfo(
            clip_id=clip_id(p.index), split=p.split, index=p.index, seed=p.seed, fps=self.fps,
            motions=tuple(x.motion for x in p.people), motion_starts=tuple(x.motion_start for x in p.people),
            textures=tuple(x.texture_name for x in p.people), genders=tuple(x.gender for x in p.people),
            headings=tuple(x.heading for x in p.people), background=p.background_name,
            camera_distance=c.distance,
            extra={
                "mirrored": [x.mirrored for x in p.people], "speed": [x.speed for x in p.people],
                "shape_rows": [x.shape_row for x in p.people], "sampled_distance": p.distance,
                **({"camera": c.camera_info} if c.camera_info else {}),
                **({"occluders": list(c.occluders.info)} if c.occluders is not None else {}),
                **({"ground": c.ground.info} if c.ground is not None else {}),
            },
        )  # fmt: skip
        if self.degrade is not None:  # only with degradations on: other clips' info stays as it was
            info.extra["degrade"] = self.degrade.record()
        a = self.arrays
        return ClipRecord(
            info=info,
            joints3d_world=c.joints.float().cpu().numpy(),
            pose=c.pose.float().cpu().numpy(),
            betas=torch.stack([x.betas for x in p.people]).float().numpy(),
            trans=c.trans.float().cpu().numpy(),
            gender=np.array([x.gender for x in p.people]),
            K=cam.K.float().contiguous().cpu().numpy(),
            R=cam.R.float().contiguous().cpu().numpy(),
            t=cam.t.float().contiguous().cpu().numpy(),
            light=torch.stack([x.light for x in p.people]).float().numpy(),
            **a,
        )


def _built_clips(
    assets: SceneAssets,
    refs: list[ClipRef],
    seed: int,
    device: torch.device,
    timer: StageTimer,
    ahead: int,
) -> Iterator[ClipGeometry]:
    """``refs``' clips sampled and posed, in order; with ``ahead`` > 0 on a thread of their own, up to
    ``ahead`` clips before the caller asks (each clip depends only on its own identity, so the clips are
    the same either way)."""

    def build(ref: ClipRef) -> ClipGeometry:
        with timer("sample"):
            params = sample_clip(assets, seed, ref.split, ref.index)
        with timer("pose"):
            return build_clip(assets, params, device)

    if ahead <= 0:
        yield from map(build, refs)
        return
    todo = iter(refs)
    with ThreadPoolExecutor(1, thread_name_prefix="synthhuman-prepare") as pool:
        queued: deque[Future] = deque(pool.submit(build, r) for r in itertools.islice(todo, ahead))
        try:
            while queued:
                clip = queued.popleft().result()
                nxt = next(todo, None)
                if nxt is not None:
                    queued.append(pool.submit(build, nxt))
                yield clip
        finally:
            for f in queued:  # closed early (an error downstream): drop the clips not started
                f.cancel()


def render_records(
    assets: SceneAssets,
    refs: list[ClipRef],
    seed: int,
    device: torch.device,
    render_cfg: RenderConfig = RenderConfig(),
    batch_frames: int = 100,
    backward_flow: bool = False,
    timer: StageTimer | None = None,
    prepare_ahead: int = 0,
    arrays: ArrayPool | None = None,
) -> Iterator[ClipRecord]:
    """Render ``refs`` in order, yielding each clip's record as soon as its last frame is rendered.
    ``prepare_ahead``: clips sampled and posed ahead on a thread of their own, overlapping the rendering
    (0: on the caller's thread, in turn). ``arrays``: where the records' arrays come from (the caller gives
    each record back to it when done with it); None: new arrays."""
    timer = timer or StageTimer(device)
    pending: list[Segment] = []
    buffers: dict[int, _ClipBuffer] = {}
    pool = BufferPool()  # the kernels' layers, reused batch after batch (each is read back before the next)

    def flush() -> Iterator[ClipRecord]:
        with timer("build"):
            batch = frame_batch(pending, assets, backward_flow)
        with torch.no_grad(), buffers_from(pool):
            out = render_frames(batch, assets.topology_on(device), render_cfg, timer=timer)
        with timer("readback"):
            offset = 0
            for seg in pending:
                buf = buffers[id(seg.clip)]
                buf.put(seg, out, offset)
                offset += seg.stop - seg.start
        del out
        pool.reuse()
        pending.clear()
        for key in [k for k, b in buffers.items() if b.complete]:
            yield buffers.pop(key).record()

    queued = 0
    for clip in _built_clips(assets, refs, seed, device, timer, prepare_ahead):
        buffers[id(clip)] = _ClipBuffer(clip, assets.cfg.fps, backward_flow, assets.cfg.degrade, arrays)
        for seg in segments(clip, batch_frames, backward_flow):
            n = seg.stop - seg.start
            if queued + n > batch_frames and pending:
                yield from flush()
                queued = 0
            pending.append(seg)
            queued += n
    if pending:
        yield from flush()


@contextlib.contextmanager
def cpu_split(device: torch.device) -> Iterator[None]:
    """How a run shares the CPU's cores (on CPU; elsewhere nothing changes): torch's own ops on one thread
    each, the render kernels on as many threads as torch had. Sampling and posing (a thread of their
    own), rendering (the caller's thread and the kernels' workers) and the writers (their threads, and
    ffmpeg's process) then overlap without torch's parallel regions waiting on a core another stage holds
    (with two cores, a parallel region of two threads stalls whenever a writer runs)."""
    if device.type != "cpu":
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with kernel_threads(threads):
            yield
    finally:
        torch.set_num_threads(threads)


def render_and_write(
    job: ClipJob,
    assets: SceneAssets,
    writer: DatasetWriter,
    refs: list[ClipRef],
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, float]:
    """Render ``refs`` here and write them through ``writer`` on ``job.writers`` threads (encoding and
    compression overlap rendering); ``on_progress(frames_done, frames_total)`` after each clip is written.
    Returns seconds per stage: the render stages, each writing step of the writer threads, and the
    writer threads' time in all."""
    device = resolve_device(job.device)
    timer = StageTimer(device)
    frames = job.scene.frames
    frames_total = len(refs) * frames
    done = [0]

    arrays = ArrayPool()

    def write(record: ClipRecord) -> None:
        with writer.timer("writing in all"):
            writer.write(record)
        arrays.give_back(record)  # written: its arrays hold the next clips

    def finished(future: Future) -> None:
        future.result()
        done[0] += frames
        if on_progress:
            on_progress(done[0], frames_total)

    in_flight: deque[Future] = deque()
    with cpu_split(device), ThreadPoolExecutor(job.writers) as pool:
        records = render_records(
            assets, refs, job.seed, device, job.render, job.batch_frames, job.backward_flow, timer,
            prepare_ahead=PREPARE_AHEAD, arrays=arrays,
        )  # fmt: skip
        for record in records:
            in_flight.append(pool.submit(write, record))
            while len(in_flight) > job.writers:  # bounds the records held in memory
                finished(in_flight.popleft())
        while in_flight:
            finished(in_flight.popleft())
    writer.close()
    timer.merge({f"{k} (writer threads)": v for k, v in writer.timer.seconds.items()})
    return timer.seconds
