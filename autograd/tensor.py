"""Tensor: an n-d array node (numpy, float32 by default) on the shared rule table.

Methods are one line each and hand their op to `_unary`/`_binary`/`_apply`. Broadcasting: when
one operand of an elementwise op already has the result's shape (`x @ W + b`), numpy repeats
the other and the engine sums that operand's gradient back to its shape (`ops.m.sum_to`, the
one place where gradients are summed); viz labels the edge. Otherwise an explicit `broadcast_to`
node is inserted here first. Nothing here knows a derivative.
"""

import numbers
import operator

import numpy as np

from . import engine, ops
from .engine import Node, _takes_part

_new = object.__new__


# ----------------------------------------------------------------------------------------------
# turning user input into arrays, with clear errors


def _ragged_detail(data, depth=0):
    """Describe where a nested list is ragged, e.g. 'rows of lengths 2 and 3 at depth 1'."""
    if not isinstance(data, (list, tuple)):
        return None
    lengths = [len(x) if isinstance(x, (list, tuple)) else None for x in data]
    kinds = set(lengths)
    if len(kinds) > 1:
        shown = sorted({"a number" if n is None else str(n) for n in kinds})
        return f"items at depth {depth + 1} have lengths {' and '.join(shown)}"
    for x in data:
        d = _ragged_detail(x, depth + 1)
        if d:
            return d
    return None


def to_array(data, dtype=None, what="Tensor", copy=False):
    """`data` as an ndarray: floats and booleans keep their dtype, other numbers become float32.

    With `copy`, the result never shares memory with `data` (what Tensor() does)."""
    if data.__class__ is np.ndarray and dtype is None and data.dtype.kind in "fb":
        return data.copy() if copy else data  # the common case: float data or a mask
    if isinstance(data, Node):
        if not isinstance(data, Tensor):
            raise TypeError(
                f"{what}: got a {type(data).__name__}; a Tensor holds numbers or arrays "
                "(use Tensor(v.data) to copy a Value's number)"
            )
        data = data._data
    try:
        arr = np.asarray(data)
    except ValueError:
        detail = _ragged_detail(data) or "the nested lists are not rectangular"
        raise ValueError(
            f"{what}: ragged nested list ({detail}); every row must have the same length"
        ) from None
    if arr.dtype.kind not in "biuf":
        sample = arr.flat[0] if arr.size else None
        raise TypeError(
            f"{what}: data must be numbers, got dtype {arr.dtype} (e.g. {sample!r}); "
            "convert it to numbers first"
        )
    if dtype is not None:
        out = arr.astype(dtype, copy=False)
    elif arr.dtype.kind == "b" or (
        arr.dtype.kind == "f" and isinstance(data, np.ndarray | np.generic)
    ):
        out = arr  # booleans stay masks; float arrays keep their precision
    else:
        out = arr.astype(np.float32)
    if copy and (out is data or out.base is not None or not out.flags.owndata):
        out = out.copy()
    return out


def _weak_dtype(like, arr):
    """The dtype numpy gives `like` with a Python number of arr's kind: a list constant next to a
    float64 Tensor stays float64, next to float32 it is float32, 0.5 next to ints gives float64."""
    sample = {"b": False, "i": 0, "u": 0}.get(arr.dtype.kind, 0.0)
    return np.result_type(like, sample)


def _operand(op, x, like=None):
    """A non-Tensor operand as a constant: Python numbers stay, arrays/lists become ndarrays.

    A list takes the dtype numpy would give a Python number of its kind next to an array of
    dtype `like` (the Tensor operand's): `Tensor(float64) + [0.1]` stays float64."""
    if x.__class__ is float or x.__class__ is int:
        return x
    if isinstance(x, Node):
        raise TypeError(
            f"{op.name}: cannot mix a Tensor with a {type(x).__name__}; "
            "use Tensors with Tensors and Values with Values"
        )
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{op.name}: unsupported array of dtype {x.dtype}")
        return x
    if isinstance(x, numbers.Real | np.bool_):
        return float(x)
    if isinstance(x, (list, tuple)):
        if like is None:
            return to_array(x, what=op.name)
        try:
            raw = np.asarray(x)
        except ValueError:  # ragged: to_array says where
            raw = to_array(x, what=op.name)
        arr = to_array(raw, dtype=raw.dtype, what=op.name)
        dt = _weak_dtype(like, arr)
        out = arr.astype(dt, copy=False)
        if dt.kind in "iub" and out.dtype != arr.dtype and not np.array_equal(out, arr):
            raise OverflowError(
                f"{op.name}: the list {x!r} does not fit the Tensor's dtype {dt}; "
                "make the Tensor wider (dtype=) or the numbers smaller"
            )
        return out
    raise TypeError(
        f"{op.name}: unsupported operand {type(x).__name__} {x!r}; "
        "Tensor ops take Tensors, numbers or arrays"
    )


def _shape(x):
    return x._data.shape if isinstance(x, Tensor) else np.shape(x)


# ----------------------------------------------------------------------------------------------
# node creation


def _node(op, data, a, b, ctx, requires_grad):
    out = _new(Tensor)
    out._data = data if data.__class__ is np.ndarray else np.asarray(data)
    out.grad = None
    if engine.SLOW:
        out._ctx = None  # finish sets it on a node of the graph
        return engine.finish(out, op, a, b, ctx, requires_grad)
    if requires_grad:
        out._op = op
        out._a = a
        out._b = b
        out._ctx = ctx
        out.requires_grad = True
    else:
        out._op = None
        out.requires_grad = False
    return out


def _forward(op, datas, attrs, inputs):
    try:
        return op.forward(*datas, **attrs)
    except (ValueError, IndexError, TypeError) as e:
        shapes = ", ".join(str(_shape(x)) for x in inputs)
        extra = "".join(f", {k}={v!r}" for k, v in attrs.items())
        raise type(e)(f"{op.name}: {e} (input shapes {shapes}{extra})") from None


def _unary(op, a, ctx=None):
    try:
        data = op.forward(a._data, **ctx) if ctx else op.forward(a._data)
    except TypeError as e:  # e.g. numpy refuses -x on booleans
        raise TypeError(f"{op.name}: {e} (input of dtype {a._data.dtype})") from None
    return _node(op, data, a, None, ctx, a._op is not None or a.requires_grad)


def _reduce(op, a, axis, keepdims):
    ctx = {"axis": _norm_axis(op, axis, a._data.ndim), "keepdims": bool(keepdims)}
    return _unary(op, a, ctx)


def _is_int(x):
    """An int, numpy int or anything with __index__ (a 0-d int array); never a bool."""
    if isinstance(x, bool | np.bool_):
        return False
    if isinstance(x, numbers.Integral):
        return True
    try:
        operator.index(x)
    except TypeError:
        return False
    return True


def _check_axis(name, ax, ndim, of="axis"):
    """ax as an int in [0, ndim), or a clear error naming the op, the axis and the ndim.

    A 0-d input takes axis 0 or -1 (nothing to reduce), as numpy and torch accept."""
    if not _is_int(ax):
        raise TypeError(
            f"{name}: {of} must be an int (or a tuple of ints), got {type(ax).__name__} {ax!r}"
        )
    n = max(ndim, 1)
    if not -n <= ax < n:
        raise ValueError(
            f"{name}: {of} {ax} is out of range for {ndim}-d input (axes go from {-n} to {n - 1})"
        )
    return operator.index(ax) % n


def _norm_axis(op, axis, ndim):
    """None, an int or a tuple of distinct ints, each checked against ndim (see _check_axis)."""
    if axis is None:
        return None
    if axis.__class__ is int and -ndim <= axis < ndim:  # the common case, checked here
        return axis % ndim
    name = getattr(op, "name", op)
    if _is_int(axis):
        return _check_axis(name, axis, ndim)
    if not isinstance(axis, tuple | list):
        raise TypeError(
            f"{name}: axis must be None, an int or a tuple of ints, got "
            f"{type(axis).__name__} {axis!r}"
        )
    axes = tuple(_check_axis(name, ax, ndim) for ax in axis)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{name}: axis {tuple(axis)!r} names an axis twice (ndim {ndim})")
    return axes


_BROADCAST = {}  # (shape, shape) -> broadcast shape; graphs repeat the same few pairs


def _broadcast(op, shapes):
    shape = _BROADCAST.get(shapes)
    if shape is not None:
        return shape
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"{op.name}: shapes {' and '.join(str(s) for s in shapes)} cannot be broadcast "
            "together; they must be equal or 1 in each dimension, counted from the right"
        ) from None
    if len(_BROADCAST) < 4096:
        _BROADCAST[shapes] = shape
    return shape


def _binary(op, a, b):
    """An elementwise op of two operands, at least one a Tensor; broadcasting made explicit."""
    ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
    if ta:
        ad = a._data
        sa = ad.shape
    else:
        a = ad = _operand(op, a, b._data.dtype)
        sa = np.shape(ad)
    if tb:
        bd = b._data
        sb = bd.shape
    else:
        b = bd = _operand(op, b, ad.dtype)
        sb = np.shape(bd)
    if sa != sb:
        shape = _broadcast(op, (sa, sb))
        # One operand already of the result's shape (x @ W + b): numpy repeats the other in
        # the forward and the engine sums its gradient back to its shape, with no node between;
        # viz marks that edge. Both operands repeated, or a custom op: broadcast_to nodes.
        if (sa != shape and sb != shape) or not op.builtin:
            if ta and sa != shape:
                a = a.broadcast_to(shape)
                ad = a._data
            if tb and sb != shape:
                b = b.broadcast_to(shape)
                bd = b._data
    rg = (ta and (a._op is not None or a.requires_grad)) or (
        tb and (b._op is not None or b.requires_grad)
    )
    try:
        data = op.forward(ad, bd)
    except (TypeError, ValueError) as e:  # booleans subtracted, ints to negative int powers...
        dts = " and ".join(str(np.asarray(d).dtype) for d in (ad, bd))
        raise type(e)(f"{op.name}: {e} (operands of dtype {dts})") from None
    return _node(op, data, a, b, None, rg)


def _matmul(a, b):
    op = ops.matmul
    if a.__class__ is Tensor and b.__class__ is Tensor:  # the common case: two 2-d Tensors
        ad, bd = a._data, b._data
        if ad.ndim == 2 == bd.ndim and ad.shape[1] == bd.shape[0]:
            rg = a._op is not None or a.requires_grad or b._op is not None or b.requires_grad
            return _node(op, np.matmul(ad, bd), a, b, None, rg)
    if not isinstance(a, Tensor):
        a = _operand(op, a, b._data.dtype)
    if not isinstance(b, Tensor):
        b = _operand(op, b, a._data.dtype)
    sa, sb = _shape(a), _shape(b)
    if len(sa) == 0 or len(sb) == 0:
        raise ValueError(f"matmul: operands must be at least 1-d, got shapes {sa} and {sb}")
    if sa[-1] != sb[-2 if len(sb) > 1 else 0]:
        raise ValueError(
            f"matmul: shapes {sa} and {sb} do not fit: the inner dimensions "
            f"{sa[-1]} and {sb[-2 if len(sb) > 1 else 0]} differ"
        )
    if (len(sa) == 1 and len(sb) > 2) or (len(sb) == 1 and len(sa) > 2):
        raise ValueError(
            f"matmul: shapes {sa} and {sb}: a 1-d operand with a batched (>2-d) one is not "
            "supported; reshape the 1-d operand to 2-d"
        )
    if len(sa) > 2 or len(sb) > 2:  # batch dimensions broadcast by explicit nodes
        batch = _broadcast(op, (sa[:-2], sb[:-2]))
        if sa[:-2] != batch:
            a = Tensor._lift(a).broadcast_to(batch + sa[-2:])
        if sb[:-2] != batch:
            b = Tensor._lift(b).broadcast_to(batch + sb[-2:])
    rg = _takes_part(a) or _takes_part(b)
    ad = a._data if isinstance(a, Tensor) else a
    bd = b._data if isinstance(b, Tensor) else b
    return _node(op, np.matmul(ad, bd), a, b, None, rg)


def _index(index):
    """Normalise an index: Tensors and lists become arrays (booleans stay masks, as in numpy)."""
    if isinstance(index, tuple):
        for i in index:  # ints and integer arrays (x[rows, labels]) stay as they are
            if not (i.__class__ is int or (i.__class__ is np.ndarray and i.dtype.kind in "iu")):
                return tuple(_index(i) for i in index)
        return tuple(index)
    if isinstance(index, Tensor):
        index = index._data
    if isinstance(index, list):
        index = np.asarray(index)
    if isinstance(index, np.ndarray) and index.dtype.kind == "f":
        if not np.all(index == np.round(index)):
            raise IndexError("getitem: index arrays must hold integers")
        index = index.astype(np.int64)
    return index


def _apply_any(op, args, attrs):
    """Apply any Op to Tensors/constants (n-ary ops, custom ops)."""
    if op.arity > 0 and len(args) != op.arity:
        raise TypeError(f"{op.name}: takes {op.arity} inputs, got {len(args)}")
    if op.elementwise and len(args) == 2 and not attrs:
        return _binary(op, *args)
    like = next((a._data.dtype for a in args if isinstance(a, Tensor)), None)
    args = tuple(a if isinstance(a, Tensor) else _operand(op, a, like) for a in args)
    datas = [a._data if isinstance(a, Tensor) else a for a in args]
    data = _forward(op, datas, attrs, args)
    if not isinstance(data, np.ndarray | np.generic | numbers.Real):
        raise TypeError(f"{op.name}: forward returned {type(data).__name__}, not an array")
    data = np.asarray(data)
    rg = any(_takes_part(a) for a in args)
    if op.arity == 1:
        return _node(op, data, args[0], None, attrs or None, rg)
    if op.arity == 2:
        return _node(op, data, args[0], args[1], attrs or None, rg)
    return _node(op, data, args, None, attrs or None, rg)


# ----------------------------------------------------------------------------------------------
# the front end


class Tensor(Node):
    """An n-d array in the graph; `data` and `grad` are ndarrays (grad None before backward).

    `Tensor(data)` copies `data` (as torch.tensor does): later writes to the array you passed
    in do not change the Tensor, and an optimizer's step never writes into your array. Float
    arrays keep their dtype, booleans stay booleans (masks), other numbers become float32
    unless `dtype=` says otherwise. `detach()` shares the data (as in torch).

    >>> x = Tensor([[1., 2.], [3., 4.]], requires_grad=True, label="x")
    >>> (x @ x).sum().backward()
    >>> x.grad
    array([[ 7., 11.],
           [ 9., 13.]], dtype=float32)
    """

    __slots__ = ("_ctx",)  # the op's attrs (axis, shape, ...), None for most ops

    def __init__(self, data, requires_grad=False, label="", dtype=None):
        arr = to_array(data, dtype, copy=True)
        if requires_grad and arr.dtype.kind != "f":
            raise TypeError(
                f"Tensor: requires_grad=True needs a floating dtype, got {arr.dtype}; "
                "pass dtype=np.float32 or float values"
            )
        self._data = arr
        self.grad = None
        self._op = None
        self.requires_grad = bool(requires_grad)
        if label:
            self.label = label

    def __repr__(self):
        body = np.array2string(self._data, precision=4, separator=", ", threshold=20)
        extra = f", label={self.label!r}" if self.label else ""
        if self._op is not None:
            extra += f", op={self.op!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"Tensor({body}{extra})"

    # --- array facts ---------------------------------------------------------------------
    @property
    def shape(self):
        return self._data.shape

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def size(self):
        return self._data.size

    @property
    def dtype(self):
        return self._data.dtype

    def numpy(self):
        return self._data

    def __array__(self, dtype=None, copy=None):
        """np.asarray(t) gives the data (so matplotlib and numpy functions take Tensors)."""
        if copy:
            return np.array(self._data, dtype=dtype, copy=True)
        return self._data if dtype is None else self._data.astype(dtype, copy=False)

    def item(self):
        if self._data.size != 1:
            raise ValueError(f"item: only a one-element Tensor has an item, shape is {self.shape}")
        return self._data.item()

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d Tensor")
        return len(self._data)

    def __bool__(self):
        return bool(self._data)

    # float()/int() would cut the graph: only a one-element constant gives its number this way
    def __float__(self):
        return float(self._number("float"))

    def __int__(self):
        return int(self._number("int"))

    def __format__(self, spec):
        """f"{t:.3f}" formats a one-element Tensor's number; f"{t}" gives the repr."""
        if not spec:
            return repr(self)
        return format(self._data.item() if self._data.size == 1 else self._data, spec)

    def _number(self, what):
        if self._op is not None or self.requires_grad:
            raise engine.float_cut_error(self, what)
        if self._data.size != 1:
            raise TypeError(
                f"{what}(): only a one-element Tensor converts to a number, shape is {self.shape}"
            )
        return self._data.item()

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d Tensor (use .item() for its number)")
        return (self[i] for i in range(len(self._data)))

    def detach(self):
        """A new leaf sharing this data, outside the graph."""
        return _leaf(self._data)

    # --- arithmetic ----------------------------------------------------------------------
    def __add__(self, other):
        return _binary(ops.add, self, other)

    def __radd__(self, other):
        return _binary(ops.add, other, self)

    def __sub__(self, other):
        return _binary(ops.sub, self, other)

    def __rsub__(self, other):
        return _binary(ops.sub, other, self)

    def __mul__(self, other):
        return _binary(ops.mul, self, other)

    def __rmul__(self, other):
        return _binary(ops.mul, other, self)

    def __truediv__(self, other):
        return _binary(ops.div, self, other)

    def __rtruediv__(self, other):
        return _binary(ops.div, other, self)

    def __pow__(self, other):
        return _binary(ops.pow_var if isinstance(other, Tensor) else ops.pow_, self, other)

    def __rpow__(self, other):
        return _binary(ops.rpow, other, self)

    def __matmul__(self, other):
        return _matmul(self, other)

    def __rmatmul__(self, other):
        return _matmul(other, self)

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

    def maximum(self, other):
        return _binary(ops.maximum, self, other)

    def clip(self, lo=None, hi=None):
        """Elementwise min(max(x, lo), hi); bounds are numbers, arrays or constant Tensors that
        broadcast to x's shape. The gradient goes to x where lo <= x <= hi (bounds get none:
        for a bound that needs a gradient, use maximum(x, lo) and -maximum(-x, -hi))."""
        if lo is None and hi is None:
            raise ValueError("clip: give at least one of lo and hi")
        lo, hi = _clip_bound(self, lo, "lo"), _clip_bound(self, hi, "hi")
        return _unary(ops.clip, self, {"lo": lo, "hi": hi})

    # --- reductions ----------------------------------------------------------------------
    def sum(self, axis=None, keepdims=False):
        return _reduce(ops.sum_, self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return _reduce(ops.mean, self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return _reduce(ops.max_, self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return _reduce(ops.min_, self, axis, keepdims)

    def softmax(self, axis=-1):
        return _unary(ops.softmax, self, {"axis": _norm_axis(ops.softmax, axis, self.ndim)})

    def log_softmax(self, axis=-1):
        ax = _norm_axis(ops.log_softmax, axis, self.ndim)
        return _unary(ops.log_softmax, self, {"axis": ax})

    # --- shapes and indexing -------------------------------------------------------------
    def reshape(self, *shape):
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
        try:
            data = self._data.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a Tensor of shape {self.shape} ({self.size} elements) "
                f"into shape {shape}"
            ) from None
        return _node(ops.reshape, data, self, None, {"shape": data.shape}, _takes_part(self))

    def transpose(self, *axes):
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], tuple | list)):
            axes = tuple(axes[0] or ())
        if axes:
            ndim = self.ndim
            if len(axes) != ndim:
                raise ValueError(
                    f"transpose: axes {axes} must name each of the {ndim} axes of a "
                    f"{ndim}-d Tensor once, got {len(axes)}"
                )
            axes = tuple(_check_axis("transpose", a, ndim) for a in axes)
            if len(set(axes)) != ndim:
                raise ValueError(
                    f"transpose: axes {axes} name an axis twice; they must be a permutation of "
                    f"0..{ndim - 1} for a {ndim}-d Tensor"
                )
        return _unary(ops.transpose, self, {"axes": axes or None})

    @property
    def T(self):
        return self.transpose()

    def swapaxes(self, a, b):
        a, b = _check_axis("swapaxes", a, self.ndim), _check_axis("swapaxes", b, self.ndim)
        axes = list(range(self.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return self.transpose(axes)

    def broadcast_to(self, shape):
        shape = tuple(shape)
        if shape == self.shape:
            return self
        try:
            data = ops.broadcast_view(self._data, shape)
        except ValueError:
            raise ValueError(
                f"broadcast_to: cannot broadcast shape {self.shape} to {shape}; "
                "dimensions must be equal or 1, counted from the right"
            ) from None
        return _node(ops.broadcast_to, data, self, None, {"shape": shape}, _takes_part(self))

    def __getitem__(self, index):
        index = _index(index)
        try:
            data = self._data[index]
        except IndexError as e:
            raise IndexError(f"getitem: {e} (Tensor of shape {self.shape})") from None
        return _node(ops.getitem, data, self, None, {"index": index}, _takes_part(self))

    # --- comparisons look at .data and give boolean arrays; == stays identity ---------------
    def __lt__(self, other):
        return self._data < _cmp(other)

    def __le__(self, other):
        return self._data <= _cmp(other)

    def __gt__(self, other):
        return self._data > _cmp(other)

    def __ge__(self, other):
        return self._data >= _cmp(other)

    __hash__ = Node.__hash__

    # --- what the engine asks of a front end -----------------------------------------------
    @classmethod
    def _apply(cls, op, args, attrs):
        return _apply_any(op, args, attrs)

    @staticmethod
    def _lift(x):
        return x if isinstance(x, Tensor) else _leaf(np.asarray(x))

    def _size(self):
        return self._data.size

    def _ones(self):
        return np.ones_like(self._data)

    def _ones_like_grad(self, g):
        return _leaf(np.ones_like(g._data)) if isinstance(g, Tensor) else np.ones_like(g)

    def _zeros(self, as_node):
        z = np.zeros_like(self._data)
        return _leaf(z) if as_node else z

    def _zero_grad_value(self):
        return None

    def _constant(self, x):
        return x if isinstance(x, Tensor) else Tensor(x, dtype=self._data.dtype)

    def _check_seed(self, g):
        if isinstance(g, Tensor):
            g = g._data
        g = to_array(g, self._data.dtype, what="backward")
        if g.shape != self._data.shape:
            raise engine.BackwardError(
                f"backward: grad has shape {g.shape} but the root has shape {self.shape}"
            )
        return g

    def _check_hook_grad(self, g, as_node, what="a hook"):
        shape, dtype = self._data.shape, self._data.dtype
        want = f"a hook must return None or a gradient of the node's shape {shape}"
        try:
            arr = to_array(g._data if isinstance(g, Tensor) else g, dtype, what="hook")
        except (TypeError, ValueError):
            raise TypeError(f"{what} returned {type(g).__name__} {g!r:.60}; {want}") from None
        if arr.shape != shape:
            raise engine.BackwardError(f"{what} returned a gradient of shape {arr.shape}; {want}")
        if as_node:
            return g if isinstance(g, Tensor) else _leaf(arr)
        return arr

    def _check_grad(self, g, op, i, as_node):
        shape = self._data.shape
        if as_node:
            if not isinstance(g, Tensor):
                g = Tensor(g, dtype=self._data.dtype)
            gshape = g._data.shape
        else:
            if g.__class__ is not np.ndarray:
                try:
                    g = np.asarray(g, dtype=self._data.dtype)
                except (TypeError, ValueError):
                    raise engine.BackwardError(
                        f"{op.name}: its vjp returned {type(g).__name__} {g!r:.60} for input "
                        f"{i}, a Tensor of shape {shape} {self._data.dtype}; a vjp must return "
                        "an array of numbers of its input's shape (or None)"
                    ) from None
            elif g.dtype.kind not in "biuf":
                raise engine.BackwardError(
                    f"{op.name}: its vjp returned an array of dtype {g.dtype} for input {i}, a "
                    f"Tensor of shape {shape} {self._data.dtype}; a vjp must return numbers"
                )
            elif g.dtype != self._data.dtype:
                g = g.astype(self._data.dtype)
            gshape = g.shape
        if gshape != shape:
            raise engine.BackwardError(
                f"{op.name}: its vjp returned a gradient of shape {gshape} for input {i}, "
                f"which has shape {shape}"
            )
        return g


def _cmp(x):
    return x._data if isinstance(x, Tensor) else x


def _leaf(arr, requires_grad=False):
    """A leaf Tensor on `arr` itself, no copy (for arrays made here or shared on purpose)."""
    t = _new(Tensor)
    t._data = arr
    t.grad = None
    t._op = None
    t.requires_grad = requires_grad
    return t


def _clip_bound(x, bound, name):
    """A clip bound as a number or an array that broadcasts to x's shape, or a clear error."""
    if bound is None or bound.__class__ is float or bound.__class__ is int:
        return bound
    if isinstance(bound, Tensor):
        if _takes_part(bound):
            raise TypeError(
                f"clip: the bound {name} is a Tensor that requires grad, but clip gives its "
                f"bounds no gradient; pass {name}.detach(), or for a gradient to the bound use "
                "maximum(x, lo) (lower) and -maximum(-x, -hi) (upper)"
            )
        bound = bound._data
    elif isinstance(bound, Node):
        raise TypeError(f"clip: the bound {name} is a {type(bound).__name__}; use a number")
    elif isinstance(bound, numbers.Real):
        return float(bound)
    else:
        bound = _operand(ops.clip, bound, x._data.dtype)
    if bound.shape != x.shape:
        try:
            ok = np.broadcast_shapes(bound.shape, x.shape) == x.shape
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(
                f"clip: the bound {name} of shape {bound.shape} does not broadcast to x's shape "
                f"{x.shape}"
            )
    return bound


# ----------------------------------------------------------------------------------------------
# functions


def concatenate(tensors, axis=0):
    """Join Tensors along an existing axis (numpy's name)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate: needs at least one Tensor")
    ndim = len(_shape(tensors[0]))
    if ndim == 0:
        raise ValueError("concatenate: 0-d Tensors have no axis to join along; use stack")
    return _apply_any(ops.concatenate, tensors, {"axis": _check_axis("concatenate", axis, ndim)})


def stack(tensors, axis=0):
    """Join Tensors along a new axis."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: needs at least one Tensor")
    ndim = len(_shape(tensors[0])) + 1  # the result's
    return _apply_any(ops.stack, tensors, {"axis": _check_axis("stack", axis, ndim)})


def maximum(a, b):
    """Elementwise maximum of two Tensors (or a Tensor and a constant)."""
    return _binary(ops.maximum, a, b)


# ----------------------------------------------------------------------------------------------
# convolution, pooling, embedding (the nn layers' ops); images are channels-last: (N, H, W, C)


def _pair(op, name, v):
    """An int or a pair of ints as a pair of positive ints."""
    pair = (v, v) if isinstance(v, numbers.Integral) else tuple(v)
    if len(pair) != 2 or not all(isinstance(i, numbers.Integral) and i > 0 for i in pair):
        raise ValueError(f"{op}: {name} must be a positive int or a pair of them, got {v!r}")
    return int(pair[0]), int(pair[1])


def _conv_padding(padding, h, w, kh, kw, stride):
    """((top, bottom), (left, right)) from an int, a pair, 'valid' or 'same' (Keras's rule)."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":  # output ceil(size / stride); the extra pixel goes bottom/right
        pads = []
        for size, k, s in ((h, kh, stride[0]), (w, kw, stride[1])):
            total = max((-(-size // s) - 1) * s + k - size, 0)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    ok = isinstance(padding, numbers.Integral) or (
        isinstance(padding, tuple | list)
        and len(padding) == 2
        and all(isinstance(p, numbers.Integral) for p in padding)
    )
    if not ok or min((padding,) if isinstance(padding, numbers.Integral) else padding) < 0:
        raise ValueError(
            f"conv2d: padding must be 'valid', 'same', an int >= 0 or a pair of them, "
            f"got {padding!r}"
        )
    ph, pw = (padding, padding) if isinstance(padding, numbers.Integral) else padding
    return (int(ph), int(ph)), (int(pw), int(pw))


def conv2d(x, w, stride=1, padding=0):
    """2-d convolution (cross-correlation, as in every framework), channels-last like Keras.

    Args:
        x: input of shape (N, H, W, C): a batch of images with C channels last (NHWC).
        w: kernel of shape (KH, KW, C, F): F filters of KH x KW over C channels (Keras's layout).
        stride: an int or (sh, sw).
        padding: zeros around H and W: an int, (ph, pw), 'valid' (= 0) or 'same' (the output
            keeps ceil(H / stride) rows, as Keras pads).

    Returns:
        A Tensor of shape (N, OH, OW, F), OH = (H + pads - KH) // sh + 1 (OW alike).

    >>> import numpy as np
    >>> from autograd import Tensor, conv2d
    >>> x = Tensor(np.arange(9.0).reshape(1, 3, 3, 1))      # one 3x3 image, one channel
    >>> w = Tensor(np.ones((2, 2, 1, 1)), requires_grad=True)  # one 2x2 filter that sums
    >>> conv2d(x, w).data[0, :, :, 0]
    array([[ 8., 12.],
           [20., 24.]])
    """
    op = ops.conv2d
    xs, ws = _shape(x), _shape(w)
    if len(xs) != 4 or len(ws) != 4:
        raise ValueError(
            f"conv2d: expects x of shape (N, H, W, C) and w of shape (KH, KW, C, F) "
            f"(channels last), got x {xs} and w {ws}"
        )
    if xs[3] != ws[2]:
        raise ValueError(
            f"conv2d: x {xs} has {xs[3]} channels (last axis) but w {ws} expects {ws[2]} "
            "(its third axis)"
        )
    stride = _pair("conv2d", "stride", stride)
    pad = _conv_padding(padding, xs[1], xs[2], ws[0], ws[1], stride)
    hp, wp = xs[1] + sum(pad[0]), xs[2] + sum(pad[1])
    if hp < ws[0] or wp < ws[1]:
        raise ValueError(
            f"conv2d: the {ws[0]}x{ws[1]} kernel of w {ws} does not fit in x {xs} "
            f"padded to {hp}x{wp}"
        )
    return _apply_any(op, [x, w], {"stride": stride, "padding": pad})


def max_pool2d(x, size=2, stride=None):
    """Max over size x size windows of a channels-last batch x (N, H, W, C).

    `stride` defaults to `size` (windows side by side); rows or columns left over at the bottom
    and right are dropped ('valid', as Keras's default). Ties share the gradient equally.

    >>> import numpy as np
    >>> from autograd import Tensor, max_pool2d
    >>> x = Tensor(np.arange(16.0).reshape(1, 4, 4, 1))
    >>> max_pool2d(x).data[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    xs = _shape(x)
    size = _pair("max_pool2d", "size", size)
    stride = size if stride is None else _pair("max_pool2d", "stride", stride)
    if len(xs) != 4:
        raise ValueError(f"max_pool2d: expects x of shape (N, H, W, C) (channels last), got {xs}")
    if xs[1] < size[0] or xs[2] < size[1]:
        raise ValueError(
            f"max_pool2d: the {size[0]}x{size[1]} window does not fit in x of shape {xs}"
        )
    return _apply_any(ops.max_pool2d, [x], {"size": size, "stride": stride})


def embedding(weight, indices):
    """Rows of `weight` (V, D) picked by integer `indices` of any shape: shape indices.shape + (D,).

    The gradient of a row read several times is the sum of its gradients.

    >>> from autograd import Tensor, embedding
    >>> w = Tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 4.0]], requires_grad=True)
    >>> y = embedding(w, [[2, 1], [2, 2]]); y.shape
    (2, 2, 2)
    >>> y.sum().backward(); w.grad
    array([[0., 0.],
           [1., 1.],
           [3., 3.]], dtype=float32)
    """
    ws = _shape(weight)
    if len(ws) != 2:
        raise ValueError(f"embedding: weight must be 2-d (vocabulary, dim), got shape {ws}")
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind == "f" and np.all(idx == np.round(idx)):
        idx = idx.astype(np.int64)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= ws[0]):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(
            f"embedding: index {bad} is out of range for weight of shape {ws} "
            f"(indices must be in [0, {ws[0]}))"
        )
    return _apply_any(ops.embedding, [weight], {"indices": idx})
