"""HIPS autograd shares the import name `autograd`: a foreign one in the way of ours is one clear
line (an ImportError when it shadows ours or was installed over it, a warning beside it)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(tmp_path, code):
    # our packages come from ROOT; tmp_path goes first, as a foreign site-packages would
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )


def test_a_foreign_autograd_shadowing_ours_is_one_clear_line(tmp_path):
    (tmp_path / "autograd").mkdir()
    (tmp_path / "autograd" / "__init__.py").write_text(
        "# as HIPS autograd's top level reads\nfrom builtins import len as grad\n"
    )
    done = run(tmp_path, "import nn")
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: stepgrad: the 'autograd' package imported from ")
    assert str(tmp_path / "autograd") in last and "HIPS autograd" in last
    assert "separate virtual environments" in last


def test_hips_autograd_installed_beside_ours_warns_once(tmp_path):
    info = tmp_path / "autograd-1.7.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: autograd\nVersion: 1.7.0\n")
    done = run(tmp_path, "import nn, autograd; print(autograd.Tensor.__name__)")
    assert done.returncode == 0 and done.stdout.strip() == "Tensor"
    lines = [ln for ln in done.stderr.splitlines() if "HIPS autograd 1.7.0 is installed" in ln]
    assert len(lines) == 1 and "separate virtual environments" in lines[0]


def test_no_word_when_only_ours_is_there(tmp_path):
    done = run(tmp_path, "import nn")
    assert done.returncode == 0 and "HIPS" not in done.stderr
