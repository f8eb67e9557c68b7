"""nn.scalar: micrograd-style networks of Values, and the scalar twin of a Tensor model."""

import random

import numpy as np
import pytest

import nn
from autograd import Tensor, Value
from nn.scalar import MLP, Layer, Neuron


def test_neuron_by_hand():
    n = Neuron(2, activation="tanh")
    n.w[0].data, n.w[1].data, n.b.data = 0.5, -1.0, 0.25
    y = n([2.0, 1.0])  # tanh(0.5 * 2 - 1 * 1 + 0.25) = tanh(0.25)
    y.backward()
    assert y.data == pytest.approx(np.tanh(0.25))
    assert n.w[0].grad == pytest.approx(2 * (1 - np.tanh(0.25) ** 2))
    assert len(n.parameters()) == 3


def test_micrograd_defaults():
    random.seed(0)
    model = MLP(3, [4, 4, 1])
    assert [n.activation for n in model.layers[0].neurons] == ["relu"] * 4
    assert model.layers[-1].neurons[0].activation == "linear"
    assert len(model.parameters()) == 4 * 4 + 4 * 5 + 5
    assert isinstance(Layer(2, 3)([1.0, 2.0]), list)
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_training_a_tiny_mlp_reduces_the_loss():
    random.seed(1)
    model = MLP(3, [4, 4, 1])
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    losses = []
    for _ in range(30):
        loss = sum(((model(x) - y) ** 2 for x, y in zip(xs, ys)), Value(0.0))
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.02 * p.grad
        losses.append(loss.data)
    assert losses[-1] < 0.5 * losses[0]


def test_scalar_twin_matches_tensor_model():
    nn.manual_seed(0)
    model = nn.Sequential(
        [
            nn.Dense(4, activation="tanh", input_shape=(3,)),
            nn.Dense(3, activation="relu"),
            nn.Dense(1, activation="sigmoid"),
        ]
    )
    model.layers[1].bias.data[:] = [0.1, -0.2, 0.3]  # non-zero biases, so their gradients count
    twin = nn.scalar.from_sequential(model)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3)).astype(np.float32)
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0], dtype=np.float32)

    # tensor model: mean binary cross-entropy
    loss_t = nn.losses.binary_crossentropy(y[:, None], model(x))
    loss_t.backward()
    # scalar twin: the same loss, one Value at a time
    outs = [twin([float(v) for v in row]) for row in x]
    loss_s = sum((nn.scalar.binary_crossentropy(t, o) for t, o in zip(y, outs)), Value(0.0)) / 5
    loss_s.backward()

    assert loss_s.data == pytest.approx(loss_t.item(), rel=1e-5)
    for dense, layer in zip(model.layers, twin.layers):
        for j, neuron in enumerate(layer.neurons):
            got_w = [w.grad for w in neuron.w]
            np.testing.assert_allclose(got_w, dense.weight.grad[:, j], rtol=1e-4, atol=1e-6)
            assert neuron.b.grad == pytest.approx(dense.bias.grad[j], rel=1e-4, abs=1e-6)


def test_twin_needs_dense_layers_with_neuron_activations():
    with pytest.raises(TypeError, match="needs a Sequential of Dense layers only"):
        nn.scalar.from_sequential(nn.Sequential([nn.Flatten()]))
    with pytest.raises(ValueError, match="not built yet"):
        nn.scalar.from_sequential(nn.Sequential([nn.Dense(2)]))
    soft = nn.Sequential([nn.Dense(2, activation="softmax", input_shape=(2,))])
    with pytest.raises(ValueError, match="activation 'softmax'; a single neuron can only use"):
        nn.scalar.from_sequential(soft)


def test_scalar_networks_take_values_and_tensor_models_take_arrays():
    n = Neuron(2)
    assert isinstance(n([Value(1.0), Value(2.0)]), Value)
    with pytest.raises(TypeError):
        n([Tensor([1.0]), Tensor([2.0])])
    with pytest.raises(ValueError, match="activation must be one of"):
        Neuron(2, activation="softmax")


def test_scalar_mlp_names_its_parameters_like_nn_module():
    random.seed(0)
    m = nn.scalar.MLP(3, [2, 1])
    names = [name for name, _ in m.named_parameters()]
    assert names[:4] == [
        "layers.0.neurons.0.w.0",
        "layers.0.neurons.0.w.1",
        "layers.0.neurons.0.w.2",
        "layers.0.neurons.0.b",
    ]
    assert names[-1] == "layers.1.neurons.0.b" and len(names) == len(m.parameters()) == 11
    assert [p for _, p in m.named_parameters()] == m.parameters()
    assert m.parameters()[1].label == "w1[0,1]" and m.parameters()[-1].label == "b2[0]"
