"""BodyModel and the chumpy-free SMPL-family file reader, on tiny generated models (tiny_smpl.py)."""

from __future__ import annotations

import math
import os
import pickle
import sys

import numpy as np
import pytest
import smplx
import torch
from smplx.utils import Struct

from synthhuman.body.model import BodyModel
from synthhuman.body.smpl_files import SmplFileError, read_smpl_file, read_uv_template_obj
from synthhuman.conventions import NUM_JOINTS
from tests.body.tiny_smpl import make_tiny_model, pickled_as, write_npz, write_pkl, write_uv_obj

FIELDS = ("v_template", "faces", "weights", "J_regressor", "shapedirs", "posedirs", "parents")
LEFT_ELBOW = 18


@pytest.fixture(scope="module")
def smpl_arrays():
    return make_tiny_model("smpl")


@pytest.fixture
def smpl_pkl(tmp_path, smpl_arrays):
    return write_pkl(tmp_path / "SMPL_NEUTRAL.pkl", smpl_arrays)


@pytest.fixture
def smpl_npz(tmp_path, smpl_arrays):
    return write_npz(tmp_path / "SMPL_NEUTRAL.npz", smpl_arrays)


def random_inputs(batch: int, num_betas: int = 10, dtype=torch.float64, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    betas = torch.randn(batch, num_betas, generator=gen, dtype=dtype)
    pose = 0.4 * torch.randn(batch, 3 * NUM_JOINTS, generator=gen, dtype=dtype)
    trans = torch.randn(batch, 3, generator=gen, dtype=dtype)
    return betas, pose, trans


def descendants(parents, joint: int) -> set[int]:
    out = {joint}
    for j in range(len(parents)):
        if int(parents[j]) in out:
            out.add(j)
    return out


# --- reading files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [0, 2])
def test_pkl_with_chumpy_objects_and_npz_load_identically(tmp_path, smpl_arrays, smpl_npz, protocol):
    pkl = write_pkl(tmp_path / "SMPL_NEUTRAL.pkl", smpl_arrays, protocol=protocol)
    raw = pkl.read_bytes()
    assert b"chumpy.ch" in raw and b"scipy.sparse" in raw  # really shaped like an official file
    a, b = read_smpl_file(pkl), read_smpl_file(smpl_npz)
    assert "chumpy" not in sys.modules
    for name in FIELDS:
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert (a.model_type, a.gender, b.model_type, b.gender) == ("smpl", "neutral", "smpl", "neutral")
    assert a.faces.dtype == np.int64 and a.parents.tolist()[0] == -1
    assert np.array_equal(a.J_regressor, smpl_arrays["J_regressor"])  # sparse matrix densified
    betas, pose, trans = random_inputs(2, dtype=torch.float32)
    out_a, out_b = BodyModel(pkl)(betas, pose, trans), BodyModel(smpl_npz)(betas, pose, trans)
    assert torch.equal(out_a.vertices, out_b.vertices) and torch.equal(out_a.joints, out_b.joints)


def test_model_type_and_gender_from_names_folders_and_joint_count(tmp_path, smpl_arrays):
    smplh = make_tiny_model("smplh")
    assert read_smpl_file(
        write_pkl(tmp_path / "basicModel_f_lbs_10_207_0_v1.0.0.pkl", smpl_arrays)
    ).gender == ("female")
    amass = read_smpl_file(write_npz(tmp_path / "smplh" / "male" / "model.npz", smplh))  # by joint count
    assert (amass.model_type, amass.gender) == ("smplh", "male")
    write_npz(tmp_path / "models" / "smplh" / "SMPLH_FEMALE.npz", smplh)
    write_pkl(tmp_path / "models" / "SMPL_MALE.pkl", smpl_arrays)
    assert BodyModel(tmp_path / "models", "smplh", "female").model_type == "smplh"
    assert BodyModel(tmp_path / "models", gender="male").gender == "male"


def test_pickle_runs_no_code(tmp_path, smpl_arrays):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    model = dict(smpl_arrays, v_template=Evil())
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    path.write_bytes(pickle.dumps(model, protocol=2))
    with pytest.raises(SmplFileError, match=r"SMPL_NEUTRAL\.pkl: field 'v_template'"):
        read_smpl_file(path)
    assert not marker.exists()


# --- posing ------------------------------------------------------------------------------------------------


def test_forward_shapes_and_zero_pose_is_template(smpl_npz, device):
    model = BodyModel(smpl_npz).to(device)
    V, F = model.v_template.shape[0], model.faces.shape[0]
    trans = torch.tensor([[0.0, 0.0, 0.0], [1.0, -2.0, 3.0]], device=device)
    out = model(None, torch.zeros(2, 72, device=device), trans)
    assert out.vertices.shape == (2, V, 3) and out.normals.shape == (2, V, 3)
    assert out.joints.shape == (2, NUM_JOINTS, 3) and out.faces.shape == (F, 3)
    assert out.faces.dtype == model.faces.dtype == model.part_labels.dtype == torch.int64
    rest = model.v_template + trans[:, None]
    torch.testing.assert_close(out.vertices, rest)
    torch.testing.assert_close(out.joints, (model.J_regressor @ model.v_template) + trans[:, None])
    torch.testing.assert_close(out.normals.norm(dim=-1), torch.ones(2, V, device=device))


def test_matches_smplx_smpl(smpl_npz, smpl_arrays):
    betas, pose, trans = random_inputs(3)
    ours = BodyModel(smpl_npz, dtype=torch.float64)(betas, pose, trans)
    data = Struct(**smpl_arrays)
    ref_model = smplx.SMPL(
        "", data_struct=data, dtype=torch.float64, vertex_ids={k: 0 for k in ("nose", "reye", "leye", "rear",
        "lear")}, use_hands=False, use_feet_keypoints=False,
    )  # fmt: skip
    ref = ref_model(betas=betas, global_orient=pose[:, :3], body_pose=pose[:, 3:], transl=trans)
    # smplx rounds the model's arrays to float32 before casting them to float64
    torch.testing.assert_close(ours.vertices, ref.vertices, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(ours.joints, ref.joints[:, :NUM_JOINTS], atol=1e-6, rtol=1e-6)


def test_no_grad_posing_in_frame_runs_gives_the_same_bits(smpl_npz, device):
    """Without autograd, frames are skinned a few at a time and one person's repeated betas are applied
    once: the same bits as the whole batch in one go (the autograd path), whatever the batch size."""
    model = BodyModel(smpl_npz).to(device)
    gen = torch.Generator().manual_seed(5)
    pose = (0.4 * torch.randn(19, 72, generator=gen)).to(device)
    trans = torch.randn(19, 3, generator=gen).to(device)
    for betas in (torch.randn(1, 10, generator=gen).expand(19, -1), torch.randn(19, 10, generator=gen)):
        betas = betas.to(device)
        with torch.no_grad():
            fast = model(betas, pose, trans, normals=False)
        whole = model(betas.clone().requires_grad_(True), pose, trans, normals=False)
        assert torch.equal(fast.vertices, whole.vertices.detach())
        assert torch.equal(fast.joints, whole.joints.detach())
        with torch.no_grad():
            one = model(betas[5:6], pose[5:6], trans[5:6], normals=False)
        assert torch.equal(one.vertices[0], fast.vertices[5])


def test_rotation_matrices_equal_axis_angle(smpl_npz, device):
    model = BodyModel(smpl_npz, dtype=torch.float64).to(device)
    betas, pose, trans = (t.to(device) for t in random_inputs(2))
    aa = pose.view(2, NUM_JOINTS, 3)
    skew = torch.zeros(2, NUM_JOINTS, 3, 3, dtype=aa.dtype, device=device)
    skew[..., 0, 1], skew[..., 0, 2], skew[..., 1, 2] = -aa[..., 2], aa[..., 1], -aa[..., 0]
    rotmats = torch.linalg.matrix_exp(skew - skew.transpose(-1, -2))
    a, b = model(betas, pose, trans), model(betas, rotmats, trans)
    torch.testing.assert_close(a.vertices, b.vertices)
    torch.testing.assert_close(a.joints, b.joints)


def test_left_elbow_rotation_moves_only_the_forearm_and_hand(smpl_npz):
    model = BodyModel(smpl_npz, dtype=torch.float64)
    pose = torch.zeros(1, 72, dtype=torch.float64)
    pose[0, 3 * LEFT_ELBOW + 1] = math.pi / 2  # bend about +Y
    rest, bent = model(None, torch.zeros_like(pose)), model(None, pose)
    moved = (bent.vertices - rest.vertices).norm(dim=-1)[0] > 1e-9
    below = sorted(descendants(model.parents.tolist(), LEFT_ELBOW))
    assert below == [18, 20, 22]
    expected = model.lbs_weights[:, below].sum(1) > 0  # skinned (partly) to the forearm, wrist or hand
    assert torch.equal(moved, expected)
    assert moved[torch.isin(model.part_labels, torch.tensor(below) + 1)].all()
    joint_moved = (bent.joints - rest.joints).norm(dim=-1)[0] > 1e-9
    assert joint_moved.nonzero().flatten().tolist() == [20, 22]  # the elbow itself stays
    # the hand box's rigid corners turn by 90 degrees about +Y around the elbow: +X goes to -Z
    elbow = rest.joints[0, LEFT_ELBOW]
    rigid = (model.lbs_weights[:, 22] == 1.0).nonzero().flatten()
    R = torch.tensor([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(bent.vertices[0, rigid], (rest.vertices[0, rigid] - elbow) @ R.T + elbow)


def test_part_labels_and_face_labels(smpl_npz):
    model = BodyModel(smpl_npz)
    counts = torch.bincount(model.part_labels, minlength=NUM_JOINTS + 1)
    assert counts[0] == 0 and (counts[1:] > 0).all() and len(counts) == NUM_JOINTS + 1
    assert torch.equal(model.part_labels, torch.arange(len(model.part_labels)) // 8 + 1)  # box j -> j + 1
    assert torch.equal(model.face_labels, model.part_labels[model.faces[:, 0]])
    assert model.uv is None and model.uv_faces is None


def test_betas_change_shape_and_are_differentiable(smpl_npz):
    model = BodyModel(smpl_npz, num_betas=4)
    betas = torch.zeros(1, 4, requires_grad=True)
    out = model(betas, torch.zeros(1, 72))
    out.vertices.sum().backward()
    assert betas.grad.abs().sum() > 0


def test_shared_shapes_by_index_equal_betas_per_frame_with_the_same_gradients(smpl_npz):
    model = BodyModel(smpl_npz, num_betas=4).double()
    gen = torch.Generator().manual_seed(0)
    betas = torch.randn(3, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    pose = torch.randn(5, 72, generator=gen, dtype=torch.float64) * 0.3
    index = torch.tensor([2, 0, 0, 1, 2])
    a = model(betas[index], pose)
    (grad_a,) = torch.autograd.grad(a.vertices.square().sum() + a.joints.sum(), betas)
    b = model(betas, pose, shape_index=index)
    (grad_b,) = torch.autograd.grad(b.vertices.square().sum() + b.joints.sum(), betas)
    assert torch.equal(a.vertices, b.vertices) and torch.equal(a.joints, b.joints)
    torch.testing.assert_close(grad_b, grad_a)
    with pytest.raises(ValueError, match=r"shape_index: expected int64 rows of betas \(0..2\), got"):
        model(betas, pose, shape_index=torch.tensor([0, 1, 2, 3, 0]))


# --- SMPL-H and SMPL-X -------------------------------------------------------------------------------------


@pytest.mark.parametrize("model_type", ["smplh", "smplx"])
def test_smplh_smplx_give_smpl_joints_and_labels(tmp_path, model_type, device):
    arrays = make_tiny_model(model_type)
    model = BodyModel(write_pkl(tmp_path / f"{model_type.upper()}_MALE.pkl", arrays)).to(device)
    assert (model.model_type, model.gender) == (model_type, "male")
    counts = torch.bincount(model.part_labels, minlength=NUM_JOINTS + 1)
    assert counts[0] == 0 and (counts[1:] > 0).all() and len(counts) == NUM_JOINTS + 1
    left, right = (22, 37) if model_type == "smplh" else (25, 40)
    box_label = model.part_labels.view(-1, 8)[:, 0].cpu()  # one box of 8 vertices per model joint
    assert (box_label[left : left + 15] == 23).all() and (box_label[right : right + 15] == 24).all()
    if model_type == "smplx":
        assert (box_label[22:25] == 16).all()  # jaw and eyes -> head
        assert model.uv.shape == (len(arrays["vt"]), 2) and model.uv_faces.shape == model.faces.shape
    out = model(None, torch.zeros(2, 72, device=device))
    assert out.joints.shape == (2, NUM_JOINTS, 3)
    J = model.J_regressor @ model.v_template
    torch.testing.assert_close(out.joints[0, 22], J[left + 3])  # left middle1
    torch.testing.assert_close(out.joints[0, 23], J[right + 3])  # right middle1
    torch.testing.assert_close(out.joints[0, :22], J[:22])


def test_smplh_matches_smplx_smplh_with_hand_joint_on_the_knuckles(tmp_path):
    arrays = make_tiny_model("smplh")
    model = BodyModel(write_npz(tmp_path / "SMPLH_NEUTRAL.npz", arrays), dtype=torch.float64)
    betas, pose, trans = random_inputs(2)
    ours = model(betas, pose, trans)
    hands = []
    for smpl_hand in (22, 23):
        hand = torch.zeros(2, 15, 3, dtype=torch.float64)
        hand[:, [0, 3, 6, 9]] = pose.view(2, 24, 3)[:, smpl_hand, None]  # index1, middle1, pinky1, ring1
        hands.append(hand.view(2, 45))
    ref_model = smplx.SMPLH(
        "", data_struct=Struct(**arrays), dtype=torch.float64, use_pca=False, flat_hand_mean=True,
        vertex_ids={k: 0 for k in ("nose", "reye", "leye", "rear", "lear")}, use_hands=False,
        use_feet_keypoints=False,
    )  # fmt: skip
    ref = ref_model(betas=betas, global_orient=pose[:, :3], body_pose=pose[:, 3:66], left_hand_pose=hands[0],
                    right_hand_pose=hands[1], transl=trans)  # fmt: skip
    torch.testing.assert_close(ours.vertices, ref.vertices, atol=1e-6, rtol=1e-6)  # smplx rounds to float32
    torch.testing.assert_close(ours.joints, ref.joints[:, [*range(22), 25, 40]], atol=1e-6, rtol=1e-6)


# --- UV templates ------------------------------------------------------------------------------------------


def test_uv_template_obj_in_any_face_order(tmp_path, smpl_npz, smpl_arrays):
    faces = smpl_arrays["f"].astype(np.int64)
    vt = smpl_arrays["v_template"][:, [0, 2]] * 0.5 + 0.5  # one UV per vertex
    gen = torch.Generator().manual_seed(1)
    order = torch.randperm(len(faces), generator=gen).numpy()
    shuffled = np.roll(faces[order], 1, axis=1)  # other face order, corners rotated
    obj = write_uv_obj(tmp_path / "template.obj", vt, shuffled, shuffled, smpl_arrays["v_template"])
    plain_vt, plain_ft = read_uv_template_obj(obj)
    assert np.array_equal(plain_ft, shuffled) and np.allclose(plain_vt, vt, atol=1e-6)
    model = BodyModel(smpl_npz, uv_template=obj)
    assert torch.equal(model.uv_faces, model.faces)  # per-vertex UVs: matched back corner by corner
    assert model.uv.shape == (len(vt), 2)


# --- bad input: every error names the file and the field ------------------------------------------------


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"SMPL_NEUTRAL\.pkl: SMPL-family model file not found"):
        read_smpl_file(tmp_path / "SMPL_NEUTRAL.pkl")
    with pytest.raises(FileNotFoundError, match=r"SMPL_FEMALE\.pkl.*SMPL_FEMALE\.npz"):
        BodyModel(tmp_path, "smpl", "female")
    with pytest.raises(FileNotFoundError, match=r"uv\.obj: UV template \.obj file not found"):
        read_uv_template_obj(tmp_path / "uv.obj")


@pytest.mark.parametrize("suffix", [".pkl", ".npz"])
def test_corrupt_files(tmp_path, smpl_arrays, suffix):
    good = (write_pkl if suffix == ".pkl" else write_npz)(tmp_path / f"good{suffix}", smpl_arrays)
    path = tmp_path / f"SMPL_MALE{suffix}"
    path.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(SmplFileError, match=rf"SMPL_MALE\{suffix}: .*(corrupt|unreadable)"):
        read_smpl_file(path)
    path.write_bytes(b"not a model")
    with pytest.raises(SmplFileError, match=rf"SMPL_MALE\{suffix}: unreadable or corrupt"):
        read_smpl_file(path)


@pytest.mark.parametrize("suffix", [".npz", ".pkl"])
def test_missing_field(tmp_path, smpl_arrays, suffix):
    model = {k: v for k, v in smpl_arrays.items() if k != "weights"}
    path = (write_npz if suffix == ".npz" else write_pkl)(tmp_path / f"SMPL_NEUTRAL{suffix}", model)
    with pytest.raises(SmplFileError, match=rf"SMPL_NEUTRAL\{suffix}: missing field 'weights'"):
        read_smpl_file(path)


@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [
        ("weights", lambda a: a[:, :23], r"'weights' has shape \(192, 23\), expected \(192, 24\)"),
        ("J_regressor", lambda a: a.T, r"'J_regressor' has shape \(192, 24\), expected \(24, 192\)"),
        ("posedirs", lambda a: a[..., :9], r"'posedirs' has shape \(192, 3, 9\), expected \(192, 3, 207\)"),
        ("f", lambda a: a[:, :2], r"'f' has shape \(288, 2\), expected \(F, 3\)"),
        ("f", lambda a: a + 1000, r"'f' indices must lie in \[0, 192\)"),
        ("v_template", lambda a: a[:, :2], r"'v_template' has shape \(192, 2\), expected \(V, 3\)"),
        ("shapedirs", lambda a: a * np.nan, r"'shapedirs' has 5760 non-finite values"),
        ("kintree_table", lambda a: a[:, ::-1], r"'kintree_table' gives joint 1 the parent"),
    ],
)  # fmt: skip
def test_wrong_shapes_and_values(tmp_path, smpl_arrays, field, bad, message):
    path = write_pkl(tmp_path / "SMPL_MALE.pkl", dict(smpl_arrays, **{field: bad(smpl_arrays[field])}))
    with pytest.raises(SmplFileError, match=r"SMPL_MALE\.pkl: field " + message):
        read_smpl_file(path)


def test_unknown_joint_count_and_model_type(tmp_path, smpl_arrays):
    path = write_npz(
        tmp_path / "model.npz", dict(smpl_arrays, kintree_table=smpl_arrays["kintree_table"][:, :5])
    )
    with pytest.raises(
        SmplFileError, match=r"model\.npz: field 'kintree_table' has shape \(2, 5\), expected"
    ):
        read_smpl_file(path, gender="male")
    with pytest.raises(SmplFileError, match=r"model\.npz: model_type 'smpl-x' is unknown"):
        read_smpl_file(path, model_type="smpl-x")


def test_unknown_or_conflicting_gender(tmp_path, smpl_arrays, smpl_npz):
    with pytest.raises(SmplFileError, match=r"SMPL_NEUTRAL\.npz: gender 'other' is unknown, expected one of"):
        BodyModel(smpl_npz, gender="other")
    with pytest.raises(
        SmplFileError, match=r"SMPL_NEUTRAL\.npz: gender 'male' was asked for, but the file is"
    ):
        BodyModel(smpl_npz, gender="male")
    odd = write_npz(tmp_path / "model.npz", dict(smpl_arrays, gender=np.array("robot")))
    with pytest.raises(SmplFileError, match=r"model\.npz: field 'gender' 'robot' is unknown"):
        read_smpl_file(odd)
    unnamed = write_npz(tmp_path / "body.npz", smpl_arrays)
    with pytest.raises(SmplFileError, match=r"body\.npz: cannot tell the gender"):
        read_smpl_file(unnamed)
    assert read_smpl_file(unnamed, gender="female").gender == "female"


def test_chumpy_expression_without_value(tmp_path, smpl_arrays):
    class Add:  # pickles like a chumpy expression: operands, no stored value
        def __getstate__(self):
            return {"a": None, "b": None}

    path = tmp_path / "SMPL_NEUTRAL.pkl"
    with pickled_as(Add, "chumpy.ch_ops", "add"):
        path.write_bytes(pickle.dumps(dict(smpl_arrays, weights=Add()), protocol=2))
    with pytest.raises(SmplFileError, match=r"field 'weights' holds a pickled chumpy\.ch_ops\.add object"):
        read_smpl_file(path)


def test_bad_forward_inputs_and_num_betas(smpl_npz):
    model = BodyModel(smpl_npz)
    with pytest.raises(ValueError, match=r"pose: expected trailing dimensions \(72,\)"):
        model(None, torch.zeros(2, 69))
    with pytest.raises(ValueError, match=r"pose: expected trailing dimensions \(24, 3, 3\)"):
        model(None, torch.zeros(2, 22, 3, 3))
    with pytest.raises(ValueError, match=r"betas: expected trailing dimensions \(10,\)"):
        model(torch.zeros(2, 16), torch.zeros(2, 72))
    with pytest.raises(ValueError, match=r"trans: expected batch size 2"):
        model(None, torch.zeros(2, 72), torch.zeros(3, 3))
    with pytest.raises(
        ValueError, match=r"SMPL_NEUTRAL\.npz: num_betas=11, expected 0\.\.10 \(field 'shapedirs'\)"
    ):
        BodyModel(smpl_npz, num_betas=11)


def test_bad_uv_template(tmp_path, smpl_npz, smpl_arrays):
    faces, v = smpl_arrays["f"].astype(np.int64), smpl_arrays["v_template"]
    cases = {
        "no_vt.obj": ("v 0 0 0\nf 1 1 1\n", r"no_vt\.obj: line 2: field 'f' needs v/vt indices"),
        "quad.obj": (
            "vt 0 0\nf 1/1 1/1 1/1 1/1\n",
            r"quad\.obj: line 2: field 'f' has 4 corners, expected 3",
        ),
        "range.obj": (
            "v 0 0 0\nvt 0 0\nf 1/1 1/2 1/1\n",
            r"range\.obj: field 'f \(vt index\)' indices must lie",
        ),
        "text.obj": ("vt zero 0\n", r"text\.obj: line 1: cannot parse field 'vt'"),
        "empty.obj": ("# nothing\n", r"empty\.obj: field 'vt' is missing"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(SmplFileError, match=message):
            read_uv_template_obj(tmp_path / name)
    other = write_uv_obj(tmp_path / "other.obj", v[:, :2], faces[:10], faces[:10], v)
    with pytest.raises(
        SmplFileError, match=r"other\.obj: field 'f': model face 10 .* is not in the UV template"
    ):
        BodyModel(smpl_npz, uv_template=other)


def test_tiny_model_end_to_end_render(tmp_path):
    """A tiny generated SMPL-format .pkl: loaded, posed, textured without UVs (per-part colours) and
    rendered with every ground-truth layer."""
    import warnings

    from synthhuman.appearance.textures import part_colours
    from synthhuman.pipeline import FrameBatch, Topology, render_frames
    from synthhuman.render.cameras import Cameras, intrinsics, look_at
    from synthhuman.render.texture import build_mipmaps

    path = write_pkl(tmp_path / "SMPL_MALE.pkl", make_tiny_model("smpl"))
    body = BodyModel(path)
    pose = torch.zeros(2, 72)
    pose[1, 18 * 3 + 1] = 1.2  # bend the left elbow in the second frame
    out = body(None, pose)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        colours = part_colours(body.face_labels, torch.Generator().manual_seed(0), "tiny")
    texture, uv, uv_faces = colours.texture, colours.uv, colours.uv_faces
    centre = out.joints[0, 0]
    R, t = look_at((centre + torch.tensor([0.0, 0.0, 3.0]))[None], centre[None])
    cams = Cameras(intrinsics(120.0, (31.5, 47.5), 2), R.expand(2, 3, 3), t.expand(2, 3), (96, 64))
    topo = Topology(body.faces, uv, uv_faces, body.face_labels)
    batch = FrameBatch(
        out.vertices,
        cams,
        build_mipmaps(texture[None]),
        torch.zeros(2, 1, dtype=torch.int64),
        torch.tensor([[[1.0] + [0.0] * 8]]).expand(2, 1, 9),
        torch.zeros(2, 96, 64, 3),
        out.joints[:, None],
        torch.tensor([1, -1]),
    )
    with torch.no_grad():
        res = render_frames(batch, topo)
    assert torch.equal(res.segm > 0, res.depth > 0) and int((res.segm > 0).sum()) > 200
    assert set(res.segm.unique().tolist()) > {0, 1, 16}
    assert bool(res.flow.valid[0].any()) and not bool(res.flow.valid[1].any())


def test_posed_joints_equal_the_skinned_ones():
    from synthhuman.body.default_body import load_default_body

    body = load_default_body("female")
    gen = torch.Generator().manual_seed(5)
    pose = 0.4 * torch.randn(3, 72, generator=gen)
    betas = torch.randn(3, 10, generator=gen)
    torch.testing.assert_close(body.posed_joints(pose, betas), body(betas, pose, normals=False).joints)
    torch.testing.assert_close(body.posed_joints(pose), body(None, pose, normals=False).joints)


def test_fixed_order_products_do_not_follow_the_thread_count():
    from synthhuman.body.model import fixed_order_products

    gen = torch.Generator().manual_seed(0)
    basis = torch.randn(10, 41154, generator=gen)
    threads = torch.get_num_threads()
    try:
        for rows in range(1, 13):  # BLAS rounds (5..11, 41154) products differently with 1 and 2 threads
            coeffs = torch.randn(rows, 10, generator=gen)
            torch.set_num_threads(1)
            one = fixed_order_products(coeffs, basis)
            torch.set_num_threads(2)
            two = fixed_order_products(coeffs, basis)
            assert torch.equal(one, two)
            assert torch.allclose(one, coeffs @ basis, atol=1e-5)
    finally:
        torch.set_num_threads(threads)
    assert fixed_order_products(torch.zeros(3, 0), torch.zeros(0, 5)).shape == (3, 5)
