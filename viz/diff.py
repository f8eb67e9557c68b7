"""`diff`: two graphs of one shape, side by side or overlaid, the nodes whose data or gradient
differ marked (a custom op with a wrong vjp against a right one; before and after a step).

The two graphs are walked in the same breadth-first order (`Trace`), so node i of one is node
i of the other; they must have the same ops, shapes and inputs, else a clear error names the
first node where they part. Only reads the graphs.
"""

import html

import numpy as np

from autograd import Node

from .deps import require
from .fmt import format_short
from .trace import Trace, name_map

DIFFER = "#ffc9c9"  # fill of a node whose data or gradient differs
SAME = "#ffffff"


def _shape(x):
    return np.shape(x.data if isinstance(x, Node) else x)


def _name(trace, i, pnames, other=None):
    n = trace.nodes[i]
    o = other.nodes[i] if other is not None else n
    return pnames.get(id(n)) or pnames.get(id(o)) or n.label or (n.op if n.op else "leaf")


def _check_same_shape(ta, tb):
    if len(ta.nodes) != len(tb.nodes):
        raise ValueError(
            f"diff: the graphs differ in size ({len(ta.nodes)} value nodes against "
            f"{len(tb.nodes)}); diff compares two graphs of the same shape, e.g. one built "
            "twice (before and after a step) or with two versions of an op"
        )
    for i, (na, nb) in enumerate(zip(ta.nodes, tb.nodes)):
        ia, ib = ta.inputs[i], tb.inputs[i]
        where = f"node {i} ({na.label or na.op or 'leaf'})"
        if na.op != nb.op:
            raise ValueError(f"diff: {where} is op {na.op!r} in a but {nb.op!r} in b")
        if _shape(na) != _shape(nb):
            raise ValueError(
                f"diff: {where} has shape {_shape(na)} in a but {_shape(nb)} in b (op {na.op!r})"
            )
        kinds_a = [ta.index[p] if isinstance(p, Node) else "const" for p in ia]
        kinds_b = [tb.index[p] if isinstance(p, Node) else "const" for p in ib]
        if kinds_a != kinds_b:
            raise ValueError(
                f"diff: {where} ({na.op}) takes inputs {kinds_a} in a but {kinds_b} in b "
                "(numbers are node positions)"
            )


def _differs(x, y, rtol, atol):
    """(differs?, max |x - y|) of two data or gradient values (None counts as no gradient)."""
    if x is None and y is None:
        return False, 0.0
    if x is None or y is None:
        return True, float("inf")
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    with np.errstate(all="ignore"):
        d = np.abs(x - y)
        close = np.allclose(x, y, rtol=rtol, atol=atol, equal_nan=True)
    return (not close), float(np.nanmax(d)) if d.size else 0.0


def snapshot(root):
    """A frozen copy of the graph under `root` (data and gradients copied), to diff later.

    The parameters of a model are the same node objects in every graph it builds, and an
    optimizer step changes them in place; to see a step, snapshot the graph before it:

    >>> from autograd import Value
    >>> w = Value(2.0, label="w"); L = w * w; L.backward()
    >>> before = snapshot(L)
    >>> w.data -= 0.1 * w.grad
    >>> L2 = w * w; L2.backward()
    >>> sorted(diff(before, L2).differ.items())
    [('v0', 'data'), ('v1', 'data+grad')]
    """
    import copy

    trace = Trace(root)
    new = {}
    for n in trace.nodes:
        c = copy.copy(n)
        if isinstance(c.data, np.ndarray):
            c._data = c._data.copy()  # a copy, not a write: the check of .data writes stays out
        if isinstance(c.grad, np.ndarray):
            c.grad = c.grad.copy()
        new[id(n)] = c
    for n in trace.nodes:
        if n.is_leaf:
            continue
        c = new[id(n)]
        ins = [new[id(p)] if isinstance(p, Node) else p for p in n.operands]
        if c._op.arity == 1:
            c._a = ins[0]
        elif c._op.arity == 2:
            c._a, c._b = ins
        else:
            c._a = tuple(ins)
    return new[id(root)]


class Difference:
    """One node that differs: `index`, `name`, `what` ('data', 'grad' or 'data+grad'),
    `data_maxdiff`, `grad_maxdiff`, and the nodes `a`, `b`."""

    __slots__ = ("index", "name", "what", "data_maxdiff", "grad_maxdiff", "a", "b")

    def __init__(self, index, name, what, dmax, gmax, a, b):
        self.index, self.name, self.what = index, name, what
        self.data_maxdiff, self.grad_maxdiff, self.a, self.b = dmax, gmax, a, b

    def __repr__(self):
        return (
            f"Difference(v{self.index} {self.name}: {self.what}, data maxdiff "
            f"{self.data_maxdiff:.3g}, grad maxdiff {self.grad_maxdiff:.3g})"
        )


class GraphDiff:
    """What `diff` returns: `differences` (a list of `Difference`), `digraph` (the drawing,
    a graphviz.Digraph; shown inline in Jupyter), `names` ('v3' -> name) and a text summary."""

    def __init__(self, differences, digraph, count):
        self.differences, self.digraph, self.count = differences, digraph, count

    @property
    def differ(self):
        """{'v<i>': 'data' | 'grad' | 'data+grad'} of the nodes that differ."""
        return {f"v{d.index}": d.what for d in self.differences}

    @property
    def source(self):
        return self.digraph.source

    def __repr__(self):
        if not self.differences:
            return f"<GraphDiff: {self.count} nodes, none differ>"
        lines = [f"<GraphDiff: {len(self.differences)} of {self.count} nodes differ>"]
        lines += [f"  {d!r}" for d in self.differences]
        return "\n".join(lines)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        return self.digraph._repr_mimebundle_(include, exclude, **kwargs)


def _row(text, bold=False, colour=None):
    t = html.escape(text)
    if bold:
        t = f"<B>{t}</B>"
    if colour:
        t = f'<FONT COLOR="{colour}">{t}</FONT>'
    return f"<TR><TD>{t}</TD></TR>"


def _short(x):
    return "·" if x is None else format_short(x)


def _label(title, rows):
    body = _row(title, bold=True) + "".join(_row(t, colour=c) for t, c in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{body}</TABLE>>'


def diff(a, b, mode="side", names=None, rtol=1e-5, atol=1e-8, rankdir="LR", titles=("a", "b")):
    """Draw two graphs of one shape and mark the nodes whose data or gradient differ.

    Args:
        a, b: the roots of the two graphs (Values or Tensors), built by the same code.
        mode: "side" (two drawings side by side, differing nodes filled red in both; a on the
            left, or on top when rankdir is "LR") or "overlay" (one drawing, each differing
            node showing `a → b`). Under the drawing a caption counts them: "filled red: 1 of 5
            nodes differ".
        names: `dict(model.named_parameters())` to label parameters (of either graph).
        rtol, atol: what counts as equal (as numpy.allclose).
        titles: the names of the two graphs in the drawing.

    Returns:
        A `GraphDiff` (`differences`, `differ`, `digraph`); it shows as the drawing in Jupyter.

    Raises:
        ValueError naming the first node where the graphs differ in op, shape or inputs.

    >>> from autograd import Value
    >>> x1, x2 = Value(2.0, label="x"), Value(2.5, label="x")
    >>> d = diff(x1 * 3.0, x2 * 3.0)
    >>> d.differ
    {'v0': 'data', 'v1': 'data'}
    """
    if mode not in ("side", "overlay"):
        raise ValueError(f"diff: mode must be 'side' or 'overlay', got {mode!r}")
    ta, tb = Trace(a), Trace(b)
    _check_same_shape(ta, tb)
    pnames = name_map(names)
    differences, state = [], {}
    for i, (na, nb) in enumerate(zip(ta.nodes, tb.nodes)):
        dd, dmax = _differs(na.data, nb.data, rtol, atol)
        gd, gmax = _differs(na.grad, nb.grad, rtol, atol)
        what = "+".join(w for w, on in (("data", dd), ("grad", gd)) if on)
        state[i] = (dd, gd)
        if what:
            differences.append(Difference(i, _name(ta, i, pnames, tb), what, dmax, gmax, na, nb))

    graphviz = require("graphviz", "viz.diff")
    g = graphviz.Digraph(name="stepgrad_diff")
    g.graph_attr.update(rankdir=rankdir, nodesep="0.15", ranksep="0.3", newrank="true")
    g.node_attr.update(shape="box", style="rounded,filled", fontname="Helvetica", fontsize="10")
    g.edge_attr.update(arrowsize="0.6", color="#868e96")

    def rows_of(n, other, i):
        dd, gd = state[i]
        red = "#c92a2a"
        if other is None:
            return [
                (f"data {_short(n.data)}", red if dd else None),
                (f"grad {_short(n.grad)}", red if gd else None),
            ]
        data = _short(n.data) + (f" → {_short(other.data)}" if dd else "")
        grad = _short(n.grad) + (f" → {_short(other.grad)}" if gd else "")
        return [(f"data {data}", red if dd else None), (f"grad {grad}", red if gd else None)]

    def add(graph, trace, prefix, other):
        for i, n in enumerate(trace.nodes):
            title = _name(trace, i, pnames, tb if trace is ta else ta)
            if n.op and title != n.op:
                title += f" = {n.op}"
            o = other.nodes[i] if other is not None else None
            fill = DIFFER if any(state[i]) else SAME
            graph.node(f"{prefix}v{i}", _label(f"v{i} {title}", rows_of(n, o, i)), fillcolor=fill)
            for p in trace.inputs[i]:
                if isinstance(p, Node):
                    graph.edge(f"{prefix}v{trace.index[p]}", f"{prefix}v{i}")

    if mode == "overlay":
        add(g, ta, "", tb)
    else:
        sides = [("a_", ta, titles[0]), ("b_", tb, titles[1])]
        if rankdir in ("LR", "RL"):
            # dot stacks the clusters of a left-to-right graph with the first one at the
            # bottom: give it b first so that a is drawn on top (as it is on the left in TB)
            sides.reverse()
        for prefix, trace, title in sides:
            with g.subgraph(name=f"cluster_{prefix}") as c:
                c.attr(label=str(title), style="dashed", color="#adb5bd")
                add(c, trace, prefix, None)
    caption = f"filled red: {len(differences)} of {len(ta.nodes)} nodes differ"
    if mode == "overlay" and differences:
        caption += f" (each shows {titles[0]} → {titles[1]})"
    g.attr(label=caption, labelloc="b", fontname="Helvetica", fontsize="11")
    return GraphDiff(differences, g, len(ta.nodes))
