"""micrograd's demo training step on stepgrad's `Value`, against micrograd 0.1.0, side by side.

MLP(2, [16, 16, 1]) on 100 two-moons points, SVM max-margin loss + 1e-4 L2, forward, backward
and an SGD update, as in micrograd's demo.ipynb. Prints ms per step with the garbage collector
on (as a user runs it) and off, the ratio micrograd/stepgrad, a forward/backward split in us per
node, and bytes per node (tracemalloc). Both engines run in this one process, interleaved, from
identical weights, and their losses are checked to agree step by step.

    .venv/bin/python benchmarks/scalar_mlp.py [--repeats 7] [--steps 5]
"""

import argparse
import gc
import platform
import random
import statistics
import sys
import time
import tracemalloc

import numpy as np

from autograd import Value, gc_paused
from nn.scalar import MLP

try:
    from micrograd.engine import Value as MGValue
    from micrograd.nn import MLP as MGMLP
except ImportError:
    sys.exit("micrograd==0.1.0 is needed: .venv/bin/pip install -e '.[bench]' (or ./dev.sh bench)")

GOALS = {  # micrograd / stepgrad (issue 12)
    "clean": 8.0,  # one step from a clean heap, garbage collector on
    "loop": 14.0,  # steps in a loop, collector on (micrograd's cycles pile up)
    "off": 1.7,  # collector off: the engines' own work
}
GOAL_FORWARD_US = 0.3  # stepgrad forward, us per node, collector off
GOAL_BACKWARD_US = 0.5  # stepgrad backward, us per node, collector off
GOAL_BYTES = 300  # bytes per node of the forward graph


# ----------------------------------------------------------------------------------------------
# data: sklearn's make_moons(n_samples=100, noise=0.1), written with numpy


def make_moons(n=100, noise=0.1, seed=1337):
    rng = np.random.default_rng(seed)
    n_out, n_in = n // 2, n - n // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], axis=1),
        ]
    )
    X += rng.normal(scale=noise, size=X.shape)
    y = np.concatenate([np.zeros(n_out, dtype=int), np.ones(n_in, dtype=int)])
    perm = rng.permutation(n)
    # plain Python numbers, as both engines like them best (the demo passes numpy scalars,
    # which would make micrograd's arithmetic slower still)
    return X[perm].tolist(), (y[perm] * 2 - 1).tolist()


def copy_weights(src, dst):
    """Give `dst` (stepgrad) the weights of `src` (micrograd), neuron by neuron."""
    try:
        pairs = []
        for ls, ld in zip(src.layers, dst.layers, strict=True):
            for ns, nd in zip(ls.neurons, ld.neurons, strict=True):
                pairs += list(zip(ns.w, nd.w, strict=True)) + [(ns.b, nd.b)]
    except (AttributeError, ValueError):
        pairs = list(zip(src.parameters(), dst.parameters(), strict=True))
    for s, d in pairs:
        d.data = float(s.data)


def zero_grad(model):
    if hasattr(model, "zero_grad"):
        model.zero_grad()
    else:
        for p in model.parameters():
            p.grad = 0.0


# ----------------------------------------------------------------------------------------------
# the demo's loss and training step, word for word apart from `V` (the engine's Value)


def loss(model, X, y, V):
    inputs = [list(map(V, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    alpha = 1e-4
    reg_loss = alpha * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
    return total_loss, sum(accuracy) / len(accuracy)


def train_step(model, X, y, V, k):
    total_loss, acc = loss(model, X, y, V)
    zero_grad(model)
    total_loss.backward()
    learning_rate = 1.0 - 0.9 * (k % 100) / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return total_loss.data, acc


class Run:
    """One engine's model in training: its step counter and the losses it printed."""

    def __init__(self, name, model, V):
        self.name, self.model, self.V = name, model, V
        self.k = 0
        self.losses = []

    def block(self, X, y, steps, gc_on):
        """Seconds per step over `steps` steps; the garbage is collected outside the timer."""
        gc.collect()
        if not gc_on:
            gc.disable()
        try:
            t0 = time.perf_counter()
            for _ in range(steps):
                self.losses.append(train_step(self.model, X, y, self.V, self.k)[0])
                self.k += 1
            dt = time.perf_counter() - t0
        finally:
            gc.enable()
        gc.collect()
        return dt / steps


def make_pair(seed=1337):
    random.seed(seed)
    mg = MGMLP(2, [16, 16, 1])
    sg = MLP(2, [16, 16, 1])
    copy_weights(mg, sg)
    return Run("micrograd", mg, MGValue), Run("stepgrad", sg, Value)


def assert_agree(mg, sg, what):
    worst = max(abs(a - b) / max(abs(a), 1e-12) for a, b in zip(mg.losses, sg.losses))
    if worst > 1e-9:
        raise AssertionError(f"{what}: losses differ (worst relative difference {worst:.3g})")
    return worst


# ----------------------------------------------------------------------------------------------
# graph size and memory


def graph_nodes_micrograd(root):
    seen, stack = {root}, [root]
    while stack:
        for c in stack.pop()._prev:
            if c not in seen:
                seen.add(c)
                stack.append(c)
    return len(seen)


def graph_nodes_stepgrad(root):
    from autograd import toposort

    return len(toposort(root))


def memory(run, X, y, count):
    """Bytes of one step's graph per node: after forward, after backward, peak in backward."""
    params = len(run.model.parameters())
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        total_loss, _ = loss(run.model, X, y, run.V)
        fwd = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.reset_peak()
        zero_grad(run.model)
        total_loss.backward()
        cur, peak = tracemalloc.get_traced_memory()
        bwd, peak = cur - base, peak - base
    finally:
        tracemalloc.stop()
        gc.enable()
    nodes = count(total_loss) - params  # the parameters existed before the step
    del total_loss
    gc.collect()
    return nodes, fwd / nodes, bwd / nodes, peak / nodes


def split(run, X, y):
    """Seconds of one step's forward, backward and update, with the collector off."""
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        total_loss, _ = loss(run.model, X, y, run.V)
        t1 = time.perf_counter()
        zero_grad(run.model)
        total_loss.backward()
        t2 = time.perf_counter()
        for p in run.model.parameters():
            p.data -= 0.1 * p.grad
        t3 = time.perf_counter()
        del total_loss
    finally:
        gc.enable()
    return t1 - t0, t2 - t1, t3 - t2


def gc_cost(run, X, y, steps):
    """Collections per step by generation, seconds per step in them, and seconds per step."""
    calls, spent, start = [0, 0, 0], [0.0], [0.0]

    def callback(phase, info):
        if phase == "start":
            start[0] = time.perf_counter()
        else:
            calls[info["generation"]] += 1
            spent[0] += time.perf_counter() - start[0]

    gc.collect()
    gc.callbacks.append(callback)
    try:
        t0 = time.perf_counter()
        for _ in range(steps):
            train_step(run.model, X, y, run.V, run.k)
            run.k += 1
        total = time.perf_counter() - t0
    finally:
        gc.callbacks.remove(callback)
    gc.collect()
    return [round(c / steps, 1) for c in calls], spent[0] / steps, total / steps


# ----------------------------------------------------------------------------------------------


def mark(ok):
    return "goal met" if ok else "BELOW GOAL"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7, help="timed blocks per engine and mode")
    ap.add_argument("--steps", type=int, default=5, help="training steps per GC-off block")
    ap.add_argument("--loop", type=int, default=20, help="steps per block of the loop row")
    ap.add_argument("--loop-repeats", type=int, default=3, help="timed blocks of the loop row")
    args = ap.parse_args()

    X, y = make_moons()
    print("scalar MLP benchmark: micrograd demo step, MLP(2, [16, 16, 1]), 100 moons points")
    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print(
        "stepgrad network: nn.scalar.MLP; micrograd 0.1.0 from PyPI; "
        f"gc thresholds {gc.get_threshold()}"
    )
    print(
        f"timing: median of {args.repeats} blocks of {args.steps} steps per engine, engines "
        "interleaved, after one warm-up block; the machine is shared, so expect noise\n"
    )

    # 1. the same losses from the same weights
    mg, sg = make_pair()
    print("step  loss micrograd        loss stepgrad         accuracy")
    for k in range(5):
        lm, am = train_step(mg.model, X, y, mg.V, k)
        ls, as_ = train_step(sg.model, X, y, sg.V, k)
        mg.losses.append(lm)
        sg.losses.append(ls)
        print(f"{k:4d}  {lm:.15f}  {ls:.15f}  {am:.2f} / {as_:.2f}")
    print(f"losses agree (worst relative difference {assert_agree(mg, sg, 'check'):.2g})\n")

    # 2. ms per step: clean heap and GC on, 20 steps in a loop with GC on, GC off
    results = {}
    for key, label, steps, gc_on, repeats in (
        ("clean", "clean heap, GC on (one step after gc.collect())", 1, True, args.repeats),
        ("loop", f"{args.loop} steps in a loop, GC on", args.loop, True, args.loop_repeats),
        ("off", f"GC off (blocks of {args.steps} steps)", args.steps, False, args.repeats),
    ):
        mg, sg = make_pair()
        runs = (mg, sg)
        for r in runs:
            r.block(X, y, 1, gc_on)  # warm-up
        times = {r.name: [] for r in runs}
        for i in range(repeats):
            for r in runs if i % 2 == 0 else runs[::-1]:
                times[r.name].append(r.block(X, y, steps, gc_on))
        assert_agree(mg, sg, "timed run")
        med = {name: statistics.median(t) for name, t in times.items()}
        paired = statistics.median(a / b for a, b in zip(times["micrograd"], times["stepgrad"]))
        results[key] = (med, paired)
        print(f"{label}, median of {repeats} blocks:")
        for name in ("micrograd", "stepgrad"):
            t = times[name]
            print(
                f"  {name:9s} {med[name] * 1e3:8.1f} ms/step"
                f"   (min {min(t) * 1e3:.1f}, max {max(t) * 1e3:.1f})"
            )
        goal = GOALS[key]
        print(
            f"  micrograd/stepgrad: paired median {paired:6.2f}x   goal >= {goal:g}x: "
            f"{mark(paired >= goal)}"
        )
    print()

    # 2b. the opt-in autograd.gc_paused() around stepgrad's loop, against its plain GC-on loop
    _, sg = make_pair()
    sg.block(X, y, 1, True)
    plain, paused = [], []
    for _ in range(args.loop_repeats):
        plain.append(sg.block(X, y, args.loop, True))
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(args.loop):  # what a user writes: each step inside gc_paused()
            with gc_paused():
                sg.losses.append(train_step(sg.model, X, y, sg.V, sg.k)[0])
            sg.k += 1
        paused.append((time.perf_counter() - t0) / args.loop)
    results["paused"] = (statistics.median(plain), statistics.median(paused))
    print(f"stepgrad, {args.loop} steps in a loop, GC on vs inside autograd.gc_paused() (opt-in):")
    print(
        f"  GC on {results['paused'][0] * 1e3:.1f} ms/step, gc_paused "
        f"{results['paused'][1] * 1e3:.1f} ms/step (medians of {args.loop_repeats} blocks)\n"
    )

    # 3. how much of a step the cyclic garbage collector takes
    mg, sg = make_pair()
    print("cyclic garbage collector during GC-on steps (counted with gc.callbacks):")
    for run in (mg, sg):
        run.block(X, y, 1, True)
        calls, spent, total = gc_cost(run, X, y, args.steps)
        counts = "/".join(str(c) for c in calls)
        print(
            f"  {run.name:9s} {spent * 1e3:7.1f} of {total * 1e3:7.1f} ms/step in the collector "
            f"({spent / total:4.0%}), collections per step (gen 0/1/2): {counts}"
        )
    print()

    # 4. where the time goes, per node (collector off), engines interleaved
    mg, sg = make_pair()
    print(f"per node, GC off (median of {args.repeats} interleaved steps per engine):")
    print("  engine     nodes/step  forward us/node  backward us/node  update ms")
    nodes = {
        r.name: memory(r, X, y, c)[0]
        for r, c in ((mg, graph_nodes_micrograd), (sg, graph_nodes_stepgrad))
    }
    parts = {r.name: [] for r in (mg, sg)}
    for i in range(args.repeats):
        for r in (mg, sg) if i % 2 == 0 else (sg, mg):
            parts[r.name].append(split(r, X, y))
    per_node = {}
    for name in ("micrograd", "stepgrad"):
        f, b, u = (statistics.median(x) for x in zip(*parts[name]))
        per_node[name] = (f / nodes[name] * 1e6, b / nodes[name] * 1e6)
        print(
            f"  {name:9s}  {nodes[name]:10d}  {per_node[name][0]:15.3f}  "
            f"{per_node[name][1]:16.3f}  {u * 1e3:9.2f}"
        )
    print()

    # 5. memory per node of one step's graph
    print("memory (tracemalloc), bytes per node of one step's graph (parameters not counted):")
    print("  engine     nodes/step  after forward  after backward  peak in backward  graph KiB")
    per = {}
    for run, count in ((mg, graph_nodes_micrograd), (sg, graph_nodes_stepgrad)):
        nodes, fwd, bwd, peak = memory(run, X, y, count)
        per[run.name] = fwd
        print(
            f"  {run.name:9s}  {nodes:10d}  {fwd:13.0f}  {bwd:14.0f}  {peak:16.0f}"
            f"  {nodes * fwd / 1024:9.0f}"
        )
    ok = per["stepgrad"] <= GOAL_BYTES
    print(
        f"  stepgrad: {per['stepgrad']:.0f} bytes/node after forward, goal about {GOAL_BYTES} or "
        f"less: {mark(ok)}; micrograd/stepgrad {per['micrograd'] / per['stepgrad']:.1f}x"
    )
    print("  (micrograd also makes a node per constant, so it has more nodes per step)")
    print()
    summary(results, per_node, args.loop)


def summary(results, per_node, loop):
    """Issue 12's table: every row side by side."""
    print("summary (paired medians; ratio = micrograd / stepgrad, so higher is better):")
    print("| work | micrograd 0.1.0 | stepgrad | ratio | goal |")
    print("|---|---|---|---|---|")
    rows = (
        ("clean", "micrograd's demo step, clean heap, GC on"),
        ("loop", f"same, {loop} steps in a loop, GC on"),
        ("off", "same, GC off"),
    )
    for key, what in rows:
        med, paired = results[key]
        m, s = med["micrograd"] * 1e3, med["stepgrad"] * 1e3
        goal = GOALS[key]
        print(
            f"| {what} | {m:.0f} ms | {s:.0f} ms | {paired:.2f}x | >= {goal:g}x: "
            f"{mark(paired >= goal)} |"
        )
    if "paused" in results:
        plain, paused = results["paused"]
        m = results["loop"][0]["micrograd"]
        print(
            f"| same loop, stepgrad inside gc_paused() (opt-in) | {m * 1e3:.0f} ms | "
            f"{paused * 1e3:.0f} ms | {m / paused:.2f}x | (was {plain * 1e3:.0f} ms with GC on) |"
        )
    for i, (what, goal) in enumerate(
        (("forward", GOAL_FORWARD_US), ("backward", GOAL_BACKWARD_US))
    ):
        m, s = per_node["micrograd"][i], per_node["stepgrad"][i]
        print(
            f"| {what} per node, GC off | {m:.2f} us | {s:.2f} us | {m / s:.2f}x | "
            f"<= {goal:g} us: {mark(s <= goal)} |"
        )


if __name__ == "__main__":
    main()
