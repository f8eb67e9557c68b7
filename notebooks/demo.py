"""The demo behind `./dev.sh demo`: the engine on the seed's 3-2-1 sigmoid network.

It builds the network from Values, trains it with binary cross-entropy and gradient descent,
and prints the loss and the gradient of every weight for one sample.
"""

import random

from autograd import Value, gradcheck


def neuron(ws, b, xs):
    return (sum((w * x for w, x in zip(ws, xs)), b)).sigmoid()


def main():
    rng = random.Random(0)
    data = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(40)]
    labels = [1.0 if x[0] + 0.5 * x[1] - x[2] > 0 else 0.0 for x in data]
    hidden = [
        (
            [Value(rng.uniform(-1, 1), label=f"w1{i}{j}") for j in range(3)],
            Value(0.0, label=f"b1{i}"),
        )
        for i in range(2)
    ]
    out_w, out_b = (
        [Value(rng.uniform(-1, 1), label=f"w2{i}") for i in range(2)],
        Value(0.0, label="b2"),
    )
    params = [p for ws, b in hidden for p in ws + [b]] + out_w + [out_b]

    def predict(x):
        h = [neuron(ws, b, x) for ws, b in hidden]
        return neuron(out_w, out_b, h)

    def bce(p, y):
        return -(y * p.log() + (1 - y) * (1 - p).log())

    for epoch in range(200):
        loss = sum((bce(predict(x), y) for x, y in zip(data, labels)), Value(0.0)) / len(data)
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= 1.0 * p.grad
        if epoch % 40 == 0 or epoch == 199:
            acc = sum((predict(x).data > 0.5) == (y == 1.0) for x, y in zip(data, labels))
            print(f"epoch {epoch:3d}  loss {loss.data:.4f}  accuracy {acc / len(data):.2f}")
    sample = bce(predict(data[0]), labels[0])
    for p in params:
        p.grad = 0.0  # leaf gradients accumulate: clear the last epoch's first
    sample.backward()
    print("gradients of one sample's loss:")
    for p in params:
        print(f"  {p.label:5s} data {p.data:+.4f}  grad {p.grad:+.4f}")
    print("gradcheck:", gradcheck(lambda a, b: (a * b + a**2).tanh(), Value(2.0), Value(-3.0)))


if __name__ == "__main__":
    main()
