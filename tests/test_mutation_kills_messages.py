"""Tests that kill mutants of autograd/engine.py (see tests/mutation/REPORT.md)."""

import math
import sys
import types

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
    engine,
    gradients,
    no_grad,
)
from autograd.engine import describe, node_name, scope

# ----------------------------------------------------------------------------------------------
# float(v), math.exp(v), round(v) on a node of a graph: the whole message


def _cut(kind, source, fn, arg, role, instead, where="HERE"):
    at = f" at {where}" if where else ""
    return (
        f"{source}{at}: {fn}() would turn the {kind} {arg} ({role}) into a plain number and cut "
        "it out of the graph, so gradients would be wrong without a word. To keep the gradient, "
        f"{instead}; to take the number on purpose, use {arg}.data or {arg}.item() "
        f"(f'{{{arg}:.3f}}' and comparisons work too)."
    )


def _cut_message(fn):
    """The TypeError message of `fn()` (a one-line lambda), its file:line shown as HERE."""
    with pytest.raises(TypeError) as err:
        fn()
    here = f"{fn.__code__.co_filename}:{fn.__code__.co_firstlineno}"
    return str(err.value).replace(here, "HERE")


def _methods(kind, arg):
    return f"use {kind} methods ({arg}.exp(), {arg}.log(), ...) or a custom op (autograd.op)"


LEAF = "a leaf that requires grad"


def test_float_cut_error_names_the_argument_as_the_user_wrote_it():
    weight = Value(2.0)
    assert _cut_message(lambda: float(weight)) == _cut(
        "Value", "float(weight)", "float", "weight", LEAF, _methods("Value", "weight")
    )
    assert _cut_message(lambda: round(weight * 3.0, 2)) == _cut(
        "Value",
        "round(weight * 3.0, 2)",
        "round",
        "(weight * 3.0)",
        "made by mul",
        _methods("Value", "(weight * 3.0)"),
    )

    def scale(x, k):
        return x * k

    # an argument with a call and a comma in it is kept whole, in parentheses
    src = "scale(weight, 2.0)"
    assert _cut_message(lambda: math.exp(scale(weight, 2.0))) == _cut(
        "Value", f"math.exp({src})", "exp", f"({src})", "made by mul", f"use ({src}).exp()"
    )
    t = Tensor(3.0, requires_grad=True)
    assert _cut_message(lambda: math.sqrt(t)) == _cut(
        "Tensor", "math.sqrt(t)", "sqrt", "t", LEAF, "use t.sqrt()"
    )
    # a spelling that does not start with the node is not offered as a method
    assert _cut_message(lambda: math.fabs(t)) == _cut(
        "Tensor", "math.fabs(t)", "fabs", "t", LEAF, _methods("Tensor", "t")
    )


def test_float_cut_error_falls_back_on_the_label_or_v_when_the_call_does_not_show_the_node():
    to_number = float  # the call is spelled `to_number(...)`: no argument to take from it
    for label, arg in (("w", "w"), ("", "v"), ("my w", "v")):
        p = Value(2.0, label=label)
        assert _cut_message(lambda p=p: to_number(p)) == _cut(
            "Value", "to_number(p)", "float", arg, LEAF, _methods("Value", arg)
        )
    q = Value(2.0, label="w")
    formatted = _cut_message(lambda: "%.3f" % q)  # noqa: UP031 (the old formatting calls float)
    assert formatted == _cut("Value", '"%.3f" % q', "float", "w", LEAF, _methods("Value", "w"))


def test_float_cut_error_of_a_call_over_several_lines_shows_the_conversion_alone():
    # fmt: off
    def as_number(p):
        return float(p *
                     2.0)
    # fmt: on

    with pytest.raises(TypeError) as err:
        as_number(Value(1.0))
    where = f"{__file__}:{as_number.__code__.co_firstlineno + 1}"
    assert str(err.value) == _cut(
        "Value", "float(v)", "float", "v", "made by mul", _methods("Value", "v"), where
    )


def _type_error(fn):
    """The message of the TypeError `fn()` raises, caught without pytest.raises (the test
    replaces sys._getframe while it runs)."""
    try:
        fn()
    except TypeError as e:
        return str(e)
    raise AssertionError("no TypeError")


def test_float_cut_error_without_a_frame_to_name_or_its_positions(monkeypatch):
    p = Value(2.0, label="w")
    monkeypatch.setattr(sys, "_getframe", lambda depth=0: None)
    nowhere = _type_error(lambda: float(p))
    monkeypatch.undo()
    assert nowhere == _cut("Value", "float(w)", "float", "w", LEAF, _methods("Value", "w"), "")
    # a Python whose code objects have no co_positions (3.10): the conversion at file:line
    code = types.SimpleNamespace(co_filename="/somewhere/train.py")
    frame = types.SimpleNamespace(f_code=code, f_lineno=7, f_lasti=0, f_back=None)
    monkeypatch.setattr(sys, "_getframe", lambda depth=0: frame)
    positionless = _type_error(lambda: int(p))
    monkeypatch.undo()
    assert positionless == _cut(
        "Value", "int(w)", "int", "w", LEAF, _methods("Value", "w"), "/somewhere/train.py:7"
    )


# ----------------------------------------------------------------------------------------------
# .data changed between the forward pass and backward


def _changed(what, use, made=None):
    at = f" (made at {made})" if made else ""
    return (
        f"backward: the data of {what} was changed after the forward pass; {use}{at}, so the "
        "gradients would belong to a graph that no longer exists (PyTorch refuses this too). "
        "Run the forward pass again after changing .data, or change .data after backward "
        "(as an optimizer step does)."
    )


def test_a_root_whose_own_data_was_written_is_refused_with_where_it_was_made():
    a = Value(2.0, label="a")
    y = a * a
    y.data = 5.0
    with pytest.raises(BackwardError) as err:
        y.backward()
    own = "its own op (mul) may need its old value in backward"
    assert str(err.value) == _changed("the Value made by mul", own)
    with detect_anomaly():
        y = a * a
    assert y.where.startswith(f"{__file__}:")
    y.data = 5.0
    with pytest.raises(BackwardError) as err:
        y.backward()
    assert str(err.value) == _changed("the Value made by mul", own, y.where)


def test_a_written_leaf_is_found_behind_other_leaves_of_the_graph():
    a, b, c = Value(1.0, label="a"), Value(2.0, label="b"), Value(3.0, label="c")
    z = a * b + c * 2.0  # backward meets the leaves a and b before c's consumer
    c.data = 4.0
    with pytest.raises(BackwardError) as err:
        z.backward()
    used = "mul (input 0) used its old value in the forward pass"
    assert str(err.value) == _changed("Value 'c' (a leaf)", used)
    assert (a.grad, b.grad, c.grad) == (0.0, 0.0, 0.0)


def test_writing_an_intermediate_that_no_longer_requires_grad_is_still_refused():
    a = Value(1.0, label="a")
    h = a * 2.0
    h.requires_grad = False
    h.label = "h"
    y = h * 3.0
    h.data = 7.0
    with pytest.raises(BackwardError) as err:
        y.backward()
    used = "mul (input 0) used its old value in the forward pass"
    assert str(err.value) == _changed("Value 'h' (made by mul)", used)


def test_detect_anomaly_finds_an_array_changed_in_place_behind_a_constant_input():
    t = Tensor([1.0, 2.0], requires_grad=True, label="t")
    with detect_anomaly():
        y = 2.0 - t  # sub(2.0, t): input 0 is a constant, with no fingerprint
        s = y.sum()
        t.data[0] = 5.0  # in place: only the fingerprint can tell
        with pytest.raises(BackwardError) as err:
            s.backward()
    used = "sub (input 1) used its old value in the forward pass"
    assert str(err.value) == _changed("Tensor 't' (a leaf, shape (2,))", used, y.where)


def test_detect_anomaly_counts_nan_written_over_a_number_as_a_change_but_not_nan_kept():
    a = Value(1.0, label="a")
    with detect_anomaly():
        y = a * 3.0
        a.data = math.nan
        Value(1.0) * 1.0  # the next op forgets the write: only the fingerprint is left
        with pytest.raises(BackwardError) as err:
            y.backward()
    used = "mul (input 0) used its old value in the forward pass"
    assert str(err.value) == _changed("Value 'a' (a leaf)", used, y.where)
    n = Value(math.nan, label="n")
    with detect_anomaly():
        z = n**0.0  # 1.0: a finite result of a nan input
        z.backward()  # nan then, nan now: unchanged
    assert n.grad == 0.0


# ----------------------------------------------------------------------------------------------
# in-place operators on a parameter, names of nodes and hooks, the seed


def _inplace(name, sym, node):
    return (
        f"{name} {sym} ...: an in-place operator on {node} that requires grad would rebind "
        f"{name} to a new node ({name} {sym[:-1]} ...) and leave the leaf itself unchanged, so "
        f"a training loop would silently not train. To update a parameter, write {name}.data "
        f"{sym} ... (e.g. {name}.data -= lr * {name}.grad), or do it inside `with no_grad():`. "
        f"For a running total, start from a plain number ({name} = 0.0) or a leaf made with "
        "requires_grad=False."
    )


def test_in_place_division_power_and_matmul_on_a_parameter_are_refused_by_name():
    w = Tensor(np.eye(2), requires_grad=True, label="w")
    with pytest.raises(TypeError) as err:
        w @= np.eye(2)
    assert str(err.value) == _inplace("w", "@=", "Tensor 'w' (a leaf, shape (2, 2))")
    p = Value(2.0)
    with pytest.raises(TypeError) as err:
        p **= 2.0
    assert str(err.value) == _inplace("p", "**=", "a Value leaf")
    q = Value(2.0, label="my q")
    with pytest.raises(TypeError) as err:
        q /= 2.0
    assert str(err.value) == _inplace("p", "/=", "Value 'my q' (a leaf)")


def test_in_place_division_power_and_matmul_rebind_an_intermediate_to_a_new_node():
    x = Value(3.0)
    h = x * 2.0
    first = h
    h /= 4.0
    assert h is not first and (h.op, h.data) == ("div", 1.5)
    h **= 2.0
    assert (h.op, h.data) == ("pow", 2.25)
    h.backward()
    assert x.grad == pytest.approx(2 * 1.5 * 0.5)
    t = Tensor([[1.0, 2.0]], requires_grad=True)
    m = t * 1.0
    m @= np.array([[1.0], [3.0]])
    assert m.op == "matmul" and m.data.tolist() == [[7.0]]
    m.sum().backward()
    assert t.grad.tolist() == [[1.0, 3.0]]


def test_in_place_operators_under_no_grad_update_the_leaf_and_keep_its_dtype():
    w = Tensor(np.array([[2.0, 4.0]], np.float32), requires_grad=True)
    v = Value(8.0)
    with no_grad():
        w /= np.array([2.0, 8.0])  # float64 operand: the leaf stays float32
        w **= 2.0
        w @= np.eye(2) * 3.0
        v /= 2.0
        v **= 0.5
    assert w.data.dtype == np.float32 and w.data.tolist() == [[3.0, 0.75]]
    assert v.data == 2.0 and v.is_leaf and v.requires_grad


def test_node_name_of_an_unlabelled_leaf_has_no_shape_for_a_value():
    assert node_name(Value(1.0)) == "a Value leaf"
    assert node_name(Tensor([1.0, 2.0])) == "a Tensor leaf of shape (2,)"
    assert node_name(Value(1.0) * 2.0) == "the Value made by mul"


class _Doubler:
    """A hook that is an object (no __qualname__), not a function."""

    def __init__(self, result=None):
        self.result = result

    def __call__(self, g):
        return g * 2.0 if self.result is None else self.result


def test_a_hook_that_is_an_object_is_named_by_its_class():
    a = Value(1.5, label="a")
    handle = a.register_hook(_Doubler())
    (a * 3.0).backward()
    handle.remove()  # no hooked node left alive: later backwards keep their fast paths
    assert a.grad == 6.0
    b = Value(1.0, label="b")
    handle = b.register_hook(_Doubler("bad"))
    with pytest.raises(TypeError) as err:
        (b * 2.0).backward()
    handle.remove()
    assert str(err.value) == (
        "the hook _Doubler registered on Value 'b' (a leaf) returned str 'bad'; a hook on a "
        "Value must return None or a number (the node's new gradient)"
    )


def test_backward_of_a_tensor_that_is_not_a_scalar_asks_for_its_gradient():
    y = Tensor([1.0, 2.0], requires_grad=True) * 2.0
    with pytest.raises(BackwardError) as err:
        y.backward()
    assert str(err.value) == (
        "backward: the root has shape (2,) (not a scalar), so its gradient must be given: call "
        "backward(grad=...) with an array of shape (2,), or reduce it first, e.g. "
        "y.sum().backward()"
    )


# ----------------------------------------------------------------------------------------------
# describe, the optional slot of a node, the gradients leaves own


def test_describe_works_when_numpy_raises_on_floating_point_errors():
    x = np.array([math.inf, -math.inf, 1.0, 2.0, 3.0, 4.0, 5.0])
    with np.errstate(all="raise"):
        assert describe(x) == "array(7,) float64 min=-inf mean=nan max=inf"


def test_describe_of_an_array_that_has_no_nans_to_count():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], dtype=object)
    assert describe(x) == "array(7,) object min=1 mean=4 max=7"


def test_a_nodes_label_scope_and_where_live_side_by_side():
    v = Value(1.0)
    assert (v.label, v.scope, v.where) == ("", None, None)
    with scope("enc"):
        h = Value(1.0) * 2.0
    assert (h.scope, h.label, h.where) == ("enc", "", None)
    h.label = "h"
    h.label = "hidden"
    assert (h.scope, h.label) == ("enc", "hidden")
    v.label = "v"
    assert (v.label, v.scope) == ("v", None)


def test_leaves_own_writable_gradients_not_views_of_another_gradient():
    x = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    x.mean().backward()  # mean's vjp broadcasts: a read-only view
    assert x.grad.flags.writeable and x.grad.flags.owndata
    x.grad += 1.0
    assert x.grad.tolist() == [1.25] * 4
    w = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = w.reshape((2, 2))  # reshape's vjp is a view of the gradient it is given
    y.backward(grad=np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert not np.shares_memory(w.grad, y.grad)
    y.grad[0, 0] = 100.0
    assert w.grad.tolist() == [1.0, 2.0, 3.0, 4.0]
    # a custom vjp that broadcasts a new array: a read-only view of nothing backward holds
    spread = Op(
        "spread", lambda x: 2.0 * x.sum(), lambda g, out, x: (np.broadcast_to(g * 2.0, x.shape),)
    )
    z = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    spread(z).backward()
    z.grad += 1.0
    assert z.grad.tolist() == [3.0, 3.0, 3.0]


def _glibc():
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2  # noqa: B018  (glibc >= 2.33)
    except (OSError, AttributeError):
        return None
    return libc


@pytest.mark.skipif(sys.platform != "linux" or _glibc() is None, reason="glibc's malloc only")
def test_keep_heap_pad_keeps_that_much_freed_memory_at_the_top_of_the_heap():
    import ctypes

    class Mallinfo2(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_size_t)
            for name in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks "
            "keepcost".split()
        ]

    libc = _glibc()
    libc.mallinfo2.restype = Mallinfo2
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]

    def kept_after_a_big_free():
        # 80 MB in blocks below the mmap threshold, freed in the order they were made: they
        # reach the top of the heap all at once, with the last, more than any trim threshold,
        # so malloc trims the top down to the pad once
        blocks = (ctypes.c_void_p * 800)()  # allocated first: below the blocks
        for i in range(800):
            blocks[i] = libc.malloc(100_000)
        for i in range(800):
            libc.free(blocks[i])
        return libc.mallinfo2().keepcost

    try:
        assert engine.keep_heap_pad(8 << 20) is True
        assert 8 << 20 <= kept_after_a_big_free() < (8 << 20) + (1 << 20)
    finally:
        assert engine.keep_heap_pad() is True  # back to the 4 MB set at import
    assert 4 << 20 <= kept_after_a_big_free() < (4 << 20) + (1 << 20)


# ----------------------------------------------------------------------------------------------
# the general driver: IEEE redo of a vjp, a vjp called once per node


def _ratio_vjp(g, out, a, b, needs=None):
    """a * b; d/da = g / b, only where asked"""
    return (g / b if needs[0] else None, g / a if needs[1] else None)


def test_a_partial_vjp_redone_in_ieee_arithmetic_is_still_told_what_needs_a_gradient():
    ratio = Op("ratio", lambda a, b: a * b, _ratio_vjp, arity=2, partial=True)
    a = Value(1.0)
    (ga,) = gradients(ratio(a, 0.0), [a])  # 1 / 0.0 raises in Python, inf in IEEE
    assert ga == math.inf and ga.__class__ is float
    steps = list(backward_steps(ratio(a, 0.0)))
    assert steps[-1].node is a and a.grad == math.inf


def test_a_zero_division_of_a_vjp_on_nodes_is_raised_as_it_is():
    def vjp(g, out, a):
        return (g * (1.0 / a.data),)  # a Python division on the number of a node

    inv = Op("inv", lambda a: 1.0 / a if a else math.inf, vjp)
    a = Value(0.0)
    with pytest.raises(ZeroDivisionError):
        gradients(inv(a), [a], create_graph=True)


def test_backward_and_gradients_call_each_vjp_once():
    calls = []

    def vjp(g, out, a):
        calls.append(g)
        return (2.0 * g,)

    double = Op("double", lambda a: 2.0 * a, vjp)
    x = Tensor([1.0, 2.0], requires_grad=True)
    (gx,) = gradients(double(x).sum(), [x])
    assert gx.tolist() == [2.0, 2.0] and len(calls) == 1
    double(x).sum().backward(create_graph=True)
    assert x.grad.data.tolist() == [2.0, 2.0] and len(calls) == 2
    z = Tensor([1.0, 2.0], requires_grad=True)
    y = double(z)
    handle = y.register_hook(lambda g: g * 3.0)
    y.sum().backward()
    handle.remove()
    assert z.grad.tolist() == [6.0, 6.0] and len(calls) == 3


def test_float_cut_error_of_a_call_with_several_arguments_names_the_node_among_them():
    v = Value(2.0, label="v")
    w = Value(3.0)
    assert _cut_message(lambda: math.pow(2, v)) == _cut(
        "Value", "math.pow(2, v)", "pow", "v", LEAF, _methods("Value", "v")
    )
    assert _cut_message(lambda: math.pow(w * v, 2.0)) == _cut(
        "Value",
        "math.pow(w * v, 2.0)",
        "pow",
        "(w * v)",
        "made by mul",
        _methods("Value", "(w * v)"),
    )
    assert _cut_message(lambda: math.atan2(v, w)) == _cut(  # math converts v first
        "Value", "math.atan2(v, w)", "atan2", "v", LEAF, _methods("Value", "v")
    )
    assert _cut_message(lambda: math.atan2(w, v)) == _cut(  # w first: unlabelled, the first
        "Value", "math.atan2(w, v)", "atan2", "w", LEAF, _methods("Value", "w")
    )
    assert _cut_message(lambda: math.copysign(w, 1.0)) == _cut(
        "Value", "math.copysign(w, 1.0)", "copysign", "w", LEAF, _methods("Value", "w")
    )


# the scalar fast loop's general branch (_float_node): custom ops inside a `.backward()`


def _scaled_vjp(g, out, a, b, needs=None):
    """a * b; each gradient from the output, only where asked"""
    return (g * out / a if needs[0] else None, g * out / b if needs[1] else None)


def test_a_partial_custom_vjp_in_a_scalar_backward_gets_the_output():
    prod = Op("prod", lambda a, b: a * b, _scaled_vjp, arity=2, partial=True)
    a, b = Value(2.0), Value(3.0)
    prod(a, b).backward()
    assert (a.grad, b.grad) == (3.0, 2.0)


def test_a_partial_custom_vjp_redone_in_ieee_arithmetic_in_a_scalar_backward():
    ratio = Op("ratio", lambda a, b: a * b, _ratio_vjp, arity=2, partial=True)
    a = Value(1.0)
    ratio(a, 0.0).backward()  # 1 / 0.0 raises in Python: the vjp is redone in numpy, told `needs`
    assert a.grad == math.inf and a.grad.__class__ is float


def test_a_custom_vjp_giving_a_value_in_a_scalar_backward_is_refused():
    def vjp(g, out, a, b):
        return (Value(g) * b, g * a)  # a node where the float path wants a number

    f = Op("f", lambda a, b: a * b, vjp, arity=2)
    a, b = Value(2.0), Value(3.0)
    with pytest.raises(BackwardError, match=r"f: its vjp returned Value .* for input 0"):
        f(a, b).backward()
    assert a.grad.__class__ is float


def test_float_cut_error_names_the_node_among_variables_and_keywords():
    v = Value(2.0, label="v")
    w = Value(3.0)
    y = 3.0
    assert _cut_message(lambda: math.atan2(y, v)) == _cut(  # a float variable first, v named
        "Value", "math.atan2(y, v)", "atan2", "v", LEAF, _methods("Value", "v")
    )
    assert _cut_message(lambda: math.pow(2, w)) == _cut(  # unlabelled: the only non-literal
        "Value", "math.pow(2, w)", "pow", "w", LEAF, _methods("Value", "w")
    )
    assert _cut_message(lambda: round(number=v, ndigits=2)) == _cut(
        "Value", "round(number=v, ndigits=2)", "round", "v", LEAF, _methods("Value", "v")
    )


# the general driver: what gradients() and create_graph give


def test_gradients_with_respect_to_an_intermediate_leave_the_nodes_under_it_alone():
    a = Value(2.0)
    b = a * a
    c = b * 3.0
    out = c * 2.0
    out.backward()
    assert (a.grad, b.grad, c.grad) == (24.0, 6.0, 2.0)
    assert gradients(out, [c]) == [2.0]
    assert (a.grad, b.grad, c.grad) == (24.0, 6.0, 2.0)  # b is under c: not visited, not reset


def test_create_graph_gradients_stay_nodes_through_a_cut_path_and_a_hook():
    stop = Op("stop", lambda a: a, lambda g, out, a: (None,))
    x = Value(3.0)
    (gx,) = gradients(stop(x * 2.0), [x], create_graph=True)  # x * 2.0 gets no gradient
    assert isinstance(gx, Value) and gx.data == 0.0
    h = x * 2.0
    handle = h.register_hook(lambda g: 5.0)  # a plain number from a hook
    (gx,) = gradients(h * 1.0, [x], create_graph=True)
    handle.remove()
    assert isinstance(gx, Value) and gx.data == 10.0


def test_an_anomaly_in_backward_shows_where_the_node_was_made_its_inputs_and_gradient():
    a, b = Value(1.0), Value(0.0)
    c = a / b  # made outside detect_anomaly: where it was made is not known
    with pytest.raises(AnomalyError) as err, detect_anomaly():
        c.backward()
    assert str(err.value) == (
        "div produced inf in the backward pass (gradient for input 0) for the node created at "
        "<unknown>; inputs: 1.0, 0.0; upstream gradient: 1.0"
    )
    x = Tensor([0.0, 4.0], requires_grad=True)
    with pytest.raises(AnomalyError) as err, detect_anomaly(), np.errstate(divide="ignore"):
        made = sys._getframe().f_lineno + 1
        x.sqrt().sum().backward()
    assert str(err.value).endswith(
        f"created at {__file__}:{made}; inputs: [0., 4.]; upstream gradient: [1., 1.]"
    )


def test_the_general_driver_names_the_input_a_custom_vjp_got_wrong():
    def vjp(g, out, a, b):
        return (g, np.ones(5))

    def vjp_text(g, out, a, b):
        return (g, "x")

    pair = Op("pair", lambda a, b: a + b, vjp, arity=2)
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(BackwardError) as err:
        gradients(pair(a, b).sum(), [a, b])
    assert str(err.value) == (
        "pair: its vjp returned a gradient of shape (5,) for input 1, which has shape (2,)"
    )
    text = Op("text", lambda a, b: a + b, vjp_text, arity=2)
    with pytest.raises(BackwardError) as err:
        gradients(text(Value(1.0), Value(2.0)), [])
    assert str(err.value) == (
        "text: its vjp returned str 'x' for input 1 of a Value; expected a float"
    )


def test_backward_under_detect_anomaly_passes_each_op_its_attributes():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = Tensor([[1.0], [10.0]], requires_grad=True)
    with detect_anomaly():
        ((x.sum(axis=0) * Tensor([1.0, 10.0])).sum() + (x @ w).max()).backward()
    assert x.grad.tolist() == [[1.0, 10.0], [2.0, 20.0]]
    assert w.grad.tolist() == [[3.0], [4.0]]
