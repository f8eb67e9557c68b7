"""How viz writes numbers, arrays and gradients as short text (one place, so the graph, the
step-through panel and the tests agree on every character)."""

import math

import numpy as np

SMALL = 6  # a tensor with at most this many elements shows its values, a larger one its stats


def format_number(x):
    """A number in at most 4 significant digits, floats always with a point or exponent.

    >>> format_number(0.5), format_number(2.0), format_number(1 / 3), format_number(3)
    ('0.5', '2.0', '0.3333', '3')
    """
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    s = f"{x:.4g}"
    if "e" not in s and "." not in s:
        s += ".0"
    return s


def _nested(a):
    if a.ndim == 0:
        return format_number(a.item())
    return "[" + ", ".join(_nested(row) for row in a) + "]"


def array_stats(a):
    """'min -1.2 mean 0.01 max 1.3' of an array (NaNs ignored)."""
    if a.size == 0:
        return "empty"
    with np.errstate(all="ignore"):
        f = a.astype(np.float64, copy=False)
        lo, mean, hi = np.nanmin(f), np.nanmean(f), np.nanmax(f)
    if abs(mean) < 1e-9 * max(abs(lo), abs(hi)):
        mean = 0.0  # rounding noise of a sum that cancels
    return f"min {format_number(lo)} mean {format_number(mean)} max {format_number(hi)}"


def norm(a):
    """The L2 norm of a float or an array, as a float."""
    if isinstance(a, np.ndarray):
        with np.errstate(all="ignore"):
            return float(np.sqrt(np.sum(np.square(a.astype(np.float64, copy=False)))))
    return abs(float(a))


def format_shape(a):
    return f"({', '.join(str(n) for n in a.shape)}{',' if a.ndim == 1 else ''})"


def format_data(x):
    """Lines showing a node's data: the number, a small tensor's values, or shape and stats.

    >>> format_data(2.0)
    ['2.0']
    >>> format_data(np.arange(4.0))
    ['[0.0, 1.0, 2.0, 3.0]']
    >>> format_data(np.zeros((8, 8), dtype=np.float32))
    ['(8, 8) float32', 'min 0.0 mean 0.0 max 0.0']
    """
    if not isinstance(x, np.ndarray):
        return [format_number(x)]
    if x.size <= SMALL:
        return [_nested(x)]
    return [f"{format_shape(x)} {x.dtype}", array_stats(x)]


def format_grad(g):
    """One line for a gradient: the number, a small tensor's values, or its norm.

    >>> format_grad(0.25), format_grad(None), format_grad(np.full((4, 4), 0.5))
    ('0.25', 'None', '‖g‖ 2.0')
    """
    if g is None:
        return "None"
    if not isinstance(g, np.ndarray):
        return format_number(g)
    if g.size <= SMALL:
        return _nested(g)
    return f"‖g‖ {format_number(norm(g))}"


def format_short(x):
    """One short line for any value in a chain-rule line: values when small, else shape and norm.

    >>> format_short(np.arange(12.0).reshape(3, 4)), format_short(np.ones((3, 4)))
    ('(3, 4) ‖·‖ 22.49', '(3, 4) all 1.0')
    """
    if not isinstance(x, np.ndarray):
        return format_number(x)
    if x.size <= SMALL:
        return _nested(x)
    first = x.flat[0]
    if x.dtype.kind in "biuf" and (x == first).all():
        return f"{format_shape(x)} all {format_number(first)}"
    return f"{format_shape(x)} ‖·‖ {format_number(norm(x))}"


def nonfinite(x):
    """True when x (a float or an array) holds a NaN or an inf; None is finite."""
    if x is None:
        return False
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "fc":
            return False
        return not bool(np.isfinite(x).all())
    try:
        return not math.isfinite(x)
    except TypeError:
        return False
