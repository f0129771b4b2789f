"""Bodies: SMPL-family models (``BodyModel``, chumpy-free readers), the free default body's converter and
export, and the procedural mannequin used by tests, benchmarks and the demo."""

from synthhuman.body.mannequin import (
    Mannequin,
    demo_motion,
    make_mannequin,
    mannequin_texture,
    pose_mannequin,
)
from synthhuman.body.model import BodyModel, BodyOutput
from synthhuman.body.smpl_files import SmplData, read_smpl_file, read_uv_template_obj

__all__ = [
    "BodyModel",
    "BodyOutput",
    "Mannequin",
    "SmplData",
    "demo_motion",
    "make_mannequin",
    "mannequin_texture",
    "pose_mannequin",
    "read_smpl_file",
    "read_uv_template_obj",
]
