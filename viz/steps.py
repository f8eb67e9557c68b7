"""What the step-through viewer shows: the graph laid out once as SVG, and per backward step
the gradient texts that change and the chain-rule lines. Shared by the widget and export_html.

Recording runs `backward_steps` on the graph and then puts every `.grad` back as it was, so
viewing a graph does not change it (the viewer shows one fresh backward pass: leaf gradients
start from zero, as after `zero_grad()`). A Tensor step writes the rule's own formula (from the
rule table: `Op.grads`, or the rule's docstring) with the names and the actual shapes, e.g.
`dL/dW += xᵀ @ dL/dy   (4, 3)ᵀ @ (4, 2) -> (3, 2)`, and the numbers when the arrays are small.
"""

import re
import sys

import numpy as np

from autograd import Node, backward_steps, toposort
from autograd.ops import repeated_axes

from .deps import require
from .fit import best_layout
from .fmt import SMALL, format_grad, format_short
from .graph import (
    LEGEND,
    NO_DOT,
    Drawing,
    LayoutPlan,
    build_drawing,
    check_cost,
    count_nodes,
    layout_cost,
    to_digraph,
    too_large,
)
from .layout import layout_svg
from .trace import (
    AUTO_SEP,
    Trace,
    constant_names,
    formula_names,
    formulas,
    name_map,
    summed_axes,
)

VIEWER_BUDGET = 60_000
"""max_nodes="auto" in the viewer: the largest layout cost (`LayoutPlan.folded_cost`) it lays out
(a large graph is laid out by viz/layout.py in seconds, but the browser then takes up to about
30 s to show it on a busy 2-core machine; micrograd's MLP(2, [43, 43, 1]), 10,246 Values, costs
51,446)."""
VIEWER_DOT_MAX = 12_000
"""The largest layout cost the viewer gives to Graphviz's dot (a few seconds); a larger graph
is laid out by viz/layout.py."""
SUMMED_NOTE = "Σ axis k on an edge: that input was repeated along axis k, so its gradient is summed"
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


def display_names(trace, names=None):
    """The name of every node of the trace in the viewer (its box and the panel), a list.

    `viz.trace.node_names` when it exists (draw_graph's SVG uses it too, so both show the
    same names), else: the parameter's dotted name, the node's label, 'L' for an unnamed root,
    v<number> otherwise.
    """
    from . import trace as trace_module

    shared = getattr(trace_module, "node_names", None)
    if shared is not None:
        return list(shared(trace, names))
    pnames = name_map(names)
    return [
        pnames.get(id(n)) or n.label or ("L" if i == 0 else f"v{i}")
        for i, n in enumerate(trace.nodes)
    ]


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
# the rule's formula for one input, from the rule table (`grads=` of each `@rule`)

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.(?:shape|size|ndim))?")
_MT = re.compile(r"\bmT\(([A-Za-z_][A-Za-z0-9_]*)\)")


def formula(node, k):
    """The rule's gradient formula for operand k of `node`, or None (a custom op without one)."""
    fs = formulas(node)
    if not fs or k >= len(fs):
        return None
    return fs[k]


def _substitute(text, table):
    """Replace the names of a formula by table[name] (a callable of the attribute, if any)."""

    def one(m):
        word = m.group(0)
        base, _, attr = word.partition(".")
        if base not in table:
            return word
        return table[base](attr)

    return _IDENT.sub(one, _transposes(text))


def _transposes(text):
    """mT(x) written xᵀ, and mT(any expression) written (expression)ᵀ."""
    text = _MT.sub(r"\1ᵀ", text)
    while (start := text.find("mT(")) >= 0:
        depth, j = 0, start + 2
        for j in range(start + 2, len(text)):
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            if depth == 0:
                break
        text = text[:start] + "(" + _transposes(text[start + 3 : j]) + ")ᵀ" + text[j + 1 :]
    return text


def _attr_text(v):
    if isinstance(v, np.ndarray):
        return _short(v) if v.size <= SMALL else _shape(v)
    if isinstance(v, tuple) and any(isinstance(e, np.ndarray) for e in v):  # an index
        return "(" + ", ".join(_attr_text(e) for e in v) + ")"
    text = repr(v)
    return text if len(text) <= 24 else text[:21] + "..."


def _entry(name, value):
    """What a name of a formula becomes: (with names, with shapes, with numbers) per attribute."""
    data = value.data if isinstance(value, Node) else value
    if isinstance(data, np.ndarray) or isinstance(value, Node):
        shape = _shape(data)
        size = str(getattr(data, "size", 1))
        ndim = str(getattr(data, "ndim", 0))

        def attr_of(attr, whole):
            return {"shape": shape, "size": size, "ndim": ndim}.get(attr, whole)

        return (
            lambda attr: f"{name}.{attr}" if attr else name,
            lambda attr: attr_of(attr, shape),
            lambda attr: attr_of(attr, _short(data)),
        )
    text = _attr_text(data)
    return (lambda attr: name, lambda attr: text, lambda attr: text)


_USED = {  # (op, operand) -> how a repeated operand was used by each row
    ("add", 0): "added to",
    ("add", 1): "added to",
    ("sub", 1): "subtracted from",
    ("mul", 0): "multiplied into",
    ("mul", 1): "multiplied into",
    ("broadcast_to", 0): "repeated for",
}


def _broadcast_why(pn, x, out_shape, op="add", k=1):
    """Why a repeated operand's gradient is a sum: which axes were repeated, in words (`op`
    the op that used the repeated operand as its input `k`, or 'broadcast_to')."""
    xs = tuple(np.shape(x))
    axes = list(repeated_axes(xs, out_shape))
    if not axes:
        return f"{pn} was not repeated: its gradient is the same array"
    if len(out_shape) == 2 and axes == [0] and len(xs) <= 1:
        used = _USED.get((op, k), f"used by {op} in")
        return (
            f"{pn} was {used} each of {out_shape[0]} rows, so its gradient is the sum over "
            f"those rows (axis 0): {_shape_of(out_shape)} -> {_shape(x)}"
        )
    copies = int(np.prod([out_shape[a] for a in axes]))
    where = " and ".join(f"axis {a} ({out_shape[a]})" for a in axes)
    return (
        f"{pn} {_shape(x)} was used {copies} times (repeated along {where}), so its gradient "
        f"is the sum over {'that axis' if len(axes) == 1 else 'those axes'}: "
        f"{_shape_of(out_shape)} -> {_shape(x)}"
    )


def _shape_of(shape):
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def tensor_lines(R, name, node, k, pn, g, contrib, disp_node):
    """The lines of one Tensor contribution: the rule's formula with the names and the shapes,
    the numbers when every array is small, and for broadcast_to why it is a sum.

    e.g. `dL/dW += xᵀ @ dL/dy   (4, 3)ᵀ @ (4, 2) -> (3, 2)`.
    """
    f = formula(node, k)
    target = f"d{R}/d{pn} +="
    if f is None:
        op = node.op or "op"
        lines = [f"{target} the vjp of {op} (no formula in the rule table)   -> {_shape(contrib)}"]
        return lines
    env = formula_names(node)
    if "x_i" in f or "i" in f:
        env.setdefault("i", k)
        env["x_i"] = node.operands[k]
    operand = node.operands[k]
    summed = summed_axes(node, operand)
    if summed:  # numpy repeated this operand (a bias): the rule's gradient is summed back
        arg = next(key for key, v in env.items() if v is operand)
        f = f"sum_to({f}, {arg}.shape)"
    table = {}
    for key, value in env.items():
        if isinstance(value, Node):
            label = disp_node(value) or key
        elif key in node.attrs:  # axis=1, shape=(32, 10): the names version says which
            label = f"{key}={_attr_text(value)}"
        else:
            label = disp_node(value) or _attr_text(value)
        table[key] = _entry(label, value)
    table["g"] = _entry(f"d{R}/d{name}", g)
    table["out"] = _entry(name, node.data)
    names = _substitute(f, {k_: v[0] for k_, v in table.items()})
    shapes = _substitute(f, {k_: v[1] for k_, v in table.items()})
    lines = [f"{target} {names}   {shapes} -> {_shape(contrib)}"]
    arrays = [v.data if isinstance(v, Node) else v for v in env.values()] + [g, contrib]
    if all(not isinstance(a, np.ndarray) or a.size <= SMALL for a in arrays):
        numbers = _substitute(f, {k_: v[2] for k_, v in table.items()})
        lines.append(f"    = {numbers} = {_short(contrib)}")
    if node.op == "broadcast_to" or summed:
        out_shape = tuple(np.shape(node.data))
        lines.append("    " + _broadcast_why(pn, operand.data, out_shape, node.op, k))
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
    return [line for line, _, _ in describe_parts(trace, s, R, disp)]


def describe_parts(trace, s, R, disp):
    """The panel lines of one step as (line, owner, masked): `owner` the node id whose gradient
    the line's numbers add to (None: no gradient number in it), `masked` the line with those
    numbers hidden (what the quiz shows before that gradient is answered)."""
    index = trace.index
    i = index[s.node]
    name, n = disp(i), s.node
    tensor = isinstance(s.grad, np.ndarray)
    me = f"v{i}"
    if i == 0:
        parts = [
            (f"d{R}/d{R} = {_seed_text(s.grad)}   (the seed: backward starts here)", None, None)
        ]
    else:
        parts = [
            (
                f"d{R}/d{name} = {_short(s.grad)}   (complete: every use of {name} has passed "
                "it back)",
                me,
                f"d{R}/d{name} = ?   (your turn: type it below)",
            )
        ]
    if not s.contributions:
        what = "a parameter, the optimizer reads this" if n.requires_grad else "a leaf"
        parts.append((f"{name} is a leaf ({what}): nothing to pass on", None, None))
    operands = n.operands

    data_names = constant_names(trace)

    def disp_node(p):  # a node's name; a constant's when it is the batch x or the labels y
        if isinstance(p, Node):
            return disp(index[p]) if p in index else None
        return data_names.get(id(p))

    for p, local, contrib in s.contributions:
        pn = disp(index[p])
        owner = f"v{index[p]}"
        if tensor or isinstance(contrib, np.ndarray):
            k = next((j for j, o in enumerate(operands) if o is p), 0)
            for line in tensor_lines(R, name, n, k, pn, s.grad, contrib, disp_node):
                hidden = "    = ?" if line.startswith("    = ") else line
                parts.append((line, owner, hidden))
        else:
            line = scalar_line(R, name, pn, s.grad, local, contrib)
            parts.append((line, owner, f"d{R}/d{pn} += d{R}/d{name} * ∂{name}/∂{pn} = ?"))
    return parts


def _room_for_blank(text):
    """A gradient text padded (figure spaces, a digit wide) so that its box also holds BLANK."""
    short = len(BLANK) - len("grad " + text)
    return text + "\u2007" * short if short > 0 else text


def record(trace, names=None, grad=None, ran=None, masks=False):
    """Run backward step by step on the traced root and describe each step; restore .grad.

    `ran`: the (order, steps) of `run_steps` when the caller has them already. `masks`: each
    step also gets `owners` and `masked` (the quiz hides a line's numbers until the gradients
    they add to are answered; see `describe_parts`).
    Returns (display names {number: name}, the longest gradient text of each node, the data).
    """
    all_names = display_names(trace, names)
    disp = all_names.__getitem__
    # in a chain-rule line a name with spaces is bracketed: d(layers.0 · add), (x · relu)ᵀ
    wrapped = [f"({n})" if AUTO_SEP in n else n for n in all_names]
    in_formula = wrapped.__getitem__

    index = trace.index
    R = disp(0)
    order, steps = ran if ran is not None else run_steps(trace, grad)
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
        parts = describe_parts(trace, s, R, in_formula)
        step = {
            "node": f"v{i}",
            "name": disp(i),
            "op": s.node.op,
            "lines": [line for line, _, _ in parts],
            "set": sets,
        }
        if masks:
            step["owners"] = [owner for _, owner, _ in parts]
            step["masked"] = [line if m is None else m for line, _, m in parts]
        out.append(step)
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
    if any(summed_axes(n, p) for n, ins in zip(trace.nodes, trace.inputs) for p in ins):
        data["notes"] = [SUMMED_NOTE]
    return dict(enumerate(all_names)), longest, data


# ----------------------------------------------------------------------------------------------
# the drawing the viewer shows: each op folded into the box of the value it makes

_NODE = re.compile(r'(<g id="([vmb]\d+(?:_\d+)?)" class="node">)(.*?)(</g>)', re.S)
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
    out.plan, out.folded = d.plan, True
    for b in d.boxes:
        b.rows = [(_NEG_ZERO.sub("0.0", t), style) for t, style in b.rows]
        if b.id not in folded:
            out.boxes.append(b)
            continue
        v = boxes["v" + b.id[1:]]
        op = b.rows[0][0]
        attrs = [t for t, style in b.rows[1:] if len(t) <= 20]
        if v.rows and v.rows[0][1] in ("name", "auto"):  # auto: named by its op
            title = v.rows[0][0]
            named_by_op = title.rstrip("0123456789").rstrip("_").endswith(op)  # mul_3
            head = [(title if named_by_op else f"{title} = {op}", "name")]
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


SCREEN = (1260, 560)  # the viewer's graph box on a 1280x720 screen, in CSS pixels


def render_svg(drawing, rankdir=None):
    """SVG of a Drawing: laid out by Graphviz's dot, or by layout.py when dot is missing or
    the drawing's layout cost is over VIEWER_DOT_MAX (layout.py takes seconds where dot would
    take minutes).

    With rankdir None the direction (and a wrap into rows) is chosen to fit SCREEN.
    """
    cost = layout_cost(drawing)
    if cost is not None and cost > VIEWER_DOT_MAX:
        return layout_svg(drawing, rankdir or "LR")
    graphviz = require("graphviz", "the step-through viewer")

    def render(rd, bands):
        g = to_digraph(drawing, rd, bands=bands)
        g.graph_attr.update(nodesep="0.1", ranksep="0.2")
        g.body = [line.replace('margin="0.1,0.04"', 'margin="0.05,0.02"') for line in g.body]
        return g.pipe(format="svg", encoding="utf-8")

    try:
        svg = best_layout(drawing, SCREEN, render, rankdir)
    except graphviz.ExecutableNotFound:
        print(NO_DOT + " Using a simpler built-in layout.", file=sys.stderr)
        return layout_svg(drawing, rankdir or "LR")
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<!--.*?-->\n?", "", svg, flags=re.S)
    return _centre_texts(svg)


def viewer_payload(
    root,
    names=None,
    rankdir=None,
    max_nodes="auto",
    grad=None,
    what="step_through",
    collapse=None,
    quiz=False,
    rtol=0.01,
    atol=0.001,
    tape=False,
):
    """(svg, data) for the viewer: the graph laid out once, and the steps as JSON-ready data.

    `collapse="module"`: one box and one step per nn layer (viz/layers.py). `quiz`: see
    `viz.quiz.quiz_payload` (data["quiz"]). The tape (`viz.tape`) always comes along as
    data["tape"]; `tape=True` opens its panel at the start.
    """
    if collapse is not None:
        if collapse != "module":
            raise ValueError(
                f"{what}: collapse must be None (node by node) or 'module' (one step per nn "
                f"layer), got {collapse!r}"
            )
        if quiz is not False and quiz is not None:
            raise ValueError(
                f"{what}: quiz= asks node by node, so it does not go with collapse='module'; "
                "leave out collapse= (or quiz=)"
            )
        from .layers import layer_payload

        return layer_payload(root, names, rankdir, max_nodes, grad, what)
    from .quiz import quiz_payload
    from .tape import tape as make_tape

    trace = Trace(root)
    if max_nodes == "auto":  # refuse at once, before the steps are recorded
        check_cost(LayoutPlan(trace), what, folded=True, budget=VIEWER_BUDGET)
    elif max_nodes is not None and count_nodes(trace) > max_nodes:
        too_large(count_nodes(trace), max_nodes, what)
    ran = run_steps(trace, grad)
    disp, longest, data = record(trace, names, grad, ran=ran, masks=bool(quiz))
    q = quiz_payload(trace, ran[1], [disp[i] for i in range(len(disp))], quiz, rtol, atol, what)
    if q is not None:
        data["quiz"] = q
    data["tape"] = make_tape(root, names, grad).to_data()
    data["tapeNames"] = {f"v{i}": n for i, n in disp.items()}  # the names the boxes show
    data["tapeOpen"] = bool(tape)
    d = build_drawing(
        trace,
        names={trace.nodes[i]: n for i, n in disp.items()},
        step_names=True,
        grad_texts=longest,
        what=what,
    )
    return render_svg(fold_ops(d), rankdir), data
