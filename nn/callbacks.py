"""Callbacks for fit, as in Keras: Callback (the hooks), History, EarlyStopping, TerminateOnNaN,
ModelCheckpoint, ReduceLROnPlateau, LearningRateScheduler, CSVLogger."""

import csv
import math
import os
import warnings


class Callback:
    """Override any of the hooks; `self.model` is the model being trained.

    `logs` is a dict of the numbers so far: {'loss': ...} per batch, and per epoch also each
    metric and its 'val_' twin when there is validation data. Set `self.model.stop_training =
    True` to end training after this epoch.
    """

    model = None
    params = None  # {'verbose': ..., 'epochs': ..., 'steps': ...}, set by fit as in Keras

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
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
        self.params = {}

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


def _mode(mode, monitor, who):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if ("acc" in monitor or monitor.startswith("fmeasure")) else "min"
    return mode


def _monitored(logs, monitor, who):
    """The monitored value, or None with Keras's warning when the logs do not have it."""
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(
            f"{who}: monitor {monitor!r} is not among the epoch logs {sorted(logs or {})}; "
            "skipping (for 'val_...' give validation_split or validation_data to fit)",
            stacklevel=3,
        )
    return value


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is NaN or infinite, as Keras's.

    Prints `Batch 3: Invalid loss, terminating training` and sets model.stop_training, so fit
    ends after that batch. `stopped` holds (epoch, batch) afterwards (None if never).
    """

    def on_train_begin(self, logs=None):
        self.stopped = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training", flush=True)
            self.stopped = (self._epoch, batch)
            self.model.stop_training = True


class ModelCheckpoint(Callback):
    """Save the weights after each epoch (or only when `monitor` improves), as Keras's.

    Args:
        filepath: where to write, an .npz or .safetensors file; it may name the epoch and any
            log, e.g. 'w-{epoch:02d}-{val_loss:.2f}.npz' (epochs counted from 1, as Keras).
        monitor: the log compared when save_best_only is set.
        save_best_only: write only when monitor is better than at every earlier save.
        mode: 'min', 'max' or 'auto' (max for accuracy-like names).
        verbose: 1 prints a line at each save.

    Weights go through model.save_weights (atomic: a crash never leaves half a file).
    `best` is the best value seen and `saved` the epochs (from 1) written.
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=True,
        mode="auto",
    ):
        self.filepath = os.fspath(filepath)
        if not self.filepath.endswith((".npz", ".safetensors")):
            raise ValueError(
                f"ModelCheckpoint: filepath must end in .npz or .safetensors (stepgrad saves "
                f"weights), got {self.filepath!r}"
            )
        self.monitor = monitor
        self.verbose = int(verbose)
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = save_weights_only
        self.mode = _mode(mode, monitor, "ModelCheckpoint")
        self.best = math.inf if self.mode == "min" else -math.inf
        self.saved = []

    def _better(self, value):
        return value < self.best if self.mode == "min" else value > self.best

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if value is None:
                return
            if not self._better(value):
                if self.verbose:
                    print(
                        f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}",
                        flush=True,
                    )
                return
            if self.verbose:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to "
                    f"{value:.5f}, saving model to {path}",
                    flush=True,
                )
            self.best = value
        elif self.verbose:
            print(f"\nEpoch {epoch + 1}: saving model to {path}", flush=True)
        self.model.save_weights(path)
        self.saved.append(epoch + 1)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by `factor` when `monitor` stops improving, as Keras's.

    Args:
        monitor: the log watched ('val_loss' by default).
        factor: new_lr = lr * factor (must be < 1).
        patience: epochs without improvement before the rate is lowered.
        mode: 'min', 'max' or 'auto'.
        min_delta: an improvement smaller than this does not count.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: the rate never goes below this.
        verbose: 1 prints a line at each reduction.

    Adds 'learning_rate' to the epoch logs (so History records it), as Keras does.
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
    ):
        if not 0 <= factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in [0, 1), got {factor!r}")
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = int(patience)
        self.verbose = int(verbose)
        self.mode = _mode(mode, monitor, "ReduceLROnPlateau")
        self.min_delta = abs(float(min_delta))
        self.cooldown = int(cooldown)
        self.min_lr = float(min_lr)

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.cooldown_counter = 0
        self.best = math.inf if self.mode == "min" else -math.inf

    def _improved(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        opt = self.model.optimizer
        logs["learning_rate"] = float(opt.lr)
        value = _monitored(logs, self.monitor, "ReduceLROnPlateau")
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(value):
            self.best = value
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience and opt.lr > self.min_lr:
                new = max(opt.lr * self.factor, self.min_lr)
                opt.lr = new
                if self.verbose:
                    print(
                        f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.",
                        flush=True,
                    )
                self.cooldown_counter = self.cooldown
                self.wait = 0


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from `schedule(epoch, lr)`, as Keras's.

    `epoch` counts from 0; the function returns the new rate (a number). Adds 'learning_rate'
    to the epoch logs.

    >>> import math
    >>> cb = LearningRateScheduler(lambda epoch, lr: lr if epoch < 2 else lr * math.exp(-0.1))
    """

    def __init__(self, schedule, verbose=0):
        if not callable(schedule):
            raise TypeError(
                f"LearningRateScheduler: schedule must be a function (epoch, lr) -> lr, got "
                f"{schedule!r}"
            )
        self.schedule = schedule
        self.verbose = int(verbose)

    def on_epoch_begin(self, epoch, logs=None):
        opt = self.model.optimizer
        got = self.schedule(epoch, float(opt.lr))
        try:
            lr = float(got)
        except (TypeError, ValueError):
            lr = math.nan
        if isinstance(got, bool) or not math.isfinite(lr) or lr < 0:
            raise ValueError(
                f"LearningRateScheduler: the schedule returned {got!r} at epoch {epoch}; it "
                "must return a finite learning rate >= 0"
            )
        opt.lr = float(lr)
        if self.verbose:
            print(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.",
                flush=True,
            )

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.lr)


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file, as Keras's.

    The first row is the header: `epoch` then the log names in sorted order. Rows are flushed
    at every epoch, so the file can be read while training runs.

    Args:
        filename: the CSV file.
        separator: the field separator.
        append: add to an existing file (without a second header) instead of replacing it.
    """

    def __init__(self, filename, separator=",", append=False):
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = bool(append)
        self.keys = None
        self._file = None

    def on_train_begin(self, logs=None):
        has_rows = (
            self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        )
        self._header_done = has_rows
        self._file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        writer = csv.writer(self._file, delimiter=self.sep, lineterminator="\n")
        if not self._header_done:
            writer.writerow(["epoch", *self.keys])
            self._header_done = True
        writer.writerow([epoch, *(logs.get(k, "NA") for k in self.keys)])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


from .monitor import Monitor as Monitor  # noqa: E402  (training dynamics, nn/monitor.py)
