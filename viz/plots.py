"""Training plots with matplotlib (the `viz` extra): loss/metric curves, a decision boundary
over 2-D inputs, and per-layer gradient norms. Models and histories are duck-typed (nothing
here imports nn). Each function returns a matplotlib Figure, drawn without pyplot."""

import math
from collections.abc import Mapping

import numpy as np

from autograd import Node, Tensor, Value, no_grad

from .deps import require
from .fmt import norm


def _figure(ax, ncols=1, width=5.0):
    """(figure, axes) for new axes, or the given ax and its figure."""
    if ax is not None:
        return ax.figure, [ax]
    figure = require("matplotlib.figure", "viz's plots")

    fig = figure.Figure(figsize=(width * ncols, 3.6), layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


# ----------------------------------------------------------------------------------------------
# history


def plot_history(history, ax=None):
    """Loss curves (and metric curves, on a second axes) per epoch from `fit`'s History.

    Args:
        history: a History (its `.history` dict of lists, Keras-style) or such a dict.
        ax: draw everything on this Axes instead of a new figure.

    Returns:
        The matplotlib Figure. A `val_` curve is dashed, in the colour of its training curve.
    """
    h = getattr(history, "history", history)
    if not isinstance(h, Mapping):
        raise TypeError(f"plot_history: expected a History or a dict of lists, got {type(h)}")
    h = {str(k): [float(v) for v in vals] for k, vals in h.items()}
    if not h:
        raise ValueError("plot_history: the history is empty (fit for at least one epoch)")
    base = []
    for k in h:
        b = k[4:] if k.startswith("val_") else k
        if b not in base:
            base.append(b)
    losses = [b for b in base if "loss" in b]
    metrics = [b for b in base if "loss" not in b]
    groups = [g for g in (losses, metrics) if g]
    fig, axes = _figure(ax, len(groups))
    if len(axes) < len(groups):
        axes = axes * len(groups)
    for a, names, title in zip(axes, groups, ("loss", "metrics") if losses else ("metrics",)):
        for c, b in enumerate(names):
            colour = f"C{c}"
            for key, style in ((b, "-"), ("val_" + b, "--")):
                if key in h:
                    epochs = np.arange(1, len(h[key]) + 1)
                    a.plot(epochs, h[key], style, color=colour, marker=".", label=key)
        a.set_xlabel("epoch")
        a.set_title(title)
        a.grid(alpha=0.3)
        a.legend()
    return fig


# ----------------------------------------------------------------------------------------------
# decision boundary


def _named_parameters(model):
    """[(name, parameter)] from named_parameters(), parameters(), a dict or a list."""
    if hasattr(model, "named_parameters"):
        named = model.named_parameters()
        return list(named.items() if isinstance(named, Mapping) else named)
    if hasattr(model, "parameters"):
        return [(f"p{i}", p) for i, p in enumerate(model.parameters())]
    if isinstance(model, Mapping):
        return list(model.items())
    if isinstance(model, (list, tuple)):
        return [(f"p{i}", p) for i, p in enumerate(model)]
    raise TypeError(
        f"expected a model with named_parameters() or parameters(), got {type(model).__name__}"
    )


def _is_scalar_model(model, probe):
    """True for a model of Values (called on a list of floats), False for a Tensor model."""
    try:
        params = [p for _, p in _named_parameters(model)]
    except TypeError:
        params = []
    if params:
        return isinstance(params[0], Value)
    with no_grad():
        try:
            out = model([float(v) for v in probe])
        except Exception:
            return False
    return isinstance(out, Value) or (
        isinstance(out, (list, tuple)) and bool(out) and isinstance(out[0], Value)
    )


def _raw(out):
    if isinstance(out, Node):
        return out.data
    if isinstance(out, (list, tuple)):
        return [_raw(o) for o in out]
    return out


def predict_scores(model, points):
    """The model's outputs on an (n, 2) array of points, as an (n,) or (n, k) float array."""
    points = np.asarray(points, dtype=np.float64)
    if hasattr(model, "predict"):
        out = model.predict(points)
    elif _is_scalar_model(model, points[0]):
        with no_grad():
            out = [_raw(model([float(a), float(b)])) for a, b in points]
    else:
        with no_grad():
            out = model(Tensor(points.astype(np.float32)))
    out = np.asarray(_raw(out), dtype=np.float64)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    return out.reshape(len(points), -1) if out.ndim > 1 else out.reshape(len(points))


def classes_of(scores):
    """Class per row: argmax of several outputs, else score > 0.5 for outputs in [0, 1]
    (sigmoid) and score > 0 otherwise (tanh or a raw score, as in micrograd's demo)."""
    if scores.ndim == 2:
        return scores.argmax(axis=1), None
    threshold = 0.5 if scores.min() >= 0 and scores.max() <= 1 else 0.0
    return (scores > threshold).astype(int), threshold


def plot_decision_boundary(model, X, y, ax=None, resolution=None, margin=0.5):
    """The classes a model predicts over the plane of 2-D inputs, with the data on top.

    Works for a model of Values (callable on a list of two floats, returning a Value or a list
    of Values, like `nn.scalar.MLP`) and for a Tensor model (with `.predict(array)`, or
    callable on a Tensor).

    Args:
        model: the trained model.
        X: the inputs, shape (n, 2). y: their labels (any two or more values, or one-hot).
        ax: an Axes to draw on. resolution: grid points per side (default 100 for Tensor
            models, 40 for models of Values, which run once per point).
        margin: how far the grid reaches beyond the data.

    Returns:
        The matplotlib Figure: an image of the predicted class per grid point (its array is
        `ax.images[0].get_array()`), the boundary line, and the data as a scatter.
    """
    X = np.asarray(X.data if isinstance(X, Node) else X, dtype=np.float64)
    y = np.asarray(y.data if isinstance(y, Node) else y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (n, 2), got {X.shape}")
    if y.ndim == 2:
        y = y.argmax(axis=1) if y.shape[1] > 1 else y[:, 0]
    scalar = not hasattr(model, "predict") and _is_scalar_model(model, X[0])
    res = resolution or (40 if scalar else 100)
    (x0, y0), (x1, y1) = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.linspace(x0, x1, res), np.linspace(y0, y1, res)
    xx, yy = np.meshgrid(gx, gy)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    scores = predict_scores(model, grid)
    cls, threshold = classes_of(scores)
    fig, (a,) = _figure(ax)
    labels = np.unique(y)
    k = max(len(labels), int(cls.max()) + 1, 2)
    a.imshow(
        cls.reshape(res, res),
        origin="lower",
        extent=(x0, x1, y0, y1),
        aspect="auto",
        cmap="coolwarm",
        vmin=0,
        vmax=k - 1,
        alpha=0.35,
        interpolation="nearest",
    )
    if threshold is not None and scores.min() < threshold < scores.max():
        a.contour(xx, yy, scores.reshape(res, res), levels=[threshold], colors="k", linewidths=1)
    codes = np.searchsorted(labels, y)
    a.scatter(
        X[:, 0],
        X[:, 1],
        c=codes,
        cmap="coolwarm",
        vmin=0,
        vmax=max(len(labels) - 1, 1),
        edgecolors="k",
        linewidths=0.5,
        s=20,
    )
    a.set_xlim(x0, x1)
    a.set_ylim(y0, y1)
    a.set_title("decision boundary")
    return fig


# ----------------------------------------------------------------------------------------------
# gradient flow


def layer_of(name):
    """The layer a dotted parameter name belongs to: up to the first number, else its parent.

    >>> layer_of("layers.0.neurons.3.w.1"), layer_of("fc1.weight"), layer_of("p3")
    ('layers.0', 'fc1', 'p3')
    """
    parts = name.split(".")
    for k, p in enumerate(parts):
        if p.isdigit():
            return ".".join(parts[: k + 1])
    return ".".join(parts[:-1]) if len(parts) > 1 else name


def gradient_norms(model, by="layer"):
    """[(name, L2 norm of the gradients, max |gradient|)] per layer or per parameter."""
    if by not in ("layer", "parameter"):
        raise ValueError(f"by must be 'layer' or 'parameter', got {by!r}")
    groups = {}
    for name, p in _named_parameters(model):
        key = layer_of(name) if by == "layer" else name
        groups.setdefault(key, []).append(p.grad if isinstance(p, Node) else p)
    rows = []
    for key, grads in groups.items():
        sq, top = 0.0, 0.0
        for g in grads:
            if g is None:
                continue
            sq += norm(g) ** 2
            a = np.abs(np.asarray(g, dtype=np.float64))
            top = max(top, float(a.max()) if a.size else 0.0)
        rows.append((key, math.sqrt(sq), top))
    return rows


def plot_gradient_flow(model, by="layer", ax=None):
    """Gradient norms per layer (or per parameter), input side first: the picture that shows
    vanishing or exploding gradients. Call it after `backward()`.

    Args:
        model: anything with named_parameters() or parameters() (or a dict/list of them).
        by: "layer" (parameters grouped by the dotted name up to the layer number) or
            "parameter".
        ax: an Axes to draw on.

    Returns:
        The matplotlib Figure: line 0 is the L2 norm per group, line 1 the max |gradient|.
    """
    rows = gradient_norms(model, by)
    if not rows:
        raise ValueError("plot_gradient_flow: the model has no parameters")
    fig, (a,) = _figure(ax, width=max(5.0, 0.45 * len(rows)))
    x = np.arange(len(rows))
    norms = [r[1] for r in rows]
    tops = [r[2] for r in rows]
    a.plot(x, norms, "o-", label="‖grad‖ (L2)")
    a.plot(x, tops, "s--", label="max |grad|", alpha=0.7)
    a.set_xticks(
        x,
        [r[0] for r in rows],
        rotation=45 if len(rows) > 4 else 0,
        ha="right" if len(rows) > 4 else "center",
    )
    positive = [v for v in norms + tops if v > 0]
    if positive and min(norms + tops) > 0 and max(positive) / min(positive) > 100:
        a.set_yscale("log")
    a.set_ylabel("gradient")
    a.set_title(f"gradient flow (per {by})")
    a.grid(alpha=0.3)
    a.legend()
    return fig


__all__ = ["plot_decision_boundary", "plot_gradient_flow", "plot_history"]
