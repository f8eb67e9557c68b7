"""Small data sets for demos and tests: seeded 2-d toys and the 8x8 digits, never downloaded.

Every generator returns (X, y): X float32 of shape (n_samples, 2), y int64 class ids.
`load_digits` and `load_iris` read the digits and Fisher's irises shipped beside this file (see
digits.README and iris.README).
"""

import os

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))


def _finish(x, y, noise, rng, shuffle=True):
    if noise:
        x = x + rng.normal(scale=noise, size=x.shape)
    if shuffle:
        order = rng.permutation(len(x))
        x, y = x[order], y[order]
    return x.astype(np.float32), y.astype(np.int64)


def _count(n_samples, name):
    if not isinstance(n_samples, int | np.integer) or n_samples < 2:
        raise ValueError(f"{name}: n_samples must be an int >= 2, got {n_samples!r}")
    return int(n_samples)


def make_moons(n_samples=100, noise=0.0, seed=None):
    """Two interleaving half circles (labels 0 and 1), as scikit-learn's make_moons.

    >>> X, y = make_moons(200, noise=0.1, seed=0)
    >>> X.shape, X.dtype, sorted(set(y.tolist()))
    ((200, 2), dtype('float32'), [0, 1])
    """
    n = _count(n_samples, "make_moons")
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    outer = np.stack([np.cos(t_out), np.sin(t_out)], axis=1)
    inner = np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], axis=1)
    x = np.concatenate([outer, inner])
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    return _finish(x, y, noise, rng)


def make_circles(n_samples=100, noise=0.0, factor=0.8, seed=None):
    """A circle of radius `factor` (label 1) inside one of radius 1 (label 0).

    >>> X, y = make_circles(100, seed=0)
    >>> bool(abs(np.hypot(*X[y == 1].T) - 0.8).max() < 1e-6)
    True
    """
    n = _count(n_samples, "make_circles")
    if not 0 < factor < 1:
        raise ValueError(f"make_circles: factor must be in (0, 1), got {factor!r}")
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    outer = np.stack([np.cos(t_out), np.sin(t_out)], axis=1)
    inner = factor * np.stack([np.cos(t_in), np.sin(t_in)], axis=1)
    x = np.concatenate([outer, inner])
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    return _finish(x, y, noise, rng)


def make_spirals(n_samples=100, n_classes=2, noise=0.2, seed=None):
    """`n_classes` arms of a spiral (CS231n's toy); `noise` jitters the angle.

    >>> X, y = make_spirals(300, n_classes=3, seed=0)
    >>> X.shape, np.bincount(y).tolist()
    ((300, 2), [100, 100, 100])
    """
    n = _count(n_samples, "make_spirals")
    if not isinstance(n_classes, int | np.integer) or n_classes < 2:
        raise ValueError(f"make_spirals: n_classes must be an int >= 2, got {n_classes!r}")
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for k in range(n_classes):
        m = n // n_classes + (k < n % n_classes)
        r = np.linspace(0.05, 1, m)
        t = np.linspace(k * 4, (k + 1) * 4, m) + rng.normal(scale=noise, size=m)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        ys.append(np.full(m, k))
    return _finish(np.concatenate(xs), np.concatenate(ys), 0.0, rng)


def make_xor(n_samples=100, noise=0.0, seed=None):
    """Points in [-1, 1]^2 labelled 1 where exactly one coordinate is positive (XOR).

    >>> X, y = make_xor(8, seed=0)
    >>> bool(((X[:, 0] > 0) ^ (X[:, 1] > 0) == (y == 1)).all())
    True
    """
    n = _count(n_samples, "make_xor")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 2))
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64)
    return _finish(x, y, noise, rng, shuffle=False)


def load_digits(images=False, scale=True):
    """The 1797 8x8 handwritten digits (UCI optdigits test set, as bundled by scikit-learn).

    Args:
        images: False gives X of shape (1797, 64); True gives channels-last images
            (1797, 8, 8, 1) for Conv2D.
        scale: divide the pixel counts 0..16 by 16, into [0, 1].

    Returns:
        (X float32, y int64 digits 0..9).

    >>> X, y = load_digits()
    >>> X.shape, y.shape, float(X.max()), np.bincount(y).tolist()[:3]
    ((1797, 64), (1797,), 1.0, [178, 182, 177])
    """
    with np.load(os.path.join(_HERE, "digits.npz"), allow_pickle=False) as f:
        pixels, target = f["images"], f["target"]
    x = pixels.astype(np.float32)
    if scale:
        x /= 16.0
    x = x[..., None] if images else x.reshape(len(x), 64)
    return x, target.astype(np.int64)


def load_iris():
    """Fisher's 150 iris flowers, 50 of each species (as bundled by scikit-learn; iris.README).

    Returns:
        (X float32 of shape (150, 4), y int64 species 0..2). The columns of X are sepal
        length, sepal width, petal length and petal width in cm; the species are 0 setosa,
        1 versicolor, 2 virginica, in that order of the rows.

    >>> X, y = load_iris()
    >>> X.shape, X.dtype, np.bincount(y).tolist(), X[0].tolist()
    ((150, 4), dtype('float32'), [50, 50, 50], [5.1, 3.5, 1.4, 0.2])
    """
    table = np.loadtxt(os.path.join(_HERE, "iris.csv"), delimiter=",", skiprows=1)
    return table[:, :4].astype(np.float32), table[:, 4].astype(np.int64)


def train_test_split(*arrays, test_size=0.25, shuffle=True, seed=None):
    """Split arrays (same length) into train and test parts: x_train, x_test, y_train, ...

    >>> X, y = np.arange(20).reshape(10, 2), np.arange(10)
    >>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, seed=0)
    >>> len(X_tr), len(X_te), bool((X_te[:, 0] // 2 == y_te).all())
    (7, 3, True)
    """
    if not arrays:
        raise ValueError("train_test_split: give at least one array")
    arrays = [np.asarray(a) for a in arrays]
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError(
            f"train_test_split: arrays have different lengths {[len(a) for a in arrays]}"
        )
    n_test = int(round(n * test_size)) if isinstance(test_size, float) else int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"train_test_split: test_size={test_size!r} leaves an empty part")
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    test, train = order[:n_test], order[n_test:]
    out = []
    for a in arrays:
        out += [a[train], a[test]]
    return out
