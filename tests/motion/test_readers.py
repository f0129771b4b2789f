"""Our own motion format (what `synthhuman motion import` writes) reads back."""

import numpy as np


def test_our_format_round_trips(tmp_path):
    from synthhuman.motion.deepmimic import read_bundled_library
    from synthhuman.motion.readers import read_motion_file, write_motion_npz

    seq = read_bundled_library()[0]
    back = read_motion_file(write_motion_npz(seq, tmp_path / "clip.npz"))
    assert back.fps == seq.fps and back.num_frames == seq.num_frames and back.name == "clip"
    assert np.allclose(back.poses, seq.poses, atol=1e-6) and np.allclose(back.trans, seq.trans, atol=1e-6)
