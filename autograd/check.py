"""gradcheck: analytic gradients against central differences, in float64.

On a mismatch it also checks every node's own rule, so the error can name the op whose vjp is
wrong (a custom op, say), not only the input whose gradient came out wrong.
"""

import numpy as np

from . import engine
from .engine import Node, gradients, toposort
from .tensor import Tensor
from .value import Value


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


def gradcheck(f, *inputs, eps=1e-6, atol=1e-5, rtol=1e-4, seed=0):
    """Check `f`'s gradients with respect to each input against central differences.

    Inputs (Values, Tensors, numbers or arrays) are copied to float64. A non-scalar output is
    contracted with a random upstream gradient, so every output element is checked. Returns
    True, or raises GradcheckError naming the op (when one rule is at fault), the input, the
    element index, the expected (numerical) and the computed gradient.

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
    rng = np.random.default_rng(seed)
    u = rng.uniform(0.5, 1.5, size=np.shape(y.data)) * rng.choice([-1.0, 1.0], np.shape(y.data))
    u_seed = float(u) if isinstance(y, Value) else u

    def contracted(args):
        out = f(*args)  # not under no_grad: f may take gradients itself (grad of grad)
        return float(np.sum(u * np.asarray(out.data, dtype=np.float64)))

    if y._op is None and not y.requires_grad:
        analytic = [np.zeros_like(_flat(x)) for x in xs]
    else:
        analytic = [_flat(g) for g in gradients(y, xs, grad=u_seed)]
    for i, x in enumerate(xs):
        base = _flat(x).copy()
        for j in range(base.size):
            numeric = 0.0
            for sign in (1.0, -1.0):
                moved = base.copy()
                moved[j] += sign * eps
                args = list(xs)
                args[i] = _rebuild(x, moved)
                numeric += sign * contracted(args)
            numeric /= 2 * eps
            got = analytic[i][j]
            if not abs(got - numeric) <= atol + rtol * abs(numeric):
                culprit = _find_bad_rule(y, u_seed, eps, atol, rtol)
                index = [int(k) for k in np.unravel_index(j, np.shape(x.data))]
                at = f"{index}" if index else ""
                overall = (
                    f"d(output)/d(input {i}){at} expected {numeric:.6g} (central differences), "
                    f"got {got:.6g}"
                )
                if culprit:
                    raise GradcheckError(f"gradcheck failed at op {culprit}. Overall: {overall}")
                raise GradcheckError(f"gradcheck failed: {overall}")
    return True


def _rebuild(like, flat):
    if isinstance(like, Value):
        return Value(float(flat[0]))
    return Tensor(flat.reshape(like.data.shape), requires_grad=True, dtype=np.float64)


def _find_bad_rule(root, u, eps, atol, rtol):
    """Check each node's vjp against its own forward; describe the first that disagrees."""
    for node in reversed(toposort(root)):
        op = node._op
        if op is None:
            continue
        ins = engine.inputs_of(node)
        ctx = node._ctx or {}
        scalar = isinstance(node, Value)
        fwd = op.scalar if scalar else (lambda *a, op=op, ctx=ctx: op.forward(*a, **ctx))
        datas = [p.data if isinstance(p, Node) else p for p in ins]
        rng = np.random.default_rng(1)
        g = rng.uniform(0.5, 1.5, size=np.shape(node.data))
        g = float(g) if scalar else g.astype(np.float64)
        try:
            grads = op.vjp(g, fwd(*datas), *datas, **ctx)
        except Exception as e:  # a vjp that crashes is the culprit too
            return f"{op.name!r} (its vjp raised {type(e).__name__}: {e})"
        for k, p in enumerate(ins):
            if not isinstance(p, Node) or grads[k] is None:
                continue
            base = np.asarray(p.data, dtype=np.float64).ravel()
            got = np.atleast_1d(np.asarray(grads[k], dtype=np.float64)).ravel()
            for j in range(base.size):
                total = 0.0
                for sign in (1.0, -1.0):
                    moved = base.copy()
                    moved[j] += sign * eps
                    args = list(datas)
                    args[k] = float(moved[0]) if scalar else moved.reshape(np.shape(p.data))
                    total += sign * float(np.sum(g * np.asarray(fwd(*args), dtype=np.float64)))
                numeric = total / (2 * eps)
                if j < got.size and not abs(got[j] - numeric) <= atol + rtol * abs(numeric):
                    name = f" ({node.label})" if node.label else ""
                    element = "" if scalar else f" element {j}"
                    return (
                        f"{op.name!r}{name}: checked alone, its vjp gives {got[j]:.6g} for input "
                        f"{k}{element} where central differences give {numeric:.6g}"
                    )
    return None
