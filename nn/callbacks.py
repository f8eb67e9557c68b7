"""Callbacks for fit, as in Keras: Callback (the hooks), History, EarlyStopping."""

import math


class Callback:
    """Override any of the hooks; `self.model` is the model being trained.

    `logs` is a dict of the numbers so far: {'loss': ...} per batch, and per epoch also each
    metric and its 'val_' twin when there is validation data. Set `self.model.stop_training =
    True` to end training after this epoch.
    """

    model = None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass


class History(Callback):
    """Records each epoch's logs: `history.history` is a dict of lists (loss, metrics, val_...).

    fit returns it (and keeps it as `model.history`); `history.epoch` lists the epochs run.
    """

    def __init__(self):
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def __repr__(self):
        keys = ", ".join(self.history)
        return f"<History: {len(self.epoch)} epochs of {keys or 'nothing yet'}>"


class EarlyStopping(Callback):
    """Stop training when `monitor` has not improved for `patience` epochs.

    Args:
        monitor: a key of the epoch logs, e.g. 'val_loss' (default) or 'accuracy'.
        min_delta: an improvement smaller than this does not count.
        patience: epochs without improvement to wait before stopping.
        mode: 'min', 'max' or 'auto' (max for accuracy-like names, else min).
        restore_best_weights: when stopping, put back the weights of the best epoch (as Keras,
            only when it stops early).

    After fit, `stopped_epoch` is the epoch it stopped at (0 if it did not) and `best` the
    best value seen.
    """

    def __init__(
        self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto", restore_best_weights=False
    ):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.mode = mode
        self.restore_best_weights = bool(restore_best_weights)

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.best_weights = None

    def _improved(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(
                f"EarlyStopping: monitor {self.monitor!r} is not among the epoch logs "
                f"{sorted(logs)}; for 'val_...' give validation_split or validation_data to fit"
            )
        value = logs[self.monitor]
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                self.model.set_weights(self.best_weights)


from .monitor import Monitor as Monitor  # noqa: E402  (training dynamics, nn/monitor.py)
