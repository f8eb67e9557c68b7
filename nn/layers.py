"""Layers: Linear (PyTorch), Dense, Conv2D, MaxPooling2D, Flatten, Dropout, Embedding (Keras).

Keras-style layers are built on their first call from the input's shape, or at once when given
`input_shape` (without the batch axis). Images are channels-last, (batch, height, width,
channels), as in Keras. Activation layers and the activation strings live here too.
"""

import math
import re

import numpy as np

from autograd import Tensor, conv2d, embedding, max_pool2d

from . import init
from .module import Module, _zeros_forward

# ----------------------------------------------------------------------------------------------
# inputs and names


def as_input(x, dtype=np.float32):
    """A Tensor stays; anything else becomes an ndarray (numbers cast to `dtype`).

    Layers take plain arrays as constants (no leaf node per batch) and Tensors as they are.
    """
    cls = x.__class__
    if cls is Tensor or (cls is np.ndarray and x.dtype == dtype):
        return x
    a = x if isinstance(x, np.ndarray) else np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"expected numbers as input, got an array of dtype {a.dtype}")
    return a if dtype is None or a.dtype == dtype else a.astype(dtype)


def as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(as_input(x))


_COUNTS = {}


def _auto_name(cls):
    """Keras's layer names: 'dense', then 'dense_1', 'dense_2', ..."""
    base = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", cls.__name__)
    base = re.sub(r"([a-z])([A-Z])", r"\1_\2", base).lower()
    n = _COUNTS.get(base, 0)
    _COUNTS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def _shape_text(shape):
    """(None, 3) for a shape without its batch axis (3,)."""
    return str((None, *shape))


# ----------------------------------------------------------------------------------------------
# activations


def linear(x):
    return x


ACTIVATIONS = {
    "linear": linear,
    "relu": lambda x: as_tensor(x).relu(),
    "sigmoid": lambda x: as_tensor(x).sigmoid(),
    "tanh": lambda x: as_tensor(x).tanh(),
    "softmax": lambda x: as_tensor(x).softmax(axis=-1),
}
# the same on a Tensor, one call each (Dense and Conv2D always have a Tensor to activate)
_ON_TENSOR = {
    "relu": Tensor.relu,
    "sigmoid": Tensor.sigmoid,
    "tanh": Tensor.tanh,
    "softmax": Tensor.softmax,
}


def get_activation(activation):
    """(name, function) of an activation given as a string, a callable or None ('linear').

    >>> get_activation("relu")[0], get_activation(None)[0]
    ('relu', 'linear')
    """
    if activation is None:
        return "linear", linear
    if isinstance(activation, str):
        fn = ACTIVATIONS.get(activation.lower())
        if fn is None:
            raise ValueError(
                f"unknown activation {activation!r}; known: {', '.join(sorted(ACTIVATIONS))} "
                "(or pass a function)"
            )
        return activation.lower(), fn
    if callable(activation):
        return getattr(activation, "__name__", type(activation).__name__), activation
    raise TypeError(f"activation must be a string, a function or None, got {activation!r}")


# ----------------------------------------------------------------------------------------------
# the Keras-style layer base


class Layer(Module):
    """A layer that knows its input shape: built from it once, then checked on every call.

    Subclasses give `build(input_shape)` (make the weights), `compute_output_shape` and
    `forward`. Shapes here never include the batch axis.
    """

    built = False
    input_shape = None

    def __init__(self, input_shape=None, name=None):
        self.name = name or _auto_name(type(self))
        self.built = False
        self.input_shape = None if input_shape is None else _as_shape(input_shape)
        if self.input_shape is not None:
            self.build_from(self.input_shape)

    def build(self, input_shape):
        """Make the weights for inputs of this shape (no batch axis)."""

    def build_from(self, input_shape):
        """Build once for `input_shape`; afterwards only check that the shape fits."""
        input_shape = _as_shape(input_shape)
        if self.built:
            self.check_shape(input_shape)
            return
        self.check_shape(input_shape)
        self.build(input_shape)
        self.input_shape = input_shape
        self.built = True

    def check_shape(self, input_shape):
        """Raise a ValueError naming this layer when an input of this shape does not fit."""

    def compute_output_shape(self, input_shape):
        """The output shape (no batch axis) for an input shape (no batch axis)."""
        return _zeros_forward(self, _as_shape(input_shape))

    def describe(self):
        """How error messages name this layer: its type, name and place in the model."""
        where = f" ({self._path})" if self._path else ""
        return f"{type(self).__name__} {self.name!r}{where}"

    def shape_error(self, expected, got):
        return ValueError(
            f"{self.describe()} expects inputs of shape {expected}, got {got}"
            if isinstance(expected, str)
            else f"{self.describe()} expects inputs of shape {_shape_text(expected)}, got {got}"
        )


def _as_shape(shape):
    if isinstance(shape, int):
        return (shape,)
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"input_shape must be a tuple of ints, got {shape!r}") from None
    return shape


# ----------------------------------------------------------------------------------------------
# fully connected


class Linear(Module):
    """y = x @ weight + bias, as PyTorch's Linear (weight drawn from +-1/sqrt(in_features)).

    `weight` has shape (in_features, out_features), so the forward reads `x @ weight + bias`
    (PyTorch stores its transpose).

    >>> import nn
    >>> nn.manual_seed(0)
    >>> layer = nn.Linear(3, 2)
    >>> layer.weight.shape, layer.bias.shape, layer([[1.0, 2.0, 3.0]]).shape
    ((3, 2), (2,), (1, 2))
    """

    def __init__(self, in_features, out_features, bias=True):
        self.in_features, self.out_features = int(in_features), int(out_features)
        limit = 1.0 / math.sqrt(self.in_features)
        self.weight = Tensor(
            init.uniform((self.in_features, self.out_features), limit),
            requires_grad=True,
            label="weight",
        )
        self.bias = (
            Tensor(init.uniform((self.out_features,), limit), requires_grad=True, label="bias")
            if bias
            else None
        )

    def forward(self, x):
        x = as_input(x)
        if x.shape[-1:] != (self.in_features,):
            where = f" ({self._path})" if self._path else ""
            raise ValueError(
                f"Linear{where} expects inputs of shape (N, {self.in_features}), got {x.shape}"
            )
        y = x @ self.weight
        return y if self.bias is None else y + self.bias

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Dense(Layer):
    """Keras's Dense: activation(x @ weight + bias) with `units` outputs.

    Glorot-uniform weight of shape (inputs, units), zero bias. Built from the first input's
    last axis, or at once from `input_shape`.

    >>> import numpy as np, nn
    >>> layer = nn.Dense(2, activation="sigmoid", input_shape=(3,))
    >>> layer.weight.shape, layer.bias.data
    ((3, 2), array([0., 0.], dtype=float32))
    >>> layer(np.zeros((4, 3))).data          # sigmoid(0) = 0.5
    array([[0.5, 0.5],
           [0.5, 0.5],
           [0.5, 0.5],
           [0.5, 0.5]], dtype=float32)
    """

    def __init__(self, units, activation=None, use_bias=True, input_shape=None, name=None):
        if not isinstance(units, int | np.integer) or units <= 0:
            raise ValueError(f"Dense: units must be a positive int, got {units!r}")
        self.units = int(units)
        self.activation, self._act = get_activation(activation)
        self._act = _ON_TENSOR.get(self.activation, self._act)
        self.use_bias = bool(use_bias)
        self.weight = None
        self.bias = None
        super().__init__(input_shape, name)

    def check_shape(self, input_shape):
        if len(input_shape) < 1:
            raise self.shape_error("(None, features)", (None, *input_shape))
        if self.built and input_shape[-1] != self.input_shape[-1]:
            raise self.shape_error(self.input_shape, (None, *input_shape))

    def build(self, input_shape):
        n_in = input_shape[-1]
        w = init.glorot_uniform((n_in, self.units), n_in, self.units)
        self.weight = Tensor(w, requires_grad=True, label="weight")
        if self.use_bias:
            self.bias = Tensor(np.zeros(self.units, np.float32), requires_grad=True, label="bias")

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def forward(self, x):
        if x.__class__ is not np.ndarray or x.dtype != np.float32:
            x = as_input(x)
        if not self.built:
            self.build_from(x.shape[1:])
        shape = x.shape
        if len(shape) < 2 or shape[-1] != self.input_shape[-1]:
            raise self.shape_error(self.input_shape, shape)
        y = x @ self.weight
        if self.bias is not None:
            y = y + self.bias
        return y if self._act is linear else self._act(y)

    def extra_repr(self):
        text = f"{self.units}, activation={self.activation!r}"
        if self.input_shape is not None:
            text += f", input_shape={self.input_shape}"
        return text


# ----------------------------------------------------------------------------------------------
# activation layers


class _Activation(Layer):
    fn = None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, x):
        return type(self).fn(as_tensor(x))


class ReLU(_Activation):
    """max(x, 0), elementwise."""

    fn = Tensor.relu


class Sigmoid(_Activation):
    """1 / (1 + exp(-x)), elementwise."""

    fn = Tensor.sigmoid


class Tanh(_Activation):
    """tanh(x), elementwise."""

    fn = Tensor.tanh


class Softmax(_Activation):
    """exp(x) / sum(exp(x)) along `axis` (the last by default)."""

    def __init__(self, axis=-1, input_shape=None, name=None):
        self.axis = axis
        super().__init__(input_shape, name)

    def forward(self, x):
        return as_tensor(x).softmax(axis=self.axis)

    def extra_repr(self):
        return f"axis={self.axis}"


# ----------------------------------------------------------------------------------------------
# regularisation and reshaping


class Dropout(Layer):
    """Zero each input with probability `rate` while training, scaling the rest by 1/(1-rate).

    Inactive in eval mode (`model.eval()`, evaluate, predict): the input passes unchanged.
    """

    def __init__(self, rate, seed=None, input_shape=None, name=None):
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout: rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self._rng = None if seed is None else np.random.default_rng(seed)
        super().__init__(input_shape, name)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, x):
        if not self.training or self.rate == 0:
            return as_tensor(x)
        x = as_tensor(x)
        rng = self._rng or init.rng()
        keep = rng.random(x.shape) >= self.rate
        return x * (keep.astype(x.dtype) / np.asarray(1.0 - self.rate, dtype=x.dtype))

    def extra_repr(self):
        return f"rate={self.rate}"


class Flatten(Layer):
    """Collapse all axes but the batch axis: (N, d1, d2, ...) -> (N, d1 * d2 * ...)."""

    def compute_output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def forward(self, x):
        x = as_tensor(x)
        return x.reshape(x.shape[0], -1)


# ----------------------------------------------------------------------------------------------
# images (channels-last) and embeddings


def _pair(name, v):
    pair = (v, v) if isinstance(v, int | np.integer) else tuple(v)
    if len(pair) != 2 or not all(isinstance(i, int | np.integer) and i > 0 for i in pair):
        raise ValueError(f"{name} must be a positive int or a pair of them, got {v!r}")
    return int(pair[0]), int(pair[1])


class Conv2D(Layer):
    """Keras's Conv2D on channels-last images: (N, H, W, C) -> (N, OH, OW, filters).

    Weight (kernel_h, kernel_w, C, filters), Glorot-uniform; zero bias. `padding` is 'valid'
    (no padding) or 'same' (output ceil(H / stride) rows, as Keras pads).

    >>> import numpy as np, nn
    >>> conv = nn.Conv2D(4, 3, padding="same", input_shape=(8, 8, 1))
    >>> conv.weight.shape, conv(np.zeros((2, 8, 8, 1))).shape
    ((3, 3, 1, 4), (2, 8, 8, 4))
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        activation=None,
        use_bias=True,
        input_shape=None,
        name=None,
    ):
        self.filters = int(filters)
        self.kernel_size = _pair("Conv2D: kernel_size", kernel_size)
        self.strides = _pair("Conv2D: strides", strides)
        if padding not in ("valid", "same"):
            raise ValueError(f"Conv2D: padding must be 'valid' or 'same', got {padding!r}")
        self.padding = padding
        self.activation, self._act = get_activation(activation)
        self._act = _ON_TENSOR.get(self.activation, self._act)
        self.use_bias = bool(use_bias)
        self.weight = None
        self.bias = None
        super().__init__(input_shape, name)

    def check_shape(self, input_shape):
        if len(input_shape) != 3:
            hint = (
                "; add a channel axis, e.g. x[..., None] for grey images"
                if len(input_shape) == 2
                else ""
            )
            raise ValueError(
                f"{self.describe()} expects images of shape (None, height, width, channels) "
                f"(channels last), got {(None, *input_shape)}{hint}"
            )
        if self.built and input_shape[-1] != self.input_shape[-1]:
            raise self.shape_error(self.input_shape, (None, *input_shape))
        h, w, _ = input_shape
        kh, kw = self.kernel_size
        if self.padding == "valid" and (h < kh or w < kw):
            raise ValueError(
                f"{self.describe()}: its {kh}x{kw} kernel does not fit in images of shape "
                f"{(None, *input_shape)}"
            )

    def build(self, input_shape):
        kh, kw = self.kernel_size
        c = input_shape[-1]
        w = init.glorot_uniform((kh, kw, c, self.filters), kh * kw * c, kh * kw * self.filters)
        self.weight = Tensor(w, requires_grad=True, label="weight")
        if self.use_bias:
            self.bias = Tensor(np.zeros(self.filters, np.float32), requires_grad=True, label="bias")

    def compute_output_shape(self, input_shape):
        self.check_shape(input_shape)
        h, w, _ = input_shape
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        if self.padding == "same":
            return (-(-h // sh), -(-w // sw), self.filters)
        return ((h - kh) // sh + 1, (w - kw) // sw + 1, self.filters)

    def forward(self, x):
        x = as_input(x)
        if not self.built:
            self.build_from(x.shape[1:])
        elif x.ndim != 4 or x.shape[-1] != self.weight.data.shape[2]:
            self.check_shape(x.shape[1:])
            raise self.shape_error(self.input_shape, x.shape)
        y = conv2d(x, self.weight, stride=self.strides, padding=self.padding)
        if self.bias is not None:
            y = y + self.bias
        return self._act(y)

    def extra_repr(self):
        return (
            f"{self.filters}, kernel_size={self.kernel_size}, strides={self.strides}, "
            f"padding={self.padding!r}, activation={self.activation!r}"
        )


class MaxPooling2D(Layer):
    """Max over pool_size windows of channels-last images ('valid': leftover edges dropped).

    >>> import numpy as np, nn
    >>> nn.MaxPooling2D(2)(np.zeros((1, 6, 6, 3))).shape
    (1, 3, 3, 3)
    """

    def __init__(self, pool_size=2, strides=None, padding="valid", input_shape=None, name=None):
        self.pool_size = _pair("MaxPooling2D: pool_size", pool_size)
        self.strides = (
            self.pool_size if strides is None else _pair("MaxPooling2D: strides", strides)
        )
        if padding != "valid":
            raise ValueError(f"MaxPooling2D: only padding='valid' is supported, got {padding!r}")
        self.padding = padding
        super().__init__(input_shape, name)

    def check_shape(self, input_shape):
        ph, pw = self.pool_size
        if len(input_shape) != 3 or input_shape[0] < ph or input_shape[1] < pw:
            raise ValueError(
                f"{self.describe()} expects images of shape (None, height, width, channels) "
                f"at least {ph}x{pw}, got {(None, *input_shape)}"
            )

    def compute_output_shape(self, input_shape):
        self.check_shape(input_shape)
        h, w, c = input_shape
        (ph, pw), (sh, sw) = self.pool_size, self.strides
        return ((h - ph) // sh + 1, (w - pw) // sw + 1, c)

    def forward(self, x):
        x = as_input(x)
        if x.ndim != 4 or x.shape[1] < self.pool_size[0] or x.shape[2] < self.pool_size[1]:
            self.check_shape(x.shape[1:])
        return max_pool2d(x, size=self.pool_size, stride=self.strides)

    def extra_repr(self):
        return f"pool_size={self.pool_size}, strides={self.strides}"


class Embedding(Layer):
    """Keras's Embedding: integer ids (any shape) -> rows of a (input_dim, output_dim) table.

    >>> import nn
    >>> emb = nn.Embedding(10, 4)
    >>> emb([[1, 2, 3], [3, 3, 9]]).shape
    (2, 3, 4)
    """

    int_input = True  # fit keeps integer inputs as they are for this layer

    def __init__(self, input_dim, output_dim, input_shape=None, name=None):
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        w = init.uniform((self.input_dim, self.output_dim), 0.05)  # Keras's default
        self.weight = Tensor(w, requires_grad=True, label="weight")
        super().__init__(input_shape, name)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def forward(self, x):
        ids = x.data if isinstance(x, Tensor) else np.asarray(x)
        if ids.dtype.kind == "f":
            if not np.all(ids == np.round(ids)):
                raise TypeError(f"{self.describe()} expects integer ids, got {ids.dtype} values")
            ids = ids.astype(np.int64)
        if ids.dtype.kind not in "iu":
            raise TypeError(f"{self.describe()} expects integer ids, got dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.input_dim):
            bad = ids.min() if ids.min() < 0 else ids.max()
            raise IndexError(
                f"{self.describe()}: id {bad} is out of range for input_dim={self.input_dim} "
                f"(ids must be in [0, {self.input_dim}))"
            )
        if not self.built:
            self.built = True
            self.input_shape = ids.shape[1:]
        return embedding(self.weight, ids)

    def extra_repr(self):
        return f"{self.input_dim}, {self.output_dim}"
