"""How viz writes numbers, arrays and gradients as short text (one place, so the graph, the
step-through panel and the tests agree on every character)."""

import math

import numpy as np

SMALL = 6  # a tensor with at most this many elements shows its values, a larger one its stats
GRID = 6  # draw_graph draws an array of at most GRID x GRID numbers as a grid (data | grad)


def format_number(x):
    """A number in at most 4 significant digits, floats always with a point or exponent.

    >>> format_number(0.5), format_number(2.0), format_number(1 / 3), format_number(3)
    ('0.5', '2.0', '0.3333', '3')
    """
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x) + 0.0  # + 0.0: never "-0.0"
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


def _g3(x):
    """A number in 3 significant digits (the one-line summaries)."""
    x = float(x) + 0.0
    if not math.isfinite(x):
        return format_number(x)
    s = f"{x:.3g}"
    if "e" not in s and "." not in s:
        s += ".0"
    return s


DTYPE_SHORT = {"float64": "f64", "float32": "f32", "float16": "f16", "int64": "i64", "int32": "i32"}


def format_header(a):
    """Shape and dtype of an array, as a Tensor node's second line: '(2, 3) float64'.

    >>> format_header(np.zeros((2, 3))), format_header(np.zeros(4, np.float32))
    ('(2, 3) float64', '(4,) float32')
    """
    return f"{format_shape(a)} {a.dtype}"


def array_stats(a):
    """A one-line summary of an array in the spirit of lovely-numpy: mean, std and range,
    with NaN / inf counted and an all-zero or constant array said in words.

    >>> array_stats(np.array([[-0.9, 0.1], [0.2, 0.8]]))
    'μ=0.05 σ=0.61 [-0.9, 0.8]'
    >>> array_stats(np.zeros((8, 8))), array_stats(np.array([1.0, np.nan, np.inf]))
    ('all zeros', 'all 1.0 NaN×1 +inf×1')
    """
    if a.size == 0:
        return "empty"
    if a.dtype.kind == "b":
        return f"{int(np.count_nonzero(a))} True of {a.size}"
    f = a.astype(np.float64, copy=False)
    flags = []
    finite = None
    if a.dtype.kind in "fc":
        ok = np.isfinite(f)
        if not ok.all():
            counts = (("NaN", np.isnan(f)), ("+inf", np.isposinf(f)), ("-inf", np.isneginf(f)))
            flags = [f"{t}×{int(m.sum())}" for t, m in counts if m.any()]
            finite = f[ok]
    vals = f if finite is None else finite
    if vals.size == 0:
        return " ".join(flags)
    lo, hi = vals.min(), vals.max()
    if lo == hi:
        text = "all zeros" if lo == 0 else f"all {format_number(lo)}"
    else:
        mean, std = vals.mean(), vals.std()
        if abs(mean) < 1e-5 * max(abs(lo), abs(hi)):
            mean = 0.0  # rounding noise of a sum that cancels (a gradient's mean, often)
        text = f"μ={_g3(mean)} σ={_g3(std)} [{_g3(lo)}, {_g3(hi)}]"
    return " ".join([text, *flags])


def format_summary(a):
    """Shape, short dtype and stats in one line: '(128, 64) f32 μ=0.01 σ=0.3 [-0.9, 0.8]'.

    >>> format_summary(np.ones((128, 64), np.float32))
    '(128, 64) f32 all 1.0'
    """
    dt = DTYPE_SHORT.get(str(a.dtype), str(a.dtype))
    return f"{format_shape(a)} {dt} {array_stats(a)}"


def norm(a):
    """The L2 norm of a float or an array, as a float."""
    if isinstance(a, np.ndarray):
        with np.errstate(all="ignore"):
            return float(np.sqrt(np.sum(np.square(a.astype(np.float64, copy=False)))))
    return abs(float(a))


def format_shape(a):
    return f"({', '.join(str(n) for n in a.shape)}{',' if a.ndim == 1 else ''})"


def grid(a):
    """The numbers of a small array as rows of texts (a 1-D array is one row), or None when it
    has more than GRID rows or columns or more than two axes (after dropping axes of 1).

    >>> grid(np.array([[1.0, -0.0], [0.5, 2.0]]))
    [['1.0', '0.0'], ['0.5', '2.0']]
    """
    if not isinstance(a, np.ndarray) or a.size == 0:
        return None
    b = a
    while b.ndim > 2 and b.shape[0] == 1:
        b = b[0]
    if b.ndim == 0:
        b = b.reshape(1)
    if b.ndim == 1:
        b = b.reshape(1, -1)
    if b.ndim != 2 or b.shape[0] > GRID or b.shape[1] > GRID:
        return None
    return [[format_number(v) for v in row] for row in b.tolist()]


def format_data(x):
    """Lines showing a node's data: the number; for an array its shape and dtype, then its
    values when it is small, else a one-line summary (mean, std, range; NaN/inf counted).

    >>> format_data(2.0)
    ['2.0']
    >>> format_data(np.arange(4.0))
    ['(4,) float64', '[0.0, 1.0, 2.0, 3.0]']
    >>> format_data(np.zeros((8, 8), dtype=np.float32))
    ['(8, 8) float32', 'all zeros']
    """
    if not isinstance(x, np.ndarray):
        return [format_number(x)]
    if x.size <= SMALL:
        return [format_header(x), _nested(x)]
    return [format_header(x), array_stats(x)]


def format_grad(g):
    """One line for a gradient: the number, a small tensor's values, or its summary.

    >>> format_grad(0.25), format_grad(None), format_grad(np.full((4, 4), 0.5))
    ('0.25', 'not yet', 'all 0.5')
    """
    if g is None:
        return "not yet"
    if not isinstance(g, np.ndarray):
        return format_number(g)
    if g.size <= SMALL:
        return _nested(g)
    return array_stats(g)


def format_short(x):
    """One short line for any value in a chain-rule line: values when small, else the shape
    and a summary (never a norm: a product of norms says nothing about the product).

    >>> format_short(np.arange(12.0).reshape(3, 4)), format_short(np.ones((3, 4)))
    ('(3, 4) μ=5.5 σ=3.45 [0.0, 11.0]', '(3, 4) all 1.0')
    """
    if not isinstance(x, np.ndarray):
        return format_number(x)
    if x.size <= SMALL:
        return _nested(x)
    return f"{format_shape(x)} {array_stats(x)}"


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
