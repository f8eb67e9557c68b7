"""The graph machinery shared by Value and Tensor.

`Node` (the protocol every graph node follows), grad mode (`no_grad`), module scopes, anomaly
detection, the iterative topological sort, the backward driver (also behind `backward_steps`
and `grad`) with its two fast paths, and a malloc setting for training loops. The derivative
rules live in ops.py, the front ends in value.py and tensor.py; only `grad` imports the front
ends (to wrap plain numbers it is given).
"""

import math
import operator
import os
import re
import sys
import warnings
import weakref

import numpy as np

# ----------------------------------------------------------------------------------------------
# global switches: the front ends read SLOW once per op and take the careful path only when set

GRAD = True  # False inside no_grad(): ops build no graph
ANOMALY = False  # True inside detect_anomaly()
SCOPE = None  # dotted name of the nn module running now, tagged on the nodes it creates
SLOW = False  # any of the above differs from its default
HOOKED = weakref.WeakSet()  # the live nodes with hooks (backward looks for hooks only if any)


WRITTEN = {}  # id -> node whose .data was written since the last op built a graph node


def _update_slow():
    global SLOW
    SLOW = (not GRAD) or ANOMALY or SCOPE is not None or bool(WRITTEN)


def _data_written(node, x):
    """`node.data = x`: store it, and remember the node until the next op builds a graph node.

    A backward that runs while the list is not empty checks that none of these nodes is in
    its graph: every node of that graph was made before the write, so it would differentiate
    data that the forward pass never saw (`b = a * a; a.data = 10; b.backward()`). The next op
    takes the careful path once (SLOW) and forgets the list, so an optimizer step costs a dict
    entry per parameter and the next forward pass one slow op.
    """
    global SLOW
    node._data = x
    if node._op is not None or node.requires_grad:
        WRITTEN[id(node)] = node
        SLOW = True


class AnomalyError(FloatingPointError):
    """Raised inside `detect_anomaly()` at the first NaN or inf, forward or backward."""


class BackwardError(RuntimeError):
    """Raised when backward cannot run as asked (bad seed gradient, a vjp of the wrong shape)."""


# ----------------------------------------------------------------------------------------------
# memory: keep a pad at the top of glibc's heap


def keep_heap_pad(nbytes=4 << 20):
    """Ask glibc's malloc to keep `nbytes` of freed memory at the top of its heap.

    A training step frees its whole graph at the end; by default glibc then gives that memory
    back to the system and page-faults it in again at the next step (hundreds of faults a step
    for a batch of 256 in benchmarks/tensor_mlp.py, 1.3x -> 2.3x the numpy floor). A 4 MB pad
    (M_TOP_PAD, what MALLOC_TOP_PAD_ sets) avoids that. Done once at import on glibc; set
    STEPGRAD_HEAP_PAD=0 in the environment to leave malloc alone. Returns True if it was set.
    """
    if sys.platform != "linux" or not nbytes:
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(-2, int(nbytes)))  # -2 is M_TOP_PAD
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to do
        return False


if os.environ.get("STEPGRAD_HEAP_PAD", "").strip() != "0":
    keep_heap_pad()


# ----------------------------------------------------------------------------------------------
# the node protocol


class Node:
    """What Value and Tensor share: data, grad, label, op, parents, backward, hooks.

    Slots keep nodes small and free of reference cycles: parents live in `_a`/`_b` (or a tuple
    in `_a` for ops with more inputs), constants stay plain numbers. What few nodes have (a
    label, hooks, a module scope, where detect_anomaly saw it made and the fingerprints of its
    inputs) lives in one dict in `_more`, so every node is four slots smaller (a scalar op
    allocates and frees 6% faster); only Tensor has `_ctx` (an op's attrs: axis, shape, ...).
    Optional slots (`_ctx`, `_more`) are read with a default (`getattr(node, "_ctx", None)`),
    off the hot paths. No `__getattr__`: with one, CPython
    cannot specialise any attribute read on a node, and forward and backward run 1.3-2x slower.
    """

    __slots__ = (
        "_data",  # read and written through the `data` property below
        "grad",
        "_op",
        "_a",
        "_b",
        "requires_grad",
        "_more",  # a dict: label, hooks, scope, where, seen (fingerprints under detect_anomaly)
        "__weakref__",
    )
    # __array_ufunc__ / __array_function__ (numpy meeting a node): set from interop.py below

    def _get(self, key, default=None):
        """What `_more` holds under `key`, or `default`."""
        more = getattr(self, "_more", None)
        return default if more is None else more.get(key, default)

    def _set(self, key, value):
        more = getattr(self, "_more", None)
        if more is None:
            self._more = {key: value}
        else:
            more[key] = value

    @property
    def label(self):
        """A name for drawings and messages ('' unless given)."""
        return self._get("label", "")

    @label.setter
    def label(self, text):
        self._set("label", text)

    # --- data: reads are a C-level getter; a write is remembered until the next op --------
    data = property(
        operator.attrgetter("_data"),
        _data_written,
        doc="The number (Value) or array (Tensor). Writing it between the forward pass and "
        "backward is refused at backward (the gradient would belong to a graph that no longer "
        "exists); writing it after backward (an optimizer step) is what training does.",
    )

    # --- read-only views -----------------------------------------------------------------
    @property
    def op(self):
        """Name of the op that made this node ('' for a leaf)."""
        return "" if self._op is None else self._op.name

    @property
    def is_leaf(self):
        return self._op is None

    @property
    def operands(self):
        """All inputs of the op in order, constants (plain numbers/arrays) included."""
        return () if self._op is None else inputs_of(self)

    @property
    def parents(self):
        """The nodes this node was computed from, in order (constants left out)."""
        return tuple(p for p in self.operands if isinstance(p, Node))

    @property
    def attrs(self):
        """The op's keyword arguments (axis, shape, ...), empty for most ops."""
        ctx = getattr(self, "_ctx", None)
        return dict(ctx) if ctx else {}

    @property
    def scope(self):
        """Dotted name of the nn module that created this node, or None."""
        return self._get("scope")

    @property
    def where(self):
        """file:line of the user code that created this node (recorded under detect_anomaly)."""
        return self._get("where")

    # --- backward ------------------------------------------------------------------------
    def backward(self, grad=None, create_graph=False):
        """Fill `.grad` of every node this one depends on (see the README's backward policy)."""
        if WRITTEN:
            _check_written(self)
        if not create_graph and not HOOKED and not ANOMALY and self._op is not None:
            if self._data.__class__ is float:
                if grad is None:
                    return _backward_floats(self)
            else:
                return _backward_arrays(self, _seed(self, grad, False))
        for _ in _run(self, grad, create_graph, steps=False):
            pass

    def register_hook(self, fn):
        """Call `fn(grad)` when this node's gradient of a backward pass is complete.

        If `fn` returns something other than None, it replaces the gradient. Returns a handle
        whose `remove()` takes the hook off again.
        """
        if not callable(fn):
            raise TypeError(f"register_hook: expected a function, got {type(fn).__name__}")
        hooks = self._get("hooks")
        if hooks is None:
            hooks = []
            self._set("hooks", hooks)
        hooks.append(fn)
        HOOKED.add(self)  # a weak set: a node freed with its hooks leaves it by itself
        return _HookHandle(self, fn)

    def zero_grad(self):
        """Reset this node's gradient (0.0 for a Value, None for a Tensor)."""
        self.grad = self._zero_grad_value()

    # --- in-place operators: p -= lr * p.grad on a parameter must not silently rebind p ------
    # On an intermediate, `h += 1` is `h = h + 1` (a new node, the graph stays right). On a leaf
    # that requires grad, rebinding would leave the parameter unchanged (a training loop that
    # does not train): refused with the fix, or done in place under no_grad() as torch does.
    def __iadd__(self, other):
        return _inplace(self, "+=", "__add__", other)

    def __isub__(self, other):
        return _inplace(self, "-=", "__sub__", other)

    def __imul__(self, other):
        return _inplace(self, "*=", "__mul__", other)

    def __itruediv__(self, other):
        return _inplace(self, "/=", "__truediv__", other)

    def __ipow__(self, other):
        return _inplace(self, "**=", "__pow__", other)

    def __imatmul__(self, other):
        return _inplace(self, "@=", "__matmul__", other)


def _inplace(node, sym, method, other):
    if node._op is not None or not node.requires_grad:
        return getattr(node, method)(other)  # an intermediate or a constant: a new node
    if not GRAD:  # under no_grad(): update the leaf itself, as torch does
        new = getattr(node, method)(other)
        data = new._data
        if data.__class__ is np.ndarray and node._data.__class__ is np.ndarray:
            if data.shape != node._data.shape:
                raise ValueError(
                    f"{sym} on {node_name(node)} under no_grad(): the result has shape "
                    f"{data.shape}, so it cannot be written into the leaf in place"
                )
            data = data.astype(node._data.dtype, copy=False)
        node._data = data
        return node
    name = node.label if node.label.isidentifier() else "p"
    raise TypeError(
        f"{name} {sym} ...: an in-place operator on {node_name(node)} that requires grad would "
        f"rebind {name} to a new node ({name} {sym[:-1]} ...) and leave the leaf itself "
        f"unchanged, so a training loop would silently not train. To update a parameter, "
        f"write {name}.data {sym} ... (e.g. {name}.data -= lr * {name}.grad), or do it inside "
        f"`with no_grad():`. For a running total, start from a plain number ({name} = 0.0) or a "
        f"leaf made with requires_grad=False."
    )


class _HookHandle:
    __slots__ = ("node", "fn")

    def __init__(self, node, fn):
        self.node, self.fn = node, fn

    def remove(self):
        hooks = self.node._get("hooks")
        if hooks and self.fn in hooks:
            hooks.remove(self.fn)
            if not hooks:
                HOOKED.discard(self.node)


def inputs_of(node):
    """The op inputs of a non-leaf node, in order: nodes and constants."""
    arity = node._op.arity
    if arity == 1:
        return (node._a,)
    if arity == 2:
        return (node._a, node._b)
    return node._a


# ----------------------------------------------------------------------------------------------
# modes: no_grad, module scopes, anomaly detection


def _decorate(cm, fn):
    """`@cm()` on a function: each call runs inside a fresh instance of the context manager
    (a fresh one per call, so a recursive call cannot overwrite the state an outer one saved)."""
    import functools

    make = type(cm)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with make():
            return fn(*args, **kwargs)

    return wrapper


class no_grad:
    """Build no graph inside: ops give leaves. A context manager and a decorator (`@no_grad`
    or `@no_grad()`).

    >>> from autograd import Value, no_grad
    >>> with no_grad():
    ...     y = Value(2.0) * 3
    >>> y.is_leaf
    True
    >>> @no_grad
    ... def triple(v):
    ...     return v * 3
    >>> triple(Value(2.0)).is_leaf
    True
    """

    def __new__(cls, fn=None):
        if fn is None:
            return super().__new__(cls)
        if not callable(fn):
            raise TypeError(
                f"no_grad: takes no arguments as a context manager (with no_grad(): ...) or a "
                f"function as a decorator (@no_grad); got {type(fn).__name__} {fn!r}"
            )
        return super().__new__(cls)(fn)  # bare @no_grad: the wrapped function

    def __enter__(self):
        global GRAD
        self._prev = GRAD
        GRAD = False
        _update_slow()

    def __exit__(self, *exc):
        global GRAD
        GRAD = self._prev
        _update_slow()

    __call__ = _decorate


class gc_paused:
    """Pause Python's cyclic garbage collector inside (opt-in; never on by default).

    stepgrad's graphs hold no reference cycles, so they are freed by reference counting alone,
    but building one allocates a node per op and makes the collector scan the young heap again
    and again (a scalar step of 65,000 nodes triggers hundreds of collections). Inside
    `with gc_paused():` the collector does not run; on exit it is switched back on if it was on
    before. Your own code inside must not make cycles it relies on the collector to free
    (they are collected after the block). A context manager and a decorator.

    >>> import gc
    >>> from autograd import Value, gc_paused
    >>> with gc_paused():
    ...     paused = not gc.isenabled()
    ...     y = Value(2.0) * 3
    >>> paused, gc.isenabled()
    (True, True)
    """

    def __enter__(self):
        import gc

        self._was = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *exc):
        if self._was:
            import gc

            gc.enable()

    __call__ = _decorate


def is_grad_enabled():
    return GRAD


class scope:
    """Tag the nodes created inside with a dotted name (nn uses it per module)."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        global SCOPE
        self._prev = SCOPE
        SCOPE = self.name
        _update_slow()
        return self

    def __exit__(self, *exc):
        global SCOPE
        SCOPE = self._prev
        _update_slow()


class detect_anomaly:
    """Raise at the first NaN or inf, forward or backward, naming the op and the user's line.

    While active, every new node remembers the file:line of the code that created it.
    """

    def __enter__(self):
        global ANOMALY
        self._prev = ANOMALY
        ANOMALY = True
        _update_slow()
        return self

    def __exit__(self, *exc):
        global ANOMALY
        ANOMALY = self._prev
        _update_slow()


_LIBRARY_DIRS = tuple(
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), d) + os.sep
    for d in ("autograd", "nn", "viz")
)


def _user_frame():
    """file:line of the innermost caller outside stepgrad's own packages."""
    f = sys._getframe(1)
    while f is not None:
        path = f.f_code.co_filename
        if not path.startswith(_LIBRARY_DIRS) and "contextlib" not in path:
            return f"{path}:{f.f_lineno}"
        f = f.f_back
    return "<unknown>"


def _not_finite(x):
    """'nan' or 'inf' when x (a float, array or node) has one, else ''."""
    x = x._data if isinstance(x, Node) else x
    if x is None:
        return ""
    if isinstance(x, float):
        return "nan" if x != x else ("inf" if x in (math.inf, -math.inf) else "")
    x = np.asarray(x)
    if x.dtype.kind not in "fc":
        return ""
    if np.isnan(x).any():
        return "nan"
    return "inf" if np.isinf(x).any() else ""


def describe(x):
    """A short text for a value in error messages: the number, or shape and stats of an array."""
    x = x._data if isinstance(x, Node) else x
    if isinstance(x, np.ndarray) and x.size > 6:
        nan = int(np.isnan(x).sum()) if x.dtype.kind in "fc" else 0
        if nan == x.size:
            return f"array{x.shape} {x.dtype}, all nan"
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # nanmean of only infinities
            stats = (
                f"array{x.shape} {x.dtype} min={np.nanmin(x):.4g} "
                f"mean={np.nanmean(x):.4g} max={np.nanmax(x):.4g}"
            )
        return stats + (f", {nan} nan" if nan else "")
    if isinstance(x, np.ndarray):
        return np.array2string(x, precision=4, separator=", ")
    return repr(x)


def finish(out, op, a, b, ctx=None, requires_grad=True):
    """Slow path of node creation: no_grad, module scope tags, anomaly checks, and forgetting
    the nodes whose data was written (this node is made after those writes)."""
    if GRAD and requires_grad:
        out._op, out._a, out._b = op, a, b
        if ctx is not None:  # the op's attrs (axis, shape, ...): only Tensors have this slot
            out._ctx = ctx
        out.requires_grad = True
        if SCOPE is not None:
            out._more = {"scope": SCOPE}
        if WRITTEN:
            WRITTEN.clear()
            _update_slow()
    else:
        out._op = None
        out.requires_grad = False
    if ANOMALY:
        ins = (a,) if op.arity == 1 else (a, b) if op.arity == 2 else a
        if out._op is not None:
            out._set(
                "seen", tuple(_fingerprint(x._data) if isinstance(x, Node) else None for x in ins)
            )
        where = _user_frame()
        out._set("where", where)
        bad = _not_finite(out._data)
        if bad:
            shown = ", ".join(describe(i) for i in ins)
            for i, x in enumerate(ins):
                came = _not_finite(x)
                if came:
                    what = node_name(x) if isinstance(x, Node) else "a constant"
                    made = x._get("where") if isinstance(x, Node) else None
                    whence = (
                        "check the data it was made from"
                        if not isinstance(x, Node) or x._op is None
                        else "it was made outside detect_anomaly()"
                        if made is None
                        else f"it was made at {made}"
                    )
                    raise AnomalyError(
                        f"{op.name} at {where}: its input {i}, {what}, already holds {came}, "
                        f"so the {came} came in with the inputs and {op.name} did not make it; "
                        f"{whence}; inputs: {shown}"
                    )
            raise AnomalyError(
                f"{op.name} produced {bad} in the forward pass at {where}; inputs: {shown}"
            )
    return out


# ----------------------------------------------------------------------------------------------
# float(v), math.exp(v), round(v) on a node that takes part in a graph: refuse, do not cut it

_CALL = re.compile(r"\b(?:math|cmath|np|numpy)\.(\w+)\s*\(")


def _call_site():
    """(source of the call the user's code is making, 'file:line'), or ('', ''): the innermost
    frame outside stepgrad's own packages (as `_user_frame`), at the expression it runs."""
    import linecache

    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_LIBRARY_DIRS):
        f = f.f_back
    if f is None:
        return "", ""
    where = f"{f.f_code.co_filename}:{f.f_lineno}"
    try:
        line, end, col, end_col = list(f.f_code.co_positions())[f.f_lasti // 2]
    except (IndexError, ValueError, AttributeError):
        return "", where
    if line is None or line != end or col is None or end_col is None:
        return "", where
    return linecache.getline(f.f_code.co_filename, line)[col:end_col], where


def float_cut_error(node, what):
    """The TypeError for float()/int()/round()/math.*() on a node that takes part in a graph.

    `what` is the conversion ('float', 'int', 'round'). The message names the user's call (the
    innermost frame outside stepgrad) and the stepgrad method to use instead.
    """
    from . import interop

    kind = type(node).__name__
    source, where = _call_site()
    m = _CALL.search(source)
    fn = m.group(1) if m else what
    arg = source[m.end() :].rsplit(")", 1)[0].strip() if m else ""
    if not arg and source.startswith(f"{what}(") and source.endswith(")"):
        arg = source[len(what) + 1 : -1].strip()
    arg = _node_argument(arg, node) if "," in arg else arg
    if arg and not arg.isidentifier():
        arg = f"({arg})"
    elif not arg:
        arg = node.label if node.label.isidentifier() else "v"
    method = interop._SPELLING.get(fn, "") if m else ""
    method = method.replace("x", arg, 1) if method.startswith("x") else ""
    role = f"made by {node.op}" if node._op is not None else "a leaf that requires grad"
    instead = (
        f"use {method}"
        if method
        else (f"use {kind} methods ({arg}.exp(), {arg}.log(), ...) or a custom op (autograd.op)")
    )
    return TypeError(
        f"{source or f'{what}({arg})'}{f' at {where}' if where else ''}: {fn}() would turn the "
        f"{kind} {arg} ({role}) into a plain number and cut it out of the graph, so gradients "
        f"would be wrong without a word. To keep the gradient, {instead}; to take the number "
        f"on purpose, use {arg}.data or {arg}.item() (f'{{{arg}:.3f}}' and comparisons work too)."
    )


def _node_argument(args, node):
    """Of a call's arguments as written (`v, 2`), the one that is the node: the one named as the
    node's label, else the only one that is not a literal, else the first."""
    import ast

    text = f"f({args})"
    try:
        call = ast.parse(text, mode="eval").body
    except SyntaxError:
        return args
    given = [*call.args, *(k.value for k in call.keywords)]  # round(number=v, ndigits=2)
    parts = [(ast.get_source_segment(text, a), a) for a in given]
    named = [p for p, a in parts if isinstance(a, ast.Name) and a.id == node.label]
    loose = [p for p, a in parts if not isinstance(a, ast.Constant)]
    if named:
        return named[0]
    if len(loose) == 1:
        return loose[0]
    return parts[0][0] if parts else args


# ----------------------------------------------------------------------------------------------
# data changed between the forward pass and backward: refused, naming the node and the op


def _fingerprint(x):
    """What a node's data was at the forward pass: the float, or shape, dtype and a CRC."""
    if x.__class__ is float:
        return x
    import zlib

    x = np.asarray(x)
    return (x.shape, x.dtype.str, zlib.crc32(np.ascontiguousarray(x).view(np.uint8)))


def _changed_error(node, consumer, i):
    what = node_name(node)
    if consumer is None:
        use = f"its own op ({node.op}) may need its old value in backward"
        made = node._get("where")
    else:
        use = f"{consumer.op} (input {i}) used its old value in the forward pass"
        made = consumer._get("where")
    at = f" (made at {made})" if made else ""
    return BackwardError(
        f"backward: the data of {what} was changed after the forward pass; {use}{at}, so the "
        "gradients would belong to a graph that no longer exists (PyTorch refuses this too). "
        "Run the forward pass again after changing .data, or change .data after backward "
        "(as an optimizer step does)."
    )


def _check_written(root):
    """Raise if a node whose data was written since the last op takes part in root's graph."""
    if root._op is not None and WRITTEN.get(id(root)) is root:
        raise _changed_error(root, None, 0)
    for n in toposort(root):
        if n._op is None:
            continue
        for i, p in enumerate(inputs_of(n)):
            if isinstance(p, Node) and WRITTEN.get(id(p)) is p:
                raise _changed_error(p, n, i)


def _check_seen(n, ins):
    """Under detect_anomaly: compare the inputs' data with their fingerprints of the forward."""
    seen = n._more["seen"]  # set: the caller checked
    for i, (p, fp) in enumerate(zip(ins, seen)):
        if fp is None:
            continue
        now = _fingerprint(p._data)
        if now != fp and not (now.__class__ is float and now != now and fp != fp):
            raise _changed_error(p, n, i)


# ----------------------------------------------------------------------------------------------
# topological order and the backward driver


def _takes_part(p):
    return isinstance(p, Node) and (p._op is not None or p.requires_grad)


def toposort(root, stop=()):
    """Nodes that take part in `root`'s backward, root first, each after all of its consumers.

    Iterative depth-first search (a chain of a million nodes needs no recursion). Nodes in
    `stop` are treated as leaves: their inputs are not visited.
    """
    order = []
    visited = set()
    stack = [root]
    push, pop, seen, visit, finish = (
        stack.append,
        stack.pop,
        visited.__contains__,
        visited.add,
        order.append,
    )
    while stack:
        n = pop()
        if n is None:  # the marker: the node below it is finished
            finish(pop())
            continue
        if seen(n):
            continue
        visit(n)
        push(n)
        push(None)
        op = n._op
        if op is None or n in stop:
            continue
        arity = op.arity
        ins = (n._a,) if arity == 1 else (n._a, n._b) if arity == 2 else n._a
        for p in ins:
            if isinstance(p, Node) and (p._op is not None or p.requires_grad) and not seen(p):
                push(p)
    order.reverse()
    return order


class Step:
    """One node's turn in backward: its complete gradient and what it passed to each parent.

    `contributions` holds one `(parent, local, contribution)` per differentiable parent:
    `local` is the local derivative d node / d parent (for a Tensor: the vjp of a gradient of
    ones) and `contribution` what was added to `parent.grad`.
    """

    __slots__ = ("node", "grad", "contributions", "index")

    def __init__(self, node, grad, contributions, index):
        self.node, self.grad, self.contributions, self.index = node, grad, contributions, index

    def __repr__(self):
        name = self.node.label or self.node.op or "leaf"
        return f"Step({self.index}: {name}, grad={describe(self.grad)})"


def _seed(root, grad, create_graph):
    """The gradient backward starts from: 1 for a scalar root, else the given `grad`."""
    if grad is None:
        if root._size() != 1:
            raise BackwardError(
                f"backward: the root has shape {root.shape} (not a scalar), so its gradient must "
                f"be given: call backward(grad=...) with an array of shape {root.shape}, or "
                "reduce it first, e.g. y.sum().backward()"
            )
        grad = root._ones()
    else:
        grad = root._check_seed(grad)
    return root._constant(grad) if create_graph else grad


def _run(root, grad=None, create_graph=False, steps=False, wrt=None):
    """The one backward driver. A generator: yields a Step per node when `steps` is True.

    With `wrt` (a sequence of nodes), it treats those nodes as leaves, leaves every leaf's
    .grad as it was, and yields at the end a dict {node of wrt: its gradient} instead.
    A pass left before its end (a `backward_steps` loop that breaks, a vjp that raises)
    gives every leaf back the gradient it had before the pass.
    """
    saved = {}  # leaf -> gradient before this pass (leaves accumulate across passes)
    ended = False
    try:
        yield from _pass(root, grad, create_graph, steps, wrt, saved)
        ended = True
    finally:
        if not ended:
            for n, prev in saved.items():
                n.grad = prev


def _pass(root, grad, create_graph, steps, wrt, saved):
    """The body of `_run`; fills `saved` with each leaf's gradient from before the pass."""
    if not isinstance(root, Node):
        raise TypeError(f"backward: expected a Value or Tensor, got {type(root).__name__}")
    if root._op is None and not root.requires_grad:
        raise BackwardError(
            "backward: this node does not require grad (a leaf created with requires_grad=False "
            "or under no_grad), so there is nothing to differentiate"
        )
    seed = _seed(root, grad, create_graph)
    if WRITTEN:
        _check_written(root)
    stop = frozenset(wrt) if wrt is not None else ()
    order = toposort(root, stop)
    for n in order:
        if n._op is None or n in stop:
            saved[n] = n.grad
        n.grad = None
    root.grad = seed
    hooks_on = bool(HOOKED)
    anomaly = ANOMALY
    for index, n in enumerate(order):
        g = n.grad
        if g is None:  # reached only through non-differentiable paths
            g = n.grad = n._zeros(create_graph)
        more = getattr(n, "_more", None)
        hooks = more.get("hooks") if hooks_on and more is not None else None
        if hooks:
            for hook in list(hooks):
                r = hook(g)
                if r is not None:
                    g = n._check_hook_grad(r, create_graph, _hook_name(hook, n))
            n.grad = g
        op = n._op
        if op is None or n in stop:
            if wrt is None:
                prev = saved[n]
                if prev is None or (prev.__class__ is float and prev == 0.0):
                    n.grad = g.copy() if g.__class__ is np.ndarray else g
                else:
                    n.grad = _sum(prev, g)
            if steps:
                yield Step(n, n.grad, (), index)
            continue
        arity = op.arity
        ins = (n._a,) if arity == 1 else (n._a, n._b) if arity == 2 else n._a
        if more is not None and more.get("seen") is not None:
            _check_seen(n, ins)
        if create_graph:
            args, out = ins, n
        else:
            args = [p._data if isinstance(p, Node) else p for p in ins]
            out = n._data
        ctx = getattr(n, "_ctx", None)
        if op.partial:
            ctx = dict(ctx or (), needs=tuple(_takes_part(p) for p in ins))
        if anomaly:  # numpy's divide/invalid warnings say less than the AnomalyError below
            with np.errstate(all="ignore"):
                grads = _vjp(op, g, out, args, ctx)
        else:
            grads = _vjp(op, g, out, args, ctx)
        _check_vjp_result(op, grads, ins)
        if steps:
            ones = n._ones_like_grad(g)
            locals_ = _vjp(op, ones, out, args, ctx)
            contributions = []
        for i, (p, gp) in enumerate(zip(ins, grads)):
            if gp is None or not _takes_part(p):
                continue
            if op.elementwise and op.builtin:  # an operand numpy broadcast (a bias): summed back
                shape = p.shape
                if getattr(gp, "shape", shape) != shape:
                    gp = _sum_to(gp, shape)
            gp = p._check_grad(gp, op, i, create_graph)
            if anomaly:
                bad = _not_finite(gp)
                if bad:
                    shown = ", ".join(describe(a) for a in args)
                    raise AnomalyError(
                        f"{op.name} produced {bad} in the backward pass (gradient for input {i}) "
                        f"for the node created at {n.where or '<unknown>'}; "
                        f"inputs: {shown}; upstream gradient: {describe(g)}"
                    )
            prev = p.grad
            p.grad = gp if prev is None else _sum(prev, gp)
            if steps:
                contributions.append((p, locals_[i], gp))
        if steps:
            yield Step(n, g, tuple(contributions), index)
    if create_graph:  # intermediates keep plain numbers: a node in .grad could make a cycle
        for n in order:
            if n._op is not None and n not in stop and isinstance(n.grad, Node):
                n.grad = n.grad._data
    if wrt is not None:
        result = {}
        for n in wrt:  # one the pass did not reach (so not in `saved`) has a gradient of zero
            result[n] = n.grad if n in saved else n._zeros(create_graph)
        for n, prev in saved.items():
            n.grad = prev
        yield result


class _Mark:
    """A visited-marker for one backward pass."""

    __slots__ = ()


def _nonleaf_order(root):
    """The non-leaf nodes under `root` in backward order (depth-first post-order, reversed).

    The fast paths' toposort, with no visited set and no end markers: while the search runs,
    a node's grad holds one of this pass's two fresh marker objects, `open` (its inputs are
    being visited; it sits on the stack once more, below them) or `done` (it is in the order),
    so nothing stale is ever mistaken for them. The caller resets every grad of the order
    before using it. Leaves are left out: they only accumulate.
    """
    open_, done = _Mark(), _Mark()
    order = []
    stack = [root]
    push, pop, finish = stack.append, stack.pop, order.append
    while stack:
        n = pop()
        mark = n.grad
        if mark is open_:  # popped the second time: everything it reads is in the order
            n.grad = done
            finish(n)
            continue
        if mark is done:  # reached again through another consumer
            continue
        n.grad = open_
        push(n)
        if n._op.arity == 1:
            a = n._a
            if a._op is not None and a.grad is not done:
                push(a)
            continue
        for p in (n._a, n._b) if n._op.arity == 2 else n._a:
            if isinstance(p, Node) and p._op is not None and p.grad is not done:
                push(p)
    order.reverse()
    return order


def _float_order(root):
    """`_nonleaf_order` for a scalar graph (Values of one or two inputs, constants plain floats),
    which also leaves every grad of the order at 0.0, ready to accumulate.

    The `done` marker is a float 0.0 made for this pass (`float(0)` makes a new object, so no
    grad left by an earlier pass is this one), and a node whose inputs are all leaves, constants
    or done is finished when first reached, without being pushed a second time: 28% fewer
    instructions (callgrind) than `_nonleaf_order` plus its reset loop on micrograd's demo graph.
    """
    open_, done = _Mark(), float(0)
    order = []
    stack = [root]
    push, pop, finish = stack.append, stack.pop, order.append
    while stack:
        n = pop()
        mark = n.grad
        if mark is done:  # reached again through another consumer
            continue
        if mark is open_:  # popped the second time: everything it reads is in the order
            n.grad = done
            finish(n)
            continue
        if n._op.arity == 1:
            a = n._a
            if a._op is not None and a.grad is not done:
                n.grad = open_
                push(n)
                push(a)
            else:
                n.grad = done
                finish(n)
            continue
        a, b = n._a, n._b
        wa = a.__class__ is not float and a._op is not None and a.grad is not done
        wb = b.__class__ is not float and b._op is not None and b.grad is not done
        if wa or wb:
            n.grad = open_
            push(n)
            if wb:
                push(b)
            if wa:
                push(a)
        else:
            n.grad = done
            finish(n)
    order.reverse()
    return order


def _float_node(n):
    """One node of a float graph through its rule's general vjp (custom ops, rules without
    a float form, and the IEEE redo when a float form raised ZeroDivisionError/OverflowError)."""
    op = n._op
    a = n._a
    if op.arity == 1:
        ctx = {"needs": (_takes_part(a),)} if op.partial else None  # a partial custom vjp
        try:
            grads = (
                op.vjp(n.grad, n._data, a._data, **ctx) if ctx else op.vjp(n.grad, n._data, a._data)
            )
        except (ZeroDivisionError, OverflowError):
            grads = _ieee_vjp(op, n.grad, n._data, (a._data,), ctx)
        if not op.builtin:
            _check_vjp_result(op, grads, (a,))
            if grads[0] is None:  # no gradient for this input (a partial vjp may say so)
                return
            grads = (a._check_grad(grads[0], op, 0, False),)
        (ga,) = grads
        if a._op is not None or a.requires_grad:
            a.grad += ga
        return
    b = n._b
    fa, fb = a.__class__ is float, b.__class__ is float
    args = (a if fa else a._data, b if fb else b._data)
    ctx = None
    if op.partial:  # a partial vjp (a custom op's may be) is told which inputs need a gradient
        ctx = {"needs": (not fa and _takes_part(a), not fb and _takes_part(b))}
    try:
        grads = op.vjp(n.grad, n._data, *args, **ctx) if ctx else op.vjp(n.grad, n._data, *args)
    except (ZeroDivisionError, OverflowError):
        grads = _ieee_vjp(op, n.grad, n._data, args, ctx)
    if op.builtin:
        ga, gb = grads
    else:
        _check_vjp_result(op, grads, (a, b))
        ga, gb = grads
        ga = None if ga is None or fa else a._check_grad(ga, op, 0, False)
        gb = None if gb is None or fb else b._check_grad(gb, op, 1, False)
    if ga is not None and not fa and (a._op is not None or a.requires_grad):
        a.grad += ga
    if gb is not None and not fb and (b._op is not None or b.requires_grad):
        b.grad += gb


# The scalar backward loop is generated once from the rule table: each rule that declares
# `floats` (its vjp written as expressions on floats, next to the vjp in ops.py) becomes one
# inlined branch, tested by identity, most frequent rules first; anything else goes through
# `_float_node`. See `_float_source()` for the code it makes.
_FLOAT_RULES = (
    "mul add relu tanh sub neg exp div pow_ sigmoid log sqrt rpow pow_var abs_ maximum".split()
)
_SAFE_AST = None  # ast node types a form may use to be accumulated without a temporary


def _float_form_branch(i, op):
    """The source lines of the loop branch for rule `op` (which has `floats`).

    A binary rule's branch has three cases, so that each input's class is tested once: a
    plain-number constant on the right (`x * 2.0`), on the left (`2.0 * x`), or two Values.
    """

    code = op.vjp.__code__
    names = code.co_varnames[: code.co_argcount]
    gname, oname, inames = names[0], names[1], names[2:]
    forms = op.floats
    if len(forms) != len(inames) or len(inames) != op.arity:
        raise TypeError(f"{op.name}: floats gives {len(forms)} forms for {op.arity} inputs")
    lines = [f"elif op is OP{i}:  # {op.name}: {op.doc}"]
    if gname != "g":
        lines.append(f"    {gname} = g")
    if op.arity == 1:
        if forms[0] is None:
            return lines + ["    pass"]
        return lines + ["    p0 = n._a"] + _accumulate(forms, oname, inames, (0,), "    ")
    lines += ["    p0 = n._a", "    p1 = n._b"]  # both read: their classes tell the case
    # a binary op may have a plain-number constant on either side (never on both)
    cases = (
        ("if p1.__class__ is float:  # a constant on the right", (0,)),
        ("elif p0.__class__ is float:  # a constant on the left", (1,)),
        ("else:", (0, 1)),
    )
    for head, nodes in cases:
        body = _accumulate(forms, oname, inames, nodes, "        ")
        lines += ["    " + head] + (body or ["        pass"])
    return lines


def _accumulate(forms, oname, inames, nodes, indent):
    """Lines that read the numbers the forms of inputs `nodes` (indices of the inputs that are
    Values; the others are plain-number constants) need, and add each form into its input's grad.
    """
    import ast

    here = set()  # the names those forms read
    for k in nodes:
        if forms[k] is not None:
            here |= {
                x.id for x in ast.walk(ast.parse(forms[k], mode="eval")) if isinstance(x, ast.Name)
            }
    lines = [f"{indent}{oname} = n._data"] if oname in here else []
    for k, iname in enumerate(inames):
        if iname in here:
            lines.append(
                f"{indent}{iname} = p{k}._data" if k in nodes else f"{indent}{iname} = p{k}"
            )
    temps = []
    for k in nodes:
        f = forms[k]
        if f is None:
            continue
        # with two gradients to add, a form that might raise (/, **, calls) is evaluated before
        # either is added, so the IEEE redo in _float_node never adds a gradient twice
        safe = len(nodes) == 1 or all(
            type(x) in _safe_ast() for x in ast.walk(ast.parse(f, mode="eval"))
        )
        if not safe:
            lines.append(f"{indent}t{k} = {f}")
        temps.append((k, f if safe else f"t{k}"))
    for k, expr in temps:
        lines.append(f"{indent}if p{k}._op is not None or p{k}.requires_grad:")
        lines.append(f"{indent}    p{k}.grad += {expr}")
    return lines


def _safe_ast():
    global _SAFE_AST
    if _SAFE_AST is None:
        import ast

        _SAFE_AST = {
            ast.Expression, ast.BinOp, ast.UnaryOp, ast.Name, ast.Load, ast.Constant,
            ast.Add, ast.Sub, ast.Mult, ast.USub, ast.IfExp, ast.Compare, ast.Gt, ast.Lt,
            ast.GtE, ast.LtE, ast.Eq,
        }  # fmt: skip
    return _SAFE_AST


def _float_source(rules):
    """Python source of the scalar backward loop for `rules` (a list of Ops with floats)."""
    body = []
    for i, op in enumerate(rules):
        body += _float_form_branch(i, op)
    body[0] = body[0][2:]  # the first branch is an `if`
    body += ["else:", "    _float_node(n)"]
    inner = "\n".join(" " * 16 + line for line in body)
    return f"""def _backward_floats(root):
    order = _float_order(root)  # every grad of it at 0.0
    root.grad = 1.0
    it = iter(order)
    while True:
        try:
            for n in it:
                op = n._op
                g = n.grad
{inner}
            return
        except (ZeroDivisionError, OverflowError):  # redo this node with IEEE inf/nan
            _float_node(n)
"""


def _make_backward_floats():
    from . import ops

    rules = [ops.RULES[name.rstrip("_")] for name in _FLOAT_RULES]
    rules += [r for r in ops.RULES.values() if r.floats is not None and r not in rules]
    namespace = {f"OP{i}": op for i, op in enumerate(rules)}
    namespace.update(_float_order=_float_order, _float_node=_float_node)
    namespace.update({k: v for k, v in vars(ops).items() if not k.startswith("__")})
    exec(compile(_float_source(rules), "<autograd scalar backward>", "exec"), namespace)
    return namespace["_backward_floats"]


def _backward_floats(root):
    """The fast path of backward for scalar graphs without hooks or anomaly checks.

    Leaves the same gradients as `_run`: intermediates start from 0.0, leaves accumulate.
    Generated from the rule table on first use (`_make_backward_floats`), then replaced.
    """
    global _backward_floats
    _backward_floats = _make_backward_floats()
    return _backward_floats(root)


def _backward_arrays(root, seed):
    """The fast path of backward for Tensor graphs without hooks or anomaly checks."""
    order = _nonleaf_order(root)
    for n in order:
        n.grad = None
    root.grad = seed
    for n in order:
        op = n._op
        g = n.grad
        if g is None:  # reached only through non-differentiable paths
            g = n.grad = n._zeros(False)
        ctx = n._ctx
        arity = op.arity
        if arity == 1:
            a = n._a
            grads = op.vjp(g, n._data, a._data, **ctx) if ctx else op.vjp(g, n._data, a._data)
            if not op.builtin:
                _check_vjp_result(op, grads, (a,))
            _give(a, grads[0], g, op, 0)
            continue
        if arity == 2:
            a, b = n._a, n._b
            ta, tb = isinstance(a, Node), isinstance(b, Node)
            args = (a._data if ta else a, b._data if tb else b)
            if op.partial:  # the vjp may skip the gradient of an input that takes no part
                needs = (
                    ta and (a._op is not None or a.requires_grad),
                    tb and (b._op is not None or b.requires_grad),
                )
                ctx = dict(ctx, needs=needs) if ctx else {"needs": needs}
            grads = op.vjp(g, n._data, *args, **ctx) if ctx else op.vjp(g, n._data, *args)
            if not op.builtin:
                _check_vjp_result(op, grads, (a, b))
            if ta:
                _give(a, grads[0], g, op, 0)
            if tb:
                _give(b, grads[1], g, op, 1)
            continue
        ins = n._a
        args = [p._data if isinstance(p, Node) else p for p in ins]
        if op.partial:
            ctx = dict(ctx or (), needs=tuple(_takes_part(p) for p in ins))
        grads = op.vjp(g, n._data, *args, **ctx) if ctx else op.vjp(g, n._data, *args)
        if not op.builtin:
            _check_vjp_result(op, grads, ins)
        for i, p in enumerate(ins):
            if isinstance(p, Node):
                _give(p, grads[i], g, op, i)


def _give(p, gp, g, op, i):
    """Add gradient `gp` (from op's vjp, for its input i, the node p) into p.grad; g is the
    gradient the vjp was given (a leaf must not keep a view of it)."""
    if gp is None or (p._op is None and not p.requires_grad):
        return
    if gp.__class__ is not np.ndarray or not op.builtin:
        gp = p._check_grad(gp, op, i, False)  # e.g. a numpy scalar from a 0-d op
    else:
        d = p._data
        if gp.shape != d.shape:  # a bias that numpy broadcast in the forward: summed back
            gp = _sum_to(gp, d.shape) if op.elementwise else p._check_grad(gp, op, i, False)
        want = d.dtype
        if gp.dtype is not want and gp.dtype != want:
            gp = p._check_grad(gp, op, i, False)
    prev = p.grad
    if prev is not None:
        p.grad = _sum(prev, gp)
    elif p._op is None and (gp is g or (gp.base is not None and _shared(gp, g))):
        p.grad = gp.copy()  # a leaf owns its gradient: no view, nothing shared
    else:
        p.grad = gp


def _sum(prev, g):
    """prev + g, where a 0-d array stays an array (numpy gives a scalar for 0-d + 0-d)."""
    s = prev + g
    if prev.__class__ is np.ndarray and s.__class__ is not np.ndarray:
        return np.asarray(s)
    return s


def node_name(n):
    """How error messages name a node: its label or the op that made it, and its shape."""
    kind = type(n).__name__
    shape = f"shape {n.shape}" if kind == "Tensor" else ""
    if n.label:
        made = f"made by {n.op}" if n._op is not None else "a leaf"
        return f"{kind} {n.label!r} ({made}{', ' if shape else ''}{shape})"
    if n._op is None:
        return f"a {kind} leaf{' of ' + shape if shape else ''}"
    return f"the {kind} made by {n.op}{' (' + shape + ')' if shape else ''}"


def _hook_name(hook, n):
    name = getattr(hook, "__qualname__", None) or type(hook).__name__
    return f"the hook {name} registered on {node_name(n)}"


def _shared(view, g):
    """True when a view may alias g, or is a read-only (broadcast) view."""
    return not view.flags.writeable or np.may_share_memory(view, g)


def _check_vjp_result(op, grads, ins):
    if not isinstance(grads, tuple | list) or len(grads) != len(ins):
        got = f"{len(grads)} gradients" if isinstance(grads, tuple | list) else type(grads).__name__
        raise BackwardError(
            f"{op.name}: its vjp must return a tuple with one gradient per input "
            f"({len(ins)}), got {got}"
        )


def _vjp(op, g, out, args, ctx):
    try:
        return op.vjp(g, out, *args, **ctx) if ctx else op.vjp(g, out, *args)
    except (ZeroDivisionError, OverflowError):  # Python floats: redo with IEEE inf/nan
        return _ieee_vjp(op, g, out, args, ctx)


def _ieee_vjp(op, g, out, args, ctx):
    """A scalar vjp redone in numpy float64, which gives inf/nan where Python raises."""
    f64 = [np.float64(a) if a.__class__ is float else a for a in (g, out, *args)]
    with np.errstate(all="ignore"):
        grads = op.vjp(*f64, **(ctx or {}))
    return tuple(None if x is None else float(x) for x in grads)


def backward_steps(root, grad=None):
    """Run backward one node at a time: yields a `Step` per node, root first.

    Running it to the end leaves exactly the gradients `root.backward()` leaves.

    >>> from autograd import Value, backward_steps
    >>> a = Value(2.0, label="a"); c = a * a
    >>> [(s.node.label or s.node.op, s.grad) for s in backward_steps(c)]
    [('mul', 1.0), ('a', 4.0)]
    """
    return _run(root, grad, False, steps=True)


def gradients(output, inputs, grad=None, create_graph=False):
    """d output / d input for each input, without touching any leaf's `.grad`.

    An input that `output` does not depend on gets zeros of its shape (torch raises unless
    `allow_unused=True`, then gives None); never the gradient an earlier pass left in `.grad`.
    """
    inputs = list(inputs)
    for x in inputs:
        if not isinstance(x, Node):
            raise TypeError(f"gradients: inputs must be Values or Tensors, got {type(x).__name__}")
    *_, result = _run(output, grad, create_graph, steps=False, wrt=inputs)
    return [result[x] for x in inputs]  # _run gives every input, zeros if not reached


def grad(f, argnum=0):
    """The gradient function of a scalar-valued `f`: `grad(f)(x)` is df/dx. Composable.

    Plain numbers and arrays in give plain numbers and arrays out; Values/Tensors in give
    Values/Tensors out (with a graph, so the result can be differentiated again).

    >>> from autograd import grad
    >>> f = lambda x: x ** 3
    >>> grad(f)(2.0), grad(grad(f))(2.0)
    (12.0, 12.0)
    """

    def gradf(*args, **kwargs):
        from . import tensor, value

        args = list(args)
        x = args[argnum]
        # plain numbers in give plain numbers out, unless another argument is a node (then
        # this is an inner grad of a mixed partial and the outer one needs a graph)
        raw = not any(isinstance(a, Node) for a in args)
        if not isinstance(x, Node):
            if isinstance(x, (int, float)) and not isinstance(x, bool):
                x = value.Value(float(x))
            else:
                x = tensor.Tensor(x, requires_grad=True, dtype=np.float64)
        elif x._op is None and not x.requires_grad:  # a constant leaf: differentiate a copy
            x = type(x)(x._data, requires_grad=True)
        args[argnum] = x
        y = f(*args, **kwargs)
        if not isinstance(y, Node):
            raise TypeError(
                f"grad: the function must return a Value or Tensor, got {type(y).__name__}"
            )
        if y._size() != 1:
            raise BackwardError(f"grad: the function must return a scalar, got shape {y.shape}")
        if y._op is None and y is not x:  # f does not depend on x
            return x._zeros(not raw)
        (g,) = gradients(y, [x], create_graph=not raw)
        return (g._data if isinstance(g, Node) else g) if raw else g

    gradf.__name__ = f"grad_{getattr(f, '__name__', 'f')}"
    return gradf


# numpy meeting a node: `arr * t` reaches the node's operators, np.tanh(v) says to call v.tanh()
# (ops imports this module first, so `ops.m` is read at call time)
from . import interop, ops  # noqa: E402


def _sum_to(g, shape):
    """A gradient summed back to the shape of an operand numpy broadcast (a bias); an array
    stays an array (numpy gives a scalar for a sum to shape ())."""
    s = ops.m.sum_to(g, shape)
    return np.asarray(s) if s.__class__ is not np.ndarray and g.__class__ is np.ndarray else s


Node.__array_ufunc__ = interop.array_ufunc
Node.__array_function__ = interop.array_function
