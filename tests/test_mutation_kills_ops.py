"""Tests that kill mutants of autograd/ops.py (see tests/mutation/REPORT.md)."""

import math
import warnings

import numpy as np

from autograd import Op, Tensor, Value, conv2d, engine, max_pool2d, ops, toposort
from autograd.ops import m

F32 = np.float32


# ----------------------------------------------------------------------------------------------
# pow: IEEE results, dtypes and warnings


def test_a_tensor_to_an_array_exponent_is_ieee_pow_whatever_the_exponents_shape():
    # an array exponent gets IEEE pow, as torch's pow of two tensors (sqrt would give nan at
    # -inf and -0.0 at -0.0), a 1-element one too
    y = Tensor(np.array([-np.inf, -0.0, 4.0])) ** np.array([0.5, 0.5, 0.5])
    assert y.data.tolist() == [math.inf, 0.0, 2.0]
    assert math.copysign(1.0, y.data[1]) == 1.0
    assert (Tensor(np.array([-np.inf])) ** np.array([0.5])).data.tolist() == [math.inf]
    # a 0-d array exponent is not broadcast to the base's shape: the result keeps the base's
    z = Tensor(np.array([1.0, 2.0, 3.0], dtype=F32), requires_grad=True)
    w = z ** np.array(2.0)
    assert w.shape == (3,) and w.data.tolist() == [1.0, 4.0, 9.0]
    w.sum().backward()
    assert z.grad.tolist() == [2.0, 4.0, 6.0]


def test_pow_keeps_a_float32_base_float32_next_to_a_python_number():
    a = np.array([4.0, 9.0], dtype=F32)
    for b, want in ((0.5, [2.0, 3.0]), (2, [16.0, 81.0]), (2.0, [16.0, 81.0])):
        r = m.pow(a, b)
        assert r.dtype == F32 and r.shape == (2,) and r.tolist() == want
    y = 2.0 ** Tensor(np.array(3.0, dtype=F32))
    assert y.dtype == F32 and y.data == 8.0


def test_pow_gives_ieee_infinities_without_numpy_warnings():
    x = Tensor(np.array([0.0, 4.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (x**-0.5).data.tolist() == [math.inf, 0.5]  # rsqrt(0), as torch
        assert (Value(-0.0) ** Value(-1.0)).data == -math.inf
        assert (Value(-10.0) ** Value(401.0)).data == -math.inf


def test_pow_gradients_made_with_create_graph_at_a_zero_base_equal_the_plain_ones():
    # torch's zeros: d/da = 0 where b == 0, d/db = 0 where a == 0 and b >= 0
    a = Tensor(np.array([0.0, 0.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([2.0, 0.0, 1.5]), requires_grad=True)
    want_a = [0.0, 0.0, 1.5 * math.sqrt(2.0)]
    want_b = [0.0, 0.0, 2.0**1.5 * math.log(2.0)]
    for create_graph in (False, True):
        ga, gb = engine.gradients((a**b).sum(), [a, b], create_graph=create_graph)
        np.testing.assert_allclose(np.asarray(ga), want_a, rtol=1e-12, atol=0)
        np.testing.assert_allclose(np.asarray(gb), want_b, rtol=1e-12, atol=0)


def test_a_number_zero_to_a_float32_tensor_has_a_float32_gradient_without_warnings():
    b = Tensor(np.array([1.0, -1.0, 0.0], dtype=F32), requires_grad=True)
    with np.errstate(divide="ignore"):
        y = (0.0**b).sum()  # 0 ** -1 = inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (gb,) = engine.gradients(y, [b], create_graph=True)
    assert isinstance(gb, Tensor) and gb.dtype == F32
    assert gb.data.tolist() == [0.0, -math.inf, 0.0]


def test_log_base_keeps_a_0d_float32_base_a_float32_zero_where_it_masks():
    r = m.log_base(np.array(0.0, dtype=F32), np.array(1.0, dtype=F32))
    assert r == 0.0 and r.dtype == F32


# ----------------------------------------------------------------------------------------------
# signed zeros


def test_relu_of_minus_zero_is_plus_zero_for_values_and_tensors():
    v = Value(-0.0).relu().data
    t = Tensor(np.array([-0.0])).relu().data[0]
    assert v == 0.0 and math.copysign(1.0, v) == 1.0
    assert t == 0.0 and math.copysign(1.0, t) == 1.0


def test_indexing_gradients_are_added_into_zeros_so_basic_and_advanced_indexes_agree():
    # the gradient -0.0 added to a zero is +0.0, for a slice as for an index array
    for index in (slice(0, 1), np.array([0])):
        x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
        (x[index] * -0.0).sum().backward()
        assert x.grad.tolist() == [0.0, 0.0]
        assert math.copysign(1.0, x.grad[0]) == 1.0
    z = ops.RULES["scatter"].forward(np.array([-0.0]), (2,), slice(0, 1))
    assert math.copysign(1.0, z[0]) == 1.0


# ----------------------------------------------------------------------------------------------
# reductions


def test_the_mean_of_an_empty_tensor_is_nan_with_numpys_empty_slice_warning():
    x = Tensor(np.zeros((0, 3)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = x.mean(axis=0)
    assert "Mean of empty slice" in [str(w.message) for w in caught]
    assert y.shape == (3,) and np.isnan(y.data).all()


# ----------------------------------------------------------------------------------------------
# create_graph: dtypes and the nodes a gradient is made of


def test_gradients_made_with_create_graph_keep_a_float32_input_float32():
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.5]], dtype=F32), requires_grad=True)
    cases = (
        (lambda x: x.clip(0.7, 2.5).sum(), [[1, 0, 0], [1, 1, 0]]),
        (lambda x: x.max(axis=1).sum(), [[0, 0.5, 0.5], [0.5, 0.5, 0]]),  # ties share
        (lambda x: x.min(), [[0, 0, 0], [0, 0, 1]]),
        (
            lambda x: max_pool2d(x.reshape((1, 2, 3, 1)), size=2, stride=1).sum(),
            [[0, 1.5, 0.5], [0, 0, 0]],
        ),
    )
    for f, want in cases:
        (g,) = engine.gradients(f(x), [x], create_graph=True)
        assert isinstance(g, Tensor) and g.dtype == F32
        assert g.data.tolist() == want


def _graph(g):
    return [(n.op, n.shape) for n in toposort(g)]


def test_gradient_graphs_made_with_create_graph_hold_no_needless_reshape_or_crop():
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.5]]), requires_grad=True)
    for reduce, want in (
        ("sum", [[14.0] * 3, [9.0] * 3]),
        ("mean", [[14 / 9] * 3, [1.0] * 3]),
        ("max", [[0.0, 3.0, 3.0], [2.0, 2.0, 0.0]]),
        ("min", [[2.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
    ):
        y = getattr(x, reduce)(axis=1, keepdims=True)
        (g,) = engine.gradients((y**2).sum(), [x], create_graph=True)
        np.testing.assert_allclose(g.data, want, rtol=1e-12)
        assert "reshape" not in [op for op, _ in _graph(g)], reduce
    # a broadcast's gradient sums with keepdims: the sum node already has x's shape
    r = Tensor(np.array([[1.0, 3.0, 3.0]]), requires_grad=True)
    (g,) = engine.gradients((r.broadcast_to((4, 3)) ** 2).sum(), [r], create_graph=True)
    assert g.data.tolist() == [[8.0, 24.0, 24.0]]
    assert ("sum", (1, 3)) in _graph(g)
    # max_pool2d scatters straight into x's shape: no larger buffer cropped by a getitem
    p = Tensor(np.arange(12.0).reshape(1, 3, 4, 1), requires_grad=True)
    (g,) = engine.gradients((max_pool2d(p) ** 2).sum(), [p], create_graph=True)
    assert g.data[0, :, :, 0].tolist() == [[0, 0, 0, 0], [0, 10, 0, 14], [0, 0, 0, 0]]
    ops_ = _graph(g)
    assert "getitem" not in [op for op, _ in ops_] and ("scatter", (1, 3, 4, 1)) in ops_


def test_conv2d_gradients_made_with_create_graph_when_the_stride_leaves_rows_over():
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(1, 5, 5, 2)), requires_grad=True)
    w = Tensor(rng.normal(size=(2, 2, 2, 3)), requires_grad=True)

    def f():
        return (conv2d(x, w, stride=2) ** 2).sum()

    plain = engine.gradients(f(), [x, w])
    made = engine.gradients(f(), [x, w], create_graph=True)
    for p, g in zip(plain, made):
        assert isinstance(g, Tensor) and g.shape == p.shape
        np.testing.assert_allclose(g.data, p, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------------------------
# the rules called directly


def test_conv2d_and_max_pool2d_vjps_give_float32_gradients_for_float32_inputs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 4, 4, 2)).astype(F32)
    w = rng.normal(size=(3, 3, 2, 2)).astype(F32)
    conv, pool = ops.RULES["conv2d"], ops.RULES["max_pool2d"]
    for op_, args in ((conv, (x, w)), (pool, (x,))):
        out = op_.forward(*args)
        grads = op_.vjp(np.ones_like(out), out, *args)
        wide = [a.astype(np.float64) for a in args]
        grads64 = op_.vjp(np.ones(out.shape), op_.forward(*wide), *wide)
        for g, g64 in zip(grads, grads64):
            assert g.dtype == F32
            np.testing.assert_allclose(g, g64, rtol=1e-5, atol=1e-5)


class _NoDoc:
    """A vjp whose __doc__ cannot be read (a proxy, say)."""

    def __call__(self, g, out, x):
        return (-g,)

    def __getattribute__(self, name):
        if name == "__doc__":
            raise AttributeError(name)
        return object.__getattribute__(self, name)


def test_an_op_takes_a_vjp_whose_doc_cannot_be_read():
    neg = Op("neg2", np.negative, _NoDoc())
    assert neg.doc == ""
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    neg(x).sum().backward()
    assert x.grad.tolist() == [-1.0, -1.0]


def _case(seed, make):
    return make(np.random.default_rng(seed))


def test_m_matmul_is_x_at_y_to_the_last_bit_for_every_shape():
    # np.dot is taken only for an outer product; where np.dot and matmul differ in their last
    # bits (a broadcast or strided operand), m.matmul must give matmul's
    cases = [
        _case(0, lambda r: (r.normal(size=(5, 1)).astype(F32), r.normal(size=(1, 7)).astype(F32))),
        _case(
            0,
            lambda r: (
                np.broadcast_to(r.normal(size=(22, 1)).astype(F32), (22, 36)),
                r.normal(size=(1, 36)).astype(F32).T,
            ),
        ),
        _case(0, lambda r: (r.normal(size=(24, 4))[:, ::2], r.normal(size=(2, 1)))),
        _case(0, lambda r: (r.normal(size=(3, 1, 2)), r.normal(size=(3, 2, 4)))),
        _case(0, lambda r: (r.normal(size=(2, 1)), r.normal(size=(3, 1, 4)))),
        _case(0, lambda r: (r.normal(size=3), r.normal(size=(3, 2)))),
    ]
    for x, y in cases:
        want = x @ y
        got = m.matmul(x, y)
        assert got.shape == want.shape and np.array_equal(got, want)
    # a Tensor with an array stays a node (np.dot would refuse a Tensor)
    t = Tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True)
    col = np.array([[2.0], [-1.0]])
    for got in (m.matmul(col, t), m.matmul(t.T, col.T)):
        assert isinstance(got, Tensor)
    assert m.matmul(col, t).data.tolist() == [[2.0, 4.0, 6.0], [-1.0, -2.0, -3.0]]


def _constants(g, op):
    """The constant operands (not nodes) of the nodes of g's graph made by `op`."""
    return [c for n in toposort(g) if n.op == op for c in n.operands if not isinstance(c, Tensor)]


def test_gradient_graphs_made_with_create_graph_show_the_rules_constants_alike_for_any_shape():
    # mean divides by the count, an integer (the viewer shows `/ 3`)
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (g,) = engine.gradients((x.mean(axis=1) ** 2).sum(), [x], create_graph=True)
    assert g.op == "div" and g.operands[1].__class__ is int and g.operands[1] == 3
    np.testing.assert_allclose(g.data, [[2 / 3] * 3, [8 / 3] * 3], rtol=1e-12)
    # pow at a zero base, 0-d as n-d: b - 1 takes b's mask as a boolean array, and log(a) is
    # log(a + mask) with the mask in a's dtype
    for shape in ((), (2,)):
        a = Tensor(np.zeros(shape, dtype=F32), requires_grad=True)
        b = Tensor(np.full(shape, 2.0, dtype=F32), requires_grad=True)
        ga, gb = engine.gradients((a**b).sum(), [a, b], create_graph=True)
        assert np.all(ga.data == 0.0) and np.all(gb.data == 0.0)
        (keep,) = _constants(ga, "sub")
        assert keep.__class__ is np.ndarray and keep.dtype == bool and keep.shape == shape
        assert np.all(keep)
        (mask,) = _constants(gb, "add")
        assert mask.__class__ is np.ndarray and mask.dtype == F32 and mask.shape == shape
        assert np.all(mask == 1.0)
    # clip's gradient multiplies by its 0/1 mask, an array in x's dtype, 0-d as n-d
    for shape in ((), (2,)):
        x = Tensor(np.full(shape, 0.3, dtype=F32), requires_grad=True)
        (g,) = engine.gradients((x.clip(0.0, 1.0) ** 2).sum(), [x], create_graph=True)
        np.testing.assert_allclose(g.data, np.full(shape, 0.6), rtol=1e-6)
        (inside,) = _constants(g, "mul")
        assert inside.__class__ is np.ndarray and inside.dtype == F32 and inside.shape == shape
        assert np.all(inside == 1.0)


def test_repeated_axes_are_the_axes_sum_to_sums_over():
    # viz labels an edge with them (Σ axis 0): the leading axes an operand lacks, then its
    # axes of length 1 that grow, and none for a shape that is not repeated
    assert ops.repeated_axes((3,), (4, 3)) == (0,)
    assert ops.repeated_axes((4, 1, 3), (2, 4, 5, 3)) == (0, 2)
    assert ops.repeated_axes((1, 3), (1, 3)) == ()
    assert ops.repeated_axes((2, 1), (2, 5)) == (1,)
    g = np.arange(40.0).reshape(2, 4, 5, 1)
    want = g.sum(axis=ops.repeated_axes((4, 1, 1), g.shape), keepdims=True).reshape(4, 1, 1)
    np.testing.assert_array_equal(m.sum_to(g, (4, 1, 1)), want)
