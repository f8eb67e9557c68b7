"""The road out: stepgrad -> torch -> stepgrad and stepgrad -> ONNX -> onnxruntime, for the digits
MLP and notebook 05's Conv2D net, outputs (and, with torch, gradients) equal; safetensors weights.

torch, onnx, onnxruntime and safetensors are extras that ./dev.sh test installs; run outside
dev.sh without them, these tests skip (and say which package is missing)."""

import os

import numpy as np
import pytest

import nn

UNDER_DEV_SH = os.environ.get("STEPGRAD_DEV_SH") == "1"


def need(name):
    if UNDER_DEV_SH:  # ./dev.sh test installs every extra: a missing one is a failure there
        return __import__(name)
    return pytest.importorskip(name)


@pytest.fixture(scope="module")
def digits():
    x, y = nn.data.load_digits()
    return x.astype(np.float32), y


@pytest.fixture(scope="module")
def images():
    x, y = nn.data.load_digits(images=True)
    return x.astype(np.float32), y


def digits_mlp(x, y):
    nn.manual_seed(0)
    model = nn.Sequential([nn.Dense(64, activation="relu"), nn.Dense(10, activation="softmax")])
    model.compile(optimizer=nn.optim.Adam(lr=0.005), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0, seed=0)
    return model


def conv_net(x, y):
    """Notebook 05's Conv2D net."""
    nn.manual_seed(0)
    model = nn.Sequential(
        [
            nn.Conv2D(16, 3, activation="relu", input_shape=(8, 8, 1)),
            nn.MaxPooling2D(2),
            nn.Flatten(),
            nn.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer=nn.optim.Adam(lr=0.005), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0, seed=0)
    return model


# ----------------------------------------------------------------------------------------------
# torch


def _torch_grads(torch, module, x, y):
    module.zero_grad()
    out = module(torch.from_numpy(x))
    loss = torch.nn.functional.nll_loss(torch.log(out.clamp(1e-7, 1 - 1e-7)), torch.from_numpy(y))
    loss.backward()
    return out.detach().numpy(), {k: p.grad.numpy() for k, p in module.named_parameters()}


def _stepgrad_grads(model, x, y):
    model.zero_grad()
    out = model(x)
    model.loss(y, out).backward()
    return out.data, model


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_to_torch_outputs_and_gradients_agree(kind, digits, images):
    torch = need("torch")
    x, y = digits if kind == "mlp" else images
    model = digits_mlp(x, y) if kind == "mlp" else conv_net(x, y)
    module = nn.export.to_torch(model)
    assert isinstance(module, torch.nn.Module)
    xb, yb = x[:64], y[:64].astype(np.int64)
    model.train()
    module.train()
    want, _ = _stepgrad_grads(model, xb, yb)
    got, grads = _torch_grads(torch, module, xb, yb)
    np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)
    # each torch gradient is the stepgrad one in torch's layout
    for layer in model.layers:
        for attr in ("weight", "bias"):
            p = getattr(layer, attr, None)
            if p is None:
                continue
            g = grads[f"{layer.name}.{attr}"]
            if attr == "weight" and isinstance(layer, nn.Dense):
                g = g.T
            elif attr == "weight" and isinstance(layer, nn.Conv2D):
                g = g.transpose(2, 3, 1, 0)
            np.testing.assert_allclose(g, p.grad, atol=1e-6, rtol=0)


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_stepgrad_torch_stepgrad_round_trip(kind, digits, images):
    need("torch")
    x, y = digits if kind == "mlp" else images
    model = digits_mlp(x, y) if kind == "mlp" else conv_net(x, y)
    back = nn.export.from_torch(
        nn.export.to_torch(model), input_shape=None if kind == "mlp" else (8, 8, 1)
    )
    assert [type(a) for a in back.layers] == [type(a) for a in model.layers]
    assert [a.activation for a in back.layers if isinstance(a, nn.Dense)] == [
        a.activation for a in model.layers if isinstance(a, nn.Dense)
    ]
    np.testing.assert_array_equal(back.predict(x[:200]), model.predict(x[:200]))
    # and load_state_dict into a fresh model of the same shape
    fresh = conv_net(x, y) if kind == "conv" else digits_mlp(x, y)
    fresh.set_weights([w * 0 for w in fresh.get_weights()])
    fresh.load_state_dict(nn.export.to_torch(model).state_dict())
    np.testing.assert_array_equal(fresh.predict(x[:50]), model.predict(x[:50]))


def test_from_torch_takes_a_plain_channels_first_model(images):
    torch = need("torch")
    x, _ = images
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(6 * 4 * 4, 10),
    ).eval()
    model = nn.export.from_torch(module, input_shape=(8, 8, 1))
    with torch.no_grad():
        want = module(torch.from_numpy(x[:100].transpose(0, 3, 1, 2).copy())).numpy()
    np.testing.assert_allclose(model.predict(x[:100]), want, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match=r"give input_shape=\(height, width, channels\)"):
        nn.export.from_torch(module)


def test_load_state_dict_is_all_or_nothing(digits):
    need("torch")
    x, y = digits
    model = digits_mlp(x, y)
    sd = nn.export.to_torch(model).state_dict()
    before = model.get_weights()
    first, second = (layer.name for layer in model.layers)
    bad = dict(sd)
    bad[f"{second}.bias"] = bad[f"{second}.bias"][:3]
    with pytest.raises(ValueError, match=r"'layers.1.bias' has shape \(10,\), got .* \(3,\)"):
        model.load_state_dict(bad)
    missing = dict(sd)
    del missing[f"{first}.weight"]
    with pytest.raises(ValueError, match=rf"no '{first}.weight' in the state dict"):
        model.load_state_dict(missing)
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_to_torch_refuses_what_it_cannot_carry():
    need("torch")
    a = nn.Input(shape=(3,))
    with pytest.raises(TypeError, match="only nn.Sequential models are supported"):
        nn.export.to_torch(nn.Model(a, nn.Dense(1)(a)))
    custom = nn.Sequential([nn.Dense(2, activation=lambda t: t * 2, input_shape=(3,))])
    with pytest.raises(TypeError, match="custom activation"):
        nn.export.to_torch(custom)


# ----------------------------------------------------------------------------------------------
# ONNX


def run_onnx(path, feeds):
    onnx = need("onnx")
    ort = need("onnxruntime")
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_onnx_round_trip(kind, digits, images, tmp_path):
    x, y = digits if kind == "mlp" else images
    model = digits_mlp(x, y) if kind == "mlp" else conv_net(x, y)
    path = tmp_path / "model.onnx"
    need("onnx")
    model.export_onnx(path)
    got = run_onnx(path, {"input": x[:300]})
    np.testing.assert_allclose(got, model.predict(x[:300]), atol=1e-5, rtol=0)
    assert os.listdir(tmp_path) == ["model.onnx"]


def test_onnx_every_layer_kind(tmp_path):
    """Dense, Conv2D ('same', stride 2), MaxPooling2D, Flatten, Dropout, Embedding, activations."""
    need("onnx")
    rng = np.random.default_rng(0)
    nn.manual_seed(1)
    conv = nn.Sequential(
        [
            nn.Conv2D(4, 3, strides=2, padding="same", activation="tanh", input_shape=(9, 9, 2)),
            nn.Conv2D(3, 2, activation="sigmoid"),
            nn.MaxPooling2D(2),
            nn.Flatten(),
            nn.Dropout(0.5),
            nn.Dense(5),
            nn.ReLU(),
            nn.Dense(3, activation="softmax"),
        ]
    )
    x = rng.normal(size=(7, 9, 9, 2)).astype(np.float32)
    conv.export_onnx(tmp_path / "conv.onnx")
    np.testing.assert_allclose(
        run_onnx(tmp_path / "conv.onnx", {"input": x}), conv.predict(x), atol=1e-5, rtol=0
    )
    emb = nn.Sequential([nn.Embedding(12, 4), nn.Flatten(), nn.Dense(2)])
    ids = rng.integers(0, 12, size=(6, 5))
    emb.predict(ids)  # builds it
    emb.export_onnx(tmp_path / "emb.onnx")
    np.testing.assert_allclose(
        run_onnx(tmp_path / "emb.onnx", {"input": ids.astype(np.int64)}),
        emb.predict(ids),
        atol=1e-5,
        rtol=0,
    )


def test_onnx_functional_model_with_two_inputs_and_a_skip(tmp_path):
    need("onnx")
    nn.manual_seed(0)
    a, b = nn.Input(shape=(4,), name="a"), nn.Input(shape=(2,), name="b")
    h = nn.Dense(4, activation="relu")(a) + a
    model = nn.Model([a, b], nn.Dense(1)(nn.Concatenate()([h, b])))
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(9, 4)).astype(np.float32), rng.normal(size=(9, 2)).astype(np.float32)
    model.export_onnx(tmp_path / "f.onnx")
    got = run_onnx(tmp_path / "f.onnx", {"a": xa, "b": xb})
    np.testing.assert_allclose(got, model.predict([xa, xb]), atol=1e-5, rtol=0)


# ----------------------------------------------------------------------------------------------
# safetensors


def small():
    nn.manual_seed(0)
    return nn.Sequential([nn.Dense(3, activation="relu", input_shape=(4,)), nn.Dense(1)])


def test_safetensors_round_trip_and_torch_can_read_it(tmp_path):
    need("safetensors")
    a, b = small(), small()
    b.set_weights([w + 1 for w in b.get_weights()])
    path = tmp_path / "w.safetensors"
    a.save_weights(path)
    b.load_weights(path)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    from safetensors.numpy import load_file

    assert sorted(load_file(str(path))) == sorted(n for n, _ in a.named_parameters())


def test_safetensors_refusals_leave_the_model_unchanged(tmp_path):
    need("safetensors")
    from safetensors.numpy import save_file

    m = small()
    before = m.get_weights()
    good = {n: p.data for n, p in m.named_parameters()}
    cases = {
        "shape": (dict(good, **{"layers.1.bias": np.zeros(2, np.float32)}), r"has shape \(1,\)"),
        "complex": (
            dict(good, **{"layers.0.bias": np.zeros(3, np.complex64)}),
            "complex|not a valid safetensors",
        ),
        "extra": (dict(good, extra=np.zeros(1, np.float32)), "holds 'extra'"),
    }
    for name, (arrays, match) in cases.items():
        path = tmp_path / f"{name}.safetensors"
        try:
            save_file(arrays, str(path))
        except Exception:  # this safetensors cannot even write complex numbers
            continue
        with pytest.raises((ValueError, TypeError), match=match):
            m.load_weights(path)
    (tmp_path / "junk.safetensors").write_bytes(b"\x07" * 40)
    with pytest.raises(ValueError, match=r"load_weights: .*junk.safetensors .*not a valid"):
        m.load_weights(tmp_path / "junk.safetensors")
    for got, want in zip(m.get_weights(), before):
        np.testing.assert_array_equal(got, want)
