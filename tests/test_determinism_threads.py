"""Clip i is the same bytes whatever the intra-op thread count of the process that renders it (a Ray
worker runs one thread, a local run one per core): every file of a run made with
``torch.set_num_threads(1)`` equals the one made with ``(2)``, each in a fresh process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import sys
    import torch

    torch.set_num_threads(int(sys.argv[1]))
    from synthhuman.generate import GenerateConfig, generate
    from synthhuman.scene import SceneConfig

    scene = SceneConfig(frames=6, height=96, width=128, people=2)  # bodies posed 6 frames at a time
    generate(GenerateConfig(out=sys.argv[2], clips=3, device="cpu", preview=False, scene=scene))
    assert torch.get_num_threads() == int(sys.argv[1])
    """
)


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "manifest.json"  # the manifest records the folder
    }


def test_same_bytes_with_one_and_two_threads(tmp_path):
    for n in (1, 2):
        subprocess.run(
            [sys.executable, "-c", SCRIPT, str(n), str(tmp_path / f"t{n}")], check=True, timeout=600
        )
    a, b = _files(tmp_path / "t1"), _files(tmp_path / "t2")
    assert a.keys() == b.keys() and any(k.endswith("labels.npz") for k in a)
    assert [k for k in a if a[k] != b[k]] == []
