"""`Monitor`: a fit callback recording training dynamics per layer (makemore's diagnostics).

Every `every` batches (or once per epoch) it records, for each layer, the statistics of its
output (activations) and of the gradient that reached that output, the share of saturated units
of tanh/sigmoid layers, and per parameter the update:data ratio (std of the step taken / std
of the data). `viz.plot_activations`, `plot_gradients`, `plot_saturation` and
`plot_update_ratio` draw them. Reads the graph of the batch just trained; changes nothing.
"""

import numpy as np

from autograd import Tensor

from .callbacks import Callback

SATURATED = {"tanh": 0.97, "sigmoid": 0.97}  # |t| > 0.97, or s < 0.03 or s > 0.97


def _kind(layer):
    """'tanh', 'sigmoid', 'relu', ... for a layer whose output passes an activation, else ''."""
    name = type(layer).__name__.lower()
    if name in ("tanh", "sigmoid", "relu", "softmax"):
        return name
    act = getattr(layer, "activation", None)
    return act if isinstance(act, str) and act != "linear" else ""


# the bins of the magnitude histogram, in log10 |x|: the same for every layer, so layers whose
# values differ by orders of magnitude (vanishing gradients) can be compared on one log axis
LOG_EDGES = np.arange(-12.0, 4.0 + 1e-9, 0.25)
TINY = 10.0 ** LOG_EDGES[0]  # |x| below this counts as zero in the magnitude histogram


def _stats(a, bins):
    a = np.asarray(a, dtype=np.float64).ravel()
    a = a[np.isfinite(a)]
    if not a.size:
        empty = ([], [])
        return {"mean": float("nan"), "std": float("nan"), "hist": empty, "loghist": empty,
                "zeros": 0.0}  # fmt: skip
    counts, edges = np.histogram(a, bins=bins)
    mag = np.abs(a)
    small = mag < TINY
    logs = np.log10(np.clip(mag[~small], TINY, 10.0 ** LOG_EDGES[-1]))
    logcounts, _ = np.histogram(logs, bins=LOG_EDGES)
    return {
        "mean": float(a.mean()),
        "std": float(a.std()),
        "hist": (counts, edges),
        "loghist": (logcounts, LOG_EDGES),
        "zeros": float(small.mean()),
    }


def saturated_share(a, kind):
    """The share of units past the saturation threshold: |t| > 0.97 for tanh, s < 0.03 or
    s > 0.97 for sigmoid; None for other activations.

    >>> saturated_share(np.array([0.99, -0.5, -0.98, 0.1]), "tanh")
    0.5
    """
    if kind not in SATURATED:
        return None
    a = np.asarray(a, dtype=np.float64)
    t = SATURATED[kind]
    if kind == "sigmoid":
        return float(((a > t) | (a < 1 - t)).mean())
    return float((np.abs(a) > t).mean())


class Monitor(Callback):
    """Record activation and gradient statistics per layer, and update:data ratios, during fit.

    Args:
        every: record every this many batches; None (default) records the last batch of each
            epoch.
        bins: histogram bins for activations and gradients.
        layers: the layer names to watch (e.g. ["layers.0"]); default all of `model.layers`.

    After fit:
        `monitor.layers`: {layer name: list of records}, a record per recorded step with
            `step`, `epoch`, `kind` (activation), `act` and `grad` ({mean, std, hist,
            loghist, zeros}: `hist` = (counts, edges) over the values, `loghist` = (counts,
            edges) over log10 |value| with the same edges for every layer, `zeros` = the share
            below 1e-12 in size, left out of `loghist`) and `saturated` (share, tanh/sigmoid
            only).
        `monitor.params`: {parameter name: list of {step, epoch, ratio, grad_std, data_std}},
            `ratio` = std(update) / std(data), the step the optimizer actually took; makemore's
            guide: about 1e-3 (log10 -3) is healthy, far below learns slowly, far above is
            unstable.
        `monitor.steps`: the global batch numbers recorded.

    >>> import numpy as np, nn
    >>> nn.manual_seed(0)
    >>> m = nn.Sequential([nn.Dense(8, activation="tanh", input_shape=(2,)), nn.Dense(1)])
    >>> m.compile(optimizer="sgd", loss="mse")
    >>> mon = nn.callbacks.Monitor(every=2)
    >>> x = np.random.default_rng(0).normal(size=(64, 2)); y = x[:, :1] * 2
    >>> _ = m.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[mon], seed=0)
    >>> mon.steps, sorted(mon.layers)
    ([1, 3], ['layers.0', 'layers.1'])
    """

    def __init__(self, every=None, bins=40, layers=None):
        if every is not None and int(every) < 1:
            raise ValueError(f"Monitor: every must be >= 1 batches or None, got {every}")
        self.every = None if every is None else int(every)
        self.bins = int(bins)
        self.only = None if layers is None else list(layers)
        self.layers, self.params, self.steps = {}, {}, []

    # --- wiring into the model ---------------------------------------------------------------
    def _watched(self):
        model = self.model
        layers = getattr(model, "layers", None)
        if not layers:
            raise TypeError(
                f"Monitor: the model ({type(model).__name__}) has no .layers to watch; use it "
                "with nn.Sequential (or a model with a list of layers)"
            )
        out = [(f"layers.{i}", layer) for i, layer in enumerate(layers)]
        if self.only is not None:
            names = [n for n, _ in out]
            bad = [n for n in self.only if n not in names]
            if bad:
                raise ValueError(f"Monitor: no layers {bad} in the model; it has {names}")
            out = [(n, layer) for n, layer in out if n in self.only]
        return out

    def on_train_begin(self, logs=None):
        self.layers, self.params, self.steps = {}, {}, []
        self._outputs = {}
        self._step = 0
        self._epoch = 0
        self._wrapped, self._last = [], None
        self._kinds = {}
        for name, layer in self._watched():
            self._kinds[name] = _kind(layer)
            self._wrap(name, layer)
        self._snapshot()

    def _wrap(self, name, layer):
        inner = layer.forward
        outputs = self._outputs

        def forward(*args, **kwargs):
            out = inner(*args, **kwargs)
            outputs[name] = out
            return out

        object.__setattr__(layer, "forward", forward)
        self._wrapped.append(layer)

    def on_train_end(self, logs=None):
        for layer in self._wrapped:
            if "forward" in vars(layer):
                object.__delattr__(layer, "forward")
        self._wrapped = []
        self._outputs = {}

    def _snapshot(self):
        self._before = {
            name: np.array(p.data, dtype=np.float64, copy=True)
            for name, p in self.model.named_parameters()
        }

    # --- recording ---------------------------------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        step = self._step
        self._step += 1
        if self.every is None:  # per epoch: on_epoch_end records the last batch
            self._last, self._last_before = step, self._before
            self._snapshot()
        elif (step + 1) % self.every == 0:
            self._store(*self._measure(step, self._before))
            if self.every == 1:
                self._snapshot()
        elif (step + 2) % self.every == 0:
            self._snapshot()  # the parameters before the next (recorded) step

    def on_epoch_end(self, epoch, logs=None):
        if self.every is None and self._last is not None:
            self._store(*self._measure(self._last, self._last_before))
            self._last = None

    def _measure(self, step, before_all):
        layers = {}
        for name, out in self._outputs.items():
            if not isinstance(out, Tensor):
                continue
            kind = self._kinds[name]
            act = out.data
            grad = out.grad if out.grad is not None else np.zeros_like(act)
            layers[name] = {
                "step": step,
                "epoch": self._epoch,
                "kind": kind,
                "act": _stats(act, self.bins),
                "grad": _stats(grad, self.bins),
                "saturated": saturated_share(act, kind),
            }
        params = {}
        for name, p in self.model.named_parameters():
            data = np.asarray(p.data, dtype=np.float64)
            before = before_all.get(name)
            update = data - before if before is not None else np.zeros_like(data)
            dstd = float(data.std())
            params[name] = {
                "step": step,
                "epoch": self._epoch,
                "ratio": float(update.std() / dstd) if dstd > 0 else float("nan"),
                "grad_std": float(np.std(p.grad)) if p.grad is not None else float("nan"),
                "data_std": dstd,
            }
        return step, layers, params

    def _store(self, step, layers, params):
        self.steps.append(step)
        for name, rec in layers.items():
            self.layers.setdefault(name, []).append(rec)
        for name, rec in params.items():
            self.params.setdefault(name, []).append(rec)

    # --- reading -----------------------------------------------------------------------------
    def series(self, layer, what):
        """(steps, values) of one statistic of a layer over training: what is 'act_mean',
        'act_std', 'grad_mean', 'grad_std' or 'saturated'."""
        recs = self.layers.get(layer)
        if recs is None:
            raise KeyError(f"Monitor: no records for layer {layer!r}; it has {sorted(self.layers)}")
        if what == "saturated":
            vals = [r["saturated"] for r in recs]
        else:
            part, _, stat = what.partition("_")
            if part not in ("act", "grad") or stat not in ("mean", "std"):
                raise ValueError(
                    f"Monitor.series: what must be act_mean, act_std, grad_mean, grad_std or "
                    f"saturated, got {what!r}"
                )
            vals = [r[part][stat] for r in recs]
        return [r["step"] for r in recs], vals

    def __repr__(self):
        return f"<Monitor: {len(self.steps)} records of {len(self.layers)} layers>"
