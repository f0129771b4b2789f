"""Render throughput: frames/s, per-stage times and peak memory for the built-in test scene."""

from __future__ import annotations

import platform
import resource
import time
from dataclasses import asdict, dataclass, field, replace

import torch

from synthhuman.config import require
from synthhuman.demo_scene import demo_clip
from synthhuman.pipeline import RenderConfig, render_frames
from synthhuman.timing import StageTimer


@dataclass(frozen=True)
class BenchConfig:
    """``synthhuman bench``: render ``iterations`` timed batches of ``batch`` frames of the test clip."""

    device: str = "cpu"
    batch: int = 32
    height: int = 240
    width: int = 320
    iterations: int = 10
    warmup: int = 2
    threads: int | None = None
    render: RenderConfig = field(default_factory=RenderConfig)

    def __post_init__(self) -> None:
        require(self.device.split(":")[0] in ("cpu", "cuda"), "device", "cpu, cuda or cuda:N", self.device)
        for name in ("batch", "height", "width", "iterations"):
            require(getattr(self, name) >= 1, name, ">= 1", getattr(self, name))
        require(self.warmup >= 0, "warmup", ">= 0", self.warmup)
        require(self.threads is None or self.threads >= 1, "threads", ">= 1 or None", self.threads)


@dataclass(frozen=True)
class BenchResult:
    fps: float
    seconds_per_batch: float
    stage_seconds_per_batch: dict[str, float]
    peak_memory_mb: float
    triangles: int
    covered_pixels_per_frame: float
    config: dict
    device_name: str
    torch_version: str
    threads: int


def run_bench(cfg: BenchConfig) -> BenchResult:
    """Render ``iterations`` batches of ``cfg.batch`` consecutive frames with RGB and every GT layer."""
    device = torch.device(cfg.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device is available")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    cfg = replace(cfg, render=cfg.render.resolved(device))  # "auto": the backend that runs, reported
    batch, topo = demo_clip(cfg.batch, (cfg.height, cfg.width), device=device)
    with torch.no_grad():
        for _ in range(cfg.warmup):
            out = render_frames(batch, topo, cfg.render)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.reset_peak_memory_stats(device)
        timer = StageTimer(device)
        start = time.perf_counter()
        for _ in range(cfg.iterations):
            out = render_frames(batch, topo, cfg.render, timer=timer)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        elapsed = time.perf_counter() - start
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) / 2**20
        name = torch.cuda.get_device_name(device)
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        name = platform.processor() or platform.machine()
    per_batch = elapsed / cfg.iterations
    return BenchResult(
        fps=cfg.batch * cfg.iterations / elapsed,
        seconds_per_batch=per_batch,
        stage_seconds_per_batch={k: v / cfg.iterations for k, v in timer.seconds.items()},
        peak_memory_mb=peak,
        triangles=int(topo.faces.shape[0]),
        covered_pixels_per_frame=out.fragments.pixel_index.numel() / cfg.batch,
        config=asdict(cfg),
        device_name=name,
        torch_version=torch.__version__,
        threads=torch.get_num_threads(),
    )
