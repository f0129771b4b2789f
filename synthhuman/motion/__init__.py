"""Motion: the ``PoseSequence`` type, MoCap readers (AMASS, SURREAL, BVH, ours), resampling, mirroring,
looping and clip sampling."""

from synthhuman.motion.bvh import read_bvh
from synthhuman.motion.clips import (
    ClipTooShortError,
    all_clip_windows,
    clip_windows,
    place_on_ground,
    root_trajectory,
    split_sequences,
)
from synthhuman.motion.deepmimic import read_bundled_library
from synthhuman.motion.library import read_motion_folder
from synthhuman.motion.readers import (
    read_amass,
    read_amass_npz,
    read_motion_file,
    read_motion_npz,
    read_surreal_smpl_data,
    write_motion_npz,
)
from synthhuman.motion.sequence import (
    PoseSequence,
    change_speed,
    is_cyclic,
    loop,
    mirror,
    resample,
    rotate_heading,
)

__all__ = [
    "ClipTooShortError", "PoseSequence", "all_clip_windows", "change_speed", "clip_windows", "is_cyclic",
    "loop", "mirror", "place_on_ground", "read_amass", "read_amass_npz", "read_bundled_library", "read_bvh",
    "read_motion_file", "read_motion_folder", "read_motion_npz", "read_surreal_smpl_data", "resample",
    "root_trajectory", "rotate_heading", "split_sequences", "write_motion_npz",
]  # fmt: skip
