"""Optimizers with PyTorch's update formulas: SGD (momentum, Nesterov), Adam, RMSprop.

Parameters are optional at construction: `compile` binds a model's parameters. Updates are in
place on each parameter's `data`, from its `grad` (parameters without a gradient are skipped).
"""

import math
import numbers

import numpy as np

from autograd import Tensor

_UNSET = object()


class Optimizer:
    """Base class: holds the parameters and per-parameter state; subclasses write `update`."""

    def __init__(self, params, lr, lr_default):
        if isinstance(params, numbers.Real):  # SGD(0.1): the learning rate, given first
            if lr is not _UNSET:
                raise TypeError(
                    f"{type(self).__name__}: got a number {params!r} where the parameters go "
                    "and a learning rate too; give the learning rate as lr=..."
                )
            params, lr = None, params
        self.lr = float(lr_default if lr is _UNSET else lr)
        if self.lr < 0:
            raise ValueError(f"{type(self).__name__}: lr must be >= 0, got {self.lr}")
        self.params = None
        self.state = []
        if params is not None:
            self.bind(params)

    def bind(self, params):
        """Use these parameters (a Module or Tensors) from now on; resets the state."""
        if hasattr(params, "parameters") and callable(params.parameters):
            params = params.parameters()
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(
                    f"{type(self).__name__}: parameters must be Tensors with requires_grad=True, "
                    f"got {p!r}"
                )
        self.params = params
        self.state = [{} for _ in params]
        return self

    def zero_grad(self):
        """Forget the parameters' gradients (they accumulate across backward calls)."""
        for p in self.params or ():
            p.grad = None

    def step(self):
        """Update every parameter that has a gradient."""
        if self.params is None:
            raise RuntimeError(
                f"{type(self).__name__} has no parameters: pass model.parameters() when making "
                "it, or compile a model with it"
            )
        for p, state in zip(self.params, self.state):
            if p.grad is not None:
                self.update(p.data, np.asarray(p.grad, dtype=p.data.dtype), state)

    def update(self, p, g, state):
        raise NotImplementedError

    def __repr__(self):
        fields = ", ".join(f"{k}={v}" for k, v in self._config().items())
        return f"{type(self).__name__}({fields})"

    def _config(self):
        return {"lr": self.lr}


class SGD(Optimizer):
    """Stochastic gradient descent, as torch.optim.SGD.

    g += weight_decay * p; with momentum: b = momentum * b + (1 - dampening) * g (b = g at the
    first step), then g = g + momentum * b (Nesterov) or g = b; finally p -= lr * g.

    >>> from autograd import Tensor
    >>> w = Tensor([1.0, -2.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w.data     # w - 0.1 * 2w
    array([ 0.8, -1.6], dtype=float32)
    """

    def __init__(
        self, params=None, lr=_UNSET, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False
    ):
        super().__init__(params, lr, 0.01)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening = 0")
        self.momentum, self.dampening = float(momentum), float(dampening)
        self.weight_decay, self.nesterov = float(weight_decay), bool(nesterov)

    def update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = g.copy()
            else:
                b *= self.momentum
                b += (1 - self.dampening) * g
            g = g + self.momentum * b if self.nesterov else b
        p -= self.lr * g

    def _config(self):
        return {"lr": self.lr, "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam, as torch.optim.Adam.

    m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; at step t,
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)  (amsgrad: v's running max).
    """

    def __init__(
        self,
        params=None,
        lr=_UNSET,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        amsgrad=False,
    ):
        super().__init__(params, lr, 0.001)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps, self.weight_decay, self.amsgrad = float(eps), float(weight_decay), bool(amsgrad)

    def update(self, p, g, state):
        b1, b2 = self.betas
        if self.weight_decay:
            g = g + self.weight_decay * p
        if not state:
            state.update(step=0, m=np.zeros_like(p), v=np.zeros_like(p))
            if self.amsgrad:
                state["v_max"] = np.zeros_like(p)
        state["step"] = t = state["step"] + 1
        m, v = state["m"], state["v"]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        if self.amsgrad:
            np.maximum(state["v_max"], v, out=state["v_max"])
            v = state["v_max"]
        denom = np.sqrt(v) / math.sqrt(1 - b2**t) + self.eps
        p -= (self.lr / (1 - b1**t)) * (m / denom)

    def _config(self):
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps}


class RMSprop(Optimizer):
    """RMSprop, as torch.optim.RMSprop.

    v = alpha v + (1 - alpha) g^2; a = sqrt(v - gm^2 if centered else v) + eps, with gm the
    running mean of g; p -= lr * g / a, or with momentum: b = momentum b + g / a, p -= lr b.
    """

    def __init__(
        self,
        params=None,
        lr=_UNSET,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0.0,
        momentum=0.0,
        centered=False,
    ):
        super().__init__(params, lr, 0.01)
        self.alpha, self.eps, self.weight_decay = float(alpha), float(eps), float(weight_decay)
        self.momentum, self.centered = float(momentum), bool(centered)

    def update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if not state:
            state.update(v=np.zeros_like(p), gm=np.zeros_like(p), b=np.zeros_like(p))
        v = state["v"]
        v *= self.alpha
        v += (1 - self.alpha) * (g * g)
        if self.centered:
            gm = state["gm"]
            gm *= self.alpha
            gm += (1 - self.alpha) * g
            avg = np.sqrt(v - gm * gm) + self.eps
        else:
            avg = np.sqrt(v) + self.eps
        if self.momentum > 0:
            b = state["b"]
            b *= self.momentum
            b += g / avg
            p -= self.lr * b
        else:
            p -= self.lr * (g / avg)

    def _config(self):
        return {"lr": self.lr, "alpha": self.alpha, "momentum": self.momentum}


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}


def get(optimizer):
    """An optimizer from a name ('sgd', 'adam', 'rmsprop', with default settings) or as given.

    >>> get("adam")
    Adam(lr=0.001, betas=(0.9, 0.999), eps=1e-08)
    """
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str):
        cls = OPTIMIZERS.get(optimizer.lower())
        if cls is None:
            raise ValueError(
                f"unknown optimizer {optimizer!r}; known: {', '.join(sorted(OPTIMIZERS))} "
                "(or pass an optimizer such as nn.optim.Adam(lr=0.01))"
            )
        return cls()
    raise TypeError(f"optimizer must be a name or an nn.optim optimizer, got {optimizer!r}")
