"""Blender side of ``benchmarks/blender_compare.py``: renders the exchanged scene with Cycles on the CPU.

Runs inside ``benchmarks/.venv-bpy`` (the ``bpy`` 5.0.1 wheel, Python 3.11, numpy<2), never in the
project's venv: ``python blender_render.py SCENE.npz OUT_DIR [--paced]``. Writes
``OUT_DIR/blender_result.json``.

``--paced``: after each timed frame, print ``PACED <lighting> <height> <width> <frame> <seconds>`` on its own
line and wait for a line on stdin before the next, so that the caller can time its own renderer between
Cycles' frames, on the same stretch of the machine (``blender_compare.py`` does).

Scene (``SCENE.npz``, written by blender_compare.py): ``verts`` (V, 3) world metres (SMPL axes, +Y up: the
axes are passed through unchanged, Blender's Z-up plays no role), ``faces`` (F, 3), ``uv`` (Nuv, 2) and
``uv_faces`` (F, 3) (OBJ convention, as Blender's), ``K`` (N, 3, 3), ``R`` (N, 3, 3), ``t`` (N, 3) OpenCV
cameras (``X_cam = R X_world + t``) of N frames, ``sh`` (9,) SH coefficients, ``background`` (3,),
``texture_path``, ``sizes`` (M, 2) of (H, W), ``samples``, ``frames``.

Lighting: an OSL script node (``sh_irradiance.osl`` below, written for this benchmark after SURREAL's
``sh.osl``) computes albedo x max(E(n), 0) with the Ramamoorthi-Hanrahan irradiance of the 9 coefficients
at the world normal, exactly as ``synthhuman.render.shading.shade``; its colour feeds an Emission shader
(strength 1). If OSL cannot compile, the same formula is built from shader math nodes (``--no-osl`` forces
that). Colour management: view transform 'Raw' (or 'Standard' if Raw is missing) and the texture read as
Non-Color, so pixels are the shader's values as ours are.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import bpy
import mathutils
import numpy as np

OSL_SOURCE = """
// SH irradiance shading (Ramamoorthi & Hanrahan 2001), the coefficient order and axes of SURREAL's sh.osl
// and synthhuman.render.shading: n_surreal = (x, -y, -z) of the world normal.
shader sh_irradiance(
    color albedo = color(0.8),
    float sh[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0},
    output color Cout = 0)
{
    float c1 = 0.429043, c2 = 0.511664, c3 = 0.743125, c4 = 0.886227, c5 = 0.247708;
    vector nw = normalize(transform("common", "world", N));
    float x = nw[0], y = -nw[1], z = -nw[2];
    float e = c1 * sh[8] * (x * x - y * y) + c3 * sh[6] * z * z + c4 * sh[0] - c5 * sh[6]
        + 2 * c1 * (sh[4] * x * y + sh[7] * x * z + sh[5] * y * z)
        + 2 * c2 * (sh[3] * x + sh[1] * y + sh[2] * z);
    Cout = albedo * max(e, 0.0);
}
"""

_C1, _C2, _C3, _C4, _C5 = 0.429043, 0.511664, 0.743125, 0.886227, 0.247708


def _sh_matrix(L: np.ndarray) -> np.ndarray:
    """4x4 symmetric M with E = n_h^T M n_h, n_h = (x, y, z, 1) in SURREAL's axes."""
    return np.array(
        [
            [_C1 * L[8], _C1 * L[4], _C1 * L[7], _C2 * L[3]],
            [_C1 * L[4], -_C1 * L[8], _C1 * L[5], _C2 * L[1]],
            [_C1 * L[7], _C1 * L[5], _C3 * L[6], _C2 * L[2]],
            [_C2 * L[3], _C2 * L[1], _C2 * L[2], _C4 * L[0] - _C5 * L[6]],
        ]
    )


def _reset_scene() -> bpy.types.Scene:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return bpy.context.scene


def _mesh_object(scene, verts, faces, uv, uv_faces):
    mesh = bpy.data.meshes.new("body")
    mesh.from_pydata(verts.tolist(), [], faces.tolist())
    layer = mesh.uv_layers.new(name="UVMap")
    corner_uv = uv[uv_faces.reshape(-1)]  # loops follow faces' corner order
    layer.data.foreach_set("uv", corner_uv.astype(np.float32).ravel())
    try:
        mesh.shade_smooth()
    except AttributeError:
        mesh.polygons.foreach_set("use_smooth", np.ones(len(faces), dtype=bool))
    mesh.update()
    obj = bpy.data.objects.new("body", mesh)
    obj.pass_index = 1
    scene.collection.objects.link(obj)
    return obj


def _sh_radiance_matrix(L: np.ndarray) -> np.ndarray:
    """4x4 symmetric Q with radiance sum_lm L_lm Y_lm(w) = w_h^T Q w_h, w_h = (x, y, z, 1), SURREAL axes."""
    a, b, c, d, e = 0.282095, 0.488603, 1.092548, 0.315392, 0.546274
    return np.array(
        [
            [e * L[8], c * L[4] / 2, c * L[7] / 2, b * L[3] / 2],
            [c * L[4] / 2, -e * L[8], c * L[5] / 2, b * L[1] / 2],
            [c * L[7] / 2, c * L[5] / 2, 3 * d * L[6], b * L[2] / 2],
            [b * L[3] / 2, b * L[1] / 2, b * L[2] / 2, a * L[0] - d * L[6]],
        ]
    )


def _quadratic(nodes, links, vector, M: np.ndarray):
    """Shader nodes computing max(v_h^T M v_h, 0) for the unit world vector socket ``vector`` taken to
    SURREAL's axes (x, -y, -z): x d0 + y d1 + z d2 + d3 with d_i = M_i[:3] . v + M_i[3]."""
    flip = nodes.new("ShaderNodeVectorMath")
    flip.operation = "MULTIPLY"
    flip.inputs[1].default_value = (1.0, -1.0, -1.0)
    links.new(vector, flip.inputs[0])
    sep = nodes.new("ShaderNodeSeparateXYZ")
    links.new(flip.outputs["Vector"], sep.inputs["Vector"])

    def dot_plus(row: np.ndarray):
        dot = nodes.new("ShaderNodeVectorMath")
        dot.operation = "DOT_PRODUCT"
        links.new(flip.outputs["Vector"], dot.inputs[0])
        dot.inputs[1].default_value = tuple(float(v) for v in row[:3])
        add = nodes.new("ShaderNodeMath")
        add.operation = "ADD"
        links.new(dot.outputs["Value"], add.inputs[0])
        add.inputs[1].default_value = float(row[3])
        return add.outputs["Value"]

    total = dot_plus(M[3])
    for i, axis in enumerate("XYZ"):
        mul = nodes.new("ShaderNodeMath")
        mul.operation = "MULTIPLY"
        links.new(sep.outputs[axis], mul.inputs[0])
        links.new(dot_plus(M[i]), mul.inputs[1])
        add = nodes.new("ShaderNodeMath")
        add.operation = "ADD"
        links.new(total, add.inputs[0])
        links.new(mul.outputs["Value"], add.inputs[1])
        total = add.outputs["Value"]
    clamp = nodes.new("ShaderNodeMath")
    clamp.operation = "MAXIMUM"
    links.new(total, clamp.inputs[0])
    clamp.inputs[1].default_value = 0.0
    return clamp.outputs["Value"]


def _material(
    texture_path: str, sh: np.ndarray, lighting: str, use_osl: bool, out_dir: Path
) -> tuple[bpy.types.Material, str]:
    """The body's material. lighting 'emission': albedo x SH irradiance as an Emission shader (SURREAL's
    way: no light transport at all). 'diffuse_env': a Diffuse BSDF (Lambert) with the texture as colour,
    lit by the world (see :func:`_world`), path traced with Cycles' default bounces."""
    mat = bpy.data.materials.new("body")
    mat.pass_index = 1
    mat.use_nodes = True
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    nodes.clear()
    out = nodes.new("ShaderNodeOutputMaterial")
    tex = nodes.new("ShaderNodeTexImage")
    tex.image = bpy.data.images.load(texture_path)
    tex.image.colorspace_settings.name = "Non-Color"
    tex.interpolation = "Linear"
    uvmap = nodes.new("ShaderNodeUVMap")
    uvmap.uv_map = "UVMap"
    links.new(uvmap.outputs["UV"], tex.inputs["Vector"])
    if lighting == "diffuse_env":
        diffuse = nodes.new("ShaderNodeBsdfDiffuse")
        links.new(tex.outputs["Color"], diffuse.inputs["Color"])
        links.new(diffuse.outputs["BSDF"], out.inputs["Surface"])
        return mat, "Diffuse BSDF (texture colour) lit by an SH environment (world), path traced"
    emit = nodes.new("ShaderNodeEmission")
    emit.inputs["Strength"].default_value = 1.0
    links.new(emit.outputs["Emission"], out.inputs["Surface"])
    if use_osl:
        osl_path = out_dir / "sh_irradiance.osl"
        osl_path.write_text(
            OSL_SOURCE.replace(
                "float sh[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0}",
                "float sh[9] = {" + ", ".join(f"{v:.9g}" for v in sh) + "}",
            )
        )
        script = nodes.new("ShaderNodeScript")
        script.mode = "EXTERNAL"
        script.filepath = str(osl_path)
        try:
            script.update()  # compiles and creates the sockets (needs Blender's oslquery module)
        except Exception as e:  # noqa: BLE001  (bpy raises plain Exceptions)
            print(f"OSL script node failed: {e!r}", file=sys.stderr)
        if "albedo" in script.inputs and "Cout" in script.outputs:
            links.new(tex.outputs["Color"], script.inputs["albedo"])
            links.new(script.outputs["Cout"], emit.inputs["Color"])
            return mat, "OSL script node (SH irradiance, SURREAL-style) -> Emission"
        nodes.remove(script)
    geo = nodes.new("ShaderNodeNewGeometry")
    irradiance = _quadratic(nodes, links, geo.outputs["Normal"], _sh_matrix(sh))
    mix = nodes.new("ShaderNodeVectorMath")
    mix.operation = "SCALE"
    links.new(tex.outputs["Color"], mix.inputs[0])
    links.new(irradiance, mix.inputs["Scale"])
    links.new(mix.outputs["Vector"], emit.inputs["Color"])
    return mat, "albedo x SH irradiance from shader math nodes -> Emission (OSL script node unavailable)"


def _world(background: np.ndarray, sh: np.ndarray, lighting: str) -> bpy.types.World:
    """Camera rays see the constant background. 'diffuse_env': other rays see the radiance
    pi * max(sum_lm L_lm Y_lm(w), 0), so that an unoccluded Lambert surface of albedo a shows a x E(n),
    E being Ramamoorthi-Hanrahan's irradiance of the coefficients, as in our renderer (then Cycles adds
    what ours leaves out: self-occlusion and inter-reflection)."""
    world = bpy.data.worlds.new("world")
    world.use_nodes = True
    nodes, links = world.node_tree.nodes, world.node_tree.links
    bg = nodes["Background"]
    bg.inputs["Color"].default_value = (*[float(c) for c in background], 1.0)
    bg.inputs["Strength"].default_value = 1.0
    if lighting != "diffuse_env":
        return world
    coord = nodes.new("ShaderNodeTexCoord")
    norm = nodes.new("ShaderNodeVectorMath")
    norm.operation = "NORMALIZE"
    links.new(coord.outputs["Generated"], norm.inputs[0])  # world: the ray direction
    radiance = _quadratic(nodes, links, norm.outputs["Vector"], _sh_radiance_matrix(sh))
    env = nodes.new("ShaderNodeBackground")
    env.inputs["Strength"].default_value = float(np.pi)
    links.new(radiance, env.inputs["Color"])
    path = nodes.new("ShaderNodeLightPath")
    mix = nodes.new("ShaderNodeMixShader")
    links.new(path.outputs["Is Camera Ray"], mix.inputs["Fac"])
    links.new(env.outputs["Background"], mix.inputs[1])
    links.new(bg.outputs["Background"], mix.inputs[2])
    links.new(mix.outputs["Shader"], nodes["World Output"].inputs["Surface"])
    return world


def _set_camera(cam_obj, K, R, t, h, w) -> None:
    """OpenCV (K, R, t) -> Blender camera: lens from the focal in pixels over a 36 mm horizontal sensor,
    principal point via shift (units of the larger image side), axes x right, y up, looking down -Z."""
    cam = cam_obj.data
    cam.sensor_fit = "HORIZONTAL" if w >= h else "VERTICAL"
    cam.sensor_width = cam.sensor_height = 36.0
    side = max(w, h)
    cam.lens = float(K[0, 0]) * 36.0 / side
    # Ours: pixel centres at integer coordinates; Blender: the image spans [0, W] x [0, H].
    cam.shift_x = float((w / 2 - (K[0, 2] + 0.5)) / side)
    cam.shift_y = float(((K[1, 2] + 0.5) - h / 2) / side)
    cam.clip_start, cam.clip_end = 0.01, 1000.0
    rot = R.T @ np.diag([1.0, -1.0, -1.0])  # camera-to-world, Blender camera axes
    mw = np.eye(4)
    mw[:3, :3] = rot
    mw[:3, 3] = -R.T @ t
    loc, quat, _ = mathutils.Matrix(mw.tolist()).decompose()
    cam_obj.rotation_mode = "QUATERNION"
    cam_obj.location, cam_obj.rotation_quaternion = loc, quat


def _exr_channels(path: Path) -> list[str]:
    """Channel names of every part of an OpenEXR file (Blender 5 writes multilayer EXRs as multipart)."""
    data = path.read_bytes()[:262144]
    multipart = bool(int.from_bytes(data[4:8], "little") & 0x1000)
    pos, out = 8, []
    while True:
        while data[pos] != 0:  # one header: attributes until a null byte
            end = data.index(b"\0", pos)
            name = data[pos:end].decode()
            end2 = data.index(b"\0", end + 1)
            size = int.from_bytes(data[end2 + 1 : end2 + 5], "little")
            value = data[end2 + 5 : end2 + 5 + size]
            if name == "channels":
                p = 0
                while value[p] != 0:
                    e = value.index(b"\0", p)
                    out.append(value[p:e].decode())
                    p = e + 1 + 16
            pos = end2 + 5 + size
        pos += 1
        if not multipart or data[pos] == 0:
            return out


def main() -> None:
    argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:]
    use_osl = "--no-osl" not in argv
    paced = "--paced" in argv
    argv = [a for a in argv if not a.startswith("--")]
    scene_path, out_dir = Path(argv[0]), Path(argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    d = np.load(scene_path, allow_pickle=False)
    frames, samples = int(d["frames"]), int(d["samples"])
    lightings = [str(x) for x in d["lightings"]]
    result = {"blender": bpy.app.version_string, "runs": []}
    for lighting in lightings:
        for h, w in d["sizes"].tolist():
            result["runs"].append(_render_size(d, lighting, h, w, frames, samples, use_osl, out_dir, paced))
    result["osl_requested"] = use_osl
    result["paced"] = paced
    (out_dir / "blender_result.json").write_text(json.dumps(result, indent=1))


def _render_size(
    d, lighting: str, h: int, w: int, frames: int, samples: int, use_osl: bool, out_dir: Path, paced: bool
):
    t_setup = time.perf_counter()
    scene = _reset_scene()
    scene.render.engine = "CYCLES"
    cy = scene.cycles
    cy.device = "CPU"
    cy.samples = samples
    cy.use_adaptive_sampling = False
    cy.use_denoising = False
    if lighting == "emission":
        cy.max_bounces = 0  # emission only: nothing to bounce
    scene.render.resolution_x, scene.render.resolution_y = w, h
    scene.render.resolution_percentage = 100
    scene.render.use_motion_blur = False  # the vector pass needs it off
    scene.render.threads_mode = "AUTO"
    for vt in ("Raw", "Standard"):
        try:
            scene.view_settings.view_transform = vt
            break
        except TypeError:
            continue
    scene.view_settings.look = "None"
    scene.view_settings.exposure, scene.view_settings.gamma = 0.0, 1.0
    scene.world = _world(d["background"], d["sh"], lighting)
    vl = scene.view_layers[0]
    for p in ("combined", "z", "normal", "object_index", "material_index", "vector"):
        setattr(vl, f"use_pass_{p}", True)
    obj = _mesh_object(scene, d["verts"], d["faces"], d["uv"], d["uv_faces"])
    mat, shading = _material(str(d["texture_path"]), d["sh"], lighting, use_osl, out_dir)
    cy.shading_system = shading.startswith("OSL")  # OSL runs on the CPU only
    obj.data.materials.append(mat)
    cam_obj = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
    scene.collection.objects.link(cam_obj)
    scene.camera = cam_obj
    # Keyframed camera (a moving camera gives the vector pass real motion), frames 1..N.
    scale = w / float(d["width0"])
    for i in range(frames):
        K = d["K"][i].copy()
        K[0, 0] *= scale
        K[1, 1] *= scale
        K[0, 2] = (K[0, 2] + 0.5) * scale - 0.5
        K[1, 2] = (K[1, 2] + 0.5) * scale - 0.5
        _set_camera(cam_obj, K, d["R"][i], d["t"][i], h, w)
        cam_obj.keyframe_insert("location", frame=i + 1)
        cam_obj.keyframe_insert("rotation_quaternion", frame=i + 1)
    scene.frame_start, scene.frame_end = 1, frames
    img = scene.render.image_settings
    img.media_type = "MULTI_LAYER_IMAGE"
    img.file_format = "OPEN_EXR_MULTILAYER"
    img.color_depth = "32"
    img.exr_codec = "ZIP"
    setup_s = time.perf_counter() - t_setup

    def render(frame: int, path: Path, write: bool = True) -> float:
        scene.frame_set(frame)
        scene.render.filepath = str(path)
        t0 = time.perf_counter()
        bpy.ops.render.render(write_still=write)
        return time.perf_counter() - t0

    stem = f"cycles_{lighting}_{w}x{h}"
    first = render(1, out_dir / f"{stem}_first.exr")
    times = []
    for i in range(2, frames + 1):
        times.append(render(i, out_dir / f"{stem}_{i:03d}.exr"))
        if paced:  # the caller times its renderer now; the next frame starts when it says so
            print(f"PACED {lighting} {h} {w} {i} {times[-1]:.6f}", flush=True)
            if not sys.stdin.readline():
                raise SystemExit("blender_render.py --paced: stdin closed by the caller")
    no_write = [render(i, out_dir / "unused", write=False) for i in range(2, min(frames, 5) + 1)]
    channels = _exr_channels(out_dir / f"{stem}_002.exr")
    # Frame 1 as an 8-bit PNG (RGB) for the side-by-side and the pixel comparison.
    img.media_type = "IMAGE"
    img.file_format, img.color_mode, img.color_depth = "PNG", "RGB", "8"
    render(1, out_dir / f"{stem}_frame1.png")
    print(f"cycles {lighting} {w}x{h}: {np.median(times):.3f} s/frame ({shading})", flush=True)
    return {
        "lighting": lighting,
        "height": h,
        "width": w,
        "setup_s": setup_s,
        "first_frame_s": first,
        "frame_s": times,
        "seconds_per_frame": float(np.median(times)),
        "seconds_per_frame_mean": float(np.mean(times)),
        "seconds_per_frame_no_write": float(np.median(no_write)) if no_write else None,
        "exr_channels": channels,
        "shading": shading,
        "osl": bool(cy.shading_system),
        "samples": samples,
        "max_bounces": cy.max_bounces,
        "png": str(out_dir / f"{stem}_frame1.png"),
        "threads": scene.render.threads,
    }


if __name__ == "__main__":
    main()
