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


def _histograms(monitor, part, step, ax, what):
    layers = _records(monitor, what)
    fig, (a,) = _figure(ax, width=6.0)
    for c, (name, recs) in enumerate(layers.items()):
        r = _at(recs, step)
        counts, edges = r[part]["hist"]
        if len(counts) == 0:
            continue
        centres = (np.asarray(edges[:-1]) + np.asarray(edges[1:])) / 2
        label = (
            f"{name} ({r['kind'] or 'linear'}) mean {r[part]['mean']:+.2g} std {r[part]['std']:.2g}"
        )
        if r.get("saturated") is not None and part == "act":
            label += f" saturated {100 * r['saturated']:.0f}%"
        a.plot(centres, counts, color=f"C{c}", label=label)
    step_shown = _at(next(iter(layers.values())), step)["step"]
    a.set_title(f"{'activation' if part == 'act' else 'gradient'} distribution, step {step_shown}")
    a.set_xlabel("activation" if part == "act" else "gradient of the layer output")
    a.set_ylabel("count")
    a.grid(alpha=0.3)
    a.legend(fontsize=8)
    return fig


def plot_activations(monitor, step=-1, ax=None):
    """Histogram of each layer's outputs at one recorded step (default the last), one line per
    layer, its legend giving mean, std and (tanh/sigmoid) the saturated share."""
    return _histograms(monitor, "act", step, ax, "plot_activations")


def plot_gradients(monitor, step=-1, ax=None):
    """Histogram of the gradient reaching each layer's output at one recorded step."""
    return _histograms(monitor, "grad", step, ax, "plot_gradients")


def plot_saturation(monitor, ax=None):
    """The share of saturated units (|t| > 0.97; sigmoid below 0.03 or above 0.97) over
    training, one line per tanh/sigmoid layer."""
    layers = _records(monitor, "plot_saturation")
    fig, (a,) = _figure(ax)
    drawn = 0
    for c, (name, recs) in enumerate(layers.items()):
        if recs[0]["saturated"] is None:
            continue
        a.plot(
            [r["step"] for r in recs],
            [100 * r["saturated"] for r in recs],
            "o-",
            color=f"C{c}",
            label=f"{name} ({recs[0]['kind']})",
        )
        drawn += 1
    if not drawn:
        raise ValueError("plot_saturation: no tanh or sigmoid layer among the monitored layers")
    a.set_xlabel("batch")
    a.set_ylabel("saturated units (%)")
    a.set_title("saturation")
    a.grid(alpha=0.3)
    a.legend(fontsize=8)
    return fig


def plot_update_ratio(monitor, ax=None, weights_only=True):
    """log10 of std(update) / std(data) per parameter over training, with the 1e-3 guide
    (log10 = -3, the dashed line; its label is 'guide 1e-3'). Biases are left out unless
    weights_only=False (they start at zero, so their ratio says little early on)."""
    _records(monitor, "plot_update_ratio")
    params = getattr(monitor, "params", {})
    fig, (a,) = _figure(ax, width=6.0)
    steps_all = []
    for c, (name, recs) in enumerate(params.items()):
        if weights_only and name.endswith("bias"):
            continue
        steps = [r["step"] for r in recs]
        vals = [math.log10(r["ratio"]) if r["ratio"] > 0 else float("nan") for r in recs]
        a.plot(steps, vals, color=f"C{c}", label=name)
        steps_all += steps
    if not steps_all:
        raise ValueError("plot_update_ratio: no parameters recorded")
    a.axhline(-3, color="k", linestyle="--", linewidth=1, label="guide 1e-3")
    a.set_xlabel("batch")
    a.set_ylabel("log10(update std / data std)")
    a.set_title("update : data ratio")
    a.grid(alpha=0.3)
    a.legend(fontsize=8)
    return fig
