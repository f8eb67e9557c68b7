"""Value: a scalar node (a Python float) with micrograd's names, on the shared rule table.

Every method is one line that hands its op to `_unary`/`_binary`; the derivatives live in
ops.py and backward in engine.py.
"""

import numbers

from . import engine, ops
from .engine import Node

_new = object.__new__


def _const(op, x):
    """A plain number operand of `op` (an Op, or a name for errors) as a float, or a clear error."""
    if x.__class__ is float:
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return float(x)
    name = getattr(op, "name", op)
    if isinstance(x, Node):
        raise TypeError(
            f"{name}: cannot mix a Value with a {type(x).__name__}; "
            "use Values with Values and Tensors with Tensors"
        )
    raise TypeError(
        f"{name}: unsupported operand {type(x).__name__} {x!r}; "
        "Value ops take Values or real numbers"
    )


def _unary(op, a):
    out = _new(Value)
    out._data = op.scalar(a._data)
    out.grad = 0.0
    if engine.SLOW:
        return engine.finish(out, op, a, None)
    out._op = op
    out.requires_grad = True
    out._a = a
    return out


def _binary(op, a, b):
    """a op b where a is a Value and b a Value or a number (kept as a plain constant)."""
    if b.__class__ is Value:
        bd = b._data
    else:
        b = bd = _const(op, b)
    out = _new(Value)
    out._data = op.scalar(a._data, bd)
    out.grad = 0.0
    if engine.SLOW:
        return engine.finish(out, op, a, b)
    out._op = op
    out.requires_grad = True
    out._a = a
    out._b = b
    return out


def _rbinary(op, a, b):
    """a op b where a is a number (kept as a plain constant) and b a Value."""
    a = _const(op, a)
    out = _new(Value)
    out._data = op.scalar(a, b._data)
    out.grad = 0.0
    if engine.SLOW:
        return engine.finish(out, op, a, b)
    out._op = op
    out.requires_grad = True
    out._a = a
    out._b = b
    return out


class Value(Node):
    """A scalar in the graph: `data` and `grad` are floats.

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> e = a * b + a ** 2
    >>> e.backward()
    >>> e.data, a.grad, b.grad
    (-2.0, 1.0, 2.0)
    """

    __slots__ = ()

    def __init__(self, data, label="", requires_grad=True):
        if data.__class__ is not float:
            if not isinstance(data, numbers.Real) or isinstance(data, bool):
                raise TypeError(
                    f"Value: data must be a real number, got {type(data).__name__} {data!r}"
                )
            data = float(data)
        self._data = data
        self.grad = 0.0
        self._op = None
        self.requires_grad = bool(requires_grad)
        if label:
            self.label = label

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self._data:.6g}, grad={self.grad:.6g}{label})"

    # --- arithmetic: one line each, the rule table does the rest ---------------------------
    def __add__(self, other):
        return _binary(ops.add, self, other)

    def __radd__(self, other):
        return _rbinary(ops.add, other, self)

    def __sub__(self, other):
        return _binary(ops.sub, self, other)

    def __rsub__(self, other):
        return _rbinary(ops.sub, other, self)

    def __mul__(self, other):
        return _binary(ops.mul, self, other)

    def __rmul__(self, other):
        return _rbinary(ops.mul, other, self)

    def __truediv__(self, other):
        return _binary(ops.div, self, other)

    def __rtruediv__(self, other):
        return _rbinary(ops.div, other, self)

    def __pow__(self, other):
        return _binary(ops.pow_var if other.__class__ is Value else ops.pow_, self, other)

    def __rpow__(self, other):
        return _rbinary(ops.rpow, other, self)

    def __neg__(self):
        return _unary(ops.neg, self)

    def __abs__(self):
        return _unary(ops.abs_, self)

    def abs(self):
        return _unary(ops.abs_, self)

    def exp(self):
        return _unary(ops.exp, self)

    def log(self):
        return _unary(ops.log, self)

    def sqrt(self):
        return _unary(ops.sqrt, self)

    def tanh(self):
        return _unary(ops.tanh, self)

    def sigmoid(self):
        return _unary(ops.sigmoid, self)

    def relu(self):
        return _unary(ops.relu, self)

    # --- comparisons look at .data; == stays identity so Values can live in sets and dicts --
    def __lt__(self, other):
        return self._data < _cmp(other)

    def __le__(self, other):
        return self._data <= _cmp(other)

    def __gt__(self, other):
        return self._data > _cmp(other)

    def __ge__(self, other):
        return self._data >= _cmp(other)

    __hash__ = Node.__hash__

    # --- numbers out: float()/int()/round() would cut the graph, so only constants allow them -
    def __float__(self):
        if self._op is not None or self.requires_grad:
            raise engine.float_cut_error(self, "float")
        return self._data

    def __int__(self):
        if self._op is not None or self.requires_grad:
            raise engine.float_cut_error(self, "int")
        return int(self._data)

    def __round__(self, ndigits=None):
        if self._op is not None or self.requires_grad:
            raise engine.float_cut_error(self, "round")
        return round(self._data, ndigits)

    def __format__(self, spec):
        """f"{v:.3f}" formats the number; f"{v}" gives the repr."""
        return format(self._data, spec) if spec else repr(self)

    def item(self):
        """The number, taken on purpose (no gradient flows through it)."""
        return self._data

    # --- what the engine asks of a front end -----------------------------------------------
    shape = ()

    @classmethod
    def _apply(cls, op, args, attrs):
        """Apply any Op (a custom one, say) to Values and numbers."""
        if attrs:
            raise TypeError(f"{op.name}: keyword arguments are not supported on Values")
        if op.arity not in (1, 2) or len(args) != op.arity:
            raise TypeError(
                f"{op.name}: takes {op.arity if op.arity > 0 else 'several'} inputs, "
                f"got {len(args)}; Values support ops of one or two inputs"
            )
        if len(args) == 1:
            return _unary(op, args[0])
        a, b = args
        return _binary(op, a, b) if a.__class__ is Value else _rbinary(op, a, b)

    def _size(self):
        return 1

    def _ones(self):
        return 1.0

    def _ones_like_grad(self, g):
        return 1.0 if g.__class__ is float else Value(1.0, requires_grad=False)

    def _zeros(self, as_node):
        return Value(0.0, requires_grad=False) if as_node else 0.0

    def _zero_grad_value(self):
        return 0.0

    def _constant(self, x):
        return x if isinstance(x, Value) else Value(x, requires_grad=False)

    def _check_seed(self, g):
        if isinstance(g, Value):
            return g
        return _const("backward", g)

    def _check_hook_grad(self, g, as_node, what="a hook"):
        if not isinstance(g, Value) and (not isinstance(g, numbers.Real) or isinstance(g, bool)):
            raise TypeError(
                f"{what} returned {type(g).__name__} {g!r:.60}; a hook on a Value must return "
                "None or a number (the node's new gradient)"
            )
        if as_node:
            return self._constant(g)
        if isinstance(g, Value):
            return g._data
        return float(g)

    def _check_grad(self, g, op, i, as_node):
        if g.__class__ is float or (as_node and g.__class__ is Value):
            return g
        if isinstance(g, numbers.Real):
            return float(g)
        raise engine.BackwardError(
            f"{op.name}: its vjp returned {type(g).__name__} {g!r} for input {i} of a Value; "
            "expected a float"
        )


def _cmp(x):
    return x._data if isinstance(x, Value) else x
