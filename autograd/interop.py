"""What numpy does with a Value or Tensor: operators work, numpy's math says which method to call.

`arr * t` and `np.float64(2) * v` reach the node's own operators (so they build graph nodes);
`np.tanh(v)` or `np.sum(t)` would give plain numbers and lose the gradient, so they raise a
TypeError naming stepgrad's method. Functions that only read numbers (np.allclose, np.isnan,
np.argmax, ...) work on `.data`, as `np.asarray(t)` does.
"""

import numpy as np

from .engine import Node

# ufunc -> (method, reflected method): the arithmetic and comparisons Python operators give
_OPERATORS = {
    np.add: ("__add__", "__radd__"),
    np.subtract: ("__sub__", "__rsub__"),
    np.multiply: ("__mul__", "__rmul__"),
    np.true_divide: ("__truediv__", "__rtruediv__"),
    np.power: ("__pow__", "__rpow__"),
    np.matmul: ("__matmul__", "__rmatmul__"),
    np.less: ("__lt__", "__gt__"),
    np.less_equal: ("__le__", "__ge__"),
    np.greater: ("__gt__", "__lt__"),
    np.greater_equal: ("__ge__", "__le__"),
}
_UNARY = {np.negative: "__neg__", np.absolute: "__abs__"}

# numpy name -> the stepgrad spelling (x, a, b stand for the nodes)
_SPELLING = {
    "exp": "x.exp()",
    "log": "x.log()",
    "sqrt": "x.sqrt()",
    "tanh": "x.tanh()",
    "absolute": "abs(x) or x.abs()",
    "abs": "abs(x) or x.abs()",
    "fabs": "abs(x) or x.abs()",
    "negative": "-x",
    "square": "x ** 2",
    "power": "x ** p",
    "float_power": "x ** p",
    "reciprocal": "1 / x",
    "log1p": "(1 + x).log()",
    "expm1": "x.exp() - 1",
    "add": "a + b",
    "subtract": "a - b",
    "multiply": "a * b",
    "divide": "a / b",
    "true_divide": "a / b",
    "matmul": "a @ b",
    "dot": "a @ b",
    "maximum": "autograd.maximum(a, b) (Tensors) or a.maximum(b)",
    "fmax": "autograd.maximum(a, b) (Tensors) or a.maximum(b)",
    "clip": "x.clip(lo, hi)",
    "sum": "x.sum(axis=..., keepdims=...)",
    "mean": "x.mean(axis=..., keepdims=...)",
    "max": "x.max(axis=...)",
    "amax": "x.max(axis=...)",
    "min": "x.min(axis=...)",
    "amin": "x.min(axis=...)",
    "reshape": "x.reshape(shape)",
    "transpose": "x.transpose(axes) or x.T",
    "swapaxes": "x.swapaxes(a, b)",
    "concatenate": "autograd.concatenate([a, b], axis=...)",
    "stack": "autograd.stack([a, b], axis=...)",
}


def _is_node(x):
    return isinstance(x, Node)


def _message(name, node):
    kind = type(node).__name__
    fix = _SPELLING.get(name)
    if fix is None:
        fix = (
            f"stepgrad has no {name}: build it from stepgrad's ops, or define it as a custom op "
            "with its vjp (autograd.Op)"
        )
    else:
        fix = f"call {fix} instead"
    return (
        f"np.{name} on a stepgrad {kind}: numpy would compute plain numbers and the gradient "
        f"would be lost; {fix} (or pass .data to numpy to work on the numbers alone)"
    )


def _reads_only(ufunc):
    """True for ufuncs that give booleans (np.isnan, np.isfinite, ...): no gradient to lose."""
    return all(t.endswith("?") for t in ufunc.types)


def _data(x):
    if _is_node(x):
        return x.data
    if isinstance(x, list | tuple):
        return type(x)(_data(i) for i in x)
    return x


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """Node.__array_ufunc__: numpy's ufuncs and the operators of arrays meeting a node."""
    if method == "__call__" and not kwargs:
        pair = _OPERATORS.get(ufunc)
        if pair is not None and len(inputs) == 2:
            a, b = inputs
            if _is_node(a):
                return getattr(a, pair[0])(b)
            return getattr(b, pair[1])(a)
        name = _UNARY.get(ufunc)
        if name is not None and len(inputs) == 1:
            return getattr(inputs[0], name)()
        if _reads_only(ufunc):
            return ufunc(*[_data(x) for x in inputs])
    if ufunc in (np.equal, np.not_equal) and method == "__call__":
        raise TypeError(
            f"np.{ufunc.__name__} (== or != with a numpy array) on a stepgrad "
            f"{type(self).__name__}: == on nodes is identity (they are hashable graph nodes); "
            "compare the numbers with x.data == other"
        )
    if "out" in kwargs:
        raise TypeError(
            f"np.{ufunc.__name__}: cannot write a stepgrad {type(self).__name__} into a numpy "
            "array in place (arr += x); write arr = arr + x, or use x.data for the numbers"
        )
    if method != "__call__":  # np.add.reduce(t), np.multiply.outer(...)
        raise TypeError(
            f"np.{ufunc.__name__}.{method} on a stepgrad {type(self).__name__}: the gradient "
            "would be lost; use the node's methods (x.sum(axis=...), ...) or pass .data"
        )
    raise TypeError(_message(ufunc.__name__, self))


def array_function(self, func, types, args, kwargs):
    """Node.__array_function__: numpy functions that have a stepgrad op raise, naming it;
    functions that only read numbers run on the data."""
    name = func.__name__
    if name in _SPELLING:
        raise TypeError(_message(name, self))
    return func(*_data(args), **{k: _data(v) for k, v in kwargs.items()})
