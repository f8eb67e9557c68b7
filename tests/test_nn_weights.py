"""save_weights / load_weights: round trip, every refusal (model left unchanged), atomic writes."""

import os

import numpy as np
import pytest

import nn


def model(units=2, seed=0):
    nn.manual_seed(seed)
    return nn.Sequential(
        [nn.Dense(units, activation="relu", input_shape=(3,)), nn.Dense(1, activation="sigmoid")]
    )


def test_round_trip(tmp_path):
    a, b = model(seed=0), model(seed=1)
    path = tmp_path / "w.npz"
    a.save_weights(path)
    b.load_weights(path)
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb and np.array_equal(pa.data, pb.data)
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_array_equal(a.predict(x), b.predict(x))


def test_file_holds_plain_arrays_by_dotted_name(tmp_path):
    path = tmp_path / "w.npz"
    model().save_weights(str(path))
    with np.load(path, allow_pickle=False) as f:
        assert sorted(f.files) == [
            "layers.0.bias",
            "layers.0.weight",
            "layers.1.bias",
            "layers.1.weight",
        ]
        assert f["layers.0.weight"].shape == (3, 2)
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]  # no temporary file left


def _unchanged_after(m, call):
    before = m.get_weights()
    call()
    for got, want in zip(m.get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_refuses_other_shapes_naming_the_parameter(tmp_path):
    path = tmp_path / "w.npz"
    model(units=4).save_weights(path)
    m = model(units=2)
    with pytest.raises(ValueError, match=r"'layers.0.weight' has shape \(3, 2\).*\(3, 4\)"):
        _unchanged_after(m, lambda: m.load_weights(path))
    _unchanged_after(m, lambda: pytest.raises(ValueError, m.load_weights, path))


def test_refuses_missing_and_extra_names(tmp_path):
    m = model()
    w = {n: p.data for n, p in m.named_parameters()}
    missing = dict(w)
    del missing["layers.1.bias"]
    np.savez(tmp_path / "missing.npz", **missing)
    extra = dict(w, **{"layers.2.weight": np.zeros(2)})
    np.savez(tmp_path / "extra.npz", **extra)
    with pytest.raises(ValueError, match="has no array for parameter 'layers.1.bias'"):
        m.load_weights(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="holds 'layers.2.weight', which is not a parameter"):
        m.load_weights(tmp_path / "extra.npz")
    # a shape error late in the list leaves earlier parameters untouched too
    late = dict(w, **{"layers.1.bias": np.zeros(3)})
    np.savez(tmp_path / "late.npz", **late)
    _unchanged_after(m, lambda: pytest.raises(ValueError, m.load_weights, tmp_path / "late.npz"))


def test_refuses_pickled_objects(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"layers.0.weight": np.array([object()], dtype=object)})
    with pytest.raises(ValueError, match="allow_pickle"):
        model().load_weights(path)


def test_unbuilt_model_refuses(tmp_path):
    lazy = nn.Sequential([nn.Dense(2)])
    with pytest.raises(ValueError, match="has no weights yet"):
        lazy.save_weights(tmp_path / "w.npz")
    with pytest.raises(ValueError, match="has no weights yet"):
        lazy.load_weights(tmp_path / "w.npz")


def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    good = model(seed=0)
    good.save_weights(path)
    before = path.read_bytes()

    def crash(f, **arrays):  # write half a file, then fail, as a full disk or a kill would
        f.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        model(seed=1).save_weights(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["w.npz"]  # the temporary file is cleaned up
    monkeypatch.undo()
    other = model(seed=1)
    other.load_weights(path)
    np.testing.assert_array_equal(other.get_weights()[0], good.get_weights()[0])
