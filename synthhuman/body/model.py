"""``BodyModel``: SMPL, SMPL-H and SMPL-X bodies posed by smplx's linear blend skinning, with the 24 SMPL
joints, part labels and UVs for every model type.

Files are read by ``smpl_files.read_smpl_file`` (no chumpy). Skinning is smplx's linear blend skinning
(``smplx.lbs``: its Rodrigues and kinematic chain), with the blend written as one matmul of the weights with
the joints' 3x4 transforms (smplx's ``lbs`` builds per-vertex 4x4 matrices: about 3x slower on CPU) and pose
correctives skipped when a model has none (the default body). ``smplx.SMPLX`` cannot take arrays: it
re-reads its file with plain pickle, which needs chumpy for official ``.pkl`` files. For SMPL and SMPL-H the
result equals smplx's ``SMPL``/``SMPLH`` to 1e-6 (tested).

SMPL-H and SMPL-X are driven by SMPL's 72-d pose:
- joints 0..21 (pelvis .. wrists) are shared, same order;
- SMPL's hand joints 22/23 (SURREAL's leftHandIndex1/rightHandIndex1) bend the four fingers as one block at
  the knuckles (in SMPL the thumb belongs to the wrist part). Their rotation is applied to the first joints of
  the index, middle, pinky and ring fingers of that side (MANO's *1 joints); all other finger joints, the
  jaw and the eyes stay at rest (flat hands, not smplx's default mean hand);
- output joints 22/23 are the left/right ``middle1`` joints (middle-finger knuckle): SMPL regresses its hand
  joint from the knuckle region at the centre of the hand, which middle1 matches best (index1 sits about
  2 cm to the thumb side; some codes use it). Expressions (SMPL-X) are zero.

Part labels (``conventions``: label = SMPL joint + 1) come from the skinning weights merged onto SMPL's 24
joints: finger joints (thumb included) count for that side's SMPL hand joint 22/23 (labels 23/24,
leftHandIndex1/rightHandIndex1), jaw and eyes for the head (label 16); each vertex takes the SMPL joint with
the largest merged weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from smplx.lbs import batch_rigid_transform, batch_rodrigues
from torch import Tensor

from synthhuman.body.smpl_files import (
    NUM_MODEL_JOINTS,
    SmplData,
    find_model_file,
    read_smpl_file,
    read_uv_template_obj,
)
from synthhuman.conventions import NUM_JOINTS
from synthhuman.render.checks import check_float, check_tensor, shape_str
from synthhuman.render.mesh import vertex_normals

NUM_BODY_JOINTS = 22
"""Joints shared by SMPL, SMPL-H and SMPL-X: pelvis .. wrists."""

HAND_START = {"smplh": (22, 37), "smplx": (25, 40)}
"""First hand joint (left, right) of each model type; each hand has 15 joints in MANO order:
index1-3, middle1-3, pinky1-3, ring1-3, thumb1-3."""

FINGER_BASES = (0, 3, 6, 9)
"""Offsets in a hand of index1, middle1, pinky1, ring1: the joints SMPL's hand joint rotation drives."""

MIDDLE1 = 3
"""Offset in a hand of middle1: the joint reported as SMPL's hand joint 22/23."""


def smpl_joint_of(model_type: str) -> np.ndarray:
    """(J,) int64: the SMPL joint (0..23) each joint of ``model_type`` counts for in part labels."""
    if model_type == "smpl":
        return np.arange(NUM_JOINTS)
    out = np.empty(NUM_MODEL_JOINTS[model_type], dtype=np.int64)
    out[:NUM_BODY_JOINTS] = np.arange(NUM_BODY_JOINTS)
    out[NUM_BODY_JOINTS : HAND_START[model_type][0]] = 15  # SMPL-X jaw and eyes -> head
    left, right = HAND_START[model_type]
    out[left : left + 15], out[right : right + 15] = 22, 23
    return out


def smpl_joint_indices(model_type: str) -> list[int]:
    """The model joint reported as each of SMPL's 24 joints."""
    if model_type == "smpl":
        return list(range(NUM_JOINTS))
    left, right = HAND_START[model_type]
    return [*range(NUM_BODY_JOINTS), left + MIDDLE1, right + MIDDLE1]


def fixed_order_products(coeffs: Tensor, basis: Tensor) -> Tensor:
    """(B, N): ``coeffs`` (B, K) times ``basis`` (K, N), summed over k = 0, 1, ... with one rounding per
    product and per sum (separate elementwise ops, no fused multiply-add), so the bits never depend on the
    intra-op thread count, as a BLAS product of few rows and many columns does. K = 0 gives zeros."""
    if basis.shape[0] == 0:
        return coeffs.new_zeros(coeffs.shape[0], basis.shape[1])
    out = coeffs[:, :1] * basis[0]
    if torch.is_grad_enabled() and (coeffs.requires_grad or basis.requires_grad):
        for k in range(1, basis.shape[0]):
            out = out + coeffs[:, k : k + 1] * basis[k]
        return out
    term = torch.empty_like(out)
    for k in range(1, basis.shape[0]):  # the same ops in place, without allocating
        torch.mul(coeffs[:, k : k + 1], basis[k], out=term)
        out.add_(term)
    return out


_SKIN_FRAMES = 8
"""Frames blended at once when no gradient is needed (a blend of 8 frames of a 14k-vertex body is ~5 MB)."""


def _blend(weights: Tensor, transforms: Tensor, v_shaped: Tensor) -> Tensor:
    """Linear blend skinning: (V, J) weights, (B, J, 12) row-major 3x4 joint transforms, (B, V, 3) shaped
    rest vertices -> (B, V, 3) posed vertices."""
    return _apply_blend(torch.matmul(weights, transforms), v_shaped)


def _apply_blend(blend: Tensor, v_shaped: Tensor, out: Tensor | None = None) -> Tensor:
    """Skinning's per-vertex step: (B, V, 12) blended row-major 3x4 transforms applied to (B, V, 3) rest
    vertices, into ``out`` (B, V, 3) when given."""
    b = blend.view(blend.shape[0], -1, 3, 4)
    posed = (b[..., :3] * v_shaped[:, :, None]).sum(-1) + b[..., 3]
    return posed if out is None else out.copy_(posed)


def _skin_kernel(rest: Tensor):
    """The Warp kernel of :func:`_apply_blend` (the same bits) where Warp imports and runs on ``rest``'s
    device and dtype (float32/float64 on CPU or CUDA), else None."""
    from synthhuman.render.kernels import apply_blended_transforms, warp_available

    if rest.dtype not in (torch.float32, torch.float64) or rest.device.type not in ("cpu", "cuda"):
        return None
    return apply_blended_transforms if warp_available() else None


@dataclass(frozen=True)
class BodyOutput:
    """A posed batch, world frame (metres). vertices (B, V, 3); joints (B, 24, 3), SMPL's joints for every
    model type; normals (B, V, 3) unit vertex normals; faces (F, 3) int64."""

    vertices: Tensor
    joints: Tensor
    normals: Tensor | None
    faces: Tensor


class BodyModel(torch.nn.Module):
    """An SMPL-family body: ``BodyModel(path, model_type, gender)`` then ``model(betas, pose, trans)``.

    source: a model file (``.pkl``/``.npz``), a folder laid out as for ``smplx.create`` (``folder/smpl/
    SMPL_NEUTRAL.pkl`` or ``folder/SMPL_NEUTRAL.pkl``), or ``SmplData``. model_type: 'smpl' | 'smplh' |
    'smplx' (folders: default 'smpl'; files: from the name or the joint count). gender: 'neutral' | 'male' |
    'female' (folders: default 'neutral'; files: from the name or a 'gender' field, checked if given).
    num_betas: shape components used (at most the file's). uv_template: a ``.obj`` whose ``vt``/``f v/vt``
    give the UVs (overrides the file's). Buffers are ``dtype``; move with ``.to(device)``.
    """

    def __init__(
        self,
        source: str | Path | SmplData,
        model_type: str | None = None,
        gender: str | None = None,
        num_betas: int = 10,
        uv_template: str | Path | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        if isinstance(source, SmplData):
            data = source
        elif Path(source).is_dir():
            path = find_model_file(source, model_type or "smpl", gender or "neutral")
            data = read_smpl_file(path, model_type=model_type or "smpl", gender=gender or "neutral")
        else:
            data = read_smpl_file(source, model_type=model_type, gender=gender)
        available = data.shapedirs.shape[2]
        if not 0 <= num_betas <= available:
            raise ValueError(
                f"{data.path}: num_betas={num_betas}, expected 0..{available} (field 'shapedirs')"
            )
        self.data = data
        self.model_type, self.gender, self.num_betas = data.model_type, data.gender, num_betas

        def buf(name: str, array: np.ndarray, dt: torch.dtype = dtype) -> None:
            self.register_buffer(name, torch.as_tensor(np.ascontiguousarray(array)).to(dt), persistent=False)

        P = data.posedirs.shape[2]
        buf("v_template", data.v_template)
        buf("shapedirs", data.shapedirs[:, :, :num_betas])
        buf("posedirs", data.posedirs.reshape(-1, P).T)  # (P, V * 3), as smplx stores it
        buf("J_regressor", data.J_regressor)
        # Posing multiplies a few rows (betas, pose features) into thousands of columns; a BLAS product of
        # that shape rounds differently with 1 and 2 threads, so those products are summed in a fixed order
        # (fixed_order_products) on these (K, columns) bases. The rest joints are linear in the betas: their
        # template and directions are regressed once here by numpy's einsum (no BLAS, no threads).
        buf("shape_basis", data.shapedirs[:, :, :num_betas].transpose(2, 0, 1).reshape(num_betas, -1))
        buf("joint_template", np.einsum("jv,vc->jc", data.J_regressor, data.v_template))
        directions = np.einsum("jv,vck->kjc", data.J_regressor, data.shapedirs[:, :, :num_betas])
        buf("joint_basis", directions.reshape(num_betas, -1))
        buf("lbs_weights", data.weights)
        buf("parents", data.parents, torch.int64)
        buf("faces", data.faces, torch.int64)
        merged = np.zeros((data.weights.shape[0], NUM_JOINTS))
        np.add.at(merged.T, smpl_joint_of(data.model_type), data.weights.T)
        labels = merged.argmax(1) + 1
        buf("part_labels", labels, torch.int64)
        a, b, c = (labels[data.faces[:, k]] for k in range(3))
        buf("face_labels", np.where(b == c, b, a), torch.int64)  # majority of the three corners
        vt, ft = data.vt, data.ft
        if uv_template is not None:
            vt, ft = read_uv_template_obj(uv_template, data.faces)
        self.uv: Tensor | None
        self.uv_faces: Tensor | None
        if vt is None:
            self.uv = self.uv_faces = None
        else:
            buf("uv", vt)
            buf("uv_faces", ft, torch.int64)
        self._joint_index = smpl_joint_indices(data.model_type)
        self._has_correctives = bool(np.any(data.posedirs))

    @property
    def dtype(self) -> torch.dtype:
        return self.v_template.dtype

    @property
    def device(self) -> torch.device:
        return self.v_template.device

    def extra_repr(self) -> str:
        return (
            f"{self.model_type}, {self.gender}, {self.v_template.shape[0]} vertices, "
            f"{self.faces.shape[0]} faces, {self.num_betas} betas, file {self.data.path}"
        )

    def forward(
        self,
        betas: Tensor | None,
        pose: Tensor,
        trans: Tensor | None = None,
        *,
        normals: bool = True,
        shape_index: Tensor | None = None,
    ) -> BodyOutput:
        """Pose a batch. pose: (B, 72) axis-angle or (B, 24, 3, 3) rotation matrices, SMPL's joints
        (global orientation about the pelvis first); betas: (B, num_betas) or None (zeros); trans: (B, 3)
        or None, added to vertices and joints. Inputs must be on the model's device; they are cast to its
        dtype. Differentiable in all three. ``normals=False`` skips the vertex normals (None).
        shape_index: (B,) int64, frame b's row of ``betas`` (G, num_betas): frames that share a shape have
        it computed once (as ``betas[shape_index]``, cheaper)."""
        check_tensor("pose", pose)
        check_float("pose", pose)
        if pose.ndim == 2:
            check_tensor("pose", pose, 2, (3 * NUM_JOINTS,))
            rot = batch_rodrigues(pose.reshape(-1, 3).to(self.dtype)).view(-1, NUM_JOINTS, 3, 3)
        else:
            check_tensor("pose", pose, 4, (NUM_JOINTS, 3, 3))
            rot = pose.to(self.dtype)
        B = pose.shape[0]
        if betas is None:
            betas = rot.new_zeros(B, self.num_betas)
        check_tensor("betas", betas, 2, (self.num_betas,))
        tensors = {"pose": pose}
        if shape_index is None:
            tensors["betas"] = betas
        else:
            check_tensor("shape_index", shape_index, 1)
            lo, hi = (int(x) for x in shape_index.aminmax()) if shape_index.numel() else (0, 0)
            if shape_index.dtype != torch.int64 or not 0 <= lo <= hi < max(betas.shape[0], 1):
                raise ValueError(
                    f"shape_index: expected int64 rows of betas (0..{betas.shape[0] - 1}), got "
                    f"{shape_str(shape_index)}"
                )
            tensors["shape_index"] = shape_index
        if trans is not None:
            check_tensor("trans", trans, 2, (3,))
            tensors["trans"] = trans
        for name, t in tensors.items():
            if t.shape[0] != B:
                raise ValueError(f"{name}: expected batch size {B} (from pose), got {shape_str(t)}")
            if t.device != self.device:
                raise ValueError(f"{name}: expected device {self.device} (the model's), got {shape_str(t)}")
        verts, joints = self._skin(betas.to(self.dtype), self._full_pose(rot), shape_index)
        joints = joints[:, self._joint_index]
        if trans is not None:
            verts = verts + trans.to(self.dtype)[:, None]
            joints = joints + trans.to(self.dtype)[:, None]
        return BodyOutput(verts, joints, vertex_normals(verts, self.faces) if normals else None, self.faces)

    def posed_joints(self, pose: Tensor, betas: Tensor | None = None) -> Tensor:
        """(B, 24, 3) SMPL joints of (B, 72) axis-angle poses (and (B, num_betas) betas, default zeros),
        without trans and without skinning the vertices: as :meth:`forward`'s joints, much cheaper."""
        check_tensor("pose", pose, 2, (3 * NUM_JOINTS,))
        B = pose.shape[0]
        betas = pose.new_zeros(B, self.num_betas) if betas is None else betas
        check_tensor("betas", betas, 2, (self.num_betas,))
        rot = batch_rodrigues(pose.reshape(-1, 3).to(self.dtype)).view(-1, NUM_JOINTS, 3, 3)
        rest_joints = self._rest_joints(betas.to(self.dtype))
        joints, _ = batch_rigid_transform(self._full_pose(rot), rest_joints, self.parents, dtype=rot.dtype)
        return joints[:, self._joint_index]

    def _skin(self, betas: Tensor, rot: Tensor, index: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Linear blend skinning: (B, V, 3) vertices and (B, J, 3) posed joints of all model joints (frame
        b with row ``index[b]`` of betas when given)."""
        B, J = rot.shape[:2]
        v_shaped = self.v_template + self._shape_offsets(betas)
        rest_joints = self._rest_joints(betas)
        if index is not None:
            v_shaped, rest_joints = v_shaped[index], rest_joints[index]
        if self._has_correctives:
            eye = torch.eye(3, dtype=rot.dtype, device=rot.device)
            features = (rot[:, 1:] - eye).reshape(B, -1)
            v_shaped = v_shaped + fixed_order_products(features, self.posedirs).view(B, -1, 3)
        posed_joints, rel = batch_rigid_transform(rot, rest_joints, self.parents, dtype=rot.dtype)
        transforms = rel[:, :, :3].reshape(B, J, 12)
        if torch.is_grad_enabled() and any(t.requires_grad for t in (transforms, v_shaped, self.lbs_weights)):
            return _blend(self.lbs_weights, transforms, v_shaped), posed_joints
        # without autograd, a few frames at a time: the (frames, V, 3, 4) blend stays in cache (the same ops
        # on the same values per frame, so the same bits)
        verts = v_shaped.new_empty(B, v_shaped.shape[1], 3)
        apply = _skin_kernel(v_shaped) or _apply_blend  # the kernel: the same bits, twice as fast
        for start in range(0, B, _SKIN_FRAMES):
            stop = min(B, start + _SKIN_FRAMES)
            blend = torch.matmul(self.lbs_weights, transforms[start:stop])
            apply(blend, v_shaped[start:stop], verts[start:stop])
        return verts, posed_joints

    def _shape_offsets(self, betas: Tensor) -> Tensor:
        """(B, V, 3) shape blend offsets of (B, num_betas) betas; computed once and expanded when every
        row is the same (one person over a clip's frames)."""
        B = betas.shape[0]
        same = B > 1 and not (torch.is_grad_enabled() and betas.requires_grad)
        if same and bool((betas == betas[:1]).all()):
            return fixed_order_products(betas[:1], self.shape_basis).view(1, -1, 3).expand(B, -1, 3)
        return fixed_order_products(betas, self.shape_basis).view(B, -1, 3)

    def _rest_joints(self, betas: Tensor) -> Tensor:
        """(B, J, 3) rest positions of all model joints for (B, num_betas) betas: the regressor applied to
        the shaped template, through its precomputed template and directions."""
        shaped = fixed_order_products(betas, self.joint_basis).view(betas.shape[0], -1, 3)
        return self.joint_template + shaped

    def _full_pose(self, rot: Tensor) -> Tensor:
        """(B, 24, 3, 3) SMPL rotations -> (B, J, 3, 3) rotations of this model's joints."""
        if self.model_type == "smpl":
            return rot
        B = rot.shape[0]
        full = torch.eye(3, dtype=rot.dtype, device=rot.device).repeat(B, self.parents.shape[0], 1, 1)
        full[:, :NUM_BODY_JOINTS] = rot[:, :NUM_BODY_JOINTS]
        for start, smpl_hand in zip(HAND_START[self.model_type], (22, 23), strict=True):
            for offset in FINGER_BASES:
                full[:, start + offset] = rot[:, smpl_hand]
        return full
