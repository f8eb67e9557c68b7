"""fit/evaluate progress in Keras 3's shape, drawn by tqdm.

`4/4 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - accuracy: 0.5800 - loss: 0.6900`: one line per epoch.
In a terminal and in Jupyter the line is redrawn in place while the epoch runs; in a log that
is not a terminal (CI, a file) only the finished line is written, as Keras does.
"""

import math
import sys
import time

WIDTH = 20  # Keras's bar width


def format_value(v):
    """Keras's number format: 4 decimals, or 4 significant digits for tiny values."""
    return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"


def format_logs(logs):
    """' - accuracy: 0.5800 - loss: 0.6900': the logs sorted by name, as Keras 3 prints them."""
    return "".join(f" - {k}: {format_value(v)}" for k, v in sorted(logs.items()))


def format_step_time(seconds):
    """Keras's time per step: '2ms/step', '45us/step', '1s/step'."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def interactive(stream):
    """True in a terminal and in a Jupyter kernel (both redraw a line on a carriage return)."""
    if "ipykernel" in sys.modules and type(stream).__name__ == "OutStream":
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _Text:
    """The right-hand text of the line; not a str, so tqdm does not prefix it with ', '."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __format__(self, spec):
        return self.text


class _Null:
    def write(self, text):
        pass

    def flush(self):
        pass


def _tqdm():
    try:
        from tqdm.std import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with the nn extra
        print("(install tqdm for progress bars: pip install 'stepgrad[nn]')", file=sys.stderr)
        return None
    return tqdm


class Progbar:
    """One epoch's (or one evaluate's) progress line.

    verbose=1: a tqdm bar in Keras 3's text; verbose=2: the finished line only, in Keras's
    verbose-2 form (`4/4 - 0s - 2ms/step - loss: 0.6900`); verbose=0: nothing.

    >>> import io
    >>> out = io.StringIO()
    >>> bar = Progbar(4, verbose=1, stream=out)
    >>> bar.finish({"loss": 0.69, "accuracy": 0.58}, elapsed=0.008)
    >>> out.getvalue()
    '4/4 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - accuracy: 0.5800 - loss: 0.6900\\n'
    """

    def __init__(self, steps, verbose=1, stream=None):
        self.steps = steps
        self.verbose = verbose
        self.stream = sys.stdout if stream is None else stream
        self.t0 = self.shown = time.perf_counter()
        self.bar = None
        self.live = verbose == 1 and interactive(self.stream)
        if verbose == 1:
            tqdm = _tqdm()
            if tqdm is not None:
                self.bar = tqdm(
                    total=steps,
                    file=self.stream if self.live else _Null(),
                    bar_format="{n_fmt}/{total_fmt} {bar:" + str(WIDTH) + "} {postfix}",
                    ascii=" ━",
                    mininterval=0,
                    leave=True,
                    ncols=1000,  # a fixed-width line: a pty that reports no size must not hide it
                    nrows=20,
                    disable=False,
                )

    def _info(self, done, now, logs, final):
        took = now - self.t0
        per_step = took / max(done, 1)
        shown = took if final else per_step * (self.steps - done)  # elapsed, or Keras's ETA
        return f"{int(shown)}s {format_step_time(per_step)}{format_logs(logs)}"

    def update(self, done, logs_fn):
        """Redraw after `done` steps (a few times a second at most); logs_fn() gives the logs."""
        if not self.live or self.bar is None:
            return
        now = time.perf_counter()
        if now - self.shown > 0.2:  # drawing costs: a few times a second is enough
            self.shown = now
            self.bar.postfix = _Text(self._info(done, now, logs_fn(), False))
            self.bar.update(done - self.bar.n)

    def finish(self, logs, elapsed=None):
        """Write the finished line with the final logs."""
        now = time.perf_counter() if elapsed is None else self.t0 + elapsed
        if self.verbose == 1 and self.bar is not None:
            self.bar.postfix = _Text(self._info(self.steps, now, logs, True))
            if self.live:
                self.bar.update(self.steps - self.bar.n)  # draws the finished line
                self.bar.close()
            else:
                self.bar.n = self.steps
                line = str(self.bar)
                self.bar.close()
                print(line, file=self.stream, flush=True)
        elif self.verbose in (1, 2):
            took = now - self.t0
            per = format_step_time(took / max(self.steps, 1))
            print(
                f"{self.steps}/{self.steps} - {int(took)}s - {per}{format_logs(logs)}",
                file=self.stream,
                flush=True,
            )


def check_verbose(verbose, what):
    """0, 1 or 2 ('auto' is 1, as in Keras), or a ValueError."""
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"{what}: verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


def steps_of(n, batch_size):
    return math.ceil(n / batch_size)
