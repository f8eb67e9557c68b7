"""Optimizers: a hand-computed step each, then several steps against torch's own numbers.

The reference numbers come from tests/fixtures/make_optim_reference.py (run with torch 2.13 in
a separate venv); this test needs no torch.
"""

import json
import math
import os

import numpy as np
import pytest

import nn
from autograd import Tensor
from nn.optim import SGD, Adam, RMSprop

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "optim_reference.json")


def test_sgd_step_by_hand():
    w = Tensor([1.0, -2.0], requires_grad=True, dtype=np.float64)
    opt = SGD([w], lr=0.1)
    (w * w).sum().backward()  # grad 2w = [2, -4]
    opt.step()
    assert w.data.tolist() == pytest.approx([0.8, -1.6])


def test_sgd_momentum_by_hand():
    w = Tensor([1.0], requires_grad=True, dtype=np.float64)
    opt = SGD([w], lr=0.1, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        (w * 3.0).sum().backward()  # constant gradient 3
        opt.step()
    # buffer: 3, then 0.9 * 3 + 3 = 5.7; w = 1 - 0.1 * 3 - 0.1 * 5.7
    assert w.data[0] == pytest.approx(1 - 0.3 - 0.57)


def test_adam_first_step_moves_by_lr():
    # at step 1, m_hat = g and v_hat = g^2, so every weight moves by lr * sign(g)
    w = Tensor([0.5, -3.0, 10.0], requires_grad=True, dtype=np.float64)
    opt = Adam([w], lr=0.01)
    (w * Tensor([2.0, -1.0, 0.001], dtype=np.float64)).sum().backward()
    opt.step()
    assert w.data.tolist() == pytest.approx([0.49, -2.99, 9.99], abs=1e-6)


def test_rmsprop_first_step_by_hand():
    w = Tensor([1.0], requires_grad=True, dtype=np.float64)
    opt = RMSprop([w], lr=0.01, alpha=0.99)
    (w * 2.0).sum().backward()
    opt.step()  # v = 0.01 * 4, step = lr * 2 / (sqrt(0.04) + eps) = 0.1
    assert w.data[0] == pytest.approx(1 - 0.01 * 2 / (math.sqrt(0.04) + 1e-8))


def _load():
    with open(FIXTURE) as f:
        return json.load(f)


REF = _load()


@pytest.mark.parametrize(
    "case", REF["cases"], ids=[f"{c['optimizer']}-{c['kwargs']}" for c in REF["cases"]]
)
def test_matches_torch(case):
    a, t = np.array(REF["A"]), np.array(REF["t"])
    w = Tensor(REF["w0"], requires_grad=True, dtype=np.float64)
    b = Tensor(REF["b0"], requires_grad=True, dtype=np.float64)
    kwargs = dict(case["kwargs"])
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    opt = getattr(nn.optim, case["optimizer"])([w, b], **kwargs)
    for i, want in enumerate(case["steps"]):
        opt.zero_grad()
        r = a @ w - t
        loss = (r * r).sum() + (b**4).sum() + w.sum() * b.sum()
        loss.backward()
        opt.step()
        np.testing.assert_allclose(w.data, want["w"], rtol=1e-10, atol=1e-12, err_msg=f"step {i}")
        np.testing.assert_allclose(b.data, want["b"], rtol=1e-10, atol=1e-12, err_msg=f"step {i}")


def test_fixture_covers_every_optimizer():
    assert {c["optimizer"] for c in REF["cases"]} == {"SGD", "Adam", "RMSprop"}
    assert REF["torch"].startswith("2.13.0")


def test_params_optional_and_bound_later():
    opt = SGD(lr=0.5)
    with pytest.raises(RuntimeError, match="SGD has no parameters"):
        opt.step()
    w = Tensor([1.0], requires_grad=True)
    opt.bind([w])
    (w * w).sum().backward()
    opt.step()
    assert w.data[0] == pytest.approx(0.0)


def test_learning_rate_may_come_first():
    assert SGD(0.3).lr == 0.3
    assert Adam().lr == 0.001 and RMSprop().lr == 0.01 and SGD().lr == 0.01
    with pytest.raises(TypeError, match="lr="):
        SGD(0.3, 0.1)


def test_module_as_params_and_skips_params_without_grad():
    layer = nn.Linear(2, 1)
    opt = SGD(layer, lr=1.0)
    before = layer.bias.data.copy()
    layer.weight.grad = np.ones((2, 1), dtype=np.float32)
    opt.step()  # bias has no gradient: left alone
    assert (layer.bias.data == before).all()


def test_bad_params_and_names():
    with pytest.raises(TypeError, match="requires_grad=True"):
        SGD([Tensor([1.0])])
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'; known: adam, rmsprop, sgd"):
        nn.optim.get("adamw")
    with pytest.raises(ValueError, match="nesterov"):
        SGD(lr=0.1, nesterov=True)
