"""viz.draw_graph, read from its DOT text: one box per value, op and constant of the traced graph,
data and grad on every value, names, colours, determinism, escaping, collapse, focus, limits."""

import random
import re
import time

import numpy as np
import pytest

import viz
from autograd import Node, Op, Tensor, Value, scope
from viz.fmt import format_number

NODE = re.compile(r"^\t(\w+) \[(.*)\]$", re.M)
EDGE = re.compile(r"^\t(\w+) -> (\w+)", re.M)


def boxes(g):
    """{DOT id: attribute text} of every node statement (not the graph/node/edge defaults)."""
    return {k: v for k, v in NODE.findall(g.source) if k not in ("graph", "node", "edge")}


def edges(g):
    return EDGE.findall(g.source)


def walk(root):
    """The test's own traversal: values, and (op count, constant count, edge count)."""
    seen, stack, ops, consts, n_edges = {root}, [root], 0, 0, 0
    while stack:
        n = stack.pop()
        if n.operands:
            ops += 1
            n_edges += 1 + len(n.operands)
        for p in n.operands:
            if not isinstance(p, Node):
                consts += 1
            elif p not in seen:
                seen.add(p)
                stack.append(p)
    return seen, ops, consts, n_edges


def example():
    """e = tanh(a*b + a**2): the README's example, with labels and a plain constant (2)."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    e = (c + a**2).tanh()
    e.label = "e"
    e.backward()
    return a, b, c, e


# ----------------------------------------------------------------------------------------------
# what is drawn


def test_counts_equal_the_traced_graph():
    a, b, c, e = example()
    g = viz.draw_graph(e)
    values, ops, consts, n_edges = walk(e)
    ids = list(boxes(g))
    assert sum(i.startswith("v") for i in ids) == len(values) == 6
    assert sum(i.startswith("o") for i in ids) == ops == 4  # mul, pow, add, tanh
    assert sum(i.startswith("c") for i in ids) == consts == 1  # the exponent 2
    assert len(ids) == len(values) + ops + consts
    assert len(edges(g)) == n_edges == 11


def test_value_labels_carry_name_data_and_grad():
    a, b, c, e = example()
    g = viz.draw_graph(e)
    text = {k: v for k, v in boxes(g).items() if k.startswith("v")}
    for node in (a, b, c, e):
        (attrs,) = [t for t in text.values() if f"<B>{node.label}</B>" in t]
        assert f"data {format_number(node.data)}" in attrs
        assert f"grad {format_number(node.grad)}" in attrs
    assert "grad 0.07065" in boxes(g)["v4"] or "grad 0.07065" in g.source  # da = 1 * (1-e^2)


def test_ops_are_small_nodes_named_by_op_and_constants_are_drawn():
    a, b, c, e = example()
    src = viz.draw_graph(e).source
    ops = [t for k, t in boxes(viz.draw_graph(e)).items() if k.startswith("o")]
    assert sorted(re.search(r"<TD>(\w+)</TD>", t).group(1) for t in ops) == [
        "add",
        "mul",
        "pow",
        "tanh",
    ]
    assert all("shape=oval" in t for t in ops)
    assert re.search(r"c0 \[label=<.*<TD>2\.0</TD>.*style=\"filled,dashed\"", src)
    assert "c0 -> o" in src


def test_edges_go_input_to_op_to_output_in_operand_order():
    a = Value(5.0, label="a")
    b = Value(3.0, label="b")
    d = a - b
    g = viz.draw_graph(d)
    assert edges(g) == [("v1", "o0"), ("v2", "o0"), ("o0", "v0")]
    assert "ordering=in" in g.source  # a is drawn above b: the order of a - b shows


def test_same_graph_same_source_and_ids_from_a_counter():
    a, b, c, e = example()
    one, two = viz.draw_graph(e).source, viz.draw_graph(e).source
    assert one == two
    ids = list(boxes(viz.draw_graph(e)))
    assert all(re.fullmatch(r"[voc]\d+", i) for i in ids)
    assert max(int(i[1:]) for i in ids if i[0] == "v") == 5  # not id(): small numbers
    a2, b2, c2, e2 = example()  # an equal graph built again gives the same text
    assert viz.draw_graph(e2).source == one


def test_labels_are_escaped():
    x = Value(1.0, label='<script>alert("x")</script> & <b>')
    y = x * 2
    y.label = "{a|b} \\n"
    src = viz.draw_graph(y).source
    assert "<script>" not in src and "<b>" not in src
    assert '&lt;script&gt;alert("x")&lt;/script&gt; &amp; &lt;b&gt;' in src
    assert "{a|b} \\n" in src  # HTML labels: record and escape characters are just text
    svg = viz.draw_graph(y).pipe(format="svg", encoding="utf-8")
    assert "&lt;script&gt;" in svg and "<script" not in svg


def test_colour_legend_roles():
    w = Value(0.5, label="w")
    x = Value(2.0, label="x", requires_grad=False)
    y = (w * x + 1.0).relu()
    y.label = "y"
    y.backward()
    b = boxes(viz.draw_graph(y))
    fill = {k: re.search(r'fillcolor="([^"]+)"', t).group(1) for k, t in b.items()}
    by_label = {re.search(r"<B>(\w+)</B>", t).group(1): k for k, t in b.items() if "<B>" in t}
    L = viz.LEGEND
    assert fill[by_label["w"]] == L["parameter"]
    assert fill[by_label["x"]] == L["input"]
    assert fill[by_label["y"]] == L["root"]
    assert fill["c0"] == L["constant"]
    inter = [k for k in b if k.startswith("v") and k not in by_label.values()]
    assert inter and all(fill[k] == L["intermediate"] for k in inter)
    assert "grad" not in b[by_label["x"]]  # an input without requires_grad has no gradient row
    assert "legend" in viz.legend().source and L["parameter"] in viz.legend().source


def test_nan_and_inf_in_red_and_highlight():
    x = Value(0.0, label="x")
    y = x.log()  # -inf
    y.label = "y"
    z = y * 0.0  # nan
    z.backward()
    b = boxes(viz.draw_graph(z, highlight=x))
    red = {k for k, t in b.items() if viz.LEGEND["nonfinite"] in t}
    assert {"v0", "v1"} <= red  # z (nan data) and y (-inf data)
    assert "v2" in red  # x: its gradient is nan (0 * inf)
    (xbox,) = [t for t in b.values() if "<B>x</B>" in t]
    assert viz.LEGEND["highlight"] in xbox and "penwidth=3.0" in xbox
    assert viz.LEGEND["highlight"] not in b["v1"]


def test_names_from_named_parameters_by_identity():
    w, bias = Value(0.5), Value(0.1, label="bias_label")
    y = w * 3.0 + bias
    y.backward()
    twin = Value(0.5)  # equal data, not the same node: not named
    names = {"layers.0.w": w, "layers.0.b": bias, "other": twin}
    src = viz.draw_graph(y, names=names).source
    assert "<B>layers.0.w</B>" in src and "<B>layers.0.b</B>" in src
    assert "bias_label" not in src and "other" not in src

    class Model:
        def named_parameters(self):
            return list(names.items())

    assert viz.draw_graph(y, names=Model()).source == src


def test_tensors_small_values_large_stats():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, label="x")
    W = Tensor(np.linspace(-1, 1, 64).reshape(8, 8), requires_grad=True, label="W")
    h = Tensor(np.ones((2, 8)), label="h") @ W  # (2, 8)
    loss = (h.sum() + (x * x).sum()) * 0.5
    loss.backward()
    b = boxes(viz.draw_graph(loss))
    (xbox,) = [t for t in b.values() if "<B>x</B>" in t]
    assert f">(2, 2) {x.dtype}<" in xbox  # shape and dtype, always
    # a small array: a grid of its numbers, data on the left, grad (x here) on the right
    rows = re.findall(r"<TR>((?:<TD[^>]*>[^<]*</TD>)+)</TR>", xbox)
    cells = [re.findall(r"<TD[^>]*>([^<]*)</TD>", r) for r in rows]
    assert cells == [["1.0", "2.0", "", "1.0", "2.0"], ["3.0", "4.0", "", "3.0", "4.0"]]
    assert ">data<" in xbox and ">grad<" in xbox
    (wbox,) = [t for t in b.values() if "<B>W</B>" in t]
    assert f">(8, 8) {W.dtype}<" in wbox
    # a large one: one line of mean, std and range (lovely-numpy style)
    f = W.data.astype(np.float64)
    assert f"data μ=0.0 σ={f.std():.3g} [-1.0, 1.0]<" in wbox
    g = W.grad.astype(np.float64)
    assert f"grad all {format_number(g.flat[0])}<" in wbox  # d(sum h)/dW: every entry equal
    ops = {re.search(r"<TD>(\w+)</TD>", t).group(1) for k, t in b.items() if k.startswith("o")}
    assert {"matmul", "sum", "mul", "add"} <= ops
    assert any("<TD>broadcast_to</TD>" in t or "<TD>mul</TD>" in t for t in b.values())


def test_summaries_flag_nan_inf_and_zeros():
    from viz.fmt import array_stats, format_summary

    a = np.array([[1.0, np.nan], [np.inf, -np.inf], [3.0, 5.0]], dtype=np.float32)
    assert array_stats(a) == "μ=3.0 σ=1.63 [1.0, 5.0] NaN×1 +inf×1 -inf×1"
    assert format_summary(np.zeros((128, 64), np.float32)) == "(128, 64) f32 all zeros"
    assert format_summary(np.full(7, np.nan)) == "(7,) f64 NaN×7"
    rng = np.random.default_rng(0)
    r = rng.normal(0.01, 0.3, size=(128, 64)).astype(np.float32)
    text = format_summary(r)
    assert text.startswith("(128, 64) f32 μ=") and f"[{r.min():.3g}, {r.max():.3g}]" in text
    t = Tensor(np.zeros((10, 10)), requires_grad=True, label="t")
    (t * 2.0).sum().backward()
    (tbox,) = [v for v in boxes(viz.draw_graph((t * 2.0).sum())).values() if "<B>t</B>" in v]
    assert "data all zeros" in tbox and "(10, 10) float64" in tbox


def test_before_backward_gradients_read_not_yet():
    a = Value(2.0, label="a")
    b = a * 3.0
    b.label = "b"
    src = viz.draw_graph(b).source
    assert "grad 0.0" not in src and src.count("<I>grad not yet</I>") == 2
    b.backward()
    src = viz.draw_graph(b).source
    assert "not yet" not in src and "grad 3.0" in src and "grad 1.0" in src
    x = Tensor(np.ones(3), requires_grad=True, label="x")
    assert "<I>grad not yet</I>" in viz.draw_graph((x * x).sum()).source
    assert "-0.0" not in viz.draw_graph(Value(-0.0, label="z") * 1.0).source


def test_custom_op_shown_by_name_and_attrs():
    cube = Op("cube", lambda x: x**3, lambda g, out, x: (3 * g * x * x,))
    y = cube(Value(2.0, label="x"))
    y.backward()
    assert "<TD>cube</TD>" in viz.draw_graph(y).source
    t = Tensor(np.ones((2, 3)), requires_grad=True).sum(axis=0)
    assert "axis=0, keepdims=False" in viz.draw_graph(t.sum()).source


def test_show_data_and_grad_switches_and_rankdir():
    a, b, c, e = example()
    src = viz.draw_graph(e, show_data=False, show_grad=False, rankdir="TB").source
    assert "<TD>data " not in src and "<TD>grad " not in src and "rankdir=TB" in src
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_graph(e, rankdir="XY")
    with pytest.raises(TypeError, match="Value or Tensor"):
        viz.draw_graph(3.0)


# ----------------------------------------------------------------------------------------------
# big graphs: focus, collapse, max_nodes


def test_focus_keeps_only_paths_between_root_and_node():
    a, b, c, e = example()
    g = viz.draw_graph(e, focus=b)
    text = g.source
    assert "<B>b</B>" in text and "<B>c</B>" in text and "<B>e</B>" in text
    assert "<B>a</B>" not in text and "pow" not in text and "c0" not in text
    assert len([k for k in boxes(g) if k[0] == "v"]) == 4  # b -> c -> (c + a^2) -> e
    with pytest.raises(ValueError, match="not in the graph"):
        viz.draw_graph(e, focus=Value(1.0))


def test_max_nodes_error_says_how_many_and_what_to_do():
    a, b, c, e = example()
    with pytest.raises(viz.GraphTooLargeError, match=r"11 nodes .*collapse='module'.*focus="):
        viz.draw_graph(e, max_nodes=10)
    assert viz.draw_graph(e, max_nodes=11)


def test_a_million_node_chain_iteratively():
    x = Value(0.5, label="x")
    y = x
    for _ in range(1_000_000):
        y = -y
    with pytest.raises(viz.GraphTooLargeError, match="2000001 nodes"):
        viz.draw_graph(y)
    near = y
    for _ in range(3):
        near = near.parents[0]
    g = viz.draw_graph(y, focus=near)
    assert len(boxes(g)) == 4 + 3  # 4 values and the 3 ops between them
    del y, near  # freeing the chain must not overflow the stack either


def _mlp_demo(n=100, seed=0):
    """micrograd's demo: a 2-16-16-1 MLP of Values on n points, hinge loss + L2, with nn-like
    scopes (layers.0 ... and the loss), about 65,000 Values."""
    rng = random.Random(seed)
    sizes, names, layers = [2, 16, 16, 1], {}, []
    for li, (nin, nout) in enumerate(zip(sizes, sizes[1:])):
        neurons = []
        for j in range(nout):
            w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
            b = Value(0.0)
            names.update({f"layers.{li}.neurons.{j}.w.{k}": wk for k, wk in enumerate(w)})
            names[f"layers.{li}.neurons.{j}.b"] = b
            neurons.append((w, b))
        layers.append(neurons)
    X = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(n)]
    Y = [1.0 if x0 * x1 > 0 else -1.0 for x0, x1 in X]
    scores = []
    for x in X:
        h = [Value(v, requires_grad=False) for v in x]
        for li, neurons in enumerate(layers):
            with scope(f"layers.{li}"):
                act = [sum((wi * xi for wi, xi in zip(w, h)), b) for w, b in neurons]
                h = [v.relu() for v in act] if li < 2 else act
        scores.append(h[0])
    with scope("loss"):
        losses = [(1 + -yi * si).relu() for yi, si in zip(Y, scores)]
        total = sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in names.values())
    total.label = "loss"
    return total, names


def test_collapse_module_on_a_micrograd_demo_sized_graph():
    loss, names = _mlp_demo()
    loss.backward()
    n_values = len(walk(loss)[0])
    assert 60_000 < n_values < 70_000
    t0 = time.perf_counter()
    g = viz.draw_graph(loss, collapse="module", names=names)
    svg = g.pipe(format="svg", encoding="utf-8")
    took = time.perf_counter() - t0
    print(f"\ncollapsed {n_values} Values: draw + dot render {took:.2f} s")  # benchmarks/layout.py
    b = boxes(g)
    mods = {re.search(r"<B>([\w.]+)</B>", t).group(1): t for k, t in b.items() if k[0] == "m"}
    assert set(mods) == {"layers.0", "layers.1", "layers.2", "loss"}
    assert "48 params" in mods["layers.0"] and "272 params" in mods["layers.1"]
    assert "17 params" in mods["layers.2"]
    norm0 = np.sqrt(sum(p.grad**2 for k, p in names.items() if k.startswith("layers.0.")))
    assert f"‖grad‖ {format_number(norm0)}" in mods["layers.0"]
    assert "<B>200 inputs</B>" in g.source  # the inputs feeding layers.0, as one node
    assert len(b) < 20 and 'id="m0"' in svg or 'id="m0"' in svg
    by_name = {re.search(r"<B>([\w.]+)</B>", t).group(1): k for k, t in b.items() if k[0] == "m"}
    assert (by_name["layers.0"], by_name["layers.1"]) in edges(g)
    assert (by_name["layers.2"], by_name["loss"]) in edges(g)


def test_collapse_groups_parameters_by_scope_without_names():
    w = Value(0.5, label="w")
    x = Value(2.0, label="x", requires_grad=False)
    with scope("layer"):
        h = (w * x).tanh()
    y = h * 3.0
    y.backward()
    b = boxes(viz.draw_graph(y, collapse="module"))
    (mod,) = [t for k, t in b.items() if k[0] == "m"]
    assert "<B>layer</B>" in mod and "1 param<" in mod and "3 nodes" in mod
    assert "<B>w</B>" not in "".join(b.values())  # w joined its layer's box
    assert any("<B>x</B>" in t for t in b.values())  # a single input stays a node
    with pytest.raises(ValueError, match="collapse"):
        viz.draw_graph(y, collapse="layers")


# ----------------------------------------------------------------------------------------------
# without Graphviz's dot


def test_without_dot_the_digraph_still_comes_and_display_says_one_line(
    monkeypatch, tmp_path, capsys
):
    a, b, c, e = example()
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` here
    g = viz.draw_graph(e)
    assert "digraph" in g.source and "<B>a</B>" in g.source
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert g.render(tmp_path / "graph", format="svg") is None
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("apt install graphviz" in line for line in err)
    assert "Traceback" not in capsys.readouterr().err


def test_a_missing_optional_package_says_what_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "graphviz", None)  # as if the viz extra were missing
    a = Value(2.0)
    b = a * a
    with pytest.raises(ImportError, match=r"draw_graph needs the Python package 'graphviz'.*viz"):
        viz.draw_graph(b)


# ----------------------------------------------------------------------------------------------
# names without names=


def _dense_model_loss():
    import nn

    nn.manual_seed(0)
    model = nn.Sequential(
        [nn.Dense(3, activation="tanh", input_shape=(2,)), nn.Dense(1, activation="sigmoid")]
    )
    x = np.random.default_rng(0).normal(size=(5, 2))
    loss = nn.losses.mse(np.ones((5, 1)), model(x))
    loss.backward()
    return model, loss


def test_parameters_named_by_module_path_and_intermediates_by_module_and_op():
    model, loss = _dense_model_loss()
    src = viz.draw_graph(loss).source
    for name, p in model.named_parameters():  # layers.0.weight, ... with no names=
        assert f"<B>{name}</B>" in src
        assert f">{format_shape_dtype(p)}<" in src
    assert src.count("<B>weight</B>") == 0
    assert ">layers.0 · matmul<" in src and ">layers.1 · sigmoid<" in src
    assert "<B>loss</B>" in src and "<B>x</B>" in src  # the root, and the input batch
    assert "<B>y</B>" in src  # the labels of the mse (the only array after the model)
    assert viz.draw_graph(loss, names={"W0": model.layers[0].weight}).source.count("<B>W0</B>")


def format_shape_dtype(p):
    return f"({', '.join(map(str, p.shape))}{',' if p.ndim == 1 else ''}) {p.dtype}"


def test_same_names_in_the_svg_and_the_viewer_and_numbered_when_repeated():
    from viz.trace import Trace, node_names

    a = Value(1.5, label="a")
    e = (a * 2.0) * (a * 3.0) + a  # two muls feed a third: mul_1, mul_2, mul_3
    e.backward()
    names = node_names(Trace(e))
    assert names[0] == "loss" and sorted(n for n in names if n.startswith("mul")) == [
        "mul_1",
        "mul_2",
        "mul_3",
    ]
    src = viz.draw_graph(e).source
    svg, data = viz.steps.viewer_payload(e)
    for n in names:
        assert f">{n}<" in src
        assert f">{n}</text>" in svg or f">{n} = " in svg
    assert data["steps"][0]["lines"][0].startswith("dloss/dloss = 1")
    assert [s["name"] for s in data["steps"]] == [
        names[Trace(e).index[s.node]] for s in viz.steps.backward_steps(e)
    ]


def test_collapsed_boxes_say_the_layer_and_keep_an_input_that_needs_a_gradient():
    import nn

    nn.manual_seed(0)
    cnn = nn.Sequential(
        [
            nn.Conv2D(4, 3, padding="same", activation="relu", input_shape=(6, 6, 1)),
            nn.MaxPooling2D(2),
            nn.Flatten(),
            nn.Dense(3),
        ]
    )
    image = Tensor(np.ones((2, 6, 6, 1), np.float32), requires_grad=True, label="image")
    loss = nn.losses.sparse_categorical_crossentropy([0, 2], cnn(image), from_logits=True)
    loss.backward()
    src = viz.draw_graph(loss, collapse="module").source
    assert "<B>layers.0 · Conv2D(4, 3x3, relu)</B>" in src
    assert "<B>layers.1 · MaxPooling2D(2x2)</B>" in src and ">1 node<" in src
    assert "<B>image</B>" in src and "(2, 6, 6, 1) float32" in src  # drawn before layers.0
    plain = viz.draw_graph(loss).source
    assert "<B>layers.0.weight</B>" in plain and "<B>image</B>" in plain
    assert "layers.0.image" not in plain


# ----------------------------------------------------------------------------------------------
# fitting a screen, collapsing large Tensor graphs


def test_size_fits_the_width_and_wraps_a_chain_of_layers():
    model, loss = _dense_model_loss()
    natural = viz.draw_graph(loss).pipe(format="svg", encoding="utf-8")
    g = viz.draw_graph(loss, size=(1280, 720))
    assert g.graph_attr["size"] == "13.33,7.50"  # inches: Graphviz scales down to this
    svg = g.pipe(format="svg", encoding="utf-8")
    w, h = (float(v) for v in re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups())
    nw = float(re.search(r'width="([\d.]+)pt"', natural).group(1))
    assert w <= 960.5 and h <= 540.5 and nw > 960  # at most 1280x720 CSS pixels
    assert "cluster_band1" in g.source  # wrapped into bands (one per layer here)
    assert "constraint=false" in g.source
    assert viz.draw_graph(loss, size=900).graph_attr["size"].startswith("9.38,")
    assert viz.draw_graph(loss, size="640x480").graph_attr["size"] == "6.67,5.00"
    for bad in (0, "wide", (1280,), True):
        with pytest.raises(ValueError, match="size must be a width in pixels"):
            viz.draw_graph(loss, size=bad)


def test_a_large_tensor_graph_collapses_by_module_with_a_note():
    import nn

    nn.manual_seed(0)
    model = nn.Sequential(
        [nn.Dense(4, activation="relu", input_shape=(3,))]
        + [nn.Dense(4, activation="relu") for _ in range(8)]
        + [nn.Dense(1)]
    )
    loss = nn.losses.mse(np.zeros((2, 1)), model(np.ones((2, 3))))
    loss.backward()
    g = viz.draw_graph(loss)
    assert "collapse=False" in g.graph_attr["label"]  # says how to see every op
    assert len([k for k in boxes(g) if k.startswith("m")]) == 10
    full = viz.draw_graph(loss, collapse=False)
    assert "label" not in full.graph_attr and not any(k.startswith("m") for k in boxes(full))
    assert len(boxes(full)) > viz.graph.AUTO_COLLAPSE
    small_model, small = _dense_model_loss()  # under the limit: every op, no note
    assert "label" not in viz.draw_graph(small).graph_attr


def _deep_loss(n=5):
    import nn

    nn.manual_seed(0)
    model = nn.Sequential(
        [nn.Dense(4, activation="relu", input_shape=(3,))]
        + [nn.Dense(4, activation="relu") for _ in range(n)]
        + [nn.Dense(1)]
    )
    loss = nn.losses.mse(np.zeros((2, 1)), model(np.ones((2, 3))))
    loss.backward()
    return model, loss


def test_fold_draws_a_chain_of_identical_layers_once():
    model, loss = _deep_loss(5)
    coll = viz.draw_graph(loss, collapse="module", fold=True).source
    assert "<B>layers.1 … layers.5 · Dense(4, relu) × 5</B>" in coll
    assert "<B>layers.0 · Dense(4, relu)</B>" in coll  # 3 -> 4: not the same block
    assert ">100 params<" in coll and "<B>layers.3" not in coll
    full = viz.draw_graph(loss, collapse=False, fold=True)
    src = full.source
    assert "cluster_fold0" in src and "× 5" in src
    assert "<B>layers.1.weight</B>" in src and "layers.2.weight" not in src
    assert "<B>layers.6.weight</B>" in src  # the layer after the run is drawn, and fed
    plain = boxes(viz.draw_graph(loss, collapse=False))
    assert len(boxes(full)) < len(plain) - 4 * 8  # four blocks of 10 boxes left out
    # an unrolled recurrence: each step in its own scope, the same cell
    h = Tensor(np.zeros((1, 3)), label="h0")
    W = Tensor(np.full((3, 3), 0.1), requires_grad=True, label="W")
    for t in range(4):
        with scope(f"step.{t}"):
            h = (h @ W + 1.0).tanh()
    out = h.sum()
    out.backward()
    rnn = viz.draw_graph(out, fold=True).source
    assert "step.0 … step.3 × 4" in rnn
    assert viz.draw_graph(out).source.count("<B>W</B>") == 1  # one W, used by every step


@pytest.mark.parametrize("which", ["mlp", "cnn"])
def test_notebook_05s_models_show_shapes_dtypes_and_named_parameters_without_names(which):
    """The Dense and Conv2D models of notebooks/05_vision.ipynb, drawn with no names=."""
    import nn

    X, y = nn.data.load_digits(images=True)
    nn.manual_seed(0)
    if which == "mlp":
        model = nn.Sequential(
            [
                nn.Flatten(input_shape=(8, 8, 1)),
                nn.Dense(64, activation="relu"),
                nn.Dense(10, activation="softmax"),
            ]
        )
    else:
        model = nn.Sequential(
            [
                nn.Conv2D(16, 3, padding="same", activation="relu", input_shape=(8, 8, 1)),
                nn.MaxPooling2D(2),
                nn.Conv2D(32, 3, padding="same", activation="relu"),
                nn.MaxPooling2D(2),
                nn.Flatten(),
                nn.Dense(10, activation="softmax"),
            ]
        )
    loss = nn.losses.sparse_categorical_crossentropy(y[:8], model(X[:8]))
    loss.backward()
    src = viz.draw_graph(loss).source
    params = model.named_parameters()
    assert len(params) == (4 if which == "mlp" else 6)
    for name, p in params:
        (box,) = [t for t in boxes(viz.draw_graph(loss)).values() if f"<B>{name}</B>" in t]
        assert f">{format_shape_dtype(p)}<" in box  # e.g. (3, 3, 1, 16) float32
        assert "data μ=" in box or "data all zeros" in box
    assert "<B>weight</B>" not in src and "<B>bias</B>" not in src
    # the batch of 8 images: a plain array (a constant) for Conv2D, a leaf after Flatten
    (xbox,) = [t for t in boxes(viz.draw_graph(loss)).values() if "<B>x</B>" in t]
    assert ("(8, 64) float32" if which == "mlp" else "(8, 8, 8, 1) f32") in xbox
    assert ">(8, 10) float32<" in src  # the model's output


def test_a_summed_bias_is_marked_on_its_edge_and_a_broadcast_node_is_not():
    from viz.trace import summed_axes, summed_text

    x = Tensor(np.ones((4, 3)), label="x")
    W = Tensor(np.ones((3, 2)), requires_grad=True, label="W")
    b = Tensor([0.5, -0.5], requires_grad=True, label="b")
    y = x @ W + b
    loss = y.sum()
    src = viz.draw_graph(loss).source
    bias_box = next(k for k, v in boxes(viz.draw_graph(loss)).items() if "<B>b</B>" in v)
    marked = re.findall(r"^\t(\w+) -> (\w+) \[.*\blabel=\"Σ axis 0\"", src, re.M)
    assert [m[0] for m in marked] == [bias_box]  # the bias's edge, and only that one
    assert summed_axes(y, b) == (0,) and summed_axes(y, y.operands[0]) == ()
    c = Tensor(np.ones((4, 1, 3)), requires_grad=True)
    z = c * Tensor(np.ones((2, 4, 5, 3)), requires_grad=True)
    assert summed_text(summed_axes(z, c)) == "Σ axes 0, 2"
    col = Tensor(np.ones((4, 1)), requires_grad=True)
    both = col + b  # neither operand has the result's shape: broadcast_to nodes, no mark
    assert "Σ" not in viz.draw_graph(both.sum()).source
    assert [p.op for p in both.parents] == ["broadcast_to", "broadcast_to"]
