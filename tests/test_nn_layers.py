"""Layers: shapes, initialisation, modes, the conv/pool/embedding ops against loops, errors."""

import math

import numpy as np
import pytest

import nn
from autograd import Tensor, conv2d, embedding, gradients, max_pool2d

# ----------------------------------------------------------------------------------------------
# the engine ops behind Conv2D, MaxPooling2D and Embedding, against plain loops


def conv_loops(x, w, stride, pad):
    """The definition, one output pixel at a time."""
    (pt, pb), (pl, pr) = pad
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    kh, kw, _, f = w.shape
    oh, ow = (xp.shape[1] - kh) // stride[0] + 1, (xp.shape[2] - kw) // stride[1] + 1
    y = np.zeros((x.shape[0], oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, i * stride[0] : i * stride[0] + kh, j * stride[1] : j * stride[1] + kw]
            y[:, i, j] = np.einsum("nabc,abcf->nf", patch, w)
    return y


@pytest.mark.parametrize(
    "stride,padding,pad",
    [(1, 0, ((0, 0), (0, 0))), ((2, 1), (1, 2), ((1, 1), (2, 2))), (2, "same", ((1, 1), (0, 1)))],
)
def test_conv2d_matches_loops(stride, padding, pad):
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 5, 6, 3)), rng.normal(size=(3, 3, 3, 4))
    y = conv2d(Tensor(x, dtype=np.float64), Tensor(w, dtype=np.float64), stride, padding)
    s = (stride, stride) if isinstance(stride, int) else stride
    np.testing.assert_allclose(y.data, conv_loops(x, w, s, pad), rtol=1e-12, atol=1e-12)


def test_conv2d_by_hand():
    x = Tensor(np.arange(9.0).reshape(1, 3, 3, 1), requires_grad=True)
    w = Tensor(np.ones((2, 2, 1, 1)), requires_grad=True)
    y = conv2d(x, w)  # each output sums a 2x2 window
    assert y.data[0, :, :, 0].tolist() == [[8, 12], [20, 24]]
    y.sum().backward()
    # the centre pixel is in all four windows, corners in one
    assert x.grad[0, :, :, 0].tolist() == [[1, 2, 1], [2, 4, 2], [1, 2, 1]]
    assert w.grad[:, :, 0, 0].tolist() == [[8, 12], [20, 24]]  # sum of each offset's pixels


def test_max_pool_by_hand_and_ties_share():
    x = Tensor(np.array([[1.0, 2.0], [2.0, 0.0]]).reshape(1, 2, 2, 1), requires_grad=True)
    y = max_pool2d(x)
    y.sum().backward()
    assert y.data.item() == 2.0
    assert x.grad[0, :, :, 0].tolist() == [[0, 0.5], [0.5, 0]]


def test_embedding_repeated_rows_add_up():
    w = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    y = embedding(w, np.array([2, 0, 2]))
    assert y.data.tolist() == [[4, 5], [0, 1], [4, 5]]
    (y * Tensor([[1.0], [2.0], [3.0]])).sum().backward()
    assert w.grad.tolist() == [[2, 2], [0, 0], [4, 4]]


def test_create_graph_path_gives_the_same_gradients():
    rng = np.random.default_rng(1)
    x = Tensor(rng.normal(size=(2, 5, 5, 2)), requires_grad=True, dtype=np.float64)
    w = Tensor(rng.normal(size=(3, 2, 2, 3)), requires_grad=True, dtype=np.float64)
    e = Tensor(rng.normal(size=(4, 3)), requires_grad=True, dtype=np.float64)
    y = (max_pool2d(conv2d(x, w, stride=(1, 2), padding=1), 2, 1) ** 2).sum()
    y = y + (embedding(e, [[1, 3], [3, 3]]) ** 3).sum()
    fast = gradients(y, [x, w, e])
    slow = gradients(y, [x, w, e], create_graph=True)
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b.data, rtol=1e-10)


def test_second_derivative_through_conv2d():
    # f(x) = sum(conv(x, w) ** 2) is quadratic in x: d/dx of sum(grad * v) is 2 W^T W v,
    # the same as the gradient's own change along v (checked by central differences).
    rng = np.random.default_rng(2)
    w = Tensor(rng.normal(size=(2, 2, 1, 2)), dtype=np.float64)
    v = rng.normal(size=(1, 4, 4, 1))

    def g_dot_v(xd):
        x = Tensor(xd, requires_grad=True, dtype=np.float64)
        (gx,) = gradients((conv2d(x, w) ** 2).sum(), [x], create_graph=True)
        return x, (gx * v).sum()

    x0 = rng.normal(size=(1, 4, 4, 1))
    x, h = g_dot_v(x0)
    (hv,) = gradients(h, [x])
    eps = 1e-6
    numeric = (g_dot_v(x0 + eps * v)[1].item() - g_dot_v(x0 - eps * v)[1].item()) / (2 * eps)
    assert (hv * v).sum() == pytest.approx(numeric, rel=1e-6)


def test_op_shape_errors_name_op_and_shapes():
    with pytest.raises(ValueError, match=r"conv2d: expects x of shape \(N, H, W, C\).*\(2, 8, 8\)"):
        conv2d(Tensor(np.zeros((2, 8, 8))), Tensor(np.zeros((3, 3, 1, 4))))
    with pytest.raises(ValueError, match=r"x \(2, 8, 8, 2\) has 2 channels.*w \(3, 3, 1, 4\)"):
        conv2d(Tensor(np.zeros((2, 8, 8, 2))), Tensor(np.zeros((3, 3, 1, 4))))
    with pytest.raises(ValueError, match="padding must be"):
        conv2d(Tensor(np.zeros((1, 4, 4, 1))), Tensor(np.zeros((3, 3, 1, 1))), padding="full")
    with pytest.raises(ValueError, match=r"max_pool2d: the 3x3 window does not fit"):
        max_pool2d(Tensor(np.zeros((1, 2, 2, 1))), 3)
    with pytest.raises(IndexError, match=r"embedding: index 4 is out of range.*\(4, 2\)"):
        embedding(Tensor(np.zeros((4, 2))), [0, 4])


# ----------------------------------------------------------------------------------------------
# layers


def test_dense_is_built_lazily_with_glorot_weights_and_zero_bias():
    nn.manual_seed(0)
    layer = nn.Dense(50, activation="relu")
    assert not layer.built and layer.weight is None
    y = layer(np.ones((4, 30)))
    assert layer.built and y.shape == (4, 50) and layer.weight.shape == (30, 50)
    limit = math.sqrt(6 / (30 + 50))
    assert np.abs(layer.weight.data).max() <= limit
    assert np.abs(layer.weight.data).max() > 0.9 * limit  # spread over the whole range
    assert not layer.bias.data.any()
    assert layer.weight.dtype == np.float32


def test_dense_shape_error_names_layer_and_both_shapes():
    model = nn.Sequential([nn.Dense(2, input_shape=(3,), name="hidden"), nn.Dense(1)])
    with pytest.raises(ValueError, match=r"Dense 'hidden' \(layers.0\) expects inputs of shape "):
        model(np.ones((5, 4)))
    try:
        model.layers[1](np.ones((5, 7)))
    except ValueError as e:
        assert "(None, 2)" in str(e) and "(5, 7)" in str(e)


def test_activation_strings_and_layers():
    x = np.array([[-1.0, 0.0, 2.0]])
    for name, fn in [
        ("relu", lambda v: np.maximum(v, 0)),
        ("sigmoid", lambda v: 1 / (1 + np.exp(-v))),
        ("tanh", np.tanh),
        ("softmax", lambda v: np.exp(v) / np.exp(v).sum()),
        ("linear", lambda v: v),
    ]:
        layer = nn.Dense(3, activation=name, input_shape=(3,))
        layer.set_weights([np.eye(3), np.zeros(3)])
        np.testing.assert_allclose(layer(x).data, fn(x), rtol=1e-6)
    for cls, fn in [(nn.ReLU, lambda v: np.maximum(v, 0)), (nn.Tanh, np.tanh)]:
        np.testing.assert_allclose(cls()(x).data, fn(x), rtol=1e-6)
    np.testing.assert_allclose(nn.Softmax()(x).data.sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(nn.Sigmoid()(x).data, 1 / (1 + np.exp(-x)), rtol=1e-6)
    with pytest.raises(ValueError, match="unknown activation 'gelu'; known: linear, relu, sigmoid"):
        nn.Dense(2, activation="gelu")


def test_dropout_active_in_training_only():
    nn.manual_seed(0)
    drop = nn.Dropout(0.5)
    x = np.ones((200, 50), dtype=np.float32)
    y = drop(x).data
    assert set(np.unique(y)) == {0.0, 2.0}  # kept inputs scaled by 1 / (1 - rate)
    assert 0.45 < (y == 0).mean() < 0.55
    drop.eval()
    assert (drop(x).data == x).all()
    with pytest.raises(ValueError, match="rate must be in"):
        nn.Dropout(1.0)


def test_flatten_and_pooling_shapes():
    assert nn.Flatten()(np.zeros((2, 3, 4, 5))).shape == (2, 60)
    pool = nn.MaxPooling2D(2)
    assert pool(np.zeros((2, 7, 6, 3))).shape == (2, 3, 3, 3)
    assert pool.compute_output_shape((7, 6, 3)) == (3, 3, 3)


def test_conv2d_layer_shapes_and_errors():
    conv = nn.Conv2D(4, (3, 2), strides=2, activation="relu", input_shape=(9, 8, 2))
    assert conv.weight.shape == (3, 2, 2, 4)
    assert conv(np.zeros((1, 9, 8, 2))).shape == (1, 4, 4, 4)
    assert conv.compute_output_shape((9, 8, 2)) == (4, 4, 4)
    with pytest.raises(ValueError, match=r"add a channel axis, e.g. x\[..., None\]"):
        nn.Conv2D(4, 3)(np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match=r"Conv2D 'c' expects inputs of shape \(None, 9, 8, 2\)"):
        nn.Conv2D(4, 3, input_shape=(9, 8, 2), name="c")(np.zeros((1, 9, 8, 3)))


def test_embedding_layer():
    emb = nn.Embedding(10, 3)
    assert emb(np.array([[1, 2], [9, 0]])).shape == (2, 2, 3)
    assert np.abs(emb.weight.data).max() <= 0.05
    with pytest.raises(IndexError, match=r"Embedding 'e'.*id 10 is out of range for input_dim=10"):
        nn.Embedding(10, 3, name="e")([[1, 10]])


def test_linear_is_pytorch_like():
    nn.manual_seed(0)
    layer = nn.Linear(16, 4)
    assert np.abs(layer.weight.data).max() <= 1 / 4 and layer.bias.data.any()
    x = np.ones((2, 16), dtype=np.float32)
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data + layer.bias.data, rtol=1e-6)
    with pytest.raises(ValueError, match=r"Linear expects inputs of shape \(N, 16\), got \(2, 3\)"):
        layer(np.ones((2, 3)))
    assert nn.Linear(2, 3, bias=False).parameters()[0].shape == (2, 3)
