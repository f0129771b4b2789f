"""synthhuman: synthetic humans without Blender.

SMPL-family bodies, a differentiable batched PyTorch rasterizer and exact ground truth
(depth, normals, part segmentation, instance ids, optical flow, joints).

Importing synthhuman before torch sets ``OMP_WAIT_POLICY=PASSIVE`` unless the environment sets it: torch's
CPU threads (OpenMP) otherwise spin between parallel ops, and where the cores are shared (our writer
threads, data-loader workers, other processes) every op waits for a spinning thread to be scheduled; on a
loaded 2-core machine ``synthhuman generate`` ran 3.6x faster with it (docs/benchmarks.md). It takes effect
only if torch is not loaded yet.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
