"""Losses: hand-computed values, Keras's clipping, stable logits forms, and label checks."""

import math

import numpy as np
import pytest

import nn
from autograd import Tensor, gradcheck
from nn import losses


def t(x):
    return Tensor(x, requires_grad=True, dtype=np.float64)


def test_mse_by_hand():
    p = t([[1.0], [3.0]])
    loss = losses.mse([[0.0], [1.0]], p)  # (1 + 4) / 2
    assert loss.item() == 2.5
    loss.backward()
    assert p.grad.tolist() == [[1.0], [2.0]]  # 2 (p - y) / n


def test_binary_crossentropy_by_hand():
    loss = losses.binary_crossentropy([1.0, 0.0], t([0.8, 0.4]))
    assert loss.item() == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)


def test_binary_crossentropy_clips_like_keras():
    # a confident wrong prediction: log(1e-7), never inf or NaN
    loss = losses.binary_crossentropy([1.0, 0.0], t([0.0, 1.0]))
    assert loss.item() == pytest.approx(-math.log(1e-7), rel=1e-6)


def test_binary_crossentropy_from_logits_is_stable_and_right():
    x = np.array([-800.0, -3.0, 0.0, 2.5, 800.0])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    loss = losses.binary_crossentropy(y, t(x), from_logits=True)
    p = 1 / (1 + np.exp(-x[1:4]))
    moderate = -(y[1:4] * np.log(p) + (1 - y[1:4]) * np.log(1 - p))
    assert loss.item() == pytest.approx((800 + moderate.sum() + 800) / 5)
    assert gradcheck(lambda z: losses.binary_crossentropy(y[1:4], z, from_logits=True), x[1:4])


def test_logits_and_probabilities_agree():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(6, 4))
    labels = rng.integers(0, 4, size=6)
    onehot = np.eye(4)[labels]
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    values = [
        losses.categorical_crossentropy(onehot, t(probs)),
        losses.categorical_crossentropy(onehot, t(scores), from_logits=True),
        losses.sparse_categorical_crossentropy(labels, t(probs)),
        losses.sparse_categorical_crossentropy(labels, t(scores), from_logits=True),
    ]
    want = -np.log(probs[np.arange(6), labels]).mean()
    for v in values:
        assert v.item() == pytest.approx(want, rel=1e-9)
    assert gradcheck(lambda s: losses.sparse_categorical_crossentropy(labels, s, True), scores)
    assert gradcheck(lambda s: losses.categorical_crossentropy(onehot, s, True), scores)


def test_confident_wrong_predictions_give_no_nan():
    for loss in [
        losses.categorical_crossentropy([[1, 0]], t([[0.0, 1.0]])),
        losses.sparse_categorical_crossentropy([0], t([[0.0, 1.0]])),
        losses.sparse_categorical_crossentropy([0], t([[-1e4, 1e4]]), from_logits=True),
        losses.categorical_crossentropy([[1, 0]], t([[-1e4, 1e4]]), from_logits=True),
    ]:
        loss.backward()
        assert np.isfinite(loss.item())
        assert all(np.isfinite(n.grad).all() for n in [loss] if n.grad is not None)


def test_label_shape_errors():
    p = t(np.full((4, 1), 0.5))
    with pytest.raises(ValueError, match=r"labels of shape \(4, 3\) do not fit predictions"):
        losses.binary_crossentropy(np.zeros((4, 3)), p)
    with pytest.raises(ValueError, match=r"mse: labels of shape \(3,\) do not fit"):
        losses.mse(np.zeros(3), p)
    probs = t(np.full((4, 3), 1 / 3))
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy' or one-hot encode"):
        losses.categorical_crossentropy([0, 1, 2, 1], probs)
    with pytest.raises(ValueError, match="these look one-hot: use loss='categorical_crossentropy'"):
        losses.sparse_categorical_crossentropy(np.eye(3)[[0, 1, 2, 1]], probs)
    # (n,) labels fit (n, 1) predictions, as in Keras
    assert losses.binary_crossentropy([1, 0, 1, 0], p).item() == pytest.approx(math.log(2))


def test_label_range_errors():
    p = t(np.full((2, 1), 0.5))
    # outside [0, 1] binary cross-entropy is computed (as Keras does), with a warning
    with pytest.warns(UserWarning, match=r"labels range from 0 to 2, outside \[0, 1\]"):
        got = losses.binary_crossentropy([[2.0], [0.0]], p).item()
    assert got == pytest.approx(-(2 * math.log(0.5) - math.log(0.5) + math.log(0.5)) / 2)
    with pytest.raises(ValueError, match="labels must be finite"):
        losses.binary_crossentropy([[np.nan], [0.0]], p)
    with pytest.raises(ValueError, match=r"label 3 is out of range for 3 classes"):
        losses.sparse_categorical_crossentropy([0, 3], t(np.full((2, 3), 0.3)))
    with pytest.raises(ValueError, match="label -1 is out of range"):
        losses.sparse_categorical_crossentropy([0, -1], t(np.full((2, 3), 0.3)))
    with pytest.raises(ValueError, match="integer class ids, got fractional"):
        losses.sparse_categorical_crossentropy([0.5, 1], t(np.full((2, 3), 0.3)))


def test_unknown_loss_lists_known_ones():
    with pytest.raises(ValueError, match="unknown loss 'hinge'; known: binary_crossentropy, "):
        losses.get("hinge")
    assert losses.get(losses.mse).name == "mse"
    assert losses.get(nn.losses.BinaryCrossentropy(from_logits=True)).from_logits


def test_logits_gradient_at_zero_is_sigmoid_minus_label():
    x = t([0.0, 0.0])
    losses.binary_crossentropy([1.0, 0.0], x, from_logits=True).backward()
    assert x.grad.tolist() == [-0.25, 0.25]  # (sigmoid(0) - y) / 2
