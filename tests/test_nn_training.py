"""Sequential training end to end: the seed example, digits (MLP and Conv2D), History,
EarlyStopping, evaluate/predict/summary, progress output, and fit's errors."""

import re

import numpy as np
import pytest

import nn


def separable(n=1000, seed=0):
    """3 features, label 1 on one side of a plane (the seed's 3-2-1 network can learn it)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5]) > 0).astype(np.float32)
    return x, y


@pytest.fixture(scope="module")
def digits():
    x, y = nn.data.load_digits()
    return nn.data.train_test_split(x, y, test_size=0.2, seed=0)


def test_seed_example_word_for_word():
    nn.manual_seed(0)
    x, y = separable()
    model = nn.Sequential(
        [nn.Dense(2, activation="sigmoid", input_shape=(3,)), nn.Dense(1, activation="sigmoid")]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=60, verbose=0, seed=0)
    loss, accuracy = model.evaluate(x, y)
    assert accuracy >= 0.9
    assert loss < 0.45


def test_digits_mlp(digits):
    x_train, x_test, y_train, y_test = digits
    nn.manual_seed(0)
    model = nn.Sequential([nn.Dense(64, activation="relu"), nn.Dense(10, activation="softmax")])
    model.compile(
        optimizer=nn.optim.Adam(lr=0.005),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=10, verbose=0, seed=0)
    assert model.evaluate(x_test, y_test, verbose=0)[1] >= 0.95


def test_digits_conv_net():
    x, y = nn.data.load_digits(images=True)
    x_train, x_test, y_train, y_test = nn.data.train_test_split(x, y, test_size=0.2, seed=0)
    nn.manual_seed(0)
    model = nn.Sequential(
        [
            nn.Conv2D(16, 3, activation="relu", input_shape=(8, 8, 1)),
            nn.MaxPooling2D(2),
            nn.Flatten(),
            nn.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=nn.optim.Adam(lr=0.005),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=15, verbose=0, seed=0)
    assert model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"] >= 0.95


def test_one_hot_labels_and_logits():
    x, y = nn.data.make_spirals(300, n_classes=3, seed=0)
    nn.manual_seed(0)
    model = nn.Sequential(
        [nn.Dense(32, activation="tanh"), nn.Dense(32, activation="tanh"), nn.Dense(3)]
    )
    model.compile(
        optimizer=nn.optim.Adam(lr=0.02),
        loss=nn.losses.CategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(x, np.eye(3)[y], epochs=40, verbose=0, seed=0)
    assert history.history["accuracy"][-1] > 0.95


def test_history_keys_and_lengths():
    nn.manual_seed(0)
    x, y = separable(200)
    model = nn.Sequential([nn.Dense(4, activation="relu", input_shape=(3,)), nn.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=4, batch_size=16, validation_split=0.25, verbose=0)
    assert sorted(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert all(len(v) == 4 for v in history.history.values())
    assert history.epoch == [0, 1, 2, 3] and model.history is history
    assert history.history["loss"][-1] < history.history["loss"][0]
    # the epoch's loss is the mean over its batches weighted by their sizes
    val = model.evaluate(x[150:], y[150:], verbose=0, return_dict=True)
    assert val["loss"] == pytest.approx(history.history["val_loss"][-1], rel=1e-5)


def test_validation_data_and_no_shuffle_is_deterministic():
    x, y = separable(100)
    runs = []
    for _ in range(2):
        nn.manual_seed(1)
        model = nn.Sequential([nn.Dense(1, activation="sigmoid", input_shape=(3,))])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        h = model.fit(x, y, epochs=2, validation_data=(x[:10], y[:10]), verbose=0, seed=3)
        runs.append(h.history)
    assert runs[0] == runs[1]
    assert sorted(runs[0]) == ["accuracy", "loss", "val_accuracy", "val_loss"]


class Recorder(nn.callbacks.Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(f"epoch_begin {epoch}")

    def on_batch_end(self, batch, logs=None):
        self.calls.append(f"batch {batch} {sorted(logs)}")

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(f"epoch_end {epoch} {sorted(logs)}")

    def on_train_end(self, logs=None):
        self.calls.append("train_end")


def test_callback_hooks_in_order():
    x, y = separable(40)
    model = nn.Sequential([nn.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    rec = Recorder()
    model.fit(x, y, epochs=2, batch_size=32, callbacks=[rec], verbose=0)
    assert rec.model is model
    assert rec.calls == [
        "train_begin",
        "epoch_begin 0",
        "batch 0 ['loss']",
        "batch 1 ['loss']",
        "epoch_end 0 ['accuracy', 'loss']",
        "epoch_begin 1",
        "batch 0 ['loss']",
        "batch 1 ['loss']",
        "epoch_end 1 ['accuracy', 'loss']",
        "train_end",
    ]


class Scripted(nn.callbacks.Callback):
    """Overwrites each epoch's logs with a scripted 'val_loss' and records the weights."""

    def __init__(self, values):
        self.values, self.weights = values, []

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]
        self.weights.append(self.model.get_weights())


def test_early_stopping_stops_and_restores_best_weights():
    x, y = separable(64)
    nn.manual_seed(0)
    model = nn.Sequential([nn.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer=nn.optim.SGD(lr=0.5), loss="binary_crossentropy")
    script = Scripted([1.0, 0.5, 0.6, 0.55, 0.7, 0.1, 0.1, 0.1])
    stop = nn.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    history = model.fit(x, y, epochs=8, callbacks=[script, stop], verbose=0)
    # best at epoch 1 (0.5); epochs 2, 3, 4 do not improve: stop after epoch 4
    assert len(history.history["loss"]) == 5 and stop.stopped_epoch == 4
    assert stop.best == 0.5 and stop.best_epoch == 1
    for got, want in zip(model.get_weights(), script.weights[1]):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(script.weights[4][0], script.weights[1][0])


def test_early_stopping_min_delta_mode_and_missing_monitor():
    x, y = separable(64)
    model = nn.Sequential([nn.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    stop = nn.callbacks.EarlyStopping(monitor="accuracy", min_delta=2.0, patience=1)
    assert stop.mode == "max"
    model.fit(x, y, epochs=10, callbacks=[stop], verbose=0)
    assert stop.stopped_epoch == 1  # nothing improves accuracy by 2: stop after 1 more epoch
    with pytest.raises(ValueError, match=r"monitor 'val_loss' is not among the epoch logs"):
        model.fit(x, y, epochs=2, callbacks=[nn.callbacks.EarlyStopping()], verbose=0)


def test_predict_returns_numpy_and_evaluate_forms():
    x, y = separable(50)
    model = nn.Sequential([nn.Dense(3, input_shape=(3,)), nn.Dropout(0.5), nn.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    out = model.predict(x.tolist(), batch_size=7)
    assert isinstance(out, np.ndarray) and out.shape == (50, 1) and out.dtype == np.float32
    np.testing.assert_allclose(out, model.predict(x), rtol=1e-5)  # Dropout off: deterministic
    assert isinstance(model.evaluate(x, y, verbose=0), float)  # no metrics: just the loss
    assert list(model.evaluate(x, y, verbose=0, return_dict=True)) == ["loss"]
    assert model.training  # evaluate/predict restore the mode


def test_summary_table():
    model = nn.Sequential(
        [
            nn.Dense(2, activation="sigmoid", input_shape=(3,), name="hidden"),
            nn.Dense(1, name="out"),
        ]
    )
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    assert 'Model: "sequential' in text
    assert "┃ Layer (type)" in text and "┃ Output Shape" in text and "Param # ┃" in text
    assert "│ hidden (Dense)" in text and "│ out (Dense)" in text
    row = next(r for r in text.splitlines() if "hidden (Dense)" in r)
    assert [c.strip() for c in row.strip("│").split("│")] == ["hidden (Dense)", "(None, 2)", "8"]
    assert " Total params: 11 (44.00 B)" in text
    with pytest.raises(ValueError, match="not built yet"):
        nn.Sequential([nn.Dense(2)]).summary()


def test_verbose_modes(capsys):
    x, y = separable(64)
    model = nn.Sequential([nn.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr() == ("", "")
    model.fit(x, y, epochs=2, verbose=2)
    out = capsys.readouterr().out.splitlines()
    # Keras 3's verbose=2: a header per epoch, then "2/2 - 0s - 1ms/step - accuracy: ..."
    assert len(out) == 4 and out[2] == "Epoch 2/2"
    assert re.fullmatch(
        r"2/2 - \d+s - \d+[mu]?s/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}", out[3]
    )
    model.fit(x, y, epochs=2, verbose=1)  # not a terminal here: the finished line only
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2" and len(out) == 4
    assert re.fullmatch(
        r"2/2 ━{20} \d+s \d+[mu]?s/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}", out[1]
    )
    model.evaluate(x, y)
    assert re.fullmatch(
        r"2/2 ━{20} \d+s \d+[mu]?s/step - accuracy: \S+ - loss: \S+\n", capsys.readouterr().out
    )


def test_lazy_model_builds_on_fit():
    x, y = separable(64)
    model = nn.Sequential([nn.Dense(4, activation="relu"), nn.Dense(1, activation="sigmoid")])
    assert not model.built and model.parameters() == []
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert model.built and model.output_shape == (None, 1) and model.count_params() == 21


# ----------------------------------------------------------------------------------------------
# errors


def test_fit_before_compile():
    model = nn.Sequential([nn.Dense(1, input_shape=(3,))])
    with pytest.raises(RuntimeError, match=r"fit: the model is not compiled; call model.compile"):
        model.fit(np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(RuntimeError, match="evaluate: the model is not compiled"):
        model.evaluate(np.zeros((4, 3)), np.zeros(4))


def test_input_shape_mismatch_names_layer_and_shapes():
    model = nn.Sequential([nn.Dense(2, input_shape=(3,)), nn.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError) as e:
        model.fit(np.zeros((10, 4)), np.zeros(10))
    assert "Dense 'dense" in str(e.value) and "(layers.0)" in str(e.value)
    assert "(None, 3)" in str(e.value) and "(None, 4)" in str(e.value)


def test_labels_that_do_not_fit_the_loss():
    model = nn.Sequential([nn.Dense(3, activation="softmax", input_shape=(2,))])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"label 5 is out of range for 3 classes"):
        model.fit(np.zeros((4, 2)), [0, 1, 5, 2])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    with pytest.raises(ValueError, match=r"labels of shape \(4,\) do not fit predictions"):
        model.fit(np.zeros((4, 2)), [0, 1, 1, 0])
    model = nn.Sequential([nn.Dense(1, activation="sigmoid", input_shape=(2,))])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    with pytest.warns(UserWarning, match=r"labels range from -1 to 3, outside \[0, 1\]"):
        model.fit(np.zeros((3, 2)), [-1, 0, 3], verbose=0)
    with pytest.raises(ValueError, match="x has 3 samples but y has 2"):
        model.fit(np.zeros((3, 2)), [0, 1])


def test_unknown_names_list_the_known_ones():
    model = nn.Sequential([nn.Dense(1, input_shape=(2,))])
    with pytest.raises(ValueError, match="unknown optimizer 'adagrad'; known: adam, rmsprop, sgd"):
        model.compile(optimizer="adagrad", loss="mse")
    with pytest.raises(ValueError, match="unknown loss 'bce'; known: binary_crossentropy"):
        model.compile(optimizer="adam", loss="bce")
    with pytest.raises(ValueError, match="unknown metric 'f1'; known: accuracy, acc"):
        model.compile(optimizer="adam", loss="mse", metrics=["f1"])
    with pytest.raises(ValueError, match="compile: give a loss"):
        model.compile(optimizer="adam")


def test_bad_fit_arguments():
    model = nn.Sequential([nn.Dense(1, input_shape=(2,))])
    model.compile(optimizer="adam", loss="mse")
    x, y = np.zeros((4, 2)), np.zeros(4)
    with pytest.raises(ValueError, match="validation_split must be in"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="leaves no samples for validation"):
        model.fit(x, y, validation_split=0.1, verbose=0)
    for bad in (0, -1, 2.5, "32", True):
        with pytest.raises(ValueError, match="fit: batch_size must be a positive whole number"):
            model.fit(x, y, batch_size=bad, verbose=0)
        with pytest.raises(ValueError, match="evaluate: batch_size must be a positive whole"):
            model.evaluate(x, y, batch_size=bad, verbose=0)
        with pytest.raises(ValueError, match="predict: batch_size must be a positive whole"):
            model.predict(x, batch_size=bad)
    with pytest.raises(TypeError, match="callbacks must be nn.callbacks.Callback"):
        model.fit(x, y, callbacks=[print], verbose=0)


def test_embedding_model_trains_on_integer_ids():
    # the label is whether token 3 appears in a sequence of 4 ids out of 6
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 6, size=(400, 4))
    y = (ids == 3).any(axis=1).astype(np.float32)
    nn.manual_seed(0)
    model = nn.Sequential(
        [nn.Embedding(6, 4), nn.Flatten(), nn.Dense(8, activation="relu"), nn.Dense(1)]
    )
    model.compile(
        optimizer=nn.optim.Adam(lr=0.05),
        loss=nn.losses.BinaryCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(ids, y, epochs=15, verbose=0, seed=0)
    assert history.history["accuracy"][-1] > 0.95
    assert model.predict(ids[:3]).shape == (3, 1)


def test_activation_may_be_a_function_or_a_layer():
    x = np.array([[-1.0, 2.0]], dtype=np.float32)
    for activation, want in [(lambda t: t * 2, [[-2.0, 4.0]]), (nn.ReLU(), [[0.0, 2.0]])]:
        layer = nn.Dense(2, activation=activation, input_shape=(2,))
        layer.set_weights([np.eye(2), np.zeros(2)])
        assert layer(x).data.tolist() == want
