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
    format_short,
    format_summary,
    grid,
    nonfinite,
    norm,
)
from .font import FAMILY, ROOM, text_width
from .trace import Trace, constant_names, name_info, name_map, role, takes_part

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


def _value_rows(node, name, show_data, show_grad, grad_text=None, auto=False, fresh=False):
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
    if grad_text is None and is_array and show_data:
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

    Every node is named as `viz.trace.name_info` says (the viewer uses the same names);
    `step_names` is kept for callers of the old signature. `grad_texts` {number: text}
    replaces the gradient text (the viewer sizes each box for its longest gradient).
    """
    keep = trace.depends_on(focus) if focus is not None else None
    start = trace.index[focus] if focus is not None else None  # its own op is not on a path
    if max_nodes is not None:
        count = count_nodes(trace, keep) - (start is not None and bool(trace.inputs[start]))
        if count > max_nodes:
            too_large(count, max_nodes, what)
    all_names, auto = name_info(trace, names)
    cnames = constant_names(trace)
    fresh = _fresh(trace.root)
    hl = _highlight_set(trace, highlight)
    d = Drawing()
    index, nodes = trace.index, trace.nodes
    k = 0
    for i, n in enumerate(nodes):
        if keep is not None and i not in keep:
            continue
        gt = grad_texts.get(i) if grad_texts is not None else None
        rows = _value_rows(n, all_names[i], show_data, show_grad, gt, auto[i], fresh)
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
                rows = _value_rows(n, all_names[i], show_data, show_grad, auto=auto[i], fresh=fresh)
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
