"""Sequential: a stack of layers, trained with Keras's compile / fit / evaluate / predict.

The training loop lives in nn/training.py (shared with the functional nn.Model); fit runs the
same Tensor ops a hand-written loop would (forward, loss, backward, optimizer step).
"""

import numpy as np

from .layers import Layer, _as_shape, _auto_name, as_input
from .module import Module, _zeros_forward
from .training import Trainer


class Sequential(Trainer):
    """Layers applied one after another; trained Keras-style.

    >>> import numpy as np, nn
    >>> nn.manual_seed(0)
    >>> model = nn.Sequential([nn.Dense(2, activation="sigmoid", input_shape=(3,)),
    ...                        nn.Dense(1, activation="sigmoid")])
    >>> model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    >>> x = np.random.default_rng(0).normal(size=(64, 3)); y = (x.sum(axis=1) > 0) * 1.0
    >>> history = model.fit(x, y, epochs=3, verbose=0, seed=0)
    >>> sorted(history.history), len(history.history["loss"])
    (['accuracy', 'loss'], 3)
    >>> model.predict(x[:2]).shape
    (2, 1)
    """

    def __init__(self, layers=None, name=None):
        self.name = name or _auto_name(Sequential)
        self.layers = []
        self.built = False
        self._init_training()
        self._input_shape = None
        self._shapes = []  # output shape of each layer (no batch axis)
        for layer in layers or ():
            self.add(layer)

    # --- building ------------------------------------------------------------------------
    def add(self, layer):
        """Append a layer (built at once when the model's input shape is known)."""
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential: layers must be nn modules, got {layer!r}")
        self.layers.append(layer)
        self._walked = -1  # names changed
        if self.built:
            self._shapes.append(_output_shape(layer, self._shapes[-1] if self._shapes else ()))
        elif len(self.layers) == 1 and getattr(layer, "input_shape", None) is not None:
            self.build(layer.input_shape)

    def build(self, input_shape):
        """Build every layer for inputs of `input_shape` (no batch axis), checking each fits."""
        input_shape = _as_shape(input_shape)
        self._walked = -1
        self._name_tree()  # so errors can name the layer's place, e.g. layers.1
        shapes = []
        shape = input_shape
        for layer in self.layers:
            shape = _output_shape(layer, shape)
            shapes.append(shape)
        self._input_shape, self._shapes, self.built = input_shape, shapes, True
        if self.optimizer is not None and self.optimizer.params is None:
            self.optimizer.bind(self.parameters())

    @property
    def input_shape(self):
        return None if self._input_shape is None else (None, *self._input_shape)

    @property
    def output_shape(self):
        return (None, *self._shapes[-1]) if self.built and self._shapes else None

    def forward(self, x):
        if x.__class__ is not np.ndarray or x.dtype != np.float32:  # fit's batches skip this
            x = as_input(x, self._input_dtype())
        if not self.built:
            self.build(x.shape[1:])
        for layer in self.layers:
            x = layer(x)
        return x

    def _input_dtype(self):
        first = self.layers[0] if self.layers else None
        return None if getattr(first, "int_input", False) else np.float32

    def extra_repr(self):
        return ""

    def _repr_children(self):
        return [(str(i), layer) for i, layer in enumerate(self.layers)]

    # --- what the shared training loop needs ---------------------------------------------
    def input_specs(self):
        return [(self._input_shape, self._input_dtype())]

    def input_names(self):
        return ["input"]

    def build_for(self, arrays, what):
        x = arrays[0]
        if not self.built:
            self.build(x.shape[1:])
        elif x.shape[1:] != self._input_shape:
            first = self.layers[0]
            if isinstance(first, Layer):
                first.build_from(x.shape[1:])  # raises the layer's own error if it cannot fit
            raise ValueError(
                f"{what}: the model expects inputs of shape {self.input_shape}, got {x.shape}"
            )

    def output_shape_nb(self):
        return self._shapes[-1] if self._shapes else self._input_shape

    def summary_rows(self):
        rows = []
        for layer, shape in zip(self.layers, self._shapes):
            lname = getattr(layer, "name", None) or type(layer).__name__.lower()
            rows.append(
                (
                    f"{lname} ({type(layer).__name__})",
                    str((None, *shape)),
                    f"{layer.count_params():,}",
                )
            )
        return ("Layer (type)", "Output Shape", "Param #"), rows


def _output_shape(layer, shape):
    """A layer's output shape for `shape`, building it first (Layers) or by a trial forward."""
    if isinstance(layer, Layer):
        layer.build_from(shape)
        return tuple(layer.compute_output_shape(shape))
    return tuple(_zeros_forward(layer, shape))
