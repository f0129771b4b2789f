"""synthhuman: synthetic humans without Blender.

SMPL-family bodies, a differentiable batched PyTorch rasterizer and exact ground truth
(depth, normals, part segmentation, instance ids, optical flow, joints).

Importing synthhuman before torch sets ``GOMP_SPINCOUNT=30000`` unless the environment sets it: torch's CPU
threads (GNU OpenMP) otherwise spin about ten times longer between parallel ops, and where the cores are
shared (our writer threads, data-loader workers, other processes) every op then waits for a spinning thread
to be scheduled. Measured on this project's 2-core machine (docs/benchmarks.md): `synthhuman bench` as fast
or faster on a quiet machine, and many small ops about 5x faster beside two busy processes. It takes effect
only if torch is not loaded yet; ``OMP_WAIT_POLICY``, when set, overrides it.
"""

import os

os.environ.setdefault("GOMP_SPINCOUNT", "30000")

__version__ = "0.1.0"
