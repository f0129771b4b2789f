"""The process memory settings the commands make first: glibc keeps freed memory, torch asks for huge pages
(unless the environment says otherwise)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = (
    "import os\n"
    "from synthhuman._memory import tune_memory\n"
    "tune_memory()\n"
    "print(os.environ['THP_MEM_ALLOC_ENABLE'])\n"
)


@pytest.mark.parametrize(("given", "expected"), [(None, "1"), ("0", "0"), ("1", "1")])
def test_torch_huge_pages_on_unless_the_environment_says(given, expected):
    env = {k: v for k, v in os.environ.items() if k != "THP_MEM_ALLOC_ENABLE"}
    if given is not None:
        env["THP_MEM_ALLOC_ENABLE"] = given
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected


def test_the_cli_sets_the_memory_up_before_any_command(monkeypatch):
    from typer.testing import CliRunner

    from synthhuman import _memory
    from synthhuman.cli import app

    calls = []
    monkeypatch.setattr(_memory, "tune_memory", lambda: calls.append("tuned"))
    result = CliRunner().invoke(app, ["generate", "--help"])
    assert result.exit_code == 0 and calls == ["tuned"]
