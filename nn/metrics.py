"""Metrics for compile(metrics=[...]): plain numpy on labels and predictions, no graph.

'accuracy' becomes binary, categorical or sparse categorical accuracy, picked from the loss
(and else from the shapes) as Keras does; 'mae' is the mean absolute error.
"""

import numpy as np


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Share of predictions on the right side of `threshold`.

    >>> binary_accuracy(np.array([[1], [0], [1]]), np.array([[0.9], [0.2], [0.4]]))
    0.6666666666666666
    """
    return float(np.mean((y_pred > threshold) == (np.reshape(y_true, y_pred.shape) > 0.5)))


def categorical_accuracy(y_true, y_pred):
    """Share of rows whose largest prediction is at the one-hot label's 1."""
    return float(np.mean(np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1)))


def sparse_categorical_accuracy(y_true, y_pred):
    """Share of rows whose largest prediction is at the integer label.

    >>> sparse_categorical_accuracy(np.array([2, 0]), np.array([[0.1, 0.2, 0.7], [0.3, 0.6, 0.1]]))
    0.5
    """
    y = np.reshape(y_true, y_pred.shape[:-1])
    return float(np.mean(np.argmax(y_pred, axis=-1) == y))


def mae(y_true, y_pred):
    """Mean absolute error: mean(|y_pred - y_true|)."""
    return float(np.mean(np.abs(y_pred - np.reshape(y_true, y_pred.shape))))


def mse(y_true, y_pred):
    """Mean squared error: mean((y_pred - y_true) ** 2)."""
    return float(np.mean((y_pred - np.reshape(y_true, y_pred.shape)) ** 2))


KNOWN = ("accuracy", "acc", "binary_accuracy", "categorical_accuracy")
KNOWN += ("sparse_categorical_accuracy", "mae", "mean_absolute_error", "mse")
_BY_NAME = {
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "mae": mae,
    "mean_absolute_error": mae,
    "mse": mse,
}


def check(metric):
    """Raise early (at compile) for a metric name that is not known."""
    if isinstance(metric, str) and metric.lower() not in KNOWN:
        raise ValueError(f"unknown metric {metric!r}; known: {', '.join(KNOWN)}")
    if not isinstance(metric, str) and not callable(metric):
        raise TypeError(f"a metric must be a name or a function(y_true, y_pred), got {metric!r}")


def get(metric, loss, y_shape, pred_shape):
    """The function of a metric name, for this loss and these label/prediction shapes.

    'accuracy' follows the loss: binary cross-entropy gives binary accuracy (threshold 0 when
    the loss takes logits), categorical gives categorical, sparse gives sparse; with another
    loss the shapes decide, as in Keras.
    """
    check(metric)
    if not isinstance(metric, str):
        return metric
    name = metric.lower()
    if name not in ("accuracy", "acc"):
        return _BY_NAME[name]
    kind = getattr(loss, "name", "")
    if kind == "binary_crossentropy" or (
        kind not in ("categorical_crossentropy", "sparse_categorical_crossentropy")
        and pred_shape[-1:] == (1,)
    ):
        if getattr(loss, "from_logits", False):
            return lambda y, p: binary_accuracy(y, p, threshold=0.0)
        return binary_accuracy
    if kind == "sparse_categorical_crossentropy" or (
        kind != "categorical_crossentropy" and tuple(y_shape) != tuple(pred_shape)
    ):
        return sparse_categorical_accuracy
    return categorical_accuracy
