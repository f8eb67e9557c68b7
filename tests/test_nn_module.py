"""nn.Module: parameters found by walking attributes, dotted names, scopes, modes, repr."""

import numpy as np
import pytest

import nn
from autograd import Tensor, toposort


class Affine(nn.Module):
    def __init__(self, n=2):
        self.scale = Tensor(np.ones(n), requires_grad=True, label="scale")
        self.shift = Tensor(np.zeros(n), requires_grad=True, label="shift")
        self.fixed = Tensor(np.ones(n))  # no requires_grad: not a parameter

    def forward(self, x):
        return x * self.scale + self.shift


class Net(nn.Module):
    def __init__(self):
        self.first = Affine()
        self.blocks = [Affine(), (Affine(),)]
        self.heads = {"a": Affine(), "b": nn.Linear(2, 1)}
        self._private = Affine()  # '_' attributes are skipped

    def forward(self, x):
        x = self.first(x)
        x = self.blocks[0](x)
        x = self.blocks[1][0](x)
        return self.heads["b"](self.heads["a"](x))


def test_named_parameters_walk_attributes_lists_tuples_dicts():
    names = [n for n, _ in Net().named_parameters()]
    assert names == [
        "first.scale",
        "first.shift",
        "blocks.0.scale",
        "blocks.0.shift",
        "blocks.1.0.scale",
        "blocks.1.0.shift",
        "heads.a.scale",
        "heads.a.shift",
        "heads.b.weight",
        "heads.b.bias",
    ]


def test_shared_parameters_counted_once():
    net = Net()
    net.heads["a"] = net.first
    assert len(net.parameters()) == 8
    assert [n for n, _ in net.named_modules()][:3] == ["", "first", "blocks.0"]


def test_parameters_are_labelled_by_attribute_name():
    layer = nn.Dense(3, input_shape=(2,))
    assert (layer.weight.label, layer.bias.label) == ("weight", "bias")
    assert layer.weight.requires_grad and layer.weight.is_leaf


def test_nodes_are_tagged_with_the_module_that_made_them():
    net = Net()
    y = net(Tensor(np.ones((3, 2))))
    scopes = {n.scope for n in toposort(y) if not n.is_leaf}
    assert scopes == {"first", "blocks.0", "blocks.1.0", "heads.a", "heads.b"}
    assert y.scope == "heads.b"


def test_sequential_layers_are_tagged_layers_i():
    model = nn.Sequential([nn.Dense(4, activation="relu", input_shape=(3,)), nn.Dense(1)])
    y = model(np.ones((2, 3)))
    assert {n.scope for n in toposort(y) if not n.is_leaf} == {"layers.0", "layers.1"}
    assert [n for n, _ in model.named_parameters()] == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.1.weight",
        "layers.1.bias",
    ]


def test_names_follow_structure_changes():
    model = nn.Sequential([nn.Dense(2, input_shape=(2,))])
    model(np.ones((1, 2)))
    model.add(nn.Dense(1))
    y = model(np.ones((1, 2)))
    assert y.scope == "layers.1"
    # a layer called on its own tags nothing (it is the root), then the model again does
    assert model.layers[0](np.ones((1, 2))).scope is None
    assert model(np.ones((1, 2))).scope == "layers.1"


def test_no_scope_outside_modules():
    net = Affine()
    x = Tensor(np.ones(2), requires_grad=True)
    assert (x * 2).scope is None
    net(x)
    assert (x * 2).scope is None


def test_zero_grad_train_eval():
    net = Net()
    net(Tensor(np.ones((1, 2)))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.eval() is net and not net.training and not net.heads["b"].training
    assert net.train().training and net.blocks[1][0].training


def test_repr_is_readable():
    model = nn.Sequential([nn.Dense(2, activation="sigmoid", input_shape=(3,)), nn.Dropout(0.5)])
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Dense(2, activation='sigmoid', input_shape=(3,))\n"
        "  (1): Dropout(rate=0.5)\n"
        ")"
    )
    assert repr(nn.Linear(3, 2)) == "Linear(in_features=3, out_features=2, bias=True)"
    assert "(heads.b): Linear(" in repr(Net())


def test_count_params_and_get_set_weights():
    layer = nn.Linear(3, 2)
    assert layer.count_params() == 8
    w = layer.get_weights()
    layer.set_weights([np.zeros((3, 2)), np.ones(2)])
    assert layer.weight.data.sum() == 0 and layer.bias.data.tolist() == [1, 1]
    with pytest.raises(ValueError, match="'weight' has shape \\(3, 2\\), got an array of shape"):
        layer.set_weights([np.zeros((2, 3)), np.ones(2)])
    layer.set_weights(w)
    assert np.array_equal(layer.weight.data, w[0])


def test_forward_must_be_written():
    with pytest.raises(NotImplementedError, match="Module must define forward"):
        nn.Module()(1)
