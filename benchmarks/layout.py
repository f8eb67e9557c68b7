"""How long drawing a graph takes: the SVG (`viz.draw_graph`, laid out by Graphviz's dot) and the
step-through viewer's HTML (`viz.export_html`, which `viz.step_through` shares), for graphs of
about 100, 1k, 2k and 10k Values, and how fast the size guard refuses a graph too large.

The graphs are micrograd's demo loss on one point: `MLP(2, [h1, h2, 1])` of `autograd.Value`,
the hinge loss `(1 + -y*score).relu()` plus the L2 term `1e-4 * sum(p*p)` (that term is what
makes the layout hard: every parameter is used near the inputs and again near the loss). The
1k graph is the one of issue 8: MLP(2, [12, 12, 1]), 1,008 Values.

    .venv/bin/python benchmarks/layout.py [--sizes 100,1k,2k,10k] [--no-browser]

With Playwright and /usr/bin/chromium, the time until the exported page has drawn its first
frame in headless Chromium is printed too. Goals (issue 8): SVG and viewer of the 1k and 2k
graphs under 10 s each; the 10k graph collapsed by module (SVG) and uncollapsed (viewer) under
30 s; a graph past what can be laid out refused in under a second.
"""

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import viz  # noqa: E402
from autograd import Value, scope  # noqa: E402
from nn.scalar import MLP  # noqa: E402
from viz.graph import LAYOUT_BUDGET, LayoutPlan  # noqa: E402
from viz.steps import VIEWER_BUDGET, VIEWER_DOT_MAX  # noqa: E402
from viz.trace import Trace  # noqa: E402

SIZES = {"100": (3, 2), "1k": (12, 12), "2k": (18, 18), "10k": (43, 43), "too large": (64, 64)}
CHROMIUM = Path("/usr/bin/chromium")


def demo_loss(hidden, scopes=False, seed=0):
    """micrograd's demo loss on one point for MLP(2, [*hidden, 1]), after backward.

    `scopes`: each layer's nodes (and the loss's) tagged with autograd.scope, as nn modules
    tag theirs, so that collapse="module" has modules to collapse.
    """
    random.seed(seed)
    model = MLP(2, [*hidden, 1])
    x = [Value(0.5), Value(-1.5)]
    for k, layer in enumerate(model.layers):
        if scopes:
            with scope(f"layers.{k}"):
                x = layer(x)
        else:
            x = layer(x)
    scores = [x]
    y = [-1.0]
    with scope("loss") if scopes else _nothing():
        losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        total = data_loss + reg_loss
    total.backward()
    return total, model


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def timed(fn):
    t0 = time.perf_counter()
    try:
        out = fn()
    except viz.GraphTooLargeError as e:
        return time.perf_counter() - t0, e
    return time.perf_counter() - t0, out


def svg_time(loss, **kw):
    return timed(lambda: viz.draw_graph(loss, **kw).pipe(format="svg"))


def first_frame(browser, path):
    """Seconds until the exported page has mounted its viewer and drawn a frame."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        t0 = time.perf_counter()
        page.goto(path.as_uri(), timeout=120_000)
        page.wait_for_selector("#stepgrad-app .stepgrad-status", timeout=120_000)
        page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        return time.perf_counter() - t0
    finally:
        page.close()


def fmt(t, out=None):
    if isinstance(out, viz.GraphTooLargeError):
        return f"refused {t:.2f}"
    return f"{t:.2f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="100,1k,2k,10k,too large", help="of: " + ", ".join(SIZES)
    )
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium timing")
    args = parser.parse_args(argv)
    browser = None
    if not args.no_browser and CHROMIUM.exists():
        try:
            from playwright.sync_api import sync_playwright

            pw = sync_playwright().start()
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        except ImportError:
            browser = None
    print("seconds; 'refused' = the size guard's GraphTooLargeError (the time it took to say so)")
    head = f"{'graph':<10} {'MLP':<14} {'Values':>7} {'cost':>7} {'copies':>6}  "
    head += f"{'SVG (dot)':>10} {'SVG collapsed':>13} {'viewer HTML':>12}"
    if browser:
        head += f" {'Chromium':>9}"
    print(head)
    with tempfile.TemporaryDirectory() as tmp:
        for key in [s.strip() for s in args.sizes.split(",")]:
            hidden = SIZES[key]
            loss, _ = demo_loss(hidden)
            trace = Trace(loss)
            plan = LayoutPlan(trace)
            t_svg, out_svg = svg_time(loss)
            scoped, model = demo_loss(hidden, scopes=True)
            names = dict(model.named_parameters())
            t_col, out_col = svg_time(scoped, collapse="module", names=names)
            path = Path(tmp) / f"{key.replace(' ', '_')}.html"
            t_html, out_html = timed(lambda loss=loss, path=path: viz.export_html(loss, path))
            line = (
                f"{key:<10} {'2-' + '-'.join(map(str, hidden)) + '-1':<14} {len(trace.nodes):>7} "
                f"{plan.cost:>7} {len(plan.copies):>6}  {fmt(t_svg, out_svg):>10} "
                f"{fmt(t_col, out_col):>13} {fmt(t_html, out_html):>12}"
            )
            if browser:
                shown = "-"
                if not isinstance(out_html, viz.GraphTooLargeError):
                    shown = f"{first_frame(browser, path):.2f}"
                line += f" {shown:>9}"
            print(line, flush=True)
    if browser:
        browser.close()
        pw.stop()
    print(
        "cost: the guard's estimate (boxes + ranks crossed by long edges; limit "
        f"{LAYOUT_BUDGET} for the SVG, {VIEWER_BUDGET} for the viewer, which lays out graphs "
        f"over {VIEWER_DOT_MAX} with viz/layout.py)"
    )


if __name__ == "__main__":
    main()
