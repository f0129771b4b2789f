"""The loaded assets of a run (:class:`SceneAssets`): bodies, shape samplers, motion pools split into
train and test, texture folders, backgrounds, the shared topology, UV bakes and content digests."""

from __future__ import annotations

import copy
import hashlib
import math
import warnings
from functools import cached_property
from pathlib import Path

import torch

from synthhuman.appearance.backgrounds import ImageFolderBackgrounds, photo_like_photos, skimage_backgrounds
from synthhuman.appearance.texture_folder import TextureFolder
from synthhuman.appearance.textures import UVBake, bake_uv_layout, part_colours
from synthhuman.body.default_body import load_default_body
from synthhuman.body.model import BodyModel
from synthhuman.body.shapes import DefaultBodyShapes, SurrealShapes
from synthhuman.body.smpl_files import SmplFileError
from synthhuman.conventions import SPLITS
from synthhuman.motion.sequence import PoseSequence, is_cyclic, resample
from synthhuman.pipeline import Topology
from synthhuman.scene.config import AssetConfig, SceneConfig
from synthhuman.scene.ground import ground_topology
from synthhuman.scene.occluders import occluder_template

BUNDLED_TEST_MOTIONS = ("getup_facedown", "punch", "run")
"""The bundled library's test split (3 of its 15 clips, about SURREAL's 20 %); the rest is train."""


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


class SceneAssets:
    """The loaded assets of a run: bodies by gender, shape samplers, motion pools, textures and
    backgrounds per split. Loading checks every asset once, before any clip is rendered; ``splits``: the
    splits whose clips will be drawn (only those need textures and backgrounds of their own)."""

    def __init__(
        self, cfg: SceneConfig, assets: AssetConfig = AssetConfig(), splits: tuple[str, ...] = SPLITS
    ) -> None:
        self.cfg, self.paths, self.splits = cfg, assets, splits
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
        if self.texture_folder is not None:
            for g in cfg.genders:
                for s in splits:
                    self.texture_folder.check(g, s)
        self.background_folders = (
            {
                s: ImageFolderBackgrounds(assets.backgrounds, s, cfg.test_fraction, cfg.background)
                for s in splits
            }
            if assets.backgrounds and assets.backgrounds != "skimage"
            else None
        )
        for folder in (self.background_folders or {}).values():
            folder.check()
        self.photos = skimage_backgrounds(cfg.background) if assets.backgrounds == "skimage" else None
        if assets.backgrounds == "skimage" and self.photos is None:
            raise ValueError("backgrounds: 'skimage' needs scikit-image installed (pip install scikit-image)")
        photo_like = cfg.background.style == "photo-like" and self.background_folders is None
        self.look_photos = photo_like_photos(cfg.background) if photo_like else None
        """The photo-like style's photos (None without scikit-image: procedural kinds only)."""
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
            genders = self.cfg.genders
            try:
                model = BodyModel(path, uv_template=p.uv_template)
            except SmplFileError as exc:
                if "cannot tell the gender" not in str(exc):
                    raise
                if len(genders) != 1:
                    raise ValueError(
                        f"{path}: its name and fields tell no gender; pass --gender neutral, male or female "
                        '(scene.genders = ["neutral"] in a config file)'
                    ) from None
                model = BodyModel(path, gender=genders[0], uv_template=p.uv_template)
            bad = [g for g in genders if g != model.gender]
            if bad and model.gender != "neutral":
                raise ValueError(
                    f"{path}: a {model.gender} model file; genders {genders} asked for (use --gender "
                    f"{model.gender})"
                )
            return {g: model for g in genders}
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
        source = self.paths.motion or "bundled motion library"
        usable = [seq for s in SPLITS for seq in pools[s]]
        if not usable:
            raise ValueError(
                f"{source}: no usable motion (skipped: {self.skipped[:10]}); give sequences of at least "
                f"{shortest} frames at {self.cfg.fps:g} fps, or make clips shorter (scene.frames)"
            )
        for s in self.splits:
            if not pools[s]:
                warnings.warn(
                    f"{source}: no usable motion falls in the {s} split (test_fraction "
                    f"{self.cfg.test_fraction}); both splits share all {len(usable)} sequences; add more "
                    "sequences (other subjects) to keep the splits apart",
                    stacklevel=3,
                )
                pools[s] = usable
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
        uv_faces = uv_faces.repeat(P, 1)  # every person samples its own texture with the same UVs
        labels = body.face_labels.repeat(P)
        instance = torch.arange(1, P + 1).repeat_interleave(body.faces.shape[0])
        K = self.cfg.occluders.count
        if K:  # occluder slots after the people: label 0, instances P + 1 .. P + K, their own UV atlas
            slot = occluder_template()
            nf = slot.faces.shape[0]
            faces = torch.cat(
                [
                    faces,
                    (slot.faces[None] + (P * V + torch.arange(K) * slot.num_verts)[:, None, None]).reshape(
                        -1, 3
                    ),
                ]
            )
            uv_faces = torch.cat([uv_faces, (slot.uv_faces + uv.shape[0]).repeat(K, 1)])
            uv = torch.cat([uv, slot.uv.to(uv.dtype)])
            labels = torch.cat([labels, labels.new_zeros(K * nf)])
            instance = torch.cat([instance, torch.arange(P + 1, P + K + 1).repeat_interleave(nf)])
        ground = 0
        if self.cfg.ground.enabled:  # the ground last: label 0, instance P + K + 1
            g_faces, g_uv, g_uv_faces = ground_topology()
            ground = g_faces.shape[0]
            faces = torch.cat([faces, g_faces + int(faces.max()) + 1])
            uv_faces = torch.cat([uv_faces, g_uv_faces + uv.shape[0]])
            uv = torch.cat([uv, g_uv.to(uv.dtype)])
            labels = torch.cat([labels, labels.new_zeros(ground)])
            instance = torch.cat([instance, torch.full((ground,), P + K + 1)])
        return Topology(
            faces=faces, uv=uv, uv_faces=uv_faces, face_labels=labels, face_instance=instance,
            ground_faces=ground, ground_labels=self.cfg.ground.labels,
        )  # fmt: skip

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
        if self.look_photos is not None:  # the photo-like style's photos, when this machine has them
            h = hashlib.sha256()
            for path in self.look_photos.paths:
                h.update(path.name.encode() + path.read_bytes())
            out["background_photos"] = f"scikit-image photos sha256:{h.hexdigest()}"
        return out
