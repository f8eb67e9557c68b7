"""The random numbers of nn (weight initialisation, Dropout) and the initializers.

Seed them all with `nn.manual_seed(0)` for reproducible runs; fit's shuffling has its own
`seed=` argument.
"""

import math

import numpy as np

_rng = np.random.default_rng()


def manual_seed(seed):
    """Seed the generator nn's layers draw their initial weights and dropout masks from.

    >>> import nn
    >>> nn.manual_seed(0); a = nn.Dense(2, input_shape=(3,)).weight.data
    >>> nn.manual_seed(0); b = nn.Dense(2, input_shape=(3,)).weight.data
    >>> bool((a == b).all())
    True
    """
    global _rng
    _rng = np.random.default_rng(seed)


def rng():
    """The generator in use (replaced by manual_seed)."""
    return _rng


def uniform(shape, limit, dtype=np.float32):
    """Numbers drawn uniformly from [-limit, limit]."""
    return _rng.uniform(-limit, limit, size=shape).astype(dtype)


def glorot_uniform(shape, fan_in, fan_out, dtype=np.float32):
    """Keras's default kernel initializer: uniform in +-sqrt(6 / (fan_in + fan_out))."""
    return uniform(shape, math.sqrt(6.0 / (fan_in + fan_out)), dtype)
