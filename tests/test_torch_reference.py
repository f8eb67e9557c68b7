"""stepgrad against PyTorch's gradients for the catalogue in fixtures/expressions.py.

The reference numbers (inputs, upstream gradients, outputs, gradients, Hessian-vector products,
second and third derivatives) were computed once with torch by fixtures/make_torch_reference.py
and stored in fixtures/torch_reference.json, so this file needs no torch. Every catalogue entry
must have a stored reference and every stored reference a catalogue entry.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import autograd
from autograd import Tensor, Value

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TOL = {"rtol": 1e-6, "atol": 1e-9}  # float64 on both sides: only rounding may differ


def _load_catalogue():
    spec = importlib.util.spec_from_file_location(
        "stepgrad_expressions", FIXTURES / "expressions.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CATALOGUE = _load_catalogue().BY_NAME
REFERENCE = json.loads((FIXTURES / "torch_reference.json").read_text())
STORED = REFERENCE["expressions"]

# Engine bugs found by this comparison: each case still fails, until the engine is fixed.
XFAIL = {}


class SG:
    """The catalogue's `F` on stepgrad Values and Tensors."""

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
    reshape = staticmethod(lambda x, *shape: x.reshape(*shape))
    transpose = staticmethod(lambda x, *axes: x.transpose(*axes))
    softmax = staticmethod(lambda x, axis=-1: x.softmax(axis=axis))
    log_softmax = staticmethod(lambda x, axis=-1: x.log_softmax(axis=axis))
    concatenate = staticmethod(autograd.concatenate)
    stack = staticmethod(autograd.stack)
    const = staticmethod(lambda a: np.asarray(a, dtype=np.float64))


def _arr(x):
    return np.asarray(x, dtype=np.float64)


def _data(x):
    return x.data if isinstance(x, autograd.Node) else x


def _close(got, expected, what):
    np.testing.assert_allclose(_arr(_data(got)), _arr(expected), err_msg=what, **TOL)


def _params():
    names = sorted(set(CATALOGUE) | set(STORED), key=lambda n: (n not in CATALOGUE, n))
    for name in names:
        marks = []
        if name in XFAIL:
            marks.append(pytest.mark.xfail(strict=True, reason=XFAIL[name]))
        yield pytest.param(name, id=name, marks=marks)


# ----------------------------------------------------------------------------------------------
# the catalogue and the fixture cannot drift apart


def test_reference_made_with_torch_2_13():
    assert REFERENCE["torch_version"].split("+")[0] == "2.13.0"


def test_catalogue_and_fixture_list_the_same_expressions():
    missing = sorted(set(CATALOGUE) - set(STORED))
    extra = sorted(set(STORED) - set(CATALOGUE))
    assert not missing, f"no torch reference for {missing}: run make_torch_reference.py"
    assert not extra, f"stale torch references for {extra}: run make_torch_reference.py"


def test_catalogue_size():
    second = [e for e in CATALOGUE.values() if e.order >= 2]
    assert len(CATALOGUE) >= 40 and len(second) >= 8
    assert {e.kind for e in second} == {"value", "tensor"}


def test_xfails_name_real_expressions():
    assert set(XFAIL) <= set(CATALOGUE)


# ----------------------------------------------------------------------------------------------
# one test per expression


@pytest.mark.parametrize("name", list(_params()))
def test_matches_torch(name):
    assert name in CATALOGUE, f"{name!r} is in the fixture but not in the catalogue"
    assert name in STORED, f"{name!r} has no torch reference: run make_torch_reference.py"
    expr, ref = CATALOGUE[name], STORED[name]
    assert (ref["kind"], ref["order"]) == (expr.kind, expr.order), "fixture is stale"
    inputs = [_arr(x) for x in ref["inputs"]]
    assert [x.shape for x in inputs] == [np.shape(x) for x in expr.make_inputs()], "stale inputs"
    if expr.kind == "value":
        _check_value(expr, ref, [float(x) for x in inputs])
    else:
        _check_tensor(expr, ref, inputs)


def _check_value(expr, ref, xs):
    f = lambda *args: expr.fn(SG, *args)  # noqa: E731
    vs = [Value(x) for x in xs]
    y = f(*vs)
    assert isinstance(y, Value)
    _close(y.data, ref["output"], "output")
    y.backward()
    for i, v in enumerate(vs):
        _close(v.grad, ref["grads"][i], f"d/dx{i}")
    if expr.order < 2:
        return
    n = len(xs)
    for i in range(n):
        for j in range(n):
            if n == 1:  # as documented: grad(grad(f)) on a plain number gives a number
                got = autograd.grad(autograd.grad(f))(xs[0])
                assert isinstance(got, float)
            else:  # mixed partials: pass Values, so the inner gradient keeps its graph
                got = autograd.grad(autograd.grad(f, i), j)(*[Value(x) for x in xs])
            _close(got, ref["hessian"][i][j], f"d2/dx{i}dx{j}")
    if expr.order >= 3:
        got = autograd.grad(autograd.grad(autograd.grad(f)))(xs[0])
        _close(got, ref["third"], "d3/dx3")


def _check_tensor(expr, ref, arrays):
    f = lambda *args: expr.fn(SG, *args)  # noqa: E731
    xs = [Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays]
    y = f(*xs)
    assert isinstance(y, Tensor) and y.dtype == np.float64
    _close(y.data, ref["output"], "output")
    seed = _arr(ref["seed"]) if "seed" in ref else None
    if seed is None:
        assert y.shape == ()
        y.backward()
    else:
        y.backward(grad=seed)
    for i, x in enumerate(xs):  # an input y does not use keeps grad None, as in torch
        got = np.zeros_like(x.data) if x.grad is None else x.grad
        _close(got, ref["grads"][i], f"d/dx{i} (backward)")
    for i, g in enumerate(autograd.gradients(y, xs, grad=seed)):
        _close(g, ref["grads"][i], f"d/dx{i} (gradients)")
    if expr.order < 2:
        return
    vs = [_arr(v) for v in ref["directions"]]
    if len(xs) == 1:  # the Hessian-vector product as grad of (grad(f)(x) * v).sum()
        hvps = [autograd.grad(lambda x: (autograd.grad(f)(x) * vs[0]).sum())(arrays[0])]
    else:
        xs = [Tensor(a, requires_grad=True, dtype=np.float64) for a in arrays]
        gs = autograd.gradients(f(*xs), xs, create_graph=True)
        for i, g in enumerate(gs):
            _close(g, ref["grads"][i], f"d/dx{i} (create_graph)")
        hvps = autograd.gradients(sum((g * v).sum() for g, v in zip(gs, vs)), xs)
    for i, h in enumerate(hvps):
        _close(h, ref["hvp"][i], f"Hessian-vector product, input {i}")
