"""A 64-128-64-10 ReLU MLP trained with softmax cross-entropy: stepgrad's Tensor vs numpy.

The floor is the same network's forward and backward written by hand in numpy (fused
softmax-cross-entropy gradient, in place where natural). Prints ms per epoch of SGD (lr 0.1) on
1797x64 float32 data at batch 1, 8, 32 and 256, and each engine's ratio to the floor: stepgrad,
torch CPU when it is importable, and `Bare`, the floor of stepgrad's design (a node per op,
stepgrad's numpy calls, no bookkeeping). All engines run in this one process, interleaved, from
identical weights, and their losses are checked to agree first.

    .venv/bin/python benchmarks/tensor_mlp.py [--repeats 21]
"""

import argparse
import os
import platform
import statistics
import time

import numpy as np

try:
    import resource  # page-fault counts (POSIX only)
except ImportError:
    resource = None

from autograd import Tensor

try:
    import torch
except ImportError:
    torch = None

SIZES = (64, 128, 64, 10)
LR = 0.1
BATCHES = (1, 8, 32, 256)
GOALS = {1: 1.4, 8: 1.8, 32: 1.4, 256: 1.2}  # stepgrad / numpy, ms per epoch (issue 12)


# ----------------------------------------------------------------------------------------------
# the machine


def blas_summary():
    """numpy's BLAS: library, version, threads (threadpoolctl when there, else numpy's config)."""
    try:
        from threadpoolctl import threadpool_info

        infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if infos:
            return "; ".join(
                f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
                f"{i.get('num_threads')} threads, {os.path.basename(i.get('filepath', ''))})"
                for i in infos
            )
    except ImportError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')} (threadpoolctl not installed)"
    except Exception as e:  # numpy < 1.25 has no mode="dicts"
        return f"unknown ({type(e).__name__}); see numpy.show_config()"


def print_machine():
    print("tensor MLP benchmark: 64-128-64-10 ReLU MLP, softmax cross-entropy, SGD lr 0.1")
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"numpy {np.__version__}, BLAS: {blas_summary()}")
    env = ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    print(", ".join(f"{k}={os.environ.get(k, '(not set)')}" for k in env))
    if torch is None:
        print("torch: not importable (optional)")
    else:
        print(
            f"torch {torch.__version__}: {torch.get_num_threads()} intra-op threads, "
            f"{torch.get_num_interop_threads()} inter-op threads (defaults left as they are)"
        )


# ----------------------------------------------------------------------------------------------
# data and weights


def load_data():
    """nn.data.load_digits when it exists, else seeded random data of the digits' shape."""
    try:
        from nn.data import load_digits

        d = load_digits()
        X, y = d if isinstance(d, tuple) else (d.data, d.target)
        X, y = np.asarray(X, np.float32).reshape(len(X), -1), np.asarray(y, np.int64)
        if X.shape == (1797, 64) and y.shape == (1797,):
            return X / max(float(X.max()), 1.0), y, "nn.data.load_digits()"
    except Exception:  # not written yet, or a different shape: fall back to random data
        pass
    rng = np.random.default_rng(0)
    X = (rng.integers(0, 17, size=(1797, 64)) / 16).astype(np.float32)
    y = rng.integers(0, 10, size=1797).astype(np.int64)
    return X, y, "random data of the digits' shape (seeded)"


def init_weights(seed=0):
    rng = np.random.default_rng(seed)
    ws = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1 / np.sqrt(n_in)
        ws.append(rng.uniform(-bound, bound, size=(n_in, n_out)).astype(np.float32))
        ws.append(rng.uniform(-bound, bound, size=n_out).astype(np.float32))
    return ws


def batches(X, y, batch_size, seed=1):
    """One epoch's mini-batches in a fixed shuffled order: (x, labels, row indices)."""
    perm = np.random.default_rng(seed).permutation(len(X))
    out = []
    for i in range(0, len(X), batch_size):
        idx = perm[i : i + batch_size]
        out.append((np.ascontiguousarray(X[idx]), y[idx], np.arange(len(idx))))
    return out


# ----------------------------------------------------------------------------------------------
# the engines: step(x, labels, rows) does forward, backward and the SGD update, returns the loss


class Stepgrad:
    name = "stepgrad"

    def __init__(self, ws):
        self.params = [Tensor(w.copy(), requires_grad=True) for w in ws]

    def step(self, x, labels, rows):
        W1, b1, W2, b2, W3, b3 = self.params
        h = (Tensor(x) @ W1 + b1).relu()
        h = (h @ W2 + b2).relu()
        logits = h @ W3 + b3
        loss = -logits.log_softmax(axis=-1)[rows, labels].mean()
        for p in self.params:
            p.grad = None
        loss.backward()
        for p in self.params:
            p.data -= LR * p.grad
        return loss.item()

    def weights(self):
        return [p.data for p in self.params]


class Numpy:
    """The floor: the same network by hand, fused softmax-CE gradient, in place where natural."""

    name = "numpy"

    def __init__(self, ws):
        self.params = [w.copy() for w in ws]

    def step(self, x, labels, rows):
        W1, b1, W2, b2, W3, b3 = self.params
        n = len(x)
        h1 = x @ W1
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ W2
        h2 += b2
        np.maximum(h2, 0, out=h2)
        z = h2 @ W3
        z += b3
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        s = p.sum(axis=1, keepdims=True)
        loss = float(np.log(s).mean() - z[rows, labels].mean())
        # d loss / d z = (softmax - onehot) / n
        p /= s
        p[rows, labels] -= 1
        p *= 1 / n
        gW3 = h2.T @ p
        gb3 = p.sum(axis=0)
        d = p @ W3.T
        d *= h2 > 0
        gW2 = h1.T @ d
        gb2 = d.sum(axis=0)
        d = d @ W2.T
        d *= h1 > 0
        gW1 = x.T @ d
        gb1 = d.sum(axis=0)
        for w, g in zip(self.params, (gW1, gb1, gW2, gb2, gW3, gb3)):
            g *= LR
            w -= g
        return loss

    def weights(self):
        return self.params


class Bare:
    """Not an engine to use: the floor of stepgrad's design. A node per op as stepgrad makes
    them (a bias added by its add node, which sums the bias's gradient), the numpy calls of
    stepgrad's rules, and nothing more: no checks, hooks, modes or dtypes, 2-d matmul only.
    What stepgrad costs above it is bookkeeping; what it costs above numpy is the graph itself
    (a node and an unfused numpy call per op, where the floor fuses and works in place)."""

    name = "bare"

    class Node:
        __slots__ = ("data", "grad", "vjp", "a", "b", "ctx", "rg")

    def __init__(self, ws):
        self.params = [self.node(w.copy(), rg=True) for w in ws]

    def node(self, data, vjp=None, a=None, b=None, ctx=None, rg=True):
        n = self.Node()
        n.data, n.grad, n.vjp, n.a, n.b, n.ctx, n.rg = data, None, vjp, a, b, ctx, rg
        return n

    # vjp(node, g) -> one gradient per input, with the numpy calls of stepgrad's rules
    @staticmethod
    def matmul(n, g):
        a = n.a.data
        ga = g @ n.b.data.T if n.a.rg else None
        return ga, np.dot(a.T, g) if a.shape[0] == 1 else a.T @ g  # as stepgrad's m.matmul

    @staticmethod
    def add_bias(n, g):  # the bias was repeated by numpy: its gradient summed over the rows
        return g, g.sum(axis=0)

    @staticmethod
    def relu(n, g):
        return (g * ~(n.a.data <= 0),)

    @staticmethod
    def log_softmax(n, g):
        return (g - np.exp(n.data) * g.sum(axis=-1, keepdims=True),)

    @staticmethod
    def getitem(n, g):
        z = np.zeros(n.a.data.shape, g.dtype)
        np.add.at(z, n.ctx, g)
        return (z,)

    @staticmethod
    def mean(n, g):
        x = n.a.data
        return (np.broadcast_to(g.reshape(1), x.shape) / x.size,)

    @staticmethod
    def neg(n, g):
        return (-g,)

    def layer(self, h, W, b, relu):
        node = self.node
        z = node(np.matmul(h.data, W.data), self.matmul, h, W)
        z = node(z.data + b.data, self.add_bias, z, b)
        return node(np.maximum(z.data, 0), self.relu, z) if relu else z

    def step(self, x, labels, rows):
        W1, b1, W2, b2, W3, b3 = self.params
        node = self.node
        h = self.layer(node(x.copy(), rg=False), W1, b1, True)
        h = self.layer(h, W2, b2, True)
        z = self.layer(h, W3, b3, False)
        s = z.data - z.data.max(axis=-1, keepdims=True)
        lsm = node(s - np.log(np.exp(s).sum(axis=-1, keepdims=True)), self.log_softmax, z)
        picked = node(lsm.data[rows, labels], self.getitem, lsm, ctx=(rows, labels))
        mean = node(picked.data.sum() / picked.data.size, self.mean, picked)
        loss = node(-mean.data, self.neg, mean)
        for p in self.params:
            p.grad = None
        self.backward(loss)
        for p in self.params:
            p.data -= LR * p.grad
        return loss.data.item()

    @staticmethod
    def backward(root):
        order, seen, stack = [], set(), [(root, False)]
        while stack:  # depth-first post-order, as any engine must for a general graph
            n, finished = stack.pop()
            if finished:
                order.append(n)
            elif n not in seen:
                seen.add(n)
                stack.append((n, True))
                for p in (n.a, n.b):
                    if p is not None and p.vjp is not None and p not in seen:
                        stack.append((p, False))
        root.grad = np.ones((), root.data.dtype)
        for n in reversed(order):
            for p, gp in zip((n.a, n.b), n.vjp(n, n.grad)):
                if gp is not None and p.rg:
                    p.grad = gp if p.grad is None else p.grad + gp

    def weights(self):
        return [p.data for p in self.params]


class Torch:
    name = "torch"

    def __init__(self, ws):
        self.params = [torch.tensor(w.copy(), requires_grad=True) for w in ws]

    def step(self, x, labels, rows):
        W1, b1, W2, b2, W3, b3 = self.params
        h = torch.relu(x @ W1 + b1)
        h = torch.relu(h @ W2 + b2)
        logits = h @ W3 + b3
        loss = -logits.log_softmax(dim=-1)[rows, labels].mean()
        for p in self.params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in self.params:
                p -= LR * p.grad
        return loss.item()

    def weights(self):
        return [p.detach().numpy() for p in self.params]


def engines(ws):
    out = [Numpy(ws), Stepgrad(ws), Bare(ws)]
    if torch is not None:
        out.append(Torch(ws))
    return out


def data_for(engine, data):
    if engine.name != "torch":
        return data
    return [(torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(r)) for x, y, r in data]


# ----------------------------------------------------------------------------------------------


def check_agreement(X, y):
    """From identical weights: the same loss before and after one step, the same new weights."""
    ws = init_weights()
    data = batches(X, y, 32)[:1]
    rows = []
    for e in engines(ws):
        (batch,) = data_for(e, data)
        before = e.step(*batch)
        after = e.step(*batch)
        rows.append((e.name, before, after, [np.array(w, copy=True) for w in e.weights()]))
    ref = rows[0]
    print("loss on one batch of 32, before and after one SGD step, from identical weights:")
    for name, before, after, w in rows:
        dw = max(float(np.max(np.abs(a - b))) for a, b in zip(w, ref[3]))
        print(f"  {name:9s} {before:.6f} -> {after:.6f}   max |weight - numpy's| {dw:.2g}")
        assert np.isclose(before, ref[1], rtol=1e-5, atol=1e-6), (name, before, ref[1])
        assert np.isclose(after, ref[2], rtol=1e-5, atol=1e-6), (name, after, ref[2])
        assert dw < 1e-5, (name, dw)
    print("  losses and weights agree\n")


def epoch(engine, data, faults=None):
    """Seconds for one epoch; adds the minor page faults it caused to `faults[engine.name]`."""
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource else 0
    t0 = time.perf_counter()
    for batch in data:
        engine.step(*batch)
    dt = time.perf_counter() - t0
    if faults is not None and resource:
        faults[engine.name] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
    return dt


def bench(X, y, batch_size, repeats):
    ws = init_weights()
    es = engines(ws)
    data = {e.name: data_for(e, batches(X, y, batch_size)) for e in es}
    for _ in range(3):  # warm-up
        for e in es:
            epoch(e, data[e.name])
    times = {e.name: [] for e in es}
    faults = dict.fromkeys(times, 0)
    for i in range(repeats):
        for e in es if i % 2 == 0 else es[::-1]:
            times[e.name].append(epoch(e, data[e.name], faults))
    floor = statistics.median(times["numpy"])
    steps = len(data["numpy"])
    print(f"batch {batch_size} ({steps} steps per epoch), median of {repeats} epochs:")
    paired = {}
    for e in es:
        t = times[e.name]
        med = statistics.median(t)
        paired[e.name] = statistics.median(a / b for a, b in zip(t, times["numpy"]))
        paired[e.name, "fastest"] = min(t) / min(times["numpy"])
        line = (
            f"  {e.name:9s} {med * 1e3:8.2f} ms/epoch  {med / steps * 1e6:7.0f} us/step"
            f"  x{med / floor:5.2f} numpy  (paired median x{paired[e.name]:.2f}; "
            f"min {min(t) * 1e3:.2f} = x{paired[e.name, 'fastest']:.2f} numpy's min, "
            f"max {max(t) * 1e3:.2f}; "
            f"{faults[e.name] / (repeats * steps):.0f} page faults/step)"
        )
        if e.name == "stepgrad":
            goal = GOALS[batch_size]
            line += f"  goal <= {goal}x: {'goal met' if paired[e.name] <= goal else 'ABOVE GOAL'}"
        print(line)
    return paired


def summary(rows):
    """Issue 12's table: every batch size side by side, paired medians of the ratio to numpy."""
    print("\nsummary (paired medians of ms per epoch / the numpy floor's; lower is better;")
    print("in brackets the fastest epoch's / numpy's fastest, which a noisy machine moves less):")
    print(
        "| 64-128-64-10 MLP epoch, ratio to a hand-written numpy floor | stepgrad | torch "
        "| bare graph (the design's floor) | goal |"
    )
    print("|---|---|---|---|---|")

    def both(paired, name):
        if name not in paired:
            return "(not installed)"
        return f"{paired[name]:.2f} ({paired[name, 'fastest']:.2f})"

    for batch_size, paired in rows:
        goal = GOALS[batch_size]
        ok = "goal met" if paired["stepgrad"] <= goal else "ABOVE GOAL"
        print(
            f"| batch {batch_size} | {both(paired, 'stepgrad')} | {both(paired, 'torch')} "
            f"| {both(paired, 'bare')} | <= {goal}: {ok} |"
        )
    print(
        "bare: a node per op and stepgrad's numpy calls, nothing else (class Bare): what no "
        "engine of this design goes below"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--repeats",
        type=int,
        default=21,
        help="timed epochs per engine and batch (a third at batch 1)",
    )
    args = ap.parse_args()
    print_machine()
    X, y, source = load_data()
    print(f"data: {source}, X {X.shape} {X.dtype}")
    print(
        "timing: engines interleaved epoch by epoch after 3 warm-up epochs; the machine is shared, "
        "so expect noise\n"
    )
    check_agreement(X, y)
    rows = []
    for batch_size in BATCHES:
        # an epoch at batch 1 is 1797 steps: fewer epochs there keep the run short
        repeats = max(5, args.repeats // 3) if batch_size == 1 else args.repeats
        rows.append((batch_size, bench(X, y, batch_size, repeats)))
    summary(rows)


if __name__ == "__main__":
    main()
