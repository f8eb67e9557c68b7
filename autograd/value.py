"""Value: a scalar node (a Python float) with micrograd's names, on the shared rule table.

Every operator method is one line naming its rule (`__mul__ = _binary(ops.mul)`); the
derivatives live in ops.py and backward in engine.py.
"""

import linecache
import numbers
import operator

from . import engine, ops
from .engine import Node


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


# Each operator method is made for its rule once, here below, from one of three templates: a
# closure over the rule, so `a * b` runs in one Python frame (the method itself) and makes one
# object. Where the rule's scalar forward is a Python operator, the method applies it inline
# (`a._data * bd`, no call); otherwise it calls the rule's scalar forward.

_INLINE = {operator.add: "{} + {}", operator.sub: "{} - {}", operator.mul: "{} * {}"}
_INLINE[operator.neg] = "-{}"

_UNARY = """
def make(op, scalar):
    def method(a):
        out = _alloc()
        out._data = {forward}
        out.grad = 0.0
        if engine.SLOW:
            return engine.finish(out, op, a, None)
        out._op = op
        out.requires_grad = True
        out._a = a
        return out
    return method
"""

_BINARY = """
def make(op, scalar):
    def method(a, b):
        if b.__class__ is Value:
            bd = b._data
        elif b.__class__ is float:
            bd = b
        else:
            b = bd = _const(op, b)
        out = _alloc()
        out._data = {forward}
        out.grad = 0.0
        if engine.SLOW:
            return engine.finish(out, op, a, b)
        out._op = op
        out.requires_grad = True
        out._a = a
        out._b = b
        return out
    return method
"""

_RBINARY = """
def make(op, scalar):
    def method(b, a):  # a <op> b, where a is a number
        if a.__class__ is not float:
            a = _const(op, a)
        out = _alloc()
        out._data = {forward}
        out.grad = 0.0
        if engine.SLOW:
            return engine.finish(out, op, a, b)
        out._op = op
        out.requires_grad = True
        out._a = a
        out._b = b
        return out
    return method
"""


def _method(template, op, *args):
    """The method of `template` for rule `op`, its forward applied to `args` (source names).

    Each distinct source is compiled once, in this module's globals (so `Value`, `_alloc` and
    `engine` are read from here), under a file name in this package (so anomaly messages
    skip it as library code, as any frame of stepgrad's), with its lines in linecache."""
    form = _INLINE.get(op.scalar)
    forward = form.format(*args) if form else f"scalar({', '.join(args)})"
    make = _MAKERS.get((template, forward))
    if make is None:
        source = template.format(forward=forward)
        filename = f"{__file__} (generated: {forward})"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace = {}
        exec(compile(source, filename, "exec"), globals(), namespace)
        make = _MAKERS[template, forward] = namespace["make"]
    return _named(make(op, op.scalar), op)


_MAKERS = {}  # (template, forward) -> its compiled `make(op, scalar)`


def _unary(op):
    """The method `x.<op>()` for the one-input rule `op`."""
    return _method(_UNARY, op, "a._data")


def _binary(op):
    """The method `a <op> b`, a a Value and b a Value or a number (kept as a plain constant)."""
    return _method(_BINARY, op, "a._data", "bd")


def _rbinary(op):
    """The reflected method: `a <op> b` where a is a number (kept as a plain constant)."""
    return _method(_RBINARY, op, "a", "b._data")


def _named(method, op):
    code = method.__code__
    method.__code__ = code.replace(co_name=op.name, co_qualname=f"Value.{op.name}")
    method.__name__ = op.name
    method.__qualname__ = f"Value.{op.name}"
    method.__doc__ = op.doc
    return method


class _ValueType(type):
    """Value's constructor, `Value(data, label="", requires_grad=True)`, lives here, on its type,
    so that Value itself has no `__init__`: then `_alloc()` (the type's own C call, which runs no
    Python code) makes an empty node for an op, 30 ns faster than `object.__new__(Value)`, a
    tenth of a forward op."""

    def __call__(cls, data, label="", requires_grad=True):
        if data.__class__ is not float:
            if not isinstance(data, numbers.Real) or isinstance(data, bool):
                raise TypeError(
                    f"Value: data must be a real number, got {type(data).__name__} {data!r}"
                )
            data = float(data)
        self = type.__call__(cls)
        self._data = data
        self.grad = 0.0
        self._op = None
        self.requires_grad = bool(requires_grad)
        if label:
            self.label = label
        return self


class Value(Node, metaclass=_ValueType):
    """A scalar in the graph: `data` and `grad` are floats.

    `Value(data, label="", requires_grad=True)`: `data` is any real number (kept as a float),
    `label` names the node in drawings and messages, and a leaf made with `requires_grad=False`
    is a constant that gets no gradient.

    >>> a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    >>> e = a * b + a ** 2
    >>> e.backward()
    >>> e.data, a.grad, b.grad
    (-2.0, 1.0, 2.0)
    """

    __slots__ = ()

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self._data:.6g}, grad={self.grad:.6g}{label})"

    # --- arithmetic: one line each, the rule table does the rest ---------------------------
    # (each made once by _binary/_unary above; the rule holds the forward and the vjp)
    __add__ = _binary(ops.add)
    __radd__ = _rbinary(ops.add)
    __sub__ = _binary(ops.sub)
    __rsub__ = _rbinary(ops.sub)
    __mul__ = _binary(ops.mul)
    __rmul__ = _rbinary(ops.mul)
    __truediv__ = _binary(ops.div)
    __rtruediv__ = _rbinary(ops.div)

    def __pow__(self, other):
        return (_pow_var if other.__class__ is Value else _pow_number)(self, other)

    __rpow__ = _rbinary(ops.rpow)
    __neg__ = _unary(ops.neg)
    __abs__ = _unary(ops.abs_)
    abs = _unary(ops.abs_)
    exp = _unary(ops.exp)
    log = _unary(ops.log)
    sqrt = _unary(ops.sqrt)
    tanh = _unary(ops.tanh)
    sigmoid = _unary(ops.sigmoid)
    relu = _unary(ops.relu)

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
            return _unary(op)(args[0])
        a, b = args
        return _binary(op)(a, b) if a.__class__ is Value else _rbinary(op)(b, a)

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


_alloc = type.__call__.__get__(Value)  # an empty Value (see _ValueType)
_pow_var, _pow_number = _binary(ops.pow_var), _binary(ops.pow_)


def _cmp(x):
    return x._data if x.__class__ is Value else x
