"""Issue 9, the Value/engine half: nothing cuts a graph or changes it behind backward's back.

Float conversions of graph nodes, `.data` changed between forward and backward, in-place
operators on parameters, and the messages of hooks, custom ops, `no_grad` and `detect_anomaly`.
"""

import math

import numpy as np
import pytest

from autograd import (
    AnomalyError,
    BackwardError,
    Op,
    Tensor,
    Value,
    backward_steps,
    detect_anomaly,
    gradients,
    no_grad,
)

# ----------------------------------------------------------------------------------------------
# 1. float(v), math.exp(v), round(v) ... on a node of a graph raise; constants and reading work


CONVERSIONS = {  # how it is called, what the message says was called, the advice
    "float": (lambda v: float(v), "float()", "v.exp()"),
    "math.exp": (lambda v: math.exp(v), "math.exp(v)", "use v.exp()"),
    "math.log": (lambda v: math.log(v), "math.log(v)", "use v.log()"),
    "math.sin": (lambda v: math.sin(v), "math.sin(v)", "custom op"),
    "np.float64": (lambda v: np.float64(v), "np.float64(v)", "v.exp()"),
    "round": (lambda v: round(v, 2), "round(v, 2)", "v.exp()"),
    "int": (lambda v: int(v), "int(v)", "v.exp()"),
}


@pytest.mark.parametrize("name", list(CONVERSIONS))
def test_float_conversions_of_a_graph_value_raise_naming_the_method(name):
    fn, called, hint = CONVERSIONS[name]
    v = Value(2.0)
    with pytest.raises(TypeError) as e:
        fn(v)
    msg = str(e.value)
    assert called in msg and "cut it out of the graph" in msg and "v.data" in msg
    assert hint in msg and "test_trust.py" in msg  # the user's line
    w = v * 3.0  # an intermediate too
    with pytest.raises(TypeError, match="made by mul"):
        fn(w)


def test_math_exp_times_v_no_longer_gives_a_silently_wrong_gradient():
    v = Value(1.5)
    with pytest.raises(TypeError, match=r"math\.exp\(v\).*use v\.exp\(\)"):
        math.exp(v) * v
    y = v.exp() * v  # the way that keeps the graph
    y.backward()
    assert v.grad == pytest.approx(math.exp(1.5) * 2.5)


def test_constants_convert_and_reading_a_graph_value_keeps_working():
    c = Value(2.5, requires_grad=False)
    assert float(c) == 2.5 and int(c) == 2 and round(c) == 2 and math.exp(c) == math.exp(2.5)
    v = Value(2.0, label="w")
    y = v * v
    assert f"{y:.3f}" == "4.000" and f"{v:>6.1f}" == "   2.0" and f"{v}" == repr(v)
    assert y > 3 and y <= 4.0 and y.item() == 4.0 and y.data == 4.0
    assert round(y.data, 1) == 4.0 and float(v.data) == 2.0


def test_tensor_float_guard():
    t = Tensor(3.0, requires_grad=True)
    with pytest.raises(TypeError, match=r"math\.exp\(t\).*Tensor t.*use t\.exp\(\)"):
        math.exp(t)
    with pytest.raises(TypeError, match="float"):
        float(t.sum() * 2)
    with pytest.raises(TypeError, match="made by mul"):
        int(t * 2)
    assert float(Tensor(2.0)) == 2.0 and float(Tensor([[4.0]])) == 4.0 and int(Tensor(7.0)) == 7
    with pytest.raises(TypeError, match=r"one-element Tensor.*\(2,\)"):
        float(Tensor([1.0, 2.0]))
    assert f"{t * 2:.2f}" == "6.00" and (t * 2).item() == 6.0


# ----------------------------------------------------------------------------------------------
# 2. .data changed between the forward pass and backward: refused, naming the node and the op;
#    an optimizer's writes after backward stay allowed


def _square_sum(kind):
    if kind == "Value":
        a = Value(2.0, label="a")
        return a, a * a
    a = Tensor([2.0, 3.0], requires_grad=True, label="a")
    return a, (a * a).sum()


BACKWARDS = {
    "backward": lambda y, a: y.backward(),
    "backward_steps": lambda y, a: list(backward_steps(y)),
    "gradients": lambda y, a: gradients(y, [a]),
    "create_graph": lambda y, a: y.backward(create_graph=True),
}


@pytest.mark.parametrize("how", list(BACKWARDS))
@pytest.mark.parametrize("kind", ["Value", "Tensor"])
def test_data_rebound_after_the_forward_pass_is_refused_by_every_backward(kind, how):
    a, y = _square_sum(kind)
    a.data = 10.0 if kind == "Value" else np.array([10.0, 10.0], dtype=np.float32)
    with pytest.raises(BackwardError) as err:
        BACKWARDS[how](y, a)
    msg = str(err.value)
    assert msg.startswith(f"backward: the data of {kind} 'a' (a leaf")
    assert "was changed after the forward pass; mul (input 0) used its old value" in msg
    assert "Run the forward pass again after changing .data" in msg
    assert (a.grad == 0.0) if kind == "Value" else a.grad is None  # nothing half-written


@pytest.mark.parametrize("kind", ["Value", "Tensor"])
def test_an_inplace_numpy_write_or_augmented_data_write_is_refused(kind):
    a, y = _square_sum(kind)
    a.data += 1  # the setter sees it (numpy's in-place += on a Tensor's array included)
    with pytest.raises(BackwardError, match="was changed after the forward pass"):
        y.backward()


def test_an_intermediate_written_after_the_forward_pass_is_refused():
    x = Tensor([0.5, 1.0], requires_grad=True)
    h = x.tanh()  # tanh's vjp reads its own output
    h.label = "h"
    y = (h * 2).sum()
    h.data = np.zeros(2, dtype=np.float32)
    with pytest.raises(BackwardError, match=r"of Tensor 'h' \(made by tanh, shape \(2,\)\)"):
        y.backward()
    root = Value(1.0).exp()
    root.data = 5.0
    with pytest.raises(BackwardError, match=r"its own op \(exp\) may need its old value"):
        root.backward()


def test_under_detect_anomaly_a_write_into_the_array_itself_is_refused():
    a = Tensor([2.0, 3.0], requires_grad=True, label="a")
    with detect_anomaly():
        y = (a * a).sum()
        a.data[0] = 10.0  # no setter runs: the anomaly mode's fingerprints see it
        with pytest.raises(BackwardError, match=r"Tensor 'a' .* mul \(input 0\) .*made at "):
            y.backward()
    b = Value(2.0, label="b")
    with detect_anomaly():
        z = b * b
        b.data = 3.0
        z2 = z + 1  # a node made after the write: only the fingerprints can tell
        with pytest.raises(BackwardError, match=r"Value 'b' \(a leaf\)"):
            z2.backward()


def test_under_detect_anomaly_the_same_numbers_written_in_place_pass():
    a = Tensor([2.0, -1.0], requires_grad=True)
    b = Value(1.5)
    with detect_anomaly():
        y = (a * a).sum()
        a.data[0] = 2.0  # written in place with the same number: the fingerprint agrees
        y.backward()
        z = b * b
        z.backward()
    assert a.grad.tolist() == [4.0, -2.0] and b.grad == 3.0
    c = Value(1.5)
    y = c * c
    c.data = 1.5  # through the setter any write counts, as torch's version counter
    with pytest.raises(BackwardError, match="was changed after the forward pass"):
        y.backward()


@pytest.mark.parametrize("kind", ["Value", "Tensor"])
def test_training_loops_that_write_data_after_backward_run_and_a_stale_graph_is_refused(kind):
    a, _ = _square_sum(kind)
    for _ in range(3):  # micrograd's loop: forward, backward, update, zero
        y = (a * a).sum() if kind == "Tensor" else a * a
        y.backward()
        a.data -= 0.25 * a.grad
        a.zero_grad()
    np.testing.assert_allclose(a.data, np.array(2.0 if kind == "Value" else [2.0, 3.0]) / 8)
    y = (a * a).sum() if kind == "Tensor" else a * a
    y.backward()
    a.data -= 0.25 * a.grad
    with pytest.raises(BackwardError, match="was changed after the forward pass"):
        y.backward()  # the same graph again after the update: stale


def test_writes_to_nodes_outside_the_graph_do_not_stop_backward():
    a, y = _square_sum("Tensor")
    other = Tensor([1.0], requires_grad=True)
    other.data = np.array([5.0], dtype=np.float32)
    y.backward()
    np.testing.assert_allclose(a.grad, [4.0, 6.0])


def test_an_nn_optimizer_step_then_forward_and_backward_runs():
    import nn

    model = nn.Sequential([nn.Dense(3, activation="tanh"), nn.Dense(1)])
    model.compile(optimizer=nn.optim.SGD(lr=0.1), loss="mse")
    x = np.random.default_rng(0).normal(size=(16, 2))
    hist = model.fit(x, x[:, :1] * 2, epochs=3, batch_size=4, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]


# ----------------------------------------------------------------------------------------------
# 3. in-place operators on a leaf that requires grad: refused with the fix, or in place under
#    no_grad(); on intermediates and constants they stay `x = x op y`

LEAVES = {
    "Value": lambda: Value(1.0, label="w"),
    "Tensor": lambda: Tensor([1.0, 2.0], requires_grad=True, label="w"),
}


@pytest.mark.parametrize("kind", list(LEAVES))
@pytest.mark.parametrize("sym", ["+=", "-=", "*=", "/=", "**="])
def test_an_inplace_operator_on_a_parameter_raises_with_the_fix(kind, sym):
    w = LEAVES[kind]()
    (w * w).sum().backward() if kind == "Tensor" else (w * w).backward()
    before = np.copy(w.data)
    with pytest.raises(TypeError) as err:
        exec(f"w {sym} 0.5", {"w": w})
    msg = str(err.value)
    assert msg.startswith(f"w {sym} ...: an in-place operator on {kind} 'w' (a leaf")
    assert "w.data -= lr * w.grad" in msg and "no_grad()" in msg and "silently not train" in msg
    np.testing.assert_array_equal(w.data, before)  # nothing half-done


def test_the_micrograd_update_loop_that_rebinds_is_refused():
    params = [Value(0.5), Value(-1.0)]
    loss = params[0] * params[1]
    loss.backward()
    with pytest.raises(TypeError, match=r"p\.data -= lr \* p\.grad"):
        for p in params:
            p -= 0.1 * p.grad
    for p in params:  # the fix from the message works
        p.data -= 0.1 * p.grad
    assert (params[0].data, params[1].data) == (0.5 + 0.1, -1.0 - 0.05)


@pytest.mark.parametrize("kind", list(LEAVES))
def test_under_no_grad_an_inplace_operator_updates_the_leaf_itself(kind):
    w = LEAVES[kind]()
    (w * w).sum().backward() if kind == "Tensor" else (w * w).backward()
    same = w
    with no_grad():
        w -= 0.25 * w.grad
    assert w is same and w.is_leaf and w.requires_grad
    np.testing.assert_allclose(w.data, [0.5] if kind == "Value" else [0.5, 1.0])
    assert w.data.__class__ is (float if kind == "Value" else np.ndarray)


def test_under_no_grad_an_inplace_operator_that_would_change_the_shape_is_refused():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with (
        no_grad(),
        pytest.raises(ValueError, match=r"-= on a Tensor leaf of shape \(2,\).*\(2, 2\)"),
    ):
        w -= np.ones((2, 2))
    np.testing.assert_array_equal(w.data, [1.0, 2.0])


def test_inplace_operators_on_intermediates_and_constants_stay_normal():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h += 1  # h = h + 1: a new node, the graph is right
    h.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0])
    total = Value(0.0, requires_grad=False)  # a running total made as the message says
    a = Value(2.0)
    for _ in range(3):
        total += a * a
    total.backward()
    assert total.data == 12.0 and a.grad == 12.0
    c = Tensor([1.0])  # a constant Tensor (requires_grad=False by default)
    c *= 2
    np.testing.assert_array_equal(c.data, [2.0])


# ----------------------------------------------------------------------------------------------
# 4. messages: hooks, custom ops, no_grad, detect_anomaly; 0-d gradients stay arrays


@pytest.mark.parametrize(
    "make, result, error, match",
    [
        (lambda: Value(1.0), "bad", TypeError, r"returned str 'bad'; a hook on a Value must"),
        (lambda: Value(1.0), [1.0], TypeError, r"returned list \[1\.0\]; a hook on a Value must"),
        (
            lambda: Tensor([1.0, 2.0], requires_grad=True),
            np.ones(3),
            BackwardError,
            r"returned a gradient of shape \(3,\); a hook must return None or a gradient of the "
            r"node's shape \(2,\)",
        ),
        (
            lambda: Tensor([1.0, 2.0], requires_grad=True),
            "x",
            TypeError,
            r"returned str 'x'; a hook must return None or a gradient of the node's shape \(2,\)",
        ),
    ],
)
def test_a_bad_hook_result_names_the_hook_the_node_and_the_shapes(make, result, error, match):
    x = make()
    h = x * 2
    h.label = "h"

    def clip_grad(g):
        return result

    h.register_hook(clip_grad)
    kind = type(x).__name__
    with pytest.raises(error, match=match) as err:
        (h.sum() if kind == "Tensor" else h).backward()
    assert str(err.value).startswith(f"the hook {clip_grad.__qualname__} registered on {kind} 'h'")
    assert "the root" not in str(err.value) and "data must be numbers" not in str(err.value)


def test_a_custom_vjp_returning_a_string_on_a_tensor_names_the_op():
    cube = Op("cube", lambda x: x**3, lambda g, out, x: ("three x squared",))
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(BackwardError, match=r"^cube: its vjp returned str 'three x squared' for "):
        cube(x).sum().backward()
    bad_dtype = Op("cube2", lambda x: x**3, lambda g, out, x: (np.array(["a", "b"]),))
    with pytest.raises(BackwardError, match=r"^cube2: its vjp returned an array of dtype <U1"):
        bad_dtype(x).sum().backward()


def test_bare_no_grad_decorates_and_a_bad_argument_is_named():
    @no_grad
    def triple(v):
        return v * 3

    assert triple.__name__ == "triple"
    y = triple(Value(2.0))
    assert y.is_leaf and y.data == 6.0
    assert (Value(1.0) * 2).op == "mul"  # grad mode is back on after the call

    @no_grad()
    def double(v):
        return v * 2

    assert double(Value(2.0)).is_leaf
    with pytest.raises(TypeError, match=r"no_grad: takes no arguments .* got int 3"):
        no_grad(3)


@pytest.mark.parametrize("kind", ["Tensor", "Value"])
def test_anomaly_names_the_leaf_that_brought_the_nan(kind):
    if kind == "Tensor":
        x = Tensor([[np.nan, 1.0]], requires_grad=True, label="pixels")
        w = Tensor([[1.0], [2.0]], requires_grad=True)
        run = lambda: (x @ w).sum()  # noqa: E731
        first = "matmul"
    else:
        x, w = Value(math.nan, label="pixels"), Value(2.0)
        run = lambda: x * w  # noqa: E731
        first = "mul"
    with detect_anomaly(), pytest.raises(AnomalyError) as err:
        run()
    msg = str(err.value)
    assert f"its input 0, {kind} 'pixels' (a leaf" in msg
    assert (
        f"already holds nan, so the nan came in with the inputs and {first} did not make it" in msg
    )
    assert "check the data it was made from" in msg


def test_anomaly_names_an_input_made_outside_detect_anomaly():
    x = Tensor([0.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        y = x / x  # nan, made outside
    with detect_anomaly(), pytest.raises(AnomalyError) as err:
        y * 2
    assert "its input 0, the Tensor made by div (shape (1,)), already holds nan" in str(err.value)
    assert "it was made outside detect_anomaly()" in str(err.value)


def test_a_0d_gradient_stays_an_array_when_it_accumulates():
    x = Tensor(2.0, requires_grad=True, dtype=np.float64)
    (x * x).backward()
    (x * x).backward()  # second pass: the leaf accumulates
    assert x.grad.__class__ is np.ndarray and x.grad.shape == () and x.grad == 8.0
    y = Tensor(3.0, requires_grad=True, dtype=np.float64)
    h = y * 2
    (h * h + h).backward()  # h has two consumers: its gradient is a sum
    assert y.grad.__class__ is np.ndarray and y.grad == 2 * (2 * 6.0 + 1)
    z = Tensor(1.5, requires_grad=True, dtype=np.float64)
    for _ in backward_steps(z * z + z):
        pass
    for _ in backward_steps(z * z + z):
        pass
    assert z.grad.__class__ is np.ndarray and z.grad == 2 * (2 * 1.5 + 1)
