"""Trainer: Keras's compile / fit / evaluate / predict / summary, shared by Sequential and Model.

One training loop for both model kinds. A subclass says how many inputs it takes, builds
itself from the data's shapes, and lists its layers; everything else lives here. Plain numpy
arrays (or lists) go in, numpy comes out of predict.
"""

import math
import warnings

import numpy as np

from autograd import Tensor, no_grad

from . import losses as _losses
from . import metrics as _metrics
from . import optim as _optim
from .callbacks import Callback, History
from .layers import as_input
from .module import Module
from .progress import Progbar, check_verbose


def check_batch_size(batch_size, what):
    """A positive int (None means Keras's default of 32), or a ValueError that says so."""
    if batch_size is None:
        return 32
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int | np.integer | float)
        or batch_size != int(batch_size)
        or int(batch_size) < 1
    ):
        raise ValueError(
            f"{what}: batch_size must be a positive whole number of samples per step, "
            f"got {batch_size!r}; e.g. batch_size=32"
        )
    return int(batch_size)


class Trainer(Module):
    """What Sequential and the functional Model share: compile, fit, evaluate, predict, summary.

    Subclasses give `input_specs()` ([(shape or None, dtype)] per input, no batch axis),
    `build_for(arrays)` (build from the first data, or check it fits), `output_shape_nb()`
    and `summary_rows()`.
    """

    def _init_training(self):
        self.optimizer = None
        self.loss = None
        self.metrics = []
        self.stop_training = False
        self.history = None

    # --- the parts a model kind gives ----------------------------------------------------
    def input_specs(self):
        raise NotImplementedError

    def build_for(self, arrays, what):
        raise NotImplementedError

    def output_shape_nb(self):
        raise NotImplementedError

    def summary_rows(self):
        raise NotImplementedError

    # --- layers --------------------------------------------------------------------------
    def get_layer(self, name=None, index=None):
        """The layer called `name` (or at position `index` of model.layers), as in Keras."""
        if (name is None) == (index is None):
            raise ValueError("get_layer: give exactly one of name= or index=")
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(
                    f"get_layer: index {index} is out of range; the model has "
                    f"{len(self.layers)} layers"
                )
            return self.layers[index]
        for layer in self.layers:
            if getattr(layer, "name", None) == name:
                return layer
        known = [getattr(layer, "name", type(layer).__name__) for layer in self.layers]
        raise ValueError(f"get_layer: no layer is named {name!r}; the layers are {known}")

    # --- compile -------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimizer, loss and metrics (names or objects) for fit and evaluate.

        Names: optimizers 'sgd', 'adam', 'rmsprop'; losses 'mse', 'binary_crossentropy',
        'categorical_crossentropy', 'sparse_categorical_crossentropy'; metrics 'accuracy',
        'mae'. An optimizer made without parameters is bound to this model's.
        """
        if loss is None:
            raise ValueError(
                f"compile: give a loss, e.g. loss='mse'; known: {', '.join(sorted(_losses.LOSSES))}"
            )
        self.loss = _losses.get(loss)
        self.optimizer = _optim.get(optimizer)
        metrics = list(metrics or [])
        for m in metrics:
            _metrics.check(m)
        self.metrics = metrics
        self._logits_checked = False
        if self.built and self.optimizer.params is None:
            self.optimizer.bind(self.parameters())

    def _require_compiled(self, what):
        if self.loss is None:
            raise RuntimeError(
                f"{what}: the model is not compiled; call model.compile(optimizer=..., "
                f"loss=..., metrics=[...]) before {what}, e.g. model.compile(optimizer='adam', "
                "loss='binary_crossentropy', metrics=['accuracy'])"
            )

    # --- data ----------------------------------------------------------------------------
    def _inputs(self, x, what):
        """x as a list of arrays, one per model input (cast to the input's dtype)."""
        specs = self.input_specs()
        if x is None:
            raise ValueError(f"{what}: give x")
        if len(specs) == 1:
            xs = [x]
        else:
            if isinstance(x, dict):
                names = self.input_names()
                unknown = sorted(set(x) - set(names))
                if unknown or len(x) != len(names):
                    raise ValueError(
                        f"{what}: x as a dict must have one array per input {names}, got keys "
                        f"{sorted(x)}"
                    )
                x = [x[n] for n in names]
            if not isinstance(x, list | tuple) or len(x) != len(specs):
                raise ValueError(
                    f"{what}: the model has {len(specs)} inputs ({', '.join(self.input_names())});"
                    f" give x as a list of {len(specs)} arrays, one per input"
                )
            xs = list(x)
        out = []
        for a, (_, dtype) in zip(xs, specs):
            a = a.data if isinstance(a, Tensor) else as_input(a, dtype)
            if a.ndim == 0 or len(a) == 0:
                raise ValueError(
                    f"{what}: x is empty" if a.ndim else f"{what}: x has no batch axis"
                )
            out.append(a)
        n = len(out[0])
        if any(len(a) != n for a in out):
            raise ValueError(
                f"{what}: the inputs have different numbers of samples {[len(a) for a in out]}"
            )
        self.build_for(out, what)
        return out

    def _xy(self, x, y, what):
        if x is None or y is None:
            raise ValueError(f"{what}: give both x and y")
        xs = self._inputs(x, what)
        y = y.data if isinstance(y, Tensor) else np.asarray(y)
        if len(xs[0]) != len(y):
            raise ValueError(
                f"{what}: x has {len(xs[0])} samples but y has {len(y)}; give one label per sample"
            )
        out_shape = (len(y), *self.output_shape_nb())
        y = self.loss.prepare(y, out_shape, np.float32)
        return xs, y

    def _metric_fns(self, y, n):
        pred_shape = (n, *self.output_shape_nb())
        return [_metrics.get(m, self.loss, y.shape, pred_shape) for m in self.metrics]

    def _names(self):
        return ["loss"] + [m if isinstance(m, str) else m.__name__ for m in self.metrics]

    def _call_batch(self, xs):
        return self(xs[0]) if len(xs) == 1 else self(list(xs))

    def _check_logits(self, out):
        """Keras's warning: from_logits=True on an output that a sigmoid or softmax made."""
        self._logits_checked = True
        if self.loss.from_logits and getattr(out, "op", "") in ("sigmoid", "softmax"):
            kind = "Sigmoid" if out.op == "sigmoid" else "Softmax"
            warnings.warn(
                f"`{self.loss.name}` received `from_logits=True`, but the `output` argument was "
                f"produced by a {kind} activation and thus does not represent logits. Was this "
                f"intended? (drop activation='{out.op}' from the last layer, or use "
                "from_logits=False)",
                stacklevel=3,
            )

    # --- fit -----------------------------------------------------------------------------
    def fit(
        self,
        x=None,
        y=None,
        batch_size=32,
        epochs=1,
        verbose=1,
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        seed=None,
    ):
        """Train for `epochs` passes over (x, y) in batches; returns a History.

        Args:
            x, y: inputs (samples first) and labels, numpy arrays or lists; a model with
                several inputs takes x as a list (or a dict by input name).
            batch_size: samples per gradient step (the last batch may be smaller).
            epochs: passes over the data.
            verbose: 0 silent; 1 (or 'auto') Keras 3's progress line per epoch, redrawn in a
                terminal or Jupyter, written once per epoch in a log; 2 one line per epoch.
            callbacks: nn.callbacks.Callback objects (a History is always added).
            validation_split: share of the samples, taken from the end before shuffling, kept
                out of training and evaluated after each epoch as val_loss, val_<metric>.
            validation_data: (x_val, y_val) to evaluate instead of a split.
            shuffle: visit the samples in a new random order each epoch.
            seed: seed of the shuffling, for reproducible runs.

        A loss that stops being finite does not stop training (as in Keras): fit warns once,
        naming the epoch and batch; add nn.callbacks.TerminateOnNaN() to stop there.
        """
        self._require_compiled("fit")
        verbose = check_verbose(verbose, "fit")
        batch_size = check_batch_size(batch_size, "fit")
        if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 0:
            raise ValueError(f"fit: epochs must be a whole number >= 0, got {epochs!r}")
        xs, y = self._xy(x, y, "fit")
        xv = yv = None
        if validation_data is not None:
            if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
                raise ValueError("fit: validation_data must be a pair (x_val, y_val)")
            xv, yv = self._xy(*validation_data, "fit (validation_data)")
        elif validation_split:
            if not 0 < validation_split < 1:
                raise ValueError(f"fit: validation_split must be in (0, 1), got {validation_split}")
            n = len(y)
            cut = math.ceil(n * (1 - validation_split))  # as Keras
            if cut == 0 or cut == n:
                raise ValueError(
                    f"fit: validation_split={validation_split} leaves no samples for "
                    f"{'training' if cut == 0 else 'validation'} out of {n}"
                )
            xv, yv = [a[cut:] for a in xs], y[cut:]
            xs, y = [a[:cut] for a in xs], y[:cut]

        n = len(y)
        steps = math.ceil(n / batch_size)
        history = History()
        cbs = [*(callbacks or []), history]
        params = {"verbose": verbose, "epochs": epochs, "steps": steps}
        for cb in cbs:
            if not isinstance(cb, Callback):
                raise TypeError(f"fit: callbacks must be nn.callbacks.Callback objects, got {cb!r}")
            cb.set_model(self)
            cb.set_params(dict(params))
        batch_cbs = [cb for cb in cbs if type(cb).on_batch_end is not Callback.on_batch_end]
        begin_cbs = [cb for cb in cbs if type(cb).on_batch_begin is not Callback.on_batch_begin]
        self.history = history
        self.stop_training = False

        names = self._names()
        metric_fns = self._metric_fns(y, n)
        rng = np.random.default_rng(seed)
        opt, compute = self.optimizer, self.loss.compute
        single = len(xs) == 1
        call = self.__call__
        not_finite_at = None
        if not getattr(self, "_logits_checked", False) and self.loss.from_logits:
            self._check_logits(self._call_batch([a[:1] for a in xs]))  # with a graph: its op

        for cb in cbs:
            cb.on_train_begin({})
        for epoch in range(epochs):
            for cb in cbs:
                cb.on_epoch_begin(epoch, {})
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}", flush=True)
            bar = Progbar(steps, verbose) if verbose else None
            self.train()
            if shuffle:
                order = rng.permutation(n)
                xe, ye = [a[order] for a in xs], y[order]
            else:
                xe, ye = xs, y
            x0 = xe[0]
            sums = [0.0] * len(names)
            seen = 0
            for b in range(steps):
                lo, hi = b * batch_size, (b + 1) * batch_size
                for cb in begin_cbs:
                    cb.on_batch_begin(b, {})
                yb = ye[lo:hi]
                out = call(x0[lo:hi]) if single else call([a[lo:hi] for a in xe])
                loss = compute(yb, out)
                opt.zero_grad()
                loss.backward()
                opt.step()
                k = len(yb)
                seen += k
                lv = float(loss.data)
                if not_finite_at is None and not math.isfinite(lv):
                    not_finite_at = (epoch, b)
                    warnings.warn(
                        f"fit: the loss became {lv} at epoch {epoch + 1}, batch {b + 1} (of "
                        f"{steps}); training goes on, as in Keras. Add "
                        "nn.callbacks.TerminateOnNaN() to stop there, lower the learning rate, "
                        "or run the batch under autograd.detect_anomaly() to find the op",
                        RuntimeWarning,
                        stacklevel=2,
                    )
                sums[0] += lv * k
                for i, fn in enumerate(metric_fns, 1):
                    sums[i] += fn(yb, out.data) * k
                if batch_cbs:
                    logs = {"loss": lv}
                    for cb in batch_cbs:
                        cb.on_batch_end(b, logs)
                if bar is not None:
                    bar.update(b + 1, lambda d=seen, t=sums: {k_: s / d for k_, s in zip(names, t)})
                if self.stop_training:
                    break
            logs = {name: s / max(seen, 1) for name, s in zip(names, sums)}
            if xv is not None:
                val = self._evaluate(xv, yv, batch_size, self._metric_fns(yv, len(yv)))
                logs.update({f"val_{name}": v for name, v in zip(names, val)})
            for cb in cbs:
                cb.on_epoch_end(epoch, logs)
            if bar is not None:
                bar.finish(logs)
            if self.stop_training:
                break
        for cb in cbs:
            cb.on_train_end({})
        return history

    # --- evaluate and predict --------------------------------------------------------------
    def _evaluate(self, xs, y, batch_size, metric_fns, bar=None):
        """[loss, *metrics] averaged over all samples, without a graph, in eval mode."""
        was = self.training
        self.eval()
        sums = [0.0] * (1 + len(metric_fns))
        n = len(y)
        names = self._names()
        try:
            with no_grad():
                for b, i in enumerate(range(0, n, batch_size)):
                    yb = y[i : i + batch_size]
                    out = self._call_batch([a[i : i + batch_size] for a in xs])
                    k = len(yb)
                    sums[0] += float(self.loss.compute(yb, out).data) * k
                    for j, fn in enumerate(metric_fns, 1):
                        sums[j] += fn(yb, out.data) * k
                    if bar is not None:
                        d = min(i + batch_size, n)
                        bar.update(b + 1, lambda d=d: {k_: s / d for k_, s in zip(names, sums)})
        finally:
            self.train(was)
        return [s / n for s in sums]

    def evaluate(self, x=None, y=None, batch_size=32, verbose="auto", return_dict=False):
        """The loss and metrics on (x, y): [loss, metric, ...] (just the loss without metrics).

        With return_dict=True: {'loss': ..., 'accuracy': ...}. verbose=1 prints Keras 3's
        progress line, verbose=2 its one-line form, verbose=0 nothing.
        """
        self._require_compiled("evaluate")
        verbose = check_verbose(verbose, "evaluate")
        batch_size = check_batch_size(batch_size, "evaluate")
        xs, y = self._xy(x, y, "evaluate")
        if self.loss.from_logits and not getattr(self, "_logits_checked", False):
            self._check_logits(self._call_batch([a[:1] for a in xs]))
        bar = Progbar(math.ceil(len(y) / batch_size), verbose) if verbose else None
        values = self._evaluate(xs, y, batch_size, self._metric_fns(y, len(y)), bar)
        names = self._names()
        if bar is not None:
            bar.finish(dict(zip(names, values)))
        if return_dict:
            return dict(zip(names, values))
        return values if len(values) > 1 else values[0]

    def predict(self, x, batch_size=32, verbose=0):
        """The model's outputs for x as a numpy array (eval mode, no graph).

        verbose=1 (or 'auto') prints Keras 3's progress line; the default 0 prints nothing.
        """
        verbose = check_verbose(verbose, "predict")
        batch_size = check_batch_size(batch_size, "predict")
        xs = self._inputs(x, "predict")
        n = len(xs[0])
        bar = Progbar(math.ceil(n / batch_size), verbose) if verbose else None
        was = self.training
        self.eval()
        try:
            with no_grad():
                outs = []
                for b, i in enumerate(range(0, n, batch_size)):
                    outs.append(self._call_batch([a[i : i + batch_size] for a in xs]).data)
                    if bar is not None:
                        bar.update(b + 1, dict)
        finally:
            self.train(was)
        if bar is not None:
            bar.finish({})
        return np.concatenate(outs) if len(outs) > 1 else outs[0].copy()

    # --- summary -------------------------------------------------------------------------
    def summary(self, print_fn=print):
        """Print Keras 3's table: each layer, its output shape and parameter count, the totals.

        A functional Model adds Keras's 'Connected to' column.
        """
        if not self.built:
            raise ValueError(
                "summary: the model is not built yet; give input_shape to the first layer or "
                "call the model on data (fit, predict) first"
            )
        header, rows = self.summary_rows()
        total = self.count_params()
        nbytes = sum(p.data.nbytes for p in self.parameters())
        lines = [f'Model: "{self.name}"', *_table(header, rows)]
        lines += [
            f" Total params: {total:,} ({_memory(nbytes)})",
            f" Trainable params: {total:,} ({_memory(nbytes)})",
            " Non-trainable params: 0 (0.00 B)",
        ]
        print_fn("\n".join(lines))

    # --- export --------------------------------------------------------------------------
    def export_onnx(self, path, opset=17):
        """Write this model as an ONNX file (needs the onnx package: stepgrad[onnx]).

        The file is checked by onnx.checker; see nn.export.to_onnx for the layers it knows.
        """
        from .export import to_onnx

        return to_onnx(self, path, opset=opset)

    def load_state_dict(self, state_dict):
        """Copy torch weights in (keyed as nn.export.to_torch names them); all or nothing."""
        from .export import load_state_dict

        return load_state_dict(self, state_dict)


def _memory(nbytes):
    """Keras's readable size: '44.00 B', '1.27 KB', ..."""
    size = float(nbytes)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GB"  # pragma: no cover


def _table(header, rows):
    """Keras 3's box-drawn table (what its rich console prints), the last column right-aligned."""
    widths = [len(h) for h in header]
    for r in rows:
        for i, cell in enumerate(r):
            widths[i] = max(widths[i], max(len(part) for part in cell.split("\n")))
    base = (31, 22, 13) if len(header) == 3 else (25, 18, 9, 18)
    widths = [max(w, b) for w, b in zip(widths, base)]
    right = 2  # Param # is right-aligned, as in Keras

    def line(left, fill, mid, end):
        return left + mid.join(fill * (w + 2) for w in widths) + end

    def cells(values, bar):
        parts = []
        for i, (v, w) in enumerate(zip(values, widths)):
            parts.append(f" {v:>{w}} " if i == right else f" {v:<{w}} ")
        return bar + bar.join(parts) + bar

    out = [line("┏", "━", "┳", "┓"), cells(header, "┃"), line("┡", "━", "╇", "┩")]
    for i, r in enumerate(rows):
        height = max(len(c.split("\n")) for c in r)
        split = [c.split("\n") + [""] * (height - len(c.split("\n"))) for c in r]
        for k in range(height):
            out.append(cells([s[k] for s in split], "│"))
        if i < len(rows) - 1:
            out.append(line("├", "─", "┼", "┤"))
    out.append(line("└", "─", "┴", "┘"))
    return out
