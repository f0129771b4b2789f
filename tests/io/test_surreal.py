"""The SURREAL writer against SURREAL_FORMAT.md, a released SURREAL file, and SURREAL's own geometry: its
projection formula, its way of rebuilding the body, Euclidean depth, flow signs, the mirrored video."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch
from scipy.ndimage import binary_dilation
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from synthhuman.body.default_body import load_default_body
from synthhuman.io import surreal
from synthhuman.io.surreal import (
    R90,
    SURREAL_R,
    SurrealClip,
    light_in_surreal_world,
    read_surreal_clip,
    read_surreal_frames,
    rot_z,
    surreal_clip_paths,
    surreal_clips,
    surreal_geometry,
    write_surreal_clip,
)
from synthhuman.render.shading import sh_irradiance
from tests.io.conftest import GENDER, NUM_FRAMES, STEP_RIGHT, STEP_UP, render_record

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "surreal_01_01_c0001_info.mat"
T = NUM_FRAMES
H, W = 240, 320

# SURREAL_FORMAT.md's table: shape (T stands for the frame count) and dtype as scipy.io.loadmat returns.
INFO_FIELDS = {
    "joints2D": ((2, 24, "T"), np.float32),
    "joints3D": ((3, 24, "T"), np.float32),
    "pose": ((72, "T"), np.float32),
    "shape": ((10, "T"), np.float32),
    "zrot": (("T", 1), np.float32),
    "gender": (("T", 1), np.uint8),
    "camLoc": ((3, 1), np.float32),
    "camDist": ((1, 1), np.float32),
    "light": ((9, "T"), np.float32),
    "bg": ((1, "T"), np.object_),
    "cloth": ((1, "T"), np.object_),
    "sequence": ((1,), np.str_),
    "source": ((1,), np.str_),
    "clipNo": ((1, 1), np.uint8),
    "stride": ((1, 1), np.uint8),
}


@pytest.fixture(scope="module")
def written(clip_record, tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("surreal")
    write_surreal_clip(clip_record, root, "01_01", 1, "train", normals=True)
    return root, read_surreal_clip(root / "cmu/train/run0/01_01/01_01_c0001_info.mat")


def _shape(spec: tuple, t: int) -> tuple[int, ...]:
    return tuple(t if s == "T" else s for s in spec)


def test_files_fields_shapes_and_dtypes(written):
    root, _ = written
    folder = root / "cmu/train/run0/01_01"
    names = {"01_01_c0001" + s for s in (".mp4", "_info.mat", "_depth.mat", "_segm.mat", "_gtflow.mat")}
    assert {p.name for p in folder.iterdir()} == names | {"01_01_c0001_normal.mat"}
    assert [p.name for p in root.iterdir()] == ["cmu"]  # no temporary folder left
    info = scipy.io.loadmat(folder / "01_01_c0001_info.mat")
    assert info["__header__"].startswith(b"MATLAB 5.0 MAT-file")
    assert {k for k in info if not k.startswith("__")} == set(INFO_FIELDS)
    for key, (shape, dtype) in INFO_FIELDS.items():
        assert info[key].shape == _shape(shape, T), key
        assert info[key].dtype.type == dtype, key
    assert str(info["sequence"][0]) == "01_01_c0001" and str(info["source"][0]) == "cmu"
    assert info["clipNo"][0, 0] == 1 and info["stride"][0, 0] == 50
    assert info["gender"].ravel().tolist() == [0] * T  # female
    assert str(info["cloth"][0, 0][0]) == "procedural/0"
    layers = {"depth": ((H, W), np.float32), "segm": ((H, W), np.uint8), "gtflow": ((H, W, 2), np.float32)}
    layers["normal"] = ((H, W, 3), np.float32)
    for key, (shape, dtype) in layers.items():
        mat = scipy.io.loadmat(folder / f"01_01_c0001_{key}.mat")
        assert {k for k in mat if not k.startswith("__")} == {
            f"{key}_{k}" for k in range(1, T + 1)
        }  # 1-based
        for k in range(1, T + 1):
            assert mat[f"{key}_{k}"].shape == shape and mat[f"{key}_{k}"].dtype == dtype, (key, k)


@pytest.mark.skipif(not REFERENCE.exists(), reason=f"the released SURREAL file {REFERENCE} is absent")
def test_info_fields_match_a_released_surreal_file(written):
    root, _ = written
    ours = scipy.io.loadmat(root / "cmu/train/run0/01_01/01_01_c0001_info.mat")
    ref = scipy.io.loadmat(REFERENCE)
    keys = sorted(k for k in ref if not k.startswith("__"))
    assert sorted(k for k in ours if not k.startswith("__")) == keys
    t_ref = ref["zrot"].size
    for key in keys:
        assert ours[key].dtype == ref[key].dtype or ours[key].dtype.kind == ref[key].dtype.kind == "U", key
        assert ours[key].shape == tuple(T if n == t_ref else n for n in ref[key].shape), key
    for key in ("bg", "cloth"):  # cells of char arrays
        assert ours[key][0, 0].dtype.kind == ref[key][0, 0].dtype.kind == "U"
        assert ours[key][0, 0].shape == ref[key][0, 0].shape == (1,)


def test_joints2d_follow_surreal_projection_and_mirror_ours(written, clip_record):
    _, c = written
    X, Y, Z = c.info["joints3D"].astype(np.float64)
    cx, cy, cz = c.info["camLoc"][:, 0].astype(np.float64)
    u = 160 + 600 * (cz - Z) / (cx - X)
    v = 120 + 600 * (Y - cy) / (cx - X)
    np.testing.assert_array_equal(c.info["joints2D"][0], np.round(u))
    np.testing.assert_array_equal(c.info["joints2D"][1], np.round(v))
    # SURREAL's pixel centres are at j + 0.5 and its image is ours mirrored: u_s = W - 0.5 - u, v_s = v + 0.5.
    ours = clip_record.joints2d[:, 0].transpose(2, 1, 0)  # (2, 24, T)
    np.testing.assert_allclose(u, W - 0.5 - ours[0], atol=2e-3)
    np.testing.assert_allclose(v, ours[1] + 0.5, atol=2e-3)
    # the camera sits on SURREAL's +X side of the pelvis, level with it, as in SURREAL
    offset = c.info["camLoc"][:, 0] - c.info["joints3D"][:, 0, 0]
    np.testing.assert_allclose(offset, [clip_record.info.camera_distance, 0, 0], atol=1e-4)


def _rebuild(c: SurrealClip) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SURREAL's client: the body with betas shape[:, 0], global rotation R90 Rz(zrot) rot(pose[0:3]) and
    its root joint at joints3D[:, 0, t]. Returns SURREAL-world vertices (T, V, 3), joints (T, 24, 3) and
    vertex part labels (V,)."""
    body = load_default_body(GENDER, dtype=torch.float64)
    pose = c.info["pose"].T.astype(np.float64).copy()
    g = Rotation.from_rotvec(pose[:, :3]).as_matrix()
    pose[:, :3] = Rotation.from_matrix(R90 @ rot_z(float(c.info["zrot"][0, 0])) @ g).as_rotvec()
    betas = torch.as_tensor(c.info["shape"][:, 0], dtype=torch.float64).expand(T, -1)
    out = body(betas, torch.as_tensor(pose))
    shift = c.info["joints3D"][:, 0].T.astype(np.float64) - out.joints[:, 0].numpy()
    return (
        out.vertices.numpy() + shift[:, None],
        out.joints.numpy() + shift[:, None],
        body.part_labels.numpy(),
    )


def _surreal_pixels(points: np.ndarray, cam_loc: np.ndarray) -> np.ndarray:
    """(..., 3) SURREAL world -> (..., 2) SURREAL pixel coordinates (pixel j covers [j, j + 1))."""
    X, Y, Z = np.moveaxis(points, -1, 0)
    cx, cy, cz = cam_loc
    return np.stack([160 + 600 * (cz - Z) / (cx - X), 120 + 600 * (Y - cy) / (cx - X)], -1)


def test_body_rebuilt_surreal_style_lands_on_the_segmentation(written):
    _, c = written
    verts, joints, labels = _rebuild(c)
    np.testing.assert_allclose(joints, c.info["joints3D"].transpose(2, 1, 0), atol=1e-3)
    col_row = np.floor(_surreal_pixels(verts, c.info["camLoc"][:, 0])).astype(int)  # (T, V, 2)
    for k in range(T):
        col, row = col_row[k, :, 0], col_row[k, :, 1]
        assert ((col >= 0) & (col < W) & (row >= 0) & (row < H)).all()
        segm = c.segm[k]
        inside = binary_dilation(segm > 0, iterations=1)[row, col]
        assert inside.mean() > 0.99, k
        # anatomical labels, mirrored image: each hand's vertices land mostly on that hand's label
        for label in (21, 22):  # leftHand, rightHand
            hit = segm[row[labels == label], col[labels == label]]
            assert np.mean(hit == label) > 0.6, (k, label)


def test_depth_is_euclidean_in_surreal_pixels_and_lies_on_the_body(written, clip_record):
    _, c = written
    verts, _, _ = _rebuild(c)
    cam_loc = c.info["camLoc"][:, 0].astype(np.float64)
    rows, cols = np.mgrid[0:H, 0:W]
    # SURREAL's ray through the centre (j + 0.5, i + 0.5) of its pixel, in its camera axes
    rays = np.stack([(cols + 0.5 - 160) / 600, (rows + 0.5 - 120) / 600, np.ones((H, W))], -1)
    for k in range(T):
        depth = c.depth[k].astype(np.float64)
        body = c.segm[k] > 0
        assert (depth[~body] == 1e10).all() and (depth[body] < 1e3).all()
        planar = depth / np.linalg.norm(rays, axis=-1)
        np.testing.assert_allclose(planar[body], clip_record.depth[k][:, ::-1][body], rtol=1e-6)
        points = cam_loc + (rays[body] * planar[body][:, None]) @ SURREAL_R  # R_s^T (= R_s) to the world
        nearest, _ = cKDTree(verts[k]).query(points)
        assert np.quantile(nearest, 0.99) < 0.03, k


def test_flow_signs_on_a_known_sideways_motion(written, clip_record):
    _, c = written
    flow = c.gtflow
    assert (flow[0] == 0).all()
    rows, cols = np.mgrid[0:H, 0:W]
    norm = np.linalg.norm(
        np.stack([(cols + 0.5 - 160) / 600, (rows + 0.5 - 120) / 600, np.ones((H, W))]), axis=0
    )
    pelvis = c.info["joints3D"][:, 0].T.astype(np.float64)
    pelvis_uv = _surreal_pixels(pelvis, c.info["camLoc"][:, 0].astype(np.float64))
    for k in range(1, T):
        body = c.segm[k] > 0
        assert (flow[k][~body] == 0).all()
        z = c.depth[k] / norm  # planar depth
        # the body moves STEP_RIGHT to our right: leftwards in SURREAL's mirrored image (du < 0), which
        # SURREAL stores negated (channel 0 > 0); it moves STEP_UP upwards: dv < 0, stored as is.
        np.testing.assert_allclose(flow[k][body][:, 0], 600 * STEP_RIGHT / z[body], rtol=2e-3, atol=2e-3)
        np.testing.assert_allclose(flow[k][body][:, 1], -600 * STEP_UP / z[body], rtol=2e-3, atol=2e-3)
        # the same signs from SURREAL's own projection of its joints: channel 0 = -du, channel 1 = dv
        du, dv = pelvis_uv[k] - pelvis_uv[k - 1]
        assert du < -3 and dv < -1
        np.testing.assert_allclose(np.median(flow[k][body], 0), [-du, dv], rtol=0.05)


def test_normals_are_world_normals_facing_surreal_camera(written, clip_record):
    _, c = written
    rows, cols = np.mgrid[0:H, 0:W]
    rays = np.stack([(cols + 0.5 - 160) / 600, (rows + 0.5 - 120) / 600, np.ones((H, W))], -1) @ SURREAL_R
    for k in range(T):
        n = c.normal[k]
        body = c.segm[k] > 0
        assert (n[~body] == 0).all()
        np.testing.assert_allclose(np.linalg.norm(n[body], axis=-1), 1, atol=2e-3)
        facing = np.einsum("nc,nc->n", n[body], rays[body])  # world normal . world viewing ray
        assert np.mean(facing < 0) > 0.97, k
    # the top of the head faces SURREAL's up, -Y
    top = np.argwhere(c.segm[0] == 16)
    row, col = top[top[:, 0].argmin()]
    assert c.normal[0][row, col, 1] < -0.5


def test_video_decodes_to_the_mirrored_frames(written, clip_record):
    _, c = written
    rgb = c.rgb
    assert rgb.shape == (T, H, W, 3) and rgb.dtype == np.uint8

    def blocks(a: np.ndarray) -> np.ndarray:  # 8x8 means: H.264's loss averages out, the picture stays
        return a.astype(float).reshape(H // 8, 8, W // 8, 8, 3).mean((1, 3))

    for k in range(T):
        mirrored = clip_record.rgb[k][:, ::-1]
        assert np.abs(rgb[k].astype(float) - mirrored).mean() < 4.0, k  # measured 2.7-2.8 (CRF 23)
        error = np.abs(blocks(rgb[k]) - blocks(mirrored)).mean()
        unflipped = np.abs(blocks(rgb[k]) - blocks(clip_record.rgb[k])).mean()
        assert error < 2.5 and unflipped > 4 * error, (k, error, unflipped)  # measured 1.4-1.5, 9-12


def test_light_gives_the_same_irradiance_in_surreal_world(clip_record):
    n = torch.randn(500, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    n = torch.nn.functional.normalize(n, dim=-1)
    L = torch.randn(9, generator=torch.Generator().manual_seed(1)).double()
    geom = surreal_geometry(clip_record)
    L_s = torch.as_tensor(light_in_surreal_world(L.numpy(), geom.Q))
    rx_pi = torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64))
    ours = sh_irradiance(n, L.expand(500, 9))
    # Blender evaluates E'(Q n); sh_irradiance(x) evaluates E(Rx(pi) x), so pass Rx(pi) Q n
    theirs = sh_irradiance(n @ torch.as_tensor(geom.Q).T @ rx_pi, L_s.expand(500, 9))
    torch.testing.assert_close(theirs, ours, atol=1e-9, rtol=0)
    # a camera looking along our -X makes SURREAL's world our world turned by Rx(pi): the light is unchanged
    np.testing.assert_allclose(light_in_surreal_world(L.numpy(), rx_pi.numpy()), L.numpy(), atol=1e-12)


def test_reader_accepts_folder_info_or_mp4(written):
    root, c = written
    folder = root / "cmu/train/run0/01_01"
    for path in (folder, folder / "01_01_c0001.mp4"):
        again = read_surreal_clip(path)
        assert again.sequence == "01_01_c0001"
        np.testing.assert_array_equal(again.info["joints2D"], c.info["joints2D"])
    assert surreal_clip_paths(root, "01_01", 1, "train").complete
    assert not surreal_clip_paths(root, "01_01", 2, "train").complete


def test_splits_gender_codes_and_refusals(clip_record, tmp_path):
    paths = surreal_clip_paths(tmp_path, "01_01", 3, "validation", run=2)
    assert paths.folder == tmp_path / "cmu/val/run2/01_01" and paths.name == "01_01_c0003"
    with pytest.raises(ValueError, match="split"):
        surreal_clip_paths(tmp_path, "01_01", 1, "dev")
    with pytest.raises(ValueError, match="clip_no"):
        surreal_clip_paths(tmp_path, "01_01", 256, "train")
    neutral = dataclasses.replace(clip_record, gender=np.array(["neutral"]))
    write_surreal_clip(neutral, tmp_path, "01_01", 1, "test")
    info = scipy.io.loadmat(tmp_path / "cmu/test/run0/01_01/01_01_c0001_info.mat")
    assert info["gender"].ravel().tolist() == [2] * T
    assert not (tmp_path / "cmu/test/run0/01_01/01_01_c0001_normal.mat").exists()

    with pytest.raises(ValueError, match="flow_backward"):
        write_surreal_clip(
            dataclasses.replace(clip_record, flow_backward=None), tmp_path, "01_01", 2, "train"
        )
    two = _two_people(clip_record)
    with pytest.raises(ValueError, match="one person"):
        write_surreal_clip(two, tmp_path, "01_01", 2, "train")
    assert not (tmp_path / "cmu/train").exists()


def _two_people(r):
    per_person = ("joints2d", "joints3d", "joints3d_world", "joints_visible", "pose", "trans")
    fields = {name: np.concatenate([getattr(r, name)] * 2, axis=1) for name in per_person}
    fields.update(betas=np.concatenate([r.betas] * 2), light=np.concatenate([r.light] * 2))
    return dataclasses.replace(r, gender=np.array([GENDER] * 2), **fields)


def test_a_failed_write_leaves_no_file_of_the_clip(clip_record, tmp_path, monkeypatch):
    write_surreal_clip(clip_record, tmp_path, "01_01", 1, "train")
    folder = tmp_path / "cmu/train/run0/01_01"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    real = surreal.VarWriter5.write_top

    def failing(self, value, name, is_global):  # in the middle of the third file
        if name == b"segm_2":
            raise OSError("disk full")
        return real(self, value, name, is_global)

    monkeypatch.setattr(surreal.VarWriter5, "write_top", failing)
    with pytest.raises(OSError, match="disk full"):
        write_surreal_clip(clip_record, tmp_path, "01_01", 2, "train")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmu"]


def _ours_mirrored(record, joints_world):
    """(2, 24, T) our projection of world joints (T, 24, 3) with the record's per-frame cameras, in
    SURREAL's mirrored image with its pixel corners: (W - 0.5 - u, v + 0.5)."""
    cam = np.einsum("tij,tkj->tki", record.R.astype(np.float64), joints_world) + record.t[:, None]
    K = record.K.astype(np.float64)
    u = K[:, None, 0, 0] * cam[..., 0] / cam[..., 2] + K[:, None, 0, 2]
    v = K[:, None, 1, 1] * cam[..., 1] / cam[..., 2] + K[:, None, 1, 2]
    return np.stack([W - 0.5 - u, v + 0.5]).transpose(0, 2, 1)


def test_tilted_static_camera_keeps_surreals_fixed_projection(clip_record, tmp_path):
    """A tilted and rolled static camera: SURREAL's world turns with it, so joints2D are still SURREAL's
    fixed camera's projection of joints3D from camLoc, and our own projection, mirrored; no extra field."""
    tilt = Rotation.from_euler("xz", [12, -7], degrees=True).as_matrix().astype(np.float32)
    tilted = dataclasses.replace(clip_record, R=tilt @ clip_record.R, t=clip_record.t @ tilt.T)
    write_surreal_clip(tilted, tmp_path, "01_01", 1, "train")
    info = scipy.io.loadmat(tmp_path / "cmu/train/run0/01_01/01_01_c0001_info.mat")
    assert not {"camK", "camLocs", "camRs"} & set(info)
    X, Y, Z = info["joints3D"].astype(np.float64)
    cx, cy, cz = info["camLoc"][:, 0].astype(np.float64)
    np.testing.assert_array_equal(info["joints2D"][0], np.round(160 + 600 * (cz - Z) / (cx - X)))
    np.testing.assert_array_equal(info["joints2D"][1], np.round(120 + 600 * (Y - cy) / (cx - X)))
    ours = _ours_mirrored(tilted, tilted.joints3d_world[:, 0].astype(np.float64))
    assert np.abs(info["joints2D"] - ours).max() <= 0.5 + 1e-3


def test_moving_camera_writes_per_frame_cameras_and_reads_back(tmp_path):
    """An orbiting camera with a longer lens: camK, camLocs, camRs per frame; joints2D are each frame's
    projection; camLoc and R_s are the first frame's; read back, joints and depth are the record's."""
    record = render_record(orbit=0.08, focal=900.0)
    assert not record.static_camera
    write_surreal_clip(record, tmp_path, "01_01", 1, "train", normals=True)
    c = read_surreal_clip(tmp_path / "cmu/train/run0/01_01/01_01_c0001_info.mat")
    info = c.info
    assert (
        info["camK"].shape == (3, 3, T)
        and info["camLocs"].shape == (3, T)
        and info["camRs"].shape == (3, 3, T)
    )
    np.testing.assert_array_equal(info["camLoc"][:, 0], info["camLocs"][:, 0])
    np.testing.assert_allclose(info["camRs"][..., 0], SURREAL_R, atol=1e-6)
    assert np.abs(info["camRs"][..., -1] - SURREAL_R).max() > 0.1  # the camera turned
    np.testing.assert_allclose(info["camK"][:, :, 0], [[900, 0, 160], [0, 900, 120], [0, 0, 1]], atol=1e-4)
    cam = np.einsum(
        "ijt,jkt->ikt", info["camRs"].astype(np.float64), info["joints3D"] - info["camLocs"][:, None]
    )
    K = info["camK"].astype(np.float64)
    u = K[0, 0] * cam[0] / cam[2] + K[0, 2]
    v = K[1, 1] * cam[1] / cam[2] + K[1, 2]
    np.testing.assert_array_equal(info["joints2D"], np.round(np.stack([u, v])))
    ours = _ours_mirrored(record, record.joints3d_world[:, 0].astype(np.float64))
    assert np.abs(info["joints2D"] - ours).max() <= 0.5 + 1e-3
    # normals in SURREAL's one world: each frame's SURREAL camera sees them as our camera does, mirrored
    body = c.segm > 0
    seen = np.einsum("ijt,thwj->thwi", info["camRs"].astype(np.float64), c.normal)
    mirrored_normals = record.normals[:, :, ::-1].astype(np.float64) * [-1, 1, 1]
    np.testing.assert_allclose(seen[body], mirrored_normals[body], atol=2e-3)
    # read back in our conventions (SURREAL's mirrored image): camera-space joints and planar depth
    (clip,) = surreal_clips(tmp_path, "train")
    frames = read_surreal_frames(clip, np.arange(T), np.zeros(T, np.int64))
    np.testing.assert_allclose(frames.joints3d, record.joints3d[:, 0] * [-1, 1, 1], atol=1e-4)
    mirrored = record.depth[:, :, ::-1]
    np.testing.assert_allclose(frames.depth, mirrored, rtol=1e-5, atol=0)


def test_savemat_compresses_each_variable_and_reads_back_as_scipys(tmp_path, monkeypatch):
    import scipy.io

    from synthhuman.io.surreal import _savemat

    rng = np.random.default_rng(0)
    mdict = {
        "depth_1": rng.uniform(1, 9, (24, 32)).astype(np.float32),
        "segm_1": rng.integers(0, 25, (24, 32), dtype=np.uint8),
        "gtflow_1": rng.normal(size=(24, 32, 2)).astype(np.float32),
        "sequence": "ours",
        "zrot": np.array([[0.5]]),
    }
    _savemat(tmp_path / "ours.mat", mdict)
    scipy.io.savemat(tmp_path / "scipys.mat", mdict, do_compression=True, format="5", oned_as="column")
    ours, scipys = scipy.io.loadmat(tmp_path / "ours.mat"), scipy.io.loadmat(tmp_path / "scipys.mat")
    assert ours.keys() - {"__header__"} == scipys.keys() - {"__header__"}
    for key in mdict:
        assert ours[key].dtype == scipys[key].dtype and np.array_equal(ours[key], scipys[key]), key
    raw = (tmp_path / "ours.mat").read_bytes()
    assert raw[128:132] == (15).to_bytes(4, "little")  # the first variable is a compressed element
    # without scipy's private variable writer: scipy.io.savemat per variable, the same bytes after the header
    monkeypatch.setattr(surreal, "VarWriter5", None)
    _savemat(tmp_path / "public.mat", iter(mdict.items()))
    assert (tmp_path / "public.mat").read_bytes()[128:] == raw[128:]


def test_gtflow_frames_are_the_masked_backward_flow_whatever_its_layout(clip_record):
    """gtflow of frame t: the backward flow on the body, +0.0 elsewhere and on frame 1, mirrored; the same
    bytes from the fast path (pairs of float32 read as one word) and from a strided flow."""
    from synthhuman.io.surreal import surreal_layers

    back = clip_record.flow_backward.copy()
    back[..., 0] = np.where(back[..., 0] == 0, np.float32(-0.0), back[..., 0])  # -0.0 off the body too
    strided = np.zeros((*back.shape[:3], 4), np.float32)[..., ::2]
    strided[...] = back
    for flow in (back, strided):
        frames = surreal_layers(dataclasses.replace(clip_record, flow_backward=flow), False)["gtflow"]
        for t in range(clip_record.num_frames):
            body = (clip_record.segm[t] > 0)[..., None]
            want = np.where(body, flow[t], np.float32(0)) if t else np.zeros_like(flow[t])
            got = frames(t)
            assert got.dtype == np.float32 and got.tobytes() == np.ascontiguousarray(want[:, ::-1]).tobytes()
