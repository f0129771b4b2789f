"""Export the default body (``assets/body/default_body_<gender>.npz``) as SMPL pickles for plain ``smplx``.

``export_smpl_pickles(assets_dir, out_dir)`` writes ``out_dir/smpl/SMPL_NEUTRAL.pkl``, ``SMPL_MALE.pkl`` and
``SMPL_FEMALE.pkl``; then ``smplx.create(out_dir, model_type="smpl", gender="neutral")`` loads our body in
any smplx code (CLI: ``synthhuman assets export-body --out DIR``).

What ``smplx.SMPL`` reads from the pickle (``pickle.load(f, encoding="latin1")`` into a ``Struct``):
``v_template`` (V, 3), ``f`` (F, 3) integer, ``J_regressor`` (24, V) dense or ``scipy.sparse``,
``weights`` (V, 24), ``shapedirs`` (V, 3, K), ``posedirs`` (V, 3, 207), ``kintree_table`` (2, 24) whose
row 0 holds the parents (its first entry is ignored). All are converted with ``np.array(x, float32)``.
With K < 300 smplx prints a warning and uses at most 10 betas. We write float32 numpy arrays (the official
files hold chumpy objects and scipy matrices; plain arrays load everywhere), ``J_regressor`` as a
``scipy.sparse.csc_matrix`` like the official files, zero ``posedirs``, and extra keys that smplx ignores:
``vt``/``ft`` (UVs), ``J`` (template joints), ``bs_style``/``bs_type`` (as SMPL's files).
"""

from __future__ import annotations

import os
import pathlib
import pickle

import numpy as np

from synthhuman.atomic import atomic_write
from synthhuman.conventions import GENDERS, NUM_JOINTS

DEFAULT_BODY_DIR = pathlib.Path(__file__).resolve().parents[2] / "assets" / "body"
"""The committed default body (a source checkout or editable install; packaging it is still to do)."""
REQUIRED_KEYS = ("v_template", "faces", "weights", "J_regressor", "shapedirs", "kintree_table", "vt", "ft")


def load_default_body_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read one ``default_body_<gender>.npz`` with checks that name the file and field on bad input."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"default body file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as exc:  # zip or format errors
        raise ValueError(f"{path}: not a readable .npz file ({exc})") from exc
    missing = [k for k in REQUIRED_KEYS if k not in arrays]
    if missing:
        raise KeyError(f"{path}: missing field(s) {missing}")
    num_v = arrays["v_template"].shape[0]
    expect = {
        "v_template": (num_v, 3),
        "weights": (num_v, NUM_JOINTS),
        "J_regressor": (NUM_JOINTS, num_v),
        "kintree_table": (2, NUM_JOINTS),
    }
    for key, shape in expect.items():
        if arrays[key].shape != shape:
            raise ValueError(f"{path}: field {key!r} has shape {arrays[key].shape}, expected {shape}")
    sd = arrays["shapedirs"]
    if sd.ndim != 3 or sd.shape[:2] != (num_v, 3):
        raise ValueError(f"{path}: field 'shapedirs' has shape {sd.shape}, expected ({num_v}, 3, K)")
    faces, ft = arrays["faces"], arrays["ft"]
    if faces.ndim != 2 or faces.shape[1] != 3 or ft.shape != faces.shape:
        raise ValueError(f"{path}: fields 'faces' {faces.shape} and 'ft' {ft.shape} must both be (F, 3)")
    return arrays


def smpl_dict(arrays: dict[str, np.ndarray]) -> dict:
    """The SMPL pickle contents for one variant's arrays (``load_default_body_npz``)."""
    import scipy.sparse

    f32 = np.float32
    num_v = arrays["v_template"].shape[0]
    reg = arrays["J_regressor"].astype(f32)
    return {
        "v_template": arrays["v_template"].astype(f32),
        "f": arrays["faces"].astype(np.uint32),
        "weights": arrays["weights"].astype(f32),
        "J_regressor": scipy.sparse.csc_matrix(reg),
        "shapedirs": arrays["shapedirs"].astype(f32),
        "posedirs": np.zeros((num_v, 3, 9 * (NUM_JOINTS - 1)), f32),
        "kintree_table": arrays["kintree_table"].astype(np.int64),
        "J": (reg @ arrays["v_template"].astype(f32)).astype(f32),
        "vt": arrays["vt"].astype(f32),
        "ft": arrays["ft"].astype(np.uint32),
        "bs_style": "lbs",
        "bs_type": "lrotmin",
    }


def export_smpl_pickles(
    assets_dir: str | os.PathLike, out_dir: str | os.PathLike, genders=GENDERS
) -> list[pathlib.Path]:
    """Write ``out_dir/smpl/SMPL_<GENDER>.pkl`` from ``assets_dir/default_body_<gender>.npz``.

    Each file is written under a temporary name and renamed, so a reader never sees a partial file.
    Returns the paths written.
    """
    assets_dir, out = pathlib.Path(assets_dir), pathlib.Path(out_dir) / "smpl"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for gender in genders:
        if gender not in GENDERS:
            raise ValueError(f"unknown gender {gender!r}; expected one of {GENDERS}")
        data = smpl_dict(load_default_body_npz(assets_dir / f"default_body_{gender}.npz"))
        path = out / f"SMPL_{gender.upper()}.pkl"
        with atomic_write(path) as fh:
            pickle.dump(data, fh, protocol=2)  # protocol 2: readable by Python 2 SMPL code too
        written.append(path)
    return written
