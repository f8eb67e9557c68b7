"""viz.diff: two graphs of one shape, the nodes whose data or gradient differ marked."""

import numpy as np
import pytest

import nn
import viz
from autograd import Op, Tensor, Value

right = Op("square", lambda x: x * x, lambda g, out, x: (2 * x * g,))
wrong = Op("square", lambda x: x * x, lambda g, out, x: (x * g,))  # forgot the 2


def _loss(sq):
    x = Value(1.5, label="x")
    w = Value(-0.2, label="w")
    y = sq(x) * w
    y.label = "y"
    L = y.tanh()
    L.label = "L"
    L.backward()
    return L


def test_a_wrong_vjp_marks_only_the_gradient_it_breaks():
    d = viz.diff(_loss(right), _loss(wrong))
    assert [(x.name, x.what) for x in d.differences] == [("x", "grad")]
    (x,) = d.differences
    assert x.grad_maxdiff == pytest.approx(abs(x.a.grad - x.b.grad)) and x.grad_maxdiff > 0.01
    src = d.source
    assert "cluster_a_" in src and "cluster_b_" in src
    assert src.count(viz.diff.__globals__["DIFFER"]) == 2  # x in both drawings
    assert "1 of 5 nodes differ" in repr(d)


def test_overlay_shows_a_then_b_on_the_differing_node():
    La, Lb = _loss(right), _loss(wrong)
    d = viz.diff(La, Lb, mode="overlay")
    xa = [n for n in La.parents[0].parents[0].parents if n.label == "x"][0]
    xb = [n for n in Lb.parents[0].parents[0].parents if n.label == "x"][0]
    assert f"{viz.format_number(xa.grad)} → {viz.format_number(xb.grad)}" in d.source
    assert "cluster" not in d.source


def test_before_and_after_an_optimizer_step():
    nn.manual_seed(0)
    model = nn.Sequential([nn.Dense(3, activation="tanh", input_shape=(2,)), nn.Dense(1)])
    opt = nn.optim.SGD(model.parameters(), lr=0.5)
    x = np.array([[0.5, -1.0], [1.0, 2.0]])
    before = nn.losses.mse(np.array([[1.0], [0.0]]), model(x))
    before.backward()
    frozen = viz.snapshot(before)
    opt.step()
    after = nn.losses.mse(np.array([[1.0], [0.0]]), model(x))
    # the parameters are the same objects in both graphs: without a snapshot they look equal
    live = {x.name for x in viz.diff(before, after, names=model).differences}
    assert "layers.0.weight" not in live
    d = viz.diff(frozen, after, names=model)
    names = {x.name: x.what for x in d.differences}
    for p in ("layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"):
        assert names[p] == "data"  # moved by the step (.grad is kept: nobody zeroed it)
    assert d.differ["v0"] == "data+grad"
    w = dict(model.named_parameters())["layers.1.weight"]
    (dw,) = [x for x in d.differences if x.name == "layers.1.weight"]
    assert dw.data_maxdiff == pytest.approx(0.5 * np.abs(dw.a.grad).max(), rel=1e-5)
    assert dw.b is w


def test_graphs_of_different_shape_are_refused():
    a, b = Value(2.0), Value(2.0)
    with pytest.raises(ValueError, match="differ in size"):
        viz.diff(a * 3.0, (b * 3.0).tanh())
    with pytest.raises(ValueError, match="op 'mul' in a but 'add' in b"):
        viz.diff(a * 3.0, b + 3.0)
    t1 = Tensor(np.ones(3), requires_grad=True)
    t2 = Tensor(np.ones(4), requires_grad=True)
    with pytest.raises(ValueError, match=r"shape \(3,\) in a but \(4,\) in b"):
        viz.diff(t1.sum(), t2.sum())
    with pytest.raises(ValueError, match="mode must be"):
        viz.diff(a * 3.0, b * 3.0, mode="stacked")


def test_identical_graphs_have_no_differences():
    d = viz.diff(_loss(right), _loss(right))
    assert d.differences == [] and "none differ" in repr(d)
    assert 'label="filled red: 0 of 5 nodes differ"' in d.source


def _positions(d):
    """{node id: (x, y)} as dot lays the drawing out (y grows upwards)."""
    out = d.digraph.pipe(format="plain").decode()
    return {
        f[1]: (float(f[2]), float(f[3]))
        for f in (line.split() for line in out.splitlines())
        if f[0] == "node"
    }


def _grad_shown(source, node_id):
    line = [ln for ln in source.splitlines() if ln.strip().startswith(f"{node_id} [")][0]
    return line.split("grad ", 1)[1].split("<", 1)[0]


def test_side_by_side_pairs_each_node_with_its_twin_and_a_comes_first():
    La, Lb = _loss(right), _loss(wrong)
    xa = [n for n in La.parents[0].parents[0].parents if n.label == "x"][0]
    xb = [n for n in Lb.parents[0].parents[0].parents if n.label == "x"][0]
    for rankdir in ("LR", "TB"):
        d = viz.diff(La, Lb, rankdir=rankdir)
        (x,) = d.differences
        assert x.a is xa and x.b is xb
        i = x.index
        # each drawing shows its own graph's number on the twin nodes: not swapped
        assert _grad_shown(d.source, f"a_v{i}") == viz.format_number(xa.grad)
        assert _grad_shown(d.source, f"b_v{i}") == viz.format_number(xb.grad)
        pos = _positions(d)
        for j in range(d.count):  # twins line up: same rank, a before b
            (ax_, ay), (bx, by) = pos[f"a_v{j}"], pos[f"b_v{j}"]
            if rankdir == "LR":
                assert ax_ == pytest.approx(bx) and ay > by, (j, pos)  # a on top
            else:
                assert ay == pytest.approx(by) and ax_ < bx, (j, pos)  # a on the left
        assert 'label="filled red: 1 of 5 nodes differ"' in d.source


def test_the_caption_counts_the_marked_nodes():
    nn.manual_seed(0)
    model = nn.Sequential([nn.Dense(3, activation="tanh", input_shape=(2,)), nn.Dense(1)])
    x = np.array([[0.5, -1.0], [1.0, 2.0]])
    y = np.array([[1.0], [0.0]])
    frozen = viz.snapshot(nn.losses.mse(y, model(x)))  # forward only: data, no gradients
    model.layers[1].bias.data += 1.0  # moves the nodes from this bias to the loss, no others
    L2 = nn.losses.mse(y, model(x))
    for mode in ("side", "overlay"):
        d = viz.diff(frozen, L2, names=model, mode=mode)
        n = len(d.differences)
        names = {x.name for x in d.differences}
        assert names == {"layers.1.bias", "add", "sub", "mul", "mean"}
        filled = d.source.count(f'fillcolor="{viz.diff.__globals__["DIFFER"]}"')
        assert filled == (2 * n if mode == "side" else n)
        assert f'label="filled red: {n} of {d.count} nodes differ' in d.source
    assert "(each shows a → b)" in d.source
