"""Tiny SMPL-format models for tests (made here, not licensed): one box per joint around a coarse skeleton.

``make_tiny_model(model_type)`` gives the arrays of an SMPL (24 joints), SMPL-H (52) or SMPL-X (55) file in
the official field names; ``write_npz`` writes them as an ``.npz``; ``write_pkl`` as a ``.pkl`` like the
official ones: the float arrays wrapped in chumpy ``Ch`` objects (a fake ``chumpy.ch.Ch`` class is put in
``sys.modules`` only while pickling, so the file names chumpy exactly as real files do) and ``J_regressor``
a ``scipy.sparse.csc_matrix``.

Box j starts at joint j (its start face is centred on the joint, so the regressor averages those 4 corners
exactly) and ends at the joint's first child or a leaf offset. Start corners are skinned 0.6 to the joint and
0.4 to its parent, end corners 1.0 to the joint: every vertex is dominated by its own box's joint. Pose
correctives of joint j move only box j's vertices.
"""

from __future__ import annotations

import contextlib
import pickle
import sys
import types
from pathlib import Path

import numpy as np
import scipy.sparse
import torch

from synthhuman.conventions import SMPL_PARENTS

NUM_BETAS = 10

_BODY = (
    (0.0, 0.93, 0.0), (0.085, 0.86, 0.0), (-0.085, 0.86, 0.0), (0.0, 1.05, 0.0), (0.095, 0.48, 0.01),
    (-0.095, 0.48, 0.01), (0.0, 1.18, 0.0), (0.10, 0.08, -0.02), (-0.10, 0.08, -0.02), (0.0, 1.24, 0.0),
    (0.11, 0.03, 0.11), (-0.11, 0.03, 0.11), (0.0, 1.45, -0.01), (0.075, 1.37, -0.01), (-0.075, 1.37, -0.01),
    (0.0, 1.53, 0.01), (0.185, 1.40, -0.01), (-0.185, 1.40, -0.01), (0.44, 1.39, -0.02), (-0.44, 1.39, -0.02),
    (0.69, 1.39, -0.02), (-0.69, 1.39, -0.02),
)  # fmt: skip
"""Rest positions of the 22 body joints shared by SMPL, SMPL-H and SMPL-X (metres, SMPL's frame)."""

_FINGERS = {"index": 0.024, "middle": 0.008, "pinky": -0.024, "ring": -0.008}  # MANO order, z of the knuckle


def _skeleton(model_type: str) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]]:
    """Rest joints (J, 3), parents (J,) and the end point of each leaf box."""
    joints, parents = [np.asarray(p) for p in _BODY], list(SMPL_PARENTS[:22])
    ends: dict[int, np.ndarray] = {10: np.array([0.11, 0.025, 0.20]), 11: np.array([-0.11, 0.025, 0.20]),
                                   15: np.array([0.0, 1.74, 0.01])}  # fmt: skip
    if model_type == "smpl":
        for side, wrist in ((1.0, 20), (-1.0, 21)):
            joints.append(joints[wrist] + [side * 0.08, 0.0, 0.008])
            parents.append(wrist)
            ends[len(joints) - 1] = joints[-1] + [side * 0.09, 0.0, 0.0]
        return np.stack(joints), np.asarray(parents), ends
    if model_type == "smplx":  # jaw, left eye, right eye
        for offset in ((0.0, 0.03, 0.03), (0.03, 0.09, 0.07), (-0.03, 0.09, 0.07)):
            joints.append(joints[15] + offset)
            parents.append(15)
            ends[len(joints) - 1] = joints[-1] + [0.0, 0.0, 0.02]
    for side, wrist in ((1.0, 20), (-1.0, 21)):
        for name, z in [*_FINGERS.items(), ("thumb", 0.03)]:
            step = np.array([side * 0.03, 0.0, 0.0]) if name != "thumb" else np.array([side * 0.02, 0, 0.02])
            base = joints[wrist] + ([side * 0.08, 0.0, z] if name != "thumb" else [side * 0.025, -0.01, z])
            for k in range(3):
                joints.append(base + k * step)
                parents.append(wrist if k == 0 else len(joints) - 2)
            ends[len(joints) - 1] = joints[-1] + 0.8 * step
    return np.stack(joints), np.asarray(parents), ends


def make_tiny_model(model_type: str = "smpl", seed: int = 0) -> dict[str, np.ndarray]:
    """The fields of an official ``model_type`` file: v_template (V, 3), f (F, 3), weights (V, J),
    J_regressor (J, V), kintree_table (2, J), shapedirs (V, 3, 10; SMPL-X: 10 shape + 10 expression),
    posedirs (V, 3, 9 (J - 1)), J (J, 3); SMPL-H/X add flat hand PCA fields; SMPL-X adds vt/ft."""
    joints, parents, ends = _skeleton(model_type)
    J = len(joints)
    first_child = {}
    for j in range(J - 1, 0, -1):
        first_child[parents[j]] = j
    first_child[0] = 3  # pelvis box up to spine1
    first_child[9] = 12  # spine3 box up to the neck
    verts, faces, weights = [], [], []
    regressor = np.zeros((J, 8 * J))
    for j in range(J):
        p = joints[j]
        e = ends[j] if j in ends else joints[first_child[j]]
        d = (e - p) / np.linalg.norm(e - p)
        ref = np.array([0.0, 1.0, 0.0]) if abs(d[1]) < 0.9 else np.array([0.0, 0.0, 1.0])
        e1 = np.cross(ref, d)
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(d, e1)
        r = 0.06 if j in (0, 3, 6, 9) else 0.007 if j >= 22 and model_type != "smpl" else 0.03
        ring = [r * (np.cos(a) * e1 + np.sin(a) * e2) for a in np.pi / 4 * np.array([1, 3, 5, 7])]
        verts += [p + c for c in ring] + [e + c for c in ring]
        base = 8 * j
        regressor[j, base : base + 4] = 0.25
        box = [(0, 2, 1), (0, 3, 2), (4, 5, 6), (4, 6, 7)]
        for k in range(4):
            box += [(k, (k + 1) % 4, 4 + (k + 1) % 4), (k, 4 + (k + 1) % 4, 4 + k)]
        faces += [[base + i for i in tri] for tri in box]
        for corner in range(8):
            w = np.zeros(J)
            if corner < 4 and j > 0:
                w[j], w[parents[j]] = 0.6, 0.4
            else:
                w[j] = 1.0
            weights.append(w)
    v_template = np.asarray(verts)
    V = len(v_template)
    gen = torch.Generator().manual_seed(seed)
    num_dirs = 2 * NUM_BETAS if model_type == "smplx" else NUM_BETAS
    shapedirs = 0.01 * torch.randn(V, 3, num_dirs, generator=gen, dtype=torch.float64).numpy()
    shapedirs[:, :, 0] += 0.05 * v_template  # beta 0: overall size
    posedirs = np.zeros((V, 3, 9 * (J - 1)))
    correctives = 0.01 * torch.randn(V, 3, 9, generator=gen, dtype=torch.float64).numpy()
    for v in range(V):
        j = v // 8
        if j > 0:
            posedirs[v, :, 9 * (j - 1) : 9 * j] = correctives[v]
    kintree = np.stack([parents, np.arange(J)]).astype(np.int64)
    kintree[0, 0] = 2**32 - 1  # as official files store the root's parent
    model = {
        "v_template": v_template,
        "f": np.asarray(faces, dtype=np.uint32),
        "weights": np.asarray(weights),
        "J_regressor": regressor,
        "kintree_table": kintree,
        "shapedirs": shapedirs,
        "posedirs": posedirs,
        "J": regressor @ v_template,
    }
    if model_type != "smpl":
        for side in "lr":
            model[f"hands_components{side}"] = np.eye(45)
            model[f"hands_mean{side}"] = np.zeros(45)
    if model_type == "smplx":
        model["vt"] = (v_template[:, :2] - v_template[:, :2].min(0)) / np.ptp(v_template[:, :2], 0)
        model["ft"] = model["f"].astype(np.int64)
    return model


def write_npz(path: str | Path, model: dict[str, np.ndarray]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **model)
    return path


class _Ch:
    """Pickles like a chumpy ``Ch``: a plain object whose state dict holds its value under 'x'."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x

    def __getstate__(self) -> dict:
        return {"x": self.x, "_dirty_vars": set(), "_itr": None, "_depends_on_deps": {}, "label": None}


@contextlib.contextmanager
def pickled_as(cls: type, module: str, name: str):
    """Make ``cls`` importable as ``module.name`` (e.g. chumpy.ch.Ch) while the block runs, so that pickles
    written inside name that class; afterwards the fake modules are gone."""
    parts = module.split(".")
    names = [".".join(parts[: k + 1]) for k in range(len(parts))]
    saved = {n: sys.modules.get(n) for n in names}
    saved_names = cls.__module__, cls.__qualname__, cls.__name__
    fakes = [types.ModuleType(n) for n in names]
    for parent, child in zip(fakes[:-1], fakes[1:], strict=True):
        setattr(parent, child.__name__.rsplit(".", 1)[-1], child)
    setattr(fakes[-1], name, cls)
    cls.__module__, cls.__qualname__, cls.__name__ = module, name, name
    sys.modules.update({m.__name__: m for m in fakes})
    try:
        yield
    finally:
        cls.__module__, cls.__qualname__, cls.__name__ = saved_names
        for n, old in saved.items():
            if old is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = old


def write_pkl(path: str | Path, model: dict[str, np.ndarray], protocol: int = 2) -> Path:
    """Write ``model`` as an official-looking ``.pkl``: chumpy-wrapped arrays, sparse regressor, extras."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wrapped: dict[str, object] = {
        k: _Ch(v) if k in ("v_template", "shapedirs", "posedirs", "weights") else v for k, v in model.items()
    }
    wrapped["J_regressor"] = scipy.sparse.csc_matrix(model["J_regressor"])
    wrapped["J_regressor_prior"] = scipy.sparse.csc_matrix(model["J_regressor"])
    if "weights" in model:
        wrapped["weights_prior"] = _Ch(model["weights"])
    wrapped["bs_style"], wrapped["bs_type"] = "lbs", "lrotmin"
    with pickled_as(_Ch, "chumpy.ch", "Ch"), open(path, "wb") as f:
        pickle.dump(wrapped, f, protocol=protocol)
    return path


def write_uv_obj(path: str | Path, vt: np.ndarray, ft: np.ndarray, faces: np.ndarray, v: np.ndarray) -> Path:
    """A UV template ``.obj``: ``v`` and ``vt`` lines, then ``f v/vt`` triangles (1-based)."""
    lines = [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in v] + [f"vt {a:.6f} {b:.6f}" for a, b in vt]
    lines += [" ".join(["f"] + [f"{fv + 1}/{fu + 1}" for fv, fu in zip(f, t, strict=True)]) for f, t in
              zip(faces, ft, strict=True)]  # fmt: skip
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path
