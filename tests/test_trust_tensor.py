"""Issue 9 ("Trust"), the rule-table / Tensor / nn half: each case gave a wrong number without a
word, crashed, or answered with a message that did not name stepgrad's op.

Sections: 0-d Tensors through every rule (first and second order), pow at 0 and its signs,
integer and boolean Tensors through every rule, masks, list constants, axes, iteration, clip
bounds, empty softmax, numpy functions, copies of user arrays, nn's weights and batches.
"""

import numpy as np
import pytest

from autograd import (
    Tensor,
    Value,
    concatenate,
    conv2d,
    embedding,
    gradients,
    max_pool2d,
    maximum,
    ops,
    stack,
    toposort,
)

# ----------------------------------------------------------------------------------------------
# 1. 0-d Tensors: every rule, first and second order, gives arrays and the right numbers

# rule -> f of 0-d float64 Tensors, and the points; each f multiplies by an input so that the
# second derivative goes through the rule's vjp on nodes (the create_graph path)
ZERO_D = {
    "add": (lambda a, b: (a + b) * a * b, 0.5, -1.5),
    "sub": (lambda a, b: (a - b) * a * b, 0.5, -1.5),
    "mul": (lambda a, b: (a * b) * a, 0.5, -1.5),
    "div": (lambda a, b: (a / b) * a, 0.5, -1.5),
    "pow": (lambda a: a**3.0 * a, -0.7),
    "rpow": (lambda b: 2.0**b * b, 0.3),
    "pow_var": (lambda a, b: a**b * a, 1.5, 0.7),
    "maximum": (lambda a, b: maximum(a, b) * a * b, 0.5, -1.5),
    "neg": (lambda x: -x * x, 0.6),
    "abs": (lambda x: x.abs() * x, -0.6),
    "exp": (lambda x: x.exp() * x, 0.6),
    "log": (lambda x: x.log() * x, 0.6),
    "sqrt": (lambda x: x.sqrt() * x, 0.6),
    "tanh": (lambda x: x.tanh() * x, 0.6),
    "sigmoid": (lambda x: x.sigmoid() * x, 0.6),
    "relu": (lambda x: x.relu() * x, 0.6),
    "clip": (lambda x: x.clip(-1.0, 1.0) * x, 0.3),
    "sum": (lambda x: x.sum().relu() * x, 0.6),  # the issue's case
    "mean": (lambda x: x.mean(axis=0) * x, 0.6),
    "max": (lambda x: x.max(axis=-1) * x, 0.6),
    "min": (lambda x: x.min() * x, 0.6),
    "broadcast_to": (lambda x: (x.broadcast_to((3,)) * x).sum(), 0.6),
    "reshape": (lambda x: (x.reshape(1, 1) * x).sum(), 0.6),
    "transpose": (lambda x: x.T * x, 0.6),
    "getitem": (lambda x: x[()] * x, 0.6),
    "scatter": (lambda x: (ops.scatter(x, shape=(3,), index=1) * x).sum(), 0.6),
    "concatenate": (lambda x: (concatenate([x.reshape(1), x.reshape(1)]) * x).sum(), 0.6),
    "stack": (lambda x: (stack([x, x * x]) * x).sum(), 0.6),
    "matmul": (lambda x: (x.reshape(1) @ (x * x).reshape(1)) * x, 0.6),  # 1-d @ 1-d is 0-d
    "softmax": (lambda x: x.softmax() * x, 0.6),
    "log_softmax": (lambda x: x.log_softmax() * x, 0.6),
    "conv2d": (lambda x: (conv2d(x.reshape(1, 1, 1, 1), x.reshape(1, 1, 1, 1)) * x).sum(), 0.6),
    "max_pool2d": (lambda x: (max_pool2d(x.reshape(1, 1, 1, 1), size=1) * x).sum(), 0.6),
    "embedding": (lambda w: (embedding(w.reshape(1, 1), np.array(0)) * w).sum(), 0.6),
}


def test_every_rule_has_a_0d_case():
    assert sorted(set(ops.RULES) - set(ZERO_D)) == []


def _t(x):
    return Tensor(x, requires_grad=True, dtype=np.float64)


def _numeric(f, xs, eps=1e-6):
    out = []
    for i in range(len(xs)):
        hi, lo = list(xs), list(xs)
        hi[i], lo[i] = xs[i] + eps, xs[i] - eps
        out.append((f(*hi) - f(*lo)) / (2 * eps))
    return out


@pytest.mark.parametrize("rule", sorted(ZERO_D))
def test_0d_first_and_second_order(rule):
    f, *points = ZERO_D[rule]

    def value(*xs):
        return float(f(*[Tensor(x, dtype=np.float64) for x in xs]).data)

    def first(*xs):
        ts = [_t(x) for x in xs]
        return [float(g) for g in gradients(f(*ts), ts)]

    ts = [_t(x) for x in points]
    y = f(*ts)
    assert ops.RULES[rule] in {n._op for n in toposort(y)}, f"never builds {rule}"
    y.backward()  # the fast path
    for t, expected in zip(ts, _numeric(value, points)):
        # (that it is an ndarray after accumulation, not a numpy scalar, is the engine's part)
        assert np.shape(t.grad) == () and np.asarray(t.grad).dtype == np.float64
        np.testing.assert_allclose(t.grad, expected, rtol=1e-6, atol=1e-8)

    ts = [_t(x) for x in points]
    gs = gradients(f(*ts), ts, create_graph=True)  # raised on a numpy bool before the fix
    for g in gs:
        assert isinstance(g, Tensor) and g.data.__class__ is np.ndarray and g.shape == ()
    for i, g in enumerate(gs):
        if not g.requires_grad and g.is_leaf:
            second = [0.0] * len(ts)
        else:
            second = [float(h) for h in gradients(g, ts)]
        expected = _numeric(lambda *xs, i=i: first(*xs)[i], points, eps=1e-5)
        np.testing.assert_allclose(second, expected, rtol=1e-5, atol=1e-6, err_msg=f"d/dx{i}")


def test_issue_case_relu_of_a_0d_sum_second_order():
    x = _t(2.0)
    (g,) = gradients((x.sum().relu() * x).sum(), [x], create_graph=True)
    assert g.item() == 4.0
    (h,) = gradients(g, [x])
    assert np.shape(h) == () and float(h) == 2.0


def test_step_and_sign_give_arrays_for_0d_arrays():
    for helper in (ops.m.step, ops.m.sign):
        r = helper(np.array(-0.5))
        assert r.__class__ is np.ndarray and r.shape == ()


# ----------------------------------------------------------------------------------------------
# 2. pow at 0 and its signs: torch's zeros, IEEE's infinities (Value and Tensor alike)


def _grads(make, f, *xs):
    nodes = [make(x) for x in xs]
    with np.errstate(all="ignore"):
        y = f(*nodes)
        y.backward() if make is Value else y.backward(np.ones(np.shape(y.data)))
    return y, [float(n.grad) for n in nodes]


FRONTS = [Value, _t]


@pytest.mark.parametrize("make", FRONTS, ids=["Value", "Tensor"])
def test_x_to_the_0_at_0_has_gradient_0(make):
    for x in (0.0, -0.0):
        y, (g,) = _grads(make, lambda a: a**0.0, x)
        assert float(y.data) == 1.0 and g == 0.0  # torch: 0 (b * a**(b-1) would be 0 * inf)
    y, (g,) = _grads(make, lambda a: a**0, 0.0)  # an int exponent too
    assert g == 0.0


@pytest.mark.parametrize("make", FRONTS, ids=["Value", "Tensor"])
def test_d_db_of_a_to_the_b_at_a_0(make):
    # torch: 0 where a == 0 and b >= 0 (a**b is 0 or 1 there); -inf * upstream where b < 0
    for b, db in [(2.0, 0.0), (0.5, 0.0), (0.0, 0.0), (-1.0, -np.inf), (-0.5, -np.inf)]:
        _, (_, gb) = _grads(make, lambda a, e: a**e, 0.0, b)
        assert gb == db, (b, gb)
    for b, db in [(2.0, 0.0), (0.0, 0.0), (-1.0, -np.inf)]:  # constant base 0
        _, (gb,) = _grads(make, lambda e: 0.0**e, b)
        assert gb == db, (b, gb)
    _, (gb,) = _grads(make, lambda e: 2.0**e, 3.0)  # elsewhere the plain formula
    assert gb == pytest.approx(8.0 * np.log(2.0))


@pytest.mark.parametrize("make", FRONTS, ids=["Value", "Tensor"])
def test_pow_signs_follow_ieee(make):
    for a, b, expected in [
        (-10.0, 401.0, -np.inf),  # overflow of an odd power of a negative number
        (-10.0, 400.0, np.inf),
        (-0.0, -1.0, -np.inf),  # 1 / -0
        (-0.0, -2.0, np.inf),
        (0.0, -1.0, np.inf),
    ]:
        y, _ = _grads(make, lambda x, b=b: x**b, a)
        assert float(y.data) == expected, (a, b, y.data)


def test_negative_base_to_a_fractional_power_gives_nan_not_a_complex_gradient():
    for f in (lambda a: a**1.5, lambda a: a ** Value(1.5)):
        a = Value(-2.0)
        y = f(a)
        y.backward()
        assert y.data != y.data and a.grad.__class__ is float and a.grad != a.grad


def test_pow_second_order_at_0_with_exponent_0():
    x = _t(0.0)
    (g,) = gradients(x**0.0 * 1.0, [x], create_graph=True)
    assert g.item() == 0.0
    (h,) = gradients(g, [x]) if g.requires_grad else (np.zeros(()),)
    assert float(h) == 0.0
