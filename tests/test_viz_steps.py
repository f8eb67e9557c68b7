"""The step-through data behind viz.step_through and viz.export_html: the widget's state, the
chain-rule lines, one viewer.js for both, the graph left unchanged, and the page without dot."""

import ast
import importlib.util
import inspect
import json
import re
from pathlib import Path

import anywidget
import numpy as np
import pytest
import traitlets

import viz
from autograd import Node, Tensor, Value, backward_steps, ops
from viz.fmt import format_grad
from viz.steps import record
from viz.trace import Trace

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
    assert d["rootName"] == "L" and d["blank"] == viz.steps.BLANK == "grad not yet"
    # the unnamed product c * 0.5 is named by its op, in the panel and in its box
    assert [s["name"] for s in d["steps"]] == [(s.node.label or "mul") for s in backward_steps(L)]
    assert ">mul</text>" in w.svg
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
    assert by_name["L"]["lines"][0] == "dL/dL = 1   (the seed: backward starts here)"
    assert by_name["c"]["lines"] == [
        "dL/dc = 0.5   (complete: every use of c has passed it back)",
        "dL/da += dL/dc * ∂c/∂a = 0.5 * 2.0 = 1.0",
        "dL/db += dL/dc * ∂c/∂b = 0.5 * 3.0 = 1.5",
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


def test_tensor_lines_show_the_rules_formula_with_shapes_and_numbers():
    x = Tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True, label="x")
    W = Tensor(np.ones((2, 5)), requires_grad=True, label="W")
    h = (x @ W).tanh()
    h.label = "h"
    loss = (h * h).mean()
    loss.label = "loss"
    data = viz.step_through(loss).data
    mm = next(s for s in data["steps"] if s["op"] == "matmul")
    y = mm["name"]  # the matmul's result, named by the viewer
    text = "\n".join(mm["lines"])
    # the matrix chain rule, with the names and then the actual shapes
    assert f"dloss/dW += xᵀ @ dloss/d{y}   (2, 2)ᵀ @ (2, 5) -> (2, 5)" in text
    assert f"dloss/dx += dloss/d{y} @ Wᵀ   (2, 5) @ (2, 5)ᵀ -> (2, 2)" in text
    # x is small (4 numbers) but W and the gradients are not: no numbers line for them
    assert "    = " not in text
    tanh_step = next(s for s in data["steps"] if s["op"] == "tanh")
    assert (
        f"dloss/d{y} += dloss/dh * (1 - h**2)   (2, 5) * (1 - (2, 5)**2) -> (2, 5)"
        in (tanh_step["lines"])
    )
    x_step = next(s for s in data["steps"] if s["name"] == "x")
    loss.backward()
    assert x_step["set"][0][1] == "grad " + format_grad(x.grad)


def test_small_tensors_show_the_numbers_and_a_bias_says_why_it_is_summed():
    x = Tensor([[1.0, -2.0], [3.0, 0.5], [0.0, 1.0]], label="x")
    w = Tensor([[0.5], [-1.0]], requires_grad=True, label="w")
    b = Tensor([0.25], requires_grad=True, label="b")
    y = x @ w + b
    y.label = "y"
    loss = y.sum()
    loss.label = "loss"
    steps = viz.step_through(loss).data["steps"]
    mm = next(s for s in steps if s["op"] == "matmul")
    assert mm["lines"][1:] == [
        f"dloss/dw += xᵀ @ dloss/d{mm['name']}   (3, 2)ᵀ @ (3, 1) -> (2, 1)",
        "    = [[1.0, -2.0], [3.0, 0.5], [0.0, 1.0]]ᵀ @ [[1.0], [1.0], [1.0]] = [[4.0], [-0.5]]",
    ]
    add = next(s for s in steps if s["op"] == "add")  # b is repeated by add itself (no node)
    assert add["lines"][3:] == [
        "dloss/db += sum_to(dloss/dy, b.shape)   sum_to((3, 1), (1,)) -> (1,)",
        "    = sum_to([[1.0], [1.0], [1.0]], (1,)) = [3.0]",
        "    b was added to each of 3 rows, so its gradient is the sum over those rows "
        "(axis 0): (3, 1) -> (1,)",
    ]
    assert add["lines"][1] == f"dloss/d{mm['name']} += dloss/dy   (3, 1) -> (3, 1)"  # no sum
    assert steps[0]["lines"][0] == "dloss/dloss = 1   (the seed: backward starts here)"


def test_no_minus_zero_anywhere():
    a = Value(0.0, label="a")
    b = Value(-1.0, label="b")
    L = a * b  # dL/db = a = 0.0, and a * b = -0.0
    L.label = "L"
    w = viz.step_through(L)
    text = json.dumps(w.data, ensure_ascii=False) + w.svg
    assert re.search(r"-0\.0(?![\d])", text) is None
    assert "dL/db += dL/dL * ∂L/∂b = 1.0 * 0.0 = 0.0" in text


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
        viz.step_through(y, max_nodes=400)


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


# ----------------------------------------------------------------------------------------------
# every Tensor rule of the table: its step names the rule's formula, with the shapes

_spec = importlib.util.spec_from_file_location(
    "stepgrad_test_rules_for_steps", Path(__file__).with_name("test_rules.py")
)
_rules = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_rules)


def _tensor_cases():
    for name, cases in _rules.CASES.items():
        for i, case in enumerate(cases):
            if type(case).__name__ == "T":
                yield pytest.param(name, case, id=f"{name}-{i}")


def test_every_rule_has_a_tensor_case():
    covered = {p.values[0] for p in _tensor_cases()}
    assert covered == set(ops.RULES), sorted(set(ops.RULES) - covered)


@pytest.mark.parametrize("name,case", list(_tensor_cases()))
def test_every_tensor_rule_step_names_its_formula_with_shapes(name, case):
    rule = ops.RULES[name]
    xs = case.inputs(np.random.default_rng(0))
    for k, x in enumerate(xs):
        x.label = f"in{k}"
    y = case.f(*xs)
    root = y if y.size == 1 and y.ndim == 0 else y.sum()
    trace = Trace(root)
    names, _, data = record(trace)
    by_node = {s["node"]: s for s in data["steps"]}
    seen = 0
    for i, n in enumerate(trace.nodes):
        if n._op is not rule:
            continue
        step = by_node[f"v{i}"]
        engine = next(s for s in backward_steps(root) if s.node is n)
        lines = step["lines"]
        for p, _, contrib in engine.contributions:
            k = next(j for j, o in enumerate(n.operands) if o is p)
            f = rule.grads[0 if rule.arity == -1 else k]
            pn = names[trace.index[p]]
            line = next(t for t in lines if t.startswith(f"d{names[0]}/d{pn} += "))
            assert line.endswith(f" -> {_shape_text(contrib)}"), line
            with_names, with_shapes = line.split(" += ", 1)[1].rsplit(" -> ", 1)[0].split("   ")
            operands = dict(zip(_vjp_names(rule, len(n.operands)), n.operands))
            for ident in _names_in(f):
                if ident == "g":
                    assert f"d{names[0]}/d{names[i]}" in with_names, (f, line)
                    assert _shape_text(engine.grad) in with_shapes, (f, line)
                elif ident in operands and isinstance(operands[ident], Node):
                    o = operands[ident]
                    assert names[trace.index[o]] in with_names, (f, line)
                    assert _shape_text(o.data) in with_shapes, (f, line)
            for fn in _calls_in(f) - {"mT"}:
                assert fn in with_names and fn in with_shapes, (f, line)
            if "mT(" in f:
                assert "ᵀ" in with_names and "ᵀ" in with_shapes and "mT(" not in line
            seen += 1
    assert seen, f"the case for {name} passes no gradient through a {name} node"


def _shape_text(a):
    a = np.asarray(a)
    return "(" + ", ".join(str(n) for n in a.shape) + ("," if a.ndim == 1 else "") + ")"


def _vjp_names(rule, n):
    params = [p for p in inspect.signature(rule.vjp).parameters.values()][2:]
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return [f"x_{j}" for j in range(n)]
    return [p.name for p in params][:n]


def _names_in(f):
    return {t.id for t in ast.walk(ast.parse(f, mode="eval")) if isinstance(t, ast.Name)}


def _calls_in(f):
    return {
        t.func.id
        for t in ast.walk(ast.parse(f, mode="eval"))
        if isinstance(t, ast.Call) and isinstance(t.func, ast.Name)
    }


@pytest.mark.parametrize(
    "f,used",
    [
        (lambda x, b: x + b, "added to"),
        (lambda x, b: x - b, "subtracted from"),
        (lambda x, b: b - x, "used by sub in"),
        (lambda x, b: x * b, "multiplied into"),
        (lambda x, b: x / b, "used by div in"),
        (lambda x, b: b.broadcast_to((4, 3)) + x, "repeated for"),
    ],
)
def test_a_repeated_bias_is_explained_with_the_op_that_used_it(f, used):
    x = Tensor(np.ones((4, 3)), label="x")
    b = Tensor([1.0, 2.0, 3.0], requires_grad=True, label="b")
    L = f(x, b).sum()
    L.label = "L"
    lines = [line for s in viz.step_through(L).data["steps"] for line in s["lines"]]
    why = [line for line in lines if "rows" in line]
    assert why == [
        f"    b was {used} each of 4 rows, so its gradient is the sum over those rows "
        "(axis 0): (4, 3) -> (3,)"
    ]
