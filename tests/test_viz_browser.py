"""What a real headless browser shows: the exported step-through page and the widget's viewer,
driven with Playwright on Debian's /usr/bin/chromium (never a downloaded browser). Each step
must show the engine's gradient, the page must fetch nothing, and labels must stay text."""

import json
from pathlib import Path

import numpy as np
import pytest

import nn
import viz
from autograd import Tensor, Value, backward_steps
from viz.fmt import format_grad

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (./dev.sh test installs it)"
)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
EVIL = "<script>alert(1)</script>"
EVIL_IMG = "<img src=x onerror=alert(2)>"

# the name (the title row reads "name = op") and the gradient row of every value node in the SVG
NODE_TEXTS = """svg => Array.from(svg.querySelectorAll("g.node[id^=v]")).map(g => {
    const t = g.querySelectorAll("text");
    return [g.id, t[0].textContent.split(" = ")[0], t[t.length - 1].textContent,
            g.classList.contains("stepgrad-current")];
})"""


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A page that records every request, dialog, console error and page error."""
    pg = browser.new_page()
    pg.seen = {"requests": [], "dialogs": [], "errors": []}
    pg.on("request", lambda r: pg.seen["requests"].append(r.url))
    pg.on("dialog", lambda d: (pg.seen["dialogs"].append(d.message), d.dismiss()))
    pg.on("pageerror", lambda e: pg.seen["errors"].append(str(e)))
    pg.on("console", lambda m: m.type == "error" and pg.seen["errors"].append(m.text))
    yield pg
    pg.close()


def scalar_graph():
    """Every node labelled (the page is read by name); two labels try to inject markup."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = EVIL
    sq = a**2
    sq.label = "a2"
    d = c + sq
    d.label = "d"
    d2 = d * 0.5
    d2.label = EVIL_IMG
    L = d2.tanh()
    L.label = "L"
    return L, a, b


def node_state(pg):
    return {
        name: (gid, grad, cur)
        for gid, name, grad, cur in pg.eval_on_selector("#stepgrad-app svg", NODE_TEXTS)
        if name
    }


def test_exported_page_steps_through_with_the_engines_gradients(page, tmp_path):
    L, a, b = scalar_graph()
    path = viz.export_html(L, tmp_path / "bp.html")
    page.goto(path.as_uri())
    steps = list(backward_steps(L))  # the engine's own steps (the viewer restored the graph)
    n = len(steps)
    assert page.inner_text(".stepgrad-status") == f"step 0 / {n}"
    blank = {name: grad for name, (_, grad, _) in node_state(page).items()}
    assert set(blank.values()) == {"grad not yet"}  # no gradient before backward starts
    for k, s in enumerate(steps, start=1):
        page.click("button.stepgrad-next")
        state = node_state(page)
        current = [name for name, (_, _, cur) in state.items() if cur]
        assert current == [s.node.label], f"step {k}"
        assert state[s.node.label][1] == "grad " + format_grad(s.grad), f"step {k}"
        assert page.inner_text(".stepgrad-status").startswith(f"step {k} / {n}: {s.node.label}")
        panel = page.inner_text(".stepgrad-panel")
        seed = "1" if k == 1 else format_grad(s.grad)  # the root reads dL/dL = 1
        assert panel.splitlines()[0].startswith(f"dL/d{s.node.label} = {seed}")
        assert len(panel.splitlines()) == 1 + max(len(s.contributions), 1)
    assert page.is_disabled("button.stepgrad-next")
    a.zero_grad(), b.zero_grad()  # backward_steps above was a pass too
    L.backward()  # a fresh pass: the engine's values
    final = node_state(page)
    for node in (L, a, b, *L.parents, *L.parents[0].parents):
        assert final[node.label][1] == "grad " + format_grad(node.grad)
    # the chain rule of the step at c, in the panel (via the slider)
    k, at_c = next((k, s) for k, s in enumerate(steps, 1) if s.node.label == EVIL)
    page.eval_on_selector(
        ".stepgrad-slider", "(el, k) => { el.value = k; el.dispatchEvent(new Event('input')); }", k
    )
    panel = page.inner_text(".stepgrad-panel").splitlines()
    g, (_, local, contribution) = at_c.grad, at_c.contributions[0]
    assert panel[1] == (
        f"dL/da += dL/d{EVIL} * ∂{EVIL}/∂a = "
        f"{format_grad(g)} * {format_grad(local)} = {format_grad(contribution)}"
    )
    assert local == -3.0
    # nothing fetched, nothing injected
    assert page.seen["requests"] == [path.as_uri()]
    assert page.seen["dialogs"] == [] and page.seen["errors"] == []
    assert page.eval_on_selector_all("script", "s => s.length") == 2
    assert page.eval_on_selector_all("img", "s => s.length") == 0
    assert EVIL in node_state(page) and EVIL_IMG in node_state(page)


def test_prev_reset_and_play(page, tmp_path):
    L, _, _ = scalar_graph()
    path = viz.export_html(L, tmp_path / "bp.html")
    page.goto(path.as_uri())
    for _ in range(3):
        page.click("button.stepgrad-next")
    page.click("button.stepgrad-prev")
    assert page.inner_text(".stepgrad-status").startswith("step 2 /")
    page.click("button.stepgrad-reset")
    assert page.inner_text(".stepgrad-status").startswith("step 0 /")
    assert {g for _, g, _ in node_state(page).values()} == {"grad not yet"}
    page.click("button.stepgrad-play")
    page.wait_for_function(
        "() => document.querySelector('.stepgrad-slider').value >= 1", timeout=3000
    )
    page.click("button.stepgrad-play")  # pause
    assert page.inner_text("button.stepgrad-play") == "▶ play"
    page.click("button.stepgrad-reset")
    page.focus("#stepgrad-app")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    assert page.inner_text(".stepgrad-status").startswith("step 1 /")
    assert page.seen["errors"] == []


def test_tensor_graph_page(page, tmp_path):
    x = Tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True, label="x")
    W = Tensor(np.linspace(-1, 1, 10).reshape(2, 5), requires_grad=True, label="W")
    h = (x @ W).tanh()
    h.label = "h"
    loss = (h * h).mean()
    loss.label = "loss"
    path = viz.export_html(loss, tmp_path / "tensor.html")
    page.goto(path.as_uri())
    n = int(page.inner_text(".stepgrad-status").split("/")[1])
    for _ in range(n):
        page.click("button.stepgrad-next")
    loss.backward()
    state = node_state(page)
    for node in (x, W, h, loss):
        assert state[node.label][1] == "grad " + format_grad(node.grad)
    assert state["W"][1].startswith("grad μ=")  # 10 numbers: mean, std and range
    assert page.seen["requests"] == [path.as_uri()] and page.seen["errors"] == []


def test_widget_viewer_syncs_its_step_with_the_model(page):
    """The widget's JS (the anywidget `render` in viewer.js) with a stand-in for the model."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    L = a * b
    L.label = "L"
    w = viz.step_through(L)
    state = {"svg": w.svg, "data": w.data, "step": 0}
    page.set_content('<div id="w"></div>')
    page.add_script_tag(
        type="module",
        content=w._esm.replace("export default { render };", "")
        + """
const state = STATE;
const handlers = {};
window.saves = 0;
window.model = {
  get: (k) => state[k],
  set: (k, v) => { const old = state[k]; state[k] = v;
                   if (old !== v && handlers["change:" + k]) handlers["change:" + k](); },
  save_changes: () => { window.saves += 1; },
  on: (e, f) => { handlers[e] = f; },
  off: (e) => { delete handlers[e]; },
};
render({ model: window.model, el: document.getElementById("w") });
window.ready = true;
""".replace("STATE", json.dumps(state)),
    )
    page.wait_for_function("() => window.ready === true")
    page.click("button.stepgrad-next")
    assert page.evaluate("() => [window.model.get('step'), window.saves]") == [1, 1]
    page.evaluate("() => window.model.set('step', 3)")  # Python moved the widget
    assert page.inner_text(".stepgrad-status").startswith("step 3 / 3: b")
    grads = {name: g for name, (_, g, _) in node_state_in(page, "#w svg").items()}
    L.backward()
    assert grads == {n.label: "grad " + format_grad(n.grad) for n in (L, a, b)}
    assert page.seen["errors"] == []


def node_state_in(pg, selector):
    return {
        name: (gid, grad, cur)
        for gid, name, grad, cur in pg.eval_on_selector(selector, NODE_TEXTS)
        if name
    }


def test_a_summed_bias_edge_is_labelled_legibly_and_clear_of_the_boxes(page, tmp_path):
    nn.manual_seed(0)
    model = nn.Sequential([nn.Dense(4, activation="relu", input_shape=(3,)), nn.Dense(2)])
    loss = nn.losses.mse(np.zeros((2, 2)), model(np.arange(6.0).reshape(2, 3) / 5))
    for path in (
        viz.export_html(loss, tmp_path / "bias.html", names=model),
        tmp_path / "bias.svg",
    ):
        if path.suffix == ".svg":
            path.write_bytes(viz.draw_graph(loss, names=model).pipe(format="svg"))
        page.goto(path.as_uri())
        found = page.evaluate(
            """() => {
              const box = (e) => { const r = e.getBoundingClientRect();
                                   return [r.left, r.top, r.right, r.bottom]; };
              const svg = box(document.querySelector('svg'));
              const labels = [...document.querySelectorAll('svg text')]
                .filter((t) => t.textContent === 'Σ axis 0').map(box);
              const nodes = [...document.querySelectorAll('svg g.node')].map(box);
              const size = [...document.querySelectorAll('svg text')]
                .filter((t) => t.textContent === 'Σ axis 0')
                .map((t) => parseFloat(getComputedStyle(t).fontSize));
              return { svg, labels, nodes, size };
            }"""
        )
        assert len(found["labels"]) == 2, path  # one per Dense bias
        sl, st, sr, sb = found["svg"]
        for left, top, right, bottom in found["labels"]:
            assert sl <= left and right <= sr and st <= top and bottom <= sb, path  # on the page
            assert right - left > 20, path  # drawn, not collapsed to nothing
            for nl, nt, nr, nb in found["nodes"]:  # not over any box's text
                assert right <= nl or left >= nr or bottom <= nt or top >= nb, (path, nl, nt)
        assert min(found["size"]) >= 7, path  # legible at 100%
        if path.suffix == ".html":  # the viewer's legend says what the mark means
            note = page.query_selector(".stepgrad-legend .stepgrad-note")
            assert note.inner_text() == viz.steps.SUMMED_NOTE
            r = note.bounding_box()
            assert r["x"] >= 0 and r["x"] + r["width"] <= page.viewport_size["width"]
    assert page.seen["errors"] == []


def test_the_legend_note_only_appears_with_a_summed_edge(page, tmp_path):
    x = Tensor([[1.0, 2.0]], requires_grad=True, label="x")
    path = viz.export_html((x * x).sum(), tmp_path / "plain.html")
    page.goto(path.as_uri())
    assert page.query_selector(".stepgrad-legend .stepgrad-chip") is not None
    assert page.query_selector(".stepgrad-note") is None
    assert page.seen["errors"] == []
