"""synthhuman: synthetic humans without Blender.

SMPL-family bodies, a differentiable batched PyTorch rasterizer and exact ground truth
(depth, normals, part segmentation, instance ids, optical flow, joints).
"""

__version__ = "0.1.0"
