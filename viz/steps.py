"""What the step-through viewer shows: the graph laid out once as SVG, and per backward step
the gradient texts that change and the chain-rule lines. Shared by the widget and export_html.

Recording runs `backward_steps` on the graph and then puts every `.grad` back as it was, so
viewing a graph does not change it (the viewer shows one fresh backward pass: leaf gradients
start from zero, as after `zero_grad()`).
"""

import re
import sys

import numpy as np

from autograd import backward_steps, toposort

from .deps import require
from .fmt import format_grad, format_short
from .graph import LEGEND, NO_DOT, build_drawing, count_nodes, to_digraph, too_large
from .layout import layout_svg
from .trace import Trace, name_map

BLANK = "grad ·"  # what a node shows before backward has reached it
INTRO = (
    "Backward has not started: no gradients yet.\n"
    "Press next: it starts at the root with d{R}/d{R} = 1 and goes back through the graph,\n"
    "one node at a time, each node after every node that uses it."
)


def _add(a, b):
    return b.copy() if a is None and isinstance(b, np.ndarray) else b if a is None else a + b


def _line(R, name, pn, op, g, local, contrib):
    """The chain rule for one parent: d R/d pn += d R/d name * d name/d pn = ... ."""
    if not isinstance(contrib, np.ndarray):
        return (
            f"d{R}/d{pn} += d{R}/d{name} * d{name}/d{pn} = "
            f"{format_short(g)} * {format_short(local)} = {format_short(contrib)}"
        )
    g_, l_ = np.asarray(g), np.asarray(local)
    if g_.shape == l_.shape == contrib.shape:
        with np.errstate(all="ignore"):
            same = np.allclose(g_ * l_, contrib, rtol=1e-4, atol=1e-6, equal_nan=True)
        if same:  # elementwise: the product rule holds element by element
            return (
                f"d{R}/d{pn} += d{R}/d{name} * d{name}/d{pn} = "
                f"{format_short(g_)} * {format_short(l_)} = {format_short(contrib)}"
            )
    return (
        f"d{R}/d{pn} += {op} vjp of d{R}/d{name} = vjp({format_short(g_)}) "
        f"= {format_short(contrib)}"
    )


def record(trace, names=None, grad=None):
    """Run backward step by step on the traced root and describe each step; restore .grad."""
    root = trace.root
    pnames = name_map(names)
    index = trace.index

    def disp(i):
        n = trace.nodes[i]
        return pnames.get(id(n)) or n.label or ("L" if i == 0 else f"v{i}")

    R = disp(0)
    order = toposort(root)
    saved = [(n, n.grad) for n in order]
    try:
        for n in order:
            if n.is_leaf:
                n.zero_grad()  # one fresh pass: leaves would otherwise accumulate
        steps = list(backward_steps(root, grad))
    finally:
        for n, g in saved:
            n.grad = g

    running = {}
    texts = {}  # number -> set of grad texts the node shows at some step
    out = []
    for s in steps:
        i = index[s.node]
        name, n = disp(i), s.node
        g_text = format_grad(s.grad)
        sets = [[f"v{i}", "grad " + g_text]]
        texts.setdefault(i, set()).add(g_text)
        g_short = format_short(s.grad)
        if i == 0:
            lines = [f"d{R}/d{R} = {g_short}   (the seed: backward starts here)"]
        else:
            lines = [
                f"d{R}/d{name} = {g_short}   (complete: every use of {name} has passed it back)"
            ]
        if not s.contributions:
            what = "a parameter, the optimizer reads this" if n.requires_grad else "a leaf"
            lines.append(f"{name} is a leaf ({what}): nothing to pass on")
        for p, local, contrib in s.contributions:
            j = index[p]
            running[j] = _add(running.get(j), contrib)
            t = format_grad(running[j])
            texts.setdefault(j, set()).add(t)
            sets.append([f"v{j}", "grad " + t])
            lines.append(_line(R, name, disp(j), n.op, s.grad, local, contrib))
        out.append({"node": f"v{i}", "name": name, "op": n.op, "lines": lines, "set": sets})
    longest = {i: max(ts, key=len) for i, ts in texts.items()}
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
    return pnames, longest, data


_NODE = re.compile(r'(<g id="(v\d+)" class="node">)(.*?)(</g>)', re.S)
_NUM = re.compile(r"-?\d+(?:\.\d+)?")


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
    _, longest, data = record(trace, names, grad)
    d = build_drawing(
        trace,
        names=names,
        step_names=True,
        grad_texts=longest,
        what=what,
    )
    return render_svg(d, rankdir), data
