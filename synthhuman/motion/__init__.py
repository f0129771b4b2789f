"""Motion: the ``PoseSequence`` type, MoCap readers, resampling, mirroring and clip sampling (issue 4)."""

from synthhuman.motion.clips import (
    ClipTooShortError,
    all_clip_windows,
    clip_windows,
    place_on_ground,
    root_trajectory,
    split_sequences,
)
from synthhuman.motion.deepmimic import read_bundled_library
from synthhuman.motion.readers import (
    read_amass,
    read_amass_npz,
    read_motion_file,
    read_surreal_smpl_data,
    write_motion_npz,
)
from synthhuman.motion.sequence import PoseSequence, change_speed, mirror, resample, rotate_heading

__all__ = [
    "ClipTooShortError", "PoseSequence", "all_clip_windows", "change_speed", "clip_windows", "mirror",
    "place_on_ground", "read_amass", "read_amass_npz", "read_bundled_library", "read_motion_file",
    "read_surreal_smpl_data", "resample", "root_trajectory", "rotate_heading", "split_sequences",
    "write_motion_npz",
]  # fmt: skip
