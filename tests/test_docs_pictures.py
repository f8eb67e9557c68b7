"""The README's pictures are what docs/make_pictures.py makes from the demo now: the graph's SVG
text (after dropping Graphviz's version comment and whitespace) and the viewer's still (within a
small pixel tolerance, never by bytes). When this fails after a change to viz or the demo, run
`./dev.sh pictures` and commit docs/images/."""

import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
CHROMIUM = Path("/usr/bin/chromium")
FIX = "run ./dev.sh pictures and commit docs/images/"

sys.path.insert(0, str(ROOT / "docs"))
import make_pictures  # noqa: E402

sys.path.pop(0)


def normal_svg(text):
    """SVG text without comments (Graphviz's version line) and with whitespace runs collapsed."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return re.sub(r"\s+", " ", text).strip()


def differing_pixels(a, b, level=48):
    """The share of pixels whose colour differs by more than `level` (of 255) in any channel."""
    if a.shape != b.shape:
        return 1.0
    return float(np.mean(np.abs(a.astype(int) - b.astype(int)).max(axis=-1) > level))


def test_normal_svg_and_pixel_tolerance_can_fail():
    assert normal_svg("<!-- v 2.43 -->\n<svg>  <g/>\n</svg>") == normal_svg("<svg> <g/> </svg>")
    assert normal_svg("<text>0.9174</text>") != normal_svg("<text>0.9175</text>")
    a = np.zeros((10, 10, 3), np.uint8)
    b = a.copy()
    b[0, :3] = 255
    assert differing_pixels(a, b) == pytest.approx(0.03)
    assert differing_pixels(a, a[:5]) == 1.0


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing")
def test_committed_pictures_are_what_the_script_makes_now(tmp_path):
    pytest.importorskip("playwright.sync_api")
    Image = pytest.importorskip("PIL.Image")
    svg, png = make_pictures.make(tmp_path)
    committed_svg = IMAGES / make_pictures.GRAPH
    assert committed_svg.exists(), f"{committed_svg} is missing: {FIX}"
    assert normal_svg(svg.read_text(encoding="utf-8")) == normal_svg(
        committed_svg.read_text(encoding="utf-8")
    ), f"docs/images/{make_pictures.GRAPH} differs from the demo's graph now: {FIX}"
    new = np.asarray(Image.open(png).convert("RGB"))
    old = np.asarray(Image.open(IMAGES / make_pictures.STILL).convert("RGB"))
    share = differing_pixels(new, old)
    assert share < 0.005, (
        f"docs/images/{make_pictures.STILL} differs from the viewer now ({share:.1%} of pixels, "
        f"sizes {old.shape} and {new.shape}): {FIX}"
    )


def test_the_readme_shows_both_pictures():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in (make_pictures.GRAPH, make_pictures.STILL):
        assert f"](docs/images/{name})" in readme
