"""Scale-out: the clips of a run as Ray tasks (the optional extra ``distributed``), writing to a shared path.

Each task renders a few clips with the same config and writers as a local run (so the same bytes: a clip
depends only on (seed, split, index)); the driver only waits and reports progress.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

CLIPS_PER_TASK = 2


def _render_clips(cfg, refs) -> dict[str, float]:
    from synthhuman._memory import retain_freed_memory
    from synthhuman.generate import make_writer, render_and_write
    from synthhuman.scene import SceneAssets

    retain_freed_memory()
    local = replace(cfg, ray=None)
    writer = make_writer(local)
    return render_and_write(local, SceneAssets(local.scene, local.assets), writer, refs)


def run_on_ray(cfg, refs: list, on_progress: Callable[[int, int], None] | None = None) -> dict[str, float]:
    """Render and write ``refs`` on Ray: ``cfg.ray`` is 'local' (start a Ray instance here), 'auto' (join
    the running cluster) or a cluster address. Returns the summed seconds per stage over all tasks."""
    try:
        import ray
    except ImportError:
        raise ValueError("--ray needs Ray installed: pip install 'synthhuman[distributed]'") from None
    if not ray.is_initialized():
        if cfg.ray == "local":
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=cfg.ray, log_to_driver=False, configure_logging=False)
    gpus = 1 if cfg.torch_device.type == "cuda" else 0
    task = ray.remote(num_cpus=1, num_gpus=gpus)(_render_clips)
    chunks = [refs[i : i + CLIPS_PER_TASK] for i in range(0, len(refs), CLIPS_PER_TASK)]
    pending = {task.remote(cfg, chunk): len(chunk) for chunk in chunks}
    stages: dict[str, float] = {}
    done, total = 0, len(refs) * cfg.scene.frames
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            for name, sec in ray.get(ref).items():
                stages[name] = stages.get(name, 0.0) + sec
            done += pending.pop(ref) * cfg.scene.frames
            if on_progress:
                on_progress(done, total)
    return stages
