"""gradcheck: analytic gradients against central differences, in float64, with numbers a student
can check by hand.

An output of at most `unit_max` elements is checked one element at a time with weight 1 (each
number is d output[k] / d input[j]); every output is also checked as the one number
sum(w * f(x)) with random weights w, which catches a vjp that ignores its upstream gradient.
On a mismatch the same is done for each node's own rule, so the error can name the op at fault.
"""

import textwrap

import numpy as np

from . import engine
from .engine import Node, gradients, toposort
from .tensor import Tensor
from .value import Value

ROWS = 12  # rows of the per-element table shown on a failure


class GradcheckError(AssertionError):
    """A gradient disagrees with central differences: says what, where, expected and got."""


def _as64(x):
    if isinstance(x, Value):
        return Value(x.data, label=x.label)
    if isinstance(x, Tensor):
        return Tensor(x.data, requires_grad=True, dtype=np.float64, label=x.label)
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return Value(float(x))
    return Tensor(x, requires_grad=True, dtype=np.float64)


def _flat(x):
    return np.asarray(x.data if isinstance(x, Node) else x, dtype=np.float64).ravel()


def _close(got, numeric, atol, rtol):
    return np.abs(got - numeric) <= atol + rtol * np.abs(numeric)


def _weights(shape, seed):
    """Random weights in +-[0.5, 1.5): never near 0, so every output element counts."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], shape)


def _unit(shape, k):
    e = np.zeros(shape)
    e.flat[k] = 1.0
    return e


def _index(shape, j):
    return [int(i) for i in np.unravel_index(j, shape)] if shape else []


def gradcheck(f, *inputs, eps=1e-6, atol=1e-5, rtol=1e-4, seed=0, unit_max=16):
    """Check `f`'s gradients with respect to each input against central differences.

    Inputs (Values, Tensors, numbers or arrays) are copied to float64. When the output has at
    most `unit_max` elements, each is checked alone with weight 1, so every number is one
    derivative d output[k] / d input[j] that can be checked by hand. Every output is then also
    checked as the scalar sum(w * f(x)) with random weights `w` (from `seed`), which is how a
    large output is checked, and how a vjp that ignores its upstream gradient is caught.

    Returns True, or raises GradcheckError that says which of these checks failed (with the
    weights it used), names the op at fault when one rule is, and shows the per-element numbers
    (backward's against central differences).

    >>> from autograd import Tensor, gradcheck
    >>> gradcheck(lambda x: (x * x).sum(), Tensor([1.0, -2.0, 3.0]))
    True
    """
    if not inputs:
        raise ValueError("gradcheck: give at least one input to check")
    xs = [_as64(x) for x in inputs]
    y = f(*xs)
    if not isinstance(y, Node):
        raise TypeError(f"gradcheck: f must return a Value or Tensor, got {type(y).__name__}")
    shape = np.shape(y.data)
    n = int(np.prod(shape))
    constant = y._op is None and not y.requires_grad

    def backward_from(weights):
        if constant:
            return [np.zeros_like(_flat(x)) for x in xs]
        g = float(weights) if isinstance(y, Value) else weights
        return [_flat(d) for d in gradients(y, xs, grad=g)]

    # central differences: for each input, one row per element: d f(x).ravel() / d x[j]
    numeric = [_jacobian_rows(f, xs, i, eps) for i in range(len(xs))]

    failure = None
    if n <= unit_max:
        for k in range(n):
            got = backward_from(_unit(shape, k))
            failure = _first_mismatch(got, [rows[:, k] for rows in numeric], atol, rtol)
            if failure:
                failure = ("unit", k, *failure)
                break
    w = _weights(shape, seed)
    if failure is None:
        got = backward_from(w)
        failure = _first_mismatch(got, [rows @ w.ravel() for rows in numeric], atol, rtol)
        if failure:
            failure = ("weighted", None, *failure)
    if failure is None:
        return True
    culprit = None if constant else _find_bad_rule(y, eps, atol, rtol, unit_max, seed)
    raise GradcheckError(_message(failure, xs, shape, w, seed, unit_max, culprit, atol, rtol))


def _jacobian_rows(f, xs, i, eps):
    x = xs[i]
    base = _flat(x)
    rows = []
    for j in range(base.size):
        ends = []
        for sign in (1.0, -1.0):
            moved = base.copy()
            moved[j] += sign * eps
            args = list(xs)
            args[i] = _rebuild(x, moved)
            out = f(*args)  # not under no_grad: f may take gradients itself (grad of grad)
            ends.append(np.asarray(out.data, dtype=np.float64).ravel())
        rows.append((ends[0] - ends[1]) / (2 * eps))
    return np.array(rows).reshape(base.size, -1)


def _first_mismatch(got, expected, atol, rtol):
    """(input number, element, its backward numbers, its central differences) or None."""
    for i, (g, e) in enumerate(zip(got, expected)):
        bad = np.flatnonzero(~_close(g, e, atol, rtol))
        if bad.size:
            return i, int(bad[0]), g, e
    return None


def _rebuild(like, flat):
    if isinstance(like, Value):
        return Value(float(flat[0]))
    return Tensor(flat.reshape(like.data.shape), requires_grad=True, dtype=np.float64)


def _message(failure, xs, shape, w, seed, unit_max, culprit, atol, rtol):
    mode, k, i, j, got, numeric = failure
    x = xs[i]
    xshape = np.shape(x.data)
    name = f"input {i}" + (f" ({x.label})" if x.label else "")
    at = f"{_index(xshape, j)}" if xshape else ""
    n = int(np.prod(shape))
    if mode == "unit" and shape:
        out = f"output{_index(shape, k)}"
    elif mode == "unit":
        out = "output"
    else:
        out = "sum(w * output)"
    head = f"gradcheck failed at op {culprit}." if culprit else "gradcheck failed."
    lines = [
        head,
        f"Overall: d({out})/d(input {i}){at} expected {numeric[j]:.6g} (central differences), "
        f"got {got[j]:.6g} (backward).",
    ]
    weights = ""
    if mode == "unit" and not shape:
        how = (
            "the output is one number, so its gradient is checked as it is (backward starts "
            "from 1)."
        )
    elif mode == "unit":
        how = (
            f"the output has {n} element{'s' if n > 1 else ''} (at most unit_max={unit_max}), so "
            "each is checked alone: backward starts from 1 on that element and 0 on the others, "
            "and each number is the derivative of one output element by one input element."
        )
    else:
        if n <= unit_max:
            why = (
                f"with weight 1 on {'the output' if not shape else 'each output element'} the "
                "gradients agree, but not with other weights: a vjp that does not multiply by "
                "its upstream gradient g (or uses it wrongly) looks right when g is 1. So "
            )
        else:
            why = f"the output has {n} elements (more than unit_max={unit_max}), so "
        how = (
            f"{why}gradcheck checks one number, sum(w * f(x)), with random weights w of the "
            f"output's shape {tuple(shape)} (seed={seed}), and backward starts from w:"
        )
        w = np.array2string(np.asarray(w), precision=3, threshold=12, edgeitems=3)
        weights = "\n" + textwrap.indent(f"w = {w}", "    ")
    lines.append(textwrap.fill(f"How it was checked: {how}", 100) + weights)
    lines.append(f"The numbers, d({out})/d({name}):")
    lines.append(_table(xshape, got, numeric, j, atol, rtol))
    return "\n".join(lines)


def _table(xshape, got, numeric, first_bad, atol, rtol):
    size = got.size
    bad = ~_close(got, numeric, atol, rtol)
    start = max(0, min(first_bad - ROWS // 2, size - ROWS))
    shown = range(start, min(size, start + ROWS))
    rows = [f"    {'at':<12} {'backward':>14} {'central diff.':>14}"]
    for j in shown:
        where = f"{_index(xshape, j)}" if xshape else "(the number)"
        mark = "   <- differs" if j == first_bad or (j > first_bad and bad[j]) else ""
        rows.append(f"    {where:<12} {got[j]:>14.6g} {numeric[j]:>14.6g}{mark}")
    hidden = size - len(shown)
    if hidden:
        rows.append(f"    ({hidden} more not shown)")
    return "\n".join(rows)


def _find_bad_rule(root, eps, atol, rtol, unit_max, seed):
    """Check each node's vjp against its own forward, the way gradcheck checks f; describe the
    first that disagrees."""
    for node in reversed(toposort(root)):
        op = node._op
        if op is None:
            continue
        ins = engine.inputs_of(node)
        ctx = getattr(node, "_ctx", None) or {}
        scalar = isinstance(node, Value)
        fwd = op.scalar if scalar else (lambda *a, op=op, ctx=ctx: op.forward(*a, **ctx))
        datas = [p.data if isinstance(p, Node) else p for p in ins]
        shape = np.shape(node.data)
        n = int(np.prod(shape))
        upstreams = [("unit", k, _unit(shape, k)) for k in range(n)] if n <= unit_max else []
        upstreams.append(("weighted", None, _weights(shape, seed + 1)))
        out = fwd(*datas)
        for mode, k, g in upstreams:
            g = float(g) if scalar else g
            try:
                grads = op.vjp(g, out, *datas, **ctx)
            except Exception as e:  # a vjp that crashes is the culprit too
                return f"{op.name!r} (its vjp raised {type(e).__name__}: {e})"
            for p_i, p in enumerate(ins):
                if not isinstance(p, Node) or grads[p_i] is None:
                    continue
                gi = grads[p_i]
                if op.elementwise and not scalar and np.shape(gi) != np.shape(p.data):
                    gi = engine._sum_to(np.asarray(gi), np.shape(p.data))  # a broadcast operand
                got = np.atleast_1d(np.asarray(gi, dtype=np.float64)).ravel()
                numeric = _rule_numeric(fwd, datas, p_i, g, eps, scalar)
                if got.size != numeric.size:
                    continue  # a wrong shape is reported by the engine itself
                bad = np.flatnonzero(~_close(got, numeric, atol, rtol))
                if bad.size:
                    j = int(bad[0])
                    label = f" ({node.label})" if node.label else ""
                    element = "" if np.ndim(p.data) == 0 else f" element {j}"
                    if mode == "unit" and shape:
                        how = f" (upstream gradient 1 on its output element {k}, 0 elsewhere)"
                    elif mode == "unit":
                        how = " (upstream gradient 1)"
                    else:
                        gtext = np.array2string(np.asarray(g), precision=3, threshold=6)
                        agrees = "; with upstream gradients of 1 it agrees" if n <= unit_max else ""
                        how = f" (random upstream gradient g = {gtext}{agrees})"
                    return (
                        f"{op.name!r}{label}: checked alone, its vjp gives {got[j]:.6g} for "
                        f"input {p_i}{element} where central differences give "
                        f"{numeric[j]:.6g}{how}"
                    )
    return None


def _rule_numeric(fwd, datas, p_i, g, eps, scalar):
    """Central differences of sum(g * fwd(...)) in each element of input p_i."""
    base = np.asarray(datas[p_i], dtype=np.float64).ravel()
    result = np.empty(base.size)
    for j in range(base.size):
        total = 0.0
        for sign in (1.0, -1.0):
            moved = base.copy()
            moved[j] += sign * eps
            args = list(datas)
            args[p_i] = float(moved[0]) if scalar else moved.reshape(np.shape(datas[p_i]))
            total += sign * float(np.sum(g * np.asarray(fwd(*args), dtype=np.float64)))
        result[j] = total / (2 * eps)
    return result
