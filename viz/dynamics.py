"""Plots of training dynamics from an `nn.callbacks.Monitor` (duck-typed: nothing here imports
nn): activation and gradient histograms per layer, the saturated share of tanh/sigmoid units,
and the update:data ratio per parameter with makemore's 1e-3 guide line. Each returns a Figure.
"""

import math

import numpy as np

from .plots import _figure


def _records(monitor, what):
    layers = getattr(monitor, "layers", None)
    if not isinstance(layers, dict):
        raise TypeError(
            f"{what}: expected an nn.callbacks.Monitor (after fit), got {type(monitor).__name__}"
        )
    if not layers:
        raise ValueError(
            f"{what}: the Monitor has no records yet; pass it to fit(callbacks=[monitor])"
        )
    return layers


def _at(recs, step):
    """The record of a layer at a recorded step (-1: the last), by position or step number."""
    if step is None or step == -1:
        return recs[-1]
    for r in recs:
        if r["step"] == step:
            return r
    if isinstance(step, int) and -len(recs) <= step < len(recs):
        return recs[step]
    raise ValueError(f"no record at step {step}; recorded steps: {[r['step'] for r in recs]}")


def _colours(names):
    """{layer name: colour}, one colour per layer, the same in every plot: matplotlib's ten
    distinct colours up to ten layers, else evenly spaced along viridis (input side dark)."""
    names = list(names)
    if len(names) <= 10:
        return {n: f"C{i}" for i, n in enumerate(names)}
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return {n: cmap(i / (len(names) - 1) * 0.9) for i, n in enumerate(names)}


def _legend(a):
    """The legend beside the axes (right), never over the data."""
    a.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize=8,
             frameon=False)  # fmt: skip


def _histograms(monitor, part, step, ax, what, scale):
    if scale not in ("linear", "log"):
        raise ValueError(
            f"{what}: scale must be 'linear' (the values) or 'log' (log10 of their size, one "
            f"axis for layers of very different magnitudes), got {scale!r}"
        )
    layers = _records(monitor, what)
    colours = _colours(layers)
    fig, (a,) = _figure(ax, width=8.0)
    seen = []  # the centres of the bins that hold values, to fit the log axis to them
    for name, recs in layers.items():
        r = _at(recs, step)
        stats = r[part]
        counts, edges = stats["loghist" if scale == "log" else "hist"]
        if len(counts) == 0:
            continue
        centres = (np.asarray(edges[:-1]) + np.asarray(edges[1:])) / 2
        if scale == "log":
            centres = 10.0**centres
            seen += list(centres[np.asarray(counts) > 0])
        label = f"{name} ({r['kind'] or 'linear'}) mean {stats['mean']:+.2g} std {stats['std']:.2g}"
        if r.get("saturated") is not None and part == "act":
            label += f" saturated {100 * r['saturated']:.0f}%"
        if scale == "log" and stats.get("zeros"):
            label += f", {100 * stats['zeros']:.0f}% zero"
        a.plot(centres, counts, color=colours[name], label=label)
    step_shown = _at(next(iter(layers.values())), step)["step"]
    noun = "activation" if part == "act" else "gradient"
    a.set_title(f"{noun} distribution, batch {step_shown}")
    x = "activation" if part == "act" else "gradient of the layer output"
    if scale == "log":
        a.set_xscale("log")
        if seen:  # the shared bins span 1e-12..1e4: show only where the values are
            a.set_xlim(min(seen) / 3, max(seen) * 3)
        x = f"|{x}| (log scale)"
    a.set_xlabel(x)
    a.set_ylabel("count")
    a.grid(alpha=0.3)
    _legend(a)
    return fig


def plot_activations(monitor, step=-1, ax=None, scale="linear"):
    """Histogram of each layer's outputs at one recorded step (default the last), one line per
    layer, its legend giving mean, std and (tanh/sigmoid) the saturated share.

    `scale="log"`: the histogram of log10 |value| on a log axis (bins shared by all layers),
    for layers whose values differ by orders of magnitude; exact zeros are counted in the
    legend, not drawn."""
    return _histograms(monitor, "act", step, ax, "plot_activations", scale)


def plot_gradients(monitor, step=-1, ax=None, scale="linear"):
    """Histogram of the gradient reaching each layer's output at one recorded step;
    `scale="log"` as in `plot_activations` (vanishing gradients show as bumps moving left,
    layer by layer)."""
    return _histograms(monitor, "grad", step, ax, "plot_gradients", scale)


def plot_saturation(monitor, ax=None):
    """The share of saturated units (|t| > 0.97; sigmoid below 0.03 or above 0.97) over
    training, one line per tanh/sigmoid layer."""
    layers = _records(monitor, "plot_saturation")
    colours = _colours(layers)
    fig, (a,) = _figure(ax, width=7.0)
    drawn = 0
    for name, recs in layers.items():
        if recs[0]["saturated"] is None:
            continue
        a.plot(
            [r["step"] for r in recs],
            [100 * r["saturated"] for r in recs],
            "o-",
            color=colours[name],
            label=f"{name} ({recs[0]['kind']})",
            markersize=3,
            clip_on=False,  # a line at 0% or 100% stays whole on the frame
        )
        drawn += 1
    if not drawn:
        raise ValueError("plot_saturation: no tanh or sigmoid layer among the monitored layers")
    a.set_xlabel("batch")
    a.set_ylabel("saturated units (%)")
    a.set_ylim(0, 100)  # always the whole range: 0% reads as none, not as a flat curve
    a.set_title("saturation")
    a.grid(alpha=0.3)
    _legend(a)
    return fig


def _owner(param, layers):
    """The monitored layer a parameter belongs to ('layers.3.weight' -> 'layers.3'), else the
    parameter's own prefix."""
    best = ""
    for name in layers:
        if param.startswith(name + ".") and len(name) > len(best):
            best = name
    return best or param.rpartition(".")[0] or param


def plot_update_ratio(monitor, ax=None, weights_only=True):
    """log10 of std(update) / std(data) per parameter over training, with the 1e-3 guide
    (log10 = -3, the dashed line; its label is 'guide 1e-3'). Biases are left out unless
    weights_only=False (they start at zero, so their ratio says little early on; drawn dashed).
    A ratio of exactly 0 (the weights did not move: the step was below float32's resolution)
    leaves a gap. A parameter has the colour of its layer in every dynamics plot."""
    _records(monitor, "plot_update_ratio")
    params = getattr(monitor, "params", {})
    owners = {name: _owner(name, monitor.layers) for name in params}
    colours = _colours(dict.fromkeys([*monitor.layers, *owners.values()]))
    fig, (a,) = _figure(ax, width=7.5)
    steps_all = []
    for name, recs in params.items():
        if weights_only and name.endswith("bias"):
            continue
        steps = [r["step"] for r in recs]
        vals = [math.log10(r["ratio"]) if r["ratio"] > 0 else float("nan") for r in recs]
        style = "--" if name.endswith("bias") else "-"
        a.plot(steps, vals, style, color=colours[owners[name]], label=name)
        steps_all += steps
    if not steps_all:
        raise ValueError("plot_update_ratio: no parameters recorded")
    a.axhline(-3, color="k", linestyle="--", linewidth=1, label="guide 1e-3")
    a.set_xlabel("batch")
    a.set_ylabel("log10(update std / data std)")
    a.set_title("update : data ratio")
    a.grid(alpha=0.3)
    _legend(a)
    return fig
