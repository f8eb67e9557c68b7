"""stepgrad against PyTorch at the edge points of every rule (fixtures/edges.py).

Zeros, +-inf, NaN, ties, exact kinks, empty and 0-d shapes, first and second order. torch's
numbers were stored once by fixtures/make_edge_reference.py in fixtures/edge_reference.json;
this file needs no torch. NaN must be NaN where torch's is, inf must be inf of the same sign.
A rule of autograd/ops.py without an edge case fails test_every_rule_has_edge_cases.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import autograd
from autograd import Tensor, Value, ops, toposort

FIXTURES = Path(__file__).resolve().parent / "fixtures"
pytestmark = pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")


def _load(name):
    spec = importlib.util.spec_from_file_location(f"stepgrad_{name}", FIXTURES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


edges = _load("edges")
REFERENCE = json.loads((FIXTURES / "edge_reference.json").read_text())
STORED = REFERENCE["cases"]

# Wrong today, being fixed by the `trust` branch (issue 9): run, expected to fail until it lands.
PENDING_TRUST = {}  # cases waiting for issue 9 fixes (xfail until then)


class SG:
    """The edge cases' `F` on stepgrad Values and Tensors."""

    exp = staticmethod(lambda x: x.exp())
    log = staticmethod(lambda x: x.log())
    sqrt = staticmethod(lambda x: x.sqrt())
    tanh = staticmethod(lambda x: x.tanh())
    sigmoid = staticmethod(lambda x: x.sigmoid())
    relu = staticmethod(lambda x: x.relu())
    abs = staticmethod(lambda x: x.abs())
    maximum = staticmethod(autograd.maximum)
    clip = staticmethod(lambda x, lo=None, hi=None: x.clip(lo, hi))
    sum = staticmethod(lambda x, axis=None, keepdims=False: x.sum(axis=axis, keepdims=keepdims))
    mean = staticmethod(lambda x, axis=None, keepdims=False: x.mean(axis=axis, keepdims=keepdims))
    max = staticmethod(lambda x, axis=None, keepdims=False: x.max(axis=axis, keepdims=keepdims))
    min = staticmethod(lambda x, axis=None, keepdims=False: x.min(axis=axis, keepdims=keepdims))
    softmax = staticmethod(lambda x, axis=-1: x.softmax(axis=axis))
    log_softmax = staticmethod(lambda x, axis=-1: x.log_softmax(axis=axis))
    reshape = staticmethod(lambda x, *shape: x.reshape(shape))
    transpose = staticmethod(lambda x, *axes: x.transpose(*axes))
    broadcast_to = staticmethod(lambda x, shape: x.broadcast_to(shape))
    concatenate = staticmethod(autograd.concatenate)
    stack = staticmethod(autograd.stack)
    index = staticmethod(np.asarray)
    scatter = staticmethod(
        lambda x, shape, index: ops.scatter(x, shape=shape, index=np.asarray(index))
    )
    conv2d = staticmethod(autograd.conv2d)
    max_pool2d = staticmethod(autograd.max_pool2d)
    embedding = staticmethod(autograd.embedding)


def decode(x):
    """The inverse of make_edge_reference.encode."""
    if isinstance(x, dict):
        return np.zeros(x["empty"])
    if isinstance(x, list):
        return np.array([decode(e) for e in x], dtype=np.float64)
    return float(x)  # float("nan"), float("inf") for the stored strings


def _close(got, expected, what):
    got = np.asarray(got.data if isinstance(got, autograd.Node) else got, dtype=np.float64)
    expected = np.asarray(decode(expected), dtype=np.float64)
    assert got.shape == expected.shape, f"{what}: shape {got.shape}, torch {expected.shape}"
    # rounding only: relative to the array's largest finite number
    finite = np.abs(expected[np.isfinite(expected)])
    atol = 1e-12 * max(1.0, float(finite.max(initial=0.0)))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=atol, equal_nan=True, err_msg=what)


def _inputs(case):
    if case.kind == "value":
        return [Value(float(x)) for x in case.inputs]
    return [Tensor(x, requires_grad=True, dtype=np.float64) for x in case.inputs]


def _second(y_grads, xs):
    rows = []
    for g in y_grads:
        if not isinstance(g, autograd.Node) or (g.is_leaf and not g.requires_grad):
            rows.append([x._zeros(False) for x in xs])
        else:
            rows.append(autograd.gradients(g, xs))
    return rows


# ----------------------------------------------------------------------------------------------
# coverage: every rule, every kind of edge


def test_reference_made_with_torch_2_13():
    assert REFERENCE["torch_version"].split("+")[0] == "2.13.0"


def test_table_and_fixture_list_the_same_cases():
    assert set(edges.BY_NAME) == set(STORED), "run make_edge_reference.py"


def test_every_rule_has_edge_cases():
    missing = sorted(set(ops.RULES) - {c.rule for c in edges.CASES})
    assert not missing, f"rules without an edge case in tests/fixtures/edges.py: {missing}"


def test_edges_include_specials_empty_and_0d_shapes():
    def has(pred):
        return {c.rule for c in edges.CASES if any(pred(x) for x in c.inputs)}

    assert has(lambda x: np.isnan(x).any()) >= {"exp", "log", "add", "max", "softmax", "conv2d"}
    assert has(lambda x: np.isinf(x).any()) >= {"exp", "div", "sum", "matmul", "embedding"}
    empty = {c.rule for c in edges.CASES if any(x.size == 0 for x in c.inputs)}
    zero_d = {
        c.rule for c in edges.CASES if c.kind == "tensor" and any(x.ndim == 0 for x in c.inputs)
    }
    elementwise = {
        n for n, r in ops.RULES.items() if r.elementwise or r.arity == 1 and n in edges.UNARY
    }
    assert elementwise <= empty and elementwise <= zero_d
    second = {c.rule for c in edges.CASES if c.order > 1}
    assert set(edges.UNARY) | set(edges.BINARY) <= second


# ----------------------------------------------------------------------------------------------
# one test per case


def _params():
    for name in edges.BY_NAME:
        marks = []
        if name in PENDING_TRUST:
            marks.append(pytest.mark.xfail(strict=False, reason=PENDING_TRUST[name]))
        yield pytest.param(name, id=name, marks=marks)


def test_pending_cases_exist():
    assert set(PENDING_TRUST) <= set(edges.BY_NAME)


@pytest.mark.parametrize("name", list(_params()))
def test_edge_matches_torch(name):
    case, ref = edges.BY_NAME[name], STORED[name]
    assert (ref["rule"], ref["kind"], ref["order"]) == (case.rule, case.kind, case.order)
    f = lambda *xs: case.fn(SG, *xs)  # noqa: E731
    seed = decode(ref["seed"])
    with np.errstate(all="ignore"):
        xs = _inputs(case)
        y = f(*xs)
        assert ops.RULES[case.rule] in {n._op for n in toposort(y)}, f"never builds {case.rule}"
        _close(y, ref["output"], "output")
        y.backward(grad=seed)
        for i, x in enumerate(xs):
            got = np.zeros_like(x.data) if x.grad is None else x.grad
            _close(got, ref["grads"][i], f"d/dx{i} (backward)")
        for i, g in enumerate(autograd.gradients(y, xs, grad=seed)):
            _close(g, ref["grads"][i], f"d/dx{i} (gradients)")
        steps = list(autograd.backward_steps(f(*_inputs(case)), grad=seed))
        assert steps, "backward_steps gave no step"
        if case.order < 2:
            return
        xs = _inputs(case)
        gs = autograd.gradients(f(*xs), xs, grad=seed, create_graph=True)
        for i, g in enumerate(gs):
            _close(g, ref["grads"][i], f"d/dx{i} (create_graph)")
        if case.kind == "value":
            for i, row in enumerate(_second(gs, xs)):
                for j, h in enumerate(row):
                    _close(h, ref["hessian"][i][j], f"d2/dx{i}dx{j}")
        else:
            vs = [decode(v) for v in ref["directions"]]
            (hvps,) = _second([sum((g * v).sum() for g, v in zip(gs, vs))], xs)
            for i, h in enumerate(hvps):
                _close(h, ref["hvp"][i], f"Hessian-vector product, input {i}")
