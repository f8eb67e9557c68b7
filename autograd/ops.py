"""The rule table: every primitive written once, as a forward and a vjp.

A rule's `vjp(g, out, *inputs, **attrs)` gets the upstream gradient `g`, the forward result
`out` and the op's inputs, and returns one gradient per input (None where an input is not
differentiable). Rules use only operators, array methods and the small namespace `m` below, so
the same rule runs on floats and arrays (the fast path) and on Value/Tensor nodes (the
`create_graph=True` path: that is how higher-order gradients come for free). Scalar forwards use
`math`, array forwards numpy. A rule made with `partial=True` also gets `needs=(bool, ...)` and
may skip the gradients of inputs that need none (matmul skips `g @ b.T` for a data input).

Below a scalar rule's vjp, `rule.floats` gives the same vjp written for plain floats: one Python
expression per input (in the vjp's own argument names, None where it gives no gradient). The
engine compiles them once into its scalar backward loop, so a Value graph's backward makes no
call and no tuple per node; tests check each form against its vjp.

Integer and boolean inputs follow numpy: ops whose result is not an integer (exp, tanh, sigmoid,
softmax, /, mean, ...) give the float dtype numpy gives (np.exp's: int8 -> float16, int64 ->
float64), integer ops (+, *, abs, relu, max, indexing, ...) keep integers. pow follows torch:
`x ** number` is sqrt / rsqrt at +-0.5, a variable exponent IEEE pow, and d/da = 0 where b = 0,
d/db = 0 where a = 0 and b >= 0.
"""

import math
import operator

import numpy as np

from .engine import Node


class Op:
    """One primitive: a name, a forward (numpy, and `math` for scalars) and a vjp.

    Calling an Op applies it to Values or Tensors; this is also how users write custom ops:

    >>> from autograd import Op, Value
    >>> cube = Op("cube", lambda x: x ** 3, lambda g, out, x: (3 * g * x * x,))
    >>> y = cube(Value(2.0)); y.backward()
    >>> y.data, y.op, y.parents[0].grad
    (8.0, 'cube', 12.0)
    """

    __slots__ = (
        "name",
        "forward",
        "scalar",
        "vjp",
        "arity",
        "elementwise",
        "doc",
        "builtin",
        "partial",
        "floats",
        "grads",
    )

    def __init__(
        self, name, forward, vjp, scalar=None, arity=None, elementwise=False, doc="", partial=False
    ):
        if not callable(forward) or not (vjp is None or callable(vjp)):
            raise TypeError(f"Op {name!r}: forward and vjp must be functions")
        if arity is None:  # the forward's arguments without defaults
            code = getattr(forward, "__code__", None)
            defaults = getattr(forward, "__defaults__", None) or ()
            arity = code.co_argcount - len(defaults) if code is not None else 1
        self.name = name
        self.forward = forward  # numpy forward (and scalar forward when `scalar` is None)
        self.scalar = scalar if scalar is not None else _scalar_of(name, forward)
        self.vjp = vjp
        self.arity = arity  # 1, 2, or -1 for a variable number of inputs
        self.elementwise = elementwise  # inputs are broadcast to one shape first
        self.doc = doc or (getattr(vjp, "__doc__", None) or "").strip()
        self.builtin = False  # rules of this table are trusted to return well-formed gradients
        self.partial = partial  # the vjp takes needs=(bool per input) and skips the others
        self.floats = None  # the vjp on floats: one expression per input (module docstring)
        self.grads = None  # one formula per input (given by `rule`), or None

    def defvjp(self, vjp):
        """Give (or replace) the vjp; usable as a decorator."""
        if not callable(vjp):
            raise TypeError(f"Op {self.name!r}: the vjp must be a function")
        self.vjp = vjp
        self.doc = self.doc or (vjp.__doc__ or "").strip()
        return vjp

    def __call__(self, *args, **attrs):
        if self.vjp is None:
            raise TypeError(
                f"custom op {self.name!r} has no vjp yet: add one with @{self.name}.defvjp"
            )
        for a in args:
            if isinstance(a, Node):
                return type(a)._apply(self, args, attrs)
        raise TypeError(
            f"{self.name}: needs at least one Value or Tensor among its inputs, got "
            f"{', '.join(type(a).__name__ for a in args) or 'nothing'}"
        )

    def __repr__(self):
        return f"<Op {self.name}: {self.doc}>"


def _scalar_of(name, forward):
    """A float-valued forward for Values built from a user's forward."""

    def scalar(*xs):
        y = forward(*xs)
        try:
            return float(y)
        except (TypeError, ValueError):
            raise TypeError(f"{name}: forward returned {y!r}, not a real number") from None

    return scalar


def op(name=None, vjp=None, **kwargs):
    """Decorator for custom ops: decorate the forward, then give the vjp with `.defvjp`.

    >>> from autograd import op, Value
    >>> @op("square")
    ... def square(x):
    ...     return x * x
    >>> @square.defvjp
    ... def square_vjp(g, out, x):
    ...     return (2 * x * g,)
    >>> y = square(Value(3.0)); y.backward(); y.op, y.parents[0].grad
    ('square', 6.0)
    """

    def wrap(forward):
        return Op(name or forward.__name__, forward, vjp, doc=forward.__doc__ or "", **kwargs)

    if callable(name):  # used bare: @op
        forward, name = name, None
        return wrap(forward)
    return wrap


def rule(name, forward, scalar=None, arity=1, elementwise=False, partial=False, grads=None):
    """Make the decorated vjp into an Op of the table.

    `grads` gives each input's gradient as a formula, one string per input (None for an input
    that gets none; one string for all inputs of an op with any number of them, in `x_i` and
    `i`). A formula is a Python expression in `g` (the upstream gradient), `out`, the vjp's
    argument names and these functions: mT (swap the last two axes), sum_to(g, shape),
    expand(g, shape, axis) (undo a reduction), scatter(g, shape, index), split(g, axis) (the
    parts of g where each input was put), take(g, i, axis), sum(g, axis), sign, log, exp,
    argsort, im2col(x, kernel_shape), col2im(cols, shape), is_max(x, size, stride). The viewer
    shows them with the actual shapes; tests evaluate every formula against its vjp.
    """

    def wrap(vjp):
        r = Op(name, forward, vjp, scalar, arity, elementwise, partial=partial)
        r.builtin = True
        r.grads = grads
        return r

    return wrap


# ----------------------------------------------------------------------------------------------
# the math namespace of the rules: works on raw floats/arrays and on nodes alike


def _raw(x):
    return x._data if isinstance(x, Node) else x


class m:
    """Helpers the vjps use; each works on a float, an ndarray, a Value or a Tensor."""

    @staticmethod
    def log(x):
        if isinstance(x, Node):
            return x.log()
        return _log(x) if x.__class__ is float else np.log(x)

    @staticmethod
    def exp(x):
        if isinstance(x, Node):
            return x.exp()
        return _exp(x) if x.__class__ is float else np.exp(x)

    @staticmethod
    def sign(x):
        """A constant: -1, 0 or 1, and 0 at NaN as torch's abs has it (not differentiated)."""
        x = _raw(x)
        if x.__class__ is float:
            return float((x > 0) - (x < 0))
        return np.sign(x, out=np.zeros_like(x), where=x == x)

    @staticmethod
    def step(x):
        """A constant: 0 where x <= 0 else 1, so 1 at NaN as torch's relu (not differentiated).

        An array for an array, 0-d included (numpy gives a numpy bool there)."""
        x = _raw(x)
        if x.__class__ is float:
            return 0.0 if x <= 0 else 1.0
        s = ~(x <= 0)
        return s if s.__class__ is np.ndarray else np.asarray(s)

    @staticmethod
    def pow(a, b):
        """a ** b as pow_var computes it: IEEE pow (Python would give a complex or raise)."""
        if a.__class__ is float:
            return _pow(a, b)
        return a**b if isinstance(a, Node) else _ieee_power(a, b)

    @staticmethod
    def pow_number(a, b):
        """a ** b as `x ** number` computes it: torch's sqrt / rsqrt at +-0.5, else IEEE pow."""
        if a.__class__ is float:
            return _pow_number(a, b)
        return a**b if isinstance(a, Node) else _np_pow_number(a, b)

    @staticmethod
    def less_one(b, a=None):
        """b - 1, but b itself (0) where b == 0: then b * a**(b-1) is 0 at a = 0 too (torch).

        Given `a` (both variable), only where b == 0 and a is 0, inf or nan: elsewhere
        b * a**(b-1) is already 0 at b = 0, and its derivative in b must stay a**(b-1)
        (d2(a**b)/db da at b = 0 is 1/a, not the 1 that a**b would give).
        """
        r = _raw(b)
        ra = _raw(a)  # None without a
        if r.__class__ is float or r.__class__ is int:
            if r != 0 or (ra is not None and ra != 0 and math.isfinite(ra)):
                return b - 1.0
            return b
        keep = r != 0
        if ra is not None:
            keep = keep | ((ra != 0) & np.isfinite(ra))
        return b - (keep if keep.__class__ is np.ndarray else np.asarray(keep))

    @staticmethod
    def log_base(a, b):
        """log(a) for d(a**b)/db, but 0 where a == 0 and b >= 0, where a**b is 0 or 1 (torch)."""
        ra, rb = _raw(a), _raw(b)
        if ra.__class__ is float or ra.__class__ is int:
            if ra != 0:
                return m.log(a)
            if rb.__class__ is float:  # a Value graph: a plain number
                return 0.0 if rb >= 0 else -math.inf
            return np.where(rb >= 0, 0.0, -np.inf).astype(_float_of(rb.dtype))
        mask = (ra == 0) & (rb >= 0)
        if mask.__class__ is bool or mask.__class__ is np.bool_:
            if not mask:
                return m.log(a)
            if ra.__class__ is float:
                return 0.0
        elif not mask.any():
            return m.log(a)
        if isinstance(a, Node):  # log(1) = 0 where masked, and the graph stays a graph
            return m.log(a + np.asarray(mask, dtype=ra.dtype))
        return np.log(np.where(mask, 1, a))

    @staticmethod
    def broadcast_to(x, shape):
        return x.broadcast_to(shape) if isinstance(x, Node) else broadcast_view(x, shape)

    @staticmethod
    def expand(g, shape, axis, keepdims):
        """Undo a reduction over `axis`: put the reduced axes back and broadcast to `shape`."""
        if not keepdims:
            kept = list(shape)
            for a in range(len(shape)) if axis is None else _axes(axis, len(shape)):
                kept[a] = 1
            g = g.reshape(tuple(kept))
        return m.broadcast_to(g, shape)

    @staticmethod
    def sum_to(g, shape):
        """Sum a gradient back to `shape` (the inverse of broadcasting)."""
        axes, leading_only = _sum_plan(shape, g.shape)
        if not axes:
            return g.reshape(shape)
        if leading_only:  # e.g. a bias: summing the leading axes away leaves the shape
            return g.sum(axis=axes)
        return g.sum(axis=axes, keepdims=True).reshape(shape)

    @staticmethod
    def mT(x):
        """Swap the last two axes."""
        return x.swapaxes(-1, -2)

    @staticmethod
    def matmul(x, y):
        """x @ y. An outer product of arrays (two 2-d operands, inner dimension 1) goes to
        np.dot: numpy's matmul skips BLAS there for a transposed operand (`x.T @ g` at batch 1:
        14 us for 64x128, np.dot 3 us), and a product of one term is the same number both ways.
        Everything else stays matmul, so no result changes in its last bit."""
        if x.__class__ is np.ndarray and y.__class__ is np.ndarray and x.ndim == 2 == y.ndim:
            if x.shape[1] == 1:
                return np.dot(x, y)
        return x @ y

    @staticmethod
    def scatter(g, shape, index):
        """zeros(shape) with g added at index (the vjp of indexing)."""
        if isinstance(g, Node):
            return scatter(g, shape=shape, index=index)
        return _scatter(g, shape, index)


_SUM_AXES = {}  # (input shape, gradient shape) -> (axes to sum over, only leading axes?)


def _sum_plan(shape, out_shape):
    """(the axes of out_shape along which an array of `shape` is repeated when broadcast to
    it, True when they are only the leading axes it lacks); cached, graphs repeat a few pairs."""
    key = (shape, out_shape)
    plan = _SUM_AXES.get(key)
    if plan is None:
        lead = len(out_shape) - len(shape)
        ones = tuple(lead + i for i, n in enumerate(shape) if n == 1 and out_shape[lead + i] != 1)
        plan = (tuple(range(lead)) + ones, not ones)
        if len(_SUM_AXES) < 4096:
            _SUM_AXES[key] = plan
    return plan


def repeated_axes(shape, out_shape):
    """The axes of `out_shape` along which an array of `shape` is repeated when broadcast to it
    (the axes `m.sum_to` sums a gradient over): the leading axes it lacks, and its axes of
    length 1 that grow.

    >>> repeated_axes((3,), (4, 3)), repeated_axes((4, 1, 3), (2, 4, 5, 3))
    ((0,), (0, 2))
    """
    return _sum_plan(shape, out_shape)[0]


def _axes(axis, ndim):
    if not ndim:  # axis 0 (or -1) of a 0-d input, accepted as numpy and torch do: nothing reduced
        return ()
    axes = (axis,) if isinstance(axis, int) else axis
    return tuple(a % ndim for a in axes)


# ----------------------------------------------------------------------------------------------
# scalar forwards: IEEE results (inf, nan) instead of Python's exceptions, as numpy gives


def _log(x):
    return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)


def _exp(x):
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _sqrt(x):
    return math.sqrt(x) if x >= 0 else math.nan


def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = _exp(x)
    return e / (1.0 + e)


def _relu(x):
    return 0.0 if x <= 0 else x  # NaN stays NaN, as np.maximum and torch give


def _div(a, b):
    try:
        return a / b
    except ZeroDivisionError:
        return math.nan if a == 0 or a != a else math.copysign(math.inf, a) * math.copysign(1, b)


def _pow(a, b):
    """a ** b on floats, IEEE's pow (what torch's pow of two tensors gives)."""
    try:
        r = a**b
    except (ZeroDivisionError, OverflowError):  # IEEE: (-0.) ** -1. is -inf, (-10.) ** 401. too
        with np.errstate(all="ignore"):
            return float(np.power(float(a), float(b)))
    return r if r.__class__ is float else math.nan  # a negative base to a fractional power


# torch computes `tensor ** number` with sqrt for 0.5 and rsqrt for -0.5, which differ from IEEE
# pow at -0 and -inf (sqrt(-inf) is nan, rsqrt(-0) is -inf); stepgrad's `x ** number` does the
# same, on Values and Tensors. A variable or array exponent gets IEEE pow, as in torch.


def _pow_number(a, b):
    """a ** b on floats for a constant exponent b (the pow rule's scalar forward)."""
    if b == 0.5:
        return _sqrt(a)
    if b == -0.5:
        r = _sqrt(a)
        return 1.0 / r if r != 0 else math.copysign(math.inf, r)
    return _pow(a, b)


def _ieee_power(a, b):
    """np.power as IEEE pow, a 0-d exponent included (there numpy takes sqrt for 0.5)."""
    if np.ndim(b):
        return np.power(a, b)
    b = np.asarray(b, dtype=np.result_type(a, b)).reshape(1)  # a 1-element array: no shortcut
    return np.power(a, b).reshape(np.shape(a))


def _np_pow_number(a, b):
    """The pow rule's array forward: `x ** number` as torch (sqrt, rsqrt), arrays as IEEE."""
    if b.__class__ is float or b.__class__ is int:
        if b == 0.5:
            return np.sqrt(a)
        if b == -0.5:
            with np.errstate(divide="ignore"):
                return 1 / np.sqrt(a)
        return np.power(a, b)
    return _ieee_power(a, b)


def _float_of(dtype):
    """The float dtype numpy's float ufuncs (np.exp) give for `dtype`: int8 and bool -> float16,
    int16 -> float32, int32/int64 -> float64; float dtypes stay."""
    return dtype if dtype.kind in "fc" else np.result_type(dtype, np.float16)


def _floats(x):
    """x itself when it holds floats, else x as the float dtype numpy's np.exp would give."""
    return x if x.dtype.kind in "fc" else x.astype(_float_of(x.dtype))


def _np_sigmoid(x):
    x = _floats(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _np_relu(x):
    return np.maximum(x, 0)


def _softmax(x, axis=-1):
    x = _floats(x)
    if not x.size:  # an empty axis (or none left): an empty result, as torch gives
        return x.copy()
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    x = _floats(x)
    if not x.size:
        return x.copy()
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


_STRIDES = {}  # (shape, strides, target shape) -> strides of the broadcast view


def broadcast_view(x, shape):
    """np.broadcast_to(x, shape), read-only, ~10x faster for the contiguous arrays of a graph."""
    key = (x.shape, x.strides, shape)
    strides = _STRIDES.get(key)
    if strides is None:
        lead = len(shape) - x.ndim
        if lead < 0 or any(n != m and n != 1 for n, m in zip(x.shape, shape[lead:])):
            raise ValueError(f"cannot broadcast {x.shape} to {shape}")
        strides = (0,) * lead + tuple(
            0 if n == 1 and m != 1 else st for n, m, st in zip(x.shape, shape[lead:], x.strides)
        )
        if len(_STRIDES) < 4096:
            _STRIDES[key] = strides
    if not x.flags.c_contiguous:
        return np.broadcast_to(x, shape)
    view = np.ndarray(shape, x.dtype, x, 0, strides)
    view.flags.writeable = False
    return view


def _scatter(g, shape, index):
    z = np.zeros(shape, dtype=g.dtype)
    if _basic_index(index):
        z[index] += g  # basic indexing never repeats an element
    else:
        np.add.at(z, index, g)
    return z


def _basic_index(index):
    """True when no element can be picked twice: ints, slices, None, ... and one boolean mask."""
    items = index if isinstance(index, tuple) else (index,)
    masks = 0
    for i in items:
        if isinstance(i, np.ndarray) and i.dtype.kind == "b":
            masks += 1
        elif not (i is None or i is Ellipsis or isinstance(i, (int, slice))):
            return False
    return masks <= 1


# ----------------------------------------------------------------------------------------------
# elementwise binary ops (a broadcast operand's gradient is summed back by the engine, m.sum_to)


@rule("add", np.add, operator.add, arity=2, elementwise=True, grads=("g", "g"))
def add(g, out, a, b):
    """a + b; d/da = 1, d/db = 1"""
    return g, g


add.floats = "g", "g"


@rule("sub", np.subtract, operator.sub, arity=2, elementwise=True, grads=("g", "-g"))
def sub(g, out, a, b):
    """a - b; d/da = 1, d/db = -1"""
    return g, -g


sub.floats = "g", "-g"


@rule("mul", np.multiply, operator.mul, arity=2, elementwise=True, grads=("g * b", "g * a"))
def mul(g, out, a, b):
    """a * b; d/da = b, d/db = a"""
    return g * b, g * a


mul.floats = "g * b", "g * a"


@rule("div", np.divide, _div, arity=2, elementwise=True, grads=("g / b", "-g * a / b**2"))
def div(g, out, a, b):
    """a / b; d/da = 1/b, d/db = -a/b**2"""
    return g / b, -g * out / b


div.floats = "g / b", "-g * out / b"


# At a = 0 torch takes d/da = 0 where b == 0 (0 ** -1 would give 0 * inf) and d/db = 0 where
# b >= 0 (a**b is 0 or 1 there; log(0) would give 0 * -inf): m.less_one and m.log_base.


@rule(
    "pow",
    _np_pow_number,
    _pow_number,
    arity=2,
    elementwise=True,
    grads=("g * b * a**(b - 1)", None),
)
def pow_(g, out, a, b):
    """a ** b (b a constant); d/da = b * a**(b-1) (0 where b = 0)"""
    return g * b * m.pow_number(a, m.less_one(b)), None


pow_.floats = (
    "(g * b * (a ** (b - 1) if a > 0 else _pow_number(a, b - 1)) if b != 0 else 0.0 * g)",
    None,
)


@rule("pow", _ieee_power, _pow, arity=2, elementwise=True, grads=(None, "g * out * log(a)"))
def rpow(g, out, a, b):
    """a ** b (a a constant); d/db = a**b * log(a) (0 where a = 0 and b >= 0)"""
    return None, g * out * m.log_base(a, b)


rpow.floats = None, "0.0 * g if a == 0 and b >= 0 else g * out * _log(a)"


@rule(
    "pow",
    _ieee_power,
    _pow,
    arity=2,
    elementwise=True,
    grads=("g * b * a**(b - 1)", "g * out * log(a)"),
)
def pow_var(g, out, a, b):
    """a ** b (both variables); d/da = b * a**(b-1), d/db = a**b * log(a) (torch's zeros at 0)"""
    return g * b * m.pow(a, m.less_one(b, a)), g * out * m.log_base(a, b)


pow_var.floats = (
    "(g * b * (a ** (b - 1) if a > 0 else _pow(a, b - 1)) if b != 0 else 0.0 * g)",
    rpow.floats[1],
)


@rule(
    "maximum",
    np.maximum,
    max,
    arity=2,
    elementwise=True,
    grads=("g * ((a > b) + 0.5 * (a == b))", "g * ((b > a) + 0.5 * (a == b))"),
)
def maximum(g, out, a, b):
    """max(a, b); d/da = 1 where a > b, d/db = 1 where b > a, 1/2 each at a tie"""
    ar, br = _raw(a), _raw(b)
    half = 1 - 0.5 * (ar == br)  # and where a or b is NaN both get g, as in torch
    return g * ((1 - (ar < br)) * half), g * ((1 - (ar > br)) * half)


maximum.floats = "g * ((a > b) + 0.5 * (a == b))", "g * (1 - ((a > b) + 0.5 * (a == b)))"


# ----------------------------------------------------------------------------------------------
# elementwise unary ops


@rule("neg", np.negative, operator.neg, grads=("-g",))
def neg(g, out, x):
    """-x; d/dx = -1"""
    return (-g,)


neg.floats = ("-g",)


@rule("abs", np.abs, abs, grads=("g * sign(x)",))
def abs_(g, out, x):
    """|x|; d/dx = sign(x) (0 at 0)"""
    return (g * m.sign(x),)


abs_.floats = ("g * float((x > 0) - (x < 0))",)


@rule("exp", np.exp, _exp, grads=("g * out",))
def exp(g, out, x):
    """exp(x); d/dx = exp(x)"""
    return (g * out,)


exp.floats = ("g * out",)


@rule("log", np.log, _log, grads=("g / x",))
def log(g, out, x):
    """log(x); d/dx = 1/x"""
    return (g / x,)


log.floats = ("g / x",)


@rule("sqrt", np.sqrt, _sqrt, grads=("g / (2 * out)",))
def sqrt(g, out, x):
    """sqrt(x); d/dx = 1 / (2 sqrt(x))"""
    return (g * 0.5 / out,)


sqrt.floats = ("g * 0.5 / out",)


@rule("tanh", np.tanh, math.tanh, grads=("g * (1 - out**2)",))
def tanh(g, out, x):
    """tanh(x); d/dx = 1 - tanh(x)**2"""
    return (g * (1 - out * out),)


tanh.floats = ("g * (1 - out * out)",)


@rule("sigmoid", _np_sigmoid, _sigmoid, grads=("g * out * (1 - out)",))
def sigmoid(g, out, x):
    """s = 1 / (1 + exp(-x)); d/dx = s * (1 - s)"""
    return (g * out * (1 - out),)


sigmoid.floats = ("g * out * (1 - out)",)


@rule("relu", _np_relu, _relu, grads=("g * (x > 0)",))
def relu(g, out, x):
    """max(x, 0); d/dx = 1 if x > 0 else 0"""
    return (g * m.step(x),)


relu.floats = ("g if x > 0 else g * 0.0",)


@rule(
    "clip", lambda x, lo=None, hi=None: np.clip(x, lo, hi), grads=("g * ((x >= lo) & (x <= hi))",)
)
def clip(g, out, x, lo=None, hi=None):
    """min(max(x, lo), hi); d/dx = 1 where lo <= x <= hi, else 0"""
    xr = _raw(x)
    inside = np.ones(xr.shape, dtype=bool)
    if lo is not None:
        inside &= xr >= lo
    if hi is not None:
        inside &= xr <= hi
    return (g * inside.astype(xr.dtype),)


# ----------------------------------------------------------------------------------------------
# reductions


def _size_ratio(shape, out_shape):
    return math.prod(shape) // max(math.prod(out_shape), 1)


@rule(
    "sum",
    lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
    grads=("expand(g, x.shape, axis)",),
)
def sum_(g, out, x, axis=None, keepdims=False):
    """sum of x over axis; d/dx = 1 for every element summed"""
    return (m.expand(g, x.shape, axis, keepdims),)


def _mean(x, axis=None, keepdims=False):
    total = x.sum(axis=axis, keepdims=keepdims)  # np.mean is several times slower on small arrays
    return total / (x.size // max(total.size, 1)) if x.size else np.mean(x, axis, keepdims=keepdims)


@rule("mean", _mean, grads=("expand(g, x.shape, axis) * out.size / x.size",))
def mean(g, out, x, axis=None, keepdims=False):
    """mean of x over axis; d/dx = 1/n for each of the n elements averaged"""
    return (m.expand(g, x.shape, axis, keepdims) / _size_ratio(x.shape, out.shape),)


def _extreme_vjp(g, out, x, axis, keepdims):
    # 1 at the extreme element, shared equally among ties (as torch.amax does)
    xr = _raw(x)
    hit = (xr == m.expand(_raw(out), xr.shape, axis, keepdims)).astype(xr.dtype)
    hit /= hit.sum(axis=axis, keepdims=True)
    return (m.expand(g, xr.shape, axis, keepdims) * hit,)


@rule(
    "max",
    lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims),
    grads=("expand(g, x.shape, axis) * (x == expand(out, x.shape, axis))",),
)
def max_(g, out, x, axis=None, keepdims=False):
    """max of x over axis; d/dx = 1 at the maximum (shared equally among ties)"""
    return _extreme_vjp(g, out, x, axis, keepdims)


@rule(
    "min",
    lambda x, axis=None, keepdims=False: np.min(x, axis=axis, keepdims=keepdims),
    grads=("expand(g, x.shape, axis) * (x == expand(out, x.shape, axis))",),
)
def min_(g, out, x, axis=None, keepdims=False):
    """min of x over axis; d/dx = 1 at the minimum (shared equally among ties)"""
    return _extreme_vjp(g, out, x, axis, keepdims)


# ----------------------------------------------------------------------------------------------
# shapes and indexing


@rule("broadcast_to", lambda x, shape: broadcast_view(x, shape), grads=("sum_to(g, x.shape)",))
def broadcast_to(g, out, x, shape):
    """x repeated to `shape`; d/dx sums the gradient back to x's shape (the only such place)"""
    return (m.sum_to(g, x.shape),)


@rule("reshape", lambda x, shape: np.reshape(x, shape), grads=("g.reshape(x.shape)",))
def reshape(g, out, x, shape):
    """x with a new shape; d/dx is the gradient reshaped back"""
    return (g.reshape(x.shape),)


@rule(
    "transpose", lambda x, axes=None: np.transpose(x, axes), grads=("g.transpose(argsort(axes))",)
)
def transpose(g, out, x, axes=None):
    """x with its axes permuted; d/dx permutes the gradient back"""
    inverse = None if axes is None else tuple(np.argsort(axes))
    return (g.transpose(inverse),)


@rule("getitem", lambda x, index: x[index], grads=("scatter(g, x.shape, index)",))
def getitem(g, out, x, index):
    """x[index]; d/dx is the gradient put back at index (summed where an element repeats)"""
    return (m.scatter(g, x.shape, index),)


@rule("scatter", _scatter, grads=("g[index]",))
def scatter(g, out, x, shape, index):
    """zeros(shape) with x added at index; d/dx = the gradient read at index"""
    return (g[index],)


@rule(
    "concatenate",
    lambda *xs, axis=0: np.concatenate(xs, axis=axis),
    arity=-1,
    grads=("split(g, axis)[i]",),
)
def concatenate(g, out, *xs, axis=0):
    """xs joined along axis; d/dx_i is the gradient's slice where x_i was put"""
    ax = axis % out.ndim
    grads, start = [], 0
    for x in xs:
        stop = start + x.shape[ax]
        grads.append(g[(slice(None),) * ax + (slice(start, stop),)])
        start = stop
    return tuple(grads)


@rule("stack", lambda *xs, axis=0: np.stack(xs, axis=axis), arity=-1, grads=("take(g, i, axis)",))
def stack(g, out, *xs, axis=0):
    """xs stacked along a new axis; d/dx_i = the gradient at position i of that axis"""
    ax = axis % out.ndim
    return tuple(g[(slice(None),) * ax + (i,)] for i in range(len(xs)))


# ----------------------------------------------------------------------------------------------
# linear algebra and the softmax family


@rule("matmul", np.matmul, arity=2, partial=True, grads=("g @ mT(b)", "mT(a) @ g"))
def matmul(g, out, a, b, needs=(True, True)):
    """a @ b; d/da = g @ b.T, d/db = a.T @ g (1-D operands promoted as numpy does)"""
    if a.ndim == 1 and b.ndim == 1:
        return g * b, g * a
    if a.ndim == 1:  # (k,) @ (k, n)
        ga = b @ g if needs[0] else None
        return ga, a.reshape((-1, 1)) @ g.reshape((1, -1)) if needs[1] else None
    if b.ndim == 1:  # (m, k) @ (k,)
        ga = g.reshape((-1, 1)) @ b.reshape((1, -1)) if needs[0] else None
        return ga, m.mT(a) @ g if needs[1] else None
    ga = m.matmul(g, m.mT(b)) if needs[0] else None
    return ga, m.matmul(m.mT(a), g) if needs[1] else None


@rule("softmax", _softmax, grads=("out * (g - sum(g * out, axis))",))
def softmax(g, out, x, axis=-1):
    """s = exp(x) / sum(exp(x)); d/dx = s * (g - sum(g * s))"""
    return (out * (g - (g * out).sum(axis=axis, keepdims=True)),)


@rule("log_softmax", _log_softmax, grads=("g - exp(out) * sum(g, axis)",))
def log_softmax(g, out, x, axis=-1):
    """x - log(sum(exp(x))); d/dx = g - softmax(x) * sum(g)"""
    return (g - m.exp(out) * g.sum(axis=axis, keepdims=True),)


# ----------------------------------------------------------------------------------------------
# --- convolution, pooling, embedding (nn layers) ---
# Images are channels-last (NHWC, as Keras): x (N, H, W, C), conv kernels w (KH, KW, C, F).
# `_im2col` lays every KH x KW window out as a row; `_col2im` adds rows back where they came
# from. On arrays they use sliding_window_view and a loop over the KH*KW kernel offsets (never
# over pixels); on nodes (the create_graph path) they are getitem/scatter nodes.


def _pad_hw(x, padding):
    """x zero-padded by ((top, bottom), (left, right)) along H and W."""
    (pt, pb), (pl, pr) = padding
    if not (pt or pb or pl or pr):
        return x
    n, h, w, c = x.shape
    inner = (slice(None), slice(pt, pt + h), slice(pl, pl + w), slice(None))
    return m.scatter(x, (n, h + pt + pb, w + pl + pr, c), inner)


def _windows(x, kh, kw, stride):
    """A view of shape (N, OH, OW, C, KH, KW) of the windows of an array x (N, H, W, C)."""
    v = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
    return v[:, :: stride[0], :: stride[1]]


def _im2col(x, kh, kw, stride, padding):
    """The windows of x as (N, OH, OW, KH, KW, C)."""
    x = _pad_hw(x, padding)
    if not isinstance(x, Node):
        return _windows(x, kh, kw, stride).transpose(0, 1, 2, 4, 5, 3)
    n, h, w, c = x.shape
    oh, ow = (h - kh) // stride[0] + 1, (w - kw) // stride[1] + 1
    rows = (np.arange(oh) * stride[0])[:, None, None, None] + np.arange(kh)[None, None, :, None]
    cols = (np.arange(ow) * stride[1])[None, :, None, None] + np.arange(kw)[None, None, None, :]
    return x[:, rows, cols, :]


def _col2im(cols, shape, stride, padding):
    """The adjoint of _im2col: add each window row back into zeros of x's shape (N, H, W, C)."""
    n, h, w, c = shape
    (pt, pb), (pl, pr) = padding
    hp, wp = h + pt + pb, w + pl + pr
    _, oh, ow, kh, kw, _ = cols.shape
    sh, sw = stride
    if isinstance(cols, Node):
        rows = (np.arange(oh) * sh)[:, None, None, None] + np.arange(kh)[None, None, :, None]
        cs = (np.arange(ow) * sw)[None, :, None, None] + np.arange(kw)[None, None, None, :]
        xp = m.scatter(cols, (n, hp, wp, c), (slice(None), rows, cs, slice(None)))
    else:
        xp = np.zeros((n, hp, wp, c), dtype=cols.dtype)
        for a in range(kh):  # a loop over the kernel's offsets, each a strided slice
            for b in range(kw):
                xp[:, a : a + sh * oh : sh, b : b + sw * ow : sw, :] += cols[:, :, :, a, b, :]
    if hp == h and wp == w:
        return xp
    return xp[:, pt : pt + h, pl : pl + w, :]


def _conv2d(x, w, stride=(1, 1), padding=((0, 0), (0, 0))):
    kh, kw, c, f = w.shape
    cols = _im2col(x, kh, kw, stride, padding)
    n, oh, ow = cols.shape[:3]
    return (cols.reshape(n * oh * ow, kh * kw * c) @ w.reshape(kh * kw * c, f)).reshape(
        n, oh, ow, f
    )


@rule(
    "conv2d",
    _conv2d,
    arity=2,
    partial=True,
    grads=("col2im(g @ mT(w), x.shape)", "mT(im2col(x, w.shape)) @ g"),
)
def conv2d(g, out, x, w, stride=(1, 1), padding=((0, 0), (0, 0)), needs=(True, True)):
    """y[n,i,j,f] = sum_abc xpad[n,si+a,sj+b,c] w[a,b,c,f]; d/dw = cols^T g, d/dx = col2im(g w^T)"""
    kh, kw, c, f = w.shape
    g2 = g.reshape((-1, f))
    dx = dw = None
    if needs[1]:
        cols = _im2col(x, kh, kw, stride, padding).reshape((-1, kh * kw * c))
        dw = (cols.T @ g2).reshape(w.shape)
    if needs[0]:  # skipped for a data input (the first layer's images)
        dcols = (g2 @ w.reshape((kh * kw * c, f)).T).reshape(tuple(out.shape[:3]) + (kh, kw, c))
        dx = _col2im(dcols, x.shape, stride, padding)
    return dx, dw


def _max_pool2d(x, size=(2, 2), stride=(2, 2)):
    return _windows(x, size[0], size[1], stride).max(axis=(4, 5))


@rule("max_pool2d", _max_pool2d, grads=("col2im(g * is_max(x, size, stride), x.shape)",))
def max_pool2d(g, out, x, size=(2, 2), stride=(2, 2)):
    """y[n,i,j,c] = max of x's window at (i*s, j*s); d/dx = 1 at the window's max (ties share)"""
    xr, outr = _raw(x), _raw(out)
    hit = _windows(xr, size[0], size[1], stride) == outr[:, :, :, :, None, None]
    hit = hit.astype(xr.dtype)
    hit /= hit.sum(axis=(4, 5), keepdims=True)
    n, oh, ow, c = outr.shape
    dcols = g.reshape((n, oh, ow, 1, 1, c)) * hit.transpose(0, 1, 2, 4, 5, 3)
    return (_col2im(dcols, xr.shape, stride, ((0, 0), (0, 0))),)


@rule("embedding", lambda w, indices: w[indices], grads=("scatter(g, w.shape, indices)",))
def embedding(g, out, w, indices):
    """y[...] = w[indices[...]] (rows of w); d/dw adds each gradient row to w's row it was read"""
    return (m.scatter(g, w.shape, indices),)


# ----------------------------------------------------------------------------------------------
# the table: every rule by name (tests check each one has a gradient case)

RULES = {name.rstrip("_"): obj for name, obj in list(globals().items()) if isinstance(obj, Op)}
