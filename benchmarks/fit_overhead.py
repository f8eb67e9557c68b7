"""What Sequential.fit costs on top of the Tensor ops it runs (goal: at most 1.1x).

The digits MLP (64 -> 64 relu -> 10 softmax, sparse categorical cross-entropy, Adam, batch 32)
trained by `model.fit` (verbose=0, then with the progress bar) and by a hand-written loop over
the same Tensor ops and the same optimizer. Runs take turns (the order rotates) and the
best of several is kept.

    .venv/bin/python benchmarks/fit_overhead.py [--epochs 5] [--repeats 9]
"""

import argparse
import contextlib
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import nn  # noqa: E402
from autograd import Tensor  # noqa: E402

BATCH = 32
EPS = nn.losses.EPSILON


def make_model(weights):
    model = nn.Sequential(
        [nn.Dense(64, activation="relu", input_shape=(64,)), nn.Dense(10, activation="softmax")]
    )
    model.set_weights(weights)
    model.compile(optimizer=nn.optim.Adam(lr=0.005), loss="sparse_categorical_crossentropy")
    return model


def run_fit(x, y, weights, epochs, verbose):
    model = make_model(weights)
    with (
        open(os.devnull, "w") as sink,
        contextlib.redirect_stderr(sink),
        contextlib.redirect_stdout(sink),
    ):
        t = time.perf_counter()
        history = model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=verbose, seed=0)
        took = time.perf_counter() - t
    return took, history.history["loss"][-1]


def run_by_hand(x, y, weights, epochs):
    """The loop a user would write with the same ops: forward, loss, zero_grad, backward, step."""
    w1, b1, w2, b2 = (Tensor(w.copy(), requires_grad=True) for w in weights)
    params = [w1, b1, w2, b2]
    opt = nn.optim.Adam(params, lr=0.005)
    rng = np.random.default_rng(0)
    n = len(x)
    t = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(n)
        xs, ys = x[order], y[order]
        total = 0.0
        for i in range(0, n, BATCH):
            xb, yb = xs[i : i + BATCH], ys[i : i + BATCH]
            h = (xb @ w1 + b1).relu()
            p = (h @ w2 + b2).softmax(axis=-1)
            loss = -p[(np.arange(len(yb)), yb)].clip(EPS, 1 - EPS).log().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.data) * len(xb)
    took = time.perf_counter() - t
    return took, total / n


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()

    x, y = nn.data.load_digits()
    x, _, y, _ = nn.data.train_test_split(x, y, test_size=0.2, seed=0)
    nn.manual_seed(0)
    weights = nn.Sequential(
        [nn.Dense(64, activation="relu", input_shape=(64,)), nn.Dense(10, activation="softmax")]
    ).get_weights()

    steps = args.epochs * -(-len(x) // BATCH)
    times = {"hand-written loop": [], "fit verbose=0": [], "fit verbose=1 (bar)": []}
    losses = {}
    run_by_hand(x, y, weights, 1)  # warm up
    variants = [
        ("hand-written loop", lambda: run_by_hand(x, y, weights, args.epochs)),
        ("fit verbose=0", lambda: run_fit(x, y, weights, args.epochs, 0)),
        ("fit verbose=1 (bar)", lambda: run_fit(x, y, weights, args.epochs, 1)),
    ]
    for r in range(args.repeats):
        for name, fn in variants[r % 3 :] + variants[: r % 3]:  # rotate: no variant always last
            took, loss = fn()
            times[name].append(took)
            losses[name] = loss
    base = min(times["hand-written loop"])
    print(
        f"digits MLP 64-64-10, batch {BATCH}, {args.epochs} epochs = {steps} steps, "
        f"best of {args.repeats}"
    )
    for name, ts in times.items():
        best = min(ts)
        print(
            f"  {name:<20} {best * 1e3:8.1f} ms  {best / steps * 1e6:7.1f} us/step  "
            f"(median {statistics.median(ts) * 1e3:.1f} ms)  ratio {best / base:.3f}  "
            f"final loss {losses[name]:.4f}"
        )


if __name__ == "__main__":
    main()
