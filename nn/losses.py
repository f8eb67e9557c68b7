"""Losses, as Keras names them: functions `loss(y_true, y_pred) -> scalar Tensor` and classes.

Each averages over the batch. Probabilities are clipped to [EPSILON, 1 - EPSILON] before a log,
as Keras does, so a confident wrong prediction gives a large loss, never NaN; `from_logits=True`
takes raw scores and uses the stable forms instead. Labels are checked: a shape or a range that
does not fit the loss raises a ValueError saying what was expected (binary cross-entropy on
labels outside [0, 1] is computed, as in Keras, with one warning).
"""

import warnings

import numpy as np

from autograd import Tensor

EPSILON = 1e-7  # Keras's backend epsilon


# ----------------------------------------------------------------------------------------------
# label checks: the true values as an array that fits the predictions, or a clear error


def _pred(y_pred, name):
    if isinstance(y_pred, Tensor):
        return y_pred
    if isinstance(y_pred, np.ndarray | list | tuple | float | int):
        return Tensor(y_pred)
    raise TypeError(f"{name}: y_pred must be a Tensor (the model's output), got {type(y_pred)}")


def _array(y_true, name):
    y = y_true.data if isinstance(y_true, Tensor) else np.asarray(y_true)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{name}: labels must be numbers, got an array of dtype {y.dtype}")
    return y


def _same_shape(y, shape, name):
    """y reshaped to `shape` when it only lacks (or has an extra) trailing axis of 1."""
    if y.shape == shape:
        return y
    if y.shape + (1,) == shape or y.shape == shape + (1,):
        return y.reshape(shape)
    raise ValueError(
        f"{name}: labels of shape {y.shape} do not fit predictions of shape {shape}; "
        "give one label per output"
    )


def _in_unit_range(y, name, what):
    if y.size and not (np.all(np.isfinite(y)) and y.min() >= 0 and y.max() <= 1):
        raise ValueError(
            f"{name}: labels must be {what} in [0, 1], got values from {y.min():.4g} to "
            f"{y.max():.4g}"
        )


def check_regression(y_true, shape, dtype, name="mse"):
    y = _same_shape(_array(y_true, name), shape, name)
    return y.astype(dtype, copy=False)


def check_binary(y_true, shape, dtype, name="binary_crossentropy", warn=True):
    """Labels for binary cross-entropy. Outside [0, 1] they are used as given (as Keras does:
    the formula is computed) with one warning naming the range seen; NaN/inf raise."""
    y = _same_shape(_array(y_true, name), shape, name)
    if y.size and not np.all(np.isfinite(y)):
        raise ValueError(f"{name}: labels must be finite numbers, got NaN or inf among them")
    if warn and y.size and (y.min() < 0 or y.max() > 1):
        warnings.warn(
            f"{name}: labels range from {y.min():.4g} to {y.max():.4g}, outside [0, 1]; the loss "
            "is computed as Keras computes it, but binary cross-entropy is meaningless for such "
            "labels (it can go below 0). Give 0/1 labels (or probabilities), or use loss='mse' "
            "for real-valued targets",
            UserWarning,
            stacklevel=4,
        )
    return y.astype(dtype, copy=False)


def check_categorical(y_true, shape, dtype, name="categorical_crossentropy"):
    y = _array(y_true, name)
    if y.shape != shape:
        hint = ""
        if len(shape) >= 1 and y.shape in (shape[:-1], shape[:-1] + (1,)):
            hint = (
                f"; these look like integer class ids: use loss='sparse_categorical_crossentropy' "
                f"or one-hot encode them to shape {shape}"
            )
        raise ValueError(
            f"{name}: labels of shape {y.shape} do not fit predictions of shape {shape}; "
            f"expected one-hot rows of shape {shape}{hint}"
        )
    _in_unit_range(y, name, "one-hot rows (or probabilities)")
    return y.astype(dtype, copy=False)


def check_sparse(y_true, shape, dtype=None, name="sparse_categorical_crossentropy"):
    y = _array(y_true, name)
    if len(shape) < 2:
        raise ValueError(
            f"{name}: predictions must have a class axis, e.g. (batch, classes), got {shape}"
        )
    if y.shape == shape[:-1] + (1,):
        y = y.reshape(shape[:-1])
    if y.shape != shape[:-1]:
        hint = ""
        if y.shape == shape:
            hint = "; these look one-hot: use loss='categorical_crossentropy'"
        raise ValueError(
            f"{name}: labels of shape {y.shape} do not fit predictions of shape {shape}; "
            f"expected integer class ids of shape {shape[:-1]}{hint}"
        )
    if y.dtype.kind == "f":
        if not np.all(y == np.round(y)):
            raise ValueError(f"{name}: labels must be integer class ids, got fractional values")
        y = y.astype(np.int64)
    k = shape[-1]
    if y.size and (y.min() < 0 or y.max() >= k):
        bad = y.min() if y.min() < 0 else y.max()
        raise ValueError(
            f"{name}: label {bad} is out of range for {k} classes (labels must be in [0, {k}))"
        )
    return y


# ----------------------------------------------------------------------------------------------
# the losses on checked labels (fit checks all labels once, then calls these per batch)


def _mse(y, p):
    d = p - y
    return (d * d).mean()


def _bce(y, p, from_logits=False):
    if from_logits:
        # max(x, 0) - x*y + log(1 + exp(-|x|)), stable for any x. max(x, 0) = x * [x >= 0] and
        # -|x| = x * -sign(x) with constant masks that agree at x = 0, so the gradient is
        # sigmoid(x) - y everywhere (relu and abs each take slope 0 at 0, which would not add up)
        pos = p.data >= 0
        sign = np.where(pos, -1, 1).astype(p.dtype)
        return (p * (pos - y) + ((p * sign).exp() + 1).log()).mean()
    p = p.clip(EPSILON, 1 - EPSILON)
    return -(y * p.log() + (1 - y) * (1 - p).log()).mean()


def _cce(y, p, from_logits=False):
    logp = p.log_softmax(axis=-1) if from_logits else p.clip(EPSILON, 1 - EPSILON).log()
    return -(logp * y).sum(axis=-1).mean()


def _sparse_cce(y, p, from_logits=False):
    # every position but the class axis: rows 0..n-1 for labels of shape (n,)
    lead = (np.arange(len(y)),) if y.ndim == 1 else tuple(np.indices(y.shape, sparse=True))
    if from_logits:
        return -p.log_softmax(axis=-1)[(*lead, y)].mean()
    return -p[(*lead, y)].clip(EPSILON, 1 - EPSILON).log().mean()


# ----------------------------------------------------------------------------------------------
# public functions


def mse(y_true, y_pred):
    """Mean squared error: mean((y_pred - y_true) ** 2).

    >>> from autograd import Tensor
    >>> mse([1.0, 2.0], Tensor([1.5, 1.0])).item()    # (0.25 + 1) / 2
    0.625
    """
    p = _pred(y_pred, "mse")
    return _mse(check_regression(y_true, p.shape, p.dtype), p)


def binary_crossentropy(y_true, y_pred, from_logits=False):
    """-mean(y log p + (1 - y) log(1 - p)) for labels y in [0, 1] and probabilities p.

    p is clipped to [1e-7, 1 - 1e-7] as Keras does. With `from_logits=True`, y_pred holds raw
    scores x (p = sigmoid(x)) and the stable form max(x, 0) - x y + log(1 + exp(-|x|)) is used.

    >>> from autograd import Tensor
    >>> round(binary_crossentropy([1.0, 0.0], Tensor([0.8, 0.4])).item(), 4)  # -(ln .8 + ln .6)/2
    0.367
    >>> round(binary_crossentropy([1.0], Tensor([0.0])).item(), 2)    # clipped: -ln(1e-7)
    16.12
    >>> round(binary_crossentropy([1.0], Tensor([-200.0]), from_logits=True).item(), 2)
    200.0
    """
    p = _pred(y_pred, "binary_crossentropy")
    return _bce(check_binary(y_true, p.shape, p.dtype), p, from_logits)


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    """-mean over the batch of sum_k y_k log p_k, for one-hot labels y and class probabilities p.

    With `from_logits=True`, y_pred holds raw scores and log p = log_softmax(scores).

    >>> from autograd import Tensor
    >>> round(categorical_crossentropy([[0, 1, 0]], Tensor([[0.2, 0.5, 0.3]])).item(), 4)
    0.6931
    """
    p = _pred(y_pred, "categorical_crossentropy")
    return _cce(check_categorical(y_true, p.shape, p.dtype), p, from_logits)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """-mean of log p[label]: categorical cross-entropy with integer class ids as labels.

    >>> from autograd import Tensor
    >>> round(sparse_categorical_crossentropy([1], Tensor([[0.2, 0.5, 0.3]])).item(), 4)
    0.6931
    >>> s = Tensor([[2.0, 0.0, 0.0]])                 # scores; log_softmax picks class 0
    >>> round(sparse_categorical_crossentropy([0], s, from_logits=True).item(), 4)
    0.2395
    """
    p = _pred(y_pred, "sparse_categorical_crossentropy")
    return _sparse_cce(check_sparse(y_true, p.shape), p, from_logits)


# ----------------------------------------------------------------------------------------------
# loss objects: what compile() uses (a function with its label check kept apart)


class Loss:
    """A loss as an object: `loss(y_true, y_pred)`; `prepare` checks and converts labels once."""

    name = "loss"
    from_logits = False

    def __init__(self, from_logits=False):
        self.from_logits = bool(from_logits)

    def prepare(self, y_true, shape, dtype=np.float32):
        """The labels checked against predictions of `shape` and converted for compute."""
        raise NotImplementedError

    def compute(self, y, y_pred):
        """The loss on labels already prepared (no checks: the fast path of fit)."""
        raise NotImplementedError

    def __call__(self, y_true, y_pred):
        p = _pred(y_pred, self.name)
        return self.compute(self.prepare(y_true, p.shape, p.dtype), p)

    def __repr__(self):
        extra = "from_logits=True" if self.from_logits else ""
        return f"{type(self).__name__}({extra})"


class MeanSquaredError(Loss):
    name = "mse"

    def prepare(self, y_true, shape, dtype=np.float32):
        return check_regression(y_true, shape, dtype, self.name)

    def compute(self, y, y_pred):
        return _mse(y, y_pred)


class BinaryCrossentropy(Loss):
    name = "binary_crossentropy"
    _warned = False  # labels outside [0, 1]: warn once per loss object (fit, then evaluate)

    def prepare(self, y_true, shape, dtype=np.float32):
        y = check_binary(y_true, shape, dtype, self.name, warn=not self._warned)
        if y.size and (y.min() < 0 or y.max() > 1):
            self._warned = True
        return y

    def compute(self, y, y_pred):
        return _bce(y, y_pred, self.from_logits)


class CategoricalCrossentropy(Loss):
    name = "categorical_crossentropy"

    def prepare(self, y_true, shape, dtype=np.float32):
        return check_categorical(y_true, shape, dtype, self.name)

    def compute(self, y, y_pred):
        return _cce(y, y_pred, self.from_logits)


class SparseCategoricalCrossentropy(Loss):
    name = "sparse_categorical_crossentropy"

    def prepare(self, y_true, shape, dtype=np.float32):
        return check_sparse(y_true, shape, dtype, self.name)

    def compute(self, y, y_pred):
        return _sparse_cce(y, y_pred, self.from_logits)


class _FunctionLoss(Loss):
    """A user's function loss(y_true, y_pred) -> scalar Tensor, labels passed as given."""

    def __init__(self, fn):
        self.fn = fn
        self.name = getattr(fn, "__name__", "loss")

    def prepare(self, y_true, shape, dtype=np.float32):
        y = np.asarray(y_true)
        return y.astype(dtype) if y.dtype.kind == "f" else y

    def compute(self, y, y_pred):
        return self.fn(y, y_pred)

    def __repr__(self):
        return f"loss {self.name}"


LOSSES = {
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}
_OBJECTS = {
    mse: MeanSquaredError,
    binary_crossentropy: BinaryCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
}


def get(loss):
    """A Loss object from a name ('mse', ...), a Loss, or a function(y_true, y_pred).

    >>> get("binary_crossentropy")
    BinaryCrossentropy()
    """
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        cls = LOSSES.get(loss.lower())
        if cls is None:
            raise ValueError(f"unknown loss {loss!r}; known: {', '.join(sorted(LOSSES))}")
        return cls()
    if loss in _OBJECTS:
        return _OBJECTS[loss]()
    if callable(loss):
        return _FunctionLoss(loss)
    raise TypeError(f"loss must be a name, a Loss or a function, got {loss!r}")
