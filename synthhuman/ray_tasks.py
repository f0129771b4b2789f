"""Scale-out on Ray (the optional extra ``distributed``): the clips of a run as Ray tasks, writing to a
path every worker shares.

Each task renders a few clips with the same :class:`~synthhuman.rendering.ClipJob` and writer as a local run
(so the same bytes: a clip depends only on (seed, split, index) and the job); the driver only waits,
reports progress and totals the tasks' stage times. Ray itself is imported only when a run asks for it.
"""

from __future__ import annotations

from collections.abc import Callable

from synthhuman._memory import tune_memory
from synthhuman.config import resolve_device
from synthhuman.io.record import ClipRef
from synthhuman.rendering import ClipJob, render_and_write
from synthhuman.scene import SceneAssets
from synthhuman.timing import StageTimer

CLIPS_PER_TASK = 2


def _render_clips(job: ClipJob, refs: list[ClipRef]) -> dict[str, float]:
    tune_memory()
    return render_and_write(job, SceneAssets(job.scene, job.assets), job.make_writer(), refs)


def connect_ray(address: str) -> None:
    """Start (``'local'``) or join (``'auto'``, an address) Ray, once per process; ValueError saying what
    to do when Ray is missing or no cluster answers."""
    try:
        import ray
    except ImportError:
        raise ValueError("ray: --ray needs Ray installed: pip install 'synthhuman[distributed]'") from None
    if ray.is_initialized():
        return
    try:
        if address == "local":
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"ray: no Ray cluster answered at --ray {address!r} ({first}); start one with `ray start --head` "
            "or use --ray local"
        ) from None


def run_on_ray(
    job: ClipJob, address: str, refs: list[ClipRef], on_progress: Callable[[int, int], None] | None = None
) -> dict[str, float]:
    """Render and write ``refs`` on Ray: ``address`` is 'local' (start a Ray instance here), 'auto' (join
    the running cluster) or a cluster address. Returns the summed seconds per stage over all tasks."""
    import ray

    connect_ray(address)
    gpus = 1 if resolve_device(job.device).type == "cuda" else 0
    task = ray.remote(num_cpus=1, num_gpus=gpus)(_render_clips)
    chunks = [refs[i : i + CLIPS_PER_TASK] for i in range(0, len(refs), CLIPS_PER_TASK)]
    pending = {task.remote(job, chunk): len(chunk) for chunk in chunks}
    timer = StageTimer()
    frames = job.scene.frames
    done, total = 0, len(refs) * frames
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            timer.merge(ray.get(ref))
            done += pending.pop(ref) * frames
            if on_progress:
                on_progress(done, total)
    return timer.seconds
