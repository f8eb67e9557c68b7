"""Tests that kill mutants of autograd/ops.py and autograd/engine.py (see tests/mutation/).

Each test pins a behaviour that a mutant changed without the rest of the suite noticing;
tests/mutation/REPORT.md lists the mutants that are equivalent instead. Run the mutation tests
with `./dev.sh mutate`.
"""

import math
import operator
import sys
import warnings

import numpy as np
import pytest

from autograd import (
    Op,
    Tensor,
    Value,
    concatenate,
    conv2d,
    detect_anomaly,
    embedding,
    engine,
    gradcheck,
    max_pool2d,
    no_grad,
    op,
    ops,
    stack,
    toposort,
)
from autograd.engine import AnomalyError, describe, scope

# ----------------------------------------------------------------------------------------------
# the scalar forwards


def test_scalar_forwards_give_ieee_results_instead_of_exceptions():
    assert ops._log(math.e) == 1.0
    assert ops._log(0.0) == -math.inf
    assert math.isnan(ops._log(-1.0))
    assert ops._exp(1000.0) == math.inf
    assert ops._sqrt(4.0) == 2.0 and ops._sqrt(0.0) == 0.0
    assert math.isnan(ops._sqrt(-1.0))
    assert ops._div(1.0, 0.0) == math.inf and ops._div(-1.0, 0.0) == -math.inf
    assert ops._div(1.0, -0.0) == -math.inf
    assert math.isnan(ops._div(0.0, 0.0)) and math.isnan(ops._div(math.nan, 0.0))


# ----------------------------------------------------------------------------------------------
# making ops: rule, Op, op


def _vjp_add(g, out, a, b):
    """a + b; d/da = 1, d/db = 1"""
    return g, g


def test_rule_makes_a_trusted_op_with_everything_it_was_given():
    r = ops.rule(
        "plus", np.add, operator.add, arity=2, elementwise=True, partial=True, grads=("g", "g")
    )(_vjp_add)
    assert isinstance(r, Op)
    assert r.name == "plus" and r.forward is np.add and r.scalar is operator.add
    assert r.vjp is _vjp_add and r.arity == 2
    assert r.elementwise is True and r.partial is True and r.builtin is True
    assert r.grads == ("g", "g") and r.doc == "a + b; d/da = 1, d/db = 1"


def test_rule_defaults_to_a_unary_op_with_a_scalar_forward_from_numpys():
    r = ops.rule("twice", lambda x: x * 2)(lambda g, out, x: (2 * g,))
    assert r.arity == 1 and r.elementwise is False and r.partial is False
    assert r.grads is None and r.builtin is True
    assert r.scalar(1.5) == 3.0 and r.scalar(1.5).__class__ is float


def test_every_rule_of_the_table_is_trusted_and_custom_ops_are_not():
    assert all(r.builtin is True for r in ops.RULES.values())
    assert Op("f", np.negative, lambda g, out, x: (-g,)).builtin is False


def test_op_infers_its_arity_from_the_forwards_arguments_without_defaults():
    vjp = lambda g, out, *xs: (g,) * len(xs)  # noqa: E731
    assert Op("f", lambda x: x, vjp).arity == 1
    assert Op("f", lambda a, b: a, vjp).arity == 2
    assert Op("f", lambda a, b=2.0: a, vjp).arity == 1
    assert Op("f", lambda a, b, c=1, d=2: a, vjp).arity == 2
    assert Op("f", np.negative, vjp).arity == 1  # a ufunc has no __code__
    assert Op("f", lambda a, b: a, vjp, arity=-1).arity == -1


def test_op_refuses_a_forward_or_vjp_that_is_not_a_function():
    vjp = lambda g, out, x: (g,)  # noqa: E731
    with pytest.raises(TypeError, match=r"^Op 'f': forward and vjp must be functions$"):
        Op("f", 3.0, vjp)
    with pytest.raises(TypeError, match=r"^Op 'f': forward and vjp must be functions$"):
        Op("f", np.negative, "vjp")
    assert Op("f", np.negative, None).vjp is None  # given later with defvjp


def test_op_keeps_its_flags_and_takes_its_doc_from_the_vjp():
    def vjp(g, out, x):
        """the vjp's doc"""
        return (g,)

    f = Op("f", np.negative, vjp, elementwise=True, partial=True)
    assert f.elementwise is True and f.partial is True and f.doc == "the vjp's doc"
    assert Op("f", np.negative, vjp, doc="given").doc == "given"
    assert Op("f", np.negative, lambda g, out, x: (g,)).doc == ""
    assert Op("f", np.negative, None).doc == ""
    assert Op("f", np.negative, vjp).elementwise is False
    assert Op("f", np.negative, vjp).partial is False


def test_op_scalar_forward_is_the_given_one_or_a_float_of_the_numpy_one():
    scalar = lambda x: -x  # noqa: E731
    f = Op("f", np.negative, lambda g, out, x: (-g,), scalar=scalar)
    assert f.scalar is scalar
    g = Op("g", np.negative, lambda g, out, x: (-g,))
    assert g.scalar(2.0) == -2.0 and g.scalar(2.0).__class__ is float
    bad = Op("shout", lambda x: "loud", lambda g, out, x: (g,))
    with pytest.raises(TypeError, match=r"^shout: forward returned 'loud', not a real number$"):
        bad.scalar(1.0)


def test_defvjp_checks_the_vjp_and_keeps_or_takes_the_doc():
    f = Op("f", np.negative, None)
    with pytest.raises(TypeError, match=r"^Op 'f': the vjp must be a function$"):
        f.defvjp(3)

    def vjp(g, out, x):
        """minus g"""
        return (-g,)

    assert f.defvjp(vjp) is vjp and f.vjp is vjp and f.doc == "minus g"
    h = Op("h", np.negative, None, doc="mine")
    h.defvjp(vjp)
    assert h.doc == "mine"
    k = Op("k", np.negative, None)
    k.defvjp(lambda g, out, x: (-g,))
    assert k.doc == ""


def test_op_decorator_names_the_op_and_passes_its_options():
    @op
    def double(x):
        """2x"""
        return 2 * x

    assert double.name == "double" and double.doc == "2x" and double.vjp is None

    @op("plus", vjp=_vjp_add, elementwise=True)
    def plus(a, b):
        return a + b

    assert plus.name == "plus" and plus.vjp is _vjp_add and plus.elementwise is True
    assert plus.doc == "a + b; d/da = 1, d/db = 1" and plus.arity == 2  # the vjp's doc
    y = plus(Tensor(np.ones((2, 3))), Tensor(np.ones(3), requires_grad=True))
    y.sum().backward()
    assert y.parents[1].parents[0].grad.tolist() == [2.0, 2.0, 2.0]


# ----------------------------------------------------------------------------------------------
# messages and the anomaly checks


def test_not_finite_names_nan_before_inf_and_ignores_integers():
    nf = engine._not_finite
    assert nf(None) == "" and nf(1.0) == "" and nf(Value(2.0)) == ""
    assert nf(math.nan) == "nan" and nf(math.inf) == "inf" and nf(-math.inf) == "inf"
    assert nf(Value(math.nan)) == "nan" and nf(Tensor([1.0, -math.inf])) == "inf"
    assert nf(np.array([1.0, 2.0])) == "" and nf(np.array([1, 2])) == ""
    assert nf(np.array([math.inf, math.nan])) == "nan"
    assert nf(np.array([1.0, math.inf])) == "inf" and nf(np.array([1j, math.inf])) == "inf"
    assert nf(np.array([True])) == ""


def test_describe_shows_small_arrays_whole_and_large_ones_as_stats():
    assert describe(1.5) == "1.5" and describe(Value(1.5)) == "1.5"
    assert describe(Tensor([1.0, 2.0])) == "[1., 2.]"
    assert describe(np.array([1.23456, 2.0])) == "[1.2346, 2.    ]"
    six = np.arange(6.0) / 3
    assert describe(six) == "[0.    , 0.3333, 0.6667, 1.    , 1.3333, 1.6667]"
    seven = np.arange(7.0) / 3
    assert describe(seven) == "array(7,) float64 min=0 mean=1 max=2"
    assert describe(Tensor(seven)) == "array(7,) float64 min=0 mean=1 max=2"
    assert describe(np.array([1.0, 2.0]) + 0.123456789) == "[1.1235, 2.1235]"


def test_describe_of_infinities_gives_no_numpy_warning():
    x = np.array([math.inf, -math.inf, 1, 2, 3, 4, 5.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert describe(x) == "array(7,) float64 min=-inf mean=nan max=inf"


def test_describe_counts_the_nans_of_a_large_array_without_a_numpy_warning():
    x = np.array([math.nan, 1.0, 2.0, 3.0, math.nan, 4.0, 5.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert describe(x) == "array(7,) float64 min=1 mean=3 max=5, 2 nan"
        assert describe(np.full((2, 4), math.nan)) == "array(2, 4) float64, all nan"
        assert describe(np.arange(8)) == "array(8,) int64 min=0 mean=3.5 max=7"


def test_anomaly_in_the_forward_pass_shows_every_input():
    a, b = Value(0.0), Value(0.0)
    with detect_anomaly(), pytest.raises(AnomalyError) as err:
        a / b
    assert str(err.value).startswith("div produced nan in the forward pass at ")
    assert str(err.value).endswith("; inputs: 0.0, 0.0")
    x, y = Tensor([1.0]), Tensor([math.inf])
    with detect_anomaly(), pytest.raises(AnomalyError) as err:
        ops.concatenate(x, y)
    assert str(err.value).endswith("; inputs: [1.], [inf]")
    with detect_anomaly(), pytest.raises(AnomalyError) as err:
        Value(-1.0).log()
    assert str(err.value).endswith("; inputs: -1.0")


def test_under_detect_anomaly_nodes_keep_their_graph_and_where_they_were_made():
    x = Value(2.0)
    with detect_anomaly():
        y = x * 3.0
    assert not y.is_leaf and y.requires_grad is True
    assert isinstance(y.where, str) and ":" in y.where
    assert (x * 3.0).where is None
    y.backward()
    assert x.grad == 3.0


def test_no_grad_makes_leaves_that_do_not_require_grad():
    x = Value(2.0)
    with no_grad():
        assert engine.is_grad_enabled() is False
        y = x * 3.0
    assert engine.is_grad_enabled() is True
    assert y.is_leaf and y.requires_grad is False
    t = Tensor([1.0], requires_grad=True)
    with no_grad():
        u = t * 2.0
    assert u.is_leaf and u.requires_grad is False


def test_nested_modes_restore_what_was_on_before():
    with detect_anomaly():
        with detect_anomaly():
            pass
        assert engine.ANOMALY is True
        with pytest.raises(AnomalyError):
            Value(-1.0).log()
    assert engine.ANOMALY is False
    with no_grad():
        with no_grad():
            pass
        assert engine.GRAD is False
        assert (Value(1.0) * 2.0).is_leaf
    assert engine.GRAD is True


def test_scopes_tag_nodes_and_nest():
    x = Value(1.0)
    assert engine.SLOW is False
    with scope("model") as s:
        assert s.name == "model" and engine.SLOW is True
        a = x * 2.0
        with scope("model.dense"):
            b = a + 1.0
        c = b * b
    d = c + 1.0
    assert engine.SLOW is False
    assert (a.scope, b.scope, c.scope, d.scope) == ("model", "model.dense", "model", None)
    assert engine.SCOPE is None


def test_slow_is_set_by_each_mode_and_only_while_it_is_on():
    assert engine.SLOW is False
    with no_grad():
        assert engine.SLOW is True
    with detect_anomaly():
        assert engine.SLOW is True
    assert engine.SLOW is False


# ----------------------------------------------------------------------------------------------
# hooks


def test_a_node_counts_as_hooked_until_its_last_hook_is_removed():
    x = Value(1.0)
    h1 = x.register_hook(lambda g: None)
    h2 = x.register_hook(lambda g: None)
    assert x in engine.HOOKED and len(x._get("hooks")) == 2
    h1.remove()
    assert x in engine.HOOKED and len(x._get("hooks")) == 1
    h1.remove()  # a second remove does nothing
    assert x in engine.HOOKED and len(x._get("hooks")) == 1
    h2.remove()
    assert x not in engine.HOOKED and x._get("hooks") == []


def test_a_freed_node_with_hooks_leaves_backward_on_its_fast_paths(monkeypatch):
    # a hook nobody removed used to keep a global count up for the rest of the process, and
    # every later backward, of any graph, took the general driver (and hid the fast paths'
    # mutants from every test that ran after a hook test)
    before = len(engine.HOOKED)
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    y.register_hook(lambda g: None)
    assert len(engine.HOOKED) == before + 1
    del y
    assert len(engine.HOOKED) == before
    if before == 0:  # no other test left a hooked node alive: backward takes the fast path

        def general(*args, **kwargs):
            raise AssertionError("backward took the general driver")

        monkeypatch.setattr(engine, "_run", general)
        (x * 3.0).sum().backward()
        assert x.grad.tolist() == [3.0, 3.0]


def test_register_hook_refuses_what_is_not_a_function():
    with pytest.raises(TypeError, match=r"^register_hook: expected a function, got float$"):
        Value(1.0).register_hook(1.0)


# ----------------------------------------------------------------------------------------------
# the scalar fast path and its IEEE redo


def test_custom_op_on_values_goes_through_the_general_vjp():
    cube = Op("cube", lambda x: x**3, lambda g, out, x: (3 * g * x * x,))
    x = Value(2.0)
    y = cube(x) * x  # d/dx x**4 = 4 x**3
    y.backward()
    assert x.grad == 32.0
    both = Op("both", lambda a, b: a * b, lambda g, out, a, b: (g * b, g * a))
    a, b = Value(3.0), Value(4.0)
    both(a, b).backward()
    assert (a.grad, b.grad) == (4.0, 3.0)
    c = Value(5.0)
    both(c, 2.0).backward()  # a constant on one side gets no gradient
    assert c.grad == 2.0
    d = Value(5.0)
    both(2.0, d).backward()
    assert d.grad == 2.0


def test_a_division_by_zero_in_a_float_form_is_redone_in_ieee_arithmetic():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = Value(0.0)
        (x**0.5).backward()
        assert x.grad == math.inf
        x = Value(0.0)
        x.log().backward()
        assert x.grad == math.inf
        x = Value(0.0)
        (1.0 / x).backward()
        assert x.grad == -math.inf
        z = Value(0.0)
        (gz,) = engine.gradients(z**0.5, [z])
        assert gz == math.inf


# ----------------------------------------------------------------------------------------------
# convolution and pooling: non-square windows, strides and pads, and the create_graph path


def _tensors(shapes, seed):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.normal(size=s), requires_grad=True) for s in shapes]


def _second_order_agrees(f, *shapes, seed=0):
    """f's gradients made with create_graph equal the plain ones, and differentiate right."""
    xs = _tensors(shapes, seed)
    plain = engine.gradients(f(*xs), xs)
    made = engine.gradients(f(*xs), xs, create_graph=True)
    for p, g in zip(plain, made):
        assert isinstance(g, Tensor) and g.shape == p.shape
        np.testing.assert_allclose(g.data, p, rtol=1e-12, atol=1e-12)
    vs = [np.random.default_rng(seed + 1).normal(size=s) for s in shapes]

    def h(*xs):
        gs = engine.gradients(f(*xs), xs, create_graph=True)
        total = (gs[0] * Tensor(vs[0])).sum()
        for g, v in zip(gs[1:], vs[1:]):
            total = total + (g * Tensor(v)).sum()
        return total

    assert gradcheck(h, *_tensors(shapes, seed))


def _conv_reference(x, w, stride, pads):
    (pt, pb), (pl, pr) = pads
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    kh, kw, _, f = w.shape
    oh = (xp.shape[1] - kh) // stride[0] + 1
    ow = (xp.shape[2] - kw) // stride[1] + 1
    out = np.zeros((x.shape[0], oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, i * stride[0] : i * stride[0] + kh, j * stride[1] : j * stride[1] + kw, :]
            out[:, i, j, :] = np.tensordot(win, w, axes=([1, 2, 3], [0, 1, 2]))
    return out


def test_conv2d_with_a_non_square_kernel_strides_and_uneven_padding():
    x, w = _tensors([(2, 5, 7, 2), (2, 3, 2, 3)], seed=1)
    # 'same' with an even kernel height pads one more row at the bottom (as Keras)
    y = conv2d(x, w, stride=(2, 1), padding="same")
    assert y.shape == (2, 3, 7, 3)
    np.testing.assert_allclose(y.data, _conv_reference(x.data, w.data, (2, 1), ((0, 1), (1, 1))))
    z = conv2d(x, w, stride=(1, 3), padding=(2, 0))
    np.testing.assert_allclose(z.data, _conv_reference(x.data, w.data, (1, 3), ((2, 2), (0, 0))))
    assert gradcheck(lambda x, w: conv2d(x, w, stride=(1, 3), padding=(2, 0)), x, w)
    assert gradcheck(lambda x, w: conv2d(x, w, stride=(2, 1), padding="same"), x, w)


def test_conv2d_gradients_for_a_data_input_and_for_a_kernel_that_is_constant():
    x, w = _tensors([(1, 4, 4, 2), (3, 2, 2, 2)], seed=2)
    data = Tensor(x.data)  # no grad: conv2d's vjp skips dx
    y = conv2d(data, w, stride=(1, 2), padding=1)
    (gw,) = engine.gradients((y * y).sum(), [w])
    (gw_ref,) = engine.gradients((conv2d(x, w, stride=(1, 2), padding=1) ** 2).sum(), [w])
    np.testing.assert_allclose(gw, gw_ref)
    y = conv2d(x, Tensor(w.data), stride=(2, 1))
    y.sum().backward()
    assert x.grad.shape == x.shape and w.grad is None
    assert gradcheck(lambda x: conv2d(x, Tensor(w.data), stride=(2, 1)), x)


def test_conv2d_second_order_through_the_node_path():
    f = lambda x, w: (conv2d(x, w, stride=(2, 1), padding="same") ** 2).sum()  # noqa: E731
    _second_order_agrees(f, (1, 4, 5, 2), (2, 3, 2, 2))
    g = lambda x, w: (conv2d(x, w, stride=(1, 2), padding=(1, 0)) ** 2).sum()  # noqa: E731
    _second_order_agrees(g, (2, 5, 5, 1), (3, 2, 1, 2), seed=3)


def _pool_reference(x, size, stride):
    oh = (x.shape[1] - size[0]) // stride[0] + 1
    ow = (x.shape[2] - size[1]) // stride[1] + 1
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for i in range(oh):
        for j in range(ow):
            win = x[
                :, i * stride[0] : i * stride[0] + size[0], j * stride[1] : j * stride[1] + size[1]
            ]
            out[:, i, j, :] = win.max(axis=(1, 2))
    return out


def test_max_pool2d_with_non_square_windows_and_strides():
    (x,) = _tensors([(2, 5, 7, 3)], seed=4)
    y = max_pool2d(x, size=(3, 2), stride=(1, 2))
    np.testing.assert_allclose(y.data, _pool_reference(x.data, (3, 2), (1, 2)))
    z = max_pool2d(x, size=(2, 3))
    np.testing.assert_allclose(z.data, _pool_reference(x.data, (2, 3), (2, 3)))
    assert gradcheck(lambda x: max_pool2d(x, size=(3, 2), stride=(1, 2)), x)
    assert gradcheck(lambda x: max_pool2d(x, size=(2, 3)), x)
    f = lambda x: (max_pool2d(x, size=(3, 2), stride=(2, 1)) ** 2).sum()  # noqa: E731
    _second_order_agrees(f, (1, 6, 5, 2), seed=5)


def test_max_pool2d_gradient_keeps_float32():
    x = Tensor(np.random.default_rng(6).normal(size=(1, 4, 4, 1)).astype(np.float32), True)
    max_pool2d(x).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.sum() == 4.0


@pytest.mark.parametrize("kernel", [(1, 2), (2, 1), (2, 2)])
def test_conv2d_same_padding_on_one_side_only(kernel):
    # an even kernel side pads one zero after (bottom or right) and none before
    x, w = _tensors([(1, 3, 4, 1), (*kernel, 1, 2)], seed=7)
    y = conv2d(x, w, padding="same")
    pads = tuple((0, k - 1) for k in kernel)
    np.testing.assert_allclose(y.data, _conv_reference(x.data, w.data, (1, 1), pads))
    assert gradcheck(lambda x, w: conv2d(x, w, padding="same"), x, w)


# ----------------------------------------------------------------------------------------------
# the Tensor fast path: leaves own their gradients, unreached nodes get zeros


def test_leaves_get_gradients_of_their_own_never_views_of_another():
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()  # add hands the same g to both
    assert a.grad is not b.grad and not np.shares_memory(a.grad, b.grad)
    a.grad[0] = 5.0
    assert b.grad.tolist() == [1.0, 1.0, 1.0]
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    y = x.reshape((4,))
    (y * 3.0).backward(grad=np.arange(4.0))
    assert not np.shares_memory(x.grad, y.grad) and x.grad.flags.writeable
    assert x.grad.tolist() == [[0.0, 3.0], [6.0, 9.0]]
    s = Tensor(np.ones(3), requires_grad=True)
    s.sum().backward()  # the gradient of a sum is a read-only broadcast of g
    assert s.grad.flags.writeable and s.grad.tolist() == [1.0, 1.0, 1.0]
    s.grad += 1.0
    assert s.grad.tolist() == [2.0, 2.0, 2.0]


def test_a_node_no_gradient_reaches_gets_zeros_on_the_fast_path():
    first = Op("first", lambda a, b: a + 0 * b, lambda g, out, a, b: (g, None))
    x = Tensor(np.ones(2), requires_grad=True)
    w = Tensor(np.ones(2), requires_grad=True)
    hidden = w * 2.0  # an intermediate that no gradient reaches
    first(x * 1.0, hidden).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    assert hidden.grad.__class__ is np.ndarray and hidden.grad.tolist() == [0.0, 0.0]
    assert w.grad.__class__ is np.ndarray and w.grad.tolist() == [0.0, 0.0]
    v = Value(1.0)
    hv = v * 2.0
    Op("first", lambda a, b: a, lambda g, out, a, b: (g, None))(Value(1.0) * 1.0, hv).backward()
    assert hv.grad == 0.0 and v.grad == 0.0


# ----------------------------------------------------------------------------------------------
# the helpers of the rule table, against numpy


def test_scalar_forwards_at_their_edges():
    assert ops._sigmoid(0.0) == 0.5 and ops._sigmoid(2.0) == 1 / (1 + math.exp(-2.0))
    assert ops._sigmoid(-2.0) == pytest.approx(1 / (1 + math.exp(2.0)), rel=1e-15)
    assert ops._sigmoid(-1000.0) == 0.0 and ops._sigmoid(1000.0) == 1.0
    for x in (0.007, 0.5, 0.999):  # x >= 0 takes 1 / (1 + exp(-x)), bit for bit
        assert ops._sigmoid(x) == 1 / (1 + math.exp(-x))
    for x in (-0.007, -0.5, -3.0):  # x < 0 takes exp(x) / (1 + exp(x)), which cannot overflow
        assert ops._sigmoid(x) == math.exp(x) / (1 + math.exp(x))
    assert ops._relu(2.5) == 2.5 and ops._relu(-1.0) == 0.0 and ops._relu(0.0) == 0.0
    assert ops._relu(-0.0).__class__ is float and math.isnan(ops._relu(math.nan))
    assert ops._pow(2.0, 3.0) == 8.0 and ops._pow(0.0, -1.0) == math.inf
    assert ops._pow(10.0, 400.0) == math.inf
    assert math.isnan(ops._pow(-8.0, 1.0 / 3.0))
    assert ops._pow(-2.0, 2.0) == 4.0 and ops._pow(-2.0, 3.0) == -8.0
    assert ops._exp(0.0) == 1.0 and ops._exp(-1000.0) == 0.0


def test_numpy_forwards_keep_the_dtype_and_never_overflow():
    x = np.array([-1000.0, -2.0, 0.0, 2.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = ops._np_sigmoid(x)
        s32 = ops._np_sigmoid(x.astype(np.float32))
    np.testing.assert_allclose(s, [0.0, 1 / (1 + math.exp(2)), 0.5, 1 / (1 + math.exp(-2)), 1.0])
    assert s32.dtype == np.float32 and s.dtype == np.float64
    assert ops._np_relu(np.array([-1.0, 0.0, 3.0])).tolist() == [0.0, 0.0, 3.0]
    z = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, 0.0]])
    for axis in (0, 1, -1):
        e = np.exp(z - z.max(axis=axis, keepdims=True))
        want = e / e.sum(axis=axis, keepdims=True)
        np.testing.assert_allclose(ops._softmax(z, axis), want)
        shifted = z - z.max(axis=axis, keepdims=True)
        log_want = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        np.testing.assert_allclose(ops._log_softmax(z, axis), log_want)
    np.testing.assert_allclose(ops._softmax(z), ops._softmax(z, -1))
    np.testing.assert_allclose(ops._log_softmax(z), ops._log_softmax(z, -1))


def test_mean_forward_over_axes_and_of_empty_arrays():
    x = np.arange(24.0).reshape(2, 3, 4)
    for axis in (None, 0, 1, -1, (0, 2)):
        for keepdims in (False, True):
            got = ops._mean(x, axis=axis, keepdims=keepdims)
            np.testing.assert_allclose(got, np.mean(x, axis=axis, keepdims=keepdims))
            assert np.shape(got) == np.shape(np.mean(x, axis=axis, keepdims=keepdims))
    assert ops._mean(x) == 11.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(ops._mean(np.zeros((0,))))
        assert ops._mean(np.zeros((0, 3)), axis=1).shape == (0,)
        assert np.isnan(ops._mean(np.zeros((0, 3)), axis=0)).all()
        assert ops._mean(np.zeros((0, 3)), axis=1, keepdims=True).shape == (0, 1)
    m = ops.mean(Tensor(x, requires_grad=True))  # the rule called directly: its defaults
    assert m.shape == () and m.data == 11.5
    m.backward()
    assert m.parents[0].grad.tolist() == np.full((2, 3, 4), 1 / 24).tolist()
    r = ops.mean(Tensor(x, requires_grad=True), axis=1)
    assert r.shape == (2, 4)
    r.backward(grad=np.ones((2, 4)))
    np.testing.assert_allclose(r.parents[0].grad, np.full((2, 3, 4), 1 / 3))
    assert ops._size_ratio((2, 3, 4), (2, 4)) == 3 and ops._size_ratio((2, 3), ()) == 6
    assert ops._size_ratio((0, 3), (0,)) == 0 and ops._size_ratio((0,), ()) == 0


@pytest.mark.parametrize(
    "shape, target",
    [
        ((3,), (2, 3)),
        ((1,), (4,)),
        ((2, 1), (2, 5)),
        ((1, 3), (4, 2, 3)),
        ((), (2, 2)),
        ((2,), (2,)),
    ],
)
def test_broadcast_view_is_numpys_broadcast_read_only(shape, target):
    x = np.arange(1.0, 1.0 + math.prod(shape)).reshape(shape)
    view = ops.broadcast_view(x, target)
    want = np.broadcast_to(x, target)
    assert view.shape == target and view.dtype == x.dtype and view.strides == want.strides
    np.testing.assert_array_equal(view, want)
    assert view.flags.writeable is False and np.shares_memory(view, x)
    again = ops.broadcast_view(x, target)  # the cached strides
    assert again.strides == want.strides


def test_broadcast_view_of_a_non_contiguous_array_and_bad_shapes():
    x = np.arange(12.0).reshape(3, 4)[:, ::2]
    view = ops.broadcast_view(x, (2, 3, 2))
    np.testing.assert_array_equal(view, np.broadcast_to(x, (2, 3, 2)))
    with pytest.raises(ValueError, match=r"^cannot broadcast \(3,\) to \(2,\)$"):
        ops.broadcast_view(np.ones(3), (2,))
    with pytest.raises(ValueError, match=r"^cannot broadcast \(2, 3\) to \(3,\)$"):
        ops.broadcast_view(np.ones((2, 3)), (3,))
    with pytest.raises(ValueError, match=r"^cannot broadcast \(2, 3\) to \(2, 2\)$"):
        ops.broadcast_view(np.ones((2, 3)), (2, 2))


@pytest.mark.parametrize(
    "gshape, shape",
    [
        ((2, 3), (3,)),
        ((2, 3), (2, 3)),
        ((4, 2, 3), (1, 3)),
        ((4, 2, 3), (2, 1)),
        ((2, 5), (2, 1)),
        ((2, 5), (1, 5)),
        ((3, 1, 4), (1, 1, 4)),
        ((3, 2), ()),
        ((2, 3), (1, 1)),
    ],
)
def test_sum_to_is_the_inverse_of_broadcasting(gshape, shape):
    g = np.random.default_rng(8).normal(size=gshape)
    lead = len(gshape) - len(shape)
    want = g.sum(axis=tuple(range(lead))) if lead else g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and want.shape[i] != 1)
    want = want.sum(axis=axes, keepdims=True) if axes else want
    for _ in range(2):  # the second time from the cache
        got = ops.m.sum_to(g, shape)
        assert got.shape == shape
        np.testing.assert_allclose(got, want.reshape(shape))
    node = ops.m.sum_to(Tensor(g), shape)
    assert isinstance(node, Tensor) and node.shape == shape


def test_expand_undoes_a_reduction_with_or_without_keepdims():
    g = np.arange(6.0).reshape(2, 3)
    shape = (2, 4, 3)
    np.testing.assert_array_equal(ops.m.expand(g, shape, 1, False), np.repeat(g[:, None], 4, 1))
    np.testing.assert_array_equal(
        ops.m.expand(g[:, None], shape, 1, True), np.repeat(g[:, None], 4, 1)
    )
    np.testing.assert_array_equal(ops.m.expand(g, shape, -2, False), np.repeat(g[:, None], 4, 1))
    s = np.array(5.0)
    np.testing.assert_array_equal(ops.m.expand(s, shape, None, False), np.full(shape, 5.0))
    h = np.arange(4.0)
    np.testing.assert_array_equal(
        ops.m.expand(h, shape, (0, 2), False), np.broadcast_to(h[None, :, None], shape)
    )
    np.testing.assert_array_equal(
        ops.m.expand(h, shape, (0, -1), False), np.broadcast_to(h[None, :, None], shape)
    )
    assert ops._axes(1, 3) == (1,) and ops._axes(-1, 3) == (2,) and ops._axes((0, -2), 3) == (0, 1)
    assert ops._axes(0, 0) == () and ops._axes(-1, 0) == ()
    t = ops.m.expand(Tensor(g), shape, 1, False)
    assert isinstance(t, Tensor) and t.shape == shape


def test_the_math_namespace_on_floats_arrays_and_nodes():
    m = ops.m
    assert m.log(math.e) == 1.0 and m.log(1.0).__class__ is float
    assert m.exp(0.0) == 1.0 and m.exp(0.0).__class__ is float and m.exp(-1000.0) == 0.0
    assert m.log(0.0) == -math.inf  # the IEEE scalar forward, not math.log
    np.testing.assert_allclose(m.log(np.array([1.0, math.e])), [0.0, 1.0])
    np.testing.assert_allclose(m.exp(np.array([0.0, 1.0])), [1.0, math.e])
    v = Value(1.0)
    assert isinstance(m.log(v), Value) and m.log(v).op == "log"
    assert isinstance(m.exp(v), Value) and m.exp(v).op == "exp"
    assert (m.sign(2.0), m.sign(-3.0), m.sign(0.0)) == (1.0, -1.0, 0.0)
    assert m.sign(2.0).__class__ is float and m.sign(math.nan) == 0.0
    assert m.sign(Value(-2.0)) == -1.0
    sign = m.sign(np.array([2.0, -3.0, 0.0, math.nan]))
    assert sign.tolist() == [1.0, -1.0, 0.0, 0.0] and sign.dtype == np.float64
    assert m.sign(np.array([1.0], dtype=np.float32)).dtype == np.float32
    assert (m.step(2.0), m.step(0.0), m.step(-1.0)) == (1.0, 0.0, 0.0)
    assert m.step(math.nan) == 1.0 and m.step(Value(3.0)) == 1.0
    assert m.step(np.array([2.0, 0.0, -1.0, math.nan])).tolist() == [1.0, 0.0, 0.0, 1.0]
    assert m.step(Tensor([2.0, -1.0])).tolist() == [1.0, 0.0]
    x = np.arange(6.0).reshape(2, 3)
    assert m.mT(x).shape == (3, 2) and (m.mT(x) == x.T).all()
    assert m.mT(np.zeros((4, 2, 3))).shape == (4, 3, 2)
    b = m.broadcast_to(np.ones(3), (2, 3))
    assert b.shape == (2, 3) and not b.flags.writeable
    bt = m.broadcast_to(Tensor(np.ones(3), requires_grad=True), (2, 3))
    assert isinstance(bt, Tensor) and bt.shape == (2, 3) and bt.op == "broadcast_to"


def test_scatter_adds_at_basic_and_repeated_indexes():
    g = np.array([1.0, 2.0, 3.0])
    assert ops._scatter(g, (5,), slice(1, 4)).tolist() == [0.0, 1.0, 2.0, 3.0, 0.0]
    assert ops._scatter(g, (3,), np.array([0, 0, 2])).tolist() == [3.0, 0.0, 3.0]
    assert ops._scatter(g, (3,), [1, 1, 1]).tolist() == [0.0, 6.0, 0.0]
    assert ops._scatter(np.float32(2.0) * np.ones(2, np.float32), (2, 2), 0).dtype == np.float32
    two = ops._scatter(np.ones((2, 2)), (3, 2, 2), (1, Ellipsis))
    assert two.sum() == 4.0 and two[1].tolist() == [[1.0, 1.0], [1.0, 1.0]]
    none = ops._scatter(np.ones((1, 2)), (2,), (None, slice(None)))
    assert none.tolist() == [1.0, 1.0]
    assert ops._basic_index(3) and ops._basic_index(slice(None)) and ops._basic_index(None)
    assert ops._basic_index((1, slice(0, 2), None, Ellipsis))
    assert not ops._basic_index([0, 0]) and not ops._basic_index((0, np.array([1])))
    # one boolean mask picks each element at most once; two masks (paired) may repeat
    mask = np.array([True, False])
    assert ops._basic_index(mask) and ops._basic_index((0, mask))
    assert not ops._basic_index((mask, mask))
    t = ops.m.scatter(Tensor(g, requires_grad=True), (3,), [1, 1, 1])
    assert isinstance(t, Tensor) and t.data.tolist() == [0.0, 6.0, 0.0]


# ----------------------------------------------------------------------------------------------
# calling ops directly, grad(), the heap pad


def test_an_op_called_without_any_node_says_what_it_got():
    neg = ops.RULES["neg"]
    with pytest.raises(
        TypeError,
        match=r"^neg: needs at least one Value or Tensor among its inputs, got float, ndarray$",
    ):
        neg(1.0, np.ones(2))
    with pytest.raises(
        TypeError, match=r"^neg: needs at least one Value or Tensor among its inputs, got nothing$"
    ):
        neg()
    with pytest.raises(TypeError, match=r"^custom op 'f' has no vjp yet: add one with @f.defvjp$"):
        Op("f", np.negative, None)(Value(1.0))


def test_rules_called_directly_use_their_own_defaults_in_forward_and_vjp():
    x = Tensor(np.array([[0.0, 5.0, 1.0], [7.0, 2.0, 7.0]]), requires_grad=True)
    ops.max_(x, axis=1).sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]
    x.grad = None
    ops.min_(x, axis=1).sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    x.grad = None
    ops.sum_(x, axis=1).backward(grad=np.array([1.0, 2.0]))
    assert x.grad.tolist() == [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
    x.grad = None
    ops.sum_(x).backward()
    assert x.grad.tolist() == [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    x.grad = None
    ops.max_(x).backward()
    assert x.grad.tolist() == [[0.0, 0.0, 0.0], [0.5, 0.0, 0.5]]
    x.grad = None
    ops.min_(x).backward()
    assert x.grad.tolist() == [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    a = Tensor(np.ones((1, 2)), requires_grad=True)
    b = Tensor(np.ones((2, 2)), requires_grad=True)
    c = ops.concatenate(a, b)  # axis 0 by default
    assert c.shape == (3, 2)
    c.backward(grad=np.arange(6.0).reshape(3, 2))
    assert a.grad.tolist() == [[0.0, 1.0]] and b.grad.tolist() == [[2.0, 3.0], [4.0, 5.0]]
    s = ops.stack(Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(2), requires_grad=True))
    assert s.shape == (2, 2)
    s.backward(grad=np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert [p.grad.tolist() for p in s.parents] == [[1.0, 2.0], [3.0, 4.0]]


def test_concatenate_and_stack_of_intermediates_on_the_fast_path():
    x = Tensor(np.ones(2), requires_grad=True)
    y = Tensor(np.ones(3), requires_grad=True)
    ops.concatenate(x * 2.0, y * 3.0).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0] and y.grad.tolist() == [3.0, 3.0, 3.0]
    z = Tensor(np.ones(2), requires_grad=True)
    ops.stack(z * 2.0, z * 5.0, axis=1).sum().backward()
    assert z.grad.tolist() == [7.0, 7.0]


def test_grad_of_numbers_arrays_and_constant_tensors():
    from autograd import grad

    square_sum = lambda t: (t * t).sum()  # noqa: E731
    g = grad(square_sum)(np.array([1, 2]))  # integers become float64
    assert g.dtype == np.float64 and g.tolist() == [2.0, 4.0]
    g32 = grad(square_sum)(np.array([1.0, 2.0], dtype=np.float32))
    assert g32.dtype == np.float64
    const = Tensor([1.0, 3.0])  # requires no grad: grad differentiates a copy of it
    gt = grad(square_sum)(const)
    assert isinstance(gt, Tensor) and gt.data.tolist() == [2.0, 6.0]
    assert const.grad is None and const.requires_grad is False
    assert grad(lambda x, k: x * k)(2.0, k=3.0) == 3.0
    assert grad(lambda x, k=1.0: x * k)(2.0, k=5.0) == 5.0


def test_grad_of_a_function_that_does_not_depend_on_its_argument():
    from autograd import grad

    raw = grad(lambda x: Value(2.0) * 3.0)(1.0)
    assert raw == 0.0 and raw.__class__ is float
    inner = grad(lambda x, y: y)(1.0, Value(3.0))  # an inner grad of a mixed partial
    assert isinstance(inner, Value) and inner.data == 0.0


def test_grad_refuses_what_is_not_a_scalar_node_and_is_named_after_f():
    from autograd import grad

    with pytest.raises(
        TypeError, match=r"^grad: the function must return a Value or Tensor, got float$"
    ):
        grad(lambda x: 3.0)(1.0)
    with pytest.raises(
        engine.BackwardError, match=r"^grad: the function must return a scalar, got shape \(2,\)$"
    ):
        grad(lambda t: t * 2.0)(np.ones(2))

    def energy(x):
        return x * x

    assert grad(energy).__name__ == "grad_energy"
    import functools

    assert grad(functools.partial(energy)).__name__ == "grad_f"


def test_keep_heap_pad_says_when_it_could_not_set_the_pad(monkeypatch):
    import ctypes

    assert engine.keep_heap_pad(0) is False
    if sys.platform == "linux":
        assert engine.keep_heap_pad() is True

    def no_libc(name):
        raise OSError(f"{name}: not found")

    monkeypatch.setattr(ctypes, "CDLL", no_libc)
    assert engine.keep_heap_pad() is False
    monkeypatch.setattr(sys, "platform", "darwin")
    assert engine.keep_heap_pad() is False


def test_anomaly_skips_contextlib_frames_to_find_the_users_line():
    import contextlib

    with detect_anomaly(), pytest.raises(AnomalyError) as err:
        with contextlib.ExitStack() as stack:
            stack.callback(Value(-1.0).log)  # contextlib calls the op, not this file
    assert f" at {__file__}:" in str(err.value)


def test_user_frame_says_unknown_when_there_is_no_frame_to_name(monkeypatch):
    monkeypatch.setattr(sys, "_getframe", lambda depth=0: None)
    where = engine._user_frame()
    monkeypatch.undo()
    assert where == "<unknown>"


def test_the_scalar_backward_loop_is_compiled_under_its_own_name():
    x = Value(2.0)
    (x * x).backward()
    assert engine._backward_floats.__code__.co_filename == "<autograd scalar backward>"
    assert engine._backward_floats.__name__ == "_backward_floats"


# ----------------------------------------------------------------------------------------------
# the general backward driver (_run): hooks, steps, wrt, create_graph


def test_backward_driver_refuses_what_is_not_a_node_or_needs_no_grad():
    with pytest.raises(TypeError, match=r"^backward: expected a Value or Tensor, got float$"):
        engine.gradients(3.0, [Value(1.0)])
    with pytest.raises(engine.BackwardError) as err:
        Tensor([1.0]).backward(grad=np.ones(1))
    assert str(err.value) == (
        "backward: this node does not require grad (a leaf created with requires_grad=False "
        "or under no_grad), so there is nothing to differentiate"
    )
    with pytest.raises(TypeError, match=r"^gradients: inputs must be Values or Tensors, got int$"):
        engine.gradients(Value(1.0) * 2.0, [1])


def test_hooks_chain_and_may_remove_themselves_while_they_run():
    x = Value(1.0)
    h = x * 3.0
    seen = []
    handles = []

    def once(g):
        seen.append(("once", g))
        handles[0].remove()
        return g * 10.0

    handles.append(h.register_hook(once))
    h.register_hook(lambda g: seen.append(("then", g)))
    (h * 2.0).backward()
    assert seen == [("once", 2.0), ("then", 20.0)] and h.grad == 20.0 and x.grad == 60.0
    seen.clear()
    x.grad = 0.0
    (h * 2.0).backward()
    assert seen == [("then", 2.0)] and x.grad == 6.0


def test_a_leaf_with_a_hook_owns_its_gradient_array():
    a = Tensor(np.ones(2), requires_grad=True)
    b = Tensor(np.ones(2), requires_grad=True)
    a.register_hook(lambda g: None)
    (a + b).backward(grad=np.array([1.0, 2.0]))  # hooks on: the general driver
    assert a.grad is not b.grad and not np.shares_memory(a.grad, b.grad)
    a.grad[0] = 9.0
    assert b.grad.tolist() == [1.0, 2.0]
    (a + b).backward(grad=np.array([1.0, 1.0]))
    assert a.grad.tolist() == [10.0, 3.0] and b.grad.tolist() == [2.0, 3.0]


def test_steps_on_tensors_give_local_derivatives_and_indices():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True, label="x")
    w = Tensor(np.array([3.0, -1.0]), requires_grad=True, label="w")
    y = (x * w).sum()
    steps = list(engine.backward_steps(y))
    assert [s.index for s in steps] == list(range(len(steps)))
    assert [s.node.op or s.node.label for s in steps] == ["sum", "mul", "x", "w"]
    mul = steps[1]
    assert mul.grad.tolist() == [1.0, 1.0]
    (px, lx, cx), (pw, lw, cw) = mul.contributions
    assert px is x and lx.tolist() == [3.0, -1.0] and cx.tolist() == [3.0, -1.0]
    assert pw is w and lw.tolist() == [1.0, 2.0] and cw.tolist() == [1.0, 2.0]
    assert steps[3].contributions == () and steps[3].grad.tolist() == [1.0, 2.0]
    assert repr(steps[0]) == "Step(0: sum, grad=1.)"
    assert repr(steps[2]) == "Step(2: x, grad=[ 3., -1.])"
    z = Value(2.0)
    (last,) = list(engine.backward_steps(z * 1.0))[1:]
    assert repr(last) == "Step(1: leaf, grad=1.0)"


def test_create_graph_leaves_plain_numbers_in_intermediate_grads():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * x
    y = (h * 3.0).sum()
    y.backward(create_graph=True)
    assert isinstance(x.grad, Tensor) and x.grad.data.tolist() == [6.0, 12.0]
    assert h.grad.__class__ is np.ndarray and h.grad.tolist() == [3.0, 3.0]
    v = Value(2.0)
    hv = v * v
    (hv * 3.0).backward(create_graph=True)
    assert isinstance(v.grad, Value) and v.grad.data == 12.0 and hv.grad == 3.0


def test_gradients_with_respect_to_intermediates_leave_every_grad_as_it_was():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x.grad = np.array([5.0, 5.0])
    h = x * 2.0
    y = (h * h).sum()
    (gh,) = engine.gradients(y, [h])
    assert gh.tolist() == [4.0, 8.0] and h.grad is None  # h stood in for a leaf
    (gx,) = engine.gradients(y, [x])
    assert gx.tolist() == [8.0, 16.0] and x.grad.tolist() == [5.0, 5.0]
    (gh2,) = engine.gradients(y, [h], create_graph=True)
    assert isinstance(gh2, Tensor) and gh2.data.tolist() == [4.0, 8.0]


def _consumers_come_first(order):
    pos = {n: i for i, n in enumerate(order)}
    for n in order:
        for p in n.parents:
            if p in pos:
                assert pos[p] > pos[n], (p, n)


def test_toposort_order_stop_nodes_and_what_takes_no_part():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    c = a * b
    d = c + a
    e = d * c
    order = toposort(e)
    assert [n.label or n.op for n in order] == ["mul", "add", "mul", "a", "b"]
    assert order[0] is e and order[2] is c and len(set(order)) == 5
    _consumers_come_first(order)
    stopped = toposort(e, stop={c})
    assert [n.label or n.op for n in stopped] == ["mul", "add", "a", "mul"]
    const = Tensor(np.ones(2))  # needs no grad: left out
    w = Tensor(np.ones(2), requires_grad=True)
    f = ops.concatenate(w * const, const, w * 2.0)
    order = toposort(f)
    assert const not in order and w in order and len(order) == 4
    _consumers_come_first(order)
    assert toposort(w) == [w]


def test_leaf_roots_accumulate_and_a_given_seed_is_used():
    x = Value(1.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0
    t = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    t.backward(grad=np.ones(2))
    t.backward(grad=np.array([1.0, 3.0]))
    assert t.grad.tolist() == [2.0, 4.0]
    y = Value(2.0)
    (y * 3.0).backward(grad=2.0)
    assert y.grad == 6.0
    z = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (z * 3.0).backward(grad=np.array([1.0, -1.0]))
    assert z.grad.tolist() == [3.0, -3.0]
    with pytest.raises(
        engine.BackwardError, match=r"^backward: the root has shape \(2,\) \(not a scalar\)"
    ):
        (z * 3.0).backward()


# ----------------------------------------------------------------------------------------------
# every rule on the create_graph path: the first gradient made of nodes equals the plain one,
# and it differentiates right (second order against central differences)

_IDX = np.array([0, 2, 0])
SECOND_ORDER = {
    "add": (lambda x, y: ((x + y) ** 2).sum(), (2, 3), (3,)),
    "sub": (lambda x, y: ((x - y) ** 2).sum(), (2, 3), (2, 1)),
    "mul": (lambda x, y: (x * y * x).sum(), (2, 3), (3,)),
    "div": (lambda x, y: (x / (y * y + 1.0)).sum(), (2, 3), (3,)),
    "pow": (lambda x: ((x * x + 0.5) ** 1.5).sum(), (2, 3)),
    "rpow": (lambda x: (2.0 ** (x * x)).sum(), (2, 3)),
    "pow_var": (lambda x, y: ((x * x + 0.5) ** (y * 0.5)).sum(), (2, 3), (3,)),
    "maximum": (lambda x, y: (ops.maximum(x, y) ** 2).sum(), (2, 3), (2, 3)),
    "neg": (lambda x: ((-x) ** 3).sum(), (2, 3)),
    "abs": (lambda x: (abs(x) ** 3).sum(), (2, 3)),
    "exp": (lambda x: x.exp().sum(), (2, 3)),
    "log": (lambda x: (x * x + 0.5).log().sum(), (2, 3)),
    "sqrt": (lambda x: (x * x + 0.5).sqrt().sum(), (2, 3)),
    "tanh": (lambda x: x.tanh().sum(), (2, 3)),
    "sigmoid": (lambda x: x.sigmoid().sum(), (2, 3)),
    "relu": (lambda x: (x.relu() ** 2).sum(), (2, 3)),
    "clip": (lambda x: (x.clip(-0.5, 0.5) ** 2).sum(), (2, 3)),
    "sum": (
        lambda x: (x.sum(axis=1) ** 2).sum() + (x.sum(axis=0, keepdims=True) ** 3).sum(),
        (2, 3),
    ),
    "mean": (lambda x: (x.mean(axis=-1) ** 2).sum() + x.mean() ** 2, (2, 3)),
    "max": (
        lambda x: (x.max(axis=1) ** 2).sum() + (x.max(axis=0, keepdims=True) ** 2).sum(),
        (2, 3),
    ),
    "min": (lambda x: (x.min(axis=0) ** 2).sum() + x.min() ** 2, (2, 3)),
    "broadcast_to": (lambda x: (x.broadcast_to((4, 2, 3)) ** 2).sum(), (2, 1)),
    "reshape": (lambda x: (x.reshape((3, 2)) ** 2 * np.arange(6.0).reshape(3, 2)).sum(), (2, 3)),
    "transpose": (
        lambda x: (x.transpose((2, 0, 1)) ** 2 * np.arange(24.0).reshape(4, 2, 3)).sum(),
        (2, 3, 4),
    ),
    "getitem": (lambda x: (x[_IDX] ** 2).sum() + (x[1:, ::2] ** 3).sum(), (3, 4)),
    "concatenate": (
        lambda x, y: (ops.concatenate(x, y * y, axis=1) ** 2 * np.arange(10.0).reshape(2, 5)).sum(),
        (2, 3),
        (2, 2),
    ),
    "stack": (
        lambda x, y: (ops.stack(x, y, axis=1) ** 2 * np.arange(12.0).reshape(2, 2, 3)).sum(),
        (2, 3),
        (2, 3),
    ),
    "matmul": (lambda a, b: ((a @ b) ** 2).sum(), (2, 3), (3, 4)),
    "matmul_vm": (lambda a, b: ((a @ b) ** 2).sum(), (3,), (3, 4)),
    "matmul_mv": (lambda a, b: ((a @ b) ** 2).sum(), (2, 3), (3,)),
    "matmul_vv": (lambda a, b: (a @ b) ** 2, (3,), (3,)),
    "matmul_batched": (lambda a, b: ((a @ b) ** 2).sum(), (2, 2, 3), (3, 2)),
    "softmax": (lambda x: (x.softmax(axis=0) ** 2 * np.arange(6.0).reshape(2, 3)).sum(), (2, 3)),
    "log_softmax": (lambda x: (x.log_softmax() ** 2).sum(), (2, 3)),
    "embedding": (lambda w: (embedding(w, [[0, 2], [2, 2]]) ** 2).sum(), (3, 2)),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_order_of_every_rule(name):
    f, *shapes = SECOND_ORDER[name]
    _second_order_agrees(f, *shapes, seed=len(name))


def test_messages_of_the_node_protocol_and_of_a_custom_vjp_of_the_wrong_form():
    # plain attribute errors (no __getattr__: it would slow every attribute read on a node)
    with pytest.raises(AttributeError, match=r"^'Value' object has no attribute 'nonexistent'$"):
        Value(1.0).nonexistent  # noqa: B018
    with pytest.raises(AttributeError, match=r"^'Tensor' object has no attribute 'nonexistent'$"):
        Tensor([1.0]).nonexistent  # noqa: B018
    v = Value(1.0) * 2.0
    assert v.requires_grad is True and (v.label, v.attrs, v.scope, v.where) == ("", {}, None, None)
    assert (Tensor([1.0], requires_grad=True) * 2.0).requires_grad is True
    assert Tensor([1.0]).requires_grad is False and Value(1.0).label == ""
    two = Op("two", lambda a, b: a + b, lambda g, out, a, b: (g,))
    msg = r"^two: its vjp must return a tuple with one gradient per input \(2\), got 1 gradients$"
    with pytest.raises(engine.BackwardError, match=msg):
        two(Value(1.0), Value(2.0)).backward()
    with pytest.raises(engine.BackwardError, match=msg):
        two(Tensor([1.0], requires_grad=True), Tensor([2.0])).backward(grad=np.ones(1))
    with pytest.raises(engine.BackwardError, match=msg):
        engine.gradients(two(Value(1.0), Value(2.0)), [Value(1.0)])
    bare = Op("bare", lambda a: a, lambda g, out, a: g)
    msg = r"^bare: its vjp must return a tuple with one gradient per input \(1\), got "
    with pytest.raises(engine.BackwardError, match=msg + "ndarray$"):
        bare(Tensor([1.0], requires_grad=True)).backward(grad=np.ones(1))
    with pytest.raises(engine.BackwardError, match=msg + "float$"):
        bare(Value(1.0)).backward()
    listed = Op("listed", lambda a: a, lambda g, out, a: [g * 2.0])  # a list is accepted
    t = Tensor([1.0], requires_grad=True)
    listed(t).backward(grad=np.ones(1))
    assert t.grad.tolist() == [2.0]


# ----------------------------------------------------------------------------------------------
# the Tensor fast path (_backward_arrays): ops of more than two inputs, custom ops, owned grads


def test_fast_tensor_backward_gives_each_input_of_a_three_way_concatenate_its_own_slice():
    from autograd import concatenate

    a, b, c = (Tensor(np.full(k, float(k)), requires_grad=True) for k in (1, 2, 3))
    weights = Tensor(np.arange(1.0, 7.0))
    (concatenate([a, b, c]) * weights).sum().backward()  # no hooks, no anomaly: the fast path
    np.testing.assert_array_equal(a.grad, [1.0])
    np.testing.assert_array_equal(b.grad, [2.0, 3.0])
    np.testing.assert_array_equal(c.grad, [4.0, 5.0, 6.0])


def test_fast_tensor_backward_checks_a_custom_ops_vjp_result():
    bad = Op("bad_pair", lambda a, b: a + b, lambda g, out, a, b: (g,), arity=2)
    x, y = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(
        engine.BackwardError,
        match=r"bad_pair: its vjp must return a tuple with one gradient per input \(2\), got 1 ",
    ):
        bad(x, y).sum().backward()


def test_fast_tensor_backward_gives_leaves_gradients_they_own():
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    (a + b).backward(np.array([1.0, 1.0]))  # add's vjp hands the same array to both inputs
    assert a.grad is not b.grad and not np.shares_memory(a.grad, b.grad)
    a.grad += 1.0
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    c = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    c.broadcast_to((2, 3)).sum().backward()
    assert c.grad.flags.writeable
    c.grad += 1.0
    np.testing.assert_array_equal(c.grad, [3.0, 3.0, 3.0])


# ----------------------------------------------------------------------------------------------
# the Tensor fast path: custom ops of two and of any number of inputs, partial vjps, constants


def _add2(a, b):
    return a + b


def _sum3(*xs):
    return xs[0] + xs[1] + xs[2]


def test_fast_tensor_backward_names_the_input_a_custom_vjp_got_wrong():
    x, y, z = (Tensor([1.0, 2.0], requires_grad=True) for _ in range(3))
    five = np.ones(5, np.float32)
    cases = [
        (Op("bad0", _add2, lambda g, out, a, b: (five, g)), (x, y), "bad0", 0),
        (Op("bad1", _add2, lambda g, out, a, b: (g, five)), (x, y), "bad1", 1),
        (Op("bad2", _sum3, lambda g, out, *xs: (g, g, five), arity=-1), (x, y, z), "bad2", 2),
        (Op("nb0", lambda a: a * 2, lambda g, out, a: (five,)), (x,), "nb0", 0),
    ]
    for bad, args, name, i in cases:
        with pytest.raises(engine.BackwardError) as err:
            bad(*args).sum().backward()
        assert str(err.value) == (
            f"{name}: its vjp returned a gradient of shape (5,) for input {i}, which has shape (2,)"
        )


def test_fast_tensor_backward_counts_a_custom_vjps_gradients():
    x, y, z = (Tensor([1.0, 2.0], requires_grad=True) for _ in range(3))
    one = Op("one", _add2, lambda g, out, a, b: (g,))
    two = Op("two", _sum3, lambda g, out, *xs: (g, g), arity=-1)
    want = "{}: its vjp must return a tuple with one gradient per input ({}), got {} gradients"
    with pytest.raises(engine.BackwardError) as err:
        one(x, y).sum().backward()
    assert str(err.value) == want.format("one", 2, 1)
    with pytest.raises(engine.BackwardError) as err:
        two(x, y, z).sum().backward()
    assert str(err.value) == want.format("two", 3, 2)


def test_partial_custom_vjps_are_told_which_inputs_need_a_gradient():
    seen = []

    def vjp(g, out, *xs, scale=1.0, needs=None):
        seen.append((needs, scale))
        return tuple(g * scale if need else None for need in needs)

    def forward(*xs, scale=1.0):
        return sum(xs) * scale

    many = Op("many", forward, vjp, arity=-1, partial=True)
    pair = Op("pair", lambda a, b, scale=1.0: (a + b) * scale, vjp, arity=2, partial=True)
    w = Tensor([1.0, 2.0], requires_grad=True)
    h = Tensor([3.0, 4.0], requires_grad=True) * 1.0  # an intermediate
    c = Tensor([5.0, 6.0])  # a leaf that needs no gradient
    many(w, np.ones(2, np.float32), c, h).sum().backward()
    many(w, np.ones(2, np.float32), c, h, scale=3.0).sum().backward()
    pair(c, h).sum().backward()
    pair(w, c, scale=2.0).sum().backward()
    assert seen == [
        ((True, False, False, True), 1.0),
        ((True, False, False, True), 3.0),
        ((False, True), 1.0),
        ((True, False), 2.0),
    ]
    np.testing.assert_array_equal(w.grad, [6.0, 6.0])  # 1 + 3 + 2


def test_a_gradient_flows_through_an_intermediate_whose_requires_grad_was_turned_off():
    # requires_grad is a leaf's setting: an op's result takes part because of its op
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    W = Tensor([[1.0], [3.0]])
    h = x * 2.0
    h.requires_grad = False
    (h @ W).sum().backward()
    np.testing.assert_array_equal(x.grad, [[2.0, 6.0]])
    x.grad = None
    h2 = x * 2.0
    h2.requires_grad = False
    (W.T @ h2.T).sum().backward()
    np.testing.assert_array_equal(x.grad, [[2.0, 6.0]])


def test_fast_tensor_backward_runs_the_rules_on_arrays_and_makes_no_node(monkeypatch):
    from autograd import tensor

    x = Tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    W = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = (x @ W) * x / (W + 5.0)
    y = concatenate([y.maximum(x), np.ones((2, 2), np.float32), x * x], axis=0)
    y = stack([y, y * 2.0]).sum()
    made = []
    real = tensor._node
    monkeypatch.setattr(tensor, "_node", lambda *a: made.append(a[0].name) or real(*a))
    y.backward()
    assert made == [] and x.grad.shape == (2, 2) and W.grad.shape == (2, 2)


def test_a_leaf_never_shares_the_gradient_array_its_consumer_was_given():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = Tensor([3.0, 4.0], requires_grad=True)
    z = x + y  # add hands its gradient on as it is
    z.backward(grad=np.array([1.0, 1.0], np.float32))
    assert not np.shares_memory(x.grad, z.grad) and not np.shares_memory(y.grad, z.grad)
    assert not np.shares_memory(x.grad, y.grad)
    u = x - y
    u.backward(grad=np.array([1.0, 1.0], np.float32))
    assert not np.shares_memory(x.grad, u.grad)


# ----------------------------------------------------------------------------------------------
# the scalar loop's code generator


def test_accumulate_reads_only_what_the_forms_use_and_keeps_raising_forms_for_last():
    lines = engine._accumulate(("g", "g / b"), "out", ("a", "b"), (0, 1), "")
    # "g / b" might raise (ZeroDivisionError): it is computed before either gradient is added,
    # so the IEEE redo never adds a gradient twice; "g" cannot raise and is added directly
    assert lines == [
        "b = p1._data",
        "t1 = g / b",
        "if p0._op is not None or p0.requires_grad:",
        "    p0.grad += g",
        "if p1._op is not None or p1.requires_grad:",
        "    p1.grad += t1",
    ]
    one = engine._accumulate(("g / b", None), "out", ("a", "b"), (0,), "  ")
    assert one == [
        "  b = p1",
        "  if p0._op is not None or p0.requires_grad:",
        "      p0.grad += g / b",
    ]
    uses_out = engine._accumulate(("g * out", "g * a"), "out", ("a", "b"), (0, 1), "")
    assert uses_out[:2] == ["out = n._data", "a = p0._data"] and "t0" not in "".join(uses_out)


def test_a_custom_vjp_of_many_inputs_gets_arrays_and_its_leaves_own_their_gradients():
    def vjp(g, out, *xs):
        return tuple(g * np.cos(x) * 0 + g for x in xs)  # np.cos needs an array, not a node

    three = Op("three", _sum3, vjp, arity=-1)
    x, y, z = (Tensor([1.0, 2.0], requires_grad=True) for _ in range(3))
    three(x, y, z).backward(grad=np.array([1.0, 1.0], np.float32))
    np.testing.assert_array_equal(z.grad, [1.0, 1.0])
    same = Op("same", _sum3, lambda g, out, *xs: (g, g, g), arity=-1)  # g itself, three times
    x, y, z = (Tensor([1.0, 2.0], requires_grad=True) for _ in range(3))
    root = same(x, y, z)
    root.backward(grad=np.array([1.0, 1.0], np.float32))
    for a, b in ((x, y), (y, z), (x, z), (x, root), (z, root)):
        assert not np.shares_memory(a.grad, b.grad)


def test_a_gradient_takes_the_dtype_of_its_input_and_a_0d_one_stays_an_array():
    x = Tensor([1.0, 2.0], requires_grad=True)  # float32
    y = Tensor(np.array([3.0, 4.0]), requires_grad=True)  # float64
    (x * y).sum().backward()  # the product is float64, so are the gradients the rule gives
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])
    s = Tensor(2.0, requires_grad=True)
    (s * 3.0).backward()  # 0-d times a number: numpy gives a scalar, the leaf keeps an array
    assert type(s.grad) is np.ndarray and s.grad.shape == () and s.grad == 3.0


# ----------------------------------------------------------------------------------------------
# custom ops inside a scalar graph (the generated loop hands them to _float_node)


def test_fast_scalar_backward_names_the_input_a_custom_vjp_got_wrong():
    def refused(op_, *args):
        with pytest.raises(engine.BackwardError) as err:
            (op_(*args) * 1.0).backward()  # a float graph: the fast scalar loop runs it
        return str(err.value)

    want = "{}: its vjp returned {} for input {} of a Value; expected a float"
    cube = Op("cube", lambda x: x**3, lambda g, out, x: ("oops",))
    node = Op("cube", lambda x: x**3, lambda g, out, x: (Value(2.0),))
    first = Op("mul2", _mul2, lambda g, out, a, b: ("x", 1.0))
    second = Op("mul2", _mul2, lambda g, out, a, b: (1.0, "y"))
    one = Op("mul2", _mul2, lambda g, out, a, b: (1.0,))
    assert refused(cube, Value(2.0)) == want.format("cube", "str 'oops'", 0)
    assert refused(node, Value(2.0)) == want.format("cube", "Value Value(data=2, grad=0)", 0)
    assert refused(first, Value(2.0), Value(3.0)) == want.format("mul2", "str 'x'", 0)
    assert refused(second, Value(2.0), Value(3.0)) == want.format("mul2", "str 'y'", 1)
    assert refused(first, Value(2.0), 3.0) == want.format("mul2", "str 'x'", 0)
    assert refused(second, 2.0, Value(3.0)) == want.format("mul2", "str 'y'", 1)
    node1 = Op("mul2", _mul2, lambda g, out, a, b: (1.0, Value(2.0)))
    assert refused(node1, Value(2.0), Value(3.0)) == want.format(
        "mul2", "Value Value(data=2, grad=0)", 1
    )
    assert refused(one, Value(2.0), Value(3.0)) == (
        "mul2: its vjp must return a tuple with one gradient per input (2), got 1 gradients"
    )


def _mul2(a, b):
    return a * b


def test_a_custom_op_in_a_scalar_graph_adds_to_gradients_from_elsewhere():
    mul2 = Op("mul2", _mul2, lambda g, out, a, b: (g * b, g * a))
    cube = Op("cube", lambda x: x**3, lambda g, out, x: (3.0 * g * x * x,))
    x, y = Value(2.0), Value(3.0)
    (mul2(x, y) + x + y).backward()  # x and y also get 1 each from the add
    assert (x.grad, y.grad) == (4.0, 3.0)
    x = Value(2.0)
    mul2(x, x).backward()  # both inputs are x: 3 + 3... d(x*x)/dx = 2x
    assert x.grad == 4.0
    x = Value(2.0)
    (cube(x) + x).backward()
    assert x.grad == 13.0
    x = Value(2.0)
    h = x * 1.0
    h.requires_grad = False  # a leaf's setting: an op's result takes part because of its op
    (cube(h) + mul2(h, 3.0) + mul2(3.0, h)).backward()
    assert x.grad == 18.0


def test_float_form_branch_renames_the_gradient_and_passes_on_an_input_without_a_form():
    twice = Op("twice", lambda x: 2 * x, lambda grad, out, x: (2 * grad,), doc="2x")
    twice.floats = ("2 * grad",)
    assert engine._float_form_branch(3, twice) == [
        "elif op is OP3:  # twice: 2x",
        "    grad = g",  # the vjp calls its upstream gradient `grad`; the loop calls it `g`
        "    p0 = n._a",
        "    if p0._op is not None or p0.requires_grad:",
        "        p0.grad += 2 * grad",
    ]
    same = Op("same", lambda x: x, lambda g, out, x: (g,), doc="x")
    same.floats = ("g",)
    assert engine._float_form_branch(0, same)[:2] == ["elif op is OP0:  # same: x", "    p0 = n._a"]
    skip = Op("skip", lambda x: x, lambda g, out, x: (None,), doc="no gradient")
    skip.floats = (None,)
    assert engine._float_form_branch(1, skip) == [
        "elif op is OP1:  # skip: no gradient",
        "    pass",
    ]


def test_a_rule_with_a_float_form_outside_the_common_list_gets_its_own_branch(monkeypatch):
    def vjp(g, out, x):
        raise AssertionError("the general path ran")

    half = Op("half", lambda x: x / 2, vjp)
    half.floats = ("g * 0.5",)
    monkeypatch.setitem(ops.RULES, "half", half)
    backward = engine._make_backward_floats()  # what the first backward() compiles
    x = Value(3.0)
    backward(half(x) * 1.0)
    assert x.grad == 0.5


def test_partial_custom_vjps_in_a_scalar_graph_are_told_which_inputs_need_a_gradient():
    seen = []

    def vjp(g, out, a, b, needs=None):
        seen.append(needs)
        return (g * b if needs[0] else None, g * a if needs[1] else None)

    def square_vjp(g, out, a, needs=None):
        seen.append(needs)
        return (2.0 * a * g if needs[0] else None,)

    pmul = Op("pmul", _mul2, vjp, partial=True)
    square = Op("square", lambda a: a * a, square_vjp, partial=True)
    x, c = Value(2.0), Value(3.0, requires_grad=False)
    (pmul(x, c) * 1.0).backward()
    (pmul(4.0, x) * 1.0).backward()
    (square(x) * 1.0 + square(c)).backward()
    assert seen == [(True, False), (False, True), (False,), (True,)]
    assert (x.grad, c.grad) == (3.0 + 4.0 + 4.0, 0.0)
