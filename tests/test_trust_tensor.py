"""Issue 9 ("Trust"), the rule-table / Tensor / nn half: each case gave a wrong number without a
word, crashed, or answered with a message that did not name stepgrad's op.

Sections: 0-d Tensors through every rule (first and second order), pow at 0 and its signs,
integer and boolean Tensors through every rule, masks, list constants, axes, iteration, clip
bounds, empty softmax, numpy functions, copies of user arrays, nn's weights and batches.
"""

import math

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
    return y, [0.0 if n.grad is None else float(n.grad) for n in nodes]


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


@pytest.mark.parametrize("make", FRONTS, ids=["Value", "Tensor"])
def test_x_to_a_number_takes_sqrt_and_rsqrt_at_half_as_torch(make):
    # torch computes x ** 0.5 as sqrt(x) and x ** -0.5 as rsqrt(x); a variable exponent is IEEE pow
    for a, b, out in [(-np.inf, 0.5, np.nan), (-0.0, -0.5, -np.inf), (-np.inf, -0.5, np.nan)]:
        y, _ = _grads(make, lambda x, b=b: x**b, a)
        np.testing.assert_equal(float(y.data), out)
    y, (ga, _) = _grads(make, lambda x, e: x**e, -np.inf, 0.5)
    assert float(y.data) == np.inf and ga == 0.0  # IEEE pow(-inf, 0.5), as torch.pow(t, t)
    _, (g,) = _grads(make, lambda x: x**0.5, -0.0)
    assert g == -np.inf  # 0.5 * rsqrt(-0)


TORCH_A = [0.0, -0.0, 1.0, -2.0, 2.5, np.inf, -np.inf, np.nan, 1e-300, -10.0]
TORCH_B = [0.0, -0.0, 1.0, 2.0, 3.0, -1.0, -2.0, 0.5, -0.5, 1.5, 401.0, 2.5, np.inf, np.nan]


@pytest.mark.parametrize("make", FRONTS, ids=["Value", "Tensor"])
def test_pow_matches_torch_on_a_grid_of_special_points(make):
    torch = pytest.importorskip("torch")  # the stored fixtures cover the Tensor side without it

    def same(got, want):
        got, want = float(got), float(want)
        return (got != got and want != want) or got == pytest.approx(want, rel=1e-12, abs=0)

    f64 = torch.float64
    bad = []
    for a in TORCH_A:
        for b in TORCH_B:
            ta = torch.tensor(a, dtype=f64, requires_grad=True)
            tb = torch.tensor(b, dtype=f64, requires_grad=True)
            cases = [
                ("x ** number", lambda x, e, b=b: x**b, lambda x, e, b=b: x**b),
                ("number ** x", lambda x, e, a=a: a**e, lambda x, e, a=a: torch.pow(a, e)),
                ("x ** y", lambda x, e: x**e, lambda x, e: torch.pow(x, e)),
            ]
            for what, ours, theirs in cases:
                ta.grad = tb.grad = None
                want = theirs(ta, tb)
                want.backward()
                y, (ga, gb) = _grads(make, ours, a, b)
                want_ga = 0.0 if ta.grad is None else ta.grad.item()
                want_gb = 0.0 if tb.grad is None else tb.grad.item()
                if not (same(y.data, want.item()) and same(ga, want_ga) and same(gb, want_gb)):
                    bad.append(
                        (what, a, b, (float(y.data), ga, gb), (want.item(), want_ga, want_gb))
                    )
    assert bad == []


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


@pytest.mark.parametrize("kind", ["value", "tensor"])
def test_mixed_second_derivative_of_a_to_the_b_at_b_0_is_1_over_a(kind):
    """d2(a**b)/db da = a**(b-1) * (1 + b*log(a)): 1/a at b = 0, in both orders. (torch 2.13
    gives 0 for d/db of d/da there, its masked_fill at b == 0 cutting the b-dependence.)"""
    for a0, b0, want in [
        (2.0, 0.0, 0.5),
        (4.0, 0.0, 0.25),
        (2.0, 3.0, 4.0 * (1 + 3 * math.log(2.0))),
    ]:
        if kind == "value":
            a, b = Value(a0), Value(b0)
        else:
            a, b = Tensor(a0, requires_grad=True), Tensor(b0, requires_grad=True)
        (ga,) = gradients(a**b, [a], create_graph=True)
        (gab,) = gradients(ga, [b])
        (gb,) = gradients(a**b, [b], create_graph=True)
        (gba,) = gradients(gb, [a])
        assert float(gab) == pytest.approx(want, rel=1e-6), (a0, b0)
        assert float(gba) == pytest.approx(want, rel=1e-6), (a0, b0)
    a, b = Value(0.0), Value(0.0)  # at a = 0 the first derivative stays torch's 0
    assert gradients(a**b, [a, b]) == [0.0, 0.0]


# ----------------------------------------------------------------------------------------------
# 3. integer and boolean Tensors: numpy's rule through the whole table (float ops give floats,
#    in the float dtype numpy gives; integer ops keep integers)

A = np.array([[1, 0], [2, 1]])
B = np.array([[1, 1], [0, 1]])


def _fl(x):
    """x as the float dtype numpy's np.exp gives for its dtype (int8 -> float16, ...)."""
    return x.astype(np.exp(x[:0]).dtype)


def _np_softmax(x):
    e = np.exp(_fl(x) - _fl(x).max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# rule -> (stepgrad on Tensors a, b; numpy on arrays a, b)
INT_RULES = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / (b + 1), lambda a, b: a / (b + 1)),
    "pow": (lambda a, b: a**2, lambda a, b: np.power(a, 2)),  # (numpy's a**2 is np.square)
    "rpow": (lambda a, b: 2.0**a, lambda a, b: 2.0**a),
    "pow_var": (lambda a, b: a**b, lambda a, b: a**b),
    "maximum": (lambda a, b: maximum(a, b), np.maximum),
    "neg": (lambda a, b: -a, lambda a, b: -a),
    "abs": (lambda a, b: abs(a), lambda a, b: abs(a)),
    "exp": (lambda a, b: a.exp(), lambda a, b: np.exp(a)),
    "log": (lambda a, b: (a + 1).log(), lambda a, b: np.log(a + 1)),
    "sqrt": (lambda a, b: a.sqrt(), lambda a, b: np.sqrt(a)),
    "tanh": (lambda a, b: a.tanh(), lambda a, b: np.tanh(a)),
    "sigmoid": (lambda a, b: a.sigmoid(), lambda a, b: 1 / (1 + np.exp(-_fl(a)))),
    "relu": (lambda a, b: a.relu(), lambda a, b: np.maximum(a, 0)),
    "clip": (lambda a, b: a.clip(0, 1), lambda a, b: np.clip(a, 0, 1)),
    "sum": (lambda a, b: a.sum(axis=0), lambda a, b: a.sum(axis=0)),
    "mean": (lambda a, b: a.mean(), lambda a, b: a.mean()),
    "max": (lambda a, b: a.max(axis=1), lambda a, b: a.max(axis=1)),
    "min": (lambda a, b: a.min(), lambda a, b: a.min()),
    "broadcast_to": (lambda a, b: a.broadcast_to((3, 2, 2)), lambda a, b: np.stack([a] * 3)),
    "reshape": (lambda a, b: a.reshape(4), lambda a, b: a.reshape(4)),
    "transpose": (lambda a, b: a.T, lambda a, b: a.T),
    "getitem": (lambda a, b: a[1], lambda a, b: a[1]),
    "scatter": (
        lambda a, b: ops.scatter(a, shape=(3, 2), index=np.array([2, 0])),
        lambda a, b: np.stack([a[1], np.zeros_like(a[0]), a[0]]),
    ),
    "concatenate": (lambda a, b: concatenate([a, b]), lambda a, b: np.concatenate([a, b])),
    "stack": (lambda a, b: stack([a, b]), lambda a, b: np.stack([a, b])),
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b),
    "softmax": (lambda a, b: a.softmax(), lambda a, b: _np_softmax(a)),
    "log_softmax": (lambda a, b: a.log_softmax(), lambda a, b: np.log(_np_softmax(a))),
    "conv2d": (
        lambda a, b: conv2d(a.reshape(1, 2, 2, 1), b.reshape(2, 2, 1, 1)),
        lambda a, b: (a.reshape(1, 4) @ b.reshape(4, 1)).reshape(1, 1, 1, 1),
    ),
    "max_pool2d": (
        lambda a, b: max_pool2d(a.reshape(1, 2, 2, 1)),
        lambda a, b: a.max().reshape(1, 1, 1, 1),
    ),
    "embedding": (lambda a, b: embedding(a, [1, 0, 1]), lambda a, b: a[[1, 0, 1]]),
}


def test_every_rule_has_an_integer_case():
    assert sorted(set(ops.RULES) - set(INT_RULES)) == []


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.bool_], ids=["int64", "int8", "bool"])
@pytest.mark.parametrize("rule", sorted(INT_RULES))
def test_integer_tensors_follow_numpy_through_every_rule(rule, dtype):
    ours, theirs = INT_RULES[rule]
    a, b = A.astype(dtype), B.astype(dtype)
    with np.errstate(all="ignore"):
        try:
            expected = np.asarray(theirs(a, b))
        except TypeError:  # numpy refuses (e.g. -x on booleans): so do we, naming the op
            with pytest.raises(TypeError, match=rf"^{ops.RULES[rule].name}: "):
                ours(Tensor(a, dtype=dtype), Tensor(b, dtype=dtype))
            return
        got = ours(Tensor(a, dtype=dtype), Tensor(b, dtype=dtype))
    assert got.dtype == expected.dtype, f"{rule} on {np.dtype(dtype)}: {got.dtype}"
    np.testing.assert_allclose(got.data.astype(np.float64), expected.astype(np.float64), rtol=1e-3)


def test_issue_case_sigmoid_of_an_int_tensor():
    got = Tensor(np.array([0, 1, 2]), dtype=np.int64).sigmoid()
    assert got.dtype == np.float64
    np.testing.assert_allclose(got.data, 1 / (1 + np.exp(-np.array([0.0, 1.0, 2.0]))))


def test_an_integer_constant_tensor_next_to_a_float_leaf_gives_float_gradients():
    x = Tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    c = Tensor(A, dtype=np.int64)
    (x * c + x / (c + 1) + maximum(x, c) + x @ c).sum().backward()
    assert x.grad.dtype == np.float32
    ref = Tensor(x.data, requires_grad=True, dtype=np.float64)
    cf = A.astype(np.float64)
    (ref * cf + ref / (cf + 1) + maximum(ref, cf) + ref @ cf).sum().backward()
    np.testing.assert_allclose(x.grad, ref.grad, rtol=1e-6)


# ----------------------------------------------------------------------------------------------
# 4. booleans index as masks (Tensor, ndarray or list), and the gradient goes back to them

MASK = [True, False, True]


@pytest.mark.parametrize(
    "mask", [Tensor(MASK), np.array(MASK), MASK], ids=["Tensor", "ndarray", "list"]
)
def test_a_boolean_index_is_a_mask(mask):
    x = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    y = x[mask]
    np.testing.assert_array_equal(y.data, [10.0, 30.0])  # not x[[1, 0, 1]]
    (y * Tensor([2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 3.0])


def test_a_boolean_tensor_keeps_its_dtype():
    assert Tensor(MASK).dtype == np.bool_
    assert Tensor(np.array(MASK)).dtype == np.bool_


def test_a_2d_mask_and_a_mask_with_a_slice_scatter_back_and_differentiate_twice():
    x = _t(np.arange(6.0).reshape(2, 3))
    mask = Tensor(x.data > 1.5)
    (g,) = gradients((x[mask] ** 2).sum(), [x], create_graph=True)
    np.testing.assert_array_equal(g.data, np.where(x.data > 1.5, 2 * x.data, 0.0))
    (h,) = gradients(g.sum(), [x])
    np.testing.assert_array_equal(h, np.where(x.data > 1.5, 2.0, 0.0))
    x = _t(np.arange(6.0).reshape(2, 3))
    x[:, np.array([True, False, True])].sum().backward()
    np.testing.assert_array_equal(x.grad, [[1.0, 0.0, 1.0], [1.0, 0.0, 1.0]])
    x = _t(np.arange(6.0).reshape(2, 3))
    (x[1, [False, True, True]] * Tensor([2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.0, 0.0], [0.0, 2.0, 3.0]])


def test_a_mask_of_the_wrong_length_is_refused_naming_getitem():
    with pytest.raises(IndexError, match="getitem: .*shape \\(3,\\)"):
        Tensor([1.0, 2.0, 3.0])[Tensor([True, False])]


# ----------------------------------------------------------------------------------------------
# 5. a list constant takes the dtype numpy gives a Python number next to the Tensor


def test_a_list_next_to_a_float64_tensor_stays_float64():
    x = Tensor(np.zeros(1))
    for y in (x + [0.1], [0.1] + x, x * [[1.0], [0.1]], x - [0.1]):
        assert y.dtype == np.float64
    assert (x + [0.1]).data[0] == 0.1  # not float32's 0.10000000149...
    assert (Tensor([1.0]) + [0.1]).dtype == np.float32
    assert (Tensor(np.eye(2)) @ [0.1, 0.2]).dtype == np.float64


def test_a_list_next_to_an_integer_tensor_follows_numpy():
    i = Tensor(np.array([1, 2]), dtype=np.int64)
    assert (i + [0.5]).dtype == np.float64 and (i + [0.5]).data[0] == 1.5
    assert (i + [1]).dtype == np.int64
    small = Tensor(np.array([1, 2]), dtype=np.int8)
    assert (small + [1]).dtype == np.int8
    with pytest.raises(OverflowError, match="add: the list \\[1000\\] does not fit .*int8"):
        small + [1000]


# ----------------------------------------------------------------------------------------------
# 6. bad axes raise, naming the op, the axis and the ndim

X2, X3 = Tensor(np.ones((2, 3))), Tensor(np.ones((2, 3, 4)))
BAD_AXES = [
    (lambda: X2.transpose(3, 0), ValueError, "transpose: axis 3 is out of range for 2-d"),
    (lambda: X3.transpose(0, 1, 5), ValueError, "transpose: axis 5 is out of range for 3-d"),
    (lambda: X3.transpose(0, 0, 1), ValueError, "transpose: axes \\(0, 0, 1\\) name an axis twice"),
    (lambda: X3.transpose(1, 0), ValueError, "transpose: axes \\(1, 0\\) must name each of the 3"),
    (lambda: X2.transpose(0.0, 1), TypeError, "transpose: axis must be an int"),
    (lambda: X2.swapaxes(0, 5), ValueError, "swapaxes: axis 5 is out of range for 2-d"),
    (lambda: X2.swapaxes(-3, 0), ValueError, "swapaxes: axis -3 is out of range for 2-d"),
    (lambda: X2.sum(axis=1.0), TypeError, "sum: axis must be None, an int or a tuple of ints, got"),
    (lambda: X2.mean(axis=1.0), TypeError, "mean: axis must be"),
    (lambda: X2.max(axis=1.0), TypeError, "max: axis must be"),
    (lambda: X2.min(axis="0"), TypeError, "min: axis must be"),
    (lambda: X2.softmax(axis=1.0), TypeError, "softmax: axis must be"),
    (lambda: X2.log_softmax(axis=2), ValueError, "log_softmax: axis 2 is out of range for 2-d"),
    (lambda: X2.sum(axis=(0, 1.0)), TypeError, "sum: axis must be an int"),
    (lambda: X2.sum(axis=(0, -2)), ValueError, "sum: axis \\(0, -2\\) names an axis twice"),
    (lambda: X3.mean(axis=(0, 3)), ValueError, "mean: axis 3 is out of range for 3-d"),
    (lambda: X2.sum(axis=True), TypeError, "sum: axis must be"),
    (lambda: concatenate([X2, X2], axis=2), ValueError, "concatenate: axis 2 .* 2-d"),
    (lambda: stack([X2, X2], axis=3), ValueError, "stack: axis 3 is out of range for 3-d"),
    (lambda: stack([X2, X2], axis=0.5), TypeError, "stack: axis must be an int"),
]


@pytest.mark.parametrize("call,error,match", BAD_AXES, ids=[m for _, _, m in BAD_AXES])
def test_bad_axes_are_refused_naming_op_axis_and_ndim(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_good_axes_still_work_and_a_0d_tensor_takes_axis_0_and_minus_1():
    assert X3.transpose(-1, 0, 1).shape == (4, 2, 3)
    assert X2.swapaxes(-1, 0).shape == (3, 2)
    assert X3.sum(axis=(-1, 0)).shape == (3,)
    assert stack([X2, X2], axis=-1).shape == (2, 3, 2)
    assert X2.sum(axis=np.int64(-1)).shape == (2,) and X2.mean(axis=np.array(1)).shape == (2,)
    for axis in (0, -1):
        assert Tensor(2.0).sum(axis=axis).item() == 2.0
        assert Tensor(2.0).softmax(axis=axis).item() == 1.0


# ----------------------------------------------------------------------------------------------
# 7. iteration


def test_iterating_a_0d_tensor_raises_like_numpy_and_torch():
    with pytest.raises(TypeError, match="iteration over a 0-d Tensor"):
        list(Tensor(3.0))
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert [r.shape for r in rows] == [(2,), (2,)]
    (rows[1] * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.0], [2.0, 2.0]])


# ----------------------------------------------------------------------------------------------
# 8. clip with Tensor and array bounds


def test_clip_takes_constant_tensor_and_array_bounds():
    x = Tensor([-2.0, 0.5, 3.0, 1.0], requires_grad=True)
    lo = Tensor([0.0, 0.0, 0.0, 1.5])
    y = x.clip(lo, 1.0)
    np.testing.assert_array_equal(y.data, np.clip(x.data, lo.data, 1.0))
    y.backward(np.ones(4, np.float32))
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0, 0.0])  # only where lo <= x <= hi
    z = Tensor(np.ones((2, 3))).clip(np.array([0.0, 2.0, 0.0]), [[0.5], [3.0]])
    np.testing.assert_array_equal(z.data, [[0.5, 0.5, 0.5], [1.0, 2.0, 1.0]])


def test_the_tape_shows_an_array_bound_of_clip():
    import viz

    x = Tensor([1.0, 2.0, 3.0], requires_grad=True, label="x")
    assert "clip(v2, lo=array(3,), hi=2.0)" in str(
        viz.tape(x.clip(Tensor([0.0, 2.5, 0.0]), 2.0).sum())
    )


def test_clip_refuses_a_bound_that_needs_a_gradient_or_does_not_fit():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="clip: the bound lo is a Tensor that requires grad"):
        x.clip(Tensor([0.0, 0.0], requires_grad=True), 1.0)
    with pytest.raises(ValueError, match="clip: the bound hi of shape \\(3,\\) does not broadcast"):
        x.clip(None, Tensor([1.0, 2.0, 3.0]))


# ----------------------------------------------------------------------------------------------
# 9. softmax and log_softmax over an empty axis


@pytest.mark.parametrize("method", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,axis", [((2, 0), -1), ((0, 3), 0), ((0,), 0), ((0, 3), -1)])
def test_softmax_over_an_empty_axis_is_empty_and_backward_works(method, shape, axis):
    x = Tensor(np.zeros(shape, np.float32), requires_grad=True)
    y = getattr(x, method)(axis=axis)
    assert y.shape == shape and y.dtype == np.float32
    y.backward(np.zeros(shape, np.float32))
    assert x.grad.shape == shape
    (g,) = gradients(getattr(x, method)(axis=axis).sum(), [x], create_graph=True)
    assert g.shape == shape


# ----------------------------------------------------------------------------------------------
# 11. Tensor(ndarray) copies, so an optimizer never writes into the user's array


def test_tensor_copies_the_array_it_is_given_and_detach_shares():
    import nn

    a = np.ones(3)
    t = Tensor(a, requires_grad=True)
    assert not np.shares_memory(t.data, a)
    a[0] = 5.0
    assert t.data[0] == 1.0
    (t * t).sum().backward()
    nn.optim.SGD([t], lr=0.1).step()
    assert a.tolist() == [5.0, 1.0, 1.0] and t.data[0] == pytest.approx(0.8)
    assert np.shares_memory(t.detach().data, t.data)
    view = np.arange(6.0)[::2]
    assert not np.shares_memory(Tensor(view).data, view)
    assert not np.shares_memory(Tensor(np.float64(2.0)).data, np.float64(2.0))


def test_parameters_own_their_data_after_set_weights_and_training():
    import nn

    model = nn.Sequential([nn.Dense(2, activation="sigmoid", input_shape=(3,)), nn.Dense(1)])
    mine = [np.full(p.shape, 0.1, np.float32) for p in model.parameters()]
    model.set_weights(mine)
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    model.fit(x, x[:, :1], epochs=2, verbose=0)
    for p, w in zip(model.parameters(), mine):
        assert p.data.flags.owndata and not np.shares_memory(p.data, w)
        assert (w == np.float32(0.1)).all()  # the user's arrays are untouched


# ----------------------------------------------------------------------------------------------
# 10. numpy functions on nodes: operators build the graph, numpy's math names stepgrad's method

NUMPY_CALLS = [
    (lambda v, t: np.tanh(v), "np.tanh on a stepgrad Value: .* call x.tanh\\(\\)"),
    (lambda v, t: np.exp(t), "np.exp on a stepgrad Tensor: .* call x.exp\\(\\)"),
    (lambda v, t: np.log(v), "np.log .* call x.log\\(\\)"),
    (lambda v, t: np.sum(t), "np.sum on a stepgrad Tensor: .* call x.sum\\(axis="),
    (lambda v, t: np.mean(t, axis=0), "np.mean .* call x.mean\\(axis="),
    (lambda v, t: np.max(t), "np.max .* call x.max\\(axis="),
    (lambda v, t: np.maximum(t, 0), "np.maximum .* autograd.maximum\\(a, b\\)"),
    (lambda v, t: np.clip(t, 0, 1), "np.clip .* call x.clip\\(lo, hi\\)"),
    (lambda v, t: np.concatenate([t, t]), "np.concatenate .* autograd.concatenate"),
    (lambda v, t: np.reshape(t, -1), "np.reshape .* x.reshape"),
    (lambda v, t: np.sin(v), "np.sin .* stepgrad has no sin: .* custom op"),
    (lambda v, t: np.add.reduce(t), "np.add.reduce on a stepgrad Tensor"),
    (lambda v, t: np.ones(2) == t, "np.equal .* == on nodes is identity"),
]


@pytest.mark.parametrize("call,match", NUMPY_CALLS, ids=[m[:20] for _, m in NUMPY_CALLS])
def test_numpy_math_on_a_node_names_the_stepgrad_method(call, match):
    v, t = Value(0.5), Tensor([0.5, 1.0], requires_grad=True)
    with pytest.raises(TypeError, match=match):
        call(v, t)


def test_numpy_operators_and_reading_functions_still_work_on_nodes():
    v, t = Value(0.5), Tensor([0.5, 1.0], requires_grad=True)
    y = np.ones(2) * t + np.float64(2.0)
    assert isinstance(y, Tensor) and y.op == "add"
    y.sum().backward()
    np.testing.assert_array_equal(t.grad, [1.0, 1.0])
    w = np.float64(3.0) * v
    assert isinstance(w, Value) and w.data == 1.5
    assert (np.array([1.0, 0.0]) < t).tolist() == [False, True]
    assert np.allclose(t, [0.5, 1.0]) and np.argmax(t) == 1 and not np.isnan(t).any()
    a = np.ones(2)
    with pytest.raises(TypeError, match="np.add: cannot write a stepgrad Tensor into a numpy"):
        a += t
