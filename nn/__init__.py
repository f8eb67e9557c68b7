"""stepgrad's neural-network layer on the autograd engine: modules, layers, losses, training.

PyTorch-style `Module`s and Keras-style `Sequential.compile/fit/evaluate`, built only on the
public API of `autograd`.

>>> import numpy as np, nn
>>> nn.manual_seed(0)
>>> model = nn.Sequential([nn.Dense(2, activation="sigmoid", input_shape=(3,)),
...                        nn.Dense(1, activation="sigmoid")])
>>> model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
>>> [name for name, p in model.named_parameters()]
['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']
"""

from . import (
    _clash,  # noqa: F401 - first: HIPS autograd shares the import name (one clear line)
    callbacks,
    data,
    export,  # imports torch/onnx only when a function needs them
    init,
    losses,
    metrics,
    optim,
    scalar,
)
from .functional import Add, Concatenate, Input, InputLayer, KerasTensor, Model
from .init import manual_seed
from .layers import (
    Conv2D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    Layer,
    Linear,
    MaxPooling2D,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .module import Module
from .sequential import Sequential

__all__ = [
    "Add",
    "Concatenate",
    "Input",
    "InputLayer",
    "KerasTensor",
    "Model",
    "Conv2D",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "Layer",
    "Linear",
    "MaxPooling2D",
    "Module",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "callbacks",
    "data",
    "export",
    "init",
    "losses",
    "manual_seed",
    "metrics",
    "optim",
    "scalar",
]
