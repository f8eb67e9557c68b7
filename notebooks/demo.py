"""The demo behind `./dev.sh demo`: the seed's 3-2-1 sigmoid network on Fisher's irises.

It trains the network with Keras-style compile / fit / evaluate to tell versicolor from
virginica by three measurements, then writes one flower's loss as an annotated graph (SVG) and
as the step-through backprop viewer (one offline HTML file), and prints how to open them.
"""

import argparse
import time
from pathlib import Path

import numpy as np

import nn
import viz
from autograd import Value

FEATURES = ["sepal_length", "petal_length", "petal_width"]  # columns 0, 2, 3 of load_iris (cm)
SPECIES = ["versicolor", "virginica"]  # label 0 and 1


def iris_data(seed=0):
    """Versicolor (0) against virginica (1) by three measurements, standardized; a 70/30 split."""
    x, species = nn.data.load_iris()
    keep = species > 0  # setosa is too easy: one petal measurement tells it apart
    x, y = x[keep][:, [0, 2, 3]], (species[keep] == 2).astype(np.int64)
    x_train, x_test, y_train, y_test = nn.data.train_test_split(x, y, test_size=0.3, seed=seed)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)  # statistics of the training part only
    return (x_train - mean) / std, (x_test - mean) / std, y_train, y_test


class EveryNEpochs(nn.callbacks.Callback):
    """Print one line of progress every `n` epochs (fit's own bar would print 1000)."""

    def __init__(self, n):
        self.n = n

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.n == 0 or epoch == 0:
            print(
                f"  epoch {epoch + 1:4d}  loss {logs['loss']:.4f}  accuracy {logs['accuracy']:.3f}"
            )


def one_flower_loss(model, x, y):
    """The loss of one flower on the model's scalar twin: a Value graph, one node per + and *.

    Returns the loss (after backward) and {dotted name: Value} for its parameters and inputs.
    """
    twin = nn.scalar.from_sequential(model)
    inputs = [Value(float(v), label=name, requires_grad=False) for v, name in zip(x, FEATURES)]
    p = twin(inputs)
    p.label = "p(virginica)"
    loss = nn.scalar.binary_crossentropy(float(y), p)
    loss.label = "loss"
    loss.backward()
    names = {}
    for i, layer in enumerate(twin.layers):
        for j, neuron in enumerate(layer.neurons):
            for k, w in enumerate(neuron.w):
                names[f"layers.{i}.weight[{k},{j}]"] = w
            names[f"layers.{i}.bias[{j}]"] = neuron.b
    return loss, names


def check_twin(model, x, y, loss, names):
    """The Tensor model's loss and gradients on the same flower; the largest difference."""
    model.zero_grad()
    tensor_loss = nn.losses.binary_crossentropy(np.array([[y]]), model(x[None, :]))
    tensor_loss.backward()
    diff = abs(float(tensor_loss.data) - loss.data)
    params = dict(model.named_parameters())
    for name, v in names.items():
        pname, index = name[:-1].split("[")
        idx = tuple(int(i) for i in index.split(","))
        diff = max(diff, abs(float(params[pname].grad[idx]) - v.grad))
    model.zero_grad()
    return diff


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        default=Path(__file__).resolve().parent.parent / "out",
        type=Path,
        help="folder for the SVG and HTML files (default: out/)",
    )
    parser.add_argument("--epochs", type=int, default=1000, help="training epochs (1000)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()

    x_train, x_test, y_train, y_test = iris_data()
    print(f"Fisher's irises: {SPECIES[0]} (0) vs {SPECIES[1]} (1) by {', '.join(FEATURES)}")
    print(f"  {len(x_train)} flowers to train on, {len(x_test)} kept for the test\n")

    nn.manual_seed(0)
    model = nn.Sequential(
        [nn.Dense(2, activation="sigmoid", input_shape=(3,)), nn.Dense(1, activation="sigmoid")]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.summary()
    print(f"\ntraining {args.epochs} epochs (adam, batches of 16):")
    model.fit(
        x_train,
        y_train,
        epochs=args.epochs,
        batch_size=16,
        verbose=0,
        seed=0,
        callbacks=[EveryNEpochs(max(1, args.epochs // 10))],
    )
    train_loss, train_acc = model.evaluate(x_train, y_train, verbose=0)
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    right = round(test_acc * len(x_test))
    print(f"\ntrain: loss {train_loss:.4f}  accuracy {train_acc:.3f}")
    print(f"test:  loss {test_loss:.4f}  accuracy {test_acc:.3f} ({right}/{len(x_test)} flowers)")

    # one flower's loss, drawn: the test flower the model gets most wrong, on the scalar twin
    # (the same weights, one Value per number, so every multiply and add is a node)
    p = model.predict(x_test)[:, 0]
    worst = int(np.argmax(np.where(y_test == 1, -np.log(p), -np.log(1 - p))))
    x, y = x_test[worst], int(y_test[worst])
    loss, names = one_flower_loss(model, x, y)
    diff = check_twin(model, x, y, loss, names)
    print(
        f"\nthe test flower the model gets most wrong: a {SPECIES[y]}, p(virginica) = "
        f"{p[worst]:.3f}, loss {loss.data:.4f}"
    )
    print(
        f"its scalar-twin graph gives the Tensor model's loss and gradients (largest "
        f"difference {diff:.1e})"
    )

    args.out.mkdir(parents=True, exist_ok=True)
    graph = viz.draw_graph(loss, names=names)
    svg = graph.render(filename="iris_loss_graph", directory=args.out, format="svg", cleanup=True)
    if svg is None:  # no Graphviz `dot`: viz said how to install it; keep the DOT text
        svg = args.out / "iris_loss_graph.gv"
        svg.write_text(graph.source, encoding="utf-8")
    svg = Path(svg).resolve()
    html = viz.export_html(
        loss,
        args.out / "iris_backprop.html",
        names=names,
        title="stepgrad: backprop through one iris flower's loss",
    ).resolve()

    print(f"\nwrote (all done in {time.perf_counter() - t0:.1f} s):")
    print(f"  {svg}\n      the graph: data and gradient on every node")
    print(f"  {html}\n      step through backprop, node by node (offline, any browser)")
    print("open them in a browser:")
    print(f"  {html.as_uri()}\n  {svg.as_uri()}")
    print(f"or: xdg-open {html}")


if __name__ == "__main__":
    main()
