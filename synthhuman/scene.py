"""Scenes as SURREAL samples them (DESIGN.md section 4), each distribution a config field.

``sample_clip`` draws everything random about one clip on CPU from the clip's own generator
(``rng.clip_generator``): people (gender, shape, motion window, mirroring, speed, heading, texture, light),
their placement, the background and the camera distance. ``build_clip`` then poses the bodies on the
render device, puts the feet on the ground, keeps everyone apart and places the static camera so that the
whole clip stays in frame. ``frame_batch`` packs one or more built clips into the renderer's ``FrameBatch``.
"""

from __future__ import annotations

import copy
import hashlib
import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from synthhuman.appearance._util import load_image
from synthhuman.appearance.backgrounds import (
    BackgroundConfig,
    ImageFolderBackgrounds,
    random_background,
    skimage_backgrounds,
)
from synthhuman.appearance.lighting import LightConfig, sample_light
from synthhuman.appearance.texture_folder import TextureFolder
from synthhuman.appearance.textures import (
    TextureConfig,
    UVBake,
    bake_uv_layout,
    paint_texture,
    part_colours,
)
from synthhuman.body.default_body import load_default_body
from synthhuman.body.model import BodyModel
from synthhuman.body.shapes import DefaultBodyShapes, SurrealShapes, sample_normal_betas
from synthhuman.config import require
from synthhuman.motion.sequence import (
    PoseSequence,
    change_speed,
    is_cyclic,
    loop,
    mirror,
    resample,
    rotate_heading,
)
from synthhuman.pipeline import FrameBatch, Topology
from synthhuman.render.cameras import Cameras, intrinsics
from synthhuman.render.texture import build_mipmaps
from synthhuman.rng import SPLITS, clip_generator, clip_seed

GENDERS = ("female", "male", "neutral")
BUNDLED_TEST_MOTIONS = ("getup_facedown", "punch", "run")
"""The bundled library's test split (3 of its 15 clips, about SURREAL's 20 %); the rest is train."""


@dataclass(frozen=True)
class CameraConfig:
    """A static camera per clip, level (no tilt or roll) at the height of the first frame's pelvis, as
    SURREAL's. focal: pixels at a width of 320 (scaled with the width). distance ~ N(mean, std) metres from
    the scene's centre, at least ``distance_min``; with ``keep_in_frame`` the camera backs off until every
    person stays inside the image, ``margin`` (a fraction of the image) from its border, for the whole clip
    (SURREAL's people may walk out of frame)."""

    focal: float = 600.0
    distance_mean: float = 8.0
    distance_std: float = 1.0
    distance_min: float = 2.5
    keep_in_frame: bool = True
    margin: float = 0.03

    def __post_init__(self) -> None:
        require(self.focal > 0, "camera.focal", "> 0 pixels", self.focal)
        require(self.distance_std >= 0, "camera.distance_std", ">= 0 metres", self.distance_std)
        require(self.distance_min > 0, "camera.distance_min", "> 0 metres", self.distance_min)
        require(0 <= self.margin < 0.5, "camera.margin", "a fraction in [0, 0.5)", self.margin)


@dataclass(frozen=True)
class MotionConfig:
    """How a clip's motion is drawn from a sequence: a window starting at a multiple of ``stride`` frames
    (SURREAL: 50), mirrored with ``mirror_prob``, played ``speed_range`` times faster (uniform), turned to
    a uniform heading. Sequences shorter than a clip are looped when cyclic, else held still at both ends
    (first and last pose) when at least ``min_fraction`` of a clip long, else skipped with the reason."""

    stride: int = 50
    mirror_prob: float = 0.5
    speed_range: tuple[float, float] = (0.8, 1.25)
    min_fraction: float = 0.4

    def __post_init__(self) -> None:
        require(self.stride >= 1, "motion.stride", ">= 1 frames", self.stride)
        require(0 <= self.mirror_prob <= 1, "motion.mirror_prob", "a probability", self.mirror_prob)
        lo, hi = self.speed_range
        require(0 < lo <= hi, "motion.speed_range", "0 < low <= high", self.speed_range)
        require(0 < self.min_fraction <= 1, "motion.min_fraction", "a fraction in (0, 1]", self.min_fraction)


@dataclass(frozen=True)
class SceneConfig:
    """Everything that decides what a clip looks like (not where it is written).

    frames at fps; image (height, width); people per scene (instance ids 1..P); genders drawn uniformly;
    age_range (years) of the default body's shapes; shape_sigma for other bodies without SURREAL shapes;
    person_gap: metres kept between people (their swept footprints); test_fraction: share of textures,
    backgrounds and user motions in the test split.
    """

    frames: int = 100
    fps: float = 30.0
    height: int = 240
    width: int = 320
    people: int = 1
    genders: tuple[str, ...] = ("female", "male")
    age_range: tuple[float, float] = (5.0, 90.0)
    shape_sigma: float = 1.0
    person_gap: float = 0.2
    test_fraction: float = 0.2
    camera: CameraConfig = field(default_factory=CameraConfig)
    motion: MotionConfig = field(default_factory=MotionConfig)
    light: LightConfig = field(default_factory=LightConfig)
    texture: TextureConfig = field(default_factory=TextureConfig)
    background: BackgroundConfig = field(default_factory=BackgroundConfig)

    def __post_init__(self) -> None:
        require(self.frames >= 2, "frames", ">= 2", self.frames)
        require(math.isfinite(self.fps) and self.fps > 0, "fps", "> 0", self.fps)
        for name in ("height", "width"):
            v = getattr(self, name)
            require(v >= 16 and v % 2 == 0, name, "an even number of pixels >= 16 (H.264 yuv420p)", v)
        require(1 <= self.people <= 255, "people", "1..255 (uint8 instance ids)", self.people)
        require(len(self.genders) >= 1, "genders", "at least one gender", self.genders)
        for g in self.genders:
            require(g in GENDERS, "genders", f"each one of {GENDERS}", self.genders)
        require(self.shape_sigma >= 0, "shape_sigma", ">= 0", self.shape_sigma)
        require(self.person_gap >= 0, "person_gap", ">= 0 metres", self.person_gap)
        require(0 < self.test_fraction < 1, "test_fraction", "a fraction in (0, 1)", self.test_fraction)

    @property
    def focal_pixels(self) -> float:
        return self.camera.focal * self.width / 320.0


@dataclass(frozen=True)
class AssetConfig:
    """Where assets come from; None: the bundled defaults (default body, DeepMimic clips, procedural
    textures and backgrounds). body: an SMPL-family file or an ``smplx.create``-style folder; motion: a
    motion file (AMASS / SURREAL smpl_data / our npz / BVH) or a folder of them; shapes: SURREAL's
    ``smpl_data.npz`` (``maleshapes``/``femaleshapes``); textures: a texture folder (SURREAL layout or
    images); backgrounds: an image folder, or "skimage" for scikit-image's bundled CC0 photos mixed in;
    uv_template: a ``.obj`` with the body's UVs."""

    body: str | None = None
    motion: str | None = None
    shapes: str | None = None
    textures: str | None = None
    backgrounds: str | None = None
    uv_template: str | None = None

    def __post_init__(self) -> None:
        for name in ("body", "motion", "shapes", "textures", "backgrounds", "uv_template"):
            value = getattr(self, name)
            if value is None or (name == "backgrounds" and value == "skimage"):
                continue
            require(Path(value).exists(), name, "an existing file or folder", value)


def file_digest(path: Path) -> str:
    """SHA-256 of a file (or of the sorted relative names and contents of a folder), for the manifest."""
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for p in files:
        if path.is_dir():
            h.update(p.relative_to(path).as_posix().encode())
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class PersonParams:
    """One person of a clip, drawn by :func:`sample_clip`. pose (T, 72), trans (T, 3) float64 at the
    clip's fps, heading already applied; betas (K,) float32; texture (S, S, 3) float32; light (9,)."""

    gender: str
    betas: Tensor
    shape_row: int
    motion: str
    motion_start: int
    mirrored: bool
    speed: float
    heading: float
    pose: np.ndarray
    trans: np.ndarray
    texture: Tensor
    texture_name: str
    light: Tensor


@dataclass(frozen=True)
class ClipParams:
    """Everything random about one clip. background (H, W, 3) float32; placement: (N, 2) candidate
    (angle, extra distance) draws for people 2..P; distance: the sampled camera distance (metres)."""

    split: str
    index: int
    seed: int
    people: tuple[PersonParams, ...]
    background: Tensor
    background_name: str
    distance: float
    placement: Tensor


@dataclass(frozen=True)
class ClipGeometry:
    """A built clip on the render device. verts (T, P * V, 3) world; joints (T, P, 24, 3) world;
    pose (T, P, 72), trans (T, P, 3) as posed (trans includes ground placement and person offsets);
    cameras: T copies of the static camera; distance: its distance from the scene centre (metres)."""

    params: ClipParams
    verts: Tensor
    joints: Tensor
    pose: Tensor
    trans: Tensor
    cameras: Cameras
    distance: float


class SceneAssets:
    """The loaded assets of a run: bodies by gender, shape samplers, motion pools, textures and
    backgrounds per split. Loading checks every asset once, before any clip is rendered."""

    def __init__(self, cfg: SceneConfig, assets: AssetConfig = AssetConfig()) -> None:
        self.cfg, self.paths = cfg, assets
        self.bodies = self._load_bodies()
        first = self.bodies[cfg.genders[0]]
        self.has_uv = first.uv is not None  # else flat per-part colours (part_colours warns once)
        if not self.has_uv and assets.textures:
            raise ValueError(
                f"textures: {assets.textures} needs a body with UVs; {first.data.path} has none (uv_template)"
            )
        self.shapes = {(g, s): self._shape_sampler(g, s) for g in cfg.genders for s in SPLITS}
        self.motions = self._load_motions()
        self.texture_folder = TextureFolder(assets.textures) if assets.textures else None
        self.background_folders = (
            {
                s: ImageFolderBackgrounds(assets.backgrounds, s, cfg.test_fraction, cfg.background)
                for s in SPLITS
            }
            if assets.backgrounds and assets.backgrounds != "skimage"
            else None
        )
        self.photos = skimage_backgrounds(cfg.background) if assets.backgrounds == "skimage" else None
        if assets.backgrounds == "skimage" and self.photos is None:
            raise ValueError("backgrounds: 'skimage' needs scikit-image installed (pip install scikit-image)")
        self._bakes: dict[str, UVBake] = {}
        self._on_device: dict[tuple[str, torch.device], BodyModel] = {}
        self._topologies: dict[torch.device, Topology] = {}

    def body_on(self, gender: str, device: torch.device) -> BodyModel:
        """``gender``'s body model on ``device`` (moved once)."""
        key = (gender, device)
        if key not in self._on_device:
            body = self.bodies[gender]
            self._on_device[key] = body if device.type == "cpu" else copy.deepcopy(body).to(device)
        return self._on_device[key]

    # --- loading -------------------------------------------------------------------------------------
    def _load_bodies(self) -> dict[str, BodyModel]:
        p = self.paths
        if p.body is None:
            return {g: load_default_body(g) for g in self.cfg.genders}
        path = Path(p.body)
        if path.is_file():
            model = BodyModel(path, uv_template=p.uv_template)
            bad = [g for g in self.cfg.genders if g != model.gender]
            if bad and model.gender != "neutral":
                raise ValueError(f"{path}: a {model.gender} model file; genders {self.cfg.genders} asked for")
            return {g: model for g in self.cfg.genders}
        return {g: BodyModel(path, gender=g, uv_template=p.uv_template) for g in self.cfg.genders}

    def _shape_sampler(self, gender: str, split: str):
        if self.paths.body is None:
            return DefaultBodyShapes(gender, self.cfg.age_range, split=split)
        if self.paths.shapes is not None:
            return SurrealShapes(self.paths.shapes, "female" if gender == "female" else "male", split)
        return None  # N(0, shape_sigma)

    def _load_motions(self) -> dict[str, list[PoseSequence]]:
        from synthhuman.motion.clips import split_of
        from synthhuman.motion.deepmimic import read_bundled_library
        from synthhuman.motion.library import read_motion_folder

        if self.paths.motion is None:
            seqs = read_bundled_library()
            split = {s.name: ("test" if s.name in BUNDLED_TEST_MOTIONS else "train") for s in seqs}
        else:
            seqs = read_motion_folder(self.paths.motion)
            split = {
                s.name: split_of(s.subject or s.name, self.cfg.test_fraction, salt="motion") for s in seqs
            }
        pools: dict[str, list[PoseSequence]] = {s: [] for s in SPLITS}
        self.skipped: list[tuple[str, str]] = []
        shortest = math.ceil(self.cfg.frames * self.cfg.motion.speed_range[1] * self.cfg.motion.min_fraction)
        for seq in seqs:
            seq = resample(seq, self.cfg.fps) if seq.fps != self.cfg.fps else seq
            if seq.num_frames < shortest and not is_cyclic(seq):
                self.skipped.append(
                    (seq.name, f"{seq.num_frames} frames, fewer than {shortest} and not cyclic")
                )
                continue
            pools[split[seq.name]].append(seq)
        for s in SPLITS:
            if not pools[s]:
                raise ValueError(
                    f"{self.paths.motion or 'bundled motion library'}: no usable motion in the {s} split "
                    f"(skipped: {self.skipped[:10]})"
                )
        return pools

    # --- per-clip draws ------------------------------------------------------------------------------
    @cached_property
    def topology(self) -> Topology:
        """The shared topology of P people (every gender's model shares faces and UVs)."""
        body = self.bodies[self.cfg.genders[0]]
        P, V = self.cfg.people, body.v_template.shape[0]
        faces = (body.faces[None] + (torch.arange(P) * V)[:, None, None]).reshape(-1, 3)
        if self.has_uv:
            uv, uv_faces = body.uv, body.uv_faces
        else:
            layout = part_colours(body.face_labels, torch.Generator(), str(body.data.path), self.cfg.texture)
            uv, uv_faces = layout.uv, layout.uv_faces
        return Topology(
            faces=faces,
            uv=uv,
            uv_faces=uv_faces.repeat(P, 1),  # every person samples its own texture with the same UVs
            face_labels=body.face_labels.repeat(P),
            face_instance=torch.arange(1, P + 1).repeat_interleave(body.faces.shape[0]),
        )

    def topology_on(self, device: torch.device) -> Topology:
        """:attr:`topology` on ``device`` (moved once)."""
        if device not in self._topologies:
            self._topologies[device] = self.topology.to(device)
        return self._topologies[device]

    def bake(self, gender: str) -> UVBake:
        """The UV layout of ``gender``'s mean shape, baked once (patterns follow the mean body)."""
        if gender not in self._bakes:
            body = self.bodies[gender]
            rest = body(None, torch.zeros(1, 72, dtype=body.dtype))
            self._bakes[gender] = bake_uv_layout(
                rest.vertices[0], body.faces, body.uv, body.uv_faces, body.face_labels,
                self.cfg.texture.size, self.cfg.texture.gutter,
            )  # fmt: skip
        return self._bakes[gender]

    def digests(self) -> dict[str, str]:
        """Content hashes of the assets in use (bundled ones included), for the manifest."""
        from synthhuman.body.default_body import default_body_path
        from synthhuman.motion.deepmimic import LIBRARY_PATH

        out = {}
        for name in ("body", "motion", "shapes", "textures", "backgrounds", "uv_template"):
            value = getattr(self.paths, name)
            if value is not None and value != "skimage":
                out[name] = f"{value} sha256:{file_digest(Path(value))}"
        if self.paths.body is None:
            for g in self.cfg.genders:
                path = default_body_path(g)
                out[f"body_{g}"] = f"bundled {path.name} sha256:{file_digest(path)}"
        if self.paths.motion is None:
            out["motion"] = f"bundled {LIBRARY_PATH.name} sha256:{file_digest(LIBRARY_PATH)}"
        return out


def _uniform(gen: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=gen, dtype=torch.float64))


def _motion_window(seq: PoseSequence, frames: int, cfg: MotionConfig, gen: torch.Generator):
    """A window of exactly ``frames`` frames: (sequence, start frame in the source)."""
    if seq.num_frames >= frames:
        starts = range(0, seq.num_frames - frames + 1, cfg.stride)
        start = starts[int(torch.randint(len(starts), (), generator=gen))]
        return replace(
            seq, poses=seq.poses[start : start + frames], trans=seq.trans[start : start + frames]
        ), start
    if is_cyclic(seq):
        return loop(seq, frames), 0
    before = int(torch.randint(frames - seq.num_frames + 1, (), generator=gen))
    after = frames - seq.num_frames - before
    pad = [(before, after), (0, 0)]
    return replace(
        seq, poses=np.pad(seq.poses, pad, mode="edge"), trans=np.pad(seq.trans, pad, mode="edge")
    ), -before


def sample_person(assets: SceneAssets, split: str, gen: torch.Generator) -> PersonParams:
    """Draw one person (see :class:`PersonParams`)."""
    cfg = assets.cfg
    gender = cfg.genders[int(torch.randint(len(cfg.genders), (), generator=gen))]
    body = assets.bodies[gender]
    sampler = assets.shapes[(gender, split)]
    shape = (
        sampler.sample(1, gen)
        if sampler is not None
        else sample_normal_betas(1, body.num_betas, gen, cfg.shape_sigma)
    )
    pool = assets.motions[split]
    seq = pool[int(torch.randint(len(pool), (), generator=gen))]
    mc = cfg.motion
    speed = _uniform(gen, *mc.speed_range)
    mirrored = bool(torch.rand((), generator=gen) < mc.mirror_prob)
    heading = _uniform(gen, 0.0, 2 * math.pi)
    if speed != 1.0:
        seq = change_speed(seq, speed)
    seq, start = _motion_window(seq, cfg.frames, mc, gen)
    root = (
        body(shape.betas.to(body.dtype), torch.zeros(1, 72, dtype=body.dtype), normals=False)
        .joints[0, 0]
        .double()
        .numpy()
    )
    if mirrored:
        seq = mirror(seq, root)
    seq = rotate_heading(seq, heading, root)
    if assets.texture_folder is not None:
        paths = assets.texture_folder.paths(gender, split)
        pick = int(torch.randint(len(paths), (), generator=gen))
        texture = _resize_texture(load_image(paths[pick]), cfg.texture.size)
        texture_name = str(paths[pick])
    elif assets.has_uv:
        texture = paint_texture(assets.bake(gender), gen, cfg.texture)
        texture_name = "procedural"
    else:
        texture = part_colours(body.face_labels, gen, str(body.data.path), cfg.texture).texture
        texture_name = "part colours"
    light = sample_light(cfg.light, 1, gen)[0]
    return PersonParams(
        gender, shape.betas[0].float(), int(shape.row[0]), seq.name, start, mirrored, speed, heading,
        seq.poses.astype(np.float64), seq.trans.astype(np.float64), texture, texture_name, light,
    )  # fmt: skip


def _resize_texture(image: Tensor, size: int) -> Tensor:
    if image.shape[0] == size and image.shape[1] == size:
        return image
    x = image.permute(2, 0, 1)[None]
    return (
        torch.nn.functional.interpolate(x, (size, size), mode="area").squeeze(0).permute(1, 2, 0).contiguous()
    )


def sample_clip(assets: SceneAssets, seed: int, split: str, index: int) -> ClipParams:
    """Draw clip ``index`` of ``split`` in a run seeded ``seed``: the same whatever else is drawn."""
    cfg = assets.cfg
    gen = clip_generator(seed, split, index)
    people = tuple(sample_person(assets, split, gen) for _ in range(cfg.people))
    h, w = cfg.height, cfg.width
    if assets.background_folders is not None:
        folder = assets.background_folders[split]
        background = folder.sample(h, w, gen)
        background_name = folder.source
    elif assets.photos is not None and bool(torch.rand((), generator=gen) < 0.5):
        background, background_name = assets.photos.sample(h, w, gen), "skimage"
    else:
        background, background_name = random_background(h, w, gen, cfg.background), "procedural"
    cam = cfg.camera
    distance = max(
        cam.distance_min, cam.distance_mean + cam.distance_std * float(torch.randn((), generator=gen))
    )
    placement = torch.rand(64, 2, generator=gen, dtype=torch.float64)
    return ClipParams(
        split, index, clip_seed(seed, split, index), people, background, background_name, distance, placement
    )


_FOOTPRINT_STEP = 7
"""Every 7th vertex measures a person's footprint (the surface is dense enough at that sampling)."""


def _pose_person(
    body: BodyModel, person: PersonParams, device: torch.device
) -> tuple[Tensor, Tensor, Tensor]:
    """(T, V, 3) vertices, (T, 24, 3) joints and (T, 3) trans of a person standing on the ground."""
    T = person.pose.shape[0]
    pose = torch.as_tensor(person.pose, dtype=body.dtype, device=device)
    trans = torch.as_tensor(person.trans, dtype=body.dtype, device=device)
    betas = person.betas.to(device, body.dtype)[None].expand(T, -1)
    out = body(betas, pose, trans, normals=False)
    lift = out.vertices[..., 1].min()
    up = torch.tensor([0.0, 1.0, 0.0], dtype=body.dtype, device=device) * lift
    return out.vertices - up, out.joints - up, trans - up


def _place_people(verts: list[Tensor], joints: list[Tensor], gap: float, draws: Tensor) -> list[Tensor]:
    """Horizontal offsets (3,) for each person so that, at every frame, the vertical cylinders around
    people (radius: farthest vertex from the pelvis over the clip, plus ``gap`` / 2) do not overlap.
    Person 0 stays; person p tries directions and distances from ``draws`` (N, 2) in [0, 1), farther
    with each failure, around the people already placed."""
    roots = [j[:, 0, [0, 2]] for j in joints]  # (T, 2) each
    radii = [
        float((v[:, ::_FOOTPRINT_STEP, [0, 2]] - r[:, None]).norm(dim=-1).max()) + gap / 2
        for v, r in zip(verts, roots, strict=True)
    ]
    offsets = [roots[0].new_zeros(2)]
    for p in range(1, len(verts)):
        centre = torch.stack([roots[q] + offsets[q] for q in range(p)]).mean((0, 1))
        own = roots[p].mean(0)
        for k in range(10_000):
            angle, extra = draws[k % len(draws)]
            reach = (radii[p] + max(radii[:p])) * (1.0 + float(extra) + 0.25 * (k // len(draws)))
            step = torch.stack([torch.cos(2 * math.pi * angle), torch.sin(2 * math.pi * angle)]).to(own)
            offset = centre + reach * step - own
            apart = all(
                bool(((roots[p] + offset - roots[q] - offsets[q]).norm(dim=-1) >= radii[p] + radii[q]).all())
                for q in range(p)
            )
            if apart:
                break
        offsets.append(offset)
    return [torch.stack([o[0], o.new_zeros(()), o[1]]) for o in offsets]


def fit_camera(
    points: Tensor, pelvis_height: float, distance: float, cfg: SceneConfig
) -> tuple[Tensor, Tensor, float]:
    """A level camera looking along world -Z at the horizontal centre of ``points`` (N, 3) world,
    ``distance`` metres in front of it at ``pelvis_height``; with ``cfg.camera.keep_in_frame`` moved
    back as little as needed for every point to project inside the image, ``margin`` from its border.
    Returns R (3, 3), t (3,) and the distance used."""
    cam = cfg.camera
    lo, hi = points.amin(0), points.amax(0)
    cx, cz = float(lo[0] + hi[0]) / 2, float(lo[2] + hi[2]) / 2
    f = cfg.focal_pixels
    if cam.keep_in_frame:
        nearer = points[:, 2] - cz  # the camera is on the +Z side: z_cam = distance - nearer
        half_w = cfg.width / 2 - cam.margin * cfg.width
        half_h = cfg.height / 2 - cam.margin * cfg.height
        need_x = f * (points[:, 0] - cx).abs() / half_w + nearer
        need_y = f * (points[:, 1] - pelvis_height).abs() / half_h + nearer
        need_near = nearer + cam.distance_min
        distance = max(distance, float(torch.cat([need_x, need_y, need_near]).max()))
    eye = torch.tensor([[cx, pelvis_height, cz + distance]], dtype=torch.float64)
    target = eye - torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64)
    from synthhuman.render.cameras import look_at

    R, t = look_at(eye, target)
    return R[0], t[0], distance


def build_clip(assets: SceneAssets, params: ClipParams, device: torch.device | str = "cpu") -> ClipGeometry:
    """Pose a sampled clip on ``device``: feet on the ground, people apart, the whole clip in frame."""
    cfg = assets.cfg
    device = torch.device(device)
    posed = [_pose_person(assets.body_on(p.gender, device), p, device) for p in params.people]
    verts, joints, trans = (list(x) for x in zip(*posed, strict=True))
    offsets = _place_people(verts, joints, cfg.person_gap, params.placement)
    verts = [v + o.to(v) for v, o in zip(verts, offsets, strict=True)]
    joints = [j + o.to(j) for j, o in zip(joints, offsets, strict=True)]
    trans = [tr + o.to(tr) for tr, o in zip(trans, offsets, strict=True)]
    points = torch.cat([v.reshape(-1, 3) for v in verts]).double().cpu()
    R, t, distance = fit_camera(points, float(joints[0][0, 0, 1]), params.distance, cfg)
    T = cfg.frames
    dtype = verts[0].dtype
    K = intrinsics(
        cfg.focal_pixels, ((cfg.width - 1) / 2, (cfg.height - 1) / 2), T, dtype=dtype, device=device
    )
    cams = Cameras(
        K, R.to(device, dtype).expand(T, 3, 3), t.to(device, dtype).expand(T, 3), (cfg.height, cfg.width)
    )
    pose = torch.stack([torch.as_tensor(p.pose, dtype=dtype, device=device) for p in params.people], 1)
    return ClipGeometry(
        params, torch.cat(verts, 1), torch.stack(joints, 1), pose, torch.stack(trans, 1), cams, distance
    )


@dataclass(frozen=True)
class Segment:
    """Frames ``[start, stop)`` of one built clip rendered together; the frames ``[keep_start, keep_stop)``
    are kept, the others are there only as neighbours for flow."""

    clip: ClipGeometry
    start: int
    stop: int
    keep_start: int
    keep_stop: int


def segments(clip: ClipGeometry, max_frames: int, backward: bool) -> list[Segment]:
    """Split a clip into segments of at most ``max_frames`` rendered frames whose kept frames tile it.
    Each segment also renders the frame after its kept frames (forward flow) and, with ``backward``, the
    one before (backward flow), so flow is exact across segment borders."""
    T = clip.verts.shape[0]
    pad = 1 + int(backward)
    require(max_frames > pad, "batch_frames", f"> {pad} (room for flow's neighbour frames)", max_frames)
    out, k = [], 0
    while k < T:
        start = k - 1 if backward and k > 0 else k
        stop = min(T, start + max_frames)
        keep_stop = stop if stop == T else stop - 1
        out.append(Segment(clip, start, stop, k, keep_stop))
        k = keep_stop
    return out


def frame_batch(segs: list[Segment], assets: SceneAssets, backward: bool) -> FrameBatch:
    """The renderer's batch for ``segs`` (all on one device): frames of each segment in order, next (and
    with ``backward`` previous) frame indices chaining within a segment, one texture per person."""
    picks = [(s.clip, torch.arange(s.start, s.stop, device=s.clip.verts.device)) for s in segs]
    return _picked_batch(picks, assets, chained=True, backward=backward)


def stills_batch(picks: list[tuple[ClipGeometry, Tensor]], assets: SceneAssets) -> FrameBatch:
    """The renderer's batch for single frames: for each (clip, (N,) int64 frame indices) pair, those
    frames in that order, with no neighbours (no flow); one texture per person of each clip."""
    return _picked_batch(picks, assets, chained=False, backward=False)


def _picked_batch(
    picks: list[tuple[ClipGeometry, Tensor]], assets: SceneAssets, chained: bool, backward: bool
) -> FrameBatch:
    verts, joints, K, R, t, bg, sh, tex, nxt, prv = [], [], [], [], [], [], [], [], [], []
    base = 0
    P = assets.cfg.people
    for i, (c, frames) in enumerate(picks):
        n = frames.shape[0]
        verts.append(c.verts[frames])
        joints.append(c.joints[frames])
        K.append(c.cameras.K[frames])
        R.append(c.cameras.R[frames])
        t.append(c.cameras.t[frames])
        device, dtype = c.verts.device, c.verts.dtype
        bg.append(c.params.background.to(device, dtype)[None].expand(n, -1, -1, -1))
        sh.append(torch.stack([p.light for p in c.params.people]).to(device, dtype)[None].expand(n, -1, -1))
        tex.append(torch.arange(i * P, (i + 1) * P, device=device)[None].expand(n, -1))
        local = torch.arange(n, device=device)
        none = torch.full_like(local, -1)
        nxt.append(torch.where(local + 1 < n, base + local + 1, -1) if chained else none)
        prv.append(torch.where(local > 0, base + local - 1, -1) if chained else none)
        base += n
    textures = torch.stack([p.texture for c, _ in picks for p in c.params.people]).to(device, dtype)
    cams = Cameras(torch.cat(K), torch.cat(R), torch.cat(t), picks[0][0].cameras.image_size)
    return FrameBatch(
        verts=torch.cat(verts),
        cameras=cams,
        textures=build_mipmaps(textures),
        texture_index=torch.cat(tex),
        sh=torch.cat(sh),
        background=torch.cat(bg),
        joints=torch.cat(joints),
        next_index=torch.cat(nxt),
        prev_index=torch.cat(prv) if backward else None,
    )
