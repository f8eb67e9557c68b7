"""The code style is part of the suite: `ruff check` and `ruff format --check` must pass."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("args", [["check"], ["format", "--check"]], ids=["check", "format"])
def test_ruff(args):
    run = subprocess.run(
        [sys.executable, "-m", "ruff", *args, "."], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 0, f"ruff {' '.join(args)} found problems:\n{run.stdout}{run.stderr}"
