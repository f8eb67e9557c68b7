"""The engine, read as documentation: hand-computed cases, the backward policy, hooks, no_grad,
higher-order gradients, custom ops, backward_steps, anomaly detection, and memory behaviour."""

import gc
import math
import sys
import weakref

import numpy as np
import pytest

from autograd import (
    AnomalyError,
    BackwardError,
    GradcheckError,
    Op,
    Tensor,
    Value,
    backward_steps,
    detect_anomaly,
    grad,
    gradcheck,
    gradients,
    no_grad,
    op,
)

# ----------------------------------------------------------------------------------------------
# hand-computed cases


def test_product_rule_by_hand():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    e = a * b + a**2  # de/da = b + 2a = 1, de/db = a = 2
    e.backward()
    assert (e.data, a.grad, b.grad) == (-2.0, 1.0, 2.0)


def test_tanh_chain_rule_by_hand():
    x = Value(0.5)
    y = (2 * x).tanh()  # dy/dx = 2 * (1 - tanh(1)^2)
    y.backward()
    assert x.grad == pytest.approx(2 * (1 - math.tanh(1.0) ** 2))


def test_micrograd_readme_expression():
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert f"{g.data:.4f}" == "24.7041"
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


def test_tensor_matmul_by_hand():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (x @ x).sum().backward()
    # d/dx sum(x @ x) = ones @ x.T + x.T @ ones
    ones = np.ones((2, 2))
    np.testing.assert_allclose(x.grad, ones @ x.data.T + x.data.T @ ones)
    assert x.grad.dtype == np.float32 and x.grad.shape == (2, 2)


def test_a_bias_is_summed_back_by_its_op_with_no_broadcast_node():
    w = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    b = Tensor([10.0, 20.0, 30.0], requires_grad=True, label="b")
    y = w + b
    assert y.parents[0] is w and y.parents[1] is b  # numpy repeats b in the forward: no node
    y.backward(grad=np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    np.testing.assert_allclose(b.grad, [5.0, 7.0, 9.0])  # summed over the broadcast rows
    assert b.grad.shape == (3,) and b.grad.dtype == np.float32
    np.testing.assert_allclose(w.grad, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


@pytest.mark.parametrize("route", ["fast", "general", "create_graph"])
def test_a_broadcast_operand_is_summed_on_every_backward_route(route):
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    c = Tensor([[2.0], [3.0]], requires_grad=True)  # (2, 1): repeated along axis 1
    y = (x * c * c - c).sum()  # d/dc = sum_j (2 x c - 1)
    want = [[2 * 3 * 2.0 - 3], [2 * 12 * 3.0 - 3]]
    if route == "fast":
        y.backward()
        got = c.grad
    elif route == "general":
        y.register_hook(lambda g: g)  # a hook sends the pass through the general driver
        y.backward()
        got = c.grad
    else:
        (gc,) = gradients(y, [c], create_graph=True)
        got = gc.data
        (ggc,) = gradients(gc.sum(), [c])  # d/dc of sum_j (2 x c - 1) = sum_j 2 x
        np.testing.assert_allclose(ggc, [[2 * 3.0], [2 * 12.0]])
    np.testing.assert_allclose(got, want)
    assert np.shape(got) == (2, 1)


def test_two_repeated_operands_and_custom_ops_keep_broadcast_nodes():
    a = Tensor([[1.0], [2.0]], requires_grad=True)  # (2, 1)
    b = Tensor([10.0, 20.0, 30.0], requires_grad=True)  # (3,)
    y = a + b  # neither has the result's shape (2, 3): both get a broadcast_to node
    assert [p.op for p in y.parents] == ["broadcast_to", "broadcast_to"]
    y.backward(grad=np.ones((2, 3)))
    np.testing.assert_allclose(a.grad, [[3.0], [3.0]])
    np.testing.assert_allclose(b.grad, [2.0, 2.0, 2.0])

    plus = Op("plus", np.add, lambda g, out, p, q: (g, g), arity=2, elementwise=True)
    w = Tensor(np.ones((2, 3)), requires_grad=True)
    z = plus(w, b)  # a custom vjp may assume equal shapes: it gets a broadcast_to node
    assert [p.op for p in z.parents] == ["", "broadcast_to"]
    z.backward(grad=np.ones((2, 3)))
    np.testing.assert_allclose(b.grad, [4.0, 4.0, 4.0])


@pytest.mark.parametrize("route", ["fast", "general"])
def test_a_custom_elementwise_vjp_of_a_larger_shape_is_an_error_not_a_sum(route):
    # only the table's own rules get a repeated operand summed back: a custom op's operands
    # are broadcast by broadcast_to nodes, so a larger gradient from its vjp is its bug
    twice = Op("twice", lambda x: 2 * x, lambda g, out, x: (np.stack([g, g]),), elementwise=True)
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = twice(x)
    if route == "general":
        y.register_hook(lambda g: g)
    with pytest.raises(
        BackwardError, match=r"twice: its vjp returned a gradient of shape \(2, 3\)"
    ):
        y.backward(grad=np.ones(3))


def test_a_builtin_vjp_of_the_wrong_shape_is_an_error_not_a_sum():
    from autograd import ops

    x = Tensor(np.ones((2, 3)), requires_grad=True)
    y = x.exp()
    real = ops.exp.vjp
    try:
        ops.exp.vjp = lambda g, out, x: (g.sum(axis=0),)  # a bug in a non-broadcasting rule
        with pytest.raises(BackwardError, match=r"exp: its vjp returned a gradient of shape"):
            y.backward(grad=np.ones((2, 3)))
    finally:
        ops.exp.vjp = real


def test_default_dtype_is_float32_and_dtype_is_accepted():
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor([1.0, 2.0], dtype=np.float64).dtype == np.float64
    assert Tensor(np.zeros(3)).dtype == np.float64  # an ndarray keeps its float dtype


# ----------------------------------------------------------------------------------------------
# the node protocol and the backward policy


def test_node_protocol():
    a = Value(2.0, label="a")
    b = a * 3.0
    assert (a.op, a.is_leaf, a.parents, a.requires_grad) == ("", True, (), True)
    assert (b.op, b.is_leaf, b.parents, b.requires_grad) == ("mul", False, (a,), True)
    assert b.operands == (a, 3.0)  # constants stay plain numbers
    assert b.label == "" and b.grad == 0.0
    t = Tensor([1.0, 2.0])
    assert t.grad is None and t.requires_grad is False


def test_parents_are_ordered():
    a, b = Value(1.0), Value(2.0)
    assert (a - b).parents == (a, b)
    assert (b - a).parents == (b, a)


def test_equality_is_identity_and_values_are_hashable():
    a, b = Value(1.0), Value(1.0)
    assert a != b and len({a, b}) == 2
    assert a < Value(2.0) and a >= 1.0


def test_node_used_twice():
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0


def test_node_used_twice_in_a_chain():
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert (a.grad, b.grad, c.grad) == (4.0, 2.0, 1.0)


def test_leaf_grads_accumulate_and_intermediates_are_recomputed():
    a = Value(3.0)
    b = a * a
    b.backward()
    b.backward()
    assert a.grad == 12.0  # leaves accumulate across calls, as in PyTorch
    assert b.grad == 1.0  # an intermediate shows one pass
    a.zero_grad()
    b.backward()
    assert a.grad == 6.0


def test_intermediate_grads_stay_readable_after_backward():
    x = Tensor([1.0, -2.0], requires_grad=True)
    h = x * 3.0
    y = h.relu().sum()
    y.backward()
    np.testing.assert_allclose(h.grad, [1.0, 0.0])
    np.testing.assert_allclose(x.grad, [3.0, 0.0])


def test_leaf_grads_are_not_shared_arrays():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad *= 0  # an in-place change to one leaf's grad must not touch another's
    np.testing.assert_allclose(b.grad, [1.0, 1.0])


def test_requires_grad_false_leaf_gets_no_grad():
    x = Value(2.0, requires_grad=False)
    w = Value(3.0)
    (w * x).backward()
    assert (w.grad, x.grad) == (2.0, 0.0)
    t = Tensor([1.0, 2.0])
    v = Tensor([1.0, 1.0], requires_grad=True)
    (t * v).sum().backward()
    assert t.grad is None


def test_tensor_ops_without_grad_inputs_build_no_graph():
    t = Tensor([1.0, 2.0]) * 2
    assert t.is_leaf and not t.requires_grad


def test_backward_on_non_scalar_needs_grad():
    x = Tensor([[1.0, 2.0]], requires_grad=True)
    with pytest.raises(BackwardError, match=r"shape \(1, 2\).*backward\(grad=\.\.\.\)"):
        (x * 2).backward()
    (x * 2).backward(grad=np.array([[1.0, -1.0]]))
    np.testing.assert_allclose(x.grad, [[2.0, -2.0]])


def test_backward_grad_of_wrong_shape_is_refused():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(BackwardError, match=r"grad has shape \(3,\) but the root has shape"):
        (x * 2).backward(grad=np.ones(3))


def test_a_million_node_chain_at_the_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10_000
    x = Value(0.5)
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    y.backward()
    assert x.grad == 1.0
    del y  # freeing a long chain must not overflow the C stack either


# ----------------------------------------------------------------------------------------------
# memory: no reference cycle per node


def _graph_is_freed_without_gc(build):
    gc.collect()
    gc.disable()
    try:
        root, inner = build()
        root.backward()
        refs = [weakref.ref(root), weakref.ref(inner)]
        del root, inner
        return all(r() is None for r in refs)
    finally:
        gc.enable()


def test_value_graph_is_freed_without_the_garbage_collector():
    def build():
        a = Value(1.5)
        inner = a * a + 2.0
        return inner.tanh() * a, inner

    assert _graph_is_freed_without_gc(build)


def test_tensor_graph_is_freed_without_the_garbage_collector():
    def build():
        w = Tensor(np.ones((3, 2)), requires_grad=True)
        x = Tensor(np.ones((4, 3)))
        inner = (x @ w + Tensor([1.0, 2.0], requires_grad=True)).relu()
        return inner.log_softmax().mean(), inner

    assert _graph_is_freed_without_gc(build)


def test_graph_is_freed_after_backward_steps():
    gc.collect()
    gc.disable()
    try:
        a = Value(2.0)
        y = (a * a).exp()
        list(backward_steps(y))
        ref = weakref.ref(y)
        del y
        assert ref() is None
    finally:
        gc.enable()


# ----------------------------------------------------------------------------------------------
# hooks and no_grad


def test_hook_sees_the_gradient():
    a = Value(2.0)
    b = a * 3.0
    seen = []
    b.register_hook(seen.append)
    (b * b).backward()
    assert seen == [12.0]


def test_hook_may_replace_the_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    h.register_hook(lambda g: g * 0)  # a breakpoint that also stops the gradient
    h.sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.0])


def test_hook_on_a_leaf_sees_this_pass_only_and_can_be_removed():
    a = Value(1.0)
    seen = []
    handle = a.register_hook(seen.append)
    (a * 5.0).backward()
    (a * 5.0).backward()
    handle.remove()
    (a * 5.0).backward()
    assert seen == [5.0, 5.0] and a.grad == 15.0


def test_no_grad_context_and_decorator():
    a = Value(2.0)
    with no_grad():
        b = a * a
    assert b.is_leaf and not b.requires_grad

    @no_grad()
    def f(x):
        return x * x

    assert f(a).is_leaf
    assert not (a * a).is_leaf  # back to normal afterwards


def test_backward_on_a_no_grad_result_says_why_it_cannot():
    with no_grad():
        b = Value(2.0) * 3
    with pytest.raises(BackwardError, match="does not require grad"):
        b.backward()


# ----------------------------------------------------------------------------------------------
# higher order


def test_grad_composes_to_any_order():
    f = lambda x: x**4  # noqa: E731
    assert grad(f)(2.0) == pytest.approx(32.0)
    assert grad(grad(f))(2.0) == pytest.approx(48.0)
    assert grad(grad(grad(f)))(2.0) == pytest.approx(48.0)
    assert grad(grad(grad(grad(f))))(2.0) == pytest.approx(24.0)


def test_grad_of_tanh_twice():
    x0 = 0.3
    t = math.tanh(x0)
    assert grad(grad(lambda x: x.tanh()))(x0) == pytest.approx(-2 * t * (1 - t * t))


def test_grad_does_not_touch_leaf_grads():
    w = Value(3.0)
    df = grad(lambda x: x * w)
    assert df(2.0) == 3.0
    assert w.grad == 0.0


def test_grad_of_constant_function_is_zero():
    assert grad(lambda x: Value(1.0, requires_grad=False))(2.0) == 0.0


def test_backward_create_graph_gives_differentiable_grads():
    x = Value(3.0)
    y = x**3
    y.backward(create_graph=True)
    g = x.grad  # dy/dx = 3x^2 as a node
    assert isinstance(g, Value) and g.data == 27.0
    x2 = Value(3.0)
    (grad(lambda x: x**3)(x2)).backward()
    assert x2.grad == 18.0


def test_hessian_vector_product_on_a_tensor():
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    v = np.array([1.0, -1.0])

    def f(x):  # f = x.T A x / 2 + sum(x^3): H = A + diag(6x)
        return (x * (x @ a)).sum() / 2 + (x**3).sum()

    x0 = np.array([0.5, -1.0])
    hvp = grad(lambda x: (grad(f)(x) * v).sum())(x0)
    np.testing.assert_allclose(hvp, (a + np.diag(6 * x0)) @ v)


# ----------------------------------------------------------------------------------------------
# gradcheck and custom ops


def test_gradcheck_passes_on_correct_rules():
    assert gradcheck(lambda x, y: (x * y).tanh().sum(), Tensor([0.1, 0.2]), Tensor([1.0, -1.0]))
    assert gradcheck(lambda a: (a * a).exp(), Value(0.3))


def test_custom_op_works_on_both_front_ends_and_shows_its_name():
    cube = Op("cube", lambda x: x**3, lambda g, out, x: (3 * g * x * x,))
    y = cube(Value(2.0))
    y.backward()
    assert (y.op, y.data, y.parents[0].grad) == ("cube", 8.0, 12.0)
    x = Tensor([1.0, 2.0], requires_grad=True)
    t = cube(x)
    t.sum().backward()
    assert t.op == "cube"
    np.testing.assert_allclose(x.grad, [3.0, 12.0])
    assert gradcheck(lambda x: cube(x), Tensor([0.5, -1.5]))
    assert grad(grad(lambda x: cube(x)))(2.0) == pytest.approx(12.0)


def test_gradcheck_names_the_custom_op_with_a_wrong_vjp():
    @op("bad_square")
    def bad_square(x):
        return x * x

    @bad_square.defvjp
    def bad_square_vjp(g, out, x):
        return (g * x,)  # wrong: should be 2 * x * g

    with pytest.raises(GradcheckError) as err:
        gradcheck(lambda x: (bad_square(x) + 1.0).tanh(), Tensor([0.3, -0.4]))
    msg = str(err.value)
    assert "'bad_square'" in msg and "expected" in msg and "got" in msg
    assert "input 0" in msg


def test_custom_op_without_vjp_says_so():
    @op
    def twice(x):
        return 2 * x

    with pytest.raises(TypeError, match="no vjp yet.*defvjp"):
        twice(Value(1.0))


def test_custom_op_vjp_of_wrong_shape_is_named():
    wrong = Op("wrong", lambda x: x * 2, lambda g, out, x: (g.sum(),))
    with pytest.raises(BackwardError, match=r"wrong: its vjp returned a gradient of shape \(\)"):
        wrong(Tensor([1.0, 2.0], requires_grad=True)).sum().backward()


# ----------------------------------------------------------------------------------------------
# backward_steps


def test_backward_steps_give_the_chain_rule_per_node():
    a, b = Value(2.0, label="a"), Value(0.5, label="b")
    c = a * b
    c.label = "c"
    steps = list(backward_steps(c))
    assert [s.node.label for s in steps][0] == "c"
    first = steps[0]
    assert first.grad == 1.0
    assert [(p.label, local, contrib) for p, local, contrib in first.contributions] == [
        ("a", 0.5, 0.5),
        ("b", 2.0, 2.0),
    ]


def test_backward_steps_leave_the_same_gradients_as_backward():
    def build():
        x = Tensor([[0.5, -1.0], [2.0, 0.1]], requires_grad=True)
        w = Tensor([[1.0, 2.0, 0.5], [-0.3, 0.2, 0.7]], requires_grad=True)
        b = Tensor([0.1, 0.2, 0.3], requires_grad=True)
        h = (x @ w + b).tanh()
        return (h * h).log_softmax().mean(), [x, w, b, h]

    y1, nodes1 = build()
    y1.backward()
    y2, nodes2 = build()
    steps = list(backward_steps(y2))
    assert len(steps) == len(set(s.node for s in steps))
    for n1, n2 in zip(nodes1, nodes2):
        np.testing.assert_allclose(n1.grad, n2.grad)


def test_each_contribution_is_local_times_upstream_for_scalars():
    x = Value(0.7)
    y = (x * x).tanh() + x.exp()
    for step in backward_steps(y):
        for _, local, contrib in step.contributions:
            assert contrib == pytest.approx(local * step.grad)


# ----------------------------------------------------------------------------------------------
# anomaly detection


def test_detect_anomaly_forward_names_op_and_line():
    x = Value(-1.0)
    with detect_anomaly():
        with pytest.raises(AnomalyError) as err:
            x.log()  # the line the error must point at
    msg = str(err.value)
    assert "log produced nan in the forward pass" in msg
    assert f"{__file__}:" in msg and "-1.0" in msg


def test_detect_anomaly_backward_names_op_and_where_it_was_created():
    with detect_anomaly():
        x = Value(0.0)
        y = x.sqrt()
        line = sys._getframe().f_lineno - 1
        with pytest.raises(AnomalyError) as err:
            y.backward()
    msg = str(err.value)
    assert "sqrt produced inf in the backward pass" in msg
    assert f"{__file__}:{line}" in msg


@pytest.mark.filterwarnings("ignore:invalid value encountered in log:RuntimeWarning")
def test_detect_anomaly_on_tensors_shows_stats():
    x = Tensor(np.linspace(-1, 1, 10), requires_grad=True)
    with detect_anomaly():
        with pytest.raises(AnomalyError, match=r"log produced nan.*array\(10,\).*min=-1"):
            x.log()


def test_without_detect_anomaly_nan_flows_like_ieee():
    y = Value(0.0).sqrt()
    y.backward()
    assert y.parents[0].grad == math.inf


# ----------------------------------------------------------------------------------------------
# clear errors for bad input


def test_shape_mismatch_names_op_and_both_shapes():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4,)))
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        a + b
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(2, 3\).*3 and 2 differ"):
        a @ a


def test_value_op_on_non_numeric_value():
    with pytest.raises(TypeError, match="mul: unsupported operand str 'a'"):
        Value(1.0) * "a"
    with pytest.raises(TypeError, match="Value: data must be a real number, got str"):
        Value("1.0")


def test_tensor_from_non_numeric_data():
    with pytest.raises(TypeError, match="Tensor: data must be numbers"):
        Tensor(["a", "b"])


def test_tensor_from_a_ragged_list():
    with pytest.raises(ValueError, match=r"Tensor: ragged nested list.*lengths 2 and 3"):
        Tensor([[1.0, 2.0], [3.0, 4.0, 5.0]])


def test_mixing_a_value_into_a_tensor_op():
    with pytest.raises(TypeError, match="add: cannot mix a Tensor with a Value"):
        Tensor([1.0]) + Value(1.0)
    with pytest.raises(TypeError, match="mul: cannot mix a Value with a Tensor"):
        Value(1.0) * Tensor([1.0])


def test_bad_axis_and_reshape_and_index_are_named():
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="sum: axis 2 is out of range for 2-d input"):
        t.sum(axis=2)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a Tensor of shape \(2, 3\)"):
        t.reshape(4, 2)
    with pytest.raises(IndexError, match=r"getitem: .*shape \(2, 3\)"):
        t[5]


def test_requires_grad_on_integer_data_is_refused():
    with pytest.raises(TypeError, match="requires_grad=True needs a floating dtype"):
        Tensor([1, 2], requires_grad=True, dtype=np.int64)


def test_mixed_partials_on_plain_numbers():
    f = lambda a, b: a * a * b  # noqa: E731
    assert grad(grad(f, 0), 1)(1.5, 2.0) == pytest.approx(3.0)  # d2f/dadb = 2a
    assert grad(grad(f, 0), 0)(1.5, 2.0) == pytest.approx(4.0)  # d2f/da2 = 2b


def test_custom_vjp_that_returns_a_bare_array_is_named():
    bare = Op("bare", lambda x: x * 2, lambda g, out, x: g * 2)  # forgot the tuple
    with pytest.raises(BackwardError, match=r"bare: its vjp must return a tuple.*got ndarray"):
        bare(Tensor([1.0, 2.0], requires_grad=True)).sum().backward()
    with pytest.raises(BackwardError, match=r"bare: its vjp must return a tuple.*got float"):
        bare(Value(1.0)).backward()


def test_backward_after_an_abandoned_backward_steps():
    a, b = Value(2.0), Value(3.0)
    c = a * b
    d = c + a
    e = d * d
    next(backward_steps(e))  # stop after the first step: intermediates hold partial state
    e.backward()
    assert a.grad == pytest.approx(2 * d.data * (b.data + 1))
    t = Tensor([1.0, 2.0], requires_grad=True)
    u = (t * t).sum()
    next(backward_steps(u))
    u.backward()
    np.testing.assert_allclose(t.grad, [2.0, 4.0])


def test_a_pass_left_early_or_failed_gives_the_leaves_back_their_gradients():
    a, b = Value(2.0), Value(3.0)
    a.grad, b.grad = 5.0, 7.0  # from an earlier pass
    e = (a * b + a) * (a * b + a)
    steps = backward_steps(e)
    for step in steps:
        if step.node is a:  # a's gradient of this pass is complete here; b's is not yet
            break
    steps.close()
    assert (a.grad, b.grad) == (5.0, 7.0)
    z = Value(0.0)
    z.grad = 1.5
    with detect_anomaly(), pytest.raises(AnomalyError):
        z.sqrt().backward()  # d sqrt(z)/dz is inf at 0
    assert z.grad == 1.5
    t = Tensor([1.0, 2.0], requires_grad=True)
    t.grad = np.array([1.0, 1.0], dtype=np.float32)
    for _ in backward_steps((t * t).sum()):
        break
    np.testing.assert_array_equal(t.grad, [1.0, 1.0])


def test_gradcheck_of_a_function_that_takes_gradients():
    assert gradcheck(grad(lambda x: (x**3).sum()), Tensor([1.0, 2.0]))
    assert gradcheck(grad(lambda x: x.tanh()), Value(0.4))


def test_gradcheck_error_shows_plain_indices():
    wrong = Op("wrong_scale", lambda x: x * 2, lambda g, out, x: (g * 3,))
    at = r"Overall: d\(output\[0, 0\]\)/d\(input 0\)\[0, 0\] expected"
    with pytest.raises(GradcheckError, match=at):
        gradcheck(wrong, Tensor([[1.0, 2.0]]))


def test_grad_leaves_no_nodes_in_intermediate_grads():
    gc.collect()
    gc.disable()
    try:
        x = Value(1.0)
        s = grad(lambda v: v.exp() - 2 * v)(x)
        assert s.data == pytest.approx(math.e - 2)
        from autograd import toposort

        nodes = toposort(s)
        assert all(not isinstance(n.grad, Value) for n in nodes if not n.is_leaf)
        ref = weakref.ref(s)
        del s, nodes
        assert ref() is None  # no reference cycle through a .grad
    finally:
        gc.enable()


def test_gradcheck_message_for_a_scalar_custom_op():
    sq = Op("sq", lambda x: x * x, lambda g, out, x: (g * x,))
    with pytest.raises(GradcheckError) as err:
        gradcheck(sq, Value(3.0))
    msg = str(err.value)
    assert "op 'sq': checked alone, its vjp gives" in msg and "[]" not in msg
    assert "element" not in msg and "Overall: d(output)/d(input 0) expected" in msg


def test_numpy_reads_a_tensor_as_its_data():
    t = Tensor([[1.0, 2.0]], requires_grad=True)
    assert np.asarray(t) is t.data
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert float(np.max(t.data)) == 2.0
    y = np.add(t, 1.0)  # the operators' ufuncs reach Tensor's own operators: a graph node
    assert isinstance(y, Tensor) and y.op == "add"
    with pytest.raises(TypeError, match="np.tanh .* call x.tanh"):
        np.tanh(t)  # numpy's math would lose the gradient (tests/test_trust_tensor.py has more)


def test_heap_pad_is_set_on_glibc_and_can_be_turned_off():
    import subprocess

    from autograd import engine

    if sys.platform == "linux":
        assert engine.keep_heap_pad() is True
    assert engine.keep_heap_pad(0) is False
    code = "import autograd, sys; sys.exit(0)"
    env = {"STEPGRAD_HEAP_PAD": "0", "PATH": "/usr/bin:/bin"}
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0


def test_gradients_of_0d_tensors_are_arrays():
    s = Tensor(2.0, requires_grad=True)
    v = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = (s * v).mean()
    loss = -m
    loss.backward()
    for node in (s, m, loss):
        assert (
            type(node.grad) is np.ndarray
            and node.grad.shape == ()
            and node.grad.dtype == np.float32
        )
    assert s.grad == pytest.approx(-2.0)


def test_a_bad_seed_or_hook_result_on_a_value_is_named():
    v = Value(2.0) * 3
    with pytest.raises(TypeError, match="backward: unsupported operand str 'x'"):
        v.backward(grad="x")
    handle = v.register_hook(lambda g: "bad")
    with pytest.raises(
        TypeError,
        match=r"the hook .*<lambda> registered on the Value made by mul returned str 'bad'",
    ):
        v.backward()
    handle.remove()


def test_gc_paused_pauses_the_collector_inside_and_restores_it():
    import gc

    from autograd import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        a = Value(2.0)
        y = a * a + a
        y.backward()
    assert gc.isenabled() and a.grad == 5.0
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()
    with pytest.raises(ValueError), gc_paused():
        raise ValueError("inside")
    assert gc.isenabled()  # back on after an exception too

    @gc_paused()
    def step():
        return gc.isenabled()

    assert step() is False and gc.isenabled()


def test_gradients_of_an_input_the_output_does_not_use_are_zero_not_its_old_grad():
    a, b = Value(1.0), Value(2.0)
    (b * 5.0).backward()  # b.grad is 5.0 from an earlier pass
    assert gradients(a * 3.0, [b, a]) == [0.0, 3.0]
    assert b.grad == 5.0  # and it is left as it was
    (gb,) = gradients(a * 3.0, [b], create_graph=True)
    assert isinstance(gb, Value) and gb.data == 0.0
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = Tensor([1.0, 2.0], requires_grad=True)
    (y * 2).sum().backward()
    (gy,) = gradients((x * 3).sum(), [y])
    assert gy.tolist() == [0.0, 0.0] and y.grad.tolist() == [2.0, 2.0]


def test_an_anomaly_in_backward_comes_without_numpy_warnings_before_it():
    import warnings

    t = Tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning would be raised instead
        with pytest.raises(AnomalyError, match="sqrt produced inf in the backward pass"):
            with detect_anomaly():
                t.sqrt().sum().backward()
