"""Sequential: a stack of layers with Keras's compile / fit / evaluate / predict / summary.

Plain numpy arrays (or lists) go in, numpy comes out of predict. fit runs the same Tensor ops a
hand-written loop would (forward, loss, backward, optimizer step) with little around them.
"""

import math
import sys
import time

import numpy as np

from autograd import Tensor, no_grad

from . import losses as _losses
from . import metrics as _metrics
from . import optim as _optim
from .callbacks import Callback, History
from .layers import Layer, _as_shape, _auto_name, as_input
from .module import Module, _zeros_forward


class Sequential(Module):
    """Layers applied one after another; trained Keras-style.

    >>> import numpy as np, nn
    >>> nn.manual_seed(0)
    >>> model = nn.Sequential([nn.Dense(2, activation="sigmoid", input_shape=(3,)),
    ...                        nn.Dense(1, activation="sigmoid")])
    >>> model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    >>> x = np.random.default_rng(0).normal(size=(64, 3)); y = (x.sum(axis=1) > 0) * 1.0
    >>> history = model.fit(x, y, epochs=3, verbose=0, seed=0)
    >>> sorted(history.history), len(history.history["loss"])
    (['accuracy', 'loss'], 3)
    >>> model.predict(x[:2]).shape
    (2, 1)
    """

    def __init__(self, layers=None, name=None):
        self.name = name or _auto_name(Sequential)
        self.layers = []
        self.built = False
        self.optimizer = None
        self.loss = None
        self.metrics = []
        self.stop_training = False
        self.history = None
        self._input_shape = None
        self._shapes = []  # output shape of each layer (no batch axis)
        for layer in layers or ():
            self.add(layer)

    # --- building ------------------------------------------------------------------------
    def add(self, layer):
        """Append a layer (built at once when the model's input shape is known)."""
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential: layers must be nn modules, got {layer!r}")
        self.layers.append(layer)
        self._walked = -1  # names changed
        if self.built:
            self._shapes.append(_output_shape(layer, self._shapes[-1] if self._shapes else ()))
        elif len(self.layers) == 1 and getattr(layer, "input_shape", None) is not None:
            self.build(layer.input_shape)

    def build(self, input_shape):
        """Build every layer for inputs of `input_shape` (no batch axis), checking each fits."""
        input_shape = _as_shape(input_shape)
        self._walked = -1
        self._name_tree()  # so errors can name the layer's place, e.g. layers.1
        shapes = []
        shape = input_shape
        for layer in self.layers:
            shape = _output_shape(layer, shape)
            shapes.append(shape)
        self._input_shape, self._shapes, self.built = input_shape, shapes, True
        if self.optimizer is not None and self.optimizer.params is None:
            self.optimizer.bind(self.parameters())

    @property
    def input_shape(self):
        return None if self._input_shape is None else (None, *self._input_shape)

    @property
    def output_shape(self):
        return (None, *self._shapes[-1]) if self.built and self._shapes else None

    def forward(self, x):
        if x.__class__ is not np.ndarray or x.dtype != np.float32:  # fit's batches skip this
            x = as_input(x, self._input_dtype())
        if not self.built:
            self.build(x.shape[1:])
        for layer in self.layers:
            x = layer(x)
        return x

    def _input_dtype(self):
        first = self.layers[0] if self.layers else None
        return None if getattr(first, "int_input", False) else np.float32

    def extra_repr(self):
        return ""

    def _repr_children(self):
        return [(str(i), layer) for i, layer in enumerate(self.layers)]

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
    def _xy(self, x, y, what):
        if x is None or y is None:
            raise ValueError(f"{what}: give both x and y")
        x = as_input(x, self._input_dtype()) if not isinstance(x, Tensor) else x.data
        y = y.data if isinstance(y, Tensor) else np.asarray(y)
        if x.ndim == 0 or len(x) == 0:
            raise ValueError(f"{what}: x is empty")
        if len(x) != len(y):
            raise ValueError(
                f"{what}: x has {len(x)} samples but y has {len(y)}; give one label per sample"
            )
        if not self.built:
            self.build(x.shape[1:])
        elif x.shape[1:] != self._input_shape:
            first = self.layers[0]
            if isinstance(first, Layer):
                first.build_from(x.shape[1:])  # raises the layer's own error if it cannot fit
            raise ValueError(
                f"{what}: the model expects inputs of shape {self.input_shape}, got {x.shape}"
            )
        out_shape = (len(x), *self._shapes[-1])
        y = self.loss.prepare(y, out_shape, np.float32)
        return x, y

    def _metric_fns(self, y, n):
        pred_shape = (n, *self._shapes[-1])
        return [_metrics.get(m, self.loss, y.shape, pred_shape) for m in self.metrics]

    def _names(self):
        return ["loss"] + [m if isinstance(m, str) else m.__name__ for m in self.metrics]

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
            x, y: inputs (samples first) and labels, numpy arrays or lists.
            batch_size: samples per gradient step (the last batch may be smaller).
            epochs: passes over the data.
            verbose: 0 silent, 1 a progress bar per epoch (tqdm.auto: a widget in Jupyter),
                2 one line per epoch.
            callbacks: nn.callbacks.Callback objects (a History is always added).
            validation_split: share of the samples, taken from the end before shuffling, kept
                out of training and evaluated after each epoch as val_loss, val_<metric>.
            validation_data: (x_val, y_val) to evaluate instead of a split.
            shuffle: visit the samples in a new random order each epoch.
            seed: seed of the shuffling, for reproducible runs.
        """
        self._require_compiled("fit")
        x, y = self._xy(x, y, "fit")
        xv = yv = None
        if validation_data is not None:
            if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
                raise ValueError("fit: validation_data must be a pair (x_val, y_val)")
            xv, yv = self._xy(*validation_data, "fit (validation_data)")
        elif validation_split:
            if not 0 < validation_split < 1:
                raise ValueError(f"fit: validation_split must be in (0, 1), got {validation_split}")
            cut = math.ceil(len(x) * (1 - validation_split))  # as Keras
            if cut == 0 or cut == len(x):
                raise ValueError(
                    f"fit: validation_split={validation_split} leaves no samples for "
                    f"{'training' if cut == 0 else 'validation'} out of {len(x)}"
                )
            x, xv, y, yv = x[:cut], x[cut:], y[:cut], y[cut:]
        if int(batch_size) < 1:
            raise ValueError(f"fit: batch_size must be >= 1, got {batch_size}")
        batch_size = int(batch_size)

        history = History()
        cbs = [*(callbacks or []), history]
        for cb in cbs:
            if not isinstance(cb, Callback):
                raise TypeError(f"fit: callbacks must be nn.callbacks.Callback objects, got {cb!r}")
            cb.set_model(self)
        batch_cbs = [cb for cb in cbs if type(cb).on_batch_end is not Callback.on_batch_end]
        self.history = history
        self.stop_training = False

        names = self._names()
        metric_fns = self._metric_fns(y, len(x))
        rng = np.random.default_rng(seed)
        n = len(x)
        steps = math.ceil(n / batch_size)
        bar_cls = _progress_bar() if verbose == 1 else None
        opt, compute = self.optimizer, self.loss.compute

        for cb in cbs:
            cb.on_train_begin({})
        for epoch in range(epochs):
            for cb in cbs:
                cb.on_epoch_begin(epoch, {})
            t0 = time.perf_counter()
            self.train()
            if shuffle:
                order = rng.permutation(n)
                xs, ys = x[order], y[order]
            else:
                xs, ys = x, y
            sums = [0.0] * len(names)
            bar = None
            if bar_cls is not None:
                bar = bar_cls(
                    total=steps, desc=f"Epoch {epoch + 1}/{epochs}", unit="batch", leave=True
                )
                shown = t0
            for b in range(steps):
                xb = xs[b * batch_size : (b + 1) * batch_size]
                yb = ys[b * batch_size : (b + 1) * batch_size]
                out = self(xb)
                loss = compute(yb, out)
                opt.zero_grad()
                loss.backward()
                opt.step()
                k = len(xb)
                sums[0] += float(loss.data) * k
                for i, fn in enumerate(metric_fns, 1):
                    sums[i] += fn(yb, out.data) * k
                if batch_cbs:
                    logs = {"loss": float(loss.data)}
                    for cb in batch_cbs:
                        cb.on_batch_end(b, logs)
                if bar is not None:
                    now = time.perf_counter()
                    if now - shown > 0.2:  # drawing is costly: move the bar a few times a second
                        shown = now
                        seen = min((b + 1) * batch_size, n)
                        bar.set_postfix_str(_fmt(names, [s / seen for s in sums]), refresh=False)
                        bar.update(b + 1 - bar.n)
            logs = {name: s / n for name, s in zip(names, sums)}
            if xv is not None:
                val = self._evaluate(xv, yv, batch_size, self._metric_fns(yv, len(xv)))
                logs.update({f"val_{name}": v for name, v in zip(names, val)})
            if bar is not None:
                bar.set_postfix_str(_fmt(logs, logs.values()), refresh=False)
                bar.update(steps - bar.n)  # draws the finished bar with the epoch's numbers
                bar.close()
            elif verbose == 2 or (verbose == 1 and bar_cls is None):
                took = time.perf_counter() - t0
                print(
                    f"Epoch {epoch + 1}/{epochs} - {took:.2f}s - {_fmt(logs, logs.values())}",
                    flush=True,
                )
            for cb in cbs:
                cb.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        for cb in cbs:
            cb.on_train_end({})
        return history

    # --- evaluate and predict --------------------------------------------------------------
    def _evaluate(self, x, y, batch_size, metric_fns):
        """[loss, *metrics] averaged over all samples, without a graph, in eval mode."""
        was = self.training
        self.eval()
        sums = [0.0] * (1 + len(metric_fns))
        try:
            with no_grad():
                for i in range(0, len(x), batch_size):
                    xb, yb = x[i : i + batch_size], y[i : i + batch_size]
                    out = self(xb)
                    k = len(xb)
                    sums[0] += float(self.loss.compute(yb, out).data) * k
                    for j, fn in enumerate(metric_fns, 1):
                        sums[j] += fn(yb, out.data) * k
        finally:
            self.train(was)
        return [s / len(x) for s in sums]

    def evaluate(self, x=None, y=None, batch_size=32, verbose=1, return_dict=False):
        """The loss and metrics on (x, y): [loss, metric, ...] (just the loss without metrics).

        With return_dict=True: {'loss': ..., 'accuracy': ...}. verbose=1 prints them.
        """
        self._require_compiled("evaluate")
        x, y = self._xy(x, y, "evaluate")
        values = self._evaluate(x, y, int(batch_size), self._metric_fns(y, len(x)))
        names = self._names()
        if verbose:
            print(f"{len(x)} samples - {_fmt(names, values)}", flush=True)
        if return_dict:
            return dict(zip(names, values))
        return values if len(values) > 1 else values[0]

    def predict(self, x, batch_size=32, verbose=0):
        """The model's outputs for x as a numpy array (eval mode, no graph)."""
        x = as_input(x, self._input_dtype()) if not isinstance(x, Tensor) else x.data
        if x.ndim == 0:
            raise ValueError("predict: x must have a batch axis, got a scalar")
        was = self.training
        self.eval()
        try:
            with no_grad():
                outs = [self(x[i : i + batch_size]).data for i in range(0, len(x), batch_size)]
        finally:
            self.train(was)
        if verbose:
            print(f"predict: {len(x)} samples", flush=True)
        if not outs:
            raise ValueError("predict: x is empty")
        return np.concatenate(outs) if len(outs) > 1 else outs[0].copy()

    # --- summary -------------------------------------------------------------------------
    def summary(self, print_fn=print):
        """Print a Keras-like table: each layer, its output shape and its parameter count."""
        if not self.built:
            raise ValueError(
                "summary: the model is not built yet; give input_shape to the first layer or "
                "call the model on data (fit, predict) first"
            )
        rows = []
        for layer, shape in zip(self.layers, self._shapes):
            lname = getattr(layer, "name", None) or type(layer).__name__.lower()
            rows.append(
                (f"{lname} ({type(layer).__name__})", str((None, *shape)), layer.count_params())
            )
        w0 = max([len("Layer (type)")] + [len(r[0]) for r in rows]) + 3
        w1 = max([len("Output Shape")] + [len(r[1]) for r in rows]) + 3
        w2 = max([len("Param #")] + [len(str(r[2])) for r in rows])
        width = w0 + w1 + w2 + 1
        total = self.count_params()
        lines = [
            f'Model: "{self.name}"',
            "_" * width,
            f" {'Layer (type)':<{w0}}{'Output Shape':<{w1}}{'Param #':>{w2}}",
            "=" * width,
        ]
        for i, (a, b, c) in enumerate(rows):
            lines.append(f" {a:<{w0}}{b:<{w1}}{c:>{w2}}")
            lines.append("_" * width if i < len(rows) - 1 else "=" * width)
        if not rows:
            lines.append("=" * width)
        lines += [
            f"Total params: {total:,}",
            f"Trainable params: {total:,}",
            "Non-trainable params: 0",
            "_" * width,
        ]
        print_fn("\n".join(lines))


def _output_shape(layer, shape):
    """A layer's output shape for `shape`, building it first (Layers) or by a trial forward."""
    if isinstance(layer, Layer):
        layer.build_from(shape)
        return tuple(layer.compute_output_shape(shape))
    return tuple(_zeros_forward(layer, shape))


def _fmt(names, values):
    return " - ".join(f"{k}: {v:.4f}" for k, v in zip(names, values))


def _progress_bar():
    """tqdm.auto's bar (a widget in Jupyter), or None when tqdm is missing."""
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with the nn extra
        print("(install tqdm for progress bars: pip install 'stepgrad[nn]')", file=sys.stderr)
        return None
    return tqdm
