"""micrograd-style networks of scalar Values for the classroom: Neuron, Layer, MLP.

Every weight is one `Value`, so a drawn graph shows each multiply and add. `from_sequential`
turns a Sequential of Dense layers into its scalar twin with the same weights: same outputs,
same loss, same gradients, one number at a time.
"""

import random

from autograd import Value

_ACTS = ("relu", "tanh", "sigmoid", "linear")


class Module:
    """What the scalar networks share (micrograd's): parameters() and zero_grad()."""

    __slots__ = ()

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_parameters(self):
        """(dotted name, Value) pairs, as nn.Module gives: `layers.0.neurons.1.w.2`."""
        return []


class Neuron(Module):
    """act(sum_i w_i x_i + b): weights uniform in [-1, 1], bias 0 (as micrograd).

    `nonlin=True` means ReLU (micrograd's choice); `activation` names another one: 'relu',
    'tanh', 'sigmoid' or 'linear'.

    >>> from autograd import Value
    >>> n = Neuron(2, activation="linear")
    >>> n.w[0].data, n.w[1].data, n.b.data = 2.0, -1.0, 0.5
    >>> n([1.0, 3.0]).data                   # 2*1 - 1*3 + 0.5
    -0.5
    """

    __slots__ = ("w", "b", "activation")

    def __init__(self, nin, nonlin=True, activation=None):
        self.w = [Value(random.uniform(-1, 1), label=f"w{i}") for i in range(nin)]
        self.b = Value(0.0, label="b")
        activation = activation or ("relu" if nonlin else "linear")
        if activation not in _ACTS:
            raise ValueError(
                f"Neuron: activation must be one of {', '.join(_ACTS)}, got {activation!r}"
            )
        self.activation = activation

    def __call__(self, x):
        act = self.b
        for wi, xi in zip(self.w, x):
            act = act + wi * xi
        a = self.activation
        if a == "relu":
            return act.relu()
        if a == "tanh":
            return act.tanh()
        if a == "sigmoid":
            return act.sigmoid()
        return act

    def parameters(self):
        return self.w + [self.b]

    def named_parameters(self):
        return [(f"w.{i}", w) for i, w in enumerate(self.w)] + [("b", self.b)]

    def __repr__(self):
        return f"{self.activation.capitalize()}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` Neurons that each see all `nin` inputs."""

    __slots__ = ("neurons",)

    def __init__(self, nin, nout, **kwargs):
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):  # what named_parameters gives, without making the names
        return [p for n in self.neurons for p in n.parameters()]

    def named_parameters(self):
        return [
            (f"neurons.{j}.{name}", p)
            for j, n in enumerate(self.neurons)
            for name, p in n.named_parameters()
        ]

    def __repr__(self):
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers of sizes `nouts` on `nin` inputs; ReLU inside and a linear last layer (micrograd).

    `activations` (one per layer) overrides that choice. Weights are labelled by their place:
    `w2[j,i]` is layer 2, neuron j, input i; `b2[j]` that neuron's bias.

    >>> import random
    >>> random.seed(0)
    >>> model = MLP(3, [4, 4, 1])
    >>> y = model([2.0, 3.0, -1.0]); y.backward()
    >>> len(model.parameters()), type(y).__name__, model.parameters()[5].label
    (41, 'Value', 'w1[1,1]')
    >>> model.named_parameters()[5][0]
    'layers.0.neurons.1.w.1'

    """

    __slots__ = ("layers",)

    def __init__(self, nin, nouts, activations=None):
        sizes = [nin, *nouts]
        if activations is None:
            activations = ["relu"] * (len(nouts) - 1) + ["linear"]
        if len(activations) != len(nouts):
            raise ValueError(f"MLP: {len(activations)} activations given for {len(nouts)} layers")
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation=activations[i]) for i in range(len(nouts))
        ]
        for n, layer in enumerate(self.layers, 1):  # name weights by place: w2[j,i], b2[j]
            for j, neuron in enumerate(layer.neurons):
                for i, w in enumerate(neuron.w):
                    w.label = f"w{n}[{j},{i}]"
                neuron.b.label = f"b{n}[{j}]"

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self):
        return [
            (f"layers.{i}.{name}", p)
            for i, layer in enumerate(self.layers)
            for name, p in layer.named_parameters()
        ]

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


def from_sequential(model):
    """The scalar twin of a Sequential of Dense layers: an MLP holding the same weights.

    Neuron j of layer i gets weights `layers[i].weight[:, j]` and bias `layers[i].bias[j]`;
    each Dense's activation must be relu, tanh, sigmoid or linear. Its outputs, any loss built
    from them and every gradient match the Tensor model's (within float32 rounding). The weights
    are copied when it is called: after more training, call it again for a fresh twin.

    >>> import nn
    >>> nn.manual_seed(0)
    >>> model = nn.Sequential([nn.Dense(2, activation="sigmoid", input_shape=(3,)),
    ...                        nn.Dense(1, activation="sigmoid")])
    >>> twin = nn.scalar.from_sequential(model)
    >>> x = [0.5, -1.0, 2.0]
    >>> abs(twin(x).data - float(model.predict([x])[0, 0])) < 1e-6
    True
    """
    from .layers import Dense

    layers = getattr(model, "layers", None)
    if not layers or not all(isinstance(layer, Dense) for layer in layers):
        kinds = [type(layer).__name__ for layer in layers or []]
        raise TypeError(f"from_sequential: needs a Sequential of Dense layers only, got {kinds}")
    if not all(layer.built for layer in layers):
        raise ValueError(
            "from_sequential: the model is not built yet; give input_shape to the first layer "
            "or call it on data first"
        )
    for i, layer in enumerate(layers):
        if layer.activation not in _ACTS:
            raise ValueError(
                f"from_sequential: layer {i} ({layer.name}) has activation {layer.activation!r}; "
                f"a single neuron can only use {', '.join(_ACTS)}"
            )
    nin = layers[0].weight.shape[0]
    twin = MLP(nin, [layer.units for layer in layers], [layer.activation for layer in layers])
    for layer, slayer in zip(layers, twin.layers):
        w = layer.weight.data.astype(float)
        b = layer.bias.data.astype(float) if layer.bias is not None else None
        for j, neuron in enumerate(slayer.neurons):
            for i, wi in enumerate(neuron.w):
                wi.data = float(w[i, j])
            neuron.b.data = float(b[j]) if b is not None else 0.0
    return twin


def binary_crossentropy(y_true, p, eps=1e-7):
    """-(y log p + (1 - y) log(1 - p)) on Values, p clipped to [eps, 1 - eps] as in nn.losses."""
    if p.data < eps or p.data > 1 - eps:  # clip: the gradient stops outside, as Tensor.clip
        p = Value(min(max(p.data, eps), 1 - eps), requires_grad=False)
    return -(y_true * p.log() + (1 - y_true) * (1 - p).log())


__all__ = ["MLP", "Layer", "Module", "Neuron", "binary_crossentropy", "from_sequential"]
