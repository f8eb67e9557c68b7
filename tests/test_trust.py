"""Issue 9, the Value/engine half: nothing cuts a graph or changes it behind backward's back.

Float conversions of graph nodes, `.data` changed between forward and backward, in-place
operators on parameters, and the messages of hooks, custom ops, `no_grad` and `detect_anomaly`.
"""

import math

import numpy as np
import pytest

from autograd import Tensor, Value

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
