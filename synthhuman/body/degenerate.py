"""Bodies that would render nothing or garbage, told apart before any clip is made: non-finite numbers, a
flat or empty template, faces of zero area only, body joints that no vertex regresses, or vertices that no
joint moves (linear blend skinning would send them to the origin)."""

from __future__ import annotations

import numpy as np


def body_problem(
    v_template: np.ndarray,
    faces: np.ndarray,
    weights: np.ndarray,
    regressor: np.ndarray,
    shapedirs: np.ndarray,
    posedirs: np.ndarray,
) -> str | None:
    """What makes this body unusable, naming the model file's field and what was expected; None if usable.
    Shapes are those ``read_smpl_file`` has already checked."""
    fields = {"v_template": v_template, "weights": weights, "J_regressor": regressor, "shapedirs": shapedirs,
              "posedirs": posedirs}  # fmt: skip
    for key, arr in fields.items():
        if not np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_:
            return f"field '{key}' holds {arr.dtype}, expected numbers"
        if not np.isfinite(arr).all():
            return f"field '{key}' holds NaN or infinite values"
    extent = v_template.max(0) - v_template.min(0) if len(v_template) else np.zeros(3)
    if len(v_template) < 3 or (extent > 1e-6).sum() < 2:
        return f"field 'v_template' spans {extent.tolist()} m, expected a body (a degenerate mesh)"
    if len(faces) == 0:
        return "field 'f' has no faces, expected a mesh"
    a, b, c = (v_template[faces[:, i]] for i in range(3))
    if not (np.linalg.norm(np.cross(b - a, c - a), axis=1) > 0).any():
        return "field 'f' has only faces of zero area, expected a mesh"
    empty = np.flatnonzero(np.abs(regressor[:24]).sum(1) == 0)  # the SMPL body joints
    if len(empty):
        return (
            f"field 'J_regressor' has all-zero rows (joints {empty[:5].tolist()}), expected each joint "
            "regressed from some vertices"
        )
    unweighted = np.flatnonzero(np.abs(weights).sum(1) == 0)
    if len(unweighted):
        return (
            f"field 'weights' has all-zero rows (vertices {unweighted[:5].tolist()}), expected each vertex "
            "skinned to some joint"
        )
    return None
