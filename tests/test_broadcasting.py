"""hypothesis: every elementwise binary op on mutually broadcastable shapes.

Forward equals numpy's, every input's gradient has that input's shape, and the gradients pass
gradcheck (so the sums, by a `broadcast_to` node or by the op itself for a bias, are right)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

from autograd import Tensor, gradcheck, maximum, ops

BINARY = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, np.divide),
    "pow_var": (lambda a, b: a**b, np.power),
    "maximum": (lambda a, b: maximum(a, b), np.maximum),
}


def test_every_elementwise_binary_rule_is_covered():
    elementwise = {k for k, r in ops.RULES.items() if r.elementwise and r.arity == 2}
    assert elementwise - {"pow", "rpow"} == set(BINARY)  # pow/rpow have a constant side


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), data=st.data())
def test_binary_op_on_broadcastable_shapes(name, shapes, data):
    f, reference = BINARY[name]
    seed = data.draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    a = rng.uniform(0.5, 2.0, size=sa)
    b = rng.uniform(0.5, 2.0, size=sb)
    ta = Tensor(a, requires_grad=True, dtype=np.float64)
    tb = Tensor(b, requires_grad=True, dtype=np.float64)
    y = f(ta, tb)
    np.testing.assert_allclose(y.data, reference(a, b))
    assert y.shape == shapes.result_shape
    y.backward(grad=rng.normal(size=y.shape))
    assert ta.grad.shape == sa and tb.grad.shape == sb
    assert gradcheck(f, ta, tb)
