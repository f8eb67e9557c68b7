"""What the step-through viewer shows: the graph laid out once as SVG, and per backward step
the gradient texts that change and the chain-rule lines. Shared by the widget and export_html.

Recording runs `backward_steps` on the graph and then puts every `.grad` back as it was, so
viewing a graph does not change it (the viewer shows one fresh backward pass: leaf gradients
start from zero, as after `zero_grad()`). A Tensor step writes the rule's own formula (from the
rule table: `Op.grads`, or the rule's docstring) with the names and the actual shapes, e.g.
`dL/dW += xᵀ @ dL/dy   (4, 3)ᵀ @ (4, 2) -> (3, 2)`, and the numbers when the arrays are small.
"""

import inspect
import re
import sys

import numpy as np

from autograd import Node, backward_steps, toposort

from .deps import require
from .fmt import SMALL, format_grad, format_short
from .graph import (
    LEGEND,
    NO_DOT,
    Drawing,
    build_drawing,
    count_nodes,
    to_digraph,
    too_large,
)
from .layout import layout_svg
from .trace import Trace, name_map

BLANK = "grad not yet"  # a gradient row before backward has reached it (short: it fits every box)
INTRO = (
    "Backward has not started: no gradient is computed yet.\n"
    "Press next: it starts at the root with d{R}/d{R} = 1 and goes back through the graph,\n"
    "one node at a time, each node after every node that uses it."
)
LAYER_INTRO = (
    "Backward has not started: no gradient is computed yet.\n"
    "Press next: backward goes back one layer at a time; at the end of a layer's step the\n"
    "gradients of its input and of its parameters are complete. Open a layer to step inside it."
)


# ----------------------------------------------------------------------------------------------
# names and numbers


def display_name(trace, i, pnames):
    """The name node i goes by in the viewer (its box and the panel), one function for both.

    vizgraph's `viz.trace.node_name` when it exists (the SVG of draw_graph uses it too), else:
    the parameter's dotted name, the node's label, 'L' for an unnamed root, v<number> otherwise.
    """
    from . import trace as trace_module

    shared = getattr(trace_module, "node_name", None)
    if shared is not None:
        name = shared(trace, i, pnames)
        if name:
            return name
    n = trace.nodes[i]
    return pnames.get(id(n)) or n.label or ("L" if i == 0 else f"v{i}")


def _nz(x):
    """x with every -0.0 made 0.0 (a text never shows -0.0)."""
    if isinstance(x, np.ndarray):
        return x + 0.0 if x.dtype.kind in "fc" else x
    if isinstance(x, float):
        return x + 0.0
    return x


def _short(x):
    return format_short(_nz(x))


def _grad_text(g):
    return format_grad(_nz(g))


def _shape(x):
    if isinstance(x, np.ndarray):
        return "(" + ", ".join(str(n) for n in x.shape) + ("," if x.ndim == 1 else "") + ")"
    return "()" if isinstance(x, np.generic) else format_short(x)


def _add(a, b):
    return b.copy() if a is None and isinstance(b, np.ndarray) else b if a is None else a + b


# ----------------------------------------------------------------------------------------------
# the rule's formula for one input, from the rule table

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.shape)?")
_DOC_PART = re.compile(r"d/d(\w+)\s*(=)?\s*(.*)")


def _vjp_params(op):
    """The names the rule's vjp gives its inputs (a, b / x / xs ...), after `g, out`."""
    try:
        params = list(inspect.signature(op.vjp).parameters.values())[2:]
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)] or [
        p.name for p in params if p.kind == p.VAR_POSITIONAL
    ]


def formula(op, k):
    """The rule's gradient formula for input k, written with g, out and the vjp's input names.

    From the rule table: `op.grads[k]` when the table gives it, else read from the rule's
    one-line docstring (`a @ b; d/da = g @ b.T, d/db = a.T @ g`); a local derivative
    `d/da = b` becomes `g * b`. None when the rule says nothing about that input.
    """
    grads = getattr(op, "grads", None)
    if grads:
        return grads[k] if k < len(grads) else grads[-1]
    params = _vjp_params(op)
    doc = (op.doc or "").split(";", 1)
    if len(doc) < 2:
        return None
    parts = re.split(r",\s*(?=d/d\w)", doc[1].strip())
    want = params[k] if k < len(params) else (params[-1] if params else "x")
    for part in parts:
        m = _DOC_PART.match(part.strip())
        if not m or not (m.group(1) == want or m.group(1).rstrip("_i") == want.rstrip("s")):
            continue
        expr = m.group(3).strip()
        if not m.group(2):  # prose: "d/dx sums the gradient back to x's shape"
            return f"d/d{want} {expr}"
        if re.search(r"\bg\b", expr):
            return expr
        return "g" if expr == "1" else "-g" if expr == "-1" else f"g * ({expr})"
    return None


def _substitute(text, table):
    """Replace the identifiers of a formula by table[identifier] where the table has them."""

    def one(m):
        word = m.group(0)
        base = word[:-6] if word.endswith(".shape") else word
        if base not in table:
            return word
        return table[base][1] if word.endswith(".shape") else table[base][0]

    return _IDENT.sub(one, text)


def _broadcast_why(pn, x, out_shape):
    """Why a broadcast_to's gradient is a sum: which axes were repeated, in words."""
    xs = tuple(x.shape) if isinstance(x, np.ndarray) else ()
    lead = len(out_shape) - len(xs)
    axes = list(range(lead)) + [
        lead + a for a, n in enumerate(xs) if n == 1 and out_shape[lead + a] != 1
    ]
    if not axes:
        return f"{pn} was not repeated: its gradient is the same array"
    copies = int(np.prod([out_shape[a] for a in axes]))
    where = " and ".join(f"axis {a} ({out_shape[a]})" for a in axes)
    if len(out_shape) == 2 and axes == [0] and len(xs) <= 1:
        return (
            f"{pn} was added to each of {out_shape[0]} rows, so its gradient is the sum over "
            f"those rows (axis 0): {_shape_of(out_shape)} -> {_shape(x)}"
        )
    return (
        f"{pn} {_shape(x)} was used {copies} times (repeated along {where}), so its gradient "
        f"is the sum over {'that axis' if len(axes) == 1 else 'those axes'}: "
        f"{_shape_of(out_shape)} -> {_shape(x)}"
    )


def _shape_of(shape):
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def tensor_lines(R, name, node, k, pn, g, contrib, operand_names):
    """The lines of one Tensor contribution: the formula with names, shapes, numbers, and why."""
    op = node._op
    f = formula(op, k) if op is not None else None
    params = _vjp_params(op) if op is not None else []
    dg = f"d{R}/d{name}"
    target = f"d{R}/d{pn} +="
    operands = node.operands
    table = {"g": (dg, _shape(g)), "out": (name, _shape(node.data))}
    values = {"g": (_short(g), ""), "out": (_short(node.data), "")}
    if params and params[0] in ("xs",):  # a variable number of inputs
        params = []
    for p_name, operand, o_name in zip(params, operands, operand_names):
        data = operand.data if isinstance(operand, Node) else operand
        table[p_name] = (o_name, _shape(data))
        values[p_name] = (_short(data), "")
    if f is None:
        f = f"{op.name if op is not None else 'op'} vjp of g"
    with_names = _substitute(f, table)
    shapes = _substitute(f, {k_: (v[1], v[1]) for k_, v in table.items()})
    if shapes == f:  # the formula names nothing we know: say what goes in
        shapes = f"{table['g'][1]}"
    lines = [f"{target} {with_names}   {shapes} -> {_shape(contrib)}"]
    arrays = [operand.data if isinstance(operand, Node) else operand for operand in operands] + [
        g,
        contrib,
    ]
    small = all(not isinstance(a, np.ndarray) or a.size <= SMALL for a in arrays)
    if small and with_names != f"{op.name if op is not None else 'op'} vjp of g":
        numbers = _substitute(f, values)
        lines.append(f"    = {numbers} = {_short(contrib)}")
    elif small:
        lines.append(f"    = {_short(contrib)}")
    if op is not None and op.name == "broadcast_to":
        lines.append("    " + _broadcast_why(pn, operands[0].data, tuple(np.shape(node.data))))
    return lines


def scalar_line(R, name, pn, g, local, contrib):
    """The chain rule for one scalar parent: dR/dpn += dR/dname * ∂name/∂pn = numbers."""
    return (
        f"d{R}/d{pn} += d{R}/d{name} * ∂{name}/∂{pn} = "
        f"{_short(g)} * {_short(local)} = {_short(contrib)}"
    )


# ----------------------------------------------------------------------------------------------
# recording the steps


def _seed_text(g):
    a = np.asarray(g)
    if a.size == 1 and float(a.reshape(-1)[0]) == 1.0:
        return "1"
    return _short(g)


def run_steps(trace, grad=None):
    """The engine's backward steps of the traced root, every .grad put back afterwards."""
    order = toposort(trace.root)
    saved = [(n, n.grad) for n in order]
    try:
        for n in order:
            if n.is_leaf:
                n.zero_grad()  # one fresh pass: leaves would otherwise accumulate
        steps = list(backward_steps(trace.root, grad))
    finally:
        for n, g in saved:
            n.grad = g
    return order, steps


def describe_step(trace, s, R, disp):
    """The panel lines of one engine step: its complete gradient, then one rule per parent."""
    index = trace.index
    i = index[s.node]
    name, n = disp(i), s.node
    tensor = isinstance(s.grad, np.ndarray)
    if i == 0:
        lines = [f"d{R}/d{R} = {_seed_text(s.grad)}   (the seed: backward starts here)"]
    else:
        lines = [
            f"d{R}/d{name} = {_short(s.grad)}   (complete: every use of {name} has passed it back)"
        ]
    if not s.contributions:
        what = "a parameter, the optimizer reads this" if n.requires_grad else "a leaf"
        lines.append(f"{name} is a leaf ({what}): nothing to pass on")
    operands = n.operands
    operand_names = [disp(index[p]) if isinstance(p, Node) else _short(p) for p in operands]
    for p, local, contrib in s.contributions:
        pn = disp(index[p])
        if tensor or isinstance(contrib, np.ndarray):
            k = next((j for j, o in enumerate(operands) if o is p), 0)
            lines.extend(tensor_lines(R, name, n, k, pn, s.grad, contrib, operand_names))
        else:
            lines.append(scalar_line(R, name, pn, s.grad, local, contrib))
    return lines


def _room_for_blank(text):
    """A gradient text padded (figure spaces, a digit wide) so that its box also holds BLANK."""
    short = len(BLANK) - len("grad " + text)
    return text + "\u2007" * short if short > 0 else text


def record(trace, names=None, grad=None):
    """Run backward step by step on the traced root and describe each step; restore .grad.

    Returns (display names {number: name}, the longest gradient text of each node, the data).
    """
    pnames = name_map(names)
    cache = {}

    def disp(i):
        if i not in cache:
            cache[i] = display_name(trace, i, pnames)
        return cache[i]

    index = trace.index
    R = disp(0)
    order, steps = run_steps(trace, grad)
    running = {}
    texts = {}  # number -> set of grad texts the node shows at some step
    out = []
    for s in steps:
        i = index[s.node]
        g_text = _grad_text(s.grad)
        sets = [[f"v{i}", "grad " + g_text]]
        texts.setdefault(i, set()).add(g_text)
        for p, _, contrib in s.contributions:
            j = index[p]
            running[j] = _add(running.get(j), contrib)
            t = _grad_text(running[j])
            texts.setdefault(j, set()).add(t)
            sets.append([f"v{j}", "grad " + t])
        lines = describe_step(trace, s, R, disp)
        out.append({"node": f"v{i}", "name": disp(i), "op": s.node.op, "lines": lines, "set": sets})
    longest = {i: _room_for_blank(max(ts, key=len)) for i, ts in texts.items()}
    data = {
        "root": "v0",
        "rootName": R,
        "blank": BLANK,
        "intro": INTRO.replace("{R}", R),
        "nodes": [f"v{index[n]}" for n in order],
        "steps": out,
        "interval": 800,
        "legend": {k: LEGEND[k] for k in ("parameter", "input", "constant", "root")},
    }
    return {i: disp(i) for i in range(len(trace.nodes))}, longest, data


# ----------------------------------------------------------------------------------------------
# the drawing the viewer shows: each op folded into the box of the value it makes

_NODE = re.compile(r'(<g id="([vmb]\d+)" class="node">)(.*?)(</g>)', re.S)
_NUM = re.compile(r"-?\d+(?:\.\d+)?")


def fold_ops(d):
    """The Drawing with every op oval folded into its result's box: `v3 = mul` as its title.

    Half as many ranks as the plain drawing, so a graph fits a screen twice as large; edges
    go from operand to result, and the viewer highlights one box per step. A short attribute
    text (`shape=(32, 128)`) gets its own row; -0.0 is written 0.0.
    """
    boxes = {b.id: b for b in d.boxes}
    folded = {b.id for b in d.boxes if b.kind == "op" and ("v" + b.id[1:]) in boxes}
    out = Drawing()
    for b in d.boxes:
        b.rows = [(_NEG_ZERO.sub("0.0", t), style) for t, style in b.rows]
        if b.id not in folded:
            out.boxes.append(b)
            continue
        v = boxes["v" + b.id[1:]]
        op = b.rows[0][0]
        attrs = [t for t, style in b.rows[1:] if len(t) <= 20]
        if v.rows and v.rows[0][1] == "name":
            head = [(f"{v.rows[0][0]} = {op}", "name")]
            rest = v.rows[1:]
        else:
            head, rest = [(op, "name")], v.rows
        v.rows = head + [(t, "data") for t in attrs] + rest
    for src, dst, label in d.edges:
        if src in folded:
            continue
        out.edges.append((src, "v" + dst[1:] if dst in folded else dst, label))
    return out


_NEG_ZERO = re.compile(r"(?<![\w.])-0\.0(?![\d.e])")


def _centre_texts(svg):
    """Anchor the text of value nodes at their centre, so a new text stays in its box."""

    def fix(m):
        body = m.group(3)
        shape = re.search(r'<(?:path|polygon)[^>]*?(?: d| points)="([^"]*)"', body)
        if not shape:
            return m.group(0)
        nums = [float(v) for v in _NUM.findall(shape.group(1))]
        xs = nums[0::2]
        cx = (min(xs) + max(xs)) / 2
        body = re.sub(r'text-anchor="start" x="[^"]*"', f'text-anchor="middle" x="{cx:.2f}"', body)
        return m.group(1) + body + m.group(4)

    return _NODE.sub(fix, svg)


def render_svg(drawing, rankdir="LR"):
    """SVG of a Drawing: laid out by Graphviz's dot, or by layout.py when dot is missing."""
    graphviz = require("graphviz", "the step-through viewer")

    g = to_digraph(drawing, rankdir)
    g.graph_attr.update(nodesep="0.1", ranksep="0.2")
    g.body = [line.replace('margin="0.1,0.04"', 'margin="0.05,0.02"') for line in g.body]
    try:
        svg = g.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        print(NO_DOT + " Using a simpler built-in layout.", file=sys.stderr)
        return layout_svg(drawing, rankdir)
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<!--.*?-->\n?", "", svg, flags=re.S)
    return _centre_texts(svg)


def viewer_payload(root, names=None, rankdir="LR", max_nodes=400, grad=None, what="step_through"):
    """(svg, data) for the viewer: the graph laid out once, and the steps as JSON-ready data."""
    trace = Trace(root)
    if max_nodes is not None and count_nodes(trace) > max_nodes:
        too_large(count_nodes(trace), max_nodes, what)
    disp, longest, data = record(trace, names, grad)
    d = build_drawing(
        trace,
        names={trace.nodes[i]: n for i, n in disp.items()},
        step_names=True,
        grad_texts=longest,
        what=what,
    )
    return render_svg(fold_ops(d), rankdir), data
