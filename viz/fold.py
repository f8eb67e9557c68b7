"""Fold repeats: a chain of identical blocks (N identical Dense layers, an unrolled RNN whose
steps run in scopes 'step.0', 'step.1', ...) drawn once, with "× N".

A block is the nodes of one nn scope (a module, or `autograd.scope(...)`). Two blocks are
identical when their ops, shapes and dtypes, and their parameters' labels and shapes, are the
same in the same order; a run is a chain of such blocks each feeding the next.
"""

import numpy as np

from autograd import Node


def _signature(trace, members):
    out = []
    for i in sorted(members, reverse=True):  # forward order: the deepest node first
        n = trace.nodes[i]
        shape = tuple(np.shape(n.data))
        dtype = str(getattr(n.data, "dtype", "float"))
        out.append((n.op, n.label if not trace.inputs[i] else "", shape, dtype))
    return tuple(out)


def find_runs(trace, group):
    """The runs of identical blocks: a list of lists of scopes, each run in forward order.

    `group[i]` is the scope of node i's block (viz.graph.module_groups), None outside any.
    """
    members = {}
    for i, s in enumerate(group):
        if s is not None:
            members.setdefault(s, []).append(i)
    # forward order: the scope whose deepest node is deepest in the trace came first
    order = sorted(members, key=lambda s: -max(members[s]))
    sig = {s: _signature(trace, members[s]) for s in order}
    index = trace.index

    def feeds(a, b):  # a node of block b takes a node of block a as an input
        mine = set(members[a])
        for i in members[b]:
            for p in trace.inputs[i]:
                if isinstance(p, Node) and index[p] in mine:
                    return True
        return False

    runs, run = [], [order[0]] if order else []
    for s in order[1:]:
        if sig[s] == sig[run[-1]] and feeds(run[-1], s):
            run.append(s)
        else:
            if len(run) > 1:
                runs.append(run)
            run = [s]
    if len(run) > 1:
        runs.append(run)
    return runs


def run_label(run, what=""):
    """'layers.1 … layers.4 · Dense(4, relu) × 4'."""
    head = f"{run[0]} … {run[-1]}" if len(run) > 2 else f"{run[0]}, {run[1]}"
    return f"{head}{' · ' + what if what else ''} × {len(run)}"


def fold_drawing(d, trace, group):
    """The plain Drawing `d` with each run drawn once: the first block's boxes in a cluster
    labelled "× N" (its numbers are the first block's), the others left out, and the edges
    out of the last block drawn from the first block's output."""
    runs = find_runs(trace, group)
    if not runs:
        return d
    index = trace.index
    hide, redirect, clusters = set(), {}, []
    for run in runs:
        blocks = [[i for i, s in enumerate(group) if s == b] for b in run]
        first, last = set(blocks[0]), set(blocks[-1])
        out_first = _output(trace, first, set(blocks[1]), index)
        out_last = _output(trace, last, None, index)
        for b in blocks[1:]:
            hide.update(b)
        for j in out_last:
            if out_first:
                redirect[j] = out_first[0]
        what = getattr(run[0], "what", "")
        ids = [f"v{i}" for i in blocks[0]] + [f"o{i}" for i in blocks[0] if trace.inputs[i]]
        label = run_label(run, what) + f"   (drawn once; the numbers are {run[0]}'s)"
        clusters.append((label, ids))
    hidden = {f"v{i}" for i in hide} | {f"o{i}" for i in hide}
    const_of_hidden = {src for src, dst, _ in d.edges if dst in hidden and src.startswith("c")}
    hidden |= const_of_hidden
    # a leaf drawn once per use (viz.graph's layout plan): its boxes that feed only hidden
    # blocks go too, as long as one box of it stays
    outs, boxes_of = {}, {}
    for src, dst, _ in d.edges:
        outs.setdefault(src, []).append(dst)
    for b in d.boxes:
        if b.kind == "value" and b.value is not None:
            boxes_of.setdefault(b.value, []).append(b.id)
    for ids in boxes_of.values():
        if len(ids) < 2:
            continue
        idle = [i for i in ids if outs.get(i) and all(t in hidden for t in outs[i])]
        if len(idle) == len(ids):
            idle = idle[1:]
        hidden.update(idle)
    out = type(d)()
    out.boxes = [b for b in d.boxes if b.id not in hidden]
    seen = set()
    for src, dst, label in d.edges:
        if dst in hidden:
            continue
        if src in hidden:
            j = int(src[1:])
            if j not in redirect:
                continue
            src = f"v{redirect[j]}"
            label = label or f"× {_run_len(runs, group[j])}"
        if (src, dst) not in seen:
            seen.add((src, dst))
            out.edges.append((src, dst, label))
    out.clusters = clusters
    return out


def _run_len(runs, scope):
    for run in runs:
        if scope in run:
            return len(run)
    return 1


def _output(trace, block, into, index):
    """The nodes of `block` used outside it (by `into` only, when given), deepest first."""
    cons = trace.consumers()
    outs = []
    for i in sorted(block, reverse=True):
        users = [c for c in cons[i] if c not in block]
        if users and (into is None or any(c in into for c in users)):
            outs.append(i)
    return outs
