"""Keras parity: the seed document's example exactly as printed, Keras 3's output, every callback
trained for real, History.params, summary/get_layer, the functional model, and the nn items of
issue 9 (all-or-nothing weights, clear load_weights errors, batch sizes, a non-finite loss)."""

import csv
import math
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

import nn

ROOT = Path(__file__).resolve().parents[1]
SEED_DIRS = [ROOT.parent / "shared" / "seed", ROOT.parents[1] / "shared" / "seed"]
LINE = r"4/4 ━{20} \d+s \d+[mu]?s/step - accuracy: \d\.\d{4} - loss: -?\d\.\d{4}"


def seed_example():
    """The seed document's Keras code block, as it prints it."""
    for folder in SEED_DIRS:
        for path in sorted(folder.glob("*.txt")) if folder.is_dir() else ():
            text = path.read_text(encoding="utf-8")
            for block in re.findall(r"```python\n(.*?)```", text, re.S):
                if "tf.keras.Sequential" in block:
                    return block
    pytest.skip(f"the seed document is not beside the repository (looked in {SEED_DIRS})")


def run_seed(code, capsys):
    nn.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(code, "seed_example.py", "exec"), {})
    return capsys.readouterr().out, [str(w.message) for w in caught]


def test_seed_example_exactly_as_printed_with_only_the_import_changed(capsys):
    code = seed_example()
    assert "import tensorflow as tf\n" in code and "tf.random.normal((100, 1))" in code
    code = code.replace("import tensorflow as tf\n", "from nn import tf\n")
    assert [ln for ln in code.splitlines() if "import" in ln] == ["from nn import tf"]
    out, caught = run_seed(code, capsys)
    lines = out.splitlines()
    # as Keras 3 prints it: a header and a progress line per epoch, then evaluate's line
    assert [ln for ln in lines if ln.startswith("Epoch")] == [f"Epoch {i}/10" for i in range(1, 11)]
    assert sum(bool(re.fullmatch(LINE, ln)) for ln in lines) == 11, out
    assert len(lines) == 21
    # labels from a normal distribution: one warning, naming the range it saw
    ranges = [m for m in caught if "outside [0, 1]" in m]
    assert len(ranges) == 1 and re.search(r"labels range from -\d\.\d+ to \d\.\d+", ranges[0])


def test_seed_example_with_nn_names(capsys):
    """The issue's form: `import nn`, nn.Sequential, nn.Dense, numpy's normal for the data."""
    code = seed_example()
    code = code.replace("import tensorflow as tf\n", "import numpy as np\nimport nn\n")
    code = code.replace("tf.keras.Sequential", "nn.Sequential")
    code = code.replace("tf.keras.layers.Dense", "nn.Dense")
    code = re.sub(r"tf\.random\.normal\((\(\d+, \d+\))\)", r"np.random.normal(size=\1)", code)
    assert "tf." not in code
    out, caught = run_seed(code, capsys)
    assert "Epoch 10/10" in out and sum(bool(re.fullmatch(LINE, ln)) for ln in out.splitlines())
    assert sum("outside [0, 1]" in m for m in caught) == 1


def test_bce_outside_unit_range_computes_the_formula():
    from autograd import Tensor

    p = Tensor([[0.8], [0.3]])
    y = np.array([[2.0], [-0.5]])
    with pytest.warns(UserWarning, match=r"from -0\.5 to 2"):
        got = nn.losses.binary_crossentropy(y, p).item()
    want = -np.mean(y * np.log([[0.8], [0.3]]) + (1 - y) * np.log([[0.2], [0.7]]))
    assert got == pytest.approx(want, rel=1e-6)


# ----------------------------------------------------------------------------------------------
# output in a terminal: run fit under a pseudo-terminal and read what it draws


def test_progress_in_a_terminal_redraws_one_line_per_epoch(tmp_path):
    import os
    import pty
    import subprocess
    import sys

    script = (
        "import numpy as np, nn\n"
        "nn.manual_seed(0)\n"
        "x = np.random.default_rng(0).normal(size=(3000, 3)); y = (x[:, 0] > 0) * 1.0\n"
        "m = nn.Sequential([nn.Dense(16, activation='relu', input_shape=(3,)),"
        " nn.Dense(1, activation='sigmoid')])\n"
        "m.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])\n"
        "import time\n"
        "class Slow(nn.callbacks.Callback):\n"
        "    def on_batch_end(self, batch, logs=None): time.sleep(0.004)\n"
        "m.fit(x, y, epochs=2, batch_size=32, callbacks=[Slow()])\n"
    )
    main, sub = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=sub, stderr=sub, cwd=ROOT, close_fds=True
    )
    os.close(sub)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(main)
    text = b"".join(chunks).decode()
    assert proc.returncode == 0, text
    frames = [f.strip() for f in re.split(r"[\r\n]+", text) if f.strip()]
    assert frames[0] == "Epoch 1/2"
    partial = [f for f in frames if re.match(r"\d+/94 ", f) and not f.startswith("94/94")]
    assert partial, frames  # redrawn in place while the epoch runs
    assert re.fullmatch(r"\d+/94 ━*\s* \d+s \d+[mu]?s/step - accuracy: \S+ - loss: \S+", partial[0])
    finished = [f for f in frames if f.startswith("94/94")]
    assert len(finished) == 2  # one finished line per epoch, left on screen
    assert all(
        re.fullmatch(r"94/94 ━{20} \d+s \d+[mu]?s/step - accuracy: \S+ - loss: \S+", f)
        for f in finished
    )


# ----------------------------------------------------------------------------------------------
# callbacks, each trained for real


def separable(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5]) > 0).astype(np.float32)
    return x, y


def small(lr=0.05, seed=0):
    nn.manual_seed(seed)
    m = nn.Sequential(
        [nn.Dense(8, activation="tanh", input_shape=(3,)), nn.Dense(1, activation="sigmoid")]
    )
    m.compile(optimizer=nn.optim.Adam(lr=lr), loss="binary_crossentropy", metrics=["accuracy"])
    return m


def test_history_params_as_keras():
    x, y = separable(100)
    history = small().fit(x, y, epochs=3, batch_size=32, verbose=0)
    assert history.params == {"verbose": 0, "epochs": 3, "steps": 4}


@pytest.mark.filterwarnings("ignore:overflow encountered")
@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_terminate_on_nan_stops_at_the_bad_batch(capsys):
    x, y = separable(256)
    model = nn.Sequential([nn.Dense(1, input_shape=(3,))])
    model.compile(optimizer=nn.optim.SGD(lr=1e3), loss="mse")  # diverges within an epoch
    stop = nn.callbacks.TerminateOnNaN()
    with pytest.warns(
        RuntimeWarning, match=r"fit: the loss became (inf|nan) at epoch 1, batch \d+"
    ):
        history = model.fit(x, y * 1e3, epochs=20, batch_size=8, verbose=0, callbacks=[stop])
    epoch, batch = stop.stopped
    assert (
        epoch == 0
        and f"Batch {batch}: Invalid loss, terminating training" in capsys.readouterr().out
    )
    assert len(history.history["loss"]) == 1  # it stopped in the first epoch


@pytest.mark.filterwarnings("ignore:overflow encountered")
@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_non_finite_loss_warns_once_and_training_goes_on():
    x, y = separable(64)
    model = nn.Sequential([nn.Dense(1, input_shape=(3,))])
    model.compile(optimizer=nn.optim.SGD(lr=1e3), loss="mse")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y * 1e3, epochs=5, batch_size=8, verbose=0)
    found = [w for w in caught if "the loss became" in str(w.message)]
    assert len(found) == 1 and "TerminateOnNaN" in str(found[0].message)
    assert len(history.history["loss"]) == 5 and not math.isfinite(history.history["loss"][-1])


def test_model_checkpoint_saves_every_epoch_and_only_the_best(tmp_path):
    x, y = separable(256)
    model = small()
    every = nn.callbacks.ModelCheckpoint(tmp_path / "w-{epoch:02d}.npz", save_best_only=False)
    best = nn.callbacks.ModelCheckpoint(
        tmp_path / "best.npz", monitor="val_loss", save_best_only=True
    )
    history = model.fit(
        x, y, epochs=6, validation_split=0.25, verbose=0, callbacks=[every, best], seed=0
    )
    assert sorted(p.name for p in tmp_path.glob("w-*.npz")) == [f"w-0{i}.npz" for i in range(1, 7)]
    val = history.history["val_loss"]
    improving = [i + 1 for i, v in enumerate(val) if v == min(val[: i + 1])]
    assert best.saved == improving and best.best == min(val)
    # the file holds the weights of the best epoch: loading it reproduces that val_loss
    xv, yv = x[192:], y[192:]
    model.load_weights(tmp_path / "best.npz")
    assert model.evaluate(xv, yv, verbose=0)[0] == pytest.approx(min(val), rel=1e-5)
    later = nn.Sequential([nn.Dense(8, activation="tanh", input_shape=(3,)), nn.Dense(1)])
    later.load_weights(tmp_path / "w-06.npz")


def test_reduce_lr_on_plateau_lowers_the_rate():
    x, y = separable(256)
    model = small(lr=0.1)
    cb = nn.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=10.0)
    history = model.fit(x, y, epochs=5, verbose=0, callbacks=[cb])
    # min_delta=10: no epoch improves on the first, so from the second on it halves the rate at
    # each epoch's end (the logs hold the rate the epoch ran with, as in Keras)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.025, 0.0125])
    assert model.optimizer.lr == pytest.approx(0.00625)


def test_learning_rate_scheduler_sets_each_epoch():
    x, y = separable(128)
    model = small(lr=0.1)
    cb = nn.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    history = model.fit(x, y, epochs=4, verbose=0, callbacks=[cb])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3, 0.025])
    with pytest.raises(ValueError, match="the schedule returned 'fast' at epoch 0"):
        model.fit(
            x,
            y,
            epochs=1,
            verbose=0,
            callbacks=[nn.callbacks.LearningRateScheduler(lambda e, lr: "fast")],
        )


def test_csv_logger_writes_a_row_per_epoch(tmp_path):
    x, y = separable(128)
    path = tmp_path / "log.csv"
    history = small().fit(
        x, y, epochs=3, validation_split=0.25, verbose=0, callbacks=[nn.callbacks.CSVLogger(path)]
    )
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    assert [float(r[2]) for r in rows[1:]] == pytest.approx(history.history["loss"])
    small().fit(x, y, epochs=2, verbose=0, callbacks=[nn.callbacks.CSVLogger(path, append=True)])
    rows = list(csv.reader(path.open()))
    assert len(rows) == 6 and rows[4][0] == "0"  # appended, without a second header


# ----------------------------------------------------------------------------------------------
# summary, layers, from_logits warnings


def test_layers_get_layer_count_params():
    model = nn.Sequential(
        [nn.Dense(2, activation="sigmoid", input_shape=(3,), name="hidden"), nn.Dense(1, name="o")]
    )
    assert model.get_layer("hidden") is model.layers[0] and model.get_layer(index=-1).name == "o"
    assert model.count_params() == 11
    with pytest.raises(
        ValueError, match=r"no layer is named 'x'; the layers are \['hidden', 'o'\]"
    ):
        model.get_layer("x")


def test_from_logits_on_a_sigmoid_or_softmax_output_warns_as_keras():
    x, y = separable(64)
    model = nn.Sequential([nn.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer="adam", loss=nn.losses.BinaryCrossentropy(from_logits=True))
    with pytest.warns(
        UserWarning,
        match=r"received `from_logits=True`, but the `output` argument "
        r"was produced by a Sigmoid activation",
    ):
        model.fit(x, y, epochs=1, verbose=0)
    model = nn.Sequential([nn.Dense(3, activation="softmax", input_shape=(3,))])
    model.compile(optimizer="adam", loss=nn.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.warns(UserWarning, match="produced by a Softmax activation"):
        model.evaluate(x, (y * 2).astype(int), verbose=0)
    model = nn.Sequential([nn.Dense(1, input_shape=(3,))])
    model.compile(optimizer="adam", loss=nn.losses.BinaryCrossentropy(from_logits=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, epochs=1, verbose=0)  # logits: no warning


# ----------------------------------------------------------------------------------------------
# the functional model


def two_inputs_with_a_skip():
    nn.manual_seed(0)
    a, b = nn.Input(shape=(3,), name="a"), nn.Input(shape=(2,), name="b")
    h = nn.Dense(3, activation="tanh")(a) + a  # a skip connection
    out = nn.Dense(1, activation="sigmoid")(nn.Concatenate()([h, b]))
    return nn.Model([a, b], out)


def test_functional_model_with_two_inputs_trains_with_the_shared_loop(capsys):
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(400, 3)), rng.normal(size=(400, 2))
    y = ((xa[:, 0] - xa[:, 1] + 2 * xb[:, 1]) > 0) * 1.0
    model = two_inputs_with_a_skip()
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer",
        "InputLayer",
        "Dense",
        "Add",
        "Concatenate",
        "Dense",
    ]
    model.compile(
        optimizer=nn.optim.Adam(lr=0.05), loss="binary_crossentropy", metrics=["accuracy"]
    )
    history = model.fit([xa, xb], y, epochs=15, validation_split=0.2, verbose=0, seed=0)
    assert history.history["val_accuracy"][-1] >= 0.9
    assert model.evaluate({"a": xa, "b": xb}, y, verbose=0)[1] >= 0.9
    assert model.predict([xa[:5], xb[:5]]).shape == (5, 1)
    model.summary()
    text = capsys.readouterr().out
    assert "Connected to" in text and re.search(r"│ add(_\d+)? \(Add\)", text)
    assert re.search(r"│ dense(_\d+)?\[0\]\[0\]", text) and "│ a[0][0]" in text
    with pytest.raises(ValueError, match=r"the model has 2 inputs \(a, b\); give x as a list"):
        model.predict(xa)
    with pytest.raises(ValueError, match=r"input 'b' expects shape \(None, 2\), got \(5, 3\)"):
        model.predict([xa[:5], xa[:5]])


def test_functional_gradient_through_the_skip_matches_by_hand():
    from autograd import Tensor

    a = nn.Input(shape=(2,))
    dense = nn.Dense(2, use_bias=False)
    model = nn.Model(a, dense(a) + a)
    dense.set_weights([np.array([[1.0, 2.0], [3.0, 4.0]])])
    x = Tensor([[1.0, -1.0]], requires_grad=True)
    model(x).sum().backward()
    # d/dx sum(x W + x) = W.sum(axis=1) + 1
    np.testing.assert_allclose(x.grad, [[4.0, 8.0]])


def test_functional_errors():
    a, b = nn.Input(shape=(3,)), nn.Input(shape=(3,))
    with pytest.raises(ValueError, match="depends on input"):
        nn.Model(a, nn.Add()([a, b]))
    with pytest.raises(ValueError, match=r"adds inputs of one shape"):
        nn.Add()([a, nn.Input(shape=(2,))])
    with pytest.raises(TypeError, match="join them first with nn.Add"):
        nn.Dense(2)([a, b])


# ----------------------------------------------------------------------------------------------
# weights: all or nothing, clear messages (issue 9)


def built(seed=0):
    nn.manual_seed(seed)
    return nn.Sequential([nn.Dense(2, input_shape=(3,)), nn.Dense(1)])


def unchanged(model, call):
    before = model.get_weights()
    call()
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("bad", [np.array(["a", "b"]), np.zeros(2, np.complex128) + 1j])
def test_set_and_load_weights_refuse_strings_and_complex_before_writing(tmp_path, bad):
    model = built()
    w = model.get_weights()
    kind = "string" if bad.dtype.kind == "U" else "complex"
    with pytest.raises(TypeError, match=rf"'layers.0.bias' holds {kind} values"):
        unchanged(model, lambda: model.set_weights([w[0] + 1, bad, w[2], w[3]]))
    unchanged(
        model, lambda: pytest.raises(TypeError, model.set_weights, [w[0] + 1, bad, w[2], w[3]])
    )
    names = [n for n, _ in model.named_parameters()]
    arrays = dict(zip(names, [w[0] + 1, bad, w[2], w[3]]))
    np.savez(tmp_path / "bad.npz", **arrays)
    unchanged(model, lambda: pytest.raises(TypeError, model.load_weights, tmp_path / "bad.npz"))


def test_load_weights_on_bad_files_names_itself_the_file_and_what_is_wrong(tmp_path):
    model = built()
    good = tmp_path / "good.npz"
    model.save_weights(good)
    data = good.read_bytes()
    rng = np.random.default_rng(0)
    files = {
        "random.npz": (rng.bytes(300), "not an .npz archive"),
        "truncated.npz": (data[: len(data) // 2], "truncated or damaged"),
        "empty.npz": (b"", "the file is empty"),
    }
    np.save(tmp_path / "single.npy", np.zeros(3))
    files["single.npz"] = ((tmp_path / "single.npy").read_bytes(), "a single .npy array")
    # a member whose bytes are damaged (the zip's checksum no longer matches)
    with zipfile.ZipFile(good) as z:
        info = z.infolist()[1]
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    damaged = bytearray(data)
    damaged[start + info.compress_size - 5] ^= 0xFF
    files["corrupt.npz"] = (bytes(damaged), f"member '{info.filename[:-4]}' is damaged")
    for name, (content, why) in files.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ValueError) as e:
            unchanged(model, lambda p=path: model.load_weights(p))
        msg = str(e.value)
        assert msg.startswith("load_weights: ") and name in msg and why in msg, msg
    with pytest.raises(FileNotFoundError, match="load_weights: no such file"):
        model.load_weights(tmp_path / "nowhere.npz")
    with pytest.raises(ValueError, match="must end in .npz"):
        model.load_weights(tmp_path / "single.npy")
