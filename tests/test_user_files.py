"""Property tests over every reader of user files: SMPL ``.pkl``/``.npz``, AMASS ``.npz``, SURREAL's
``smpl_data.npz`` and ``.mat`` files, BVH, our motion ``.npz``, TOML/YAML configs, image folders and
checkpoints. Whatever the bytes, a reader either loads or raises the project's error (ValueError, or
OSError for a missing file) whose message names the file; it never raises another type, never hangs, and a
file that claims a huge array fails at once instead of allocating it."""

from __future__ import annotations

import io
import itertools
import pickle
import signal
import warnings
import zipfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from synthhuman.appearance.backgrounds import ImageFolderBackgrounds
from synthhuman.appearance.texture_folder import TextureFolder
from synthhuman.body.shapes import SurrealShapes
from synthhuman.body.smpl_files import read_smpl_file
from synthhuman.config import from_mapping, read_config_file
from synthhuman.generate import GenerateConfig
from synthhuman.io.surreal import load_mat
from synthhuman.motion.readers import read_motion_file, read_motion_npz
from synthhuman.train.loop import TrainConfig, build, save_checkpoint
from synthhuman.train.run import load_trained, run_config
from tests.body.tiny_smpl import make_tiny_model, pickled_as, write_pkl
from tests.motion.bvh_skeletons import small_bvh

SETTINGS = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,  # the same examples on every run (CI)
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SECONDS = 10
"""The longest any reader may take on one small file."""

_count = itertools.count()


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("user files")  # a space in the path, as users have


def fresh(folder: Path, name: str) -> Path:
    """A new folder for one example, holding nothing yet; the file ``name`` inside it."""
    d = folder / f"ex{next(_count)}"
    d.mkdir()
    return d / name


@contextmanager
def time_limit(seconds: int):
    def hang(signum, frame):
        raise TimeoutError(f"a reader ran longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def loads_or_names(read: Callable[[], object], path: Path) -> None:
    """``read()`` returns, or raises ValueError/OSError whose message names ``path`` (its name at least)."""
    with time_limit(SECONDS):
        try:
            read()
        except (ValueError, OSError) as exc:
            assert path.name in str(exc), f"{type(exc).__name__} does not name {path.name}: {exc}"


# --- strategies -----------------------------------------------------------------------------------------

DTYPES = st.sampled_from(["<f4", "<f8", "<i8", "<i4", "|u1", "|b1", "<c8", "<U3", "<f2"])
arrays = DTYPES.flatmap(
    lambda d: hnp.arrays(np.dtype(d), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))
)
garbage = st.one_of(
    st.binary(max_size=600),
    st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b),  # a zip's magic, then noise
    st.binary(max_size=300).map(lambda b: b"\x80\x02" + b),  # a pickle's
    st.binary(max_size=300).map(lambda b: b"\x93NUMPY\x01\x00" + b),  # an .npy's
)


def npz_bytes(fields: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **fields)
    return buf.getvalue()


def mutated(base: dict[str, np.ndarray]):
    """``base`` with some fields dropped, some replaced by random arrays, some unknown ones added."""
    return st.tuples(
        st.sets(st.sampled_from(sorted(base))),
        st.dictionaries(st.sampled_from(sorted(base)), arrays, max_size=3),
        st.dictionaries(st.text("abcdefgh_", min_size=1, max_size=8), arrays, max_size=2),
    ).map(lambda t: {**{k: v for k, v in base.items() if k not in t[0]}, **t[1], **t[2]})


def file_bytes(valid: bytes, structured):
    """Garbage, a truncation of ``valid``, or the bytes of a ``structured`` example."""
    cut = st.integers(0, max(0, len(valid) - 1)).map(lambda n: valid[:n])
    return st.one_of(garbage, cut, structured)


SMPL = {k: v for k, v in make_tiny_model("smpl").items()}
AMASS = {"poses": np.zeros((4, 156)), "trans": np.zeros((4, 3)), "mocap_framerate": np.array(120.0),
         "betas": np.zeros(16), "gender": np.array("female")}  # fmt: skip
SURREAL = {"pose_01_01": np.zeros((4, 72)), "trans_01_01": np.zeros((4, 3)), "maleshapes": np.zeros((4, 10)),
           "femaleshapes": np.zeros((4, 10))}  # fmt: skip
OURS = {"poses": np.zeros((4, 72), np.float32), "trans": np.zeros((4, 3), np.float32), "fps": np.float32(30)}


# --- body, motion and shape files -----------------------------------------------------------------------


@SETTINGS
@given(data=file_bytes(npz_bytes(SMPL), mutated(SMPL).map(npz_bytes)))
def test_smpl_npz(folder, data):
    path = fresh(folder, "SMPL_NEUTRAL.npz")
    path.write_bytes(data)
    loads_or_names(lambda: read_smpl_file(path), path)


def _pkl(fields: dict) -> bytes:
    return pickle.dumps(fields, protocol=2)


@SETTINGS
@given(data=st.one_of(garbage, mutated(SMPL).map(_pkl), st.integers(0, 5000)))
def test_smpl_pkl(folder, data):
    path = fresh(folder, "SMPL_NEUTRAL.pkl")
    if isinstance(data, int):  # a truncated official-looking pickle (chumpy stand-ins, sparse regressor)
        write_pkl(path, SMPL)
        path.write_bytes(path.read_bytes()[:data])
    else:
        path.write_bytes(data)
    loads_or_names(lambda: read_smpl_file(path), path)


@SETTINGS
@given(
    data=st.one_of(
        file_bytes(npz_bytes(AMASS), mutated(AMASS).map(npz_bytes)),
        mutated(SURREAL).map(npz_bytes),
        mutated(OURS).map(npz_bytes),
    )
)
def test_motion_npz(folder, data):
    path = fresh(folder, "motion.npz")
    path.write_bytes(data)
    loads_or_names(lambda: read_motion_file(path), path)
    loads_or_names(lambda: read_motion_npz(path), path)
    loads_or_names(lambda: SurrealShapes(path, "male", "train"), path)


def _mutate_text(text: str):
    tokens = text.split(" ")
    return st.tuples(
        st.integers(0, len(tokens) - 1),
        st.sampled_from(["", "-1", "1e309", "nan", "{", "}", "x", "99999999"]),
    ).map(lambda t: " ".join(tokens[: t[0]] + [t[1]] + tokens[t[0] + 1 :]))


@SETTINGS
@given(data=st.one_of(_mutate_text(small_bvh()), st.text(max_size=300), st.integers(0, len(small_bvh()))))
def test_bvh(folder, data):
    path = fresh(folder, "take.bvh")
    path.write_text(small_bvh()[:data] if isinstance(data, int) else data, errors="surrogatepass")
    loads_or_names(lambda: read_motion_file(path), path)


def _mat_bytes(fields: dict) -> bytes:
    import scipy.io

    buf = io.BytesIO()
    scipy.io.savemat(buf, fields)
    return buf.getvalue()


@SETTINGS
@given(data=file_bytes(_mat_bytes({"zrot": np.zeros(4)}), mutated({"zrot": np.zeros(4)}).map(_mat_bytes)))
def test_surreal_mat(folder, data):
    path = fresh(folder, "01_01_c0001_info.mat")
    path.write_bytes(data)
    loads_or_names(lambda: load_mat(path, ["zrot"]), path)


def _huge_npz(key: str, others: dict[str, np.ndarray]) -> bytes:
    """An archive whose member ``key`` claims a (10**7, 10**7) float64 array (800 TB) in a few bytes."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**7,) * 2}
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{key}.npy", header.getvalue() + b"\0" * 64)
        for name, value in others.items():
            member = io.BytesIO()
            np.save(member, value)
            z.writestr(f"{name}.npy", member.getvalue())
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "key", "base", "read"),
    [
        ("SMPL_NEUTRAL.npz", "J_regressor", SMPL, read_smpl_file),
        ("amass.npz", "poses", AMASS, read_motion_file),
        ("smpl_data.npz", "pose_01_01", SURREAL, read_motion_file),
        ("smpl_data.npz", "maleshapes", SURREAL, lambda p: SurrealShapes(p, "male", "train")),
        ("ours.npz", "trans", OURS, read_motion_npz),
    ],
)
def test_a_huge_claimed_array_fails_at_once(folder, name, key, base, read):
    path = fresh(folder, name)
    path.write_bytes(_huge_npz(key, {k: v for k, v in base.items() if k != key}))
    with time_limit(SECONDS), pytest.raises(ValueError, match=rf"{name}.*{key}.*claims"):
        read(path)


class _HugeSparse:
    """Pickles like a scipy CSC matrix that claims (10**7, 10**7) values (800 TB dense)."""

    def __getstate__(self) -> dict:
        return {"_shape": (10**7, 10**7), "data": np.ones(1), "indices": np.zeros(1, int), "indptr": [0, 1]}


def test_a_huge_sparse_regressor_in_a_pickle_fails_at_once(folder):
    path = fresh(folder, "SMPL_NEUTRAL.pkl")
    with pickled_as(_HugeSparse, "scipy.sparse._csc", "csc_matrix"):
        path.write_bytes(pickle.dumps({**SMPL, "J_regressor": _HugeSparse()}, protocol=2))
    with time_limit(SECONDS), pytest.raises(ValueError, match="J_regressor.*sparse matrix of shape"):
        read_smpl_file(path)


# --- configs --------------------------------------------------------------------------------------------

values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(), st.text(max_size=8)),
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=4,
)
FIELDS = ["clips", "seed", "device", "format", "shard", "batch_frames", "scene", "assets", "render", "frames"]
SCENE_FIELDS = ["frames", "height", "width", "people", "genders", "fps", "camera", "test_fraction"]
configs = st.dictionaries(
    st.sampled_from(FIELDS),
    st.one_of(values, st.dictionaries(st.sampled_from(SCENE_FIELDS + ["focal", "x"]), values, max_size=4)),
    max_size=4,
)


@SETTINGS
@given(data=configs, as_yaml=st.booleans())
def test_config_files(folder, data, as_yaml):
    path = fresh(folder, "run.yaml" if as_yaml else "run.toml")
    if as_yaml:
        path.write_text(yaml.safe_dump(data))
    else:  # TOML has no writer in the standard library: JSON-like text is often valid TOML, often not
        path.write_text("\n".join(f"{k} = {_toml(v)}" for k, v in data.items()))

    def read() -> None:
        mapping = read_config_file(path)
        mapping["out"] = str(path.parent / "out")
        from_mapping(GenerateConfig, mapping, str(path))
        run_config({**mapping, "train": mapping.get("scene", {})}, str(path))

    loads_or_names(read, path)


def _toml(v: object) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return {True: "true", False: "false", None: "nan"}.get(v, repr(v)) if not isinstance(v, str) else repr(v)


# --- image folders and checkpoints ------------------------------------------------------------------------


def _png(seed: int) -> bytes:
    import imageio.v3 as iio

    pixels = np.random.default_rng(seed).integers(0, 255, (6, 9, 3), dtype=np.uint8)
    return iio.imwrite("<bytes>", pixels, extension=".png")


images = st.lists(
    st.tuples(
        st.sampled_from(["a.jpg", "b.png", "c.PNG", "female/d.jpg", "male/e.webp", "f.txt", ".hidden.png"]),
        st.one_of(garbage, st.integers(0, 3).map(_png), st.integers(1, 60).map(lambda n: _png(0)[:n])),
    ),
    max_size=4,
)


@SETTINGS
@given(files=images)
def test_image_folders(folder, files):
    root = fresh(folder, "x").parent / "images"
    root.mkdir()
    for name, data in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)

    def backgrounds() -> None:
        for split in ("train", "test"):
            ImageFolderBackgrounds(root, split).check()

    with warnings.catch_warnings():  # unreadable files and shared splits warn
        warnings.simplefilter("ignore")
        loads_or_names(backgrounds, root)
        loads_or_names(lambda: TextureFolder(root).check("female", "train"), root)


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("ckpt") / "checkpoint.pt"
    save_checkpoint(path, build(TrainConfig(steps=1, batch=1, stacks=1, features=16, input_size=64)))
    return path.read_bytes()


payloads = st.dictionaries(
    st.sampled_from(["model", "optimizer", "step", "config", "run", "x"]),
    st.one_of(values, st.dictionaries(st.sampled_from(["task", "stacks", "lr", "a"]), values, max_size=3)),
    max_size=5,
)


@SETTINGS
@given(data=st.one_of(garbage, st.integers(0, 10**6), payloads))
def test_checkpoints(folder, checkpoint_bytes, data):
    path = fresh(folder, "checkpoint.pt")
    if isinstance(data, int):
        path.write_bytes(checkpoint_bytes[: data % len(checkpoint_bytes)])
    elif isinstance(data, dict):
        torch.save(data, path)
    else:
        path.write_bytes(data)
    loads_or_names(lambda: load_trained(path), path)
