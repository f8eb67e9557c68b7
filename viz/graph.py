"""`draw_graph`: a computation graph as a Graphviz Digraph, data and gradient on every node.

Tracing (trace.py) is kept apart from drawing: this file turns a Trace into a `Drawing` (boxes
with rows of text, and edges), which becomes DOT here or, without Graphviz, an SVG (layout.py).

Colour legend (`LEGEND`): parameters (leaves with requires_grad) light blue, inputs (leaves
without) light green, constants grey and dashed, intermediate values white, the root gold,
ops small grey ovals, collapsed nn modules lavender. A NaN or inf in a node's data or gradient
paints it red; `highlight=` gives a node a thick pink border.
"""

import html
import math
import sys

import numpy as np

from autograd import Node

from .deps import require
from .fmt import (
    format_data,
    format_grad,
    format_header,
    format_number,
    format_shape,
    format_short,
    format_summary,
    grid,
    nonfinite,
    norm,
)
from .font import FAMILY, ROOM, text_width
from .trace import (
    AUTO_SEP,
    Trace,
    constant_names,
    is_param_of,
    name_info,
    name_map,
    role,
    summed_axes,
    summed_text,
    takes_part,
)

LEGEND = {
    "parameter": "#cfe2ff",
    "input": "#d3f9d8",
    "constant": "#f1f3f5",
    "intermediate": "#ffffff",
    "root": "#ffe066",
    "op": "#e9ecef",
    "module": "#e5dbff",
    "nonfinite": "#ff8787",
    "highlight": "#d6336c",
}
"""Fill colour of each kind of node (and the border colour of highlighted nodes)."""

BORDER = "#495057"
NONFINITE_BORDER = "#c92a2a"
FONT = FAMILY  # DejaVu Sans, Verdana, sans-serif: see viz/font.py
NO_DOT = (
    "viz: Graphviz's `dot` program was not found on PATH; install it with "
    "`sudo apt install graphviz` (or run ./dev.sh setup); the DOT text is in `.source`."
)


class GraphTooLargeError(ValueError):
    """The graph has more nodes than `max_nodes`; draw a part of it (collapse= or focus=)."""


# ----------------------------------------------------------------------------------------------
# the drawing: what to draw, independent of Graphviz


class Box:
    """One drawn node: an id, rows of (text, style) and its colours."""

    __slots__ = ("id", "kind", "rows", "fill", "border", "penwidth", "value", "group")

    def __init__(self, id, kind, rows, fill, border=BORDER, penwidth=1.0, value=None):
        self.id, self.kind, self.rows = id, kind, rows
        self.fill, self.border, self.penwidth = fill, border, penwidth
        self.value = value  # the value node's number in the Trace, or None
        self.group = None  # the nn scope (module) of the value, for wrapping between layers


class Drawing:
    """Boxes and edges `(src_id, dst_id, label)`, in a deterministic order."""

    def __init__(self):
        self.boxes, self.edges = [], []
        self.clusters = []  # (label, [box ids]): boxes drawn in a labelled frame (fold=True)
        self.plan = None  # the LayoutPlan it was drawn with, if any
        self.folded = False  # each op drawn inside its value's box (the viewer's drawing)


def _attr_value(v):
    if isinstance(v, np.ndarray) and v.size > 6:
        return f"array{format_shape(v)}"
    return repr(v) if not isinstance(v, float) else format_number(v)


def _attrs_text(attrs):
    parts = []
    for k, v in attrs.items():
        if v is None:
            continue
        if isinstance(v, tuple) and any(isinstance(e, np.ndarray) for e in v):  # an index
            s = "(" + ", ".join(_attr_value(e) for e in v) + ")"
        else:
            s = _attr_value(v)
        parts.append(f"{k}={s if len(s) <= 24 else s[:21] + '...'}")
    return ", ".join(parts)


def _value_rows(
    node, name, show_data, show_grad, grad_text=None, auto=False, fresh=False, grids=True
):
    """The rows of a value box: its name, then (a Tensor) shape and dtype, data and grad.

    In draw_graph (no `grad_text`) a small array is a grid of its numbers with its gradient's
    beside it; a large one a one-line summary. `fresh`: no backward has run yet, so the
    gradient row says so instead of showing zeros.
    """
    rows = []
    if name:
        rows.append((name, "auto" if auto else "name"))
    data = node.data
    is_array = isinstance(data, np.ndarray)
    if is_array:
        rows.append((format_header(data), "shape"))
    wants_grad = show_grad and takes_part(node)
    g = None if fresh else node.grad
    if grad_text is None and grids and is_array and show_data:
        cells = grid(data)
        gcells = grid(g) if wants_grad and isinstance(g, np.ndarray) else None
        if cells is not None and (len(cells) > 1 or len(cells[0]) > 1):
            if gcells is not None and len(gcells) == len(cells):
                rows.append((_GRID_SEP.join(["data", "grad"]), "gridhead"))
                for a, b in zip(cells, gcells):
                    rows.append(("\t".join(a) + _GRID_SEP + "\t".join(b), "grid"))
                return rows
            rows.append(("data", "gridhead"))
            rows.extend(("\t".join(a), "grid") for a in cells)
            show_data = False
    if show_data:
        lines = format_data(data)
        rows.append(("data " + lines[-1], "data"))
    if wants_grad:
        if grad_text is not None:
            rows.append(("grad " + grad_text, "grad"))
        elif fresh or g is None:
            rows.append(("grad not yet", "blank"))
        else:
            rows.append(("grad " + format_grad(g), "grad"))
    return rows


_GRID_SEP = "\t│\t"  # between the data and the grad half of a grid row


def _fresh(root):
    """True when no backward has run through `root` yet (its gradient is None or 0)."""
    g = root.grad
    if g is None:
        return True
    if isinstance(g, np.ndarray):
        return False
    return g == 0


def _constant_rows(c, name=None):
    """A constant's rows: a number, a small array's values, or a large one's summary."""
    if isinstance(c, np.ndarray) and c.size > 6:
        text = format_summary(c)
    else:
        text = format_short(c)
    return [(name, "name"), (text, "data")] if name else [(text, "data")]


# ----------------------------------------------------------------------------------------------
# the layout's cost, estimated from the trace before anything is drawn

COPY_SPAN = 4
"""A leaf whose uses lie more than this many ranks apart gets a box per use (see `layout_plan`)."""

COPY_FROM = 3_000
"""Leaves get a box per use only in a graph whose layout would cost this much or more drawn
as it is (`dot` takes a few seconds there); a smaller graph shows each leaf once, with all
its uses, which is what a learner should see (a value used twice adds its gradients)."""

LAYOUT_BUDGET = 40_000
"""The largest estimated layout cost (`LayoutPlan.cost`: boxes plus the ranks long edges
cross) that `draw_graph` lays out by default: about 30 s of Graphviz's `dot` on a busy 2-core
machine. benchmarks/layout.py prints the times."""

BIG_LAYOUT = 8_000
"""From this layout cost on, `dot` stops its position search early (nslimit, nslimit1): half the
time, a slightly less tidy picture; smaller graphs are drawn exactly as before."""


class LayoutPlan:
    """What the layered layout of a trace will cost, and which leaves get a box per use.

    `levels[i]`: the longest path from node i to the root, in value nodes (the rank of node i
    when every node is placed as near to the root as its consumers let it). `copies[j]`: the
    consumers of leaf j, each of which gets its own box of j, when j's uses lie more than
    COPY_SPAN levels apart and the graph is big (COPY_FROM): a parameter used by the forward
    pass near the inputs and by an L2 term near the loss would otherwise cross every rank in
    between. `cost`: boxes plus the
    virtual nodes Graphviz puts on the ranks a long edge crosses (what its slow passes scale
    with); `folded_cost` the same for the viewer's drawing (each op inside its value's box).
    """

    __slots__ = ("levels", "copies", "boxes", "virtual", "cost", "folded_cost")

    def __init__(self, trace, keep=None):
        nodes, inputs, index = trace.nodes, trace.inputs, trace.index
        cons = trace.consumers()
        n = len(nodes)
        levels = [0] * n
        left = [len(c) for c in cons]  # consumer edges not yet passed
        ready = [0]
        while ready:  # Kahn's algorithm from the root: each node after all its consumers
            i = ready.pop()
            li = levels[i] + 1
            for p in inputs[i]:
                if isinstance(p, Node):
                    j = index[p]
                    if levels[j] < li:
                        levels[j] = li
                    left[j] -= 1
                    if left[j] == 0:
                        ready.append(j)
        copies, candidates = {}, {}
        values = ops = virtual = folded = 0
        for j in range(n):
            if keep is not None and j not in keep:
                continue
            c = cons[j] if keep is None else [i for i in cons[j] if i in keep]
            values += 1
            if inputs[j]:
                ops += 1 + sum(1 for p in inputs[j] if not isinstance(p, Node))  # and constants
            elif len(c) > 1:
                lv = [levels[i] for i in c]
                if max(lv) - min(lv) > COPY_SPAN:
                    lj = levels[j]
                    once = sum(2 * (lj - levels[i]) - 2 for i in c)
                    once_folded = sum(lj - levels[i] - 1 for i in c)
                    candidates[j] = (list(dict.fromkeys(c)), once, once_folded)
                    continue
            lj = levels[j]
            for i in c:
                span = lj - levels[i]  # in value levels; a plain drawing has 2 ranks per level
                virtual += 2 * span - 2
                folded += span - 1
        once = sum(v for _, v, _ in candidates.values())
        if values + ops + virtual + once < COPY_FROM:
            # small enough to lay out fast as it is: each leaf once, its uses' sum in view
            virtual += once
            folded += sum(f for _, _, f in candidates.values())
        else:  # each copy sits next to its use: no long edge
            for j, (uses, _, _) in candidates.items():
                copies[j] = uses
                values += len(uses) - 1
        self.levels, self.copies = levels, copies
        self.boxes, self.virtual = values + ops, virtual
        self.cost = values + ops + virtual
        self.folded_cost = values + folded


def count_nodes(trace, keep=None):
    """How many boxes a plain drawing has (values, ops, constants), of `keep` only if given."""
    if keep is None:
        c = trace.counts()
        return c["values"] + c["ops"] + c["constants"]
    return len(keep) + sum(1 for i in keep if trace.inputs[i])


def check_cost(plan, what, folded=False, budget=LAYOUT_BUDGET, collapsed=False):
    """Raise GraphTooLargeError (at once, before anything is drawn) when the plan's layout
    cost is over `budget`: the error says how large the graph is and what to do."""
    cost = plan.folded_cost if folded else plan.cost
    if cost <= budget:
        return
    seconds = 30 * (cost / budget) ** 1.5  # dot's time grows a little faster than its cost
    bends = f"; its long edges cross {plan.virtual} ranks in all" if plan.virtual else ""
    raise GraphTooLargeError(
        f"{what}: the graph has {plan.boxes} nodes to draw (values, ops and constants){bends}. "
        f"Laying it out would take about {seconds:.0f} s or more (layout cost {cost}, over "
        f"the limit of {budget}). {_hint(collapsed, 'max_nodes=None')}"
    )


def _hint(collapsed, raise_it):
    if collapsed:
        return (
            "Tag more of the graph with autograd.scope('name') (each scope becomes one box), "
            f"draw a part with focus=node, or pass {raise_it} (Graphviz gets slow on big graphs)."
        )
    return (
        "Draw a part of it: collapse='module' (one box per nn module) or focus=node (only "
        f"the paths between the root and that node), or pass {raise_it} (Graphviz gets slow "
        "on big graphs)."
    )


def too_large(count, max_nodes, what, collapsed=False):
    hint = (
        "Tag more of the graph with autograd.scope('name') (each scope becomes one box), "
        "draw a part with focus=node, or raise max_nodes (Graphviz gets slow on big graphs)."
        if collapsed
        else "Draw a part of it: collapse='module' (one box per nn module) or focus=node (only "
        "the paths between the root and that node), or raise max_nodes (Graphviz gets slow "
        "on big graphs)."
    )
    raise GraphTooLargeError(
        f"{what}: the graph has {count} nodes to draw (values, ops and constants), more than "
        f"max_nodes={max_nodes}. {hint}"
    )


def build_drawing(
    trace,
    show_data=True,
    show_grad=True,
    names=None,
    focus=None,
    highlight=(),
    max_nodes=None,
    step_names=False,
    grad_texts=None,
    what="draw_graph",
    folded=False,
):
    """The plain drawing of a Trace: value, op and constant boxes and their edges.

    Every node is named as `viz.trace.name_info` says (the viewer uses the same names);
    `step_names` is kept for callers of the old signature. `grad_texts` {number: text}
    replaces the gradient text (the viewer sizes each box for its longest gradient).
    """
    keep = trace.depends_on(focus) if focus is not None else None
    start = trace.index[focus] if focus is not None else None  # its own op is not on a path
    plan = LayoutPlan(trace, keep)
    if max_nodes == "auto":
        check_cost(plan, what, folded=folded)
    elif max_nodes is not None:
        count = count_nodes(trace, keep) - (start is not None and bool(trace.inputs[start]))
        if count > max_nodes:
            too_large(count, max_nodes, what)
    all_names, auto = name_info(trace, names)
    cnames = constant_names(trace)
    fresh = _fresh(trace.root)
    hl = _highlight_set(trace, highlight)
    d = Drawing()
    d.plan = plan
    index, nodes = trace.index, trace.nodes
    use_id = {}  # (leaf, consumer) -> the id of the leaf's box drawn for that use
    k = 0
    for i, n in enumerate(nodes):
        if keep is not None and i not in keep:
            continue
        gt = grad_texts.get(i) if grad_texts is not None else None
        rows = _value_rows(n, all_names[i], show_data, show_grad, gt, auto[i], fresh)
        bad = nonfinite(n.data) or nonfinite(n.grad)
        fill = LEGEND[role(trace, i)]
        uses = plan.copies.get(i)
        for u, c in enumerate(uses or (None,)):  # a box per use: v7, v7_1, v7_2 ...
            bid = f"v{i}_{u}" if u else f"v{i}"
            if uses:
                use_id[i, c] = bid
            box = Box(bid, "value", list(rows), fill, value=i)
            box.group = n.scope
            d.boxes.append(_styled(box, bad, i in hl))
        ins = trace.inputs[i]
        if not ins or i == start:
            continue
        op_rows = [(n.op or "op", "op")]
        attrs = n.attrs
        if attrs:
            text = _attrs_text(attrs)
            if text:
                op_rows.append((text, "attrs"))
        op_box = Box(f"o{i}", "op", op_rows, LEGEND["op"])
        op_box.group = n.scope
        d.boxes.append(op_box)
        for p in ins:
            if isinstance(p, Node):
                j = index[p]
                if keep is None or j in keep:
                    label = summed_text(summed_axes(n, p))  # a bias: its gradient is summed
                    d.edges.append((use_id.get((j, i)) or f"v{j}", f"o{i}", label))
            elif keep is None:
                cid = f"c{k}"
                k += 1
                rows = _constant_rows(p, cnames.get(id(p)))
                d.boxes.append(Box(cid, "constant", rows, LEGEND["constant"]))
                d.edges.append((cid, f"o{i}", ""))
        d.edges.append((f"o{i}", f"v{i}", ""))
    return d


def _highlight_set(trace, highlight):
    if highlight is None:
        return set()
    if isinstance(highlight, Node):
        highlight = [highlight]
    return {trace.index[h] for h in highlight if h in trace.index}


def _styled(box, bad, highlighted):
    if bad:
        box.fill, box.border, box.penwidth = LEGEND["nonfinite"], NONFINITE_BORDER, 2.0
    if highlighted:
        box.border, box.penwidth = LEGEND["highlight"], 3.0
    return box


# ----------------------------------------------------------------------------------------------
# collapse="module": one box per nn scope


def _scope_of_param(name, scopes):
    best = None
    for s in scopes:
        if name.startswith(s + ".") and (best is None or len(s) > len(best)):
            best = s
    return best


def module_groups(trace, names):
    """The nn scope whose box each node of the trace is drawn in (None: drawn on its own)."""
    nodes, inputs = trace.nodes, trace.inputs
    names = name_map(names)
    cons = trace.consumers()
    group = [None] * len(nodes)  # scope name of the box node i is drawn in, or None
    scopes = {}
    for i, n in enumerate(nodes):
        if i and inputs[i] and n.scope is not None:
            group[i] = n.scope
            scopes.setdefault(n.scope, None)
    # parameters join the box of their module: by dotted name, or when one scope uses them all
    for i, n in enumerate(nodes):
        if inputs[i] or i == 0 or not n.requires_grad:
            continue
        s = None
        pname = names.get(id(n))
        if pname is not None:
            s = _scope_of_param(pname, scopes)
        elif names:
            continue  # not among the named parameters: a leaf of its own (an input batch)
        if s is None:
            used = {group[c] for c in cons[i]}
            if len(used) == 1:
                s = used.pop()
                if not is_param_of(n, s):
                    s = None  # an input that needs a gradient (a spectrogram, an image)
        group[i] = s
    return group


COLLAPSED_MAX = 4000
"""max_nodes="auto" for collapse='module': at most this many boxes (modules, bundles, loose
values and their ops), which `dot` lays out in a few seconds."""


def build_collapsed(
    trace, show_data, show_grad, names, highlight, max_nodes, fold=False, grids=True
):
    """Each nn scope as one box: its name, parameter count, gradient norm, node count.

    With `fold`, a chain of identical layers is one box: 'layers.1 … layers.4 · Dense(4) × 4'.
    `grids=False` keeps a small array's data and grad on one line each (the viewer sets them).
    """
    nodes, inputs, index = trace.nodes, trace.inputs, trace.index
    group = module_groups(trace, names)
    titles = {}
    if fold:
        from .fold import find_runs, run_label

        for run in find_runs(trace, group):
            titles[run[0]] = run_label(run, getattr(run[0], "what", ""))
            rest = set(run[1:])
            group = [run[0] if g in rest else g for g in group]
    names = name_map(names)
    cons = trace.consumers()
    # many inputs feeding only one box become one node ("200 inputs")
    bundles = {}
    for i in range(len(nodes)):
        if inputs[i] or i == 0 or group[i] is not None:
            continue
        used = {group[c] for c in cons[i]}
        if len(used) == 1:
            s = used.pop()
            if s is not None:
                bundles.setdefault((role(trace, i), s), []).append(i)
    bundled = {}
    for key, members in bundles.items():
        if len(members) > 3:
            for i in members:
                bundled[i] = key

    box_id, bundle_id = {}, {}
    for i in range(len(nodes)):
        if group[i] is not None and group[i] not in box_id:
            box_id[group[i]] = f"m{len(box_id)}"
        if i in bundled and bundled[i] not in bundle_id:
            bundle_id[bundled[i]] = f"b{len(bundle_id)}"

    def rep(i):
        if group[i] is not None:
            return box_id[group[i]]
        if i in bundled:
            return bundle_id[bundled[i]]
        return f"v{i}"

    loose = [i for i in range(len(nodes)) if group[i] is None and i not in bundled]
    count = len(box_id) + len(bundle_id) + len(loose)
    count += sum(
        1 + sum(1 for p in inputs[i] if not isinstance(p, Node)) for i in loose if inputs[i]
    )
    plan = LayoutPlan(trace, keep=set(loose))  # the nodes outside every module, drawn as such
    if max_nodes == "auto":
        max_nodes = COLLAPSED_MAX
        check_cost(plan, "draw_graph(collapse='module')", collapsed=True)
    if max_nodes is not None and count > max_nodes:
        too_large(count, max_nodes, "draw_graph(collapse='module')", collapsed=True)

    hl = _highlight_set(trace, highlight)
    all_names, auto = name_info(trace, names)
    fresh = _fresh(trace.root)
    stats = {
        s: {"params": 0, "sq": 0.0, "has_grad": False, "nodes": 0, "bad": False, "hl": False}
        for s in box_id
    }
    for i, s in enumerate(group):
        if s is None:
            continue
        st, n = stats[s], nodes[i]
        st["nodes"] += 1
        st["bad"] = st["bad"] or nonfinite(n.data) or nonfinite(n.grad)
        st["hl"] = st["hl"] or i in hl
        if not inputs[i] and n.requires_grad:
            st["params"] += getattr(n.data, "size", 1)
            if n.grad is not None:
                st["has_grad"] = True
                st["sq"] += norm(n.grad) ** 2

    d = Drawing()
    d.plan = plan
    edges = {}  # (src, dst) -> set of source value numbers
    use_id = {}  # (loose leaf, consumer) -> the id of the leaf's box drawn for that use

    def edge(j, dst, i):
        edges.setdefault((use_id.get((j, i)) or rep(j), dst), set()).add(j)

    emitted = set()
    cnames, const_box = constant_names(trace), {}
    k = 0
    for i, n in enumerate(nodes):
        r = rep(i)
        if r not in emitted:
            emitted.add(r)
            if r.startswith("m"):
                s = group[i]
                st = stats[s]
                what = getattr(s, "what", "")
                title = f"{s}{AUTO_SEP}{what}" if s and what else s or "(model)"
                rows = [
                    (titles.get(s, title), "name"),
                    (f"{st['params']:,} param{'s' if st['params'] != 1 else ''}", "data"),
                ]
                if show_grad and st["params"]:
                    g = format_number(math.sqrt(st["sq"])) if st["has_grad"] else "None"
                    rows.append((f"‖grad‖ {g}", "grad"))
                rows.append((f"{st['nodes']} node{'s' if st['nodes'] != 1 else ''}", "note"))
                d.boxes.append(
                    _styled(Box(r, "module", rows, LEGEND["module"]), st["bad"], st["hl"])
                )
            elif r.startswith("b"):
                kind, s = bundled[i]
                members = bundles[(kind, s)]
                word = "inputs" if kind == "input" else "parameters"
                rows = [(f"{len(members)} {word}", "name")]
                bad = any(nonfinite(nodes[j].data) or nonfinite(nodes[j].grad) for j in members)
                d.boxes.append(
                    _styled(
                        Box(r, "bundle", rows, LEGEND[kind]), bad, any(j in hl for j in members)
                    )
                )
            else:
                rows = _value_rows(
                    n, all_names[i], show_data, show_grad, auto=auto[i], fresh=fresh, grids=grids
                )
                bad = nonfinite(n.data) or nonfinite(n.grad)
                uses = plan.copies.get(i)
                for u, c in enumerate(uses or (None,)):  # a box per use: v7, v7_1, ...
                    bid = f"{r}_{u}" if u else r
                    if uses:
                        use_id[i, c] = bid
                    box = Box(bid, "value", list(rows), LEGEND[role(trace, i)], value=i)
                    d.boxes.append(_styled(box, bad, i in hl))
        ins = inputs[i]
        if not ins:
            continue
        if group[i] is not None:
            for p in ins:
                if isinstance(p, Node):
                    j = index[p]
                    if group[j] != group[i]:
                        edge(j, r, i)
                elif id(p) in cnames:  # the input batch x: drawn before its layer
                    cid = const_box.get(id(p))
                    if cid is None:
                        cid = const_box[id(p)] = f"c{k}"
                        k += 1
                        rows = _constant_rows(p, cnames[id(p)])
                        d.boxes.append(Box(cid, "constant", rows, LEGEND["constant"]))
                    edges.setdefault((cid, r), set()).add(cid)
            continue
        oid = f"o{i}"
        d.boxes.append(Box(oid, "op", [(n.op or "op", "op")], LEGEND["op"]))
        for p in ins:
            if isinstance(p, Node):
                edge(index[p], oid, i)
            else:
                cid = f"c{k}"
                k += 1
                d.boxes.append(Box(cid, "constant", _constant_rows(p), LEGEND["constant"]))
                edges.setdefault((cid, oid), set()).add(cid)
        edges.setdefault((oid, r), set()).add(i)
    for (src, dst), values in edges.items():
        d.edges.append((src, dst, f"×{len(values)}" if len(values) > 1 else ""))
    return d


# ----------------------------------------------------------------------------------------------
# DOT


def _esc(s):
    return html.escape(str(s), quote=False)


_SMALL_FONT = '<FONT POINT-SIZE="8" COLOR="#495057">'
_ROW_STYLE = {
    "name": ("<B>", "</B>"),
    "auto": (_SMALL_FONT, "</FONT>"),
    "shape": (_SMALL_FONT, "</FONT>"),
    "op": ("", ""),
    "attrs": (_SMALL_FONT, "</FONT>"),
    "note": (_SMALL_FONT, "</FONT>"),
    "blank": ('<FONT COLOR="#868e96"><I>', "</I></FONT>"),
}


def _td(inner, text, size, bold=False, attrs=""):
    """One cell, at least as wide as its text is in the browser (Graphviz measures less)."""
    w = math.ceil(text_width(text, size, bold) * ROOM + 2)
    return f'<TD WIDTH="{w}"{attrs}>{inner}</TD>'


def _grid_table(head, rows, size=10):
    """A grid of numbers (data | grad side by side) as a nested table, numbers right-aligned."""
    cells = [r.split("\t") for r in rows]
    halves = [i for i, c in enumerate(cells[0]) if c == "│"]
    split = halves[0] if halves else len(cells[0])
    width = len(cells[0])
    out = ['<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">']
    if head:
        names = head.split("\t")
        spans = [split, width - split - 1] if halves else [width]
        tds = []
        for name, span in zip([n for n in names if n != "│"], spans):
            tds.append(f'<TD COLSPAN="{span}">{_SMALL_FONT}{_esc(name)}</FONT></TD>')
        out.append("<TR>" + "<TD></TD>".join(tds) + "</TR>")
    for row in cells:
        tds = []
        for c in row:
            if c == "│":
                tds.append('<TD WIDTH="8"></TD>')
            else:
                tds.append(_td(_esc(c), c, size, attrs=' ALIGN="RIGHT"'))
        out.append("<TR>" + "".join(tds) + "</TR>")
    out.append("</TABLE>")
    return "".join(out)


def html_label(rows, size=10):
    """A Graphviz HTML-like label: one table row per text row, every text escaped; a run of
    grid rows (a small array's numbers) becomes one nested table."""
    cells = []
    widest = 0.0  # the widest text row as the browser draws it, in points
    k = 0
    while k < len(rows):
        text, style = rows[k]
        if style in ("gridhead", "grid"):
            head = text if style == "gridhead" else None
            j = k + 1 if style == "gridhead" else k
            body = []
            while j < len(rows) and rows[j][1] == "grid":
                body.append(rows[j][0])
                j += 1
            if body:
                cells.append(f"<TR><TD>{_grid_table(head, body, size)}</TD></TR>")
            k = j
            continue
        a, b = _ROW_STYLE.get(style, ("", ""))
        small = 8 if a.startswith(_SMALL_FONT) else size
        widest = max(widest, text_width(text, small, style == "name"))
        cells.append(f"<TR><TD>{a}{_esc(text)}{b}</TD></TR>")
        k += 1
    width = f' WIDTH="{math.ceil(widest * ROOM + 2)}"' if widest else ""
    return (
        f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"{width}>'
        + "".join(cells)
        + "</TABLE>>"
    )


def _box_attrs(box):
    size = 9 if box.kind in ("op", "constant") else 10
    a = {"id": box.id, "label": html_label(box.rows, size), "fillcolor": box.fill}
    if box.kind == "op":
        a.update(
            shape="oval",
            style="filled",
            fontsize="9",
            height="0.25",
            width="0.4",
            margin="0.04,0.01",
            color="#868e96",
        )
    elif box.kind == "constant":
        a.update(
            shape="box",
            style="filled,dashed",
            fontsize="9",
            height="0.25",
            width="0.3",
            margin="0.04,0.04",
            color="#868e96",
        )
    elif box.kind in ("module", "bundle"):
        a.update(
            shape="box3d" if box.kind == "module" else "folder",
            style="filled",
            fontsize="10",
            margin="0.12,0.1",
        )
    else:
        a.update(shape="box", style="rounded,filled", fontsize="10", margin="0.1,0.04")
    if box.kind != "op" and box.kind != "constant":
        a["color"] = box.border
    if box.penwidth != 1.0:
        a["color"] = box.border
        a["penwidth"] = str(box.penwidth)
    return a


def to_digraph(d, rankdir="LR", name="stepgrad", bands=None):
    """The Drawing as a `GraphDrawing` (a graphviz.Digraph that explains a missing `dot`).

    `bands` {box id: band} (from `viz.fit.candidates`) wraps a long drawing: each band is laid out
    on its own, the bands stacked top to bottom, and the few edges between them do not
    constrain the layout.
    """
    graphviz = require("graphviz", "viz.draw_graph")

    cls = _graph_class(graphviz)
    g = cls(name=name)
    g.graph_attr.update(
        rankdir=rankdir,
        nodesep="0.15",
        ranksep="0.3",
        bgcolor="white",
        fontname=FONT,
        ordering="in",
    )  # ordering: operands in order, a above b
    g.node_attr.update(fontname=FONT)
    g.edge_attr.update(arrowsize="0.6", color="#868e96", fontname=FONT, fontsize="8")
    if bands:
        # each band in its own invisible cluster; an invisible anchor per band, all in one
        # rank and chained in order, keeps band 0 on top, band 1 under it, ...
        n = max(bands.values()) + 1
        g.graph_attr["newrank"] = "true"
        subs = [cls(name=f"cluster_band{k}") for k in range(n)]
        for sub in subs:
            sub.graph_attr.update(style="invis", margin="2")
        for box in d.boxes:
            subs[bands.get(box.id, 0)].node(box.id, **_box_attrs(box))
        for sub in subs:
            g.subgraph(sub)
        from .fit import ranks

        rank = ranks(d)
        heads = {}  # the first box of each band (lowest rank, first in order)
        for box in d.boxes:
            k = bands.get(box.id, 0)
            if k not in heads or rank[box.id] < rank[heads[k]]:
                heads[k] = box.id
        same = cls(name="bands")
        same.graph_attr["rank"] = "min"
        for k in range(n):
            same.node(f"band{k}", label="", shape="point", style="invis", width="0", height="0")
        for k in range(n - 1):
            same.edge(f"band{k}", f"band{k + 1}", style="invis")
        g.subgraph(same)
        for k in range(n):
            if k in heads:
                g.edge(f"band{k}", heads[k], style="invis", weight="10")
    else:
        framed = {}
        for k, (label, ids) in enumerate(getattr(d, "clusters", ())):
            sub = cls(name=f"cluster_fold{k}")
            sub.graph_attr.update(
                label=label, style="dashed,rounded", color="#868e96", fontsize="10", margin="8"
            )
            framed.update(dict.fromkeys(ids, sub))
            framed[k] = sub
        for box in d.boxes:
            (framed.get(box.id) or g).node(box.id, **_box_attrs(box))
        for k in range(len(getattr(d, "clusters", ()))):
            g.subgraph(framed[k])
    for src, dst, label in d.edges:
        # an edge label ('Σ axis 0', '×3') is laid out by dot itself, clear of every box (dot
        # doubles the ranks of a graph that has one: a 1,200-box Tensor graph with a Σ per
        # layer takes 0.46 s instead of 0.36 s; Value graphs, the large ones, have none)
        extra = {"label": label} if label else {}
        if label.startswith("Σ"):
            extra["fontsize"] = "9"
        if bands and bands.get(src) != bands.get(dst):
            extra["constraint"] = "false"
        g.edge(src, dst, **extra)
    return big_layout(g, d)


_GRAPH_CLASS = None


def _graph_class(graphviz):
    """graphviz.Digraph whose display and render print one line when `dot` is missing."""
    global _GRAPH_CLASS
    if _GRAPH_CLASS is not None:
        return _GRAPH_CLASS

    class GraphDrawing(graphviz.Digraph):
        """A graphviz.Digraph; without Graphviz's `dot` it says how to install it, in one line."""

        def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
            try:
                return super()._repr_mimebundle_(include, exclude, **kwargs)
            except graphviz.ExecutableNotFound:
                print(NO_DOT, file=sys.stderr)
                return {"text/plain": f"<stepgrad graph: {len(self.body)} DOT statements>"}

        def render(self, *args, **kwargs):
            try:
                return super().render(*args, **kwargs)
            except graphviz.ExecutableNotFound:
                print(NO_DOT, file=sys.stderr)
                return None

        def view(self, *args, **kwargs):
            try:
                return super().view(*args, **kwargs)
            except graphviz.ExecutableNotFound:
                print(NO_DOT, file=sys.stderr)
                return None

    GraphDrawing.__module__ = __name__
    _GRAPH_CLASS = GraphDrawing
    return GraphDrawing


AUTO_COLLAPSE = 80  # a Tensor graph of nn layers with more boxes than this collapses by module
COLLAPSED_NOTE = (
    "collapsed by module: {n} boxes otherwise. draw_graph(..., collapse=False) draws every "
    "op; focus=node only the paths to one node"
)


def _screen(size):
    """(width, height) in CSS pixels from size= (a width, a pair, or '1280x720')."""
    if isinstance(size, str):
        w, sep, h = size.lower().partition("x")
        try:
            return (float(w), float(h) if sep else 100_000.0)
        except ValueError:
            pass
    elif isinstance(size, int | float) and not isinstance(size, bool) and size > 0:
        return (float(size), 100_000.0)
    elif isinstance(size, tuple | list) and len(size) == 2:
        if all(isinstance(v, int | float) and v > 0 for v in size):
            return (float(size[0]), float(size[1]))
    raise ValueError(
        f"draw_graph: size must be a width in pixels (1280), a pair (1280, 720) or a string "
        f"'1280x720', got {size!r}"
    )


def draw_graph(
    root,
    show_data=True,
    show_grad=True,
    rankdir=None,
    names=None,
    collapse=None,
    focus=None,
    max_nodes="auto",
    highlight=None,
    size=None,
    fold=False,
):
    """Draw the graph under `root` with data and gradient on every node.

    Value nodes are boxes showing their name, data and grad. A parameter is named by its
    dotted path in the model (`layers.0.weight`), an unnamed intermediate by its module and
    op (`layers.0 · matmul`), the input batch and labels `x` and `y`. A Tensor shows its
    shape and dtype; a small one (up to 6x6) its numbers as a grid, data and grad side by
    side; a larger one a line of mean, std and range (NaN and inf counted). Each op is its own
    small oval named by the op (custom ops by their name); plain-number constants are small
    dashed boxes. Colours: see `viz.LEGEND`. The text is DejaVu Sans (viz/font.py).

    Args:
        root: a Value or Tensor (usually the loss).
        show_data, show_grad: which rows to show.
        rankdir: Graphviz direction, "LR" (inputs left, root right) or "TB", "RL", "BT";
            None: "LR", or with `size=` the one that fits best.
        names: `dict(model.named_parameters())` (or the model itself), or {name: node}:
            overrides the names the drawing finds itself.
        collapse: "module" draws each nn module (the `scope` of its nodes) as one box with its
            name, parameter count and gradient norm; None (the default) does so for a Tensor
            graph of nn layers with more than AUTO_COLLAPSE boxes, with a note saying how to
            see every op; False never.
        focus: a node of the graph: draw only the paths between the root and it.
        max_nodes: "auto" (the default) raises GraphTooLargeError, at once, when the layout
            would take more than about 30 s (estimated from the graph: its boxes and the ranks
            its long edges cross); a number raises it above that many drawn nodes instead;
            None: no limit. A leaf used far apart (a parameter in the forward pass and in an
            L2 term) is drawn once per use, so that no edge crosses the whole graph.
        highlight: a node or nodes to mark with a thick pink border.
        size: fit the drawing to a screen: a width in pixels (`1280`), or a width and height
            (`(1280, 720)` or `"1280x720"`). The direction is chosen to show it largest, a long
            chain of layers is wrapped into rows, and Graphviz scales what is still too big
            down to that size.
        fold: draw a chain of identical blocks once, with "× N": N identical layers (the
            nn modules of a Sequential), or an unrolled RNN whose steps you run in
            `autograd.scope(f"step.{t}")`. The block drawn is the first; its numbers are its own.

    Returns:
        A graphviz.Digraph (shown inline in Jupyter; `.source` is the DOT text). Node ids come
        from a counter over the traversal, so the same graph gives the same source.

    >>> from autograd import Value
    >>> a = Value(2.0, label="a"); c = a * a; c.label = "c"; c.backward()
    >>> g = draw_graph(c)
    >>> "data 4.0" in g.source and "grad 4.0" in g.source
    True
    """
    if not isinstance(root, Node):
        raise TypeError(f"draw_graph: expected a Value or Tensor, got {type(root).__name__}")
    if rankdir not in (None, "LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if collapse not in (None, False, "module"):
        raise ValueError(
            f"draw_graph: collapse must be None (automatic), False or 'module', got {collapse!r}"
        )
    screen = _screen(size) if size is not None else None
    trace = Trace(root)
    note = None
    if collapse is None and focus is None and _collapses(trace):
        collapse, note = "module", COLLAPSED_NOTE.format(n=count_nodes(trace))
    if collapse == "module":
        if focus is not None:
            raise ValueError("draw_graph: use either collapse= or focus=, not both")
        d = build_collapsed(trace, show_data, show_grad, names, highlight, max_nodes, fold)
    else:
        d = build_drawing(trace, show_data, show_grad, names, focus, highlight, max_nodes)
        if fold:
            from .fold import fold_drawing

            d = fold_drawing(d, trace, module_groups(trace, names))
    if screen is None:
        g = to_digraph(d, rankdir or "LR")
    else:
        g = _fitted(d, screen, rankdir)
        g.graph_attr["size"] = f"{screen[0] / 96:.2f},{screen[1] / 96:.2f}"
    if note:
        g.graph_attr.update(label=note, labelloc="t", labeljust="l", fontsize="10")
    return g


def _collapses(trace):
    """True for a Tensor graph made by nn layers with more than AUTO_COLLAPSE boxes."""
    nodes = trace.nodes
    if not isinstance(nodes[0].data, np.ndarray) or count_nodes(trace) <= AUTO_COLLAPSE:
        return False
    return any(n.scope is not None for n in nodes)


def _fitted(d, screen, rankdir):
    """The Digraph of `d` laid out to show largest on `screen` (see viz/fit.py)."""
    from .fit import candidates, svg_scale

    graphviz = require("graphviz", "viz.draw_graph")
    options = candidates(d, screen, rankdir)
    best = None
    for rd, bands, _ in options[: 1 if len(d.boxes) > 200 else 3]:
        g = to_digraph(d, rd, bands=bands)
        try:
            s = svg_scale(g.pipe(format="svg", encoding="utf-8"), screen)
        except graphviz.ExecutableNotFound:
            return g  # without dot: the best estimate
        if best is None or s > best[0] * 1.02:
            best = (s, g)
    return best[1]


def layout_cost(d):
    """The estimated layout cost of a Drawing made by build_drawing (None if not known)."""
    if d.plan is None:
        return None
    return d.plan.folded_cost if d.folded else d.plan.cost


def big_layout(g, d):
    """Tell `dot` to stop its network-simplex searches early when the Drawing is large."""
    if d.plan is not None and layout_cost(d) >= BIG_LAYOUT:
        g.graph_attr.update(nslimit="0.1", nslimit1="0.1")
    return g


def legend(rankdir="TB"):
    """A small Digraph showing the colour of each kind of node, in one row by default."""
    d = Drawing()
    for kind in (
        "parameter",
        "input",
        "constant",
        "intermediate",
        "root",
        "op",
        "module",
        "nonfinite",
    ):
        box = Box(f"l_{kind}", "op" if kind == "op" else "value", [(kind, "name")], LEGEND[kind])
        if kind == "nonfinite":
            box.rows = [("NaN or inf", "name")]
            box.border = NONFINITE_BORDER
        d.boxes.append(box)
    hl = Box("l_highlight", "value", [("highlight=", "name")], "#ffffff", LEGEND["highlight"], 3.0)
    d.boxes.append(hl)
    return to_digraph(d, rankdir, name="legend")
