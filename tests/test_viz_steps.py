"""The step-through data behind viz.step_through and viz.export_html: the widget's state, the
chain-rule lines, one viewer.js for both, the graph left unchanged, and the page without dot."""

import json
import re
from pathlib import Path

import anywidget
import numpy as np
import pytest
import traitlets

import viz
from autograd import Tensor, Value, backward_steps
from viz.fmt import format_grad

STATIC = Path(viz.__file__).parent / "static"


def small():
    """L = 0.5 * (a * b) + a: dL/da = 0.5 * 2.0 + 1 = 2.0, dL/db = 0.5 * 3.0."""
    a, b = Value(3.0, label="a"), Value(2.0, label="b")
    c = a * b
    c.label = "c"
    L = c * 0.5 + a
    L.label = "L"
    return a, b, c, L


def test_widget_state():
    a, b, c, L = small()
    w = viz.step_through(L)
    assert isinstance(w, anywidget.AnyWidget)
    assert w.step == 0 and w.n_steps == 5  # L (add), the product by 0.5, c, then a and b
    d = w.data
    json.dumps(d)  # everything the browser gets is plain JSON
    assert d["rootName"] == "L" and d["blank"] == "grad ·"
    assert [s["name"] for s in d["steps"]] == [(s.node.label or "v1") for s in backward_steps(L)]
    assert d["nodes"] == [s["node"] for s in d["steps"]]
    for sid in d["nodes"]:
        assert f'<g id="{sid}" class="node">' in w.svg
    assert w._esm == (STATIC / "viewer.js").read_text(encoding="utf-8")
    w.step = 3  # Python can move the viewer
    with pytest.raises(traitlets.TraitError, match="between 0 and 5"):
        w.step = 6


def test_steps_match_backward_steps_and_chain_rule_lines():
    a, b, c, L = small()
    data = viz.step_through(L).data
    engine = list(backward_steps(L))
    assert len(engine) == len(data["steps"])
    for s, e in zip(data["steps"], engine):
        assert s["set"][0][1] == "grad " + format_grad(e.grad)
        assert len(s["lines"]) == 1 + max(len(e.contributions), 1)
    by_name = {s["name"]: s for s in data["steps"]}
    assert by_name["L"]["lines"][0].startswith("dL/dL = 1.0")
    assert by_name["c"]["lines"] == [
        "dL/dc = 0.5   (complete: every use of c has passed it back)",
        "dL/da += dL/dc * dc/da = 0.5 * 2.0 = 1.0",
        "dL/db += dL/dc * dc/db = 0.5 * 3.0 = 1.5",
    ]
    # a got 1.0 from the add first (a partial gradient), then 1.0 more from c: 2.0 in total
    assert ["v3", "grad 1.0"] in by_name["L"]["set"] or any(
        t == "grad 1.0" for _, t in by_name["L"]["set"][1:]
    )
    assert by_name["a"]["set"] == [[by_name["a"]["node"], "grad 2.0"]]
    assert "a leaf (a parameter" in by_name["a"]["lines"][1]


def test_viewing_does_not_change_the_graph():
    a, b, c, L = small()
    L.backward()
    L.backward()  # leaf gradients accumulate: a.grad == 4.0
    before = [(n, n.grad) for n in (a, b, c, L)]
    data = viz.step_through(L).data
    assert [(n, n.grad) for n in (a, b, c, L)] == before
    assert a.grad == 4.0
    final = {}
    for s in data["steps"]:
        final.update(dict(s["set"]))
    a_id = next(s["node"] for s in data["steps"] if s["name"] == "a")
    assert final[a_id] == "grad 2.0"  # one fresh pass is shown


def test_tensor_lines_show_shapes_values_and_norms():
    x = Tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True, label="x")
    W = Tensor(np.ones((2, 5)), requires_grad=True, label="W")
    h = (x @ W).tanh()
    h.label = "h"
    loss = (h * h).mean()
    loss.label = "loss"
    data = viz.step_through(loss).data
    lines = "\n".join(line for s in data["steps"] for line in s["lines"])
    assert "dloss/dW += matmul vjp of dloss/dv" in lines
    assert "(2, 5) ‖·‖" in lines  # a gradient too big to list: its shape and norm
    tanh_step = next(s for s in data["steps"] if s["op"] == "tanh")
    assert re.search(
        r"dloss/dv\d+ \+= dloss/dh \* dh/dv\d+ = \(2, 5\) ‖·‖ [\d.]+ \* ",
        "\n".join(tanh_step["lines"]),
    )
    x_step = next(s for s in data["steps"] if s["name"] == "x")
    loss.backward()
    assert x_step["set"][0][1] == "grad " + format_grad(x.grad)


def test_export_html_is_one_self_contained_file(tmp_path):
    a, b, c, L = small()
    c.label = "<script>alert(1)</script>"
    page = viz.export_html(L, tmp_path / "bp.html")
    text = page.read_text(encoding="utf-8")
    js = (STATIC / "viewer.js").read_text(encoding="utf-8")
    assert js in text  # the widget's viewer code, inlined
    assert (STATIC / "viewer.css").read_text(encoding="utf-8") in text
    assert text.count("<script") == 2  # the JSON data block and the viewer module
    assert "<script>alert" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in text  # inside the JSON
    assert not re.search(r"(src|href)=\"(https?:)?//", text)  # nothing to fetch
    assert "default-src 'none'" in text
    assert "<svg" in text and 'id="stepgrad-app"' in text
    blob = re.search(r'id="stepgrad-data">(.*?)</script>', text, re.S).group(1)
    assert json.loads(blob) == viz.step_through(L).data


def test_too_many_nodes_for_a_step_through():
    x = Value(1.0)
    y = x
    for _ in range(300):
        y = y * 1.0
    with pytest.raises(viz.GraphTooLargeError, match="901 nodes"):
        viz.step_through(y)


def test_without_dot_the_viewer_uses_a_built_in_layout(monkeypatch, tmp_path, capsys):
    a, b, c, L = small()
    monkeypatch.setenv("PATH", str(tmp_path))
    w = viz.step_through(L, rankdir="TB")
    page = viz.export_html(L, tmp_path / "nodot.html")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("apt install graphviz" in line for line in err)
    for sid in w.data["nodes"]:
        group = re.search(rf'<g id="{sid}" class="node">(.*?)</g>', w.svg, re.S).group(1)
        assert "<rect" in group and group.count("<text") >= 2
        assert re.findall(r">([^<]*)</text>", group)[-1].startswith("grad ")
    assert '<g id="v0" class="node">' in page.read_text(encoding="utf-8")
