"""stepgrad's autodiff engine: Value (scalars) and Tensor (numpy arrays) on one rule table.

>>> from autograd import Value
>>> a, b = Value(2.0), Value(-3.0)
>>> e = (a * b + a ** 2).tanh(); e.backward()
>>> round(e.data, 4), round(a.grad, 4), round(b.grad, 4)
(-0.964, 0.0707, 0.1413)
"""

from . import ops
from .check import GradcheckError, gradcheck
from .compare import compare as compare
from .engine import (
    AnomalyError,
    BackwardError,
    Node,
    Step,
    backward_steps,
    detect_anomaly,
    gc_paused,
    grad,
    gradients,
    is_grad_enabled,
    no_grad,
    scope,
    toposort,
)
from .ops import Op, op
from .tensor import Tensor, concatenate, conv2d, embedding, max_pool2d, maximum, stack
from .value import Value

__all__ = [
    "AnomalyError",
    "BackwardError",
    "GradcheckError",
    "Node",
    "Op",
    "Step",
    "Tensor",
    "Value",
    "backward_steps",
    "concatenate",
    "conv2d",
    "detect_anomaly",
    "embedding",
    "gc_paused",
    "grad",
    "gradcheck",
    "gradients",
    "is_grad_enabled",
    "max_pool2d",
    "maximum",
    "no_grad",
    "op",
    "ops",
    "scope",
    "stack",
    "toposort",
]
