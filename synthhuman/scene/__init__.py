"""Scenes as SURREAL samples them, each distribution a config field.

The flow of one clip, one module per step:

1. :func:`sample_clip` (:mod:`.sampling`) draws everything random about the clip on CPU from the clip's
   own generator (``rng.clip_generator``): people (gender, shape, motion window, mirroring, speed, heading,
   texture, light), their placement, the background and the camera distance; a varied or moving camera
   (``CameraConfig.mode``) from a generator of its own (:func:`sample_camera`, :mod:`.camera_paths`).
2. :func:`build_clip` (:mod:`.posing`) poses the bodies on the render device, puts the feet on the ground,
   keeps everyone apart and places the camera, one per frame (SURREAL's static one, or
   :func:`camera_path`), so that every frame of the clip stays in frame.
3. :func:`segments` and :func:`frame_batch` (:mod:`.batch`) cut built clips into segments (with flow's
   neighbour frames) and pack them into the renderer's ``FrameBatch``; :func:`stills_batch` packs single
   frames.

The configs are in :mod:`.config`; the loaded bodies, motions, textures and backgrounds of a run
(:class:`SceneAssets`) in :mod:`.assets`. Everything public is importable from here:

    from synthhuman.scene import SceneAssets, SceneConfig, build_clip, frame_batch, sample_clip, segments
"""

from synthhuman.scene.assets import BUNDLED_TEST_MOTIONS, SceneAssets, file_digest
from synthhuman.scene.batch import Segment, frame_batch, segments, still_rows, stills_batch
from synthhuman.scene.camera_paths import CameraParams, CameraPath, camera_path, sample_camera
from synthhuman.scene.config import AssetConfig, CameraConfig, MotionConfig, SceneConfig
from synthhuman.scene.posing import ClipGeometry, build_clip, fit_camera
from synthhuman.scene.sampling import ClipParams, PersonParams, sample_clip, sample_person

__all__ = [
    "BUNDLED_TEST_MOTIONS",
    "AssetConfig",
    "CameraConfig",
    "CameraParams",
    "CameraPath",
    "ClipGeometry",
    "ClipParams",
    "MotionConfig",
    "PersonParams",
    "SceneAssets",
    "SceneConfig",
    "Segment",
    "build_clip",
    "camera_path",
    "file_digest",
    "fit_camera",
    "frame_batch",
    "sample_camera",
    "sample_clip",
    "sample_person",
    "segments",
    "still_rows",
    "stills_batch",
]
