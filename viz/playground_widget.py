"""`viz.playground`: a TensorFlow-Playground-style widget (anywidget) that trains a small stepgrad
network in the kernel while the browser shows the decision boundary, the loss and the weights.

The one viz module that imports nn (it trains a model); it does so when a playground is made.
How training runs without blocking the kernel: the browser drives it. While "play" is on, the
page asks the kernel for one slice of training (a custom message `{"do": "train", "ms": 30}`);
the kernel trains batches for about that long, sends the new state (traits, in one message)
and a `done` reply; only then does the page, on its next animation frame, ask again. So at most
one request is ever waiting, the kernel is idle between slices (other cells run, the controls'
changes arrive in order between slices), pause is the page not asking, and nothing loops in the
kernel waiting for a front end (a notebook run without one, e.g. under nbmake, trains only what
its cells ask for: `pg.train(200)`). No thread, no ipywidgets-only feature: JupyterLab and VS
Code's notebook both pass anywidget's custom messages.
"""

import math
import re
import time
from pathlib import Path

import numpy as np

from autograd import no_grad

from .deps import require

anywidget = require("anywidget", "viz.playground")
traitlets = require("traitlets", "viz.playground")

STATIC = Path(__file__).parent / "static"
DATASETS = ("moons", "circles", "spirals", "xor")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
OPTIMIZERS = ("sgd", "adam")
MAX_DEPTH, MAX_WIDTH = 6, 16
RES = 48  # the boundary image is RES x RES predictions over the plane
THUMB = 16  # each hidden neuron's picture: THUMB x THUMB (every RES // THUMB-th point)
HISTORY = 300  # loss points kept (halved, every other one, when full)


def _esm():
    """The widget's module: the step-through viewer (without its own default export, so the
    playground can mount it for a batch's loss) followed by the playground's code."""
    viewer = (STATIC / "viewer.js").read_text(encoding="utf-8")
    viewer, n = re.subn(r"^export default \{[^}]*\};?\s*$", "", viewer, flags=re.M)
    if n != 1:  # pragma: no cover - a guard for whoever edits viewer.js
        raise RuntimeError("viz/static/viewer.js must end with one `export default { ... };`")
    return viewer + "\n" + (STATIC / "playground.js").read_text(encoding="utf-8")


def _css():
    return "\n".join(
        (STATIC / f).read_text(encoding="utf-8") for f in ("viewer.css", "playground.css")
    )


def make_data(name, n_samples=200, noise=None, seed=0):
    """(X, y) of one of the playground's data sets, centred and scaled to about [-1, 1]^2,
    two classes (spirals: two arms).

    >>> X, y = make_data("xor", 40, seed=0)
    >>> X.shape, sorted(set(y.tolist())), bool(np.abs(X).max() <= 1.0)
    ((40, 2), [0.0, 1.0], True)
    """
    from nn import data

    if name not in DATASETS:
        raise ValueError(f"playground: dataset must be one of {DATASETS}, got {name!r}")
    if name == "moons":
        X, y = data.make_moons(n_samples, noise=0.12 if noise is None else noise, seed=seed)
    elif name == "circles":
        X, y = data.make_circles(
            n_samples, noise=0.08 if noise is None else noise, factor=0.5, seed=seed
        )
    elif name == "spirals":
        X, y = data.make_spirals(n_samples, n_classes=2, noise=0.2 if noise is None else noise,
                                 seed=seed)  # fmt: skip
    else:
        X, y = data.make_xor(n_samples, noise=0.05 if noise is None else noise, seed=seed)
    X = X - (X.max(axis=0) + X.min(axis=0)) / 2
    X = X / np.abs(X).max()
    return X.astype(np.float32), y.astype(np.float32)


def _check(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"playground: {name} must be one of {allowed}, got {value!r}")


def _check_int(name, value, lo, hi):
    if not isinstance(value, int | np.integer) or not lo <= value <= hi:
        raise ValueError(f"playground: {name} must be an int from {lo} to {hi}, got {value!r}")


class Playground(anywidget.AnyWidget):
    """A live training playground: pick a data set and a network, press play, watch.

    Controls (traits, synced both ways; set them from Python too): `dataset`, `depth` (hidden
    layers, 0-6), `width` (neurons per hidden layer, 1-16), `activation`, `optimizer`, `lr`,
    `batch_size`. Changing the data set or the network starts again; `lr` and `batch_size`
    apply from the next batch on. State (kernel to browser): `boundary` (RES x RES bytes, the
    predicted probability of class 1 over the plane), `neurons` (each hidden neuron's output
    over the plane), `weights`, `history` ([batch, train loss, test loss] rows), `batches`.

    From Python: `train(n)` trains n batches, `step()` one, `reset()` draws new weights,
    `batch_loss()` is the loss graph of the next batch, `step_through()` steps through it,
    `accuracy()` on the test points. `model` is the nn.Sequential being trained.
    """

    _esm = _esm()
    _css = _css()
    dataset = traitlets.Unicode("moons").tag(sync=True)
    depth = traitlets.Int(2).tag(sync=True)
    width = traitlets.Int(8).tag(sync=True)
    activation = traitlets.Unicode("tanh").tag(sync=True)
    optimizer = traitlets.Unicode("sgd").tag(sync=True)
    lr = traitlets.Float(0.1).tag(sync=True)
    batch_size = traitlets.Int(10).tag(sync=True)
    # state
    points = traitlets.List().tag(sync=True)  # [x, y, label, is_test]
    extent = traitlets.Float(1.1).tag(sync=True)  # the plane shown is [-extent, extent]^2
    sizes = traitlets.List().tag(sync=True)  # neurons per layer, input first
    boundary = traitlets.Bytes(b"").tag(sync=True)
    neurons = traitlets.Bytes(b"").tag(sync=True)
    weights = traitlets.List().tag(sync=True)  # per layer: {"w": rows of in x out, "b": out}
    history = traitlets.List().tag(sync=True)
    batches = traitlets.Int(0).tag(sync=True)
    epoch = traitlets.Int(0).tag(sync=True)
    res = traitlets.Int(RES).tag(sync=True)
    thumb = traitlets.Int(THUMB).tag(sync=True)
    inspect = traitlets.Dict().tag(sync=True)  # {svg, data, title} of a batch's step-through
    error = traitlets.Unicode("").tag(sync=True)

    def __init__(self, seed=0, n_samples=200, test_fraction=0.5, noise=None, **controls):
        for key in controls:
            if key not in ("dataset", "depth", "width", "activation", "optimizer", "lr",
                           "batch_size"):  # fmt: skip
                raise TypeError(f"playground: unknown control {key!r}")
        self._seed = int(seed)
        self._n, self._test_fraction, self._noise = int(n_samples), float(test_fraction), noise
        if not 0 < self._test_fraction < 1:
            raise ValueError(f"playground: test_fraction must be in (0, 1), got {test_fraction}")
        self._ready = False
        super().__init__(**controls)
        self._validate_all()
        g = np.linspace(-1, 1, RES, dtype=np.float32)
        self._grid_unit = np.stack(np.meshgrid(g, -g), axis=-1).reshape(-1, 2)  # row 0 at top
        self._resets = 0
        self._ready = True
        self._new_data()
        self.on_msg(self._on_msg)

    # --- validation ------------------------------------------------------------------------
    def _validate_all(self):
        _check("dataset", self.dataset, DATASETS)
        _check("activation", self.activation, ACTIVATIONS)
        _check("optimizer", self.optimizer, OPTIMIZERS)
        _check_int("depth", self.depth, 0, MAX_DEPTH)
        _check_int("width", self.width, 1, MAX_WIDTH)
        _check_int("batch_size", self.batch_size, 1, 10_000)
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"playground: lr must be a positive number, got {self.lr!r}")

    @traitlets.validate("dataset", "activation", "optimizer", "depth", "width", "batch_size", "lr")
    def _valid(self, proposal):
        name, value = proposal["trait"].name, proposal["value"]
        allowed = {"dataset": DATASETS, "activation": ACTIVATIONS, "optimizer": OPTIMIZERS}
        if name in allowed:
            _check(name, value, allowed[name])
        elif name == "depth":
            _check_int(name, value, 0, MAX_DEPTH)
        elif name == "width":
            _check_int(name, value, 1, MAX_WIDTH)
        elif name == "batch_size":
            _check_int(name, value, 1, 10_000)
        elif not (math.isfinite(value) and value > 0):
            raise traitlets.TraitError(f"playground: lr must be a positive number, got {value!r}")
        return value

    @traitlets.observe("dataset")
    def _dataset_changed(self, change):
        if self._ready:
            self._new_data()

    @traitlets.observe("depth", "width", "activation", "optimizer")
    def _net_changed(self, change):
        if self._ready:
            self._new_model()

    @traitlets.observe("lr")
    def _lr_changed(self, change):
        if self._ready:
            self._opt.lr = float(change["new"])

    # --- data and model --------------------------------------------------------------------
    def _new_data(self):
        X, y = make_data(self.dataset, self._n, self._noise, self._seed)
        n_test = max(1, int(round(len(X) * self._test_fraction)))
        self.X_test, self.y_test = X[:n_test], y[:n_test].reshape(-1, 1)
        self.X_train, self.y_train = X[n_test:], y[n_test:].reshape(-1, 1)
        self._extent = 1.1
        self._grid = self._grid_unit * self._extent
        rows = [[round(float(a), 4), round(float(b), 4), int(c), 1] for (a, b), c in
                zip(X[:n_test], y[:n_test])]  # fmt: skip
        rows += [[round(float(a), 4), round(float(b), 4), int(c), 0] for (a, b), c in
                 zip(X[n_test:], y[n_test:])]  # fmt: skip
        with self.hold_sync():
            self.points = rows
            self.extent = self._extent
            self._new_model()

    def _new_model(self):
        import nn

        rng = np.random.default_rng([self._seed, self._resets])
        act = None if self.activation == "linear" else self.activation
        layers = [nn.Dense(self.width, activation=act) for _ in range(self.depth)]
        layers.append(nn.Dense(1, activation="sigmoid"))
        model = nn.Sequential(layers)
        model.build((2,))
        for layer in model.layers:  # Glorot-uniform from our own generator: nn's stays untouched
            n_in, n_out = layer.weight.shape
            limit = math.sqrt(6.0 / (n_in + n_out))
            layer.weight.data[...] = rng.uniform(-limit, limit, size=(n_in, n_out))
        self.model = model
        opt = nn.optim.Adam if self.optimizer == "adam" else nn.optim.SGD
        self._opt = opt(lr=self.lr)
        self._opt.bind(model.parameters())
        self._loss_fn = nn.losses.binary_crossentropy
        self._order_rng = np.random.default_rng([self._seed, self._resets, 1])
        self._order, self._pos = self._order_rng.permutation(len(self.X_train)), 0
        self._history = []
        with self.hold_sync():
            self.batches = 0
            self.epoch = 0
            self.inspect = {}
            self.error = ""
            self.sizes = [2] + [self.width] * self.depth + [1]
            self._publish()

    def reset(self):
        """New initial weights (the next of a seeded sequence), same data and network."""
        self._resets += 1
        self._new_model()

    # --- training --------------------------------------------------------------------------
    def _next_indices(self, advance):
        """The indices of the next batch; `advance` moves past it. A new epoch (a fresh
        shuffle; the last partial batch is dropped) starts when the rest is too short, also
        when only peeking, so the batch peeked at is the batch trained next."""
        n = len(self.X_train)
        bs = min(self.batch_size, n)
        if self._pos + bs > n:
            self._order, self._pos = self._order_rng.permutation(n), 0
            self.epoch = self.epoch + 1
        idx = self._order[self._pos : self._pos + bs]
        if advance:
            self._pos += bs
        return idx

    def batch_loss(self):
        """The loss of the next batch (the one `step()` trains next) with its graph, unchanged
        weights: for `viz.draw_graph(pg.batch_loss())` or the step-through."""
        idx = self._next_indices(advance=False)
        out = self.model(self.X_train[idx])
        loss = self._loss_fn(self.y_train[idx], out)
        loss.label = "loss"
        return loss

    def _train_batch(self):
        idx = self._next_indices(advance=True)
        out = self.model(self.X_train[idx])
        loss = self._loss_fn(self.y_train[idx], out)
        self._opt.zero_grad()
        loss.backward()
        self._opt.step()
        return loss

    def train(self, n=1, ms=None):
        """Train `n` batches (or, with `ms`, batches for about that many milliseconds, at least
        one), then update what the browser shows. Returns the number of batches trained."""
        if not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"playground.train: n must be an int >= 1, got {n!r}")
        start = time.perf_counter()
        done = 0
        with np.errstate(all="ignore"):
            while True:
                self._train_batch()
                done += 1
                if ms is None:
                    if done >= n:
                        break
                elif (time.perf_counter() - start) * 1000 >= ms or done >= 10_000:
                    break
        with self.hold_sync():
            self.batches = self.batches + done
            if self.inspect:
                self.inspect = {}  # the step-through shown was of a batch now trained
            self._publish()
        return done

    def step(self):
        """Train one batch and update the pictures."""
        return self.train(1)

    # --- what the browser shows ------------------------------------------------------------
    def _forward_all(self, x):
        """Every layer's output on the points x (no graph), the input first."""
        outs = [x]
        with no_grad():
            h = x
            for layer in self.model.layers:
                h = layer(h)
                outs.append(np.asarray(h.data))
        return outs

    def _loss_of(self, X, y):
        with no_grad(), np.errstate(all="ignore"):
            value = float(self._loss_fn(y, self.model(X)).data)
        return value if math.isfinite(value) else None

    def accuracy(self, test=True):
        """The share of test (or training) points on the right side of the boundary."""
        X, y = (self.X_test, self.y_test) if test else (self.X_train, self.y_train)
        with no_grad():
            p = np.asarray(self.model(X).data)
        return float(((p > 0.5) == (y > 0.5)).mean())

    def boundary_array(self):
        """The predicted probability of class 1 over the plane, a RES x RES array (top row =
        largest y), as the picture shows it."""
        return self._forward_all(self._grid)[-1].reshape(RES, RES)

    def _publish(self):
        outs = self._forward_all(self._grid)
        p = np.nan_to_num(outs[-1].reshape(-1), nan=0.5)
        self.boundary = (np.clip(p, 0, 1) * 255).round().astype(np.uint8).tobytes()
        stride = RES // THUMB
        pics = []
        for h in outs[1:-1]:  # hidden layers: each neuron's output over the plane, to 0..255
            h = h.reshape(RES, RES, -1)[::stride, ::stride]
            h = np.nan_to_num(h)
            lo, hi = (-1.0, 1.0) if self.activation in ("tanh", "linear") else (0.0, 1.0)
            if self.activation in ("relu", "linear"):
                top = np.abs(h).max(axis=(0, 1), keepdims=True)
                h = h / np.where(top > 0, top, 1)
            u = (np.clip(h, lo, hi) - lo) / (hi - lo)
            pics.append((u * 255).round().astype(np.uint8).transpose(2, 0, 1))
        self.neurons = np.concatenate(pics).tobytes() if pics else b""
        ws = []
        for layer in self.model.layers:
            w = np.nan_to_num(np.asarray(layer.weight.data, dtype=np.float64))
            b = np.nan_to_num(np.asarray(layer.bias.data, dtype=np.float64))
            ws.append({"w": np.round(w, 4).tolist(), "b": np.round(b, 4).tolist()})
        self.weights = ws
        row = [self.batches, self._loss_of(self.X_train, self.y_train),
               self._loss_of(self.X_test, self.y_test)]  # fmt: skip
        if self._history and self._history[-1][0] == row[0]:
            self._history[-1] = row
        else:
            self._history.append(row)
        if len(self._history) > HISTORY:
            self._history = self._history[::2] + ([row] if len(self._history) % 2 == 0 else [])
        self.history = list(self._history)

    # --- the step-through of the next batch ------------------------------------------------
    def step_through(self, collapse=None):
        """A `viz.step_through` widget of the next batch's loss (its parameters named)."""
        from .widget import step_through

        return step_through(self.batch_loss(), names=self._names(), collapse=collapse)

    def export_html(self, path):
        """The next batch's step-through as one offline HTML file (see `viz.export_html`)."""
        from .export import export_html

        return export_html(self.batch_loss(), path, names=self._names())

    def _names(self):
        return dict(self.model.named_parameters())

    def _open_inspect(self):
        from .steps import viewer_payload

        svg, data = viewer_payload(self.batch_loss(), names=self._names())
        n = len(self._next_indices(advance=False))
        self.inspect = {
            "svg": svg,
            "data": data,
            "title": f"the loss of the next batch ({n} points), batch {self.batches + 1}",
        }

    # --- messages from the browser ---------------------------------------------------------
    def _on_msg(self, widget, content, buffers):
        what = content.get("do") if isinstance(content, dict) else None
        try:
            if what == "train":
                ms = content.get("ms")
                done = self.train(int(content.get("n", 1)), ms=None if ms is None else float(ms))
                self.send({"done": "train", "n": done})
            elif what == "reset":
                self.reset()
                self.send({"done": "reset"})
            elif what == "inspect":
                self._open_inspect()
                self.send({"done": "inspect"})
            else:
                raise ValueError(f"playground: unknown request {content!r}")
        except Exception as e:  # shown in the widget, never lost in the kernel's log
            self.error = f"{type(e).__name__}: {e}"
            self.send({"done": what or "?", "error": self.error})


def playground(dataset="moons", depth=2, width=8, activation="tanh", lr=0.1, batch_size=10,
               optimizer="sgd", seed=0, n_samples=200, test_fraction=0.5, noise=None):  # fmt: skip
    """A live playground: train a small network on a 2-d data set and watch it learn.

    Controls in the widget: the data set (moons, circles, spirals, xor), the hidden layers
    (depth 0-6, width 1-16), the activation, the optimizer, the learning rate and the batch
    size; play / pause, step one batch, reset, and "step through" the next batch's loss in
    the step-through viewer. Training runs in the kernel with stepgrad; the page asks for one
    slice at a time, so the kernel never blocks and a run without a browser trains nothing
    until told (`pg.train(100)`).

    Args:
        dataset, depth, width, activation, lr, batch_size, optimizer: the starting controls.
        seed: seeds the data, the weights and the batch order (reset draws the next weights).
        n_samples: points in the data set; test_fraction of them are held out (drawn hollow).
        noise: the data set's noise (None: each one's default).

    Returns:
        A `Playground` widget; `pg.model` is the nn.Sequential it trains.
    """
    return Playground(
        seed=seed,
        n_samples=n_samples,
        test_fraction=test_fraction,
        noise=noise,
        dataset=dataset,
        depth=depth,
        width=width,
        activation=activation,
        lr=lr,
        batch_size=batch_size,
        optimizer=optimizer,
    )
