"""Step through a model one layer at a time: the viewer of `collapse="module"`.

Each nn layer (the `scope` its nodes were made in) is one box, as in
`draw_graph(collapse="module")`. A step is one layer: it comes when backward has gone through
every node of the layer, so the gradients of its parameters and the gradient it passes back to
its input are complete, and the panel lists them. Nodes outside any layer (the loss, the input
batch) keep their own steps. Each layer carries its own viewer of its nodes, opened with
"open layer" (or `o`, or a double click): the same node-by-node steps as without collapse,
restricted to that layer.
"""

import math

import numpy as np

from autograd import Node

from .fmt import format_number
from .graph import LEGEND, Drawing, build_collapsed, build_drawing, module_groups
from .steps import (
    BLANK,
    LAYER_INTRO,
    _grad_text,
    _short,
    display_names,
    fold_ops,
    record,
    render_svg,
    run_steps,
)
from .trace import AUTO_SEP, Trace


def _norm(g):
    return math.sqrt(float(np.sum(np.square(g))))


def _pad(text, width):
    return text + "\u2007" * (width - len(text)) if len(text) < width else text


class _Layers:
    """Which box each node is drawn in, and each layer's nodes, inputs and parameters."""

    def __init__(self, trace, names):
        self.group = group = module_groups(trace, names)
        inputs, index = trace.inputs, trace.index
        self.box = {}  # scope -> box id, in the order draw_graph numbers them
        for s in group:
            if s is not None and s not in self.box:
                self.box[s] = f"m{len(self.box)}"
        self.members = {s: [] for s in self.box}
        for i, s in enumerate(group):
            if s is not None:
                self.members[s].append(i)
        self.params = {s: [i for i in m if not inputs[i]] for s, m in self.members.items()}
        self.outside = {}  # scope -> numbers of the nodes outside it that feed it
        for s, m in self.members.items():
            seen = []
            for i in m:
                for p in inputs[i]:
                    if isinstance(p, Node):
                        j = index[p]
                        if group[j] != s and j not in seen:
                            seen.append(j)
            self.outside[s] = seen

    def rep(self, i):
        s = self.group[i]
        return f"v{i}" if s is None else self.box[s]


def _module_text(layers, s, grads):
    """The gradient row of layer s's box once it is done: its parameters' gradient norm, or
    (no parameters) the norm of what it passed back to its inputs."""
    ps = layers.params[s]
    if ps:
        return "‖grad‖ " + format_number(math.sqrt(sum(_norm(grads[i]) ** 2 for i in ps)))
    back = [grads[j] for j in layers.outside[s] if j in grads]
    return "‖grad‖ in " + format_number(math.sqrt(sum(_norm(g) ** 2 for g in back)))


def _layer_lines(layers, s, R, disp, out_node, out_grad, grads, passed):
    n = len(layers.members[s])
    lines = [
        f"layer {s}: backward has gone through its {n} node{'s' if n != 1 else ''} "
        "(open layer ▸ or o steps inside it)",
        f"d{R}/d{disp(out_node)} = {_short(out_grad)}   (the gradient at the layer's output)",
    ]
    ps = layers.params[s]
    if ps:
        lines.append("its parameters' gradients, complete:")
        lines += [f"  d{R}/d{disp(i)} = {_grad_text(grads[i])}" for i in ps]
    else:
        lines.append("no parameters: it only passes the gradient on")
    for j, g in passed.items():
        where = layers.group[j]
        to = f" (into layer {where})" if where is not None else ""
        lines.append(f"passes back d{R}/d{disp(j)} += {_short(g)}{to}")
    return lines


def _inner(trace, layers, s, full, node_steps, longest, disp, R):
    """The viewer of layer s alone: its nodes and what feeds them, stepped node by node."""
    members = set(layers.members[s])
    ext = layers.outside[s]
    keep_v = {f"v{i}" for i in members} | {f"v{j}" for j in ext}
    keep_o = {f"o{i}" for i in members if trace.inputs[i]}
    consts = {src for src, dst, _ in full.edges if src.startswith("c") and dst in keep_o}
    d = Drawing()
    d.boxes = [b for b in full.boxes if b.id in keep_v or b.id in keep_o or b.id in consts]
    kept = keep_v | keep_o | consts
    d.edges = [e for e in full.edges if e[0] in kept and e[1] in kept]
    steps = []
    for st in node_steps:
        if int(st["node"][1:]) in members:
            steps.append({**st, "set": [x for x in st["set"] if x[0] in keep_v]})
    outs = [i for i in layers.members[s] if trace.inputs[i]]
    top = min(outs) if outs else layers.members[s][0]  # the layer's output comes first
    data = {
        "root": f"v{top}",
        "rootName": R,
        "blank": BLANK,
        "intro": (
            f"Inside layer {s}: its nodes one at a time. The gradient comes in at its output "
            f"{disp(top)} from the layer above; the boxes on the left are what feeds the layer."
        ),
        "nodes": sorted(keep_v, key=lambda v: int(v[1:])),
        "steps": steps,
        "interval": 800,
        "legend": {k: LEGEND[k] for k in ("parameter", "input", "constant")},
    }
    return {"svg": render_svg(fold_ops(d)), "data": data}


def _layer_order(trace, layers, raw):
    """The engine's steps (positions in `raw`) reordered so that each layer's come together,
    where its first one was: still an order in which every node comes after all its users
    (else the engine's own order)."""
    index, group = trace.index, layers.group
    first = {}
    for k, st in enumerate(raw):
        s = group[index[st.node]]
        if s is not None:
            first.setdefault(s, k)
    seq = sorted(range(len(raw)), key=lambda k: (first.get(group[index[raw[k].node]], k), k))
    pos = {index[raw[k].node]: p for p, k in enumerate(seq)}
    cons = trace.consumers()
    for i, p in pos.items():
        if any(pos.get(c, -1) > p for c in cons[i]):
            return list(range(len(raw)))
    return seq


def layer_payload(root, names=None, rankdir=None, max_nodes="auto", grad=None, what="step_through"):
    """(svg, data) for the viewer stepping through `root`'s backward one nn layer at a time."""
    trace = Trace(root)
    layers = _Layers(trace, names)
    if not layers.box:
        raise ValueError(
            f"{what}(collapse='module'): no node of this graph was made inside an nn layer, so "
            "there are no layers to step through; build the loss with an nn model (its layers "
            "tag their nodes), or leave out collapse= to step node by node"
        )
    all_names = display_names(trace, names)
    disp = all_names.__getitem__
    R = disp(0)

    def in_formula(i):  # as in the node steps: d(layers.1 · add), a name with spaces bracketed
        name = all_names[i]
        return f"({name})" if AUTO_SEP in name else name

    order, raw = run_steps(trace, grad)
    _, longest, node_data = record(trace, names, grad, ran=(order, raw))
    node_steps = node_data["steps"]
    index = trace.index

    seq = _layer_order(trace, layers, raw)
    last = {}  # scope -> position in seq of its last node
    for pos, k in enumerate(seq):
        s = layers.group[index[raw[k].node]]
        if s is not None:
            last[s] = pos
    grads, passed = {}, {s: {} for s in layers.box}
    texts = {}  # box id -> the texts it shows at some step
    out_steps = []
    for pos, k in enumerate(seq):
        st = raw[k]
        i = index[st.node]
        s = layers.group[i]
        for p, _, contrib in st.contributions:
            j = index[p]
            grads[j] = contrib if j not in grads else grads[j] + contrib
            if s is not None and layers.group[j] != s:
                q = passed[s]
                q[j] = contrib if j not in q else q[j] + contrib
        if s is None:
            entry = dict(node_steps[k])
            sets, seen = [], set()
            for vid, t in entry["set"]:
                r = layers.rep(int(vid[1:]))
                if r.startswith("m"):
                    t = None  # marks the layer as receiving, its text stays blank
                if r not in seen:
                    seen.add(r)
                    sets.append([r, t])
            entry["set"] = sets
            out_steps.append(entry)
            continue
        if last[s] != pos:
            continue
        box = layers.box[s]
        text = _module_text(layers, s, grads)
        texts.setdefault(box, set()).add(text)
        sets = [[box, text]]
        for j in passed[s]:
            r = layers.rep(j)
            if r.startswith("m"):
                sets.append([r, None])
            else:
                t = "grad " + _grad_text(grads[j])
                texts.setdefault(r, set()).add(t)
                sets.append([r, t])
        outs = [m for m in layers.members[s] if layers.rep(m) == box and trace.inputs[m]]
        top = min(outs) if outs else layers.members[s][0]
        out_steps.append(
            {
                "node": box,
                "name": s,
                "op": "layer",
                "lines": _layer_lines(
                    layers, s, R, in_formula, top, grads.get(top, 0.0), grads, passed[s]
                ),
                "set": sets,
            }
        )

    # the drawing: one box per layer, its gradient row wide enough for every text it shows
    named = {trace.nodes[i]: n for i, n in enumerate(all_names)}
    d = build_collapsed(trace, True, True, names, None, max_nodes, grids=False)
    width = {box: max(len(BLANK), *(len(t) for t in ts)) for box, ts in texts.items()}
    blanks = {}
    for b in d.boxes:
        if b.kind == "module":
            rows = [r for r in b.rows if r[1] != "grad"]
            longest_text = max(texts.get(b.id, {BLANK}), key=len)
            rows.insert(2, (_pad(longest_text, width.get(b.id, len(BLANK))), "grad"))
            b.rows = rows
            blanks[b.id] = _pad(BLANK, width.get(b.id, len(BLANK)))
        elif b.kind == "value" and b.value is not None:
            name = all_names[b.value]
            rows = list(b.rows)
            if rows and rows[0][1] in ("name", "auto"):
                rows[0] = (name, "name")
            else:
                rows.insert(0, (name, "name"))
            g = longest.get(b.value)
            b.rows = [(("grad " + g) if style == "grad" and g else t, style) for t, style in rows]
    # a receiving layer's text stays its blank (it is only coloured as being summed)
    for st in out_steps:
        st["set"] = [[r, t if t is not None else blanks.get(r, BLANK)] for r, t in st["set"]]
    full = build_drawing(trace, names=named, step_names=True, grad_texts=longest, what=what)
    inner = {}
    for s, box in layers.box.items():
        inner[box] = _inner(trace, layers, s, full, node_steps, longest, disp, R)
    for st in out_steps:
        if st["node"] in inner:
            st["inner"] = inner[st["node"]]
    data = {
        "root": "v0",
        "rootName": R,
        "blank": BLANK,
        "blanks": blanks,
        "intro": LAYER_INTRO,
        "nodes": [b.id for b in d.boxes if b.kind in ("module", "value")],
        "steps": out_steps,
        "interval": 800,
        "legend": {k: LEGEND[k] for k in ("module", "parameter", "input", "constant", "root")},
    }
    return render_svg(fold_ops(d), rankdir), data
