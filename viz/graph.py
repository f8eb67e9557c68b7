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

from autograd import Node

from .deps import require
from .fmt import format_data, format_grad, format_number, format_short, nonfinite, norm
from .trace import Trace, name_map, role, takes_part

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
FONT = "Helvetica"
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

    __slots__ = ("id", "kind", "rows", "fill", "border", "penwidth", "value")

    def __init__(self, id, kind, rows, fill, border=BORDER, penwidth=1.0, value=None):
        self.id, self.kind, self.rows = id, kind, rows
        self.fill, self.border, self.penwidth = fill, border, penwidth
        self.value = value  # the value node's number in the Trace, or None


class Drawing:
    """Boxes and edges `(src_id, dst_id, label)`, in a deterministic order."""

    def __init__(self):
        self.boxes, self.edges = [], []


def _attrs_text(attrs):
    parts = []
    for k, v in attrs.items():
        if v is None:
            continue
        s = repr(v) if not isinstance(v, float) else format_number(v)
        parts.append(f"{k}={s if len(s) <= 24 else s[:21] + '...'}")
    return ", ".join(parts)


def _value_rows(node, name, show_data, show_grad, grad_text=None):
    rows = []
    if name:
        rows.append((name, "name"))
    if show_data:
        lines = format_data(node.data)
        rows.append(("data " + lines[0], "data"))
        rows.extend((line, "data") for line in lines[1:])
    if show_grad and takes_part(node):
        rows.append(
            ("grad " + (grad_text if grad_text is not None else format_grad(node.grad)), "grad")
        )
    return rows


def _constant_rows(c):
    return [(format_short(c), "data")]


def count_nodes(trace, keep=None):
    """How many boxes a plain drawing has (values, ops, constants), of `keep` only if given."""
    if keep is None:
        c = trace.counts()
        return c["values"] + c["ops"] + c["constants"]
    return len(keep) + sum(1 for i in keep if trace.inputs[i])


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
):
    """The plain drawing of a Trace: value, op and constant boxes and their edges.

    With `step_names`, unnamed nodes are called v<number> (the step-through panel refers to
    them), and `grad_texts` {number: text} replaces the gradient text (to size the boxes).
    """
    keep = trace.depends_on(focus) if focus is not None else None
    start = trace.index[focus] if focus is not None else None  # its own op is not on a path
    if max_nodes is not None:
        count = count_nodes(trace, keep) - (start is not None and bool(trace.inputs[start]))
        if count > max_nodes:
            too_large(count, max_nodes, what)
    names = name_map(names)
    hl = _highlight_set(trace, highlight)
    d = Drawing()
    index, nodes = trace.index, trace.nodes
    k = 0
    for i, n in enumerate(nodes):
        if keep is not None and i not in keep:
            continue
        name = names.get(id(n)) or n.label or (f"v{i}" if step_names else "")
        gt = grad_texts.get(i) if grad_texts is not None else None
        rows = _value_rows(n, name, show_data, show_grad, gt)
        bad = nonfinite(n.data) or nonfinite(n.grad)
        d.boxes.append(
            _styled(Box(f"v{i}", "value", rows, LEGEND[role(trace, i)], value=i), bad, i in hl)
        )
        ins = trace.inputs[i]
        if not ins or i == start:
            continue
        op_rows = [(n.op or "op", "op")]
        attrs = n.attrs
        if attrs:
            text = _attrs_text(attrs)
            if text:
                op_rows.append((text, "attrs"))
        d.boxes.append(Box(f"o{i}", "op", op_rows, LEGEND["op"]))
        for p in ins:
            if isinstance(p, Node):
                j = index[p]
                if keep is None or j in keep:
                    d.edges.append((f"v{j}", f"o{i}", ""))
            elif keep is None:
                cid = f"c{k}"
                k += 1
                d.boxes.append(Box(cid, "constant", _constant_rows(p), LEGEND["constant"]))
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
        group[i] = s
    return group


def build_collapsed(trace, show_data, show_grad, names, highlight, max_nodes):
    """Each nn scope as one box: its name, parameter count, gradient norm, node count."""
    nodes, inputs, index = trace.nodes, trace.inputs, trace.index
    group = module_groups(trace, names)
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
    if max_nodes is not None and count > max_nodes:
        too_large(count, max_nodes, "draw_graph(collapse='module')", collapsed=True)

    hl = _highlight_set(trace, highlight)
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
    edges = {}  # (src, dst) -> set of source value numbers

    def edge(j, dst):
        edges.setdefault((rep(j), dst), set()).add(j)

    emitted = set()
    k = 0
    for i, n in enumerate(nodes):
        r = rep(i)
        if r not in emitted:
            emitted.add(r)
            if r.startswith("m"):
                s = group[i]
                st = stats[s]
                rows = [
                    (s or "(model)", "name"),
                    (f"{st['params']} param{'s' if st['params'] != 1 else ''}", "data"),
                ]
                if show_grad and st["params"]:
                    g = format_number(math.sqrt(st["sq"])) if st["has_grad"] else "None"
                    rows.append((f"‖grad‖ {g}", "grad"))
                rows.append((f"{st['nodes']} nodes", "note"))
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
                name = names.get(id(n)) or n.label
                rows = _value_rows(n, name, show_data, show_grad)
                bad = nonfinite(n.data) or nonfinite(n.grad)
                d.boxes.append(
                    _styled(Box(r, "value", rows, LEGEND[role(trace, i)], value=i), bad, i in hl)
                )
        ins = inputs[i]
        if not ins:
            continue
        if group[i] is not None:
            for p in ins:
                if isinstance(p, Node):
                    j = index[p]
                    if group[j] != group[i]:
                        edge(j, r)
            continue
        oid = f"o{i}"
        d.boxes.append(Box(oid, "op", [(n.op or "op", "op")], LEGEND["op"]))
        for p in ins:
            if isinstance(p, Node):
                edge(index[p], oid)
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


_ROW_STYLE = {
    "name": ("<B>", "</B>"),
    "op": ("", ""),
    "attrs": ('<FONT POINT-SIZE="8" COLOR="#495057">', "</FONT>"),
    "note": ('<FONT POINT-SIZE="8" COLOR="#495057">', "</FONT>"),
}


def html_label(rows):
    """A Graphviz HTML-like label: one table row per text row, every text escaped."""
    cells = []
    for text, style in rows:
        a, b = _ROW_STYLE.get(style, ("", ""))
        cells.append(f"<TR><TD>{a}{_esc(text)}{b}</TD></TR>")
    return (
        '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
        + "".join(cells)
        + "</TABLE>>"
    )


def _box_attrs(box):
    a = {"id": box.id, "label": html_label(box.rows), "fillcolor": box.fill}
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
            margin="0.04,0.02",
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


def to_digraph(d, rankdir="LR", name="stepgrad"):
    """The Drawing as a `GraphDrawing` (a graphviz.Digraph that explains a missing `dot`)."""
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
    for box in d.boxes:
        g.node(box.id, **_box_attrs(box))
    for src, dst, label in d.edges:
        if label:
            g.edge(src, dst, label=label)
        else:
            g.edge(src, dst)
    return g


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


def draw_graph(
    root,
    show_data=True,
    show_grad=True,
    rankdir="LR",
    names=None,
    collapse=None,
    focus=None,
    max_nodes=1000,
    highlight=None,
):
    """Draw the graph under `root` with data and gradient on every node.

    Value nodes are boxes showing their label (or, with `names`, the parameter's dotted name),
    data and grad; a small tensor shows its values, a larger one its shape, dtype, min/mean/max
    and the gradient's norm. Each op is its own small oval named by the op (custom ops by their
    name); plain-number constants are small dashed boxes. Colours: see `viz.LEGEND`.

    Args:
        root: a Value or Tensor (usually the loss).
        show_data, show_grad: which rows to show.
        rankdir: Graphviz direction, "LR" (inputs left, root right) or "TB", "RL", "BT".
        names: `dict(model.named_parameters())` (or the model itself): parameters are matched
            by identity and labelled with their dotted names.
        collapse: "module" draws each nn module (the `scope` of its nodes) as one box with its
            name, parameter count and gradient norm.
        focus: a node of the graph: draw only the paths between the root and it.
        max_nodes: raise GraphTooLargeError above this many drawn nodes (None: no limit).
        highlight: a node or nodes to mark with a thick pink border.

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
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if collapse not in (None, "module"):
        raise ValueError(f"draw_graph: collapse must be None or 'module', got {collapse!r}")
    trace = Trace(root)
    if collapse == "module":
        if focus is not None:
            raise ValueError("draw_graph: use either collapse= or focus=, not both")
        d = build_collapsed(trace, show_data, show_grad, names, highlight, max_nodes)
    else:
        d = build_drawing(trace, show_data, show_grad, names, focus, highlight, max_nodes)
    return to_digraph(d, rankdir)


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
