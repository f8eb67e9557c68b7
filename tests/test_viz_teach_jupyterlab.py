"""The teaching tools that are not widgets, in a real JupyterLab driven by Debian's headless
Chromium, and in the same notebook exported to HTML and opened offline: `autograd.compare`'s
table, the training-dynamics plots of `nn.callbacks.Monitor`, and `viz.diff`'s marks. The test
reads what the page shows (table cells and their colours, the text and the layout of the SVG
figures), never image bytes. The quiz, the tape and the playground have their own JupyterLab
tests (test_viz_quiz_jupyterlab.py, test_viz_playground.py)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (./dev.sh test installs it)"
)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
CELLS = [
    # 0: compare, one right gradient and one wrong
    """%matplotlib inline
%config InlineBackend.figure_formats = ["svg"]
import matplotlib
matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text in the SVG: the page can read it
from IPython.display import display
import nn
import viz
from autograd import Op, Value, compare
a, b = Value(2.0, label="a"), Value(-3.0, label="b")
c = a * b
c.backward()
compare({a: -3.0, b: 2.5})  # dc/da = b = -3 (right), dc/db = a = 2 (2.5 is wrong)""",
    # 1: a deep sigmoid network watched by a Monitor, three of its plots
    """nn.manual_seed(0)
X, y = nn.data.make_circles(200, noise=0.08, factor=0.5, seed=0)
model = nn.Sequential([nn.Dense(8, activation="sigmoid", input_shape=(2,))]
                      + [nn.Dense(8, activation="sigmoid") for _ in range(4)]
                      + [nn.Dense(1, activation="sigmoid")])
model.compile(optimizer=nn.optim.SGD(lr=0.1), loss="binary_crossentropy")
mon = nn.callbacks.Monitor()
model.fit(X, y, epochs=4, verbose=0, seed=0, callbacks=[mon])
for fig in (viz.plot_gradients(mon, scale="log"), viz.plot_saturation(mon),
            viz.plot_update_ratio(mon)):
    display(fig)
print("monitor ready:", len(mon.steps), "records")""",
    # 2: a custom op with a wrong vjp against the right one
    """right = Op("square", lambda x: x * x, lambda g, out, x: (2 * x * g,))
wrong = Op("square", lambda x: x * x, lambda g, out, x: (x * g,))  # forgot the 2


def loss(sq):
    x, w = Value(1.5, label="x"), Value(-0.2, label="w")
    L = (sq(x) * w).tanh()
    L.label = "L"
    L.backward()
    return L


viz.diff(loss(right), loss(wrong))""",
]
LAYERS = [f"layers.{i} (sigmoid)" for i in range(6)]

# What the page shows, read in the browser: the compare table's cells and colours; per SVG
# figure its texts, the stroke colours of its data lines, and where its legend and axes are;
# per graph drawing its red nodes and the positions of the two clusters. JupyterLab shows an
# SVG output as an <img> of a data: address (nbconvert's HTML too, in base64); the SVG is parsed
# and laid out off screen to be measured, and the <img> must be loaded and on the page.
READ = """() => {
  const out = {};
  const t = document.querySelector('table.stepgrad-compare');
  out.table = t && Array.from(t.querySelectorAll('tr')).slice(1).map(tr =>
    Array.from(tr.querySelectorAll('td')).map(td => [td.innerText.trim(),
                                                     getComputedStyle(td).color]));
  const box = el => { const r = el.getBoundingClientRect();
                      return [r.left, r.top, r.right, r.bottom]; };
  const stage = document.createElement('div');
  stage.style.cssText = 'position:absolute; left:-20000px; top:0';
  document.body.appendChild(stage);
  out.hidden = [];
  const svgs = [];
  for (const o of document.querySelectorAll('.jp-OutputArea-output')) {
    for (const img of o.querySelectorAll('img[src^="data:image/svg+xml"]')) {
      const r = img.getBoundingClientRect();
      if (!(img.complete && img.naturalWidth > 0 && r.width > 0 && r.height > 0))
        out.hidden.push(img.src.slice(0, 80));
      const [head, data] = [img.src.slice(0, img.src.indexOf(',')),
                            img.src.slice(img.src.indexOf(',') + 1)];
      const text = head.endsWith(';base64')
        ? new TextDecoder().decode(Uint8Array.from(atob(data), ch => ch.charCodeAt(0)))
        : decodeURIComponent(data);
      const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
      const s = document.importNode(doc.documentElement, true);
      stage.appendChild(s);
      svgs.push(s);
    }
  }
  out.figures = svgs.filter(s => s.querySelector('g[id^="figure_"]')).map(s => {
    const axes = s.querySelector('g[id^="axes_"] g[id^="patch_"] path');
    const legend = s.querySelector('g[id^="legend_"]');
    const lines = Array.from(s.querySelectorAll('g[id^="axes_"] > g[id^="line2d_"] path'))
      .map(p => p.style.stroke || p.getAttribute('stroke')).filter(Boolean);
    return {texts: Array.from(s.querySelectorAll('text')).map(x => x.textContent.trim()),
            axes: axes && box(axes), legend: legend && box(legend), strokes: lines};
  });
  out.graphs = svgs.filter(s => s.querySelector('g.graph')).map(s => ({
    text: s.textContent,
    red: Array.from(s.querySelectorAll('g.node')).filter(n =>
        n.querySelector('[fill="#ffc9c9"]')).map(n => n.querySelector('title').textContent),
    clusters: Object.fromEntries(Array.from(s.querySelectorAll('g.cluster')).map(c =>
        [c.querySelector('title').textContent, box(c)])),
    nodes: Object.fromEntries(Array.from(s.querySelectorAll('g.node')).map(n =>
        [n.querySelector('title').textContent, n.textContent])),
  }));
  stage.remove();
  return out;
}"""


def _check(page, where):
    """The assertions on one page, JupyterLab's or the exported file's."""
    got = page.evaluate(READ)
    assert not got["hidden"], f"{where}: pictures not shown: {got['hidden']}"
    # compare: a right (green), b wrong (red), the maxdiff |2 - 2.5|
    assert got["table"] is not None, f"{where}: no compare table"
    (a, b) = got["table"]
    assert [x[0] for x in a] == ["a", "True", "True", "0"], where
    assert [x[0] for x in b] == ["b", "False", "False", "0.5"], where
    assert b[2][1] == "rgb(255, 0, 0)" and a[2][1] == "rgb(0, 128, 0)", (where, a, b)

    # the Monitor's plots: gradients (log axis), saturation (0-100%), update ratio (1e-3 guide)
    figs = got["figures"]
    assert len(figs) == 3, f"{where}: {len(figs)} matplotlib figures"
    grads, sat, upd = figs
    assert any(t.startswith("gradient distribution, batch") for t in grads["texts"]), where
    assert "|gradient of the layer output| (log scale)" in grads["texts"], where
    for name in LAYERS:
        assert any(t.startswith(name) for t in grads["texts"]), (where, name)
    assert "saturated units (%)" in sat["texts"] and {"0", "100"} <= set(sat["texts"]), where
    assert "guide 1e-3" in upd["texts"] and "layers.0.weight" in upd["texts"], where
    for fig in figs:  # a colour per layer, the legend beside the axes (not over the data)
        assert fig["legend"][0] >= fig["axes"][2] - 0.5, (where, fig["legend"], fig["axes"])
        colours = set(fig["strokes"]) - {"#000000", "rgb(0, 0, 0)"}  # the guide line is black
        assert len(colours) == 6, (where, fig["strokes"])

    # the diff: the one node whose gradient differs is red in both drawings, a above b
    (g,) = got["graphs"]
    assert "filled red: 1 of 5 nodes differ" in g["text"], where
    assert sorted(g["red"]) == ["a_v4", "b_v4"], (where, g["red"])
    assert "grad -0.4932" in g["nodes"]["a_v4"] and "grad -0.2466" in g["nodes"]["b_v4"], where
    top_a, top_b = g["clusters"]["cluster_a_"][1], g["clusters"]["cluster_b_"][1]
    assert top_a < top_b, (where, g["clusters"])  # rankdir LR: a on top


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, path)
    return nb


@pytest.fixture
def lab(tmp_path):
    _notebook(tmp_path / "teach.ipynb")
    port = _free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root"),
            f"--port={port}",
            "--IdentityProvider.token=stepgrad",
            f"--ServerApp.root_dir={tmp_path}",
            "--LabApp.news_url=",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("jupyter lab did not start within 60 s")
        yield f"http://127.0.0.1:{port}/lab/tree/teach.ipynb?token=stepgrad"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def _run_cell(page, n, wait_for, sync_api):
    """Run cell n (a cell run while the kernel starts can be dropped: try again)."""
    for _ in range(3):
        page.click(f".jp-Cell .jp-InputArea-editor >> nth={n}")
        page.keyboard.press("Control+Enter")
        try:
            page.wait_for_selector(wait_for, timeout=30_000)
            return
        except sync_api.TimeoutError:
            continue
    pytest.fail(f"cell {n} showed no {wait_for}; the page reads:\n" + page.inner_text("body"))


def test_compare_monitor_plots_and_diff_in_jupyterlab(lab, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.goto(lab)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            page.wait_for_selector("text=Python 3 (ipykernel) | Idle", timeout=60_000)
            _run_cell(page, 0, "table.stepgrad-compare", sync_api)
            _run_cell(page, 1, "text=monitor ready:", sync_api)
            _run_cell(page, 2, ".jp-Cell >> nth=2 >> .jp-RenderedSVG", sync_api)
            page.wait_for_timeout(300)
            page.screenshot(path=str(tmp_path / "lab_teach.png"), full_page=True)
            _check(page, "JupyterLab")
        finally:
            browser.close()


def test_the_same_outputs_in_an_exported_html_file_offline(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    nb = _notebook(tmp_path / "teach.ipynb")
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    body, _ = HTMLExporter().from_notebook_node(nb)
    path = tmp_path / "teach.html"
    path.write_text(body, encoding="utf-8")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})

            def offline(route):  # no network: only the file itself may load
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:
                    route.abort()

            page.route("**/*", offline)
            page.goto(path.as_uri())
            page.wait_for_selector("table.stepgrad-compare")
            _check(page, "exported HTML")
        finally:
            browser.close()
