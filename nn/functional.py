"""Keras's functional form: nn.Input, layers called on symbolic inputs, nn.Model(inputs, outputs).

A layer called on an `nn.Input` (a KerasTensor: a shape, no data) is built for that shape and
records where its input came from; `nn.Model(inputs, outputs)` walks those records once into a
list of steps and trains with the same compile / fit / evaluate / predict as Sequential. Add
and Concatenate join two branches (a skip connection, two inputs).

>>> import numpy as np, nn
>>> a, b = nn.Input(shape=(3,), name="a"), nn.Input(shape=(2,), name="b")
>>> h = nn.Dense(4, activation="relu")(a)
>>> out = nn.Dense(1)(nn.Concatenate()([h, b]))
>>> model = nn.Model([a, b], out)
>>> model.predict([np.zeros((5, 3)), np.zeros((5, 2))]).shape
(5, 1)
"""

import numpy as np

from autograd import Tensor, concatenate

from .layers import Layer, _as_shape, _auto_name, as_input, as_tensor
from .training import Trainer


class KerasTensor:
    """A symbolic input or layer output: a shape (batch axis None) and where it comes from."""

    __slots__ = ("shape", "dtype", "layer", "inputs", "name")
    _keras_symbolic = True

    def __init__(self, shape, dtype, layer, inputs=(), name=None):
        self.shape, self.dtype, self.layer, self.inputs = tuple(shape), dtype, layer, inputs
        self.name = name or layer.name

    @property
    def ndim(self):
        return len(self.shape)

    def __add__(self, other):
        return Add()([self, other])

    def __radd__(self, other):
        return Add()([other, self])

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __array__(self, *args, **kwargs):
        raise TypeError(
            f"{self!r} is symbolic (a shape, no data): build nn.Model(inputs, outputs) and call "
            "the model on arrays"
        )


class InputLayer(Layer):
    """The layer behind nn.Input: passes its input on (in model.layers, as in Keras)."""

    def __init__(self, shape, dtype="float32", name=None):
        self.dtype = np.dtype(dtype)
        if self.dtype.kind not in "iuf":
            raise TypeError(f"Input: dtype must be a float or int type, got {dtype!r}")
        super().__init__(shape, name)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, x):
        return x


def Input(shape, dtype="float32", name=None):  # noqa: N802 - Keras's name
    """A symbolic model input of `shape` (without the batch axis), as keras.Input.

    Use dtype='int64' for the ids an Embedding takes.
    """
    if shape is None:
        raise ValueError("Input: give shape=, the shape of one sample, e.g. nn.Input(shape=(3,))")
    layer = InputLayer(_as_shape(shape), dtype, name or _auto_name(InputLayer))
    return KerasTensor((None, *layer.input_shape), layer.dtype, layer)


def _is_symbolic(x):
    if x.__class__ is list or x.__class__ is tuple:
        return bool(x) and all(getattr(t, "_keras_symbolic", False) for t in x)
    return getattr(x, "_keras_symbolic", False)


def symbolic_call(layer, x):
    """layer(x) on KerasTensors: build the layer for their shapes, record the call."""
    from .sequential import _output_shape

    if isinstance(x, list | tuple):
        if not isinstance(layer, Merge):
            raise TypeError(
                f"{getattr(layer, 'name', type(layer).__name__)}: takes one input, got a list of "
                f"{len(x)}; join them first with nn.Add() or nn.Concatenate()"
            )
        shape = layer.merged_shape([t.shape[1:] for t in x])
        return KerasTensor((None, *shape), np.dtype(np.float32), layer, tuple(x))
    if isinstance(layer, Merge):
        raise TypeError(f"{layer.describe()} joins a list of inputs, e.g. nn.Add()([a, b])")
    shape = _output_shape(layer, x.shape[1:])
    return KerasTensor((None, *shape), np.dtype(np.float32), layer, (x,))


# ----------------------------------------------------------------------------------------------
# joining branches


class Merge(Layer):
    """Base of the layers that take a list of inputs (Add, Concatenate)."""

    def merged_shape(self, shapes):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        if args and _is_symbolic(args[0]):
            return symbolic_call(self, args[0])
        return super().__call__(*args, **kwargs)


class Add(Merge):
    """The elementwise sum of a list of inputs of one shape (a skip connection)."""

    def merged_shape(self, shapes):
        if len(shapes) < 2 or any(s != shapes[0] for s in shapes):
            raise ValueError(
                f"{self.describe()} adds inputs of one shape, got shapes "
                f"{[(None, *s) for s in shapes]}"
            )
        return shapes[0]

    def forward(self, xs):
        out = as_tensor(xs[0])
        for x in xs[1:]:
            out = out + as_tensor(x)
        return out


class Concatenate(Merge):
    """Join a list of inputs along `axis` (the last by default)."""

    def __init__(self, axis=-1, name=None):
        self.axis = int(axis)
        super().__init__(None, name)

    def merged_shape(self, shapes):
        rank = len(shapes[0])
        axis = self.axis - 1 if self.axis > 0 else rank + self.axis  # shapes lack the batch axis
        if len(shapes) < 2 or any(len(s) != rank for s in shapes) or not 0 <= axis < rank:
            raise ValueError(
                f"{self.describe()} joins inputs of one rank along axis {self.axis}, got "
                f"shapes {[(None, *s) for s in shapes]}"
            )
        others = [s[:axis] + s[axis + 1 :] for s in shapes]
        if any(o != others[0] for o in others):
            raise ValueError(
                f"{self.describe()}: shapes {[(None, *s) for s in shapes]} differ off axis "
                f"{self.axis}"
            )
        return (*shapes[0][:axis], sum(s[axis] for s in shapes), *shapes[0][axis + 1 :])

    def forward(self, xs):
        return concatenate([as_tensor(x) for x in xs], axis=self.axis)

    def extra_repr(self):
        return f"axis={self.axis}"


# ----------------------------------------------------------------------------------------------
# the model


class Model(Trainer):
    """A model from symbolic inputs to an output, as keras.Model(inputs, outputs).

    Trains with the same compile / fit / evaluate / predict / summary as Sequential; with
    several inputs, x is a list of arrays (or a dict by input name).
    """

    def __init__(self, inputs, outputs, name=None):
        ins = list(inputs) if isinstance(inputs, list | tuple) else [inputs]
        if not ins or not all(isinstance(t, KerasTensor) and not t.inputs for t in ins):
            raise TypeError("Model: inputs must be nn.Input(...) tensors (or a list of them)")
        if isinstance(outputs, list | tuple):
            if len(outputs) != 1:
                raise ValueError("Model: one output is supported; give a single tensor")
            outputs = outputs[0]
        if not isinstance(outputs, KerasTensor):
            raise TypeError(
                f"Model: outputs must be the result of layers called on nn.Input, got {outputs!r}"
            )
        self.name = name or _auto_name(Model)
        self._init_training()
        order = _toposort(outputs)
        index = {id(t): i for i, t in enumerate(order)}
        for t in order:
            if not t.inputs and all(t is not i for i in ins):
                raise ValueError(
                    f"Model: the output depends on input {t.name!r}, which is not among the "
                    f"model's inputs {[i.name for i in ins]}"
                )
        unused = [i.name for i in ins if id(i) not in index]
        if unused:
            raise ValueError(f"Model: inputs {unused} do not lead to the output")
        self._in = ins
        self._out = outputs
        self._in_index = [index[id(t)] for t in ins]
        self._steps = [
            (t.layer, tuple(index[id(p)] for p in t.inputs), isinstance(t.layer, Merge))
            for t in order
        ]
        self._order = order
        layers = []
        for t in ins:
            layers.append(t.layer)
        for t in order:
            if t.inputs and all(t.layer is not seen for seen in layers):
                layers.append(t.layer)
        self.layers = layers
        self.built = True

    @property
    def inputs(self):
        return list(self._in)

    @property
    def outputs(self):
        return [self._out]

    @property
    def input_shape(self):
        shapes = [t.shape for t in self._in]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        return self._out.shape

    def forward(self, x):
        xs = x if isinstance(x, list | tuple) else [x]
        if len(xs) != len(self._in):
            raise ValueError(
                f"{self.name}: takes {len(self._in)} inputs "
                f"({', '.join(self.input_names())}), got {len(xs)}"
            )
        values = [None] * len(self._steps)
        for i, a, t in zip(self._in_index, xs, self._in):
            if a.__class__ is not Tensor:
                a = as_input(a, t.dtype if t.dtype.kind == "f" else None)
            if tuple(a.shape[1:]) != t.shape[1:]:
                raise ValueError(
                    f"{self.name}: input {t.name!r} expects shape {t.shape}, got {a.shape}"
                )
            values[i] = a
        for k, (layer, parents, multi) in enumerate(self._steps):
            if not parents:
                continue
            values[k] = layer([values[p] for p in parents]) if multi else layer(values[parents[0]])
        return values[-1]

    def _repr_children(self):
        return [(str(i), layer) for i, layer in enumerate(self.layers)]

    # --- what the shared training loop needs ---------------------------------------------
    def input_specs(self):
        return [(t.shape[1:], np.float32 if t.dtype.kind == "f" else None) for t in self._in]

    def input_names(self):
        return [t.name for t in self._in]

    def build_for(self, arrays, what):
        for a, t in zip(arrays, self._in):
            if tuple(a.shape[1:]) != t.shape[1:]:
                raise ValueError(
                    f"{what}: input {t.name!r} expects shape {t.shape}, got {tuple(a.shape)}"
                )

    def output_shape_nb(self):
        return self._out.shape[1:]

    def summary_rows(self):
        rows = []
        for t in self._order:
            layer = t.layer
            connected = "\n".join(f"{p.layer.name}[0][0]" for p in t.inputs) or "-"
            rows.append(
                (
                    f"{layer.name} ({type(layer).__name__})",
                    str(t.shape),
                    f"{layer.count_params():,}",
                    connected,
                )
            )
        return ("Layer (type)", "Output Shape", "Param #", "Connected to"), rows


def _toposort(output):
    """The KerasTensors the output depends on, each after its inputs (iterative DFS)."""
    order, seen, stack = [], set(), [(output, False)]
    while stack:
        t, done = stack.pop()
        if done:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        for p in reversed(t.inputs):
            if not isinstance(p, KerasTensor):
                raise TypeError(f"Model: {p!r} is not a layer output or nn.Input")
            if id(p) not in seen:
                stack.append((p, False))
    return order
