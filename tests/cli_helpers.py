"""Shared checks of the command line's answers to bad input."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from synthhuman.cli import app


def assert_generate_refuses(tmp_path: Path, flags: list[str], expected: str) -> None:
    """``generate --out TMP/o *flags`` exits 2 with one line holding ``expected`` and writes nothing."""
    res = CliRunner().invoke(app, ["generate", "--out", str(tmp_path / "o"), *flags])
    assert res.exit_code == 2
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], res.output
    assert not (tmp_path / "o").exists()
