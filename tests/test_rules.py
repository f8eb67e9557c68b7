"""One gradient check over the whole rule table, on Value and Tensor where the rule applies.

Every rule in `autograd.ops.RULES` must have at least one case here (a test fails otherwise),
and each case must really build a node of that rule. Checks run in float64 against central
differences with a random upstream gradient (see `gradcheck`), with per-op input domains.
"""

import numpy as np
import pytest

from autograd import (
    Tensor,
    Value,
    concatenate,
    conv2d,
    embedding,
    gradcheck,
    max_pool2d,
    maximum,
    ops,
    stack,
    toposort,
)


class V:
    """A case on Values: f of the given floats."""

    def __init__(self, f, *xs):
        self.f, self.xs = f, xs

    def inputs(self, rng):
        return [Value(x) for x in self.xs]


class T:
    """A case on Tensors: f of random arrays of the given shapes, drawn from [low, high]."""

    def __init__(self, f, *shapes, low=-2.0, high=2.0, away_from_zero=False):
        self.f, self.shapes, self.low, self.high = f, shapes, low, high
        self.away = away_from_zero

    def inputs(self, rng):
        xs = []
        for s in self.shapes:
            x = rng.uniform(self.low, self.high, size=s)
            if self.away:  # keep |x| >= 0.3 where a derivative has a kink or pole at 0
                x = np.where(np.abs(x) < 0.3, np.sign(x + 1e-12) * 0.3 + x, x)
            xs.append(Tensor(x, requires_grad=True, dtype=np.float64))
        return xs


POS = {"low": 0.5, "high": 2.0}
IDX = np.array([2, 0, 2, 1])

CASES = {
    "add": [
        V(lambda a, b: a + b, 1.5, -0.7),
        V(lambda a: 3 + a, 0.2),
        T(lambda a, b: a + b, (2, 3), (2, 3)),
        T(lambda a, b: a + b, (2, 3), (3,)),  # a bias: its gradient summed by add itself
    ],
    "sub": [
        V(lambda a, b: a - b, 1.5, -0.7),
        V(lambda a: 3 - a, 0.2),
        T(lambda a, b: a - b, (3,), (3,)),
        T(lambda a, b: a - b, (2, 1), (2, 4)),
    ],
    "mul": [
        V(lambda a, b: a * b, 1.5, -0.7),
        V(lambda a: a * a, 0.4),
        T(lambda a, b: a * b, (2, 3), (2, 3)),
        T(lambda a, b: a * b, (4, 2, 3), (2, 1)),
    ],
    "div": [
        V(lambda a, b: a / b, 1.5, -0.7),
        V(lambda a: 2 / a, 0.9),
        T(lambda a, b: a / b, (4,), (4,), **POS),
        T(lambda a, b: a / b, (3,), (2, 3), **POS),
    ],
    "pow": [V(lambda a: a**3, 1.3), V(lambda a: a**-0.5, 1.7), T(lambda a: a**2.5, (2, 2), **POS)],
    "rpow": [V(lambda a: 2.0**a, 0.7), T(lambda a: 3.0**a, (3,))],
    "pow_var": [
        V(lambda a, b: a**b, 1.4, 0.6),
        T(lambda a, b: a**b, (3,), (3,), **POS),
        T(lambda a, b: a**b, (2, 3), (3,), **POS),
    ],
    "maximum": [
        T(lambda a, b: maximum(a, b), (2, 3), (2, 3)),
        T(lambda a, b: maximum(a, b), (2, 3), (1, 3)),
        T(lambda a: a.maximum(0.1), (5,)),
    ],
    "neg": [V(lambda a: -a, 0.3), T(lambda a: -a, (3,))],
    "abs": [V(lambda a: abs(a), -0.8), T(lambda a: a.abs(), (2, 3), away_from_zero=True)],
    "exp": [V(lambda a: a.exp(), 0.3), T(lambda a: a.exp(), (3, 2))],
    "log": [V(lambda a: a.log(), 1.7), T(lambda a: a.log(), (3,), **POS)],
    "sqrt": [V(lambda a: a.sqrt(), 1.7), T(lambda a: a.sqrt(), (3,), **POS)],
    "tanh": [V(lambda a: a.tanh(), 0.4), T(lambda a: a.tanh(), (3,))],
    "sigmoid": [V(lambda a: a.sigmoid(), -0.4), T(lambda a: a.sigmoid(), (2, 3))],
    "relu": [
        V(lambda a: a.relu(), 0.9),
        V(lambda a: a.relu(), -0.9),
        T(lambda a: a.relu(), (4, 2), away_from_zero=True),
    ],
    "clip": [T(lambda a: a.clip(-1.0, 1.0), (6,), away_from_zero=True)],
    "sum": [
        T(lambda a: a.sum(), (2, 3)),
        T(lambda a: a.sum(axis=0), (2, 3)),
        T(lambda a: a.sum(axis=(0, 2), keepdims=True), (2, 3, 2)),
    ],
    "mean": [T(lambda a: a.mean(), (2, 3)), T(lambda a: a.mean(axis=-1, keepdims=True), (2, 3))],
    "max": [T(lambda a: a.max(), (2, 3)), T(lambda a: a.max(axis=1), (3, 4))],
    "min": [T(lambda a: a.min(axis=0, keepdims=True), (3, 4))],
    "broadcast_to": [
        T(lambda a, b: a + b, (2, 1), (3,)),  # neither operand has the result's shape
        T(lambda a: a.broadcast_to((4, 2, 3)), (2, 1)),
    ],
    "reshape": [T(lambda a: a.reshape(3, 2), (2, 3)), T(lambda a: a.reshape(-1), (2, 2))],
    "transpose": [T(lambda a: a.T, (2, 3)), T(lambda a: a.transpose(1, 2, 0), (2, 3, 4))],
    "getitem": [
        T(lambda a: a[1], (3, 2)),
        T(lambda a: a[:, 1:], (2, 3)),
        T(lambda a: a[IDX], (3, 2)),
        T(lambda a: a[np.arange(4), IDX], (4, 3)),
    ],
    "scatter": [T(lambda a: ops.scatter(a, shape=(4, 2), index=np.array([0, 3, 0])), (3, 2))],
    "concatenate": [T(lambda a, b: concatenate([a, b], axis=1), (2, 3), (2, 2))],
    "stack": [T(lambda a, b: stack([a, b], axis=-1), (2, 3), (2, 3))],
    "matmul": [
        T(lambda a, b: a @ b, (2, 3), (3, 4)),
        T(lambda a, b: a @ b, (3,), (3, 2)),
        T(lambda a, b: a @ b, (2, 3), (3,)),
        T(lambda a, b: a @ b, (3,), (3,)),
        T(lambda a, b: a @ b, (2, 2, 3), (3, 2)),
    ],
    "softmax": [T(lambda a: a.softmax(), (2, 4)), T(lambda a: a.softmax(axis=0), (3, 2))],
    "log_softmax": [
        T(lambda a: a.log_softmax(), (2, 4)),
        T(lambda a: a.log_softmax(axis=0), (3, 2)),
    ],
    # convolution, pooling, embedding (nn layers): images channels-last (N, H, W, C)
    "conv2d": [
        T(lambda x, w: conv2d(x, w), (2, 4, 5, 2), (3, 2, 2, 3)),
        T(lambda x, w: conv2d(x, w, stride=2, padding=1), (1, 5, 4, 2), (3, 3, 2, 2)),
        T(lambda x, w: conv2d(x, w, stride=(2, 1), padding="same"), (2, 4, 3, 1), (2, 3, 1, 2)),
    ],
    "max_pool2d": [
        T(lambda x: max_pool2d(x), (2, 4, 5, 3)),
        T(lambda x: max_pool2d(x, size=3, stride=1), (1, 4, 4, 2)),  # overlapping windows
    ],
    "embedding": [T(lambda w: embedding(w, np.array([[1, 3, 1], [0, 3, 3]])), (4, 3))],
}


def _all_cases():
    for name, cases in CASES.items():
        for i, case in enumerate(cases):
            yield pytest.param(name, case, id=f"{name}-{type(case).__name__}{i}")


def test_every_rule_has_a_case():
    missing = sorted(set(ops.RULES) - set(CASES))
    assert not missing, f"rules without a gradient case in tests/test_rules.py: {missing}"


@pytest.mark.parametrize("name,case", list(_all_cases()))
def test_rule_gradient(name, case):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    xs = case.inputs(rng)
    rule = ops.RULES[name]
    y = case.f(*xs)
    assert rule in {n._op for n in toposort(y)}, f"case for {name} never builds a {name} node"
    assert gradcheck(case.f, *xs)


def test_table_covers_both_front_ends():
    scalar_rules = {"add", "sub", "mul", "div", "pow", "rpow", "pow_var", "neg", "abs", "exp"}
    scalar_rules |= {"log", "sqrt", "tanh", "sigmoid", "relu"}
    for name in scalar_rules:
        kinds = {type(c).__name__ for c in CASES[name]}
        assert kinds == {"V", "T"}, f"{name} should be checked on Value and on Tensor"
