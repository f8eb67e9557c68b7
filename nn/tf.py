"""A stand-in for the few `tf.` names that Keras examples use, so they run on stepgrad unchanged.

`from nn import tf` in place of `import tensorflow as tf`: `tf.keras.Sequential`,
`tf.keras.Model`, `tf.keras.Input`, `tf.keras.layers.Dense` (and the other nn layers),
`tf.keras.callbacks`, `tf.keras.optimizers`, `tf.keras.losses` are stepgrad's; `tf.random.normal`
and `tf.random.uniform` give float32 numpy arrays. Nothing of TensorFlow itself is here.

>>> import nn
>>> from nn import tf
>>> tf.random.normal((100, 3)).shape, tf.keras.layers.Dense is nn.Dense
((100, 3), True)
"""

from types import SimpleNamespace

import numpy as np

from . import callbacks, functional, layers, losses, optim
from .init import rng
from .sequential import Sequential


def _normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None):
    gen = rng() if seed is None else np.random.default_rng(seed)
    return gen.normal(mean, stddev, size=tuple(shape)).astype(dtype)


def _uniform(shape, minval=0.0, maxval=1.0, dtype="float32", seed=None):
    gen = rng() if seed is None else np.random.default_rng(seed)
    return gen.uniform(minval, maxval, size=tuple(shape)).astype(dtype)


random = SimpleNamespace(normal=_normal, uniform=_uniform)

keras = SimpleNamespace(
    Sequential=Sequential,
    Model=functional.Model,
    Input=functional.Input,
    layers=SimpleNamespace(
        Dense=layers.Dense,
        Conv2D=layers.Conv2D,
        MaxPooling2D=layers.MaxPooling2D,
        Flatten=layers.Flatten,
        Dropout=layers.Dropout,
        Embedding=layers.Embedding,
        ReLU=layers.ReLU,
        Softmax=layers.Softmax,
        Add=functional.Add,
        Concatenate=functional.Concatenate,
        Input=functional.Input,
    ),
    callbacks=callbacks,
    optimizers=SimpleNamespace(SGD=optim.SGD, Adam=optim.Adam, RMSprop=optim.RMSprop),
    losses=losses,
)
