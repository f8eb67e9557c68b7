"""The gradient formulas of the rule table (`grads=` on each `@rule`), the one place the viewer
takes its chain-rule text from: every rule has one per input, each parses, uses only the
documented names, and gives the same numbers as the rule's vjp on every case of test_rules.py.
"""

import ast
import importlib.util
import inspect
from pathlib import Path

import numpy as np
import pytest

from autograd import Node, ops, toposort
from viz.trace import formula_names, formulas

_spec = importlib.util.spec_from_file_location(
    "stepgrad_test_rules", Path(__file__).with_name("test_rules.py")
)
_rules = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_rules)
CASES = _rules.CASES

# the functions a formula may call (documented in autograd.ops.rule)
FUNCTIONS = {"mT", "sum_to", "expand", "scatter", "split", "take", "sum", "sign", "log", "exp"}
FUNCTIONS |= {"argsort", "im2col", "col2im", "is_max"}


def _vjp_args(r):
    params = list(inspect.signature(r.vjp).parameters.values())[2:]
    return [p for p in params if p.name != "needs"]


@pytest.mark.parametrize("name", sorted(ops.RULES))
def test_every_rule_has_one_formula_per_input(name):
    r = ops.RULES[name]
    assert r.grads is not None, f"@rule({name!r}) has no grads= formulas"
    want = 1 if r.arity == -1 else r.arity
    assert len(r.grads) == want, f"{name}: {len(r.grads)} formulas for {want} inputs"
    assert any(f is not None for f in r.grads), f"{name}: no input has a formula"
    allowed = {"g", "out"} | {p.name for p in _vjp_args(r)}
    if r.arity == -1:
        allowed |= {"x_i", "i"}
    for f in r.grads:
        if f is None:
            continue
        tree = ast.parse(f, mode="eval")
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                assert isinstance(node.func, (ast.Name, ast.Attribute)), f"{name}: {f}"
                if isinstance(node.func, ast.Name):
                    assert node.func.id in FUNCTIONS, f"{name}: unknown function in {f!r}"
            elif isinstance(node, ast.Name) and node.id not in FUNCTIONS:
                assert node.id in allowed, f"{name}: {f!r} uses {node.id!r}, not one of {allowed}"


def test_a_missing_formula_is_noticed():
    bare = ops.Op("bare", lambda x: x, lambda g, out, x: (g,))
    assert bare.grads is None
    assert formulas(_rules.Value(1.0).exp()) == ("g * out",)
    assert formulas(bare(_rules.Value(1.0))) is None
    assert formulas(_rules.Value(1.0)) is None


# ----------------------------------------------------------------------------------------------
# evaluating a formula with numpy


def _expand(g, shape, axis=None):
    g = np.asarray(g)
    if g.ndim != len(shape):
        axes = range(len(shape)) if axis is None else ops._axes(axis, len(shape))
        for a in sorted(axes):
            g = np.expand_dims(g, a)
    return np.broadcast_to(g, shape)


def _sum_to(g, shape):
    g = np.asarray(g)
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead))) if lead else g
    axes = tuple(k for k, n in enumerate(shape) if n == 1 and g.shape[k] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


def _scatter(g, shape, index):
    z = np.zeros(shape)
    np.add.at(z, index, g)
    return z


def _namespace(r, raw, attrs, views):
    xs = list(raw)
    ns = {
        "mT": lambda x: np.swapaxes(x, -1, -2),
        "sum_to": _sum_to,
        "expand": _expand,
        "scatter": _scatter,
        "take": lambda g, i, axis: np.take(g, i, axis=axis),
        "sum": lambda g, axis=None: np.sum(g, axis=axis, keepdims=True),
        "sign": np.sign,
        "log": np.log,
        "exp": np.exp,
        "argsort": lambda a: None if a is None else tuple(np.argsort(a)),
    }

    def split(g, axis):
        cuts = np.cumsum([x.shape[axis] for x in xs])[:-1]
        return np.split(g, cuts, axis=axis)

    ns["split"] = split
    ns.update(views)
    return ns


def _conv_views(x, w, g, attrs):
    kh, kw, c, f = w.shape
    stride = attrs.get("stride", (1, 1))
    padding = attrs.get("padding", ((0, 0), (0, 0)))
    oh, ow = g.shape[1:3]
    return {
        "g": g.reshape(-1, f),
        "w": w.reshape(-1, f),
        "im2col": lambda x, ws: ops._im2col(x, kh, kw, stride, padding).reshape(-1, kh * kw * c),
        "col2im": lambda cols, shape: ops._col2im(
            cols.reshape(shape[0], oh, ow, kh, kw, c), shape, stride, padding
        ),
    }


def _pool_views(x, g, attrs):
    size, stride = attrs.get("size", (2, 2)), attrs.get("stride", (2, 2))
    out = ops._max_pool2d(x, size, stride)
    n, oh, ow, c = out.shape

    def is_max(x, size, stride):
        hit = (ops._windows(x, size[0], size[1], stride) == out[..., None, None]).astype(float)
        hit /= hit.sum(axis=(4, 5), keepdims=True)
        return hit.transpose(0, 1, 2, 4, 5, 3)

    return {
        "g": g.reshape(n, oh, ow, 1, 1, c),
        "is_max": is_max,
        "col2im": lambda cols, shape: ops._col2im(cols, shape, stride, ((0, 0), (0, 0))),
        "size": size,
        "stride": stride,
    }


def _evaluate(node, g):
    r = node._op
    raw = [p.data if isinstance(p, Node) else p for p in node.operands]
    attrs = node.attrs
    out = node.data
    bound = inspect.signature(r.vjp).bind(g, out, *raw, **attrs)
    bound.apply_defaults()
    env = {k: v for k, v in bound.arguments.items() if k != "needs"}
    views = {}
    if r.name == "conv2d":
        views = _conv_views(raw[0], raw[1], g, attrs)
    elif r.name == "max_pool2d":
        views = _pool_views(raw[0], g, attrs)
    elif r.name == "clip":
        env["lo"] = -np.inf if env["lo"] is None else env["lo"]
        env["hi"] = np.inf if env["hi"] is None else env["hi"]
    elif r.name == "matmul":  # 1-D operands promoted as numpy does, then put back
        a, b = env["a"], env["b"]
        env["a"] = a[None, :] if a.ndim == 1 else a
        env["b"] = b[:, None] if b.ndim == 1 else b
        env["g"] = np.reshape(g, np.matmul(env["a"], env["b"]).shape)
    ns = _namespace(r, raw, attrs, {})
    results = []
    for i, f in enumerate(formulas(node)):
        if f is None:
            results.append(None)
            continue
        scope = dict(env)
        scope.update(ns)
        scope.update(views)
        if r.arity == -1:
            scope.update(x_i=raw[i], i=i)
        v = eval(compile(f, f"<{r.name} grads[{i}]>", "eval"), scope)
        results.append(np.reshape(v, np.shape(raw[i])) if r.name in ("matmul", "conv2d") else v)
    return results


def _cases():
    for name, cases in CASES.items():
        for i, case in enumerate(cases):
            yield pytest.param(name, case, id=f"{name}-{type(case).__name__}{i}")


@pytest.mark.parametrize("name,case", list(_cases()))
def test_formula_gives_the_vjp(name, case):
    rng = np.random.default_rng(7)
    y = case.f(*case.inputs(rng))
    r = ops.RULES[name]
    nodes = [n for n in toposort(y) if n._op is r]
    assert nodes, f"case for {name} never builds a {name} node"
    for n in nodes:
        raw = [p.data if isinstance(p, Node) else p for p in n.operands]
        g = rng.normal(size=np.shape(n.data))
        g = float(g) if isinstance(n.data, float) else g
        kw = {"needs": (True,) * len(raw)} if r.partial else {}
        want = r.vjp(g, n.data, *raw, **n.attrs, **kw)
        got = _evaluate(n, g)
        names = formula_names(n)  # what the viewer puts shapes on
        for f in formulas(n):
            used = {
                t.id for t in ast.walk(ast.parse(f or "0", mode="eval")) if isinstance(t, ast.Name)
            }
            used = used - FUNCTIONS - {"g", "out", "x_i", "i"}
            assert used <= set(names), f"{name}: {f!r} uses {used - set(names)}"
        for k, (w, v) in enumerate(zip(want, got)):
            if w is None or not isinstance(n.operands[k], Node):
                continue
            assert v is not None, f"{name}: input {k} has a gradient but no formula"
            np.testing.assert_allclose(
                np.broadcast_to(v, np.shape(w)),
                w,
                rtol=1e-9,
                atol=1e-12,
                err_msg=f"{name}: formula {r.grads[min(k, len(r.grads) - 1)]!r} of input {k}",
            )
