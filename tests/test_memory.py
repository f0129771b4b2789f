"""The process memory settings the commands make first: glibc keeps freed memory; torch's huge pages are
left as the environment says (opt-in: ``huge_pages_for_torch``)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = (
    "import os\n"
    "from synthhuman._memory import {call}\n"
    "{call}()\n"
    "print(os.environ.get('THP_MEM_ALLOC_ENABLE', 'unset'))\n"
)


def _run(call: str, given: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "THP_MEM_ALLOC_ENABLE"}
    if given is not None:
        env["THP_MEM_ALLOC_ENABLE"] = given
    script = SCRIPT.format(call=call)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.mark.parametrize(("given", "expected"), [(None, "unset"), ("0", "0"), ("1", "1")])
def test_the_commands_leave_torch_huge_pages_as_the_environment_says(given, expected):
    assert _run("tune_memory", given) == expected


@pytest.mark.parametrize(("given", "expected"), [(None, "1"), ("0", "0"), ("1", "1")])
def test_huge_pages_for_torch_opts_in_unless_the_environment_says(given, expected):
    assert _run("huge_pages_for_torch", given) == expected


def test_the_cli_sets_the_memory_up_before_any_command(monkeypatch):
    from typer.testing import CliRunner

    from synthhuman import _memory
    from synthhuman.cli import app

    calls = []
    monkeypatch.setattr(_memory, "tune_memory", lambda: calls.append("tuned"))
    result = CliRunner().invoke(app, ["generate", "--help"])
    assert result.exit_code == 0 and calls == ["tuned"]
