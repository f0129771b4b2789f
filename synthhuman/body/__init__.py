"""Bodies: the procedural mannequin (tests, benchmarks, demo) and, later, SMPL-family models."""

from synthhuman.body.mannequin import (
    Mannequin,
    demo_motion,
    make_mannequin,
    mannequin_texture,
    pose_mannequin,
)

__all__ = ["Mannequin", "demo_motion", "make_mannequin", "mannequin_texture", "pose_mannequin"]
