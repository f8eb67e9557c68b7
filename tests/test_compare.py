"""autograd.compare: hand-written gradients against the engine's (makemore's cmp)."""

import numpy as np
import pytest

from autograd import Tensor, Value, compare


def _mlp():
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(4, 3)), dtype=np.float64)
    W = Tensor(rng.normal(size=(3, 2)), requires_grad=True, dtype=np.float64, label="W")
    b = Tensor(np.zeros(2), requires_grad=True, dtype=np.float64, label="b")
    h = (x @ W + b).tanh()
    loss = (h * h).mean()
    loss.backward()
    # by hand: dloss/dh = 2h/8, dh/dz = 1 - h^2
    dh = 2 * h.data / h.data.size
    dz = dh * (1 - h.data**2)
    return x, W, b, dz


def test_named_dicts_right_gradients_are_approximate():
    x, W, b, dz = _mlp()
    dW, db = x.data.T @ dz, dz.sum(axis=0)
    c = compare({"W": dW, "b": db}, {"W": W, "b": b})
    assert c.ok
    assert c["W"].approximate and c["W"].maxdiff < 1e-12
    assert [r.name for r in c] == ["W", "b"]
    assert "W | exact:" in repr(c) and "maxdiff:" in repr(c)


def test_a_wrong_gradient_is_flagged_with_its_maxdiff():
    x, W, b, dz = _mlp()
    db_wrong = dz.mean(axis=0)  # forgot that the bias gets the sum over the batch
    c = compare([(x.data.T @ dz, W), (db_wrong, b)])
    assert not c.ok
    assert c["W"].approximate and not c["b"].approximate
    assert c["b"].maxdiff == pytest.approx(np.abs(db_wrong - b.grad).max())
    assert "b | exact: False | approximate: False" in repr(c)
    assert "<table" in c._repr_html_()


def test_node_keys_and_triples_and_exact():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    (a * b).backward()
    c = compare({a: -3.0, b: 2.0})
    assert all(r.exact for r in c)
    c = compare([("da", -3.0, a), ("db", 2.5, b)])
    assert c["da"].exact and not c["db"].approximate and c["db"].maxdiff == 0.5


def test_shape_mismatch_names_gradient_and_shapes():
    x, W, b, dz = _mlp()
    with pytest.raises(ValueError, match=r"'b'.*shape \(4, 2\).*shape \(2,\)"):
        compare({"b": dz}, {"b": b})


def test_clear_errors():
    W = Tensor(np.ones(2), requires_grad=True, label="W")
    with pytest.raises(ValueError, match="no gradient yet"):
        compare({W: np.ones(2)})
    with pytest.raises(KeyError, match="not in the engine's"):
        compare({"W": 1.0}, {"V": 1.0})
    with pytest.raises(TypeError, match="one argument"):
        compare({"W": 1.0})
    with pytest.raises(ValueError, match="2 hand-written gradients but 1"):
        compare({"a": 1.0, "b": 2.0}, [1.0])
