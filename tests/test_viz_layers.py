"""Stepping through a model one layer at a time (`collapse="module"`), and opening a layer:
the steps' order and numbers against the engine, and what a real Chromium shows."""

import math
import re
from pathlib import Path

import numpy as np
import pytest

import nn
import viz
from viz.fmt import format_number
from viz.steps import viewer_payload

CHROMIUM = Path("/usr/bin/chromium")


def two_layers(batch=4):
    nn.manual_seed(0)
    x, y = nn.data.make_moons(40, noise=0.1, seed=0)
    model = nn.Sequential(
        [nn.Dense(4, activation="tanh", input_shape=(2,)), nn.Dense(1, activation="sigmoid")]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=2, verbose=0, seed=0)
    loss = nn.losses.binary_crossentropy(y[:batch, None], model(x[:batch]))
    return model, loss


def layer_steps(data):
    return [s for s in data["steps"] if s["op"] == "layer"]


def test_one_step_per_layer_from_the_output_back_to_the_input():
    model, loss = two_layers()
    svg, data = viewer_payload(loss, names=model, collapse="module")
    steps = layer_steps(data)
    assert [s["name"] for s in steps] == ["layers.1", "layers.0"]
    # every layer is a box of the SVG, and its step highlights that box
    for s in steps:
        assert re.search(rf'<g id="{s["node"]}" class="node">', svg)
    # the loss's own nodes step before the layers, the layers last
    kinds = ["layer" if s["op"] == "layer" else "node" for s in data["steps"]]
    assert kinds == sorted(kinds, key=lambda k: k == "layer")
    assert data["intro"].startswith("Backward has not started")


def test_a_layer_step_shows_its_parameters_gradients_as_the_engine_computes_them():
    model, loss = two_layers()
    svg, data = viewer_payload(loss, names=model, collapse="module")
    for p in model.parameters():
        p.zero_grad()
    loss.backward()
    grads = {name: p.grad for name, p in model.named_parameters()}
    for s in layer_steps(data):
        text = "\n".join(s["lines"])
        mine = [n for n in grads if n.startswith(s["name"] + ".")]
        assert mine, s["name"]
        for n in mine:
            assert f"d{data['rootName']}/d{n} = " in text
        norm = math.sqrt(sum(float(np.sum(grads[n] ** 2)) for n in mine))
        box_text = dict(s["set"])[s["node"]]
        assert box_text == "‖grad‖ " + format_number(norm)
    first = layer_steps(data)[0]
    assert "passes back" in "\n".join(first["lines"])  # layers.1 hands its gradient to layers.0
    assert "into layer layers.0" in "\n".join(first["lines"])
    # a name with spaces is bracketed in a chain-rule line, as in the node-by-node steps
    R = data["rootName"]
    assert first["lines"][1].startswith(f"d{R}/d(layers.1 · "), first["lines"][1]
    assert f"passes back d{R}/d(layers.0 · " in "\n".join(first["lines"])


def test_recording_leaves_the_gradients_as_they_were():
    model, loss = two_layers()
    before = {n: None if p.grad is None else p.grad.copy() for n, p in model.named_parameters()}
    viewer_payload(loss, names=model, collapse="module")
    for n, p in model.named_parameters():
        if before[n] is None:
            assert p.grad is None or not np.any(p.grad)
        else:
            np.testing.assert_array_equal(p.grad, before[n])


def test_each_layer_opens_on_its_own_nodes_stepped_one_by_one():
    model, loss = two_layers()
    _, data = viewer_payload(loss, names=model, collapse="module")
    for s in layer_steps(data):
        inner = s["inner"]
        ids = set(re.findall(r'<g id="(v\d+)" class="node">', inner["svg"]))
        assert {st["node"] for st in inner["data"]["steps"]} <= ids
        # the weight and bias of this layer are drawn inside it, no other layer's
        assert f"{s['name']}.weight" in inner["svg"]
        other = "layers.0" if s["name"] == "layers.1" else "layers.1"
        assert f"{other}.weight" not in inner["svg"]
        # its first step is the layer's output receiving the gradient from above
        assert inner["data"]["steps"][0]["node"] == inner["data"]["root"]
        assert all(x[0] in ids for st in inner["data"]["steps"] for x in st["set"])


def test_a_functional_model_with_a_skip_connection_steps_every_layer_once():
    nn.manual_seed(1)
    a = nn.Input(shape=(3,), name="a")
    h = nn.Dense(3, activation="tanh", name="hidden")(a)
    out = nn.Dense(1, activation="sigmoid", name="out")(nn.Add()([h, a]))
    model = nn.Model(a, out)
    x = np.random.default_rng(0).normal(size=(5, 3))
    y = (x[:, :1] > 0).astype(float)
    loss = nn.losses.binary_crossentropy(y, model(x))
    _, data = viewer_payload(loss, names=model, collapse="module")
    names = [s["name"] for s in layer_steps(data)]
    # out (layers.3), the Add (layers.2), hidden (layers.1): each once, from the loss back
    assert names == ["layers.3", "layers.2", "layers.1"]


def test_bad_collapse_values_and_graphs_without_layers_are_refused():
    model, loss = two_layers()
    with pytest.raises(ValueError, match="collapse must be None .* or 'module'.*'layer'"):
        viewer_payload(loss, collapse="layer")
    from autograd import Value

    a = Value(2.0, requires_grad=True)
    with pytest.raises(ValueError, match=r"step_through\(collapse='module'\): no node"):
        viewer_payload(a * a + a, collapse="module")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing")
def test_the_exported_page_steps_by_layers_and_opens_one(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    model, loss = two_layers()
    page_path = viz.export_html(loss, tmp_path / "layers.html", names=model, collapse="module")
    _, data = viewer_payload(loss, names=model, collapse="module")
    n = len(data["steps"])
    k = next(i for i, s in enumerate(data["steps"]) if s["op"] == "layer") + 1
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        pg = b.new_page(viewport={"width": 1280, "height": 720})
        requests = []
        pg.on("request", lambda r: requests.append(r.url))
        pg.goto(page_path.as_uri())
        for _ in range(k):
            pg.locator("button[data-action=next]").first.click()
        status = pg.locator(".stepgrad-status").first.inner_text()
        assert f"step {k} / {n}: layers.1 (layer)" in status
        assert "layer layers.1" in pg.locator(".stepgrad-panel").first.inner_text()
        box = pg.locator(f"g#{data['steps'][k - 1]['node']} text").evaluate_all(
            "ts => ts.map(t => t.textContent)"
        )
        assert any(t.startswith("‖grad‖ ") and "not yet" not in t for t in box)
        opener = pg.locator("button[data-action=open]").first
        assert opener.is_visible()
        opener.click()
        assert "inside layers.1" in pg.locator(".stepgrad-inner-title").inner_text()
        inner_n = len(data["steps"][k - 1]["inner"]["data"]["steps"])
        for _ in range(inner_n):
            pg.locator(".stepgrad-inner button[data-action=next]").first.click()
        inner_status = pg.locator(".stepgrad-inner .stepgrad-status").first.inner_text()
        assert f"step {inner_n} / {inner_n}" in inner_status
        pg.locator("button[data-action=back]").click()
        assert f"step {k} / {n}" in pg.locator(".stepgrad-status").first.inner_text()
        b.close()
    assert all(u.startswith(("file:", "data:", "about:")) for u in requests), requests


def test_the_widget_takes_collapse_too():
    pytest.importorskip("anywidget")
    model, loss = two_layers()
    w = viz.step_through(loss, names=model, collapse="module")
    assert [s["name"] for s in layer_steps(w.data)] == ["layers.1", "layers.0"]
    assert all("inner" in s for s in layer_steps(w.data))
