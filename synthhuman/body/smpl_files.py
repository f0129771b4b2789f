"""Read SMPL-family model files (SMPL, SMPL-H, SMPL-X; ``.pkl``, ``.npz``) without chumpy; UV templates.

Official ``.pkl`` files were pickled by Python 2 (read with ``encoding='latin1'``) and hold chumpy ``Ch``
objects and ``scipy.sparse`` matrices. chumpy does not import on current Python, so the unpickler here never
imports it: every class outside a short allowlist (numpy arrays and dtypes, ``copyreg``, a few builtins) is
replaced by an inert stand-in that only records its constructor arguments and pickled state. A chumpy object's
state is a dict whose ``'x'`` entry holds its value (an ndarray); a sparse matrix's state holds its
``data``/``indices``/``indptr`` (CSC, CSR) or ``row``/``col``/``coords`` (COO) arrays and ``_shape``, which
are densified here with numpy. No code from the file runs; ``.npz`` files load with ``allow_pickle=False``.

Every error names the file and the field, and says what was expected.
"""

from __future__ import annotations

import math
import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthhuman.body.degenerate import body_problem
from synthhuman.conventions import GENDERS
from synthhuman.userfiles import npz_array

MODEL_TYPES = ("smpl", "smplh", "smplx")
NUM_MODEL_JOINTS = {"smpl": 24, "smplh": 52, "smplx": 55}
"""Joints of each model type (SMPL: 24; SMPL-H: 22 body + 2 x 15 hand; SMPL-X: + jaw and two eyes)."""

SMPLX_SHAPE_SPACE = 300
"""SMPL-X ``shapedirs`` holds 300 shape then 100 expression components (older files: 10 + 10)."""

_NAME_TYPES = {"SMPL": "smpl", "BASICMODEL": "smpl", "SMPLH": "smplh", "SMPLX": "smplx"}
_NAME_GENDERS = {"NEUTRAL": "neutral", "MALE": "male", "FEMALE": "female"}
_BASICMODEL_GENDERS = {"M": "male", "F": "female", "N": "neutral"}  # basicmodel_m_lbs_10_207_0_v1.1.0.pkl


class SmplFileError(ValueError):
    """A model or UV template file that exists but cannot be used; the message names file and field."""


@dataclass(frozen=True, eq=False)
class SmplData:
    """The arrays of one SMPL-family model, as numpy (float64 / int64). Treat as read-only.

    v_template (V, 3); faces (F, 3) int64; weights (V, J); J_regressor (J, V) dense; shapedirs (V, 3, S)
    shape components only (SMPL-X expressions dropped); posedirs (V, 3, 9 * (J - 1)); parents (J,) int64,
    -1 at the root, ``parents[j] < j``; vt (T, 2) and ft (F, 3) int64 UVs or None.
    model_type: 'smpl', 'smplh' or 'smplx'; gender: 'neutral', 'male' or 'female'.
    """

    path: Path
    model_type: str
    gender: str
    v_template: np.ndarray
    faces: np.ndarray
    weights: np.ndarray
    J_regressor: np.ndarray
    shapedirs: np.ndarray
    posedirs: np.ndarray
    parents: np.ndarray
    vt: np.ndarray | None = None
    ft: np.ndarray | None = None

    @property
    def num_joints(self) -> int:
        return self.parents.shape[0]


# ---------------------------------------------------------------------------------------------------------
# Unpickling without chumpy


class _Pickled:
    """Inert stand-in for an instance of a class that is not imported; ``source`` is 'module.Class'."""

    source = "?"
    args: tuple = ()
    state: object = None

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        obj.args = args
        return obj

    def __setstate__(self, state: object) -> None:
        self.state = state

    def state_dict(self) -> dict:
        """The pickled ``__dict__`` (a ``(dict, slots)`` state gives its dict); {} if none."""
        state = self.state
        if isinstance(state, tuple) and state and isinstance(state[0], dict):
            state = state[0]
        return state if isinstance(state, dict) else {}


_STAND_INS: dict[str, type[_Pickled]] = {}

_ALLOWED = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("copyreg", "_reconstructor"),
    ("copy_reg", "_reconstructor"),
    ("_codecs", "encode"),
    *(("builtins", n) for n in ("object", "set", "frozenset", "complex", "slice", "bytearray")),
    *(("__builtin__", n) for n in ("object", "set", "frozenset", "complex", "slice", "bytearray")),
}


class _Unpickler(pickle.Unpickler):
    """Resolves only the allowlisted globals; every other class becomes a ``_Pickled`` stand-in."""

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            if module.startswith("numpy.core.") and int(np.__version__.split(".")[0]) >= 2:
                module = "numpy._core." + module[len("numpy.core.") :]  # avoid numpy 2's deprecation alias
            return super().find_class(module, name)
        source = f"{module}.{name}"
        if source not in _STAND_INS:
            _STAND_INS[source] = type(name, (_Pickled,), {"source": source})
        return _STAND_INS[source]


MAX_DENSE_ELEMENTS = 2**27
"""The largest sparse matrix densified (a J_regressor of SMPL-X has 55 x 10,475 values)."""


def _sparse_to_dense(obj: _Pickled) -> np.ndarray | None:
    """Densify a pickled scipy.sparse CSC/CSR/COO matrix; None if ``obj`` is not one."""
    if not obj.source.startswith("scipy.sparse"):
        return None
    s = obj.state_dict()
    shape = s.get("_shape", s.get("shape"))
    if shape is None or "data" not in s:
        return None
    shape = tuple(int(n) for n in shape)
    if len(shape) != 2 or min(shape) < 0 or math.prod(shape) > MAX_DENSE_ELEMENTS:
        raise ValueError(
            f"a sparse matrix of shape {shape}, expected 2-d with at most {MAX_DENSE_ELEMENTS} values"
        )
    dense = np.zeros(shape, dtype=np.asarray(s["data"]).dtype)
    fmt = obj.source.rsplit(".", 1)[-1][:3]
    data = np.asarray(s["data"])
    if fmt in ("csc", "csr"):
        indptr, indices = np.asarray(s["indptr"]), np.asarray(s["indices"])
        outer = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        rows, cols = (indices, outer) if fmt == "csc" else (outer, indices)
    elif fmt == "coo":
        rows, cols = s["coords"] if "coords" in s else (s["row"], s["col"])
    else:
        return None
    np.add.at(dense, (np.asarray(rows), np.asarray(cols)), data)  # duplicates sum, as in scipy
    return dense


def _unwrap(value: object, depth: int = 0) -> object:
    """The array a stand-in holds: a chumpy object's ``'x'``, a densified sparse matrix, or the single
    ndarray in its state. Other values are returned unchanged; a stand-in with no value raises KeyError."""
    if not isinstance(value, _Pickled) or depth > 8:
        return value
    dense = _sparse_to_dense(value)
    if dense is not None:
        return dense
    state = value.state_dict()
    if "x" in state:
        return _unwrap(state["x"], depth + 1)
    arrays = [v for v in state.values() if isinstance(v, np.ndarray)]
    if len(arrays) == 1:
        return arrays[0]
    raise KeyError(f"a pickled {value.source} object with no stored array value")


# ---------------------------------------------------------------------------------------------------------
# Reading and checking


def _load_raw(path: Path) -> Mapping[str, object]:
    """The file's top-level mapping of field name -> value (lazy for .npz)."""
    suffix = path.suffix.lower()
    if suffix not in (".pkl", ".npz"):
        raise SmplFileError(f"{path}: expected a .pkl or .npz SMPL-family model file, got '{path.suffix}'")
    try:
        if suffix == ".npz":
            raw = np.load(path, allow_pickle=False)
            if not isinstance(raw, Mapping):
                raise SmplFileError(f"{path}: not an .npz archive (a single array)")
            return raw
        with open(path, "rb") as f:
            raw = _Unpickler(f, encoding="latin1").load()
    except SmplFileError:
        raise
    except Exception as e:  # the unpickler, zip and numpy raise many types for corrupt files
        raise SmplFileError(f"{path}: unreadable or corrupt model file ({type(e).__name__}: {e})") from None
    if isinstance(raw, _Pickled):
        raw = raw.state_dict() or raw
    if not isinstance(raw, dict):
        raise SmplFileError(f"{path}: expected a pickled dict of model fields, got {type(raw).__name__}")
    return raw


def _field(path: Path, raw: Mapping[str, object], key: str, required: bool = True) -> np.ndarray | None:
    """Field ``key`` as a numeric ndarray (chumpy, sparse values unwrapped); None if absent and optional."""
    if key not in raw:
        if not required:
            return None
        raise SmplFileError(f"{path}: missing field '{key}' (fields present: {', '.join(sorted(raw))})")
    try:
        if isinstance(raw, np.lib.npyio.NpzFile):
            value = npz_array(path, raw, key)  # its size checked before anything is allocated
        else:
            value = _unwrap(raw[key])
        arr = np.asarray(value)
    except KeyError as e:
        raise SmplFileError(f"{path}: field '{key}' holds {e.args[0]}") from e
    except Exception as e:  # numpy, zip and zlib raise many types for corrupt or absurd values
        raise SmplFileError(f"{path}: field '{key}' is unreadable ({type(e).__name__}: {e})") from None
    if arr.dtype.kind not in "biuf":
        raise SmplFileError(
            f"{path}: field '{key}' is not a numeric array (got {type(value).__name__} of dtype {arr.dtype})"
        )
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise SmplFileError(f"{path}: field '{key}' has {int((~np.isfinite(arr)).sum())} non-finite values")
    return arr


def _check_shape(path: Path, key: str, arr: np.ndarray, expected: tuple[int | str, ...]) -> None:
    """Raise unless ``arr.shape`` matches ``expected`` (ints exact; strings name free sizes >= 1)."""
    ok = arr.ndim == len(expected) and all(
        (n == e) if isinstance(e, int) else n >= 1 for n, e in zip(arr.shape, expected, strict=False)
    )
    if not ok:
        want = "(" + ", ".join(str(e) for e in expected) + ("," if len(expected) == 1 else "") + ")"
        raise SmplFileError(f"{path}: field '{key}' has shape {tuple(arr.shape)}, expected {want}")


def _check_indices(path: Path, key: str, arr: np.ndarray, count: int, what: str) -> np.ndarray:
    if arr.dtype.kind not in "iu" and not np.array_equal(arr, np.round(arr)):
        raise SmplFileError(f"{path}: field '{key}' must hold integer indices, got dtype {arr.dtype}")
    idx = arr.astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= count):
        raise SmplFileError(
            f"{path}: field '{key}' indices must lie in [0, {count}) ({what}), got [{idx.min()}, {idx.max()}]"
        )
    return idx


def _name_tokens(path: Path) -> list[str]:
    return [t for t in re.split(r"[_\-. ]+", path.stem.upper()) if t]


def _type_from_name(path: Path) -> str | None:
    tokens = _name_tokens(path)
    return _NAME_TYPES.get(tokens[0]) if tokens else None


def _gender_from_name(path: Path) -> str | None:
    tokens = _name_tokens(path)
    for t in tokens:
        if t in _NAME_GENDERS:
            return _NAME_GENDERS[t]
    if len(tokens) > 1 and tokens[0] == "BASICMODEL" and tokens[1] in _BASICMODEL_GENDERS:
        return _BASICMODEL_GENDERS[tokens[1]]
    return _NAME_GENDERS.get(path.parent.name.upper())  # AMASS layout: smplh/male/model.npz


def _check_choice(path: Path, key: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise SmplFileError(
            f"{path}: {key} '{value}' is unknown, expected one of {', '.join(repr(c) for c in choices)}"
        )
    return value


def _resolve_gender(path: Path, raw: Mapping[str, object], gender: str | None) -> str:
    """The gender asked for, checked against the file name and a 'gender' field; or read from them."""
    if gender is not None:
        _check_choice(path, "gender", str(gender).lower(), GENDERS)
        gender = str(gender).lower()
    from_file = None
    if "gender" in raw:
        try:
            value = np.asarray(_unwrap(raw["gender"]))
        except (KeyError, ValueError) as e:
            raise SmplFileError(f"{path}: field 'gender' is unreadable ({e})") from e
        if value.dtype.kind in "SU" and value.size == 1:
            text = value.item()
            text = text.decode("latin1") if isinstance(text, bytes) else str(text)
            from_file = _check_choice(path, "field 'gender'", text.strip().lower(), GENDERS)
    known = from_file or _gender_from_name(path)
    if gender is not None and known is not None and gender != known:
        raise SmplFileError(f"{path}: gender '{gender}' was asked for, but the file is '{known}'")
    if gender is None and known is None:
        raise SmplFileError(
            f"{path}: cannot tell the gender from the file name or a 'gender' field; "
            "pass gender='neutral', 'male' or 'female' (synthhuman generate: --gender)"
        )
    return gender or known  # type: ignore[return-value]


def read_smpl_file(path: str | Path, *, model_type: str | None = None, gender: str | None = None) -> SmplData:
    """Read an SMPL, SMPL-H or SMPL-X model file (``.pkl`` with or without chumpy objects, or ``.npz``).

    model_type: 'smpl' | 'smplh' | 'smplx', or None to take it from the file name as smplx names files
    (``SMPL_*``, ``basicModel_*``, ``SMPLH_*``, ``SMPLX_*``), else from the number of joints (24, 52, 55).
    gender: 'neutral' | 'male' | 'female', or None to take it from the file name, a 'gender' field or the
    parent folder's name. Raises FileNotFoundError or SmplFileError (a ValueError) naming file and field.
    """
    path = Path(path)
    if model_type is not None:
        _check_choice(path, "model_type", model_type, MODEL_TYPES)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: SMPL-family model file not found")
    raw = _load_raw(path)
    try:
        return _read_fields(path, raw, model_type, gender)
    finally:
        if isinstance(raw, np.lib.npyio.NpzFile):
            raw.close()


def _read_fields(
    path: Path, raw: Mapping[str, object], model_type: str | None, gender: str | None
) -> SmplData:
    gender = _resolve_gender(path, raw, gender)

    v_template = _field(path, raw, "v_template")
    _check_shape(path, "v_template", v_template, ("V", 3))
    V = v_template.shape[0]
    kintree = _field(path, raw, "kintree_table")
    named = model_type or _type_from_name(path)
    if named is None:
        by_joints = {n: t for t, n in NUM_MODEL_JOINTS.items()}
        J = kintree.shape[-1] if kintree.ndim == 2 else -1
        if J not in by_joints:
            raise SmplFileError(
                f"{path}: field 'kintree_table' has shape {tuple(kintree.shape)}, expected (2, 24), "
                "(2, 52) or (2, 55) (SMPL, SMPL-H, SMPL-X); or name the model type"
            )
        named = by_joints[J]
    model_type = named
    J = NUM_MODEL_JOINTS[model_type]

    _check_shape(path, "kintree_table", kintree, (2, J))
    parents = kintree[0].astype(np.int64)
    parents[0] = -1  # stored as -1 or as 2**32 - 1
    bad = [j for j in range(1, J) if not 0 <= parents[j] < j]
    if bad:
        raise SmplFileError(
            f"{path}: field 'kintree_table' gives joint {bad[0]} the parent {parents[bad[0]]}, "
            "expected an earlier joint (0 <= parent < joint)"
        )
    faces = _field(path, raw, "f")
    _check_shape(path, "f", faces, ("F", 3))
    faces = _check_indices(path, "f", faces, V, "vertices")
    weights = _field(path, raw, "weights")
    _check_shape(path, "weights", weights, (V, J))
    regressor = _field(path, raw, "J_regressor")
    _check_shape(path, "J_regressor", regressor, (J, V))
    shapedirs = _field(path, raw, "shapedirs")
    _check_shape(path, "shapedirs", shapedirs, (V, 3, "S"))
    if model_type == "smplx":
        shapedirs = shapedirs[:, :, : SMPLX_SHAPE_SPACE if shapedirs.shape[2] >= 400 else 10]
    posedirs = _field(path, raw, "posedirs")
    _check_shape(path, "posedirs", posedirs, (V, 3, 9 * (J - 1)))

    vt, ft = _field(path, raw, "vt", required=False), _field(path, raw, "ft", required=False)
    if (vt is None) != (ft is None):
        raise SmplFileError(f"{path}: field '{'ft' if vt is not None else 'vt'}' is missing (UVs need both)")
    if vt is not None:
        _check_shape(path, "vt", vt, ("T", 2))
        _check_shape(path, "ft", ft, (faces.shape[0], 3))
        ft = _check_indices(path, "ft", ft, vt.shape[0], "UV coordinates")
        vt = vt.astype(np.float64)

    problem = body_problem(v_template, faces, weights, regressor, shapedirs, posedirs)
    if problem:
        raise SmplFileError(f"{path}: {problem}")
    f64 = np.float64
    return SmplData(
        path=path,
        model_type=model_type,
        gender=gender,
        v_template=v_template.astype(f64),
        faces=faces,
        weights=weights.astype(f64),
        J_regressor=regressor.astype(f64),
        shapedirs=shapedirs.astype(f64),
        posedirs=posedirs.astype(f64),
        parents=parents,
        vt=vt,
        ft=ft,
    )


def find_model_file(folder: str | Path, model_type: str, gender: str) -> Path:
    """The model file in ``folder`` as ``smplx.create`` lays them out: ``folder/<type>/<TYPE>_<GENDER>.<ext>``
    or ``folder/<TYPE>_<GENDER>.<ext>``, ext ``pkl`` or ``npz``. FileNotFoundError lists the paths tried."""
    folder = Path(folder)
    _check_choice(folder, "model_type", model_type, MODEL_TYPES)
    _check_choice(folder, "gender", gender, GENDERS)
    name = f"{model_type.upper()}_{gender.upper()}"
    tried = [d / f"{name}.{ext}" for d in (folder / model_type, folder) for ext in ("pkl", "npz")]
    for candidate in tried:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{folder}: no {model_type} model file for gender '{gender}'; tried {', '.join(map(str, tried))}"
    )


def read_uv_template_obj(path: str | Path, faces: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """UVs of a template mesh ``.obj``: ``vt u v`` lines and triangles ``f v/vt ...`` (1-based; ``v/vt/vn``
    and negative indices accepted). Returns vt (T, 2) float64 and ft (F, 3) int64, 0-based.

    faces: (F, 3) the model's faces, or None. When given, ft is reordered to match them face by face and
    corner by corner (the .obj may list faces in another order); every model face must appear in the .obj.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: UV template .obj file not found")
    vt, fv, ft, num_v = [], [], [], 0
    try:
        lines = path.read_text(encoding="utf-8", errors="strict").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise SmplFileError(f"{path}: unreadable UV template ({type(e).__name__}: {e})") from e
    for lineno, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        try:
            if parts[0] == "v":
                num_v += 1
            elif parts[0] == "vt":
                vt.append((float(parts[1]), float(parts[2])))
            elif parts[0] == "f":
                corners = [c.split("/") for c in parts[1:]]
                if len(corners) != 3:
                    raise SmplFileError(
                        f"{path}: line {lineno}: field 'f' has {len(corners)} corners, expected 3 (triangles)"
                    )
                if any(len(c) < 2 or not c[1] for c in corners):
                    raise SmplFileError(f"{path}: line {lineno}: field 'f' needs v/vt indices, got {line!r}")
                fv.append([_obj_index(c[0], num_v) for c in corners])
                ft.append([_obj_index(c[1], len(vt)) for c in corners])
        except (ValueError, IndexError) as e:
            if isinstance(e, SmplFileError):
                raise
            raise SmplFileError(f"{path}: line {lineno}: cannot parse field '{parts[0]}': {line!r}") from e
    if not vt or not ft:
        raise SmplFileError(
            f"{path}: field '{'vt' if not vt else 'f'}' is missing, expected 'vt' lines, 'f v/vt' triangles"
        )
    vt_arr, fv_arr, ft_arr = np.asarray(vt, np.float64), np.asarray(fv, np.int64), np.asarray(ft, np.int64)
    for key, arr, count in (("f (vt index)", ft_arr, len(vt)), ("f (v index)", fv_arr, max(num_v, 1))):
        if arr.min() < 0 or arr.max() >= count:
            raise SmplFileError(
                f"{path}: field '{key}' indices must lie in [1, {count}], "
                f"got [{arr.min() + 1}, {arr.max() + 1}]"
            )
    if faces is None:
        return vt_arr, ft_arr
    return vt_arr, _match_faces(path, np.asarray(faces, np.int64), fv_arr, ft_arr)


def _obj_index(token: str, count: int) -> int:
    """0-based index of a 1-based (or negative, relative) OBJ index."""
    i = int(token)
    return i - 1 if i > 0 else count + i


def _match_faces(path: Path, faces: np.ndarray, fv: np.ndarray, ft: np.ndarray) -> np.ndarray:
    """ft rows for each model face: the .obj face with the same vertices, corners rotated to match."""
    lookup = {}
    for k in range(fv.shape[0]):
        lookup.setdefault(tuple(sorted(fv[k])), k)
    out = np.empty_like(faces)
    for i, face in enumerate(faces):
        k = lookup.get(tuple(sorted(face)))
        if k is None:
            raise SmplFileError(
                f"{path}: field 'f': model face {i} (vertices {face.tolist()}) is not in the UV template; "
                f"expected a template of the same mesh ({faces.shape[0]} faces, got {fv.shape[0]})"
            )
        corner = {int(v): int(t) for v, t in zip(fv[k], ft[k], strict=True)}
        out[i] = [corner[int(v)] for v in face]
    return out
