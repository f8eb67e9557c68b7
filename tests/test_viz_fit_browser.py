"""What Debian's Chromium shows of the drawings: every text inside its box (the font is the one
Graphviz sized the boxes for), and the iris demo and a 64-128-64-10 digits MLP loss each fitting
a 1280x720 screen in the exported viewer with every label large enough to read."""

import sys
from pathlib import Path

import numpy as np
import pytest

import nn
import viz
from viz.font import FAMILY

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (./dev.sh test installs it)"
)
SCREEN = {"width": 1280, "height": 720}
MIN_PX = 9.0  # the main text (10 pt) of a fitted graph is at least this many pixels high
MIN_SMALL_PX = 7.0  # and its small print (shapes, op names: 8 pt)

# every text element of every node: how far it sticks out of the node's shape (px, > 0: out)
OVERFLOW = """svg => {
  const out = [];
  for (const g of svg.querySelectorAll("g.node")) {
    const shape = g.querySelector("path, polygon, ellipse, rect");
    if (!shape) continue;
    const s = shape.getBoundingClientRect();
    for (const t of g.querySelectorAll("text")) {
      if (!t.textContent.trim()) continue;
      const b = t.getBoundingClientRect();
      const over = Math.max(s.left - b.left, b.right - s.right, s.top - b.top, b.bottom - s.bottom);
      out.push([g.id, t.textContent, over / (s.width / shape.getBBox().width)]);
    }
  }
  return out;
}"""
FONTS = """svg => Array.from(new Set(Array.from(svg.querySelectorAll("g.node text"))
    .map(t => getComputedStyle(t).fontFamily)))"""


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    pg = browser.new_page(viewport=SCREEN, device_scale_factor=1)
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    pg.close()


def iris_loss():
    sys.path.insert(0, str(ROOT / "notebooks"))
    try:
        import demo
    finally:
        sys.path.pop(0)
    _, x_test, _, y_test = demo.iris_data()
    nn.manual_seed(0)
    model = nn.Sequential(
        [nn.Dense(2, activation="sigmoid", input_shape=(3,)), nn.Dense(1, activation="sigmoid")]
    )
    return demo.one_flower_loss(model, x_test[0], int(y_test[0]))


def digits_loss(batch=32):
    X, y = nn.data.load_digits()
    nn.manual_seed(0)
    mlp = nn.Sequential(
        [
            nn.Dense(128, activation="relu", input_shape=(64,)),
            nn.Dense(64, activation="relu"),
            nn.Dense(10),
        ]
    )
    loss = nn.losses.sparse_categorical_crossentropy(y[:batch], mlp(X[:batch]), from_logits=True)
    loss.backward()
    return loss


def small_dense_loss():
    """A Dense model on 4 rows: small arrays (grids of numbers) and larger ones (summaries)."""
    nn.manual_seed(0)
    x = np.random.default_rng(0).normal(size=(4, 3))
    model = nn.Sequential([nn.Dense(8, activation="tanh", input_shape=(3,)), nn.Dense(2)])
    loss = nn.losses.mse(np.zeros((4, 2)), model(x))
    loss.backward()
    return loss


def overflowing(pg, selector="svg"):
    return [r for r in pg.eval_on_selector(selector, OVERFLOW) if r[2] > 0.5]


@pytest.mark.parametrize("which", ["iris", "tensor"])
def test_every_text_of_the_svg_stays_in_its_box(page, which):
    if which == "iris":
        loss, names = iris_loss()
        g = viz.draw_graph(loss, names=names)
    else:
        g = viz.draw_graph(small_dense_loss())
        assert ">data<" in g.source and "μ=" in g.source  # a grid and a summary both drawn
    svg = g.pipe(format="svg", encoding="utf-8")
    assert f'font-family="{FAMILY}"' in svg
    page.set_content("<html><body style='margin:0'>" + svg[svg.index("<svg") :] + "</body></html>")
    n_texts = len(page.eval_on_selector("svg", OVERFLOW))
    assert n_texts > 50
    assert overflowing(page) == []
    assert page.eval_on_selector("svg", FONTS) == ['"DejaVu Sans", Verdana, sans-serif']


def test_the_check_finds_text_outside_its_box(page):
    svg = viz.draw_graph(small_dense_loss()).pipe(format="svg", encoding="utf-8")
    wide = svg.replace('font-size="10.00"', 'font-size="13.00"')  # as a wider fallback font would
    page.set_content("<html><body>" + wide[wide.index("<svg") :] + "</body></html>")
    assert len(overflowing(page)) > 5


@pytest.mark.parametrize("which", ["iris", "digits"])
def test_the_viewer_fits_a_1280x720_screen_legibly(page, tmp_path, which):
    if which == "iris":
        loss, names = iris_loss()
        loss.backward()
    else:
        loss, names = digits_loss(), None
    path = viz.export_html(loss, tmp_path / f"{which}.html", names=names)
    page.goto(path.as_uri())
    page.wait_for_selector("#stepgrad-app svg")
    app = page.locator("#stepgrad-app")
    scale = float(app.get_attribute("data-scale"))
    small_px = float(app.get_attribute("data-font-px"))  # the smallest text, on screen
    main_px = scale * 10 * 4 / 3  # 10 pt text at this scale
    assert page.get_attribute(".stepgrad-fit", "aria-pressed") == "true"
    assert main_px >= MIN_PX and small_px >= MIN_SMALL_PX, (which, scale, small_px)
    # the whole graph is on the screen: inside its box, and the box inside the window
    box = page.eval_on_selector(".stepgrad-graph", "e => e.getBoundingClientRect().toJSON()")
    graph = page.eval_on_selector(".stepgrad-graph svg", "e => e.getBoundingClientRect().toJSON()")
    assert box["left"] - 1 <= graph["left"] and graph["right"] <= box["right"] + 1
    assert box["top"] - 1 <= graph["top"] and graph["bottom"] <= box["bottom"] + 1
    assert box["bottom"] <= SCREEN["height"] and box["right"] <= SCREEN["width"]
    # no text leaves its box, before backward, half way and at the end
    n = int(page.inner_text(".stepgrad-status").split("/")[1].split(":")[0])
    page.focus("#stepgrad-app")
    for k in (0, n // 2, n):
        page.eval_on_selector(
            ".stepgrad-slider",
            "(el, k) => { el.value = k; el.dispatchEvent(new Event('input')); }",
            k,
        )
        assert overflowing(page, ".stepgrad-graph svg") == [], f"{which} at step {k}"
    shot = page.screenshot(path=str(tmp_path / f"{which}.png"))
    assert len(shot) > 10_000  # a real picture was taken (what it shows is checked above)
    assert page.errors == []
