"""Make the README's pictures from the demo's own output: the graph of one iris flower's loss
(SVG, as the demo writes it) and a still of the step-through viewer (PNG, taken by headless
Chromium from the demo's HTML page), into docs/images/.

Run by `./dev.sh docs`, or alone: `.venv/bin/python docs/make_pictures.py [--out DIR]`.
tests/test_docs_pictures.py fails when the committed pictures differ from what this makes now.
"""

import argparse
import contextlib
import io
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
CHROMIUM = "/usr/bin/chromium"
GRAPH = "iris_loss_graph.svg"
STILL = "iris_backprop.png"
VIEWPORT = {"width": 1200, "height": 760}
STEPS = 9  # the still shows the viewer after this many steps of backward (arrow-key presses)


def run_demo(folder):
    """The demo itself, writing its SVG and HTML into `folder` (its printing kept quiet)."""
    sys.path.insert(0, str(ROOT / "notebooks"))
    try:
        import demo
    finally:
        sys.path.pop(0)
    with contextlib.redirect_stdout(io.StringIO()):
        demo.main(["--out", str(folder)])
    return folder / "iris_loss_graph.svg", folder / "iris_backprop.html"


def screenshot(html, png, steps=STEPS):
    """Open the exported viewer in headless Chromium, step `steps` times, save a PNG."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
        )
        try:
            page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
            page.goto(html.resolve().as_uri())
            page.wait_for_selector("#stepgrad-app svg")
            page.focus("#stepgrad-app")
            for _ in range(steps):
                page.keyboard.press("ArrowRight")
            page.wait_for_timeout(200)  # let a scroll into view or a transition finish
            height = page.evaluate("document.documentElement.scrollHeight")
            clip = {
                "x": 0,
                "y": 0,
                "width": VIEWPORT["width"],
                "height": min(height, VIEWPORT["height"]),
            }
            page.screenshot(path=str(png), clip=clip)
        finally:
            browser.close()


def make(out=IMAGES):
    """Write both pictures into `out`; returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        svg, html = run_demo(Path(tmp))
        shutil.copyfile(svg, out / GRAPH)
        screenshot(html, out / STILL)
    return out / GRAPH, out / STILL


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMAGES, help="folder (default docs/images)")
    args = parser.parse_args(argv)
    for path in make(args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
